"""Secrets in messages: what stands in for one, and every form a value may be printed in.

A check that refuses a secret value says so without formatting it
(:class:`ack_clusters.validation.Refused`, :mod:`ack_clusters.later`); the message it builds is
then passed through :func:`redact` with the value's :func:`spellings`, a second line for any
form the first missed. The offline tools redact what they print with the same spellings (the
policy gate's messages, a program's errors and log lines). Pure: nothing here touches Pulumi.
"""

from __future__ import annotations

import contextlib
import ipaddress
import json
import re
from collections.abc import Iterable
from typing import Any

#: What a message says in place of a secret value.
HIDDEN = "[secret]"


def spellings(value: Any) -> set[str]:
    """Every text `value` may be printed as: as given (``str`` and ``repr``, trimmed, in another
    case, with the escapes ``repr`` and JSON write), an integral number without its ".0", an
    address or range as Python's ``ipaddress`` writes it (a range normalised to its network, an
    IPv6 address compressed or exploded, with and without its prefix); a list's or a mapping's
    as a whole and each of its keys and items. Booleans and None are left out: their texts are
    words every message may hold, and they say nothing secret."""
    found: set[str] = set()
    _spell(value, found)
    return {f for f in found if f}


def _spell(value: Any, found: set[str]) -> None:
    if value is None or isinstance(value, bool):
        return
    if isinstance(value, dict):
        found.update(_whole(value))
        for k, v in value.items():
            _spell(k, found)
            _spell(v, found)
        return
    if isinstance(value, (list, tuple, set, frozenset)):
        found.update(_whole(value))
        for v in value:
            _spell(v, found)
        return
    text = str(value)
    for form in {text, text.strip(), repr(value), repr(text)[1:-1], json.dumps(text)[1:-1]}:
        found |= {form, form.lower(), form.upper()}
    if isinstance(value, float) and value.is_integer():
        found.add(str(int(value)))
    found |= _addresses(text.strip())


def _whole(value: Any) -> set[str]:
    forms = {str(value), repr(value)}
    with contextlib.suppress(TypeError, ValueError):
        forms.add(json.dumps(value))
    return forms


def _addresses(text: str) -> set[str]:
    try:
        net = ipaddress.ip_network(text, strict=False)
    except ValueError:
        return set()
    found = {str(net), net.compressed, net.exploded, str(net.network_address)}
    found |= {net.network_address.compressed, net.network_address.exploded}
    if "/" not in text:
        address = ipaddress.ip_address(text)
        found |= {str(address), address.compressed, address.exploded}
    else:
        interface = ipaddress.ip_interface(text)
        found |= {str(interface), interface.compressed, interface.exploded, str(interface.ip)}
        found |= {interface.ip.compressed, interface.ip.exploded}
    return found | {f.upper() for f in found}


#: A letter or digit: what a secret may not be next to for a text to be a spelling of it.
_TOKEN = r"[^\W_]"


def redact(text: str, secrets: Iterable[str]) -> str:
    """`text` with every one of `secrets` replaced by :data:`HIDDEN`, in one pass, the longest
    first where several start at one place (so a form inside a longer spelling goes with it,
    and a secret that is part of the word "secret" does not eat the replacements). A secret is
    replaced where it stands as a whole token, not inside a longer word or number: a secret
    `all` leaves "allowed" and a secret `22` leaves "220" alone (they are not it), and a
    secret `::` the IPv6 range `::2/127`; it is replaced next to punctuation (`role/all`,
    `all-node-role`, `22/22`, `all_ports`), where it is printed as itself."""
    ordered = sorted({s for s in secrets if s}, key=lambda s: (-len(s), s))
    if not ordered:
        return text
    alternatives = "|".join(map(re.escape, ordered))
    return re.sub(f"(?<!{_TOKEN})(?:{alternatives})(?!{_TOKEN})", HIDDEN, text)

"""Text a program chose (resource names, types, messages quoting them) made safe to print.

A resource's name may hold any character. Printed raw, an escape sequence rewrites the
terminal, a carriage return or a line break lets a name pose as one of the command's own lines
(a forged "0 mandatory" summary), and bidirectional controls reorder what a reviewer reads. So
every C0 and C1 control character, DEL, the bidirectional formatting characters, the Unicode
line separators and the invisible characters are shown as Python escapes (``\\x1b``,
``\\n``, ``\\u202e``): in a field printed on one line (:func:`one_line`) line breaks and tabs
too; in a block of the command's own lines (:func:`terminal`) all but those.
"""

from __future__ import annotations

import re

#: Bidirectional formatting characters (Unicode's "Trojan Source" set), the line and paragraph
#: separators (which split lines as ``str.splitlines`` and many viewers do), and invisible ones
#: (zero-width spaces and joiners, the word joiner, the byte order mark).
_BIDI = (
    0x061C,
    *range(0x200B, 0x2010),
    0x2028,
    0x2029,
    *range(0x202A, 0x202F),
    0x2060,
    *range(0x2066, 0x206A),
    0xFEFF,
)


def _escape(code: int) -> str:
    return chr(code).encode("unicode_escape").decode("ascii")


_ONE_LINE = {code: _escape(code) for code in (*range(0x20), *range(0x7F, 0xA0), *_BIDI)}
_TERMINAL = {code: text for code, text in _ONE_LINE.items() if chr(code) not in "\n\t"}


def one_line(text: object) -> str:
    """`text` with every control character escaped, line breaks and tabs among them."""
    return str(text).translate(_ONE_LINE)


def terminal(text: object) -> str:
    """`text` with every control character but line breaks and tabs escaped."""
    return str(text).translate(_TERMINAL)


def markdown_cell(text: object) -> str:
    """`text` on one line, safe in a Markdown table cell (``|`` escaped)."""
    return one_line(text).replace("|", "\\|")


def lines(text: object) -> list[str]:
    """`text` split at line breaks only (``\\n``; a ``\\r\\n`` as one), each line on one line
    (:func:`one_line`): a name inside a message cannot start a line of its own."""
    return [one_line(line.removesuffix("\r")) for line in str(text).split("\n")]


def markdown_code(text: object) -> str:
    """`text` on one line as a Markdown code span nothing in it can close: the fence is one
    backtick longer than the longest run of backticks inside (a code span ends only at a
    backtick string of the same length, CommonMark 0.31 section 6.1), padded with a space when
    the text starts or ends with a backtick or a space (one of each is stripped). Inside a code
    span nothing is Markdown or HTML: no link, image, tag, autolink or @mention is rendered."""
    shown = one_line(text)
    if not shown:
        return "` `"
    longest = max((len(run) for run in re.findall("`+", shown)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if shown[0] in "` " or shown[-1] in "` " else ""
    return f"{fence}{pad}{shown}{pad}{fence}"

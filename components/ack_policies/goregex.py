"""The provider's regular expressions, read as Go reads them: pure, shared by the policy pack
(ack_policies.lookups) and the offline engine's fake cloud, which answers lookups by them. Nothing
here imports Pulumi or a rule."""

from __future__ import annotations

import functools
import re

# --- the provider's regular expressions ------------------------------------------------------
#
# The provider compiles a lookup's `name_regex` with Go's `regexp` (RE2 syntax, Perl flags) and
# keeps the items whose name it finds (`regexp.Compile` then `MatchString`:
# terraform-provider-alicloud data_source_alicloud_ram_roles.go, ..._security_groups.go,
# ..._vswitches.go). Python's `re` reads some of the same text differently (`[[:alpha:]]` is a
# POSIX class in Go and a set of `[:alph` and a `]` in Python; `$` also matches before a final
# newline in Python; `\d`, `\w`, `\s` are ASCII in Go and Unicode in Python; `a{,3}` repeats in
# Python and is literal text in Go; `\1` is an octal escape attempt in Go and a backreference in
# Python). So a pattern is read here by Go's grammar (https://pkg.go.dev/regexp/syntax) and
# rewritten into a Python pattern that matches exactly the same texts; whatever is outside the
# part of the grammar written here (Unicode classes, octal escapes, the U flag, a case-folded
# match of a non-ASCII text) is not read at all, and a caller takes it as not proven.

_MAX_RUNE = 0x10FFFF
Ranges = list[tuple[int, int]]
#: Go's Perl classes (ASCII only; `\s` is `[\t\n\f\r ]`, without `\v`).
_PERL_CLASSES: dict[str, Ranges] = {
    "d": [(0x30, 0x39)],
    "s": [(0x09, 0x0A), (0x0C, 0x0D), (0x20, 0x20)],
    "w": [(0x30, 0x39), (0x41, 0x5A), (0x5F, 0x5F), (0x61, 0x7A)],
}
#: Go's POSIX classes, `[[:name:]]` (regexp/syntax/perl_groups.go).
_POSIX_CLASSES: dict[str, Ranges] = {
    "alnum": [(0x30, 0x39), (0x41, 0x5A), (0x61, 0x7A)],
    "alpha": [(0x41, 0x5A), (0x61, 0x7A)],
    "ascii": [(0x00, 0x7F)],
    "blank": [(0x09, 0x09), (0x20, 0x20)],
    "cntrl": [(0x00, 0x1F), (0x7F, 0x7F)],
    "digit": [(0x30, 0x39)],
    "graph": [(0x21, 0x7E)],
    "lower": [(0x61, 0x7A)],
    "print": [(0x20, 0x7E)],
    "punct": [(0x21, 0x2F), (0x3A, 0x40), (0x5B, 0x60), (0x7B, 0x7E)],
    "space": [(0x09, 0x0D), (0x20, 0x20)],
    "upper": [(0x41, 0x5A)],
    "word": [(0x30, 0x39), (0x41, 0x5A), (0x5F, 0x5F), (0x61, 0x7A)],
    "xdigit": [(0x30, 0x39), (0x41, 0x46), (0x61, 0x66)],
}
_SIMPLE_ESCAPES = {"a": 0x07, "f": 0x0C, "n": 0x0A, "r": 0x0D, "t": 0x09, "v": 0x0B}
#: Characters outside ASCII whose case folds into it in Go (unicode.SimpleFold): the Kelvin sign
#: and the long s.
_FOLDS_INTO_ASCII = {0x212A: "k", 0x017F: "s"}
_REPEAT = re.compile(r"\{(0|[1-9][0-9]*)(?:(,)(0|[1-9][0-9]*)?)?\}")
_FLAGS = re.compile(r"\(\?([ims]*)(?:-([ims]*))?([:)])")
_GROUP_NAME = re.compile(r"\(\?P?<([A-Za-z0-9_]+)>")


class _NotRead(Exception):
    """A pattern outside the part of Go's grammar read here (or one Go refuses)."""


def _normal(ranges: Ranges) -> Ranges:
    merged: Ranges = []
    for lo, hi in sorted(ranges):
        if merged and lo <= merged[-1][1] + 1:
            merged[-1] = (merged[-1][0], max(hi, merged[-1][1]))
        else:
            merged.append((lo, hi))
    return merged


def _negated(ranges: Ranges) -> Ranges:
    out: Ranges = []
    start = 0
    for lo, hi in _normal(ranges):
        if lo > start:
            out.append((start, lo - 1))
        start = hi + 1
    if start <= _MAX_RUNE:
        out.append((start, _MAX_RUNE))
    return out


def _folded(ranges: Ranges) -> Ranges:
    """A class under the i flag, as far as an ASCII text can tell: each ASCII letter's other
    case, and the ASCII letters the Kelvin sign and the long s fold to."""
    extra: Ranges = []
    for lo, hi in ranges:
        for c in range(max(lo, 0x41), min(hi, 0x7A) + 1):
            ch = chr(c)
            if ch.isalpha():
                extra.append((ord(ch.swapcase()), ord(ch.swapcase())))
        for c, letter in _FOLDS_INTO_ASCII.items():
            if lo <= c <= hi:
                extra += [(ord(letter), ord(letter)), (ord(letter.upper()), ord(letter.upper()))]
    return _normal(ranges + extra)


def _emit(ranges: Ranges) -> str:
    ranges = _normal(ranges)
    if not ranges:
        return "(?!)"
    return (
        "["
        + "".join(f"\\U{lo:08X}" if lo == hi else f"\\U{lo:08X}-\\U{hi:08X}" for lo, hi in ranges)
        + "]"
    )


class _Go:
    """Reads one pattern by Go's grammar into a Python pattern that matches the same texts."""

    def __init__(self, text: str) -> None:
        self.t = text
        self.i = 0
        self.folds = False  # the i flag is on somewhere

    def read(self) -> str:
        out = self.alternation({"i": False, "m": False, "s": False})
        if self.i != len(self.t):
            raise _NotRead  # an unmatched ')'
        return out

    def alternation(self, flags: dict[str, bool]) -> str:
        parts = [self.sequence(flags)]
        while self.t.startswith("|", self.i):
            self.i += 1
            parts.append(self.sequence(flags))
        return "|".join(parts)

    def sequence(self, flags: dict[str, bool]) -> str:
        out: list[str] = []
        last: str | None = None  # the atom a repetition would apply to
        repeated = False
        while self.i < len(self.t) and self.t[self.i] not in "|)":
            c = self.t[self.i]
            repeat = self._repeat()
            if repeat is not None:
                if last is None or repeated:
                    raise _NotRead  # nothing to repeat, or a repetition of a repetition
                out[-1] = f"(?:{last}){repeat}"
                repeated = True
                continue
            flag = _FLAGS.match(self.t, self.i)
            if c == "(" and flag is not None and flag.group(3) == ")":
                self._set(flags, flag)
                self.i = flag.end()
                last, repeated = None, False
                continue
            atoms = self.atoms(flags)
            out += atoms
            last = atoms[-1] if atoms else None
            repeated = False
        return "".join(out)

    def _repeat(self) -> str | None:
        t, i = self.t, self.i
        if t[i] in "*+?":
            self.i += 1
            op = t[i]
        else:
            m = _REPEAT.match(t, i) if t[i] == "{" else None
            if m is None:
                return None
            low, comma, high = m.group(1), m.group(2), m.group(3)
            if int(low) > 1000 or (high is not None and not int(low) <= int(high) <= 1000):
                raise _NotRead  # Go refuses it
            self.i = m.end()
            op = "{" + low + ("," + (high or "") if comma else "") + "}"
        if self.t.startswith("?", self.i):
            self.i += 1
            op += "?"
        return op

    def _set(self, flags: dict[str, bool], m: re.Match[str]) -> None:
        on, off = m.group(1), m.group(2)
        if (off is not None and not off) or not (on or off):
            raise _NotRead  # `(?)`, `(?i-)`: Go refuses them
        for f in on:
            flags[f] = True
        for f in off or "":
            flags[f] = False

    def atoms(self, flags: dict[str, bool]) -> list[str]:
        t = self.t
        c = t[self.i]
        if c == "(":
            flag = _FLAGS.match(t, self.i)
            named = _GROUP_NAME.match(t, self.i)
            inner = dict(flags)
            if flag is not None:  # (?:...) or (?flags:...)
                if flag.group(1) or flag.group(2) is not None:
                    self._set(inner, flag)
                self.i = flag.end()
            elif named is not None:
                self.i = named.end()
            elif t.startswith("(?", self.i):
                raise _NotRead  # lookaround, comment, ...: not Go's
            else:
                self.i += 1
            body = self.alternation(inner)
            if not t.startswith(")", self.i):
                raise _NotRead
            self.i += 1
            return [f"(?:{body})"]
        self.i += 1
        if c == "[":
            return [self.char_class(flags)]
        if c == ".":
            return ["(?s:.)" if flags["s"] else "[^\\n]"]
        if c == "^":
            return ["(?:\\A|(?<=\\n))" if flags["m"] else "\\A"]
        if c == "$":
            return ["(?=\\n|\\Z)" if flags["m"] else "\\Z"]
        if c in "*+?":
            raise _NotRead  # nothing to repeat
        if c == "{" and _REPEAT.match(t, self.i - 1):
            raise _NotRead
        if c != "\\":
            return [self.literal(ord(c), flags)]
        if self.i >= len(t):
            raise _NotRead
        e = t[self.i]
        if e in "AzbB":
            self.i += 1
            return [{"A": "\\A", "z": "\\Z", "b": "\\b", "B": "\\B"}[e]]
        if e == "Q":
            end = t.find("\\E", self.i + 1)
            text = t[self.i + 1 :] if end < 0 else t[self.i + 1 : end]
            self.i = len(t) if end < 0 else end + 2
            return [self.literal(ord(ch), flags) for ch in text]
        if e.lower() in _PERL_CLASSES:
            self.i += 1
            return [_emit(self._perl(e, flags))]
        self.i -= 1
        return [self.literal(self.escape(), flags)]

    def _perl(self, e: str, flags: dict[str, bool]) -> Ranges:
        ranges = _PERL_CLASSES[e.lower()]
        if flags["i"]:
            self.folds = True
            ranges = _folded(ranges)
        return _negated(ranges) if e.isupper() else ranges

    def literal(self, code: int, flags: dict[str, bool]) -> str:
        if flags["i"]:
            self.folds = True
            return _emit(_folded([(code, code)]))
        return _emit([(code, code)])

    def escape(self) -> int:
        """One escaped character at a backslash (Go's parseEscape, but octal escapes)."""
        t = self.t
        self.i += 1
        if self.i >= len(t):
            raise _NotRead
        e = t[self.i]
        self.i += 1
        if e in _SIMPLE_ESCAPES:
            return _SIMPLE_ESCAPES[e]
        if e == "x":
            m = re.compile(r"\{([0-9A-Fa-f]{1,8})\}|([0-9A-Fa-f]{2})").match(t, self.i)
            if m is None:
                raise _NotRead
            self.i = m.end()
            code = int(m.group(1) or m.group(2), 16)
            if code > _MAX_RUNE:
                raise _NotRead
            return code
        if e.isascii() and not e.isalnum():
            return ord(e)  # punctuation stands for itself
        raise _NotRead  # \p, \C, octal, a backreference, ...

    def char_class(self, flags: dict[str, bool]) -> str:
        t = self.t
        negate = t.startswith("^", self.i)
        if negate:
            self.i += 1
        ranges: Ranges = []
        first = True
        while True:
            if self.i >= len(t):
                raise _NotRead  # missing ']'
            c = t[self.i]
            if c == "]" and not first:
                self.i += 1
                break
            first = False
            if t.startswith("[:", self.i):
                end = t.find(":]", self.i + 2)
                if end >= 0:
                    name = t[self.i + 2 : end]
                    group = _POSIX_CLASSES.get(name.removeprefix("^"))
                    if group is None:
                        raise _NotRead  # Go refuses an unknown class name
                    ranges += _negated(group) if name.startswith("^") else group
                    self.i = end + 2
                    continue
            if c == "\\" and self.i + 1 < len(t) and t[self.i + 1].lower() in _PERL_CLASSES:
                e = t[self.i + 1]
                group = _PERL_CLASSES[e.lower()]
                ranges += _negated(group) if e.isupper() else group
                self.i += 2
                continue
            low = self._class_char()
            high = low
            if t.startswith("-", self.i) and self.i + 1 < len(t) and t[self.i + 1] != "]":
                self.i += 1
                high = self._class_char()
                if high < low:
                    raise _NotRead
            ranges.append((low, high))
        if flags["i"]:
            self.folds = True
            ranges = _folded(ranges)
        return _emit(_negated(ranges) if negate else ranges)

    def _class_char(self) -> int:
        if self.i >= len(self.t):
            raise _NotRead
        if self.t[self.i] == "\\":
            return self.escape()
        self.i += 1
        return ord(self.t[self.i - 1])


@functools.lru_cache(maxsize=512)
def _go_pattern(pattern: str) -> tuple[re.Pattern[str], bool] | None:
    try:
        reader = _Go(pattern)
        text = reader.read()
        return re.compile(text, re.ASCII), reader.folds  # ASCII: Go's \b is ASCII's
    except (_NotRead, re.error, RecursionError):
        return None


def go_search(pattern: str, text: str) -> bool | None:
    """Whether Go's `regexp.MatchString(pattern, text)` holds (the provider's `name_regex`);
    None when this cannot tell: a pattern outside what is read here exactly as Go reads it, or
    Go refuses, or a case-folded match of a text outside ASCII."""
    read = _go_pattern(pattern)
    if read is None:
        return None
    compiled, folds = read
    if folds and not text.isascii():
        return None
    return compiled.search(text) is not None

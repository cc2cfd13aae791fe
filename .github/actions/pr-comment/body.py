"""The pull-request comment's body: its marker line, then the text, cut to GitHub's limit.

    python3 body.py MARKER TEXT_FILE OUT_FILE [RUN_URL]

GitHub refuses a comment body longer than 65,536 characters (422 "body is too long"), so a
longer text would post nothing at all. The text is cut at a line boundary, a code block the cut
falls in is closed (a Mermaid diagram that does not fit whole is left out: half a diagram does
not render), and a note says how much was cut and where the whole text is. Characters are
counted as UTF-16 code units, which is never fewer than GitHub's count, so a body this writes
is never refused for its length.

The marker becomes an HTML comment on the first line, by which the action finds this comment
again: it must be a name of letters, digits, '.', '_' and '-' (a stack name is one), so that it
can neither end the HTML comment early nor be the beginning of another comment's marker. Exit
2, writing nothing, when it is not. Standard library only: the runner's python3 runs it.
"""

from __future__ import annotations

import os
import re
import sys

#: GitHub's limit on an issue or pull-request comment's body.
LIMIT = 65_536
MARKER = re.compile(r"[A-Za-z0-9._-]{1,200}")
_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})(.*)$")


def units(text: str) -> int:
    """The text's length in UTF-16 code units (a character outside the BMP counts two)."""
    return len(text) + sum(1 for c in text if ord(c) > 0xFFFF)


def marker_line(marker: str) -> str:
    if not MARKER.fullmatch(marker):
        raise ValueError(
            f"marker {marker!r}: letters, digits, '.', '_' and '-' only (1-200 characters)"
        )
    return f"<!-- {marker} -->\n"


def _note(total: int, shown: int, dropped_diagram: bool, run_url: str) -> str:
    where = f" The whole text is in the run's artifacts: {run_url}" if run_url else ""
    diagram = " A diagram that did not fit whole was left out." if dropped_diagram else ""
    return (
        f"\n> **Cut to fit GitHub's limit:** this text is {total:,} characters and a comment "
        f"holds {LIMIT:,}; the first {shown:,} are shown.{diagram}{where}\n"
    )


def cut(text: str, budget: int, run_url: str = "") -> tuple[str, bool]:
    """`text` if it fits in `budget` UTF-16 code units, else its head, whole lines, with a
    code block it ends in closed (or, for a Mermaid block, left out) and the note: (body,
    whether it was cut). The result never exceeds `budget`."""
    total = units(text)
    if total <= budget:
        return text, False
    # Room for the note (at its longest) and a closing fence (at its longest).
    fences = (_FENCE.match(line) for line in text.splitlines())
    longest = max((len(f[1]) for f in fences if f), default=0)
    reserve = units(_note(total, total, True, run_url)) + longest + 2
    room = max(0, budget - reserve)
    kept: list[str] = []
    size = 0
    fence: tuple[str, str, int] | None = None  # (characters, info, index in kept) of an open block
    for line in text.splitlines(keepends=True):
        n = units(line)
        if size + n > room:
            if not kept:  # one line longer than the room: its head
                head = []
                for c in line:
                    size += units(c)
                    if size > room:
                        break
                    head.append(c)
                kept.append("".join(head) + "\n")
            break
        kept.append(line)
        size += n
        found = _FENCE.match(line.rstrip("\r\n"))
        if found:
            marks, info = found[1], found[2].strip()
            if fence is None:
                fence = (marks, info, len(kept) - 1)
            elif marks[0] == fence[0][0] and len(marks) >= len(fence[0]) and not info:
                fence = None
    dropped = False
    if fence is not None:
        marks, info, at = fence
        if info.split()[:1] == ["mermaid"]:
            del kept[at:]
            dropped = True
        else:
            if kept and not kept[-1].endswith("\n"):
                kept[-1] += "\n"
            kept.append(marks + "\n")
    head = "".join(kept)
    body = head + _note(total, units(head), dropped, run_url)
    assert units(body) <= budget, (units(body), budget)
    return body, True


def main(argv: list[str]) -> int:
    if len(argv) not in (3, 4):
        print("usage: body.py MARKER TEXT_FILE OUT_FILE [RUN_URL]", file=sys.stderr)
        return 2
    marker, text_file, out_file = argv[:3]
    run_url = argv[3] if len(argv) == 4 else ""
    try:
        first = marker_line(marker)
    except ValueError as exc:
        print(f"pr-comment: {exc}", file=sys.stderr)
        return 2
    try:
        with open(text_file, encoding="utf-8", errors="replace") as f:
            text = f.read()
    except OSError as exc:
        print(f"pr-comment: body-file {text_file}: {exc.strerror}", file=sys.stderr)
        return 2
    body, was_cut = cut(text, LIMIT - units(first), run_url)
    with open(out_file, "w", encoding="utf-8") as f:
        f.write(first + body)
    output = os.environ.get("GITHUB_OUTPUT")
    if output:
        with open(output, "a", encoding="utf-8") as f:
            f.write(f"cut={'true' if was_cut else 'false'}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

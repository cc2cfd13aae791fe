"""Reading a file a user named, boundedly: a device (`/dev/zero`), a pipe or a FIFO would be
read without end, or never answer, and a huge file would fill the memory of the process that
decides the verdict."""

from __future__ import annotations

import contextlib
import os
import stat
from pathlib import Path
from typing import Any

#: The most a config, stack or reference file may hold.
MAX_FILE_BYTES = 1 << 20


class UnreadableFile(Exception):
    """Why the file cannot be read (the message names no path: the caller says which)."""


def read_bytes(path: Path, limit: int = MAX_FILE_BYTES) -> bytes:
    """The bytes of the regular file at `path` (links followed), at most `limit` of them.
    Opened without blocking, so a FIFO with no writer is refused rather than waited on, and
    judged by the descriptor it opened, so a file swapped after a check cannot slip in."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        raise UnreadableFile(exc.strerror or str(exc)) from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise UnreadableFile("it is not a regular file (a device, a pipe or a folder)")
        if info.st_size > limit:
            raise UnreadableFile(f"it is larger than {limit:,} bytes")
        chunks, size = [], 0
        while chunk := os.read(fd, 1 << 16):
            chunks.append(chunk)
            size += len(chunk)
            if size > limit:  # it grew while being read
                raise UnreadableFile(f"it is larger than {limit:,} bytes")
        return b"".join(chunks)
    except OSError as exc:
        raise UnreadableFile(exc.strerror or str(exc)) from None
    finally:
        with contextlib.suppress(OSError):
            os.close(fd)


def read_text(path: Path, limit: int = MAX_FILE_BYTES) -> str:
    """:func:`read_bytes` as UTF-8 text."""
    data = read_bytes(path, limit)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise UnreadableFile(
            f"it is not UTF-8 text (byte {exc.start}: {exc.reason}); save it as UTF-8"
        ) from None


class DuplicateKey(ValueError):
    """A JSON object names `key` twice: JSON keeps the last, so whatever came first (a rule's
    config, a stack's setting) would silently be lost."""

    def __init__(self, key: str) -> None:
        super().__init__(f"the key {key!r} is given twice")
        self.key = key


def unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """A JSON object (`json.loads`' object_pairs_hook), refused when a key repeats."""
    found: dict[str, Any] = {}
    for key, value in pairs:
        if key in found:
            raise DuplicateKey(key)
        found[key] = value
    return found

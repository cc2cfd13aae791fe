"""The user documentation the tests hold to the code: the README and the pages it links to for
the reference (the README is the short way in; the reference moved to docs/, issue 29)."""

from __future__ import annotations

from .conftest import ROOT

PAGES = (
    "README.md",
    "docs/REFERENCE.md",
    "docs/OFFLINE.md",
    "docs/POLICY-PACK.md",
    "docs/CI.md",
    "docs/DEVELOPING.md",
)


def user_docs() -> str:
    """The README and the reference pages, one text."""
    return "\n".join((ROOT / page).read_text() for page in PAGES)

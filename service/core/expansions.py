"""Scope expansions an agent records in its PR (DESIGN §3.2): the list items under a
``## Scope expansions`` heading of the PR description, or of ``SCOPE-EXPANSIONS.md``. Pure text
parsing; the use cases fetch the texts."""

from __future__ import annotations

import re

_SCOPE_HEADING = re.compile(r"^##\s+Scope expansions\s*$", re.IGNORECASE | re.MULTILINE)
_SECTION_END = re.compile(r"^#{1,2}\s|<!--\s*wavegate", re.MULTILINE)
_ITEM = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s+(?P<text>\S.*)$")


def expansion_items(text: str | None) -> tuple[str, ...]:
    """The list items of Markdown ``text`` (``-``, ``*``, ``+`` or numbered), stripped; blank and
    checkbox-only items are dropped."""
    out = []
    for line in (text or "").replace("\r\n", "\n").split("\n"):
        match = _ITEM.match(line)
        if match:
            item = re.sub(r"^\[[ xX]\]\s*", "", match["text"]).strip()
            if item:
                out.append(item)
    return tuple(out)


def body_expansions(body: str | None) -> tuple[str, ...]:
    """Items under the ``## Scope expansions`` heading of a PR description (up to the next heading
    of level 1 or 2, or the dispatch marker)."""
    match = _SCOPE_HEADING.search(body or "")
    if match is None:
        return ()
    rest = (body or "")[match.end():]
    end = _SECTION_END.search(rest)
    return expansion_items(rest[: end.start()] if end else rest)

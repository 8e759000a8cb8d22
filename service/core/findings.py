"""Read a list of findings (the Markdown an audit produces) into records: priority, category and
file references per finding. Pure: no I/O; never raises on any text.

The shape read (one finding per list item, ``-``, ``*``, ``+`` or ``1.``)::

    ## Security                                         ← category of the items below
    - P0: Auth accepts any token (`broker/api/auth.py:46-51`)
    - Performance: P1 slow query in broker/db/query.py:12   ← a leading tag overrides the heading

- **Priority**: the first standalone ``P0`` … ``P9`` of the item, else of the nearest heading
  that is a priority (``## P1 findings``); None when neither says.
- **Category**: a leading one-word tag (``Security:``), else the nearest heading of level 2 or
  deeper that is not a priority (a level-1 heading is the document's title and clears it).
- **References**: backtick spans that look like paths (a ``/`` or a file extension), and bare
  words that do (a ``/`` with an extension, a trailing ``/`` or a wildcard in the last segment,
  or a known source-file extension). ``:12`` and ``:46-51`` line suffixes are kept apart.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .patterns import pattern_problem

_ITEM = re.compile(r"^\s{0,12}(?:[-*+]|\d{1,4}[.)])\s+(?:\[[ xX]\]\s+)?(?P<text>\S.*?)\s*$")
_HEADING = re.compile(r"^\s{0,3}(?P<level>#{1,6})\s+(?P<text>.*?)\s*#*\s*$")
_FENCE = re.compile(r"^\s{0,3}(```|~~~)")
_PRIORITY = re.compile(r"(?<![\w-])P(\d)(?![\w-])")
_TAG = re.compile(r"^[\[(*_]*(?:P\d[\])*_]*[:\s-]+)?[*_]*(?P<tag>[A-Za-z][A-Za-z-]{1,24})[*_]*:\s+")
_SPAN = re.compile(r"`([^`\n]+)`")
_WORD = re.compile(r"[\w./*?:@+~-]+")
_LINES = re.compile(r":(?P<lines>\d+(?:-\d+)?)$")
_EXTENSION = re.compile(r"\.(?P<ext>[A-Za-z][A-Za-z0-9]{0,7})$")
# Bare words without a "/" count as file references only with one of these extensions, so that
# "e.g." or "v1.2" in prose are not read as files.
SOURCE_EXTENSIONS = frozenset({
    "py", "pyi", "js", "jsx", "mjs", "cjs", "ts", "tsx", "go", "rs", "java", "kt", "kts", "scala",
    "rb", "php", "c", "h", "cc", "cpp", "cxx", "hpp", "hh", "cs", "fs", "swift", "m", "mm", "sh",
    "bash", "zsh", "ps1", "sql", "md", "rst", "txt", "yml", "yaml", "json", "toml", "ini", "cfg",
    "conf", "env", "lock", "xml", "html", "htm", "css", "scss", "vue", "svelte", "proto", "tf",
    "hcl", "gradle", "dockerfile", "mk", "cmake", "ex", "exs", "erl", "hs", "ml", "clj", "lua",
    "pl", "r", "dart", "ipynb",
})


@dataclass(frozen=True)
class Reference:
    """A file reference as written in a finding.

    ``path`` is the repository-relative pattern (a file, a folder ending in ``/``, or a glob), a
    leading ``./`` or ``/`` removed; ``lines`` the ``12`` or ``46-51`` suffix, if any.
    ``problem`` is why ``path`` cannot be a territory pattern (``..``, ``[...]``), or None.
    """

    path: str
    lines: str | None = None
    problem: str | None = None


@dataclass(frozen=True)
class Finding:
    """One finding: ``number`` is its 1-based position in the list, ``line`` its 1-based line in
    the file; ``text`` is the item verbatim (list marker removed), copied into the plan as is."""

    number: int
    line: int
    text: str
    priority: int | None = None
    category: str | None = None
    references: tuple[Reference, ...] = ()

    @property
    def label(self) -> str:
        """``P1 performance`` style label, for explanations (empty parts left out)."""
        return " ".join(p for p in (f"P{self.priority}" if self.priority is not None else "",
                                    self.category or "") if p)


def read_findings(text: str) -> tuple[Finding, ...]:
    """Every list item of ``text`` outside fenced code blocks, as a ``Finding``, in order.

    Items without a file reference are returned too (their ``references`` are empty): the
    caller lists them as unplaced, never drops them. ``\\r\\n`` and ``\\n`` give the same lines.
    """
    found: list[Finding] = []
    category: str | None = None
    heading_priority: int | None = None
    in_fence = False
    for number, raw in enumerate(text.splitlines(), start=1):
        if _FENCE.match(raw):
            in_fence = not in_fence
            continue
        if in_fence:
            continue
        heading = _HEADING.match(raw)
        if heading:
            category, heading_priority = _heading_context(heading, category, heading_priority)
            continue
        item = _ITEM.match(raw)
        if item:
            found.append(_finding(len(found) + 1, number, item["text"], category, heading_priority))
    return tuple(found)


def _heading_context(heading: re.Match[str], category: str | None,
                     priority: int | None) -> tuple[str | None, int | None]:
    """(category, priority) in force below a heading: a priority heading (``## P1``) sets the
    priority and keeps the category; a level-1 heading is the title and clears both."""
    text = heading["text"].strip("*_ ")
    if len(heading["level"]) == 1:
        return None, None
    match = _PRIORITY.match(text)
    if match:
        return category, int(match.group(1))
    return (text or None), priority


def _finding(number: int, line: int, text: str, category: str | None, priority: int | None) -> Finding:
    match = _PRIORITY.search(text)
    tag = _TAG.match(text)
    return Finding(
        number=number,
        line=line,
        text=text,
        priority=int(match.group(1)) if match else priority,
        category=tag["tag"] if tag else category,
        references=references(text),
    )


def references(text: str) -> tuple[Reference, ...]:
    """The file references of one finding's text, in order of appearance, without duplicates
    (the same path with other lines counts once, with the first line suffix)."""
    found: dict[str, Reference] = {}
    for span in _SPAN.findall(text):
        _add(found, span.strip(), quoted=True)
    for word in _WORD.findall(_SPAN.sub(" ", text)):
        _add(found, word, quoted=False)
    return tuple(found.values())


def _add(found: dict[str, Reference], word: str, *, quoted: bool) -> None:
    if "://" in word or word.startswith(("http:", "https:", "mailto:")):
        return
    word = word.rstrip(".,;:)!?'\"").lstrip("(\"'")
    lines = _LINES.search(word)
    path = word[: lines.start()] if lines else word
    while path.startswith("./"):
        path = path[2:]
    path = path.lstrip("/") if path.strip("/") else path
    if not path or path in found or not _looks_like_path(path, quoted, lines is not None):
        return
    found[path] = Reference(path, lines["lines"] if lines else None, pattern_problem(path))


def _looks_like_path(path: str, quoted: bool, has_lines: bool) -> bool:
    if " " in path:
        return False
    last = path.rstrip("/").rsplit("/", 1)[-1]
    extension = _EXTENSION.search(last)
    if "/" in path:
        return quoted or path.endswith("/") or extension is not None or any(c in last for c in "*?")
    if extension is None:
        return False
    return quoted or has_lines or extension["ext"].lower() in SOURCE_EXTENSIONS

"""Where a plan sits in an issue body: its lines and its fenced code blocks (CommonMark rules).

Line numbers are 1-based lines of the body. Bodies saved from GitHub's web editor use ``\\r\\n``;
both endings (and a lone ``\\r``) count as one line break, so a body gives the same numbers
whichever it uses.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# CommonMark: up to three spaces, then three or more backticks or tildes; a backtick fence's info
# string may not contain a backtick. The closing fence uses the same character, at least as long.
_OPEN = re.compile(r"^(?P<indent> {0,3})(?P<fence>`{3,}|~{3,})(?P<info>.*)$")
_DISPATCH_WORD = re.compile(r"(?<![\w-])dispatch(?![\w-])", re.IGNORECASE)


def body_lines(body: str) -> list[str]:
    """The body's lines, whatever the line endings."""
    return body.replace("\r\n", "\n").replace("\r", "\n").split("\n")


@dataclass(frozen=True)
class Fence:
    """A fenced code block: ``open_line`` is the 1-based line of the opening fence, ``lines`` the
    content with the fence's indentation removed, ``closed`` False when the body ended first."""

    open_line: int
    info: str
    lines: tuple[str, ...]
    closed: bool

    @property
    def first_content_line(self) -> int:
        return self.open_line + 1

    @property
    def is_dispatch(self) -> bool:
        return bool(_DISPATCH_WORD.search(self.info))

    @property
    def last_line(self) -> int:
        return self.open_line + len(self.lines) + (1 if self.closed else 0)


def fences(lines: list[str]) -> list[Fence]:
    """Every top-level fenced code block, in order. An unclosed fence runs to the end of the body
    (as GitHub renders it); fences inside a block are content, not blocks."""
    out: list[Fence] = []
    i = 0
    while i < len(lines):
        m = _OPEN.match(lines[i])
        if not m or (m["fence"][0] == "`" and "`" in m["info"]):
            i += 1
            continue
        char, length, indent = m["fence"][0], len(m["fence"]), len(m["indent"])
        close = re.compile(r"^ {0,3}" + re.escape(char) + "{" + str(length) + r",}[ \t]*$")
        content: list[str] = []
        j = i + 1
        closed = False
        while j < len(lines):
            if close.match(lines[j]):
                closed = True
                break
            content.append(_dedent(lines[j], indent))
            j += 1
        out.append(Fence(i + 1, m["info"].strip(), tuple(content), closed))
        i = j + 1
    return out


def _dedent(line: str, indent: int) -> str:
    stripped = line.lstrip(" ")
    removed = min(indent, len(line) - len(stripped))
    return line[removed:]

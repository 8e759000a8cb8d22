"""``/wavegate`` commands in comments on a dispatch issue (DESIGN §3.5)."""

from __future__ import annotations

import re
from dataclasses import dataclass

VERBS = ("refresh", "skip", "cancel")

# A command is a line of its own, indented by at most three spaces (four make a Markdown code block).
_COMMAND = re.compile(r"^ {0,3}/wavegate(?:\s+(?P<rest>.*))?$", re.IGNORECASE)
_FENCE = re.compile(r"^ {0,3}(?P<fence>`{3,}|~{3,})")
_QUOTE = re.compile(r"^ {0,3}>")


@dataclass(frozen=True)
class Command:
    """A parsed command. ``verb`` is refresh | skip | cancel | unknown; ``args`` its words;
    ``raw`` the command line as written."""

    verb: str
    args: tuple[str, ...] = ()
    raw: str = ""


def _command(line: str, rest: str | None) -> Command:
    words = (rest or "").split()
    raw = line.strip()
    if not words:
        return Command("unknown", (), raw)
    verb, args = words[0].lower(), tuple(words[1:])
    if verb == "skip":
        # Agent names are lowercase ([a-z0-9-]); `api`, api, and API all name the same agent.
        names = tuple(w.strip("`'\",").lower() for w in args)
        names = tuple(n for n in names if n)
        return Command("skip", names, raw) if names else Command("unknown", tuple(words), raw)
    if verb in VERBS:
        return Command(verb, args, raw)
    return Command("unknown", tuple(words), raw)


def parse_commands(body: str | None) -> list[Command]:
    """Every line starting with ``/wavegate`` in a comment body, in order (quoted lines, fenced
    code blocks and indented code ignored). The verb is case-insensitive.

    Returns ``Command``s: ``refresh``, ``cancel`` (extra words kept in ``args``), ``skip`` with
    the lower-cased agent names in ``args``; anything else, a bare ``/wavegate`` and a ``skip``
    without a name come back as verb ``unknown`` with every word after ``/wavegate`` in ``args``.
    Never raises.
    """
    if not body:
        return []
    commands: list[Command] = []
    fence: str | None = None
    for line in body.splitlines():
        opening = _FENCE.match(line)
        if fence is not None:
            # A fence closes with the same character, at least as long as the opening one.
            if opening and opening["fence"][0] == fence[0] and len(opening["fence"]) >= len(fence):
                fence = None
            continue
        if opening:
            fence = opening["fence"]
            continue
        if _QUOTE.match(line):
            continue
        match = _COMMAND.match(line.rstrip())
        if match:
            commands.append(_command(line, match["rest"]))
    return commands

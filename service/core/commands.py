"""``/wavegate`` commands in comments on a dispatch issue (DESIGN §3.5)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Command:
    """A parsed command. ``verb`` is refresh | skip | cancel | unknown; ``args`` its words;
    ``raw`` the command line as written."""

    verb: str
    args: tuple[str, ...] = ()
    raw: str = ""


def parse_commands(body: str | None) -> list[Command]:
    """Every line starting with ``/wavegate`` in a comment body (quoted lines and code blocks
    ignored). Unknown verbs come back as verb ``unknown``."""
    raise NotImplementedError

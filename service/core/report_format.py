"""Small formatting rules shared by every Wavegate text: inline code, plurals, durations, times,
and fitting lists into GitHub's size limits."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime

# GitHub documents 65,535 characters for check-run ``summary`` / ``text`` and for comment bodies,
# and has been measured enforcing bytes; 60 KB of UTF-8 leaves room for what callers append.
MAX_BODY_BYTES = 60_000
MAX_TITLE_CHARS = 255


def code(text: str) -> str:
    """``text`` as Markdown inline code, whatever backticks it contains."""
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if text.startswith("`") or text.endswith("`") or not text.strip() else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def cell(text: str) -> str:
    """``text`` as inline code inside a Markdown table cell (``|`` escaped, as GitHub requires
    even inside code spans)."""
    return code(text).replace("|", "\\|")


def plural(count: int, singular: str, plural_form: str | None = None) -> str:
    """``1 path``, ``3 paths``; thousands separated by commas (``3,150 files``)."""
    word = singular if count == 1 else (plural_form or singular + "s")
    return f"{count:,} {word}"


def pr_ref(number: int | None) -> str:
    """``#20`` or ``no PR yet``."""
    return f"#{number}" if number else "no PR yet"


def agent_pr(agent: str, number: int | None) -> str:
    """``#20 api`` or ``api (no PR yet)``: how a dependency is named in gate titles."""
    return f"#{number} {agent}" if number else f"{agent} (no PR yet)"


def duration(seconds: float) -> str:
    """``42 s``, ``7 min``, ``1 h 05 min``, ``26 h 00 min`` (rounded to the second or minute)."""
    total = max(0, round(seconds))
    if total < 60:
        return f"{total} s"
    minutes = round(total / 60)
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


def utc(moment: datetime | None) -> str:
    """``2024-05-01 10:00 UTC`` (naive datetimes are taken as UTC), or ``—``."""
    if moment is None:
        return "—"
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%d %H:%M UTC")


def iso(moment: datetime | None) -> str | None:
    """ISO 8601 in UTC with a ``Z`` (``2024-05-01T10:00:00Z``), or None."""
    if moment is None:
        return None
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment.isoformat(timespec="seconds") + "Z"


def nbytes(text: str) -> int:
    return len(text.encode("utf-8"))


def fit_lines(lines: Sequence[str], budget: int, more: str = "- … and {n} more") -> list[str]:
    """The leading ``lines`` that fit in ``budget`` UTF-8 bytes (newlines counted), followed by
    ``more`` formatted with the number left out when some do not fit. Deterministic: the order of
    ``lines`` is kept and nothing is reordered."""
    kept: list[str] = []
    used = 0
    reserve = nbytes(more.format(n=len(lines))) + 1
    for index, line in enumerate(lines):
        size = nbytes(line) + 1
        last = index == len(lines) - 1
        if used + size + (0 if last else reserve) > budget:
            kept.append(more.format(n=f"{len(lines) - index:,}"))
            return kept
        kept.append(line)
        used += size
    return kept


def fit_title(text: str, limit: int = MAX_TITLE_CHARS) -> str:
    """One line of at most ``limit`` characters, cut with ``…`` when longer."""
    line = " ".join(text.split())
    return line if len(line) <= limit else line[: limit - 1].rstrip() + "…"


def fit_body(text: str, limit: int = MAX_BODY_BYTES) -> str:
    """``text`` cut (at a line end where possible) to at most ``limit`` UTF-8 bytes, with a note."""
    if nbytes(text) <= limit:
        return text
    note = "\n\n… (cut to fit GitHub's size limit)"
    head = text.encode("utf-8")[: limit - nbytes(note)].decode("utf-8", errors="ignore")
    if "\n" in head:
        head = head[: head.rindex("\n")]
    return head + note


def join_names(items: Iterable[str], limit: int = 8) -> str:
    """``a, b and c``; beyond ``limit`` items ``a, b, … and 12 more``."""
    names = list(items)
    if len(names) > limit:
        return ", ".join(names[:limit]) + f" and {len(names) - limit} more"
    if len(names) <= 1:
        return "".join(names)
    return ", ".join(names[:-1]) + " and " + names[-1]

"""The dashboard's short history of a plan (who changed what, when and why) and the allowances
that let a PR through active territories (DESIGN §3.5, §3.6).

Both live in the dashboard's hidden state, so they survive a wiped Redis: ``encode_audit`` /
``encode_allowances`` return compact JSON-able values for it, and ``decode_*`` read them back
(tolerantly: the state is a comment anyone with admin rights can edit, so an unreadable item is
dropped rather than failing the dashboard). Times are UTC ``datetime``s, stored as whole seconds
since the epoch.

Every update is idempotent and, for allowances, independent of the order deliveries arrive in:
an entry with a ``key`` (e.g. ``comment:<id>:<n>``, the n-th command of a comment) is recorded once,
and an allowance keeps the latest allow and the latest revoke by the time of the command, so a
late or repeated delivery of either changes nothing twice.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from .commands import Command, Verb

MAX_SHOWN = 20  # the dashboard shows this many entries, the older ones folded
MAX_KEPT = 100  # entries kept in the hidden state; older ones are dropped
MAX_WHY = 280  # characters of a reason kept (a comment line may be 65,536 long)
MAX_ITEMS = 20  # patterns or agents kept per entry; ``more`` counts the rest


class AuditAction(StrEnum):
    AMENDMENT = "amendment"  # the plan in the issue body was edited (items: agents that changed)
    GRANT = "grant"  # agent, items: patterns added
    REVOKE = "revoke"  # agent, items: patterns removed
    ALLOWANCE = "allowance"  # pr
    ALLOWANCE_REVOKED = "allowance-revoked"  # pr
    SKIP = "skip"  # items: agents
    CANCEL = "cancel"
    RELAUNCH = "relaunch"  # agent
    ADOPT = "adopt"  # items: the adopted plan's hash


_CODES = {
    AuditAction.AMENDMENT: "am", AuditAction.GRANT: "gr", AuditAction.REVOKE: "rv",
    AuditAction.ALLOWANCE: "al", AuditAction.ALLOWANCE_REVOKED: "ar", AuditAction.SKIP: "sk",
    AuditAction.CANCEL: "ca", AuditAction.RELAUNCH: "rl", AuditAction.ADOPT: "ad",
}
_ACTIONS = {code: action for action, code in _CODES.items()}


@dataclass(frozen=True)
class AuditEntry:
    """One line of the history: ``action`` by the GitHub login ``by`` at ``at`` (UTC), on
    ``agent`` and/or PR ``pr``, with ``items`` (see ``AuditAction``; ``more`` items left out) and
    the reason ``why``. ``key`` identifies the request (the same key is recorded once)."""

    action: AuditAction
    by: str
    at: datetime
    agent: str | None = None
    pr: int | None = None
    items: tuple[str, ...] = ()
    why: str | None = None
    key: str | None = None
    more: int = 0


def _clip(entry: AuditEntry) -> AuditEntry:
    why = entry.why
    if why is not None and len(why) > MAX_WHY:
        why = why[: MAX_WHY - 1].rstrip() + "…"
    items, more = entry.items[:MAX_ITEMS], entry.more + max(0, len(entry.items) - MAX_ITEMS)
    return replace(entry, why=why, items=items, more=more)


def record(history: Sequence[AuditEntry], entry: AuditEntry) -> tuple[AuditEntry, ...]:
    """``history`` with ``entry`` added: newest first (by ``at``; equal times keep the order of
    arrival, newest first), at most ``MAX_KEPT`` entries, reasons and item lists clipped. An entry
    whose ``key`` is already recorded changes nothing (a repeated delivery)."""
    if entry.key is not None and any(e.key == entry.key for e in history):
        return tuple(history)
    entries = [_clip(entry), *history]
    entries.sort(key=lambda e: _utc(e.at), reverse=True)
    return tuple(entries[:MAX_KEPT])


def command_key(comment_id: int, index: int) -> str:
    """The key of the ``index``-th command (0-based) of comment ``comment_id``: a redelivered or
    re-read comment records each of its commands once."""
    return f"comment:{comment_id}:{index}"


_BY_VERB = {
    Verb.GRANT: AuditAction.GRANT, Verb.REVOKE: AuditAction.REVOKE, Verb.ALLOW: AuditAction.ALLOWANCE,
    Verb.REVOKE_ALLOWANCE: AuditAction.ALLOWANCE_REVOKED, Verb.SKIP: AuditAction.SKIP,
    Verb.CANCEL: AuditAction.CANCEL, Verb.RELAUNCH: AuditAction.RELAUNCH, Verb.ADOPT: AuditAction.ADOPT,
}


def entry_for(command: Command, by: str, at: datetime, key: str | None = None, *,
              items: Sequence[str] | None = None, pr: int | None = None) -> AuditEntry | None:
    """The history entry of a command that changed something (None for refresh and unknown).
    ``items`` overrides what the command named (a grant records the patterns really added);
    ``pr`` names the PR a bare ``/wavegate allow`` meant."""
    action = _BY_VERB.get(command.verb)  # type: ignore[call-overload]
    if action is None:
        return None
    named = command.patterns if command.verb in (Verb.GRANT, Verb.REVOKE) else command.args
    if command.verb in (Verb.ALLOW, Verb.REVOKE_ALLOWANCE, Verb.CANCEL):
        named = ()
    return AuditEntry(action, by, at, agent=command.agent, pr=pr or command.pr,
                      items=tuple(named if items is None else items), why=command.reason, key=key)


def split_shown(history: Sequence[AuditEntry]) -> tuple[tuple[AuditEntry, ...], tuple[AuditEntry, ...]]:
    """``(shown, folded)``: the ``MAX_SHOWN`` newest entries and the older ones."""
    return tuple(history[:MAX_SHOWN]), tuple(history[MAX_SHOWN:])


# --------------------------------------------------------------------------- allowances


@dataclass(frozen=True)
class Allowance:
    """PR ``pr``'s allowance: allowed by ``by`` at ``at`` for ``reason``, and the latest revoke
    (``revoked_by``, ``revoked_at``). A record may hold only a revoke (``at`` None), so that an
    allow delivered after a later revoke stays revoked."""

    pr: int
    by: str | None = None
    at: datetime | None = None
    reason: str | None = None
    revoked_by: str | None = None
    revoked_at: datetime | None = None

    @property
    def active(self) -> bool:
        """Allowed, and not revoked since (a revoke at the same second as the allow wins)."""
        return self.at is not None and (self.revoked_at is None or _utc(self.at) > _utc(self.revoked_at))


@dataclass(frozen=True)
class AllowanceChange:
    """The result of an allow or revoke: the new ``allowances``, whether anything ``changed``,
    the PR's record ``before`` (None: none) and ``after``."""

    allowances: tuple[Allowance, ...]
    changed: bool
    before: Allowance | None
    after: Allowance

    @property
    def started(self) -> bool:
        """The PR was not allowed before and is now."""
        return self.after.active and not (self.before is not None and self.before.active)

    @property
    def ended(self) -> bool:
        """The PR was allowed before and is not any more."""
        return self.before is not None and self.before.active and not self.after.active


def allowance_for(allowances: Iterable[Allowance], pr: int) -> Allowance | None:
    """PR ``pr``'s active allowance, or None (never allowed, or revoked)."""
    found = next((a for a in allowances if a.pr == pr), None)
    return found if found is not None and found.active else None


def active_allowances(allowances: Iterable[Allowance]) -> tuple[Allowance, ...]:
    """Every active allowance, by PR number."""
    return tuple(sorted((a for a in allowances if a.active), key=lambda a: a.pr))


def allow(allowances: Sequence[Allowance], pr: int, by: str, at: datetime,
          reason: str | None = None) -> AllowanceChange:
    """``/wavegate allow #pr`` by ``by`` at ``at`` (the command's time). A later allow replaces
    an earlier one (its reason and author); an allow older than the one recorded changes nothing."""
    before = next((a for a in allowances if a.pr == pr), None)
    base = before or Allowance(pr)
    if base.at is not None and _utc(base.at) >= _utc(at):
        return AllowanceChange(tuple(allowances), False, before, base)
    after = replace(base, by=by, at=at, reason=_clip_reason(reason))
    return AllowanceChange(_replace(allowances, after), True, before, after)


def revoke_allowance(allowances: Sequence[Allowance], pr: int, by: str, at: datetime) -> AllowanceChange:
    """``/wavegate revoke #pr`` by ``by`` at ``at``. Ends an allowance given before ``at``; with
    no allowance yet it is remembered, so an older allow delivered later stays revoked.
    ``changed`` is False only when a revoke as new was recorded already; ``ended`` says whether
    an active allowance ended."""
    before = next((a for a in allowances if a.pr == pr), None)
    base = before or Allowance(pr)
    if base.revoked_at is not None and _utc(base.revoked_at) >= _utc(at):
        return AllowanceChange(tuple(allowances), False, before, base)
    after = replace(base, revoked_by=by, revoked_at=at)
    return AllowanceChange(_replace(allowances, after), True, before, after)


def _replace(allowances: Sequence[Allowance], record_: Allowance) -> tuple[Allowance, ...]:
    kept = [a for a in allowances if a.pr != record_.pr]
    return tuple(sorted([*kept, record_], key=lambda a: a.pr))


def _clip_reason(reason: str | None) -> str | None:
    if reason is None or len(reason) <= MAX_WHY:
        return reason
    return reason[: MAX_WHY - 1].rstrip() + "…"


# --------------------------------------------------------------------------- encoding


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _seconds(moment: datetime | None) -> int | None:
    return None if moment is None else int(_utc(moment).timestamp())


def _moment(value: Any) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError("not a time")
    return datetime.fromtimestamp(value, UTC)


def _trim(values: list[Any]) -> list[Any]:
    while values and values[-1] in (None, [], 0):
        values.pop()
    return values


def encode_audit(history: Sequence[AuditEntry]) -> list[list[Any]]:
    """The history as a JSON-able list: one ``[code, by, at, agent, pr, items, why, key, more]``
    list per entry (``at`` in epoch seconds; trailing empty fields left out)."""
    return [_trim([_CODES[e.action], e.by, _seconds(e.at), e.agent, e.pr, list(e.items), e.why, e.key, e.more])
            for e in history]


def decode_audit(value: Any) -> tuple[AuditEntry, ...]:
    """``encode_audit``'s value read back; anything that is not such a list gives ``()`` and
    unreadable entries are dropped. Never raises."""
    if not isinstance(value, list):
        return ()
    out: list[AuditEntry] = []
    for item in value:
        try:
            out.append(_entry(item))
        except (ValueError, TypeError, KeyError, IndexError, OverflowError, OSError):
            continue
    return tuple(out)


def _entry(item: Any) -> AuditEntry:
    fields = (list(item) + [None] * 9)[:9]
    code, by, at, agent, pr, items, why, key, more = fields
    moment = _moment(at)
    if not isinstance(by, str) or moment is None:
        raise ValueError("an entry needs who and when")
    return AuditEntry(_ACTIONS[code], by, moment, _str(agent), _int(pr),
                      tuple(str(i) for i in items or ()), _str(why), _str(key), _int(more) or 0)


def encode_allowances(allowances: Sequence[Allowance]) -> list[list[Any]]:
    """The allowances as a JSON-able list of ``[pr, by, at, reason, revoked_by, revoked_at]``."""
    return [_trim([a.pr, a.by, _seconds(a.at), a.reason, a.revoked_by, _seconds(a.revoked_at)])
            for a in allowances]


def decode_allowances(value: Any) -> tuple[Allowance, ...]:
    """``encode_allowances``' value read back (unreadable items dropped). Never raises."""
    if not isinstance(value, list):
        return ()
    out: dict[int, Allowance] = {}
    for item in value:
        try:
            pr, by, at, reason, revoked_by, revoked_at = (list(item) + [None] * 6)[:6]
            number = _int(pr)
            if number is None or number < 1:
                continue
            out[number] = Allowance(number, _str(by), _moment(at), _str(reason), _str(revoked_by),
                                    _moment(revoked_at))
        except (ValueError, TypeError, OverflowError, OSError):
            continue
    return tuple(out[n] for n in sorted(out))


def _str(value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValueError("not a string")
    return value


def _int(value: Any) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError("not a number")
    return value

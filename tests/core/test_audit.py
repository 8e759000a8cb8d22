"""The dashboard's history, allowances and plan versions (DESIGN §3.5, §3.6)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from service.core import report_commands
from service.core.audit import (
    MAX_KEPT,
    MAX_SHOWN,
    MAX_WHY,
    Allowance,
    AuditAction,
    AuditEntry,
    active_allowances,
    allow,
    allowance_for,
    command_key,
    decode_allowances,
    decode_audit,
    encode_allowances,
    encode_audit,
    entry_for,
    record,
    revoke_allowance,
    split_shown,
)
from service.core.version import PlanVersion, parse_external_id, plan_version
from tests.goldens import assert_golden

T0 = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)


def at(minutes: int) -> datetime:
    return T0 + timedelta(minutes=minutes)


# --------------------------------------------------------------------------- history


def test_newest_first_whatever_the_order_of_arrival():
    history = ()
    for minute in (5, 1, 9, 3):
        history = record(history, AuditEntry(AuditAction.SKIP, "bob", at(minute), items=("api",)))
    assert [e.at for e in history] == [at(9), at(5), at(3), at(1)]


def test_a_repeated_key_is_recorded_once():
    entry = AuditEntry(AuditAction.GRANT, "alice", T0, agent="api", items=("x/",), key="comment:7:0")
    once = record((), entry)
    assert record(once, entry) == once
    assert len(record(once, AuditEntry(AuditAction.GRANT, "alice", T0, key="comment:7:1"))) == 2


def test_unkeyed_entries_are_all_kept():
    entry = AuditEntry(AuditAction.CANCEL, "alice", T0)
    assert len(record(record((), entry), entry)) == 2


@pytest.mark.parametrize(("count", "shown", "folded", "kept"), [
    (1, 1, 0, 1), (MAX_SHOWN, MAX_SHOWN, 0, MAX_SHOWN), (MAX_SHOWN + 1, MAX_SHOWN, 1, MAX_SHOWN + 1),
    (MAX_KEPT + 5, MAX_SHOWN, MAX_KEPT - MAX_SHOWN, MAX_KEPT),
])
def test_folded_after_twenty_and_capped(count, shown, folded, kept):
    history = ()
    for minute in range(count):
        history = record(history, AuditEntry(AuditAction.RELAUNCH, "bob", at(minute), agent="api"))
    first, rest = split_shown(history)
    assert (len(first), len(rest), len(history)) == (shown, folded, kept)
    assert history[0].at == at(count - 1)  # the oldest ones are dropped


def test_long_reasons_and_item_lists_are_clipped():
    entry = record((), AuditEntry(AuditAction.GRANT, "a", T0, agent="api", items=tuple(f"p{i}/" for i in range(30)),
                                  why="x" * 1000))[0]
    assert len(entry.why) == MAX_WHY and entry.why.endswith("…")
    assert (len(entry.items), entry.more) == (20, 10)


ENTRIES = st.builds(
    AuditEntry,
    st.sampled_from(list(AuditAction)),
    st.text(min_size=1, max_size=12),
    st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC))
    .map(lambda d: d.replace(microsecond=0)),
    st.one_of(st.none(), st.text(max_size=8)),
    st.one_of(st.none(), st.integers(1, 10**6)),
    st.lists(st.text(max_size=8), max_size=4).map(tuple),
    st.one_of(st.none(), st.text(max_size=30)),
    st.one_of(st.none(), st.text(max_size=12)),
    st.integers(0, 5),
)


@settings(max_examples=200, deadline=None)
@given(st.lists(ENTRIES, max_size=8))
def test_the_encoding_round_trips_through_json(entries):
    encoded = json.loads(json.dumps(encode_audit(entries)))
    assert decode_audit(encoded) == tuple(entries)


@pytest.mark.parametrize("value", [None, "x", {}, [None], [["zz", "a", 1]], [["gr", 5, 1]], [["gr", "a", "now"]],
                                   [["gr", "a", True]], [["gr", "a", 10**20]], [["gr", "a", 1, 5]]])
def test_unreadable_state_is_dropped_not_raised(value):
    assert decode_audit(value) == ()


def test_a_readable_entry_survives_its_unreadable_neighbours():
    good = encode_audit([AuditEntry(AuditAction.CANCEL, "a", T0)])[0]
    assert decode_audit([["zz"], good, 7]) == (AuditEntry(AuditAction.CANCEL, "a", T0),)


# --------------------------------------------------------------------------- allowances


def test_allow_then_revoke():
    change = allow((), 31, "maint", at(0), "hotfix")
    assert change.changed and change.started and allowance_for(change.allowances, 31).reason == "hotfix"
    ended = revoke_allowance(change.allowances, 31, "maint", at(5))
    assert ended.ended and allowance_for(ended.allowances, 31) is None
    assert active_allowances(ended.allowances) == ()


def test_a_repeated_allow_changes_nothing():
    first = allow((), 31, "maint", at(0), "hotfix")
    again = allow(first.allowances, 31, "maint", at(0), "hotfix")
    assert not again.changed and again.allowances == first.allowances


def test_a_later_allow_replaces_the_reason():
    first = allow((), 31, "maint", at(0), "hotfix")
    later = allow(first.allowances, 31, "admin", at(3), "still needed")
    assert later.changed and not later.started
    assert allowance_for(later.allowances, 31).by == "admin"


def test_a_revoke_delivered_before_its_allow_still_wins():
    revoked = revoke_allowance((), 31, "maint", at(5))
    assert revoked.changed and not revoked.ended
    late = allow(revoked.allowances, 31, "maint", at(0), "hotfix")
    assert allowance_for(late.allowances, 31) is None


def test_allow_after_a_revoke_allows_again():
    allowances = revoke_allowance(allow((), 31, "m", at(0)).allowances, 31, "m", at(1)).allowances
    assert allowance_for(allow(allowances, 31, "m", at(2)).allowances, 31) is not None


EVENTS = st.lists(st.tuples(st.sampled_from(["allow", "revoke"]), st.integers(1, 3), st.integers(0, 20)),
                  max_size=8, unique_by=lambda e: (e[1], e[2]))


def _apply(events):
    allowances = ()
    for kind, pr, minute in events:
        step = allow if kind == "allow" else revoke_allowance
        allowances = step(allowances, pr, "m", at(minute)).allowances
    return allowances


@settings(max_examples=200, deadline=None)
@given(EVENTS, st.randoms())
def test_any_order_and_any_repeat_of_deliveries_ends_alike(events, rnd):
    shuffled = list(events) + list(events[: len(events) // 2])
    rnd.shuffle(shuffled)
    assert _apply(shuffled) == _apply(sorted(events, key=lambda e: e[2]))


@settings(max_examples=100, deadline=None)
@given(EVENTS)
def test_allowances_round_trip_through_json(events):
    allowances = _apply(events)
    assert decode_allowances(json.loads(json.dumps(encode_allowances(allowances)))) == allowances


@pytest.mark.parametrize("value", [None, 3, [[0, "a", 1]], [["12", "a", 1]], [[True]], [[5, 7]]])
def test_unreadable_allowances_are_dropped(value):
    assert decode_allowances(value) == ()


# --------------------------------------------------------------------------- plan versions


@pytest.mark.parametrize(("hash_", "edited", "external_id"), [
    ("3f2a9c1d0b7e", T0, "plan-3f2a9c1d0b7e@20250303T090000Z"),
    ("3F2A9C1D0B7E", datetime(2025, 3, 3, 10, 0, 0, 999, tzinfo=UTC) .astimezone(), "plan-3f2a9c1d0b7e@20250303T100000Z"),
    ("3f2a9c1d0b7e", datetime(2025, 3, 3, 9, 0), "plan-3f2a9c1d0b7e@20250303T090000Z"),
    ("3f2a9c1d0b7e", None, "plan-3f2a9c1d0b7e"),
])
def test_plan_version_external_id(hash_, edited, external_id):
    version = plan_version(hash_, edited)
    assert version.external_id == external_id
    assert parse_external_id(external_id) == version


@pytest.mark.parametrize("text", [None, "", "job-42", "plan-xyz", "plan-3f2a9c1d0b7e@2025", "plan-3f2a9c1d0b7e@20251399T000000Z"])
def test_other_external_ids_hold_no_version(text):
    assert parse_external_id(text) is None


def test_a_new_edit_time_is_a_new_version():
    assert plan_version("abc123", T0) != plan_version("abc123", at(1))
    assert plan_version("abc123", T0) == PlanVersion("abc123", T0)


# --------------------------------------------------------------------------- golden documents


def _history():
    entries = [
        AuditEntry(AuditAction.GRANT, "alice", at(50), agent="cli", items=("lib/cli.py", "docs/cli.md"), why="shared helper"),
        AuditEntry(AuditAction.REVOKE, "bob", at(49), agent="cli", items=("docs/cli.md",)),
        AuditEntry(AuditAction.ALLOWANCE, "maint", at(48), pr=31, why="hotfix | outage"),
        AuditEntry(AuditAction.ALLOWANCE_REVOKED, "maint", at(47), pr=31),
        AuditEntry(AuditAction.SKIP, "alice", at(46), items=("api", "web"), why="done by hand"),
        AuditEntry(AuditAction.CANCEL, "alice", at(45), why="wrong plan, ask @carol <b>now</b>"),
        AuditEntry(AuditAction.RELAUNCH, "bob", at(44), agent="api", why="the run failed"),
        AuditEntry(AuditAction.ADOPT, "alice", at(43), items=("3f2a9c1d0b7e",)),
        AuditEntry(AuditAction.AMENDMENT, "carol", at(42), items=("api", "web")),
        AuditEntry(AuditAction.AMENDMENT, "carol", at(41)),
    ]
    entries += [AuditEntry(AuditAction.RELAUNCH, "bob", at(minute), agent="web") for minute in range(15)]
    history = ()
    for entry in entries:
        history = record(history, entry)
    return history


GOLDEN_CASES = {
    "audit-table": lambda: report_commands.audit_table(_history()) + "----- empty\n" + report_commands.audit_table(()),
    "audit-allowances": lambda: report_commands.allowances_list((
        Allowance(31, "maint", at(0), "hotfix for the outage"),
        Allowance(7, "admin", at(3)),
        Allowance(12, "maint", at(1), "gone", revoked_by="maint", revoked_at=at(2)),
        Allowance(40, revoked_by="maint", revoked_at=at(2)),
    )) + "----- none\n" + report_commands.allowances_list(()),
}


@pytest.mark.parametrize("name", sorted(GOLDEN_CASES))
def test_golden(name):
    assert_golden(name, GOLDEN_CASES[name]())


# --------------------------------------------------------------------------- commands into entries


def _command(line):
    from service.core.commands import parse_commands

    return parse_commands(line)[0]


@pytest.mark.parametrize(("line", "action", "agent", "pr", "items", "why"), [
    ("/wavegate grant api a/ b/ — needed", AuditAction.GRANT, "api", None, ("a/", "b/"), "needed"),
    ("/wavegate revoke api a/", AuditAction.REVOKE, "api", None, ("a/",), None),
    ("/wavegate allow #31 — hotfix", AuditAction.ALLOWANCE, None, 31, (), "hotfix"),
    ("/wavegate revoke #31", AuditAction.ALLOWANCE_REVOKED, None, 31, (), None),
    ("/wavegate skip api web", AuditAction.SKIP, None, None, ("api", "web"), None),
    ("/wavegate cancel — wrong plan", AuditAction.CANCEL, None, None, (), "wrong plan"),
    ("/wavegate relaunch api", AuditAction.RELAUNCH, None, None, ("api",), None),
    ("/wavegate adopt", AuditAction.ADOPT, None, None, (), None),
])
def test_entry_for_a_command(line, action, agent, pr, items, why):
    entry = entry_for(_command(line), "alice", T0, command_key(7, 0))
    assert (entry.action, entry.agent, entry.pr, entry.items, entry.why, entry.key) == (
        action, agent, pr, items, why, "comment:7:0")


@pytest.mark.parametrize("line", ["/wavegate refresh", "/wavegate frobnicate"])
def test_no_entry_for_what_changes_nothing(line):
    assert entry_for(_command(line), "alice", T0) is None


def test_entry_for_records_what_really_changed():
    entry = entry_for(_command("/wavegate grant api a/ b/"), "alice", T0, items=("b/",))
    assert entry.items == ("b/",)
    assert entry_for(_command("/wavegate allow"), "alice", T0, pr=12).pr == 12

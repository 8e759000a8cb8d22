"""Deliveries duplicated, reordered and bursting: the end state of a clean run, nothing twice."""

from concurrent.futures import ThreadPoolExecutor

import pytest

from .harness import assert_same_end_state, judge, last_synchronize, play, send_copy, webhook_config

pytestmark = pytest.mark.reliability


@pytest.mark.reliability_ci
def test_every_delivery_three_times(stack, clean, record):
    with webhook_config(stack, duplicate=3):
        result = judge(play(stack, "acme/dup3"), clean)
    record("every delivery 3×", result)
    assert_same_end_state(result)


def test_deliveries_shuffled_within_windows_of_five(stack, clean, record):
    with webhook_config(stack, shuffle_window=5, seed=11):
        result = judge(play(stack, "acme/shuffled5"), clean)
    record("shuffled within windows of 5", result)
    assert_same_end_state(result)


def test_burst_of_fifty_synchronize_deliveries_for_one_pr(stack, clean, record):
    """When testing's stray push (a crossing) has been judged, 50 fresh deliveries of that
    push's ``synchronize`` arrive at once while the agent reverts: the stale head's verdict must
    not land on the new head, and each head keeps one run per check."""
    repo = "acme/burst50"
    statuses: list[int] = []

    def burst():
        original = last_synchronize(stack, repo, "/testing")
        with ThreadPoolExecutor(10) as pool:
            statuses.extend(pool.map(lambda _: send_copy(stack, original), range(50)))

    result = judge(play(stack, repo, on={"territory failure": burst}), clean)
    result.notes.append(f"answers {sorted(set(statuses))}")
    record("burst of 50 synchronize", result)
    assert len(statuses) == 50 and set(statuses) <= {200, 202}, statuses
    assert_same_end_state(result)

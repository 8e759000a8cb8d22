"""The plan parser's hostile-input property (tests/hostile/bodies.py) at full size: at least
10,000 generated bodies (``WAVEGATE_HYPOTHESIS_MAX`` raises it further)."""

import os

import pytest
from hypothesis import HealthCheck, given, settings

from tests.hostile.bodies import bodies, check_body

pytestmark = pytest.mark.reliability
EXAMPLES = max(10_000, int(os.environ.get("WAVEGATE_HYPOTHESIS_MAX", "0") or 0))


@settings(max_examples=EXAMPLES, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(bodies())
def test_ten_thousand_hostile_bodies(body):
    check_body(body)

"""Per-process resources of a worker: the settings (read once), the Redis client and the one way
jobs obtain a GitHub port, ``github_for(installation_id)``. Tests replace ``github_for`` with an
in-memory fake; nothing here is created at import time (RQ forks a work horse per job).

Every GitHub request of a port made here is counted (``service.metrics``: method, status and the
installation's rate-limit remaining), through the adapter's ``instrument`` hook."""

from __future__ import annotations

import functools
from typing import cast

import redis

from service import metrics, queueing
from service.gh import GitHubPort
from service.gh.app import github_for_installation
from service.gh.memo import ChangeMemo
from service.gh.pacing import RedisPacer
from service.settings import Settings


@functools.cache
def settings() -> Settings:
    """``Settings.from_env()``, read once per process. Raises ``ConfigError``."""
    return cast(Settings, Settings.from_env())  # allow_setup is off: never SetupSettings


@functools.cache
def redis_connection() -> redis.Redis:
    """The Redis client for ``settings().redis_url`` (used outside a running RQ job)."""
    return queueing.connect(settings().redis_url)


def github_for(installation_id: int) -> GitHubPort:
    """The GitHub port acting as installation ``installation_id`` of the App, its writes paced
    (and its rate-limit pauses kept) through Redis so every worker process shares the
    installation's budget, PR change sets memoised there too, its requests counted in the
    metrics."""
    return github_for_installation(settings(), installation_id, pacer=RedisPacer(redis_connection()),
                                   memo=ChangeMemo(redis_connection()),
                                   instrument=lambda req: metrics.InstrumentedRequester(req, installation_id))

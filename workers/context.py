"""Per-process resources of a worker: the settings (read once), the Redis client and the one way
jobs obtain a GitHub port, ``github_for(installation_id)``. Tests replace ``github_for`` with an
in-memory fake; nothing here is created at import time (RQ forks a work horse per job).

Every GitHub request of a port made here is counted (``service.metrics``: method, status and the
installation's rate-limit remaining)."""

from __future__ import annotations

import functools

import redis

from service import github, metrics, queueing
from service.github import GitHubPort, PyGithubPort
from service.pacing import RedisPacer
from service.settings import Settings


@functools.cache
def settings() -> Settings:
    """``Settings.from_env()``, read once per process. Raises ``ConfigError``."""
    return Settings.from_env()


@functools.cache
def redis_connection() -> redis.Redis:
    """The Redis client for ``settings().redis_url`` (used outside a running RQ job)."""
    return queueing.connect(settings().redis_url)


def github_for(installation_id: int) -> GitHubPort:
    """The GitHub port acting as installation ``installation_id`` of the App, its writes paced
    (and its rate-limit pauses kept) through Redis so every worker process shares the
    installation's budget, PR change sets memoised there too, its requests counted in the
    metrics."""
    port = github.github_for_installation(settings(), installation_id, pacer=RedisPacer(redis_connection()),
                                          memo=github.ChangeMemo(redis_connection()))
    if isinstance(port, PyGithubPort):
        # The adapter sends every request through its Requester's requestJsonAndCheck.
        port._req = metrics.InstrumentedRequester(port._req, installation_id)
    return port

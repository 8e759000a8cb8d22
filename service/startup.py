"""The worker's start-up check of the registered App (``GET /app`` with the App's JWT): warns when
the App lacks a permission the code needs, ``merge_queues`` (without it GitHub sends no
``merge_group`` events, and PRs wait forever in a merge queue that requires our checks), or an event
the app routes. Editing ``app.yml`` does not change a registered App; this is where a stale
registration shows up. Never called inside a webhook request, and never fatal."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from typing import Any

from . import permissions
from .core import launch, report_launch
from .logs import event
from .routes import TABLE

log = logging.getLogger(__name__)


def app_problems(permissions_granted: Mapping[str, str], events: list[str] | tuple[str, ...]) -> list[str]:
    """What a registered App (``GET /app``'s ``permissions`` and ``events``) lacks: one line per
    missing permission or unsubscribed routed event. Empty when nothing is missing."""
    needed = {p: a for p, a in permissions.required().items() if p not in permissions.LAUNCH_PERMISSIONS}
    needed["merge_queues"] = "read"
    problems = [f"permission {p} missing" for p in permissions.missing_permissions(permissions_granted, needed)]
    routed = {e for e, _ in TABLE} - permissions.IMPLIED_EVENTS - permissions.LAUNCH_EVENTS
    problems += [f"event {e} not subscribed" for e in sorted(routed - set(events))]
    return problems


def _fetch_app(settings: Any) -> tuple[dict[str, str], list[str]]:
    from .gh.app import integration

    app = integration(settings, retry=None).get_app()
    return dict(app.permissions or {}), list(app.events or [])


def check_app(settings: Any, *, fetch: Callable[[Any], tuple[Mapping[str, str], list[str]]] | None = None) -> list[str]:
    """Fetch the App (``GET /app``; ``fetch`` replaces the request in tests) and log one warning
    event ``app_registration_incomplete`` naming what is missing, or ``app_registration_ok``.
    Returns the problems; a failed request is logged (``app_check_failed``) and gives ``[]``."""
    try:
        granted, events = (fetch or _fetch_app)(settings)
    except Exception as exc:  # noqa: BLE001 - a start-up check must never stop the worker
        event(log, "app_check_failed", logging.WARNING, reason=type(exc).__name__)
        return []
    problems = app_problems(granted, events)
    # Launching is configured per repository (``launch:``): the App cannot know here whether any
    # installation uses it, so its lack is a warning for those that do, never a broken registration.
    launch_warning = report_launch.permissions_warning(launch_problems(granted, events))
    if problems:
        extra = {"launch": launch_warning} if launch_warning else {}
        event(log, "app_registration_incomplete", logging.WARNING, problems=problems,
              fix="grant them in the App's settings (Permissions & events), then accept them on each installation",
              **extra)
    elif launch_warning:
        event(log, "launch_permissions_missing", logging.WARNING, problems=launch_warning)
    else:
        event(log, "app_registration_ok")
    return problems


def launch_problems(permissions_granted: Mapping[str, str], events: list[str] | tuple[str, ...]) -> tuple[str, ...]:
    """What launching agents via workflow needs and the App lacks (``actions: write``, event
    ``workflow_run``); empty when nothing is missing."""
    needed = launch.needed_permissions([launch.LaunchSettings(via=launch.Via.WORKFLOW)])
    return launch.missing_permissions(needed, permissions_granted, events)


def check_app_in_background(settings: Any) -> threading.Thread:
    """``check_app`` on a daemon thread, so a slow GitHub never delays the worker's start."""
    thread = threading.Thread(target=check_app, args=(settings,), name="wavegate-app-check", daemon=True)
    thread.start()
    return thread

"""The worker runs only Wavegate's jobs.

RQ resolves a job's function from the dotted name stored in Redis (``import_attribute``): anyone
who can write to the queue could otherwise make the worker, which holds the App's private key,
import any module and call any function (``os.mkdir``, ``subprocess.run`` …). ``GuardedJob``
resolves only the names of ``workers.jobs.JOB_FUNCTIONS`` and never imports anything else: a job
naming another function, asking for an RQ callback (also a dotted name RQ would import) or whose
data cannot be read is refused before its function is looked up. The worker
(``MeasuredWorker.execute_job``) logs the refusal, counts it
(``wavegate_jobs_refused_total``) and lets RQ fail the job without retrying it, so it lands in the
failed registry with the reason as its exception text.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rq.job import Job

from service.jobspec import JOBS

from .jobs import JOB_FUNCTIONS

# dotted name → function: the registry read by name, with no import
REGISTERED: dict[str, Any] = {JOBS + f.__name__: f for f in JOB_FUNCTIONS}


class RefusedJob(Exception):
    """Raised in place of resolving a refused job's function; its text is the reason."""


@dataclass(frozen=True)
class Refusal:
    """Why a job is not run: ``code`` for the metric label (``unknown function``, ``callback``,
    ``unreadable``), ``reason`` the sentence kept in the failed registry and the log."""

    code: str
    reason: str


def refusal(job: Job) -> Refusal | None:
    """None when ``job`` calls a registered job function with no callbacks; else why not. Reads
    only the job's stored data (``func_name``, ``instance``, callback names): nothing is
    imported."""
    try:
        name = job.func_name
        instance = job.instance
    except Exception as exc:  # noqa: BLE001 - RQ raises DeserializationError and others for bad data
        return Refusal("unreadable", f"refused: the job's data cannot be read ({type(exc).__name__})")
    if name not in REGISTERED or instance is not None:
        shown = (name or "")[:120]
        return Refusal("unknown function", f"refused: {shown!r} is not one of Wavegate's job functions")
    callbacks = [n for n in (job._success_callback_name, job._failure_callback_name,  # noqa: SLF001
                             job._stopped_callback_name) if n]  # noqa: SLF001 - RQ keeps them private
    if callbacks:
        return Refusal("callback", "refused: Wavegate's jobs take no callbacks, this one names "
                       + ", ".join(repr(c[:120]) for c in callbacks))
    return None


class GuardedJob(Job):
    """An RQ ``Job`` whose function and callbacks resolve only through ``REGISTERED``."""

    @property
    def func(self) -> Any:
        """The registered function (never ``import_attribute``); raises ``RefusedJob``."""
        found = refusal(self)
        if found is not None:
            raise RefusedJob(found.reason)
        return REGISTERED[self.func_name or ""]

    # Callbacks are dotted names too; a refused job's failure handling must not import them.
    @property
    def success_callback(self) -> Any:
        return None

    @property
    def failure_callback(self) -> Any:
        return None

    @property
    def stopped_callback(self) -> Any:
        return None

"""Background-callback manager for the app's long work (explain, export, fit ...).

``make_manager(settings)`` returns Dash's ``DiskcacheManager`` on a diskcache folder (``cache_dir``,
default a per-user temp folder) — or a ``CeleryManager`` when ``settings["redis_url"]`` (or
``celery_broker``, or the ``REDIS_URL`` environment variable) names Redis, as broker and result backend
(production mode, :mod:`components.production`). Dash is imported only when a
manager is made, so the rest of ``compute`` stays free of the web stack.

``budgeted(set_progress, settings, what)`` wraps a job's progress reporter so that every report checks the
job's time budget (``settings["job_seconds"]``, default :data:`JOB_SECONDS`): a job still running past it
is stopped at its next report with :class:`OverBudget` (a one-line message saying how long it ran and what
to use instead), and since every write is a staged commit, nothing it had started to write is kept.

``job_gate(settings)`` is an optional diskcache lock that a job waits on before it starts; tests hold it
to observe the "running" state and cancel deterministically (plotly/dash's ``app.test_lock`` pattern).
"""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path

from isograph.errors import InputError

__all__ = ["JOB_SECONDS", "OverBudget", "budgeted", "default_cache_dir", "job_gate", "make_manager", "redis_url"]

#: How long one job of the app may run (seconds) unless the settings say otherwise (``job_seconds``).
JOB_SECONDS = 600.0


class OverBudget(InputError):
    """A job ran past its time budget and was stopped."""


def budgeted(set_progress: Callable[[tuple], None], settings: dict, what: str, *,
             instead: str) -> Callable[[tuple], None]:
    """``set_progress`` that first checks the job's time budget (the clock starts now).

    Parameters
    ----------
    set_progress : callable
        The job's progress reporter (takes one tuple).
    settings : dict
        The app settings (``job_seconds``, default :data:`JOB_SECONDS`).
    what : str
        The job, for the message ("SAE training").
    instead : str
        What to use for bigger inputs (a CLI command), for the message.

    Returns
    -------
    callable
        Reports progress; raises :class:`OverBudget` once the budget is spent.
    """
    budget = float(settings.get("job_seconds", JOB_SECONDS))
    start = time.monotonic()

    def report(values: tuple) -> None:
        elapsed = time.monotonic() - start
        if elapsed > budget:
            raise OverBudget(f"{what} stopped after {elapsed:.0f} s, at {values[1]!r}: over the {budget:.0f} s an app"
                             f" job may run (setting job_seconds); nothing of it was saved. Use smaller inputs, or"
                             f" {instead}")
        set_progress(values)

    return report


def default_cache_dir() -> Path:
    """``$TMPDIR/isograph-jobs-<uid>``."""
    return Path(tempfile.gettempdir()) / f"isograph-jobs-{os.getuid()}"


def redis_url(settings: dict) -> str | None:
    """The Redis of these app settings (``redis_url``, or the older ``celery_broker``), else ``REDIS_URL`` from
    the environment; None for none (jobs and views then use diskcache).

    Parameters
    ----------
    settings : dict

    Returns
    -------
    str or None
    """
    return settings.get("redis_url") or settings.get("celery_broker") or os.environ.get("REDIS_URL") or None


def make_manager(settings: dict) -> object:
    """The background-callback manager of the app.

    Parameters
    ----------
    settings : dict
        ``cache_dir`` (diskcache folder), optional ``redis_url`` (or ``celery_broker``).

    Returns
    -------
    dash.DiskcacheManager or dash.CeleryManager

    Raises
    ------
    InputError
        A Celery broker was configured but celery is not installed.
    """
    broker = redis_url(settings)
    if broker:
        try:
            from celery import Celery
        except ImportError:
            raise InputError(f"a Celery broker ({broker}) is configured but celery is not installed;"
                             " pip install -r requirements-serve.txt, or unset REDIS_URL to use diskcache") from None
        from dash import CeleryManager

        celery = Celery("isograph-explorer", broker=broker, backend=broker)
        celery.conf.update(worker_prefetch_multiplier=1,  # a long job does not hold queued ones back
                           broker_connection_retry_on_startup=True, result_expires=24 * 3600,
                           worker_hijack_root_logger=False)
        return CeleryManager(celery)
    import diskcache
    from dash import DiskcacheManager

    folder = Path(settings.get("cache_dir") or default_cache_dir())
    folder.mkdir(parents=True, exist_ok=True)
    return DiskcacheManager(diskcache.Cache(str(folder)))


def job_gate(settings: dict) -> AbstractContextManager:
    """A context manager every job enters first: a diskcache lock when ``settings["job_gate"]`` is set.

    Parameters
    ----------
    settings : dict
        The app settings (``job_gate``, ``cache_dir``).

    Returns
    -------
    context manager
    """
    if not settings.get("job_gate"):
        return nullcontext()
    import diskcache

    return diskcache.Lock(diskcache.Cache(str(settings["cache_dir"])), "isograph-job-gate")

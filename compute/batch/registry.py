"""The kinds of batch task: a fixed table of names to functions (no code is named by its input).

Each function takes one JSON-serialisable ``params`` dict and returns a JSON-serialisable summary dict; it
writes its outputs itself, atomically. A Celery worker runs them through the one task
:data:`CELERY_TASK_NAME` (:func:`register`).
"""

from __future__ import annotations

import importlib
import time

__all__ = ["CELERY_TASK_NAME", "KINDS", "register", "run_task", "run_timed"]

#: task kind -> "module:function"
KINDS = {
    "sae.intervene": "isograph.sae.intervention_report:intervention_task",
    "sae.kg": "isograph.sae.kg_files:kg_task",
    "explain.dataset": "isograph.explain.batch:explain_task",
}
CELERY_TASK_NAME = "isograph.batch.run_task"


def run_task(kind: str, params: dict) -> dict:
    """Run one task of a known kind.

    Parameters
    ----------
    kind : str
        A key of :data:`KINDS`.
    params : dict
        The task's JSON parameters.

    Returns
    -------
    dict
        The task's JSON summary.

    Raises
    ------
    ValueError
        Unknown kind.
    """
    if kind not in KINDS:
        raise ValueError(f"unknown batch task kind {kind!r}; known: {', '.join(sorted(KINDS))}")
    module, _, name = KINDS[kind].partition(":")
    return getattr(importlib.import_module(module), name)(params)


def run_timed(kind: str, params: dict) -> list:
    """``[seconds, result]`` of :func:`run_task` (the time the task itself took, wherever it ran).

    Parameters
    ----------
    kind, params
        As for :func:`run_task`.

    Returns
    -------
    list
        ``[seconds, summary dict]`` (JSON-serialisable, as a Celery result must be).
    """
    start = time.perf_counter()
    result = run_task(kind, params)
    return [time.perf_counter() - start, result]


def register(celery_app: object) -> None:
    """Register :func:`run_timed` on a Celery app as :data:`CELERY_TASK_NAME` (JSON arguments and result).

    Parameters
    ----------
    celery_app : celery.Celery
    """
    celery_app.task(name=CELERY_TASK_NAME, serializer="json")(run_timed)

"""Run a batch of tasks, resumably: a Celery group when Redis is configured, else a local process pool.

:func:`run_batch` reads the task manifest, skips every task it records as ``done`` with the same parameters,
runs the others (``workers`` processes of this machine, started fresh — ``spawn`` — so no thread state of
this process is inherited; or one Celery task each, which ``celery --app celery_worker worker`` processes
run), records each as it finishes (the manifest is rewritten atomically every time), shows a tqdm progress
bar on stderr, and returns the whole manifest with what this run did.
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import signal
import sys
import time
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from dataclasses import dataclass
from multiprocessing import get_context
from pathlib import Path

import pandas as pd

from isograph.batch.manifest import COLUMNS, Task, read_manifest, write_manifest
from isograph.batch.registry import CELERY_TASK_NAME, run_timed
from isograph.errors import InputError

__all__ = ["BatchResult", "run_batch"]

#: How often (seconds) a Celery batch asks Redis which of its tasks have finished.
POLL_SECONDS = 0.5


@dataclass
class BatchResult:
    """What :func:`run_batch` did.

    Attributes
    ----------
    manifest : DataFrame
        Every task of the manifest (:data:`isograph.batch.manifest.COLUMNS`), this run's included.
    ran, skipped, failed : int
        Tasks run now, tasks skipped as finished by an earlier run, tasks of this run that failed.
    engine : str
        ``"process pool (N workers)"`` or ``"celery (URL)"``.
    """

    manifest: pd.DataFrame
    ran: int
    skipped: int
    failed: int
    engine: str


def _failpoint(n_recorded: int) -> None:
    """Tests: ``ISOGRAPH_FAILPOINT=batch-after-N`` kills this process (SIGKILL) once N tasks are recorded."""
    if os.environ.get("ISOGRAPH_FAILPOINT") == f"batch-after-{n_recorded}":
        os.kill(os.getpid(), signal.SIGKILL)


def _progress(total: int, done: int, what: str):
    from tqdm import tqdm

    return tqdm(total=total, initial=done, desc=what, unit="task", file=sys.stderr, dynamic_ncols=True,
                disable=None)  # None: no bar when stderr is not a terminal


def run_batch(tasks: list[Task], manifest_path: str | os.PathLike, *, workers: int = 1, redis_url: str | None = None,
              what: str = "tasks") -> BatchResult:
    """Run every task the manifest does not record as done (with the same parameters).

    Parameters
    ----------
    tasks : list of Task
        Unique task IDs.
    manifest_path : path
        ``tasks.tsv`` (created; an earlier run's rows are kept).
    workers : int, default 1
        Local processes (ignored with Redis: the Celery workers' concurrency decides); 0 runs the tasks one
        after the other in this process (for debugging: tracebacks and breakpoints as usual).
    redis_url : str, optional
        Run on Celery with this Redis as broker and result backend.
    what : str
        The progress bar's label.

    Returns
    -------
    BatchResult

    Raises
    ------
    InputError
        Duplicate task IDs, a damaged manifest, or ``workers < 1``.
    """
    ids = [t.task_id for t in tasks]
    if len(set(ids)) != len(ids):
        raise InputError(f"duplicate task IDs in the batch: {sorted({i for i in ids if ids.count(i) > 1})[:5]}")
    if workers < 0:
        raise InputError(f"--workers must be >= 0; got {workers}")
    manifest_path = Path(manifest_path)
    table = read_manifest(manifest_path).set_index("task_id", drop=False)
    done = {tid for tid, status, params in zip(table["task_id"], table["status"], table["params"]) if status == "done"}
    finished = {t.task_id for t in tasks if t.task_id in done and table.at[t.task_id, "params"] == t.params_json()}
    pending = [t for t in tasks if t.task_id not in finished]
    for task in pending:
        table.loc[task.task_id] = {"task_id": task.task_id, "kind": task.kind, "status": "pending", "seconds": "",
                                   "params": task.params_json(), "result": "", "error": "", "finished": ""}
    write_manifest(table, manifest_path)

    failed = 0

    def record(task: Task, seconds: float, result: dict | None, error: str | None) -> None:
        nonlocal failed
        failed += error is not None
        table.loc[task.task_id] = {
            "task_id": task.task_id, "kind": task.kind, "status": "failed" if error else "done",
            "seconds": f"{seconds:.2f}", "params": task.params_json(),
            "result": json.dumps(result, sort_keys=True) if result is not None else "", "error": error or "",
            "finished": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")}
        write_manifest(table, manifest_path)
        _failpoint(int(table["status"].isin(["done", "failed"]).sum()))

    bar = _progress(len(tasks), len(finished), what)
    try:
        if redis_url:
            engine = f"celery ({redis_url})"
            _run_celery(pending, redis_url, record, bar)
        elif workers == 0:
            engine = "this process"
            _run_here(pending, record, bar)
        else:
            engine = f"process pool ({workers} worker{'s' if workers > 1 else ''})"
            _run_local(pending, workers, record, bar)
    finally:
        bar.close()
    ordered = table.reindex([t.task_id for t in tasks] + sorted(set(table.index) - set(ids)))
    return BatchResult(manifest=ordered.reset_index(drop=True)[COLUMNS], ran=len(pending), skipped=len(finished),
                       failed=failed, engine=engine)


def _exit_with_parent(parent: int) -> None:
    """Pool-worker initializer: exit as soon as the process that started the batch is gone (a killed run
    must not leave its workers running)."""
    import threading

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(0.5)
        os._exit(1)

    threading.Thread(target=watch, name="isograph-batch-parent-watch", daemon=True).start()


def _one_line(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"[:500]


def _settle(task: Task, start: float, outcome, record, bar) -> None:
    """Record what ``outcome()`` (``[seconds, result]``, or the task's exception) says of a finished task."""
    try:
        seconds, result = outcome()
        record(task, seconds, result, None)
    except Exception as exc:  # noqa: BLE001 - one failed task is recorded, the others go on
        record(task, time.perf_counter() - start, None, _one_line(exc))
    bar.update(1)


def _run_here(pending: list[Task], record, bar) -> None:
    for task in pending:
        _settle(task, time.perf_counter(), lambda task=task: run_timed(task.kind, task.params), record, bar)


def _run_local(pending: list[Task], workers: int, record, bar) -> None:
    if not pending:
        return
    with ProcessPoolExecutor(max_workers=min(workers, len(pending)), mp_context=get_context("spawn"),
                             initializer=_exit_with_parent, initargs=(os.getpid(),)) as pool:
        running = {pool.submit(run_timed, t.kind, t.params): (t, time.perf_counter()) for t in pending}
        while running:
            finished, _ = wait(running, return_when=FIRST_COMPLETED)
            for future in finished:
                task, start = running.pop(future)
                _settle(task, start, future.result, record, bar)


def _run_celery(pending: list[Task], redis_url: str, record, bar) -> None:
    if not pending:
        return
    from celery import Celery

    celery = Celery("isograph-batch", broker=redis_url, backend=redis_url)
    celery.conf.update(task_serializer="json", result_serializer="json", accept_content=["json"],
                       broker_connection_retry_on_startup=True)
    running = {celery.send_task(CELERY_TASK_NAME, args=[t.kind, t.params]): (t, time.perf_counter()) for t in pending}
    print(f"isograph: {len(running)} tasks sent to Celery ({redis_url}); a worker runs them:"
          " celery --app celery_worker worker", file=sys.stderr)
    while running:
        for handle in [h for h in running if h.ready()]:
            task, start = running.pop(handle)
            _settle(task, start, lambda handle=handle: handle.get(propagate=True, disable_sync_subtasks=False),
                    record, bar)
        if running:
            time.sleep(POLL_SECONDS)

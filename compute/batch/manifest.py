"""The task manifest of a batch run: ``{output_dir}/tasks.tsv``, one row per task.

Columns: ``task_id, kind, status`` (``pending``, ``done``, ``failed``), ``seconds``, ``params`` and
``result`` (JSON), ``error`` (one line), ``finished`` (UTC time). It is rewritten atomically after every
finished task, so a run killed at any moment leaves it whole, listing every task finished so far; a re-run
skips the ``done`` tasks whose parameters are unchanged and runs the rest.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from isograph.dataset.io import write_tsv
from isograph.errors import InputError

__all__ = ["COLUMNS", "Task", "read_manifest", "write_manifest"]

COLUMNS = ["task_id", "kind", "status", "seconds", "params", "result", "error", "finished"]


@dataclass(frozen=True)
class Task:
    """One task: a unique ID, a kind of :data:`isograph.batch.registry.KINDS` and its JSON parameters."""

    task_id: str
    kind: str
    params: dict

    def params_json(self) -> str:
        """The parameters as the manifest records them (JSON, sorted keys)."""
        return json.dumps(self.params, sort_keys=True)


def read_manifest(path: str | os.PathLike) -> pd.DataFrame:
    """The manifest (empty with :data:`COLUMNS` when there is none).

    Raises
    ------
    InputError
        It exists but is not a task manifest.
    """
    path = Path(path)
    if not path.exists():
        return pd.DataFrame({c: pd.Series(dtype=object) for c in COLUMNS})
    try:
        table = pd.read_csv(path, sep="\t", dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, UnicodeDecodeError, pd.errors.EmptyDataError) as exc:
        raise InputError(f"{path}: not a task manifest ({type(exc).__name__}); move it away to start afresh") from None
    missing = [c for c in COLUMNS if c not in table.columns]
    if missing:
        raise InputError(f"{path}: not a task manifest (no column {', '.join(missing)}); move it away to start afresh")
    return table[COLUMNS]


def write_manifest(table: pd.DataFrame, path: str | os.PathLike) -> None:
    """Write the manifest atomically (sorted by task ID).

    Parameters
    ----------
    table : DataFrame
        :data:`COLUMNS` (others are left out).
    path : path
    """
    write_tsv(table[COLUMNS].reset_index(drop=True).sort_values("task_id", kind="stable"), path)

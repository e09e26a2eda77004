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

__all__ = ["COLUMNS", "Task", "read_input_table", "read_manifest", "write_manifest"]

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


def read_input_table(path: str | os.PathLike, *, flag: str, required: tuple[str, ...], optional: tuple[str, ...] = (),
                     outputs: tuple[str, ...] = ()) -> list[tuple[str, dict[str, str]]]:
    """The rows of a user's batch table (TSV): a unique ``name`` per row and path columns, checked row by row.

    Parameters
    ----------
    path : path
        The TSV; paths in it are relative to its folder.
    flag : str
        How messages name it (``"--manifest"``).
    required, optional : tuple of str
        Path columns that every row must fill / may leave empty.
    outputs : tuple of str
        Columns (among those) that name something to be written, so need not exist yet.

    Returns
    -------
    list of (str, dict)
        ``(name, {column: absolute path})`` per row, in order (empty optional columns left out).

    Raises
    ------
    InputError
        Unreadable table, a missing column, no rows, or a row with a bad or repeated name, an empty required
        path or an input that does not exist (naming the line and the column).
    """
    from isograph.dataset.explain_store import check_module_id

    path = Path(path)
    try:
        table = pd.read_csv(path, sep="\t", dtype=str, keep_default_na=False)
    except FileNotFoundError:
        raise InputError(f"{flag} {path}: not found") from None
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise InputError(f"{flag} {path}: not a tab-separated table ({type(exc).__name__})") from None
    missing = [c for c in ("name", *required) if c not in table.columns]
    if missing:
        raise InputError(f"{flag} {path}: no column {', '.join(missing)}; it needs name, {', '.join(required)}"
                         + (f" (optional {', '.join(optional)})" if optional else "") + ", tab-separated")
    rows: list[tuple[str, dict[str, str]]] = []
    for line, row in enumerate(table.to_dict("records"), start=2):
        where = f"{flag} {path}, line {line}"
        try:
            name = check_module_id(row["name"])
        except InputError:
            raise InputError(f"{where}: name {row['name']!r} cannot name a folder (no '/', leading '.', or spaces"
                             " around)") from None
        if any(name == seen for seen, _ in rows):
            raise InputError(f"{where}: name {name!r} is used twice; names must be unique")
        paths = {}
        for column in (*required, *optional):
            value = row.get(column, "") or ""
            if not value:
                if column in required:
                    raise InputError(f"{where}: {column} is empty")
                continue
            resolved = (path.parent / value).resolve()
            if column not in outputs and not resolved.exists():
                raise InputError(f"{where}: {column} {value!r} not found (looked for {resolved})")
            paths[column] = str(resolved)
        rows.append((name, paths))
    if not rows:
        raise InputError(f"{flag} {path}: no rows")
    return rows

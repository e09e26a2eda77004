"""``isograph explain-module --batch MANIFEST.tsv``: explain many data sets, one batch task each (resumable;
a Celery group when Redis is configured, a local process pool otherwise — see :mod:`isograph.batch`).

The manifest has one row per data set: ``name, artifact_dir, feature_table, feature_meta, output_dir`` and
optional ``module_score_table, annotation_table`` (paths relative to the manifest's folder). The run's
options (``ExplainConfig``) apply to every data set.
"""

from __future__ import annotations

import os
from dataclasses import asdict
from pathlib import Path

import pandas as pd

from isograph.errors import InputError
from isograph.explain.contracts import ExplainConfig

__all__ = ["BATCH_COLUMNS", "explain_task", "explain_tasks"]

BATCH_COLUMNS = ("name", "artifact_dir", "feature_table", "feature_meta", "output_dir")
OPTIONAL_COLUMNS = ("module_score_table", "annotation_table")


def explain_tasks(manifest: str | os.PathLike, config: ExplainConfig) -> list:
    """One :class:`~isograph.batch.Task` per row of the manifest, checked row by row.

    Parameters
    ----------
    manifest : path
        The TSV (see the module docstring).
    config : ExplainConfig
        The options of every task.

    Returns
    -------
    list of Task

    Raises
    ------
    InputError
        Unreadable manifest, a missing column, an empty or duplicate name, or an input path that does not exist
        (naming the line and the column).
    """
    from isograph.batch import Task
    from isograph.dataset.explain_store import check_module_id

    path = Path(manifest)
    try:
        table = pd.read_csv(path, sep="\t", dtype=str, keep_default_na=False)
    except FileNotFoundError:
        raise InputError(f"--batch {path}: not found") from None
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise InputError(f"--batch {path}: not a tab-separated table ({type(exc).__name__})") from None
    missing = [c for c in BATCH_COLUMNS if c not in table.columns]
    if missing:
        raise InputError(f"--batch {path}: no column {', '.join(missing)}; it needs {', '.join(BATCH_COLUMNS)}"
                         f" (tab-separated; optional {', '.join(OPTIONAL_COLUMNS)})")
    tasks, names = [], set()
    for i, row in enumerate(table.to_dict("records"), start=2):
        where = f"--batch {path}, line {i}"
        try:
            name = check_module_id(row["name"])
        except InputError:
            raise InputError(f"{where}: name {row['name']!r} cannot name a task (no '/', leading '.', or spaces"
                             " around)") from None
        if name in names:
            raise InputError(f"{where}: name {name!r} is used twice; names must be unique")
        names.add(name)
        params: dict = {"config": asdict(config)}
        for column in BATCH_COLUMNS[1:] + OPTIONAL_COLUMNS:
            value = row.get(column, "") or ""
            if not value:
                if column in BATCH_COLUMNS:
                    raise InputError(f"{where}: {column} is empty")
                continue
            resolved = (path.parent / value).resolve()
            if column != "output_dir" and not resolved.exists():
                raise InputError(f"{where}: {column} {value!r} not found (looked for {resolved})")
            params[column] = str(resolved)
        tasks.append(Task(name, "explain.dataset", params))
    if not tasks:
        raise InputError(f"--batch {path}: no rows")
    return tasks


def explain_task(params: dict) -> dict:
    """Explain one data set (JSON in, JSON out).

    Parameters
    ----------
    params : dict
        ``artifact_dir, feature_table, feature_meta, output_dir`` (absolute), optional ``module_score_table,
        annotation_table``, and ``config`` (``ExplainConfig`` fields).

    Returns
    -------
    dict
        ``modules, samples, genes, switches_called, output_dir``.
    """
    from isograph.explain import explain_module

    results = explain_module(params["artifact_dir"], params["feature_table"], params["feature_meta"],
                             config=ExplainConfig(**params["config"]), output_dir=params["output_dir"],
                             module_score_table=params.get("module_score_table"),
                             annotation_table=params.get("annotation_table"))
    first = next(iter(results.values()))
    return {"modules": len(results), "samples": len(first.sample_ids),
            "genes": int(sum(len(r.gene_driver_table) for r in results.values())),
            "switches_called": int(sum(r.gene_driver_table["switch_called"].sum() for r in results.values())),
            "output_dir": params["output_dir"]}

"""``isograph explain-module --batch MANIFEST.tsv``: explain many data sets, one batch task each (resumable;
a Celery group when Redis is configured, a local process pool otherwise — see :mod:`isograph.batch`).

The manifest has one row per data set: ``name, artifact_dir, feature_table, feature_meta, output_dir`` and
optional ``module_score_table, annotation_table`` (paths relative to the manifest's folder). The run's
options (``ExplainConfig``) apply to every data set.
"""

from __future__ import annotations

import os
from dataclasses import asdict

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
    from isograph.batch.manifest import read_input_table

    rows = read_input_table(manifest, flag="--batch", required=BATCH_COLUMNS[1:], optional=OPTIONAL_COLUMNS,
                            outputs=("output_dir",))
    return [Task(name, "explain.dataset", {"config": asdict(config), **paths}) for name, paths in rows]


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

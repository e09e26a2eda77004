"""What explain-module writes: each module's tables and manifest entry, and the run's manifest fields
(where and how they are written is :class:`~isograph.dataset.explain_store.ExplainStore`'s job)."""

from __future__ import annotations

import datetime as _dt
import os
from dataclasses import asdict
from pathlib import Path

import numpy as np
import pandas as pd

from isograph import __version__
from isograph.dataset.artifacts import TRANSCRIPT_USAGE, FitArtifacts
from isograph.dataset.explain_store import ExplainStore
from isograph.explain.contracts import ExplainConfig, ExplainResult
from isograph.explain.kernel import PreparedInputs

__all__ = ["manifest_fields", "module_config", "module_tables", "read_manifest", "source_name", "write_outputs"]


def source_name(source: object, default: str) -> str:
    """How the manifest and messages name an input: its resolved path, or ``"<default> (DataFrame)"``.

    Parameters
    ----------
    source : path or DataFrame
    default : str
        What the input is ("feature table", ...), used for in-memory inputs.

    Returns
    -------
    str
    """
    return str(Path(source).resolve()) if isinstance(source, (str, os.PathLike)) else f"{default} (DataFrame)"


def module_tables(result: ExplainResult) -> dict[str, pd.DataFrame]:
    """The tables of one module, by ``TABLE_FILES`` name (the eigengene with each sample's group).

    Parameters
    ----------
    result : ExplainResult

    Returns
    -------
    dict of str to DataFrame
        ``gene_driver_table, transcript_polarity_table, high_vs_low_table, eigengene`` (``sample_id, eigengene,
        group`` with group ``high``, ``low``, ``both`` or ``middle``), and ``vae_drivers``/``ig_attributions``
        where the result has them.
    """
    samples = np.asarray(result.eigengene.index, dtype=object)
    high = np.isin(samples, np.asarray(result.high_samples, dtype=object))
    low = np.isin(samples, np.asarray(result.low_samples, dtype=object))
    split = np.where(high, np.where(low, "both", "high"), np.where(low, "low", "middle"))
    eig = pd.DataFrame({"sample_id": result.eigengene.index, "eigengene": result.eigengene.to_numpy(),
                        "group": split})
    tables = {
        "gene_driver_table": result.gene_driver_table,
        "transcript_polarity_table": result.transcript_polarity_table,
        "high_vs_low_table": result.high_vs_low_table,
        "eigengene": eig,
    }
    if result.vae_drivers is not None:
        tables["vae_drivers"] = result.vae_drivers
    if result.ig_attributions is not None:
        tables["ig_attributions"] = result.ig_attributions
    return tables


def module_config(manifest: dict, module_id: str) -> dict:
    """The options a module was explained with, from its manifest entry (``ExplainConfig`` defaults for any
    option the run did not record, e.g. one written before the option existed).

    Parameters
    ----------
    manifest : dict
        As :func:`read_manifest` returns it.
    module_id : str

    Returns
    -------
    dict
        Every ``ExplainConfig`` field.
    """
    return {**asdict(ExplainConfig()), **manifest.get("modules", {}).get(module_id, {}).get("config", {})}


def read_manifest(output_dir: str | os.PathLike) -> dict:
    """Read ``{output_dir}/module_explanation_manifest.json`` (through :class:`~isograph.dataset.explain_store.ExplainStore`).

    Raises
    ------
    InputError
        Missing or invalid manifest.
    """
    return ExplainStore(output_dir).manifest()


def manifest_fields(results: dict[str, ExplainResult], config: ExplainConfig, fit: FitArtifacts,
                    feature_table: object, feature_meta: object, module_score_table: object,
                    annotation_table: object, prep: PreparedInputs) -> tuple[dict[str, dict], dict]:
    """The manifest's entry for each module and its run-level fields.

    Parameters
    ----------
    results : dict of str to ExplainResult
    config : ExplainConfig
    fit : FitArtifacts
    feature_table, feature_meta, module_score_table, annotation_table : path, DataFrame or None
        The inputs as given to :func:`~isograph.explain.explain_module` (named in the manifest).
    prep : PreparedInputs

    Returns
    -------
    entries : dict
        ``{module_id: {n_genes, n_features, n_transcript_usage, eigengene_source, variance_explained,
        n_samples, n_high, n_low, config}}``.
    run : dict
        ``format, format_version, package, package_version, created, artifact_dir, inputs, config, module_ids,
        n_samples, samples_dropped, optional_features``.
    """
    entries = {mid: {
        "n_genes": int(len(res.gene_driver_table)),
        "n_features": int(len(res.transcript_polarity_table)),
        "n_transcript_usage": int((res.transcript_polarity_table["feature_type"] == TRANSCRIPT_USAGE).sum()),
        "eigengene_source": res.eigengene_source,
        "variance_explained": res.variance_explained,
        "n_samples": len(res.sample_ids),
        "n_high": len(res.high_samples),
        "n_low": len(res.low_samples),
        "config": asdict(config),
    } for mid, res in results.items()}
    run = {
        "format": "isograph-module-explanation",
        "format_version": 1,
        "package": "isograph-explorer",
        "package_version": __version__,
        "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "artifact_dir": str(fit.artifact_dir.resolve()),
        "inputs": {
            "feature_table": source_name(feature_table, "feature table"),
            "feature_meta": source_name(feature_meta, "feature meta"),
            "module_score_table": None if module_score_table is None
            else source_name(module_score_table, "module score table"),
            "annotation_table": None if annotation_table is None
            else source_name(annotation_table, "annotation table"),
        },
        "config": asdict(config),
        "module_ids": list(results),
        "n_samples": len(prep.samples),
        "samples_dropped": {
            "fit_only": len(set(fit.sample_ids) - set(prep.samples)),
        },
        "optional_features": {
            "annotation_table": annotation_table is not None,
            "module_score_table": module_score_table is not None,
            "vae_checkpoint_present": fit.checkpoint_path is not None,
            "vae_attribution": config.vae_attribution,
            "integrated_gradients": config.integrated_gradients,
        },
    }
    return entries, run


def write_outputs(results: dict[str, ExplainResult], out: Path, config: ExplainConfig, fit: FitArtifacts,
                   feature_table: object, feature_meta: object, module_score_table: object,
                   annotation_table: object, prep: PreparedInputs) -> Path:
    """Write every module's tables, then the manifest (merged with the modules of an earlier run).

    Parameters
    ----------
    results : dict of str to ExplainResult
    out : Path
        The output folder.
    config : ExplainConfig
    fit : FitArtifacts
    feature_table, feature_meta, module_score_table, annotation_table : path, DataFrame or None
        The inputs as given to :func:`~isograph.explain.explain_module` (named in the manifest).
    prep : PreparedInputs

    Returns
    -------
    Path
        The manifest.
    """
    entries, run = manifest_fields(results, config, fit, feature_table, feature_meta, module_score_table,
                                   annotation_table, prep)
    store = ExplainStore(out)
    files = store.write({mid: module_tables(res) for mid, res in results.items()}, entries, run)
    for mid, res in results.items():
        res.files = files[mid]
    return store.manifest_path

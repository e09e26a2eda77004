"""Writing explain-module's outputs: per-module parquet tables and the shared manifest (each file atomically)."""

from __future__ import annotations

import datetime as _dt
import json
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict
from pathlib import Path

import numpy as np
import pandas as pd

from isograph import __version__
from isograph.dataset.artifacts import TRANSCRIPT_USAGE, FitArtifacts
from isograph.dataset.commit import staged_commit
from isograph.dataset.io import write_json, write_parquet
from isograph.errors import InputError
from isograph.explain.contracts import MANIFEST_NAME, TABLE_FILES, ExplainConfig, ExplainResult
from isograph.explain.kernel import PreparedInputs, n_workers

__all__ = ["module_config", "read_manifest", "source_name", "write_outputs"]


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


def _write_module(result: ExplainResult, out: Path) -> dict[str, str]:
    mdir = out / result.module_id
    split = np.where(result.eigengene.index.isin(result.high_samples),
                     np.where(result.eigengene.index.isin(result.low_samples), "both", "high"),
                     np.where(result.eigengene.index.isin(result.low_samples), "low", "middle"))
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
    files = {}
    for name, df in tables.items():
        write_parquet(df, mdir / TABLE_FILES[name])
        files[name] = f"{result.module_id}/{TABLE_FILES[name]}"
    return files


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
    """Read ``{output_dir}/module_explanation_manifest.json``.

    Raises
    ------
    InputError
        Missing or invalid manifest.
    """
    path = Path(output_dir) / MANIFEST_NAME
    if not path.exists():
        raise InputError(f"{path} not found; run `isograph explain-module --output-dir {output_dir}` first")
    try:
        manifest = json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise InputError(f"{path}: not valid JSON ({exc.msg} at line {exc.lineno})") from None
    except UnicodeDecodeError:
        raise InputError(f"{path}: not a text file; an explain-module manifest is JSON") from None
    if not isinstance(manifest, dict):
        raise InputError(f"{path}: not an explain-module manifest (a JSON object with 'modules')")
    return manifest


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
    if out.exists() and not out.is_dir():
        raise InputError(f"--output-dir {out} exists and is not a folder")
    # under the folder's lock (one writer at a time: the manifest is read, merged and written back whole), the
    # modules and the manifest replace the old ones as a unit; a damaged manifest stops us before any write
    with staged_commit(out) as stage:
        previous = _previous_modules(out / MANIFEST_NAME)
        return _write_locked(results, out, stage, previous, config, fit, feature_table, feature_meta,
                             module_score_table, annotation_table, prep)


def _previous_modules(manifest_path: Path) -> dict:
    """The module entries of an earlier run's manifest ({} when there is none); a damaged one is an error."""
    if not manifest_path.exists():
        return {}
    try:
        previous = json.loads(manifest_path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InputError(f"{manifest_path}: the manifest of an earlier run is damaged ({type(exc).__name__});"
                         " it lists that run's modules, so nothing was written: repair it, move it away to start"
                         " a new manifest, or choose another --output-dir") from None
    if not isinstance(previous, dict) or not isinstance(previous.get("modules", {}), dict):
        raise InputError(f"{manifest_path}: not an explain-module manifest (no 'modules' object); nothing was written:"
                         " move it away, or choose another --output-dir")
    return previous.get("modules", {})


def _write_locked(results: dict[str, ExplainResult], out: Path, stage: Path, previous: dict, config: ExplainConfig,
                  fit: FitArtifacts, feature_table: object, feature_meta: object, module_score_table: object,
                  annotation_table: object, prep: PreparedInputs) -> Path:
    """Write every module's tables and the merged manifest into ``stage`` (committed by the caller)."""
    modules = {mid: entry for mid, entry in previous.items() if mid not in results}
    with ThreadPoolExecutor(max_workers=n_workers(len(results))) as pool:  # pyarrow releases the GIL
        written = dict(zip(results, pool.map(lambda res: _write_module(res, stage), results.values())))
    for mid, res in results.items():
        res.files = {k: str(out / v) for k, v in written[mid].items()}
        modules[mid] = {
            "files": written[mid],
            "n_genes": int(len(res.gene_driver_table)),
            "n_features": int(len(res.transcript_polarity_table)),
            "n_transcript_usage": int((res.transcript_polarity_table["feature_type"] == TRANSCRIPT_USAGE).sum()),
            "eigengene_source": res.eigengene_source,
            "variance_explained": res.variance_explained,
            "n_samples": len(res.sample_ids),
            "n_high": len(res.high_samples),
            "n_low": len(res.low_samples),
            "config": asdict(config),
        }
    manifest = {
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
        "modules": dict(sorted(modules.items())),
        "optional_features": {
            "annotation_table": annotation_table is not None,
            "module_score_table": module_score_table is not None,
            "vae_checkpoint_present": fit.checkpoint_path is not None,
            "vae_attribution": config.vae_attribution,
            "integrated_gradients": config.integrated_gradients,
        },
    }
    write_json(manifest, stage / MANIFEST_NAME)
    return out / MANIFEST_NAME

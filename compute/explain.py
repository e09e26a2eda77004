"""Explain modules: which genes and transcripts drive each module, and in which direction.

``explain_module`` is the Python API of ``isograph explain-module`` (the manual's
``isograph.explain.explain_module``). For each module it computes the module eigengene, correlates every
module gene's feature-score row and every module feature (transcript usage, exon, event ...) with it,
contrasts high- and low-module samples, and writes the three tables plus a shared manifest.

Sign convention, stated once: a positive ``r`` (or ``delta``/``tstat``) means the feature is *used more in
high-module samples*; a negative one means it is used more in low-module samples.
"""

from __future__ import annotations

import datetime as _dt
import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from compute import __version__
from compute.artifacts import (
    TRANSCRIPT_USAGE,
    FitArtifacts,
    load_annotation_table,
    load_feature_meta,
    load_feature_table,
    load_fit_artifacts,
    load_module_score_table,
    resolve_module_ids,
    shared_samples,
)
from compute.eigengene import EIGENGENE_METHODS, module_eigengene
from compute.errors import InputError, warn
from compute.io import write_json, write_parquet
from compute.stats import bh_qvalues, pearson_rows, welch_ttest_rows

__all__ = [
    "GENE_DRIVER_COLUMNS",
    "HIGH_VS_LOW_COLUMNS",
    "MANIFEST_NAME",
    "TRANSCRIPT_POLARITY_COLUMNS",
    "ExplainConfig",
    "ExplainResult",
    "explain_module",
    "read_manifest",
]

# The manual's columns, in the manual's order; extra columns follow them.
GENE_DRIVER_COLUMNS = ("gene_id", "r", "pvalue", "qvalue", "n_samples", "missing_fraction")
TRANSCRIPT_POLARITY_COLUMNS = (
    "feature_id", "gene_id", "r", "pvalue", "qvalue", "n_samples", "missing_fraction", "switch_strength",
)
HIGH_VS_LOW_COLUMNS = (
    "feature_id", "gene_id", "mean_high", "mean_low", "delta", "se", "tstat", "pvalue", "n_high", "n_low",
    "missing_fraction",
)
MANIFEST_NAME = "module_explanation_manifest.json"
TABLE_FILES = {
    "gene_driver_table": "gene_driver_table.parquet",
    "transcript_polarity_table": "transcript_polarity_table.parquet",
    "high_vs_low_table": "high_vs_low_table.parquet",
    "eigengene": "module_eigengene.parquet",
}
META_PASSTHROUGH = ("feature_type", "transcript_id", "gene_name", "exon_id", "event_id", "source_coordinate")


@dataclass(frozen=True)
class ExplainConfig:
    """Options of :func:`explain_module` (the CLI flags of ``isograph explain-module``).

    Attributes
    ----------
    split_percentile : float, default 50.0
        P of the high-vs-low split: high = samples at or above the (100 - P)th percentile of the
        eigengene, low = at or below the Pth. In (0, 50].
    min_complete_pairs : int, default 3
        Correlations on fewer complete sample pairs are NaN. >= 2.
    eigengene_method : {"pc1", "aligned_mean"}, default "pc1"
        WGCNA PC1 eigengene or IsoGraph's sign-aligned mean (ignored with a module score table).
    confidence_level : float, default 0.95
        Level of the Fisher-z interval (``ci_low``, ``ci_high``).
    """

    split_percentile: float = 50.0
    min_complete_pairs: int = 3
    eigengene_method: str = "pc1"
    confidence_level: float = 0.95

    def validate(self) -> None:
        """Raise :class:`InputError` for an option out of range."""
        if not 0.0 < float(self.split_percentile) <= 50.0:
            raise InputError(f"split_percentile must be in (0, 50]; got {self.split_percentile}")
        if int(self.min_complete_pairs) != self.min_complete_pairs or self.min_complete_pairs < 2:
            raise InputError(f"min_complete_pairs must be an integer >= 2; got {self.min_complete_pairs}")
        if self.eigengene_method not in EIGENGENE_METHODS:
            raise InputError(
                f"eigengene_method must be one of {', '.join(EIGENGENE_METHODS)}; got {self.eigengene_method!r}"
            )
        if not 0.0 < self.confidence_level < 1.0:
            raise InputError(f"confidence_level must be in (0, 1); got {self.confidence_level}")


@dataclass
class ExplainResult:
    """What :func:`explain_module` found for one module.

    Attributes
    ----------
    module_id : str
    gene_driver_table : DataFrame
        One row per module gene, sorted by |r| (NaN last). Columns: ``gene_id`` (str), ``r`` (float,
        Pearson r of the gene's feature-score row with the eigengene; for a gene with a switch and an
        abundance row, the row with the larger |r|), ``pvalue``, ``qvalue`` (BH within the table),
        ``n_samples`` (int, complete pairs), ``missing_fraction`` (1 - n_samples / samples used), then
        ``ci_low, ci_high`` (Fisher-z interval), ``score_feature_type`` (channel of the kept row),
        ``gene_name``, ``n_features``, ``switch_strength``, ``top_positive_feature``,
        ``top_negative_feature`` (the gene's transcript-usage features with the largest and smallest r),
        and any annotation columns.
    transcript_polarity_table : DataFrame
        One row per module feature, sorted by the gene's ``switch_strength`` (descending), then gene,
        then r (descending). Columns: ``feature_id, gene_id, r, pvalue, qvalue, n_samples,
        missing_fraction, switch_strength`` (max r - min r over the gene's transcript-usage features
        with finite r; 0 with fewer than 2), then ``ci_low, ci_high, feature_type, transcript_id,
        gene_name, exon_id, event_id, source_coordinate`` and annotation columns.
    high_vs_low_table : DataFrame
        One row per module feature, sorted by p-value (NaN last). Columns: ``feature_id, gene_id,
        mean_high, mean_low, delta`` (mean_high - mean_low), ``se, tstat`` (Welch; positive = used more
        in high-module samples), ``pvalue, n_high, n_low`` (finite values per group),
        ``missing_fraction`` (over the high and low samples), then ``qvalue, df, feature_type,
        transcript_id, gene_name`` and annotation columns.
    eigengene : Series
        Eigengene over the samples used (index ``sample_id``).
    sample_ids : list of str
        Samples used (sorted intersection of fit, feature table and module score table).
    eigengene_source : str
        ``"pc1"``, ``"aligned_mean"`` or ``"module_score_table"``.
    variance_explained : float or None
        Of the computed eigengene (None for a module score table).
    high_samples, low_samples : list of str
        The two groups of the high-vs-low contrast.
    files : dict
        Paths written (empty without ``output_dir``).
    """

    module_id: str
    gene_driver_table: pd.DataFrame
    transcript_polarity_table: pd.DataFrame
    high_vs_low_table: pd.DataFrame
    eigengene: pd.Series
    sample_ids: list[str]
    eigengene_source: str
    variance_explained: float | None
    high_samples: list[str]
    low_samples: list[str]
    config: ExplainConfig = field(default_factory=ExplainConfig)
    files: dict[str, str] = field(default_factory=dict)


def _order(values: np.ndarray, *, descending: bool) -> np.ndarray:
    """argsort with NaN last."""
    key = np.where(np.isnan(values), np.inf, -values if descending else values)
    return np.argsort(key, kind="stable")


def _switch_strength(polarity: pd.DataFrame) -> pd.Series:
    """Per gene max(r) - min(r) over transcript-usage rows with finite r (0 with fewer than 2)."""
    tu = polarity[(polarity["feature_type"] == TRANSCRIPT_USAGE) & np.isfinite(polarity["r"])]
    grouped = tu.groupby("gene_id")["r"]
    strength = grouped.max() - grouped.min()
    strength[grouped.size() < 2] = 0.0
    return strength


def _gene_table(
    genes: list[str], score_rows: pd.DataFrame, polarity: pd.DataFrame, gene_names: pd.Series
) -> pd.DataFrame:
    """One row per module gene from its best score row, with transcript-level summaries added."""
    best = score_rows.assign(_abs=score_rows["r"].abs())
    best = best.sort_values("_abs", ascending=False, na_position="last", kind="stable")
    best = best.drop_duplicates("gene_id").set_index("gene_id")
    table = pd.DataFrame({"gene_id": genes}).join(best, on="gene_id")
    table["n_samples"] = table["n_samples"].fillna(0).astype(np.int64)
    table["missing_fraction"] = table["missing_fraction"].fillna(1.0)
    table["qvalue"] = bh_qvalues(table["pvalue"].to_numpy())
    tu = polarity[polarity["feature_type"] == TRANSCRIPT_USAGE]
    finite = tu[np.isfinite(tu["r"])]
    top_pos = finite.loc[finite.groupby("gene_id")["r"].idxmax()].set_index("gene_id")["feature_id"]
    top_neg = finite.loc[finite.groupby("gene_id")["r"].idxmin()].set_index("gene_id")["feature_id"]
    strength = polarity.drop_duplicates("gene_id").set_index("gene_id")["switch_strength"]
    table["gene_name"] = table["gene_id"].map(gene_names)
    table["n_features"] = table["gene_id"].map(polarity.groupby("gene_id").size()).fillna(0).astype(np.int64)
    table["switch_strength"] = table["gene_id"].map(strength).fillna(0.0)
    table["top_positive_feature"] = table["gene_id"].map(top_pos)
    table["top_negative_feature"] = table["gene_id"].map(top_neg)
    columns = list(GENE_DRIVER_COLUMNS) + [
        "ci_low", "ci_high", "score_feature_type", "gene_name", "n_features", "switch_strength",
        "top_positive_feature", "top_negative_feature",
    ]
    table = table[columns]
    return table.iloc[_order(table["r"].abs().to_numpy(), descending=True)].reset_index(drop=True)


def _merge_annotations(table: pd.DataFrame, annotation: pd.DataFrame, key: str) -> tuple[pd.DataFrame, int]:
    """Left-join annotation columns on ``key``; returns (table, rows matched).

    A ``transcript_id`` annotation joins on the table's ``transcript_id`` (its ``feature_id`` where that
    is empty). A column the table already has is added as ``annotation_<name>``.
    """
    if key == "transcript_id":
        join = table["transcript_id"].astype("string").fillna(table["feature_id"].astype("string"))
    else:
        join = table[key].astype("string")
    extra = annotation.set_index(key)
    extra = extra.rename(columns={c: f"annotation_{c}" for c in extra.columns if c in table.columns})
    merged = extra.reindex(join.to_numpy())
    merged.index = table.index
    return pd.concat([table, merged], axis=1), int(join.isin(extra.index).sum())


class _Prepared:
    """Inputs aligned once for all modules: matrices over the samples used, module row indices."""

    def __init__(self, fit: FitArtifacts, table: pd.DataFrame, meta: pd.DataFrame,
                 score_table: pd.DataFrame | None) -> None:
        self.fit = fit
        table_samples = list(table.index)
        if score_table is not None:
            table_samples = sorted(set(table_samples) & set(score_table.index))
        self.samples = shared_samples(fit.sample_ids, table_samples)
        fit_pos = pd.Index(fit.sample_ids).get_indexer(self.samples)
        self.fit_scores_all = fit.scores
        self.fit_scores = fit.scores[:, fit_pos]
        self.fit_sample_pos = fit_pos

        in_table = meta["feature_id"].isin(table.columns)
        n_unmatched = int((~table.columns.isin(meta["feature_id"])).sum())
        if n_unmatched:
            example = table.columns[~table.columns.isin(meta["feature_id"])][0]
            warn(f"{n_unmatched} feature-table column(s) have no row in feature meta and are ignored"
                 f" (e.g. {example!r})")
        self.meta = meta[in_table].reset_index(drop=True)
        values = table.to_numpy(dtype=np.float64, copy=False)
        row_pos = table.index.get_indexer(self.samples)
        if not np.array_equal(row_pos, np.arange(len(table))):
            values = values[row_pos]
        self.values = values  # samples x table columns
        self.meta_col = table.columns.get_indexer(self.meta["feature_id"])

        gene_module = fit.modules.set_index("gene_id")["module_id"]
        self.score_module = fit.score_meta["gene_id"].map(gene_module).to_numpy()
        self.feature_module = self.meta["gene_id"].map(gene_module).to_numpy()
        names = meta.dropna(subset=["gene_name"]).drop_duplicates("gene_id")
        self.gene_names = names.set_index("gene_id")["gene_name"]
        self.score_table = score_table.loc[self.samples] if score_table is not None else None

    def feature_matrix(self, rows: np.ndarray) -> np.ndarray:
        """(n_features, n_samples) C-contiguous matrix of the meta rows given."""
        return np.ascontiguousarray(self.values[:, self.meta_col[rows]].T)


def _eigengene(prep: _Prepared, module_id: str, score_rows: np.ndarray, config: ExplainConfig,
               score_source: str) -> tuple[np.ndarray, str, float | None]:
    if prep.score_table is not None:
        if module_id not in prep.score_table.columns:
            raise InputError(
                f"{score_source}: no column for module {module_id}; it has"
                f" {', '.join(map(str, prep.score_table.columns[:10]))}"
            )
        return prep.score_table[module_id].to_numpy(dtype=np.float64), "module_score_table", None
    if score_rows.size == 0:
        raise InputError(
            f"module {module_id}: none of its genes has a row in {prep.fit.artifact_dir / 'feature_scores.parquet'}"
        )
    try:
        res = module_eigengene(prep.fit_scores_all[score_rows], method=config.eigengene_method)
    except ValueError:
        raise InputError(
            f"module {module_id}: no feature-score row has two finite values with non-zero variance in"
            f" {prep.fit.artifact_dir / 'feature_scores.parquet'}; the eigengene is undefined"
        ) from None
    return res.values[prep.fit_sample_pos], config.eigengene_method, res.variance_explained


def _explain_one(prep: _Prepared, module_id: str, config: ExplainConfig, meta_name: str,
                 score_source: str) -> ExplainResult:
    genes = prep.fit.module_genes(module_id)
    score_rows = np.flatnonzero(prep.score_module == module_id)
    feat_rows = np.flatnonzero(prep.feature_module == module_id)
    feat_meta = prep.meta.iloc[feat_rows].reset_index(drop=True)
    n_usage = int((feat_meta["feature_type"] == TRANSCRIPT_USAGE).sum())
    if n_usage == 0:
        raise InputError(
            f"module {module_id}: none of its {len(genes)} genes has a transcript_usage feature in {meta_name}"
            f" that is also a feature-table column (e.g. gene {genes[0]!r}); check that feature meta gene_id"
            " values match modules.parquet and feature_type is 'transcript_usage'"
        )
    eig, source, var_expl = _eigengene(prep, module_id, score_rows, config, score_source)
    n_used = len(prep.samples)
    pearson = dict(min_complete_pairs=config.min_complete_pairs, confidence_level=config.confidence_level)

    # gene level: feature-score rows of the module's genes
    sres = pearson_rows(prep.fit_scores[score_rows], eig, **pearson)
    score_tab = sres.to_frame()
    score_tab.insert(0, "gene_id", prep.fit.score_meta["gene_id"].to_numpy()[score_rows])
    score_tab["missing_fraction"] = 1.0 - score_tab["n_samples"] / n_used
    score_tab["score_feature_type"] = prep.fit.score_meta["feature_type"].to_numpy()[score_rows]

    # feature level
    x = prep.feature_matrix(feat_rows)
    fres = pearson_rows(x, eig, **pearson)
    polarity = fres.to_frame()
    polarity.insert(0, "feature_id", feat_meta["feature_id"].to_numpy())
    polarity.insert(1, "gene_id", feat_meta["gene_id"].to_numpy())
    polarity["qvalue"] = bh_qvalues(fres.pvalue)
    polarity["missing_fraction"] = 1.0 - polarity["n_samples"] / n_used
    for col in META_PASSTHROUGH:
        polarity[col] = feat_meta[col].to_numpy()
    strength = _switch_strength(polarity)
    polarity["switch_strength"] = polarity["gene_id"].map(strength).fillna(0.0).to_numpy()
    polarity = polarity[list(TRANSCRIPT_POLARITY_COLUMNS) + ["ci_low", "ci_high", *META_PASSTHROUGH]]
    order = np.lexsort((-polarity["r"].fillna(-np.inf).to_numpy(), polarity["gene_id"].to_numpy(),
                        -polarity["switch_strength"].to_numpy()))
    polarity = polarity.iloc[order].reset_index(drop=True)

    gene_table = _gene_table(genes, score_tab, polarity, prep.gene_names)

    # high vs low
    p = float(config.split_percentile)
    finite_eig = eig[np.isfinite(eig)]
    hi_thr, lo_thr = np.percentile(finite_eig, 100.0 - p), np.percentile(finite_eig, p)
    with np.errstate(invalid="ignore"):
        high, low = eig >= hi_thr, eig <= lo_thr
    wres = welch_ttest_rows(x[:, high], x[:, low])
    split = x[:, high | low]
    hvl = pd.DataFrame({
        "feature_id": feat_meta["feature_id"].to_numpy(),
        "gene_id": feat_meta["gene_id"].to_numpy(),
        "mean_high": wres.mean_a, "mean_low": wres.mean_b, "delta": wres.delta, "se": wres.se,
        "tstat": wres.tstat, "pvalue": wres.pvalue,
        "n_high": wres.n_a.astype(np.int64), "n_low": wres.n_b.astype(np.int64),
        "missing_fraction": 1.0 - np.isfinite(split).sum(axis=1) / max(split.shape[1], 1),
        "qvalue": bh_qvalues(wres.pvalue), "df": wres.df,
    })
    for col in ("feature_type", "transcript_id", "gene_name"):
        hvl[col] = feat_meta[col].to_numpy()
    hvl = hvl.iloc[_order(hvl["pvalue"].to_numpy(), descending=False)].reset_index(drop=True)

    samples = np.asarray(prep.samples)
    return ExplainResult(
        module_id=module_id,
        gene_driver_table=gene_table,
        transcript_polarity_table=polarity,
        high_vs_low_table=hvl,
        eigengene=pd.Series(eig, index=pd.Index(prep.samples, name="sample_id"), name="eigengene"),
        sample_ids=list(prep.samples),
        eigengene_source=source,
        variance_explained=var_expl,
        high_samples=samples[high].tolist(),
        low_samples=samples[low].tolist(),
        config=config,
    )


def _source_name(source: object, default: str) -> str:
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
    files = {}
    for name, df in tables.items():
        write_parquet(df, mdir / TABLE_FILES[name])
        files[name] = f"{result.module_id}/{TABLE_FILES[name]}"
    return files


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
        return json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise InputError(f"{path}: not valid JSON ({exc.msg} at line {exc.lineno})") from None


def explain_module(
    artifact_dir: str | os.PathLike | FitArtifacts,
    feature_table: pd.DataFrame | str | os.PathLike,
    feature_meta: pd.DataFrame | str | os.PathLike,
    module_ids: list[str] | None = None,
    config: ExplainConfig | None = None,
    output_dir: str | os.PathLike | None = None,
    module_score_table: pd.DataFrame | str | os.PathLike | None = None,
    annotation_table: pd.DataFrame | str | os.PathLike | None = None,
) -> dict[str, ExplainResult]:
    """Explain the modules of a fit by their gene and transcript drivers.

    Parameters
    ----------
    artifact_dir : path or FitArtifacts
        IsoGraph fit directory (``modules.parquet``, ``feature_scores.parquet``).
    feature_table : DataFrame or path
        Samples x features (index or ``sample_id`` column); parquet, TSV or CSV.
    feature_meta : DataFrame or path
        ``feature_id, gene_id, feature_type`` (+ optional ``gene_name, transcript_id, exon_id,
        event_id, source_coordinate``).
    module_ids : list of str, optional
        Modules to explain (default: all).
    config : ExplainConfig, optional
        Options (default ``ExplainConfig()``).
    output_dir : path, optional
        When given, writes ``{output_dir}/{module_id}/{gene_driver_table, transcript_polarity_table,
        high_vs_low_table, module_eigengene}.parquet`` and ``{output_dir}/module_explanation_manifest.json``
        (each file to a temporary name, then renamed; the manifest last).
    module_score_table : DataFrame or path, optional
        Samples x modules precomputed eigengenes; overrides the computed eigengene.
    annotation_table : DataFrame or path, optional
        Labels keyed by ``feature_id``, ``transcript_id`` (joined to the feature tables) or ``gene_id``
        (joined to all three tables), e.g. from ``isograph annotate-structure``.

    Returns
    -------
    dict of str to ExplainResult
        One result per module, in the order asked for. See :class:`ExplainResult` for every column.

    Raises
    ------
    InputError
        Any violated data contract (missing file/column, duplicate IDs, non-numeric values, unknown
        module, < 10 shared samples, a module without transcript_usage features, bad options).

    Warns
    -----
    InputWarning
        Dropped samples, feature-table columns without metadata, missing optional meta columns.

    Examples
    --------
    >>> from compute.simulate import SimulationConfig, simulate
    >>> from compute.explain import explain_module
    >>> sim = simulate(SimulationConfig(n_samples=40, n_modules=2, seed=3))
    >>> import tempfile, pathlib, warnings
    >>> from compute.simulate import write_simulation
    >>> d = pathlib.Path(tempfile.mkdtemp()); _ = write_simulation(sim, d)
    >>> res = explain_module(d / "oracle_fit", sim.feature_table, sim.feature_meta, module_ids=["M001"])
    >>> list(res), list(res["M001"].gene_driver_table.columns[:6])
    (['M001'], ['gene_id', 'r', 'pvalue', 'qvalue', 'n_samples', 'missing_fraction'])
    """
    config = config or ExplainConfig()
    config.validate()
    fit = artifact_dir if isinstance(artifact_dir, FitArtifacts) else load_fit_artifacts(artifact_dir)
    table = load_feature_table(feature_table)
    meta = load_feature_meta(feature_meta)
    ids = resolve_module_ids(fit, module_ids)
    score_table = load_module_score_table(module_score_table) if module_score_table is not None else None
    annotation = load_annotation_table(annotation_table) if annotation_table is not None else None

    prep = _Prepared(fit, table, meta, score_table)
    meta_name = _source_name(feature_meta, "feature meta")
    score_name = _source_name(module_score_table, "module score table")
    results = {mid: _explain_one(prep, mid, config, meta_name, score_name) for mid in ids}

    if annotation is not None:
        ann, key = annotation
        targets = ["transcript_polarity_table", "high_vs_low_table"]
        targets += ["gene_driver_table"] if key == "gene_id" else []
        matched = 0
        for res in results.values():
            for name in targets:
                merged, n = _merge_annotations(getattr(res, name), ann, key)
                setattr(res, name, merged)
                matched += n
        if not matched:
            warn(f"{_source_name(annotation_table, 'annotation table')}: none of its {key} values match a"
                 " feature of the explained modules; annotation columns are empty")

    if output_dir is not None:
        _write_outputs(results, Path(output_dir), config, fit, feature_table, feature_meta,
                       module_score_table, annotation_table, prep)
    return results


def _write_outputs(results: dict[str, ExplainResult], out: Path, config: ExplainConfig, fit: FitArtifacts,
                   feature_table: object, feature_meta: object, module_score_table: object,
                   annotation_table: object, prep: _Prepared) -> Path:
    if out.exists() and not out.is_dir():
        raise InputError(f"--output-dir {out} exists and is not a folder")
    previous: dict = {}
    manifest_path = out / MANIFEST_NAME
    if manifest_path.exists():
        try:
            previous = json.loads(manifest_path.read_text()).get("modules", {})
        except (json.JSONDecodeError, AttributeError):
            previous = {}
    modules = {mid: entry for mid, entry in previous.items() if mid not in results}
    for mid, res in results.items():
        res.files = {k: str(out / v) for k, v in _write_module(res, out).items()}
        modules[mid] = {
            "files": {k: f"{mid}/{TABLE_FILES[k]}" for k in TABLE_FILES},
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
            "feature_table": _source_name(feature_table, "feature table"),
            "feature_meta": _source_name(feature_meta, "feature meta"),
            "module_score_table": None if module_score_table is None
            else _source_name(module_score_table, "module score table"),
            "annotation_table": None if annotation_table is None
            else _source_name(annotation_table, "annotation table"),
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
        },
    }
    return write_json(manifest, manifest_path)

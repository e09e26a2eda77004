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
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

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
from compute.stats import bh_qvalues, pearson_rows, welch_ttest_groups

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
    "vae_drivers": "vae_drivers.parquet",
    "ig_attributions": "ig_attributions.parquet",
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
    vae_attribution : bool, default False
        Decoder finite-difference drivers from the fit's ``vae_checkpoint.pt`` (``vae_drivers.parquet``;
        see :mod:`compute.attribution`).
    vae_fdr_threshold : float, default 0.05
        High-confidence drivers need ``qvalue`` at most this.
    vae_percentile_threshold : float, default 90.0
        ... and |decoded_delta| at or above this percentile among the module's genes.
    vae_eps : float, default 1.0
        Half-step of the central difference, in latent units.
    integrated_gradients : bool, default False
        Captum Integrated Gradients through the encoder (``ig_attributions.parquet``).
    ig_n_steps : int, default 100
    ig_baseline : {"zero", "mean"}, default "zero"
    """

    split_percentile: float = 50.0
    min_complete_pairs: int = 3
    eigengene_method: str = "pc1"
    confidence_level: float = 0.95
    vae_attribution: bool = False
    vae_fdr_threshold: float = 0.05
    vae_percentile_threshold: float = 90.0
    vae_eps: float = 1.0
    integrated_gradients: bool = False
    ig_n_steps: int = 100
    ig_baseline: str = "zero"

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
        if not 0.0 <= self.vae_fdr_threshold <= 1.0:
            raise InputError(f"vae_fdr_threshold must be in [0, 1]; got {self.vae_fdr_threshold}")
        if not 0.0 <= self.vae_percentile_threshold <= 100.0:
            raise InputError(f"vae_percentile_threshold must be in [0, 100]; got {self.vae_percentile_threshold}")
        if not self.vae_eps > 0:
            raise InputError(f"vae_eps must be > 0; got {self.vae_eps}")
        if self.ig_baseline not in ("zero", "mean"):
            raise InputError(f"ig_baseline must be zero or mean; got {self.ig_baseline!r}")
        if self.ig_n_steps < 2:
            raise InputError(f"ig_n_steps must be >= 2; got {self.ig_n_steps}")


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
        ``switch_description`` (that switch in words), and any annotation columns.
    transcript_polarity_table : DataFrame
        One row per module feature, sorted by the gene's ``switch_strength`` (descending), then gene,
        then r (descending). Columns: ``feature_id, gene_id, r, pvalue, qvalue, n_samples,
        missing_fraction, switch_strength`` (max r - min r over the gene's transcript-usage features
        with finite r; 0 with fewer than 2), then ``ci_low, ci_high, direction`` (the sign of r in
        words: "used more in high-module samples" / "used more in low-module samples"), ``feature_type,
        transcript_id, gene_name, exon_id, event_id, source_coordinate`` and annotation columns.
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
    vae_drivers : DataFrame or None
        With ``vae_attribution``: see :func:`compute.attribution.vae_drivers`.
    ig_attributions : DataFrame or None
        With ``integrated_gradients``: see :func:`compute.attribution.integrated_gradients`.
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
    vae_drivers: pd.DataFrame | None = None
    ig_attributions: pd.DataFrame | None = None
    files: dict[str, str] = field(default_factory=dict)


def _order(values: np.ndarray, *, descending: bool) -> np.ndarray:
    """argsort with NaN last."""
    key = np.where(np.isnan(values), np.inf, -values if descending else values)
    return np.argsort(key, kind="stable")


def _gene_extremes(codes: np.ndarray, r: np.ndarray, usable: np.ndarray, n_genes: int) -> dict[str, np.ndarray]:
    """Per gene code: rows of the largest and smallest finite r among ``usable`` rows, and switch strength.

    Returns arrays of length ``n_genes``: ``max_row``/``min_row`` (-1 where the gene has no finite usable
    row) and ``strength`` = r[max_row] - r[min_row] when the gene has >= 2 such rows, else 0.
    """
    rows = np.flatnonzero(usable & np.isfinite(r))
    rows = rows[np.lexsort((r[rows], codes[rows]))]
    c = codes[rows]
    starts = np.flatnonzero(np.r_[True, c[1:] != c[:-1]]) if rows.size else np.array([], dtype=int)
    ends = np.r_[starts[1:], rows.size] - 1 if rows.size else np.array([], dtype=int)
    max_row = np.full(n_genes, -1)
    min_row = np.full(n_genes, -1)
    strength = np.zeros(n_genes)
    genes = c[starts]
    max_row[genes], min_row[genes] = rows[ends], rows[starts]
    multi = ends > starts
    strength[genes[multi]] = r[rows[ends[multi]]] - r[rows[starts[multi]]]
    return {"max_row": max_row, "min_row": min_row, "strength": strength}


DIRECTION_WORDS = ("used more in high-module samples", "used more in low-module samples")


def _direction_words(r: np.ndarray) -> pd.Categorical:
    """The sign of r in words (empty where r is NaN or 0)."""
    codes = np.where(r > 0, 0, np.where(r < 0, 1, -1))
    return pd.Categorical.from_codes(codes, categories=list(DIRECTION_WORDS))


def _switch_sentences(top_pos: np.ndarray, top_neg: np.ndarray) -> np.ndarray:
    """'A used more in high-module samples, B in low-module samples' per gene (None without a switch)."""
    out = np.full(top_pos.shape, None, dtype=object)
    for i, (pos, neg) in enumerate(zip(top_pos, top_neg)):
        if pos is not None and neg is not None and pos != neg:
            out[i] = f"{pos} used more in high-module samples, {neg} in low-module samples"
    return out


def _pick(values: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """values[rows] with None where rows == -1 (object output)."""
    out = np.full(rows.shape, None, dtype=object)
    ok = rows >= 0
    out[ok] = values[rows[ok]]
    return out


def _gene_table(gene_index: pd.Index, score_codes: np.ndarray, score_stats: pd.DataFrame,
                score_types: np.ndarray, feature_codes: np.ndarray, feature_ids: np.ndarray,
                extremes: dict[str, np.ndarray], gene_names: pd.Series, n_used: int) -> pd.DataFrame:
    """One row per module gene from its best feature-score row (largest |r|), sorted by |r|."""
    n_genes = len(gene_index)
    abs_r = np.abs(score_stats["r"].to_numpy())
    order = np.lexsort((np.where(np.isnan(abs_r), -1.0, -abs_r), score_codes))
    first = np.flatnonzero(np.r_[True, score_codes[order][1:] != score_codes[order][:-1]]) if order.size else order
    best = np.full(n_genes, -1)
    best[score_codes[order[first]]] = order[first]
    has = best >= 0
    table = pd.DataFrame({"gene_id": np.asarray(gene_index, dtype=object)})
    for col in ("r", "pvalue", "ci_low", "ci_high"):
        values = np.full(n_genes, np.nan)
        values[has] = score_stats[col].to_numpy()[best[has]]
        table[col] = values
    n_samples = np.zeros(n_genes, dtype=np.int64)
    n_samples[has] = score_stats["n_samples"].to_numpy()[best[has]]
    table["n_samples"] = n_samples
    table["missing_fraction"] = 1.0 - n_samples / n_used
    table["qvalue"] = bh_qvalues(table["pvalue"].to_numpy())
    table["score_feature_type"] = _pick(score_types, best)
    table["gene_name"] = gene_names.reindex(gene_index).to_numpy(dtype=object)
    table["n_features"] = np.bincount(feature_codes, minlength=n_genes).astype(np.int64)
    table["switch_strength"] = extremes["strength"]
    table["top_positive_feature"] = _pick(feature_ids, extremes["max_row"])
    table["top_negative_feature"] = _pick(feature_ids, extremes["min_row"])
    table["switch_description"] = _switch_sentences(table["top_positive_feature"].to_numpy(),
                                                    table["top_negative_feature"].to_numpy())
    columns = list(GENE_DRIVER_COLUMNS) + [
        "ci_low", "ci_high", "score_feature_type", "gene_name", "n_features", "switch_strength",
        "top_positive_feature", "top_negative_feature", "switch_description",
    ]
    table = table[columns]
    return table.iloc[_order(np.abs(table["r"].to_numpy()), descending=True)].reset_index(drop=True)


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
        self.samples = shared_samples(fit.sample_ids, table_samples, table_name="feature table"
                                      + (" and module score table" if score_table is not None else ""))
        fit_pos = pd.Index(fit.sample_ids).get_indexer(self.samples)
        self.fit_scores_all = fit.scores
        identity = np.array_equal(fit_pos, np.arange(len(fit.sample_ids)))
        self.fit_scores = fit.scores if identity else fit.scores[:, fit_pos]
        self.fit_sample_pos = fit_pos

        columns = pd.Index(np.asarray(table.columns, dtype=object))
        col_of_meta = columns.get_indexer(np.asarray(meta["feature_id"], dtype=object))
        in_table = col_of_meta >= 0
        n_unmatched = len(columns) - int(in_table.sum())
        if n_unmatched:
            matched = np.zeros(len(columns), dtype=bool)
            matched[col_of_meta[in_table]] = True
            warn(f"{n_unmatched} feature-table column(s) have no row in feature meta and are ignored"
                 f" (e.g. {columns[~matched][0]!r})")
        self.meta = meta[in_table].reset_index(drop=True)
        self.meta_col = col_of_meta[in_table]
        values = table.to_numpy(dtype=np.float64, copy=False)
        row_pos = table.index.get_indexer(self.samples)
        if not np.array_equal(row_pos, np.arange(len(table))):
            values = values[row_pos]
        self.values = values  # samples x table columns

        module_genes = pd.Index(np.asarray(fit.modules["gene_id"], dtype=object))
        module_of = np.append(np.asarray(fit.modules["module_id"], dtype=object), None)
        self.score_module = module_of[module_genes.get_indexer(np.asarray(fit.score_meta["gene_id"], dtype=object))]
        self.feature_module = module_of[module_genes.get_indexer(np.asarray(self.meta["gene_id"], dtype=object))]
        names = meta.dropna(subset=["gene_name"]).drop_duplicates("gene_id")
        self.gene_names = names.set_index("gene_id")["gene_name"]
        self.score_table = score_table.loc[self.samples] if score_table is not None else None

    def feature_matrix(self, rows: np.ndarray) -> np.ndarray:
        """(n_features, n_samples) C-contiguous matrix of the meta rows given."""
        return np.ascontiguousarray(self.values[:, self.meta_col[rows]].T)


def _eigengene(prep: _Prepared, module_id: str, score_rows: np.ndarray,
               config: ExplainConfig) -> tuple[np.ndarray, str, float | None]:
    if prep.score_table is not None:
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


def _explain_one(prep: _Prepared, module_id: str, config: ExplainConfig, meta_name: str) -> ExplainResult:
    genes = prep.fit.module_genes(module_id)
    score_rows = np.flatnonzero(prep.score_module == module_id)
    feat_rows = np.flatnonzero(prep.feature_module == module_id)
    feat_meta = prep.meta.iloc[feat_rows].reset_index(drop=True)
    usage = feat_meta["feature_type"].to_numpy(dtype=object) == TRANSCRIPT_USAGE
    if not usage.any():
        raise InputError(
            f"module {module_id}: none of its {len(genes)} genes has a transcript_usage feature in {meta_name}"
            f" that is also a feature-table column (e.g. gene {genes[0]!r}); check that feature meta gene_id"
            " values match modules.parquet and feature_type is 'transcript_usage'"
        )
    eig, source, var_expl = _eigengene(prep, module_id, score_rows, config)
    n_used = len(prep.samples)
    pearson = dict(min_complete_pairs=config.min_complete_pairs, confidence_level=config.confidence_level)

    # integer gene codes (alphabetical) for every per-gene reduction
    gene_index = pd.Index(np.sort(np.asarray(genes, dtype=object)))
    feature_ids = feat_meta["feature_id"].to_numpy(dtype=object)
    feature_genes = feat_meta["gene_id"].to_numpy(dtype=object)
    fcodes = gene_index.get_indexer(feature_genes)
    scodes = gene_index.get_indexer(prep.fit.score_meta["gene_id"].to_numpy(dtype=object)[score_rows])

    # feature level: correlation with the eigengene
    x = prep.feature_matrix(feat_rows)
    fres = pearson_rows(x, eig, **pearson)
    extremes = _gene_extremes(fcodes, fres.r, usage, len(gene_index))
    strength = extremes["strength"][fcodes]
    polarity = pd.DataFrame({
        "feature_id": feat_meta["feature_id"], "gene_id": feat_meta["gene_id"], "r": fres.r, "pvalue": fres.pvalue,
        "qvalue": bh_qvalues(fres.pvalue), "n_samples": fres.n_complete.astype(np.int64),
        "missing_fraction": 1.0 - fres.n_complete / n_used, "switch_strength": strength,
        "ci_low": fres.ci_low, "ci_high": fres.ci_high, "direction": _direction_words(fres.r),
    })
    polarity = pd.concat([polarity, feat_meta[list(META_PASSTHROUGH)]], axis=1)
    order = np.lexsort((-np.nan_to_num(fres.r, nan=-np.inf), fcodes, -strength))
    polarity = polarity.take(order).reset_index(drop=True)

    # gene level: feature-score rows of the module's genes
    sres = pearson_rows(prep.fit_scores[score_rows], eig, **pearson)
    gene_table = _gene_table(gene_index, scodes, sres.to_frame(),
                             prep.fit.score_meta["feature_type"].to_numpy(dtype=object)[score_rows],
                             fcodes, feature_ids, extremes, prep.gene_names, n_used)

    # high vs low
    p = float(config.split_percentile)
    finite_eig = eig[np.isfinite(eig)]
    hi_thr, lo_thr = np.percentile(finite_eig, 100.0 - p), np.percentile(finite_eig, p)
    with np.errstate(invalid="ignore"):
        high, low = eig >= hi_thr, eig <= lo_thr
    wres = welch_ttest_groups(x, high, low)
    both = high & low  # samples at the threshold itself belong to both groups (P = 50, odd n)
    n_split_finite = wres.n_a + wres.n_b - (np.isfinite(x[:, both]).sum(axis=1) if both.any() else 0)
    hvl = pd.DataFrame({
        "feature_id": feat_meta["feature_id"], "gene_id": feat_meta["gene_id"],
        "mean_high": wres.mean_a, "mean_low": wres.mean_b, "delta": wres.delta, "se": wres.se,
        "tstat": wres.tstat, "pvalue": wres.pvalue,
        "n_high": wres.n_a.astype(np.int64), "n_low": wres.n_b.astype(np.int64),
        "missing_fraction": 1.0 - n_split_finite / max(int((high | low).sum()), 1),
        "qvalue": bh_qvalues(wres.pvalue), "df": wres.df,
    })
    hvl = pd.concat([hvl, feat_meta[["feature_type", "transcript_id", "gene_name"]]], axis=1)
    hvl = hvl.take(_order(wres.pvalue, descending=False)).reset_index(drop=True)

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


def _n_workers(n_tasks: int) -> int:
    """Threads for per-module work: the CPUs this process may use (at most 4), never more than tasks."""
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cpus = os.cpu_count() or 1
    return max(1, min(cpus, 4, n_tasks))


def _attribute(fit: FitArtifacts, results: dict[str, ExplainResult], config: ExplainConfig) -> None:
    """Add decoder-attribution and/or Integrated-Gradients tables to every result (torch loaded here)."""
    from compute.attribution import choose_latent, integrated_gradients, prepare_attribution, vae_drivers

    inputs = prepare_attribution(fit)
    for mid, res in results.items():
        genes = fit.module_genes(mid)
        if config.vae_attribution:
            res.vae_drivers = vae_drivers(inputs, genes, res.gene_driver_table, res.eigengene, eps=config.vae_eps,
                                          fdr_threshold=config.vae_fdr_threshold,
                                          percentile_threshold=config.vae_percentile_threshold)
        if config.integrated_gradients:
            pos = pd.Index(inputs.sample_ids).get_indexer(res.eigengene.index)
            k, _ = choose_latent(inputs.mu[pos], res.eigengene.to_numpy())
            table, _ = integrated_gradients(inputs, k, baseline=config.ig_baseline, n_steps=config.ig_n_steps,
                                            sample_ids=list(res.eigengene.index))
            table.insert(3, "in_module", table["gene_id"].isin(genes).to_numpy())
            res.ig_attributions = table


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
    if result.vae_drivers is not None:
        tables["vae_drivers"] = result.vae_drivers
    if result.ig_attributions is not None:
        tables["ig_attributions"] = result.ig_attributions
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
    >>> import tempfile
    >>> from compute.simulate import SimulationConfig, simulate, write_simulation
    >>> from compute.explain import explain_module
    >>> sim = simulate(SimulationConfig(n_samples=40, n_modules=2, seed=3))
    >>> with tempfile.TemporaryDirectory() as d:
    ...     _ = write_simulation(sim, d)
    ...     res = explain_module(f"{d}/oracle_fit", sim.feature_table, sim.feature_meta, module_ids=["M001"])
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

    if score_table is not None:
        missing = [m for m in ids if m not in score_table.columns]
        if missing:
            raise InputError(
                f"{_source_name(module_score_table, 'module score table')}: no column for module(s)"
                f" {', '.join(missing)}; it has {', '.join(map(str, score_table.columns[:10]))}"
            )

    prep = _Prepared(fit, table, meta, score_table)
    meta_name = _source_name(feature_meta, "feature meta")
    workers = _n_workers(len(ids))
    # modules run on `workers` threads (numpy releases the GIL); BLAS is kept to one thread per
    # worker so that the threads do not oversubscribe the cores
    with threadpool_limits(limits=1 if workers > 1 else None, user_api="blas"), \
            ThreadPoolExecutor(max_workers=workers) as pool:
        futures = [pool.submit(_explain_one, prep, mid, config, meta_name) for mid in ids]
        results = {mid: future.result() for mid, future in zip(ids, futures)}

    if config.vae_attribution or config.integrated_gradients:
        _attribute(fit, results, config)

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
    with ThreadPoolExecutor(max_workers=_n_workers(len(results))) as pool:  # pyarrow releases the GIL
        written = dict(zip(results, pool.map(lambda res: _write_module(res, out), results.values())))
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
            "vae_attribution": config.vae_attribution,
            "integrated_gradients": config.integrated_gradients,
        },
    }
    return write_json(manifest, manifest_path)

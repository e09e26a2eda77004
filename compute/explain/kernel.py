"""The statistics of one module: align the inputs once, then per module the eigengene, the feature and gene
correlations with it, switch strengths and the high- vs low-module contrast (vectorised over features).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import fields

import numpy as np
import pandas as pd

from isograph.dataset.artifacts import TRANSCRIPT_USAGE, FitArtifacts, shared_samples
from isograph.dataset.matrix import FeatureMatrix
from isograph.errors import InputError, warn
from isograph.explain.contracts import (
    DIRECTION_WORDS,
    GENE_DRIVER_COLUMNS,
    GENE_DRIVER_EXTRA_COLUMNS,
    META_PASSTHROUGH,
    ExplainConfig,
    ExplainResult,
)
from isograph.explain.eigengene import module_eigengene
from isograph.explain.stats import (
    PearsonRowsResult,
    WelchRowsResult,
    bh_qvalues,
    pearson_and_welch_rows,
    pearson_rows,
)
from isograph.explain.switch_calls import call_switches, channel_rows, channel_table, driver_kinds, pick_rows

__all__ = ["PreparedInputs", "explain_one", "merge_annotations", "n_workers"]


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


def _direction_words(r: np.ndarray) -> pd.Categorical:
    """The sign of r in words (empty where r is NaN or 0)."""
    codes = np.where(r > 0, 0, np.where(r < 0, 1, -1))
    return pd.Categorical.from_codes(codes, categories=list(DIRECTION_WORDS))


def _switch_sentences(up: np.ndarray, down: np.ndarray) -> np.ndarray:
    """'A used more in high-module samples, B in low-module samples' per called switch (else None)."""
    out = np.full(up.shape, None, dtype=object)
    for i, (a, b) in enumerate(zip(up, down)):
        if a is not None and b is not None:
            out[i] = f"{a} used more in high-module samples, {b} in low-module samples"
    return out


def _gene_table(gene_index: pd.Index, score_codes: np.ndarray, score_stats: dict[str, np.ndarray],
                score_types: np.ndarray, feature_codes: np.ndarray, feature_ids: np.ndarray,
                extremes: dict[str, np.ndarray], gene_names: np.ndarray, n_used: int,
                features: dict[str, np.ndarray], config: ExplainConfig) -> pd.DataFrame:
    """One row per module gene: both channels, the driver channel's statistics, the switch call; by |r|.

    ``score_stats`` holds ``r, pvalue, ci_low, ci_high, n_samples`` per feature-score row; ``features``
    holds, per module feature (aligned with ``feature_codes``), ``r, qvalue, delta_usage`` and ``usage``
    (True for transcript usage); ``gene_names`` is aligned with ``gene_index`` (None where unknown).
    """
    n_genes = len(gene_index)
    abs_r = np.abs(score_stats["r"])
    best = channel_rows(score_codes, score_types, abs_r, n_genes, config.driver_channel)
    # r, pvalue, qvalue (BH within the table), ci of the driver channel, then each channel's own rows
    channels = [channel_table(score_stats, best, "")] + [
        channel_table(score_stats, channel_rows(score_codes, score_types, abs_r, n_genes, channel, fallback=False),
                      f"{channel}_") for channel in ("switch", "abundance")]
    # columns gathered as arrays and framed once (a column set on a DataFrame at a time costs more than the
    # statistics here)
    table: dict[str, np.ndarray] = {"gene_id": np.asarray(gene_index, dtype=object)}
    for channel in channels:
        table |= channel
    n_samples = pick_rows(score_stats["n_samples"], best, fill=0.0).astype(np.int64)
    table["n_samples"] = n_samples
    table["missing_fraction"] = 1.0 - n_samples / n_used
    table["score_feature_type"] = pick_rows(score_types, best, fill=None)
    calls = call_switches(feature_codes, features["r"], features["qvalue"], features["delta_usage"],
                          features["usage"], table["switch_qvalue"], alpha=config.switch_alpha,
                          min_usage_change=config.min_usage_change)
    called = calls["switch_called"].to_numpy()
    table["switch_called"] = called
    table["driver_kind"] = driver_kinds(called, table["abundance_qvalue"], alpha=config.switch_alpha)
    for side in ("up", "down"):  # (the column order is set below)
        table[f"n_transcripts_{side}"] = calls[f"n_transcripts_{side}"].to_numpy()
        table[f"switch_{side}_feature"] = pick_rows(feature_ids, calls[f"switch_{side}_row"].to_numpy(), fill=None)
        table[f"switch_{side}_qvalue"] = calls[f"switch_{side}_qvalue"].to_numpy()
        table[f"switch_{side}_delta_usage"] = calls[f"switch_{side}_delta_usage"].to_numpy()
    table["gene_name"] = gene_names
    table["n_features"] = np.bincount(feature_codes, minlength=n_genes).astype(np.int64)
    table["switch_strength"] = extremes["strength"]
    table["top_positive_feature"] = pick_rows(feature_ids, extremes["max_row"], fill=None)
    table["top_negative_feature"] = pick_rows(feature_ids, extremes["min_row"], fill=None)
    table["switch_description"] = _switch_sentences(np.where(called, table["switch_up_feature"], None),
                                                    np.where(called, table["switch_down_feature"], None))
    order = _order(np.abs(table["r"]), descending=True)
    return pd.DataFrame({name: table[name][order] for name in list(GENE_DRIVER_COLUMNS) + list(GENE_DRIVER_EXTRA_COLUMNS)})


def merge_annotations(table: pd.DataFrame, annotation: pd.DataFrame, key: str) -> tuple[pd.DataFrame, int]:
    """Left-join annotation columns on ``key``.

    A ``transcript_id`` annotation joins on the table's ``transcript_id`` (its ``feature_id`` where that
    is empty). A column the table already has is added as ``annotation_<name>``.

    Parameters
    ----------
    table : DataFrame
        An explain table (gene, transcript-polarity or high-vs-low).
    annotation : DataFrame
        Labels with a ``key`` column.
    key : {"feature_id", "transcript_id", "gene_id"}

    Returns
    -------
    tuple of (DataFrame, int)
        The table with the annotation columns after its own, and the number of its rows matched.
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


def _rows_by_module(gene_code: np.ndarray, gene_module: np.ndarray, n_modules: int) -> list[np.ndarray]:
    """Per module code, the rows (in order) whose gene code belongs to it (-1: a gene in no module)."""
    module = np.where(gene_code >= 0, gene_module[np.maximum(gene_code, 0)], n_modules)
    order = np.argsort(module, kind="stable")
    return np.split(order, np.cumsum(np.bincount(module, minlength=n_modules + 1))[:-1])[:n_modules]


class PreparedInputs:
    """Inputs aligned once for all modules: the samples used, the fit's scores over them, module row indices,
    and the feature table — in memory (a DataFrame) or streamed from a ``.matrix`` folder in blocks of at
    most ``block_bytes`` (:meth:`feature_blocks`; the statistics are the same either way)."""

    def __init__(self, fit: FitArtifacts, table: pd.DataFrame | FeatureMatrix, meta: pd.DataFrame,
                 score_table: pd.DataFrame | None, *, block_bytes: int = 1 << 30) -> None:
        self.fit = fit
        self.block_bytes = int(block_bytes)
        streamed = isinstance(table, FeatureMatrix)
        table_index = table.sample_ids if streamed else table.index
        table_samples = list(table_index)
        if score_table is not None:
            table_samples = sorted(set(table_samples) & set(score_table.index))
        self.samples = shared_samples(fit.sample_ids, table_samples, table_name="feature table"
                                      + (" and module score table" if score_table is not None else ""))
        fit_pos = pd.Index(fit.sample_ids).get_indexer(self.samples)
        self.fit_sample_pos = fit_pos  # the fit's scores are read per module (prep.fit.score_rows)

        columns = pd.Index(np.asarray(table.feature_ids if streamed else table.columns, dtype=object))
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
        row_pos = pd.Index(table_index).get_indexer(self.samples)
        if streamed:
            self.matrix, self.values = table, None
            self.sample_pos = None if np.array_equal(row_pos, np.arange(len(table_index))) else row_pos
        else:
            values = table.to_numpy(dtype=np.float64, copy=False)
            if not np.array_equal(row_pos, np.arange(len(table))):
                values = values[row_pos]
            self.matrix, self.values = None, values  # samples x table columns

        # every module gene gets an integer code, its rank in sorted order, so that a module's genes, rows and
        # per-gene codes are integer operations (no string hashing per module)
        gene_ids = np.asarray(fit.modules["gene_id"], dtype=object)
        by_name = np.argsort(gene_ids, kind="stable")
        self.genes = pd.Index(gene_ids[by_name])
        module_codes, module_ids = pd.factorize(np.asarray(fit.modules["module_id"], dtype=object))
        self.module_ids = pd.Index(module_ids)
        self.gene_module = module_codes[by_name]  # module code of each gene code
        self.score_types = np.asarray(fit.score_meta["feature_type"], dtype=object)
        self.feature_types = np.asarray(self.meta["feature_type"], dtype=object)
        self.score_gene = self.genes.get_indexer(np.asarray(fit.score_meta["gene_id"], dtype=object))  # -1: none
        self.feature_gene = self.genes.get_indexer(np.asarray(self.meta["gene_id"], dtype=object))
        self._score_rows = _rows_by_module(self.score_gene, self.gene_module, len(self.module_ids))
        self._feature_rows = _rows_by_module(self.feature_gene, self.gene_module, len(self.module_ids))
        # the meta columns the tables carry, as arrays whose take keeps their dtype (Arrow strings stay Arrow)
        self.meta_columns = {name: self.meta[name].array for name in ("feature_id", "gene_id", *META_PASSTHROUGH)}
        names = meta.dropna(subset=["gene_name"]).drop_duplicates("gene_id")
        self.gene_names = names.set_index("gene_id")["gene_name"].reindex(self.genes).to_numpy(dtype=object)
        self.score_table = score_table.loc[self.samples] if score_table is not None else None

    def module_rows(self, module_id: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """A module's gene codes (sorted, so in gene-ID order), and its feature-score rows and meta rows (each
        in file order)."""
        code = self.module_ids.get_indexer([module_id])[0]
        if code < 0:
            return np.array([], dtype=np.intp), np.array([], dtype=np.intp), np.array([], dtype=np.intp)
        return np.flatnonzero(self.gene_module == code), self._score_rows[code], self._feature_rows[code]

    def meta_rows(self, rows: np.ndarray, names: tuple[str, ...] | list[str]) -> dict[str, object]:
        """The meta columns ``names`` at the meta rows given, in that order, as arrays (dtypes kept)."""
        return {name: self.meta_columns[name].take(rows) for name in names}

    def feature_blocks(self, rows: np.ndarray) -> Iterator[np.ndarray]:
        """The meta rows given, in order, as C-contiguous float64 blocks ``(n_block_rows, n_samples)`` of at
        most ``block_bytes`` each."""
        step = max(1, self.block_bytes // (8 * max(1, len(self.samples))))
        for start in range(0, len(rows), step):
            cols = self.meta_col[rows[start:start + step]]
            if self.matrix is None:
                yield np.ascontiguousarray(self.values[:, cols].T)
                continue
            values = self.matrix.read_rows(cols)
            yield values if self.sample_pos is None else np.ascontiguousarray(values[:, self.sample_pos])


def _feature_statistics(prep: PreparedInputs, rows: np.ndarray, eig: np.ndarray, high: np.ndarray, low: np.ndarray,
                        pearson: dict) -> tuple[PearsonRowsResult, WelchRowsResult, np.ndarray]:
    """Pearson r with the eigengene and the high- vs low-module Welch test of the given features, block by
    block (every statistic is per feature, so the blocks change nothing), plus each feature's number of
    finite values among the samples in both groups."""
    def one(x: np.ndarray) -> tuple:  # one pass over the block for both tests
        return pearson_and_welch_rows(x, eig, high, low, **pearson)

    parts = [one(x) for x in prep.feature_blocks(rows)] or [one(np.empty((0, len(prep.samples))))]

    def joined(results):
        kind = type(results[0])
        return kind(**{f.name: np.concatenate([getattr(r, f.name) for r in results]) for f in fields(kind)})

    return joined([p[0] for p in parts]), joined([p[1] for p in parts]), np.concatenate([p[2] for p in parts])


def _eigengene(prep: PreparedInputs, module_id: str, scores: np.ndarray,
               config: ExplainConfig) -> tuple[np.ndarray, str, float | None]:
    """The eigengene over the used samples from the module's score rows over all fit samples (``scores``)."""
    if prep.score_table is not None:
        return prep.score_table[module_id].to_numpy(dtype=np.float64), "module_score_table", None
    if len(scores) == 0:
        raise InputError(f"module {module_id}: none of its genes has a row in {prep.fit.scores_path}")
    try:
        res = module_eigengene(scores, method=config.eigengene_method, loadings=False)
    except ValueError:
        raise InputError(
            f"module {module_id}: no feature-score row has two finite values with non-zero variance in"
            f" {prep.fit.scores_path}; the eigengene is undefined"
        ) from None
    return res.values[prep.fit_sample_pos], config.eigengene_method, res.variance_explained


def explain_one(prep: PreparedInputs, module_id: str, config: ExplainConfig, meta_name: str) -> ExplainResult:
    """The statistics of one module (no annotation, attribution or files).

    Parameters
    ----------
    prep : PreparedInputs
        The inputs aligned once for all modules.
    module_id : str
    config : ExplainConfig
    meta_name : str
        How error messages name the feature meta (its path).

    Returns
    -------
    ExplainResult

    Raises
    ------
    InputError
        The module has no transcript-usage feature, or its eigengene is undefined.
    """
    gene_codes, score_rows, feat_rows = prep.module_rows(module_id)
    genes = prep.fit.module_genes(module_id)
    usage = prep.feature_types[feat_rows] == TRANSCRIPT_USAGE
    if not usage.any():
        raise InputError(
            f"module {module_id}: none of its {len(genes)} genes has a transcript_usage feature in {meta_name}"
            f" that is also a feature-table column (e.g. gene {genes[0]!r}); check that feature meta gene_id"
            " values match modules.parquet and feature_type is 'transcript_usage'"
        )
    scores = prep.fit.score_rows(score_rows)  # the module genes' rows, all fit samples
    eig, source, var_expl = _eigengene(prep, module_id, scores, config)
    n_used = len(prep.samples)
    pearson = dict(min_complete_pairs=config.min_complete_pairs, confidence_level=config.confidence_level)

    # integer gene codes (alphabetical within the module) for every per-gene reduction
    gene_index = prep.genes[gene_codes]
    feature_ids = np.asarray(prep.meta_columns["feature_id"].take(feat_rows), dtype=object)
    fcodes = np.searchsorted(gene_codes, prep.feature_gene[feat_rows])
    scodes = np.searchsorted(gene_codes, prep.score_gene[score_rows])

    # the high- and low-module samples
    p = float(config.split_percentile)
    finite_eig = eig[np.isfinite(eig)]
    hi_thr, lo_thr = np.percentile(finite_eig, 100.0 - p), np.percentile(finite_eig, p)
    with np.errstate(invalid="ignore"):
        high, low = eig >= hi_thr, eig <= lo_thr

    # feature level: correlation with the eigengene, and the high- vs low-module contrast
    fres, wres, n_both = _feature_statistics(prep, feat_rows, eig, high, low, pearson)
    fq = bh_qvalues(fres.pvalue)
    delta_usage = np.where(usage, wres.delta, np.nan)  # ISAR's dIF: mean usage high - low
    n_split_finite = wres.n_a + wres.n_b - n_both  # a sample at the threshold is in both groups (P = 50, odd n)
    extremes = _gene_extremes(fcodes, fres.r, usage, len(gene_index))
    strength = extremes["strength"][fcodes]
    # each table's rows are put in order before it is framed, and framed once (framing, concatenating and
    # reordering pandas frames cost more than the statistics of a module)
    o = np.lexsort((-np.nan_to_num(fres.r, nan=-np.inf), fcodes, -strength))
    polarity = pd.DataFrame({
        **prep.meta_rows(feat_rows[o], ("feature_id", "gene_id")), "r": fres.r[o], "pvalue": fres.pvalue[o],
        "qvalue": fq[o], "n_samples": fres.n_complete[o].astype(np.int64),
        "missing_fraction": 1.0 - fres.n_complete[o] / n_used, "switch_strength": strength[o],
        "delta_usage": delta_usage[o], "ci_low": fres.ci_low[o], "ci_high": fres.ci_high[o],
        "direction": _direction_words(fres.r[o]), **prep.meta_rows(feat_rows[o], META_PASSTHROUGH),
    })

    o = _order(wres.pvalue, descending=False)
    hvl = pd.DataFrame({
        **prep.meta_rows(feat_rows[o], ("feature_id", "gene_id")),
        "mean_high": wres.mean_a[o], "mean_low": wres.mean_b[o], "delta": wres.delta[o], "se": wres.se[o],
        "tstat": wres.tstat[o], "pvalue": wres.pvalue[o],
        "n_high": wres.n_a[o].astype(np.int64), "n_low": wres.n_b[o].astype(np.int64),
        "missing_fraction": 1.0 - n_split_finite[o] / max(int((high | low).sum()), 1),
        "qvalue": bh_qvalues(wres.pvalue)[o], "df": wres.df[o], "delta_usage": delta_usage[o],
        **prep.meta_rows(feat_rows[o], ("feature_type", "transcript_id", "gene_name")),
    })

    # gene level: both feature-score rows of each module gene, the driver channel and the switch call
    sres = pearson_rows(np.ascontiguousarray(scores[:, prep.fit_sample_pos]), eig, **pearson)
    features = {"r": fres.r, "qvalue": fq, "delta_usage": delta_usage, "usage": usage}
    score_stats = {"r": sres.r, "pvalue": sres.pvalue, "ci_low": sres.ci_low, "ci_high": sres.ci_high,
                   "n_samples": sres.n_complete}
    gene_table = _gene_table(gene_index, scodes, score_stats,
                             prep.score_types[score_rows],
                             fcodes, feature_ids, extremes, prep.gene_names[gene_codes], n_used, features, config)

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


def n_workers(n_tasks: int) -> int:
    """Threads for per-module work: the CPUs this process may use (at most 4), never more than tasks."""
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cpus = os.cpu_count() or 1
    return max(1, min(cpus, 4, n_tasks))

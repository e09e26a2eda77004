"""Per-gene feature scores from transcript counts: the switch and abundance channels of a fit.

A gene's *switch score* is its within-gene transcript-usage coordinate: the first principal component
of the centred log-ratio (CLR) of its transcripts' counts (pseudocount 0.5), with a stable sign (the
transcript with the largest absolute loading gets a positive loading). Its *abundance score* is the
z-scored log2 CPM (+0.5) of the gene's total count. Both are returned in the ``feature_scores.parquet``
layout of the data contracts.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pandas as pd

from isograph.errors import InputError

BLOCK_BYTES = 256 * 2**20  # working memory of one block of genes, transcripts or samples

__all__ = ["abundance_scores", "feature_scores_frame", "regress_covariates", "switch_scores", "transcript_usage",
           "transcript_usage_blocks"]


def _gene_of_columns(columns: pd.Index, tx2gene: pd.DataFrame) -> pd.Series:
    """The gene ID of each transcript column (NaN for a transcript the map lacks), indexed by the columns."""
    gene_of = tx2gene.drop_duplicates("transcript_id").set_index("transcript_id")["gene_id"].astype(str)
    return gene_of.reindex(columns)


def _gene_totals(values: np.ndarray, codes: np.ndarray, n_genes: int, block_bytes: int = BLOCK_BYTES) -> np.ndarray:
    """Per-sample totals of each gene: the columns of ``values`` (samples x transcripts) summed by their gene
    code (``codes``, 0..n_genes-1; -1 for a column that counts for no gene), one sparse product per block of
    samples (no copy of ``values``). Shape (samples, genes)."""
    from scipy import sparse

    columns = np.flatnonzero(codes >= 0)
    member = sparse.csr_matrix((np.ones(len(columns)), (codes[columns], columns)), shape=(n_genes, values.shape[1]))
    out = np.empty((len(values), n_genes))
    step = max(1, int(block_bytes) // (8 * max(1, values.shape[1])))
    for start in range(0, len(values), step):
        out[start:start + step] = (member @ values[start:start + step].T).T
    return out


def _gene_groups(columns: pd.Index, tx2gene: pd.DataFrame) -> pd.Series:
    """Column positions of each gene's transcripts, for genes present in ``columns``."""
    genes = _gene_of_columns(columns, tx2gene)
    pos = pd.Series(np.arange(len(columns)), index=columns)[genes.notna().to_numpy()]
    return pos.groupby(genes.dropna().to_numpy(), sort=True).apply(lambda s: s.to_numpy())


def switch_scores(
    counts: pd.DataFrame,
    tx2gene: pd.DataFrame,
    *,
    pseudocount: float = 0.5,
    block_bytes: int = BLOCK_BYTES,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Switch score of every gene with >= 2 transcripts: PC1 of its within-gene CLR usage.

    Parameters
    ----------
    counts : DataFrame, shape (n_samples, n_transcripts)
        Estimated counts, index = sample IDs, columns = transcript IDs.
    tx2gene : DataFrame
        Columns ``transcript_id, gene_id``.
    pseudocount : float, default 0.5
        Added to every count before the log.
    block_bytes : int, default 256 MiB
        Genes are decomposed a block at a time, each block's float64 working arrays within about this size
        (the results do not depend on it); nothing of the size of ``counts`` is copied.

    Returns
    -------
    scores : DataFrame, shape (n_samples, n_genes)
        One column per gene (gene_id), float64 switch scores (PC1 sample coordinates, variance = the
        PC1 eigenvalue of the gene's centred CLR matrix / (n_samples - 1)).
    loadings : DataFrame
        ``gene_id, transcript_id, loading``: the unit PC1 loading of each transcript.

    Notes
    -----
    Genes are grouped by transcript count and each block of a group is decomposed with one batched SVD,
    so the cost is a few numpy calls per block, not one call per gene. For a gene with transcripts :math:`t`,
    :math:`\\mathrm{clr}_{st} = \\log(c_{st}+0.5) - \\mathrm{mean}_t \\log(c_{st}+0.5)`; the CLR matrix is
    centred over samples before the SVD.
    """
    groups = _gene_groups(counts.columns, tx2gene)
    sizes = groups.map(len)
    groups = groups[sizes >= 2]
    values = counts.to_numpy(dtype=np.float64)  # a view when the frame is one float64 block
    genes_out: list[np.ndarray] = []
    score_blocks: list[np.ndarray] = []
    load_genes, load_tx, load_vals = [], [], []
    for k, members in groups.groupby(groups.map(len)):
        every = np.stack(members.to_numpy())  # (n_genes_k, k)
        step = max(1, int(block_bytes) // (8 * 4 * max(1, len(values)) * k))  # the block, CLR, u and vt
        for start in range(0, len(every), step):
            idx = every[start:start + step]
            block = np.log(values[:, idx] + pseudocount).transpose(1, 0, 2)  # (g, samples, k)
            block -= block.mean(axis=2, keepdims=True)  # CLR
            block -= block.mean(axis=1, keepdims=True)  # centre over samples
            u, s, vt = np.linalg.svd(block, full_matrices=False)
            load = vt[:, 0, :]  # (g, k)
            sign = np.sign(load[np.arange(len(load)), np.abs(load).argmax(axis=1)])
            sign[sign == 0] = 1.0
            load = load * sign[:, None]
            genes = members.index.to_numpy()[start:start + step]
            genes_out.append(genes)
            score_blocks.append(u[:, :, 0] * (s[:, 0] * sign)[:, None])  # (g, samples)
            load_genes.append(np.repeat(genes, k))
            load_tx.append(counts.columns.to_numpy()[idx.ravel()])
            load_vals.append(load.ravel())
    if not genes_out:
        empty = pd.DataFrame(index=counts.index)
        return empty, pd.DataFrame({"gene_id": [], "transcript_id": [], "loading": []})
    genes = np.concatenate(genes_out)
    order = np.argsort(genes, kind="stable")
    scores = pd.DataFrame(np.vstack(score_blocks)[order].T, index=counts.index, columns=genes[order])
    loadings = pd.DataFrame(
        {
            "gene_id": np.concatenate(load_genes),
            "transcript_id": np.concatenate(load_tx),
            "loading": np.concatenate(load_vals),
        }
    ).sort_values(["gene_id", "transcript_id"], ignore_index=True)
    return scores, loadings


def abundance_scores(counts: pd.DataFrame, tx2gene: pd.DataFrame) -> pd.DataFrame:
    """Abundance score of every gene: z-scored (ddof=1) log2 CPM + 0.5 of the gene's total count.

    Parameters
    ----------
    counts : DataFrame, shape (n_samples, n_transcripts)
    tx2gene : DataFrame with ``transcript_id, gene_id``

    Returns
    -------
    DataFrame, shape (n_samples, n_genes)
        Columns = gene IDs (sorted); a gene with constant log CPM gets 0.
    """
    codes, names = pd.factorize(_gene_of_columns(counts.columns, tx2gene), sort=True)  # NaN -> -1
    values = counts.to_numpy(dtype=np.float64)
    gene_counts = _gene_totals(values, codes, len(names))
    lib = values.sum(axis=1, keepdims=True)
    lib[lib == 0] = 1.0
    logcpm = np.log2(gene_counts / lib * 1e6 + 0.5)
    sd = logcpm.std(axis=0, ddof=1)
    z = (logcpm - logcpm.mean(axis=0)) / np.where(sd > 0, sd, 1.0)
    return pd.DataFrame(z, index=counts.index, columns=pd.Index(names))


def feature_scores_frame(channels: dict[str, pd.DataFrame], n_transcripts: pd.Series) -> pd.DataFrame:
    """Assemble ``feature_scores.parquet`` rows from per-channel samples x genes score tables.

    Parameters
    ----------
    channels : dict
        ``{"switch": DataFrame, "abundance": DataFrame}`` (any subset), each samples x genes.
    n_transcripts : Series
        Transcripts per gene (index gene_id).

    Returns
    -------
    DataFrame
        ``feature_id, gene_id, feature_type, n_transcripts`` then one float column per sample,
        sorted by gene_id then feature_type.
    """
    parts = []
    for feature_type, table in channels.items():
        genes = table.columns.astype(str)
        meta = pd.DataFrame(
            {
                "feature_id": genes + f"::{feature_type}",
                "gene_id": genes,
                "feature_type": feature_type,
                "n_transcripts": n_transcripts.reindex(genes).to_numpy(dtype=np.int64),
            }
        )
        values = pd.DataFrame(table.to_numpy().T, columns=table.index.astype(str))
        parts.append(pd.concat([meta, values], axis=1))
    out = pd.concat(parts, ignore_index=True)
    return out.sort_values(["gene_id", "feature_type"], kind="stable", ignore_index=True)


def regress_covariates(scores: pd.DataFrame, covariates: pd.DataFrame) -> pd.DataFrame:
    """Residuals of every score column after least-squares regression on the covariates (+ intercept).

    Parameters
    ----------
    scores : DataFrame, shape (n_samples, n_columns)
        Index = sample IDs.
    covariates : DataFrame
        One row per sample (``sample_id`` column or index); numeric columns enter as they are,
        categorical/text columns as one-hot indicators (first level dropped).

    Returns
    -------
    DataFrame
        Same shape and labels as ``scores``.

    Raises
    ------
    InputError
        Samples of ``scores`` missing from the covariates, or missing covariate values.
    """
    cov = covariates.set_index("sample_id") if "sample_id" in covariates.columns else covariates
    cov.index = cov.index.astype(str)
    missing = scores.index.difference(cov.index)
    if len(missing):
        raise InputError(f"covariates: no row for sample(s) {', '.join(missing[:5])}")
    cov = cov.loc[scores.index]
    if cov.isna().any().any():
        col = cov.columns[cov.isna().any()][0]
        raise InputError(f"covariates: column {col!r} has missing values")
    design = pd.get_dummies(cov, drop_first=True, dtype=float)
    x = np.column_stack([np.ones(len(design)), design.to_numpy(dtype=np.float64)])
    y = scores.to_numpy(dtype=np.float64)
    beta, *_ = np.linalg.lstsq(x, y, rcond=None)
    return pd.DataFrame(y - x @ beta, index=scores.index, columns=scores.columns)


def transcript_usage_blocks(counts: pd.DataFrame, tx2gene: pd.DataFrame, *,
                            block_bytes: int = BLOCK_BYTES) -> tuple[pd.DataFrame, Iterator[np.ndarray]]:
    """:func:`transcript_usage` a block of transcripts at a time, for a writer that never holds the whole table.

    Parameters
    ----------
    counts : DataFrame, shape (n_samples, n_transcripts)
    tx2gene : DataFrame
    block_bytes : int, default 256 MiB
        Size of one float64 block.

    Returns
    -------
    meta : DataFrame
        As :func:`transcript_usage` returns it (one row per kept transcript, in ``counts`` order).
    blocks : iterator of ndarray, shape (n_block_transcripts, n_samples)
        The usage of consecutive kept transcripts (feature-major, as :mod:`isograph.dataset.matrix` stores it).
    """
    gene_of = _gene_of_columns(counts.columns, tx2gene)
    n_per_gene = gene_of.map(gene_of.value_counts())
    keep = (gene_of.notna() & (n_per_gene >= 2)).to_numpy()
    codes, genes = pd.factorize(gene_of.where(keep))  # -1 for the columns left out
    values = counts.to_numpy(dtype=np.float64)
    ids = counts.columns[keep].astype(str)
    table = tx2gene.drop_duplicates("transcript_id").set_index("transcript_id")
    names = table["gene_name"].reindex(ids) if "gene_name" in table.columns else pd.Series(pd.NA, index=ids)
    meta = pd.DataFrame({"feature_id": ids, "gene_id": gene_of[keep].to_numpy(), "feature_type": "transcript_usage",
                         "gene_name": names.to_numpy(), "transcript_id": ids})

    def blocks() -> Iterator[np.ndarray]:
        totals = _gene_totals(values, codes, len(genes), block_bytes)  # samples x genes
        columns = np.flatnonzero(keep)
        step = max(1, int(block_bytes) // (8 * 2 * max(1, len(values))))
        for start in range(0, len(columns), step):
            cols = columns[start:start + step]
            total = totals[:, codes[cols]]
            with np.errstate(invalid="ignore", divide="ignore"):
                yield np.where(total > 0, values[:, cols] / total, np.nan).T

    return meta, blocks()


def transcript_usage(counts: pd.DataFrame, tx2gene: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Each transcript's share of its gene's count in every sample (IsoformSwitchAnalyzeR's isoform fraction),
    for the genes with two or more quantified transcripts, and the feature meta that explain reads with it.

    Parameters
    ----------
    counts : DataFrame, shape (n_samples, n_transcripts)
        Estimated counts, index = sample IDs, columns = transcript IDs.
    tx2gene : DataFrame
        ``transcript_id, gene_id`` (``gene_name`` optional).

    Returns
    -------
    usage : DataFrame, shape (n_samples, n_kept_transcripts)
        Fractions in [0, 1]; NaN where the gene has no count in the sample. Columns in ``counts`` order.
    meta : DataFrame
        ``feature_id`` (= ``transcript_id``), ``gene_id``, ``feature_type`` ("transcript_usage"),
        ``gene_name``, ``transcript_id``, one row per column of ``usage``.

    See Also
    --------
    transcript_usage_blocks : the same, a block of transcripts at a time.

    Examples
    --------
    >>> counts = pd.DataFrame({"a": [1.0, 0.0], "b": [3.0, 0.0], "c": [5.0, 5.0]}, index=["s1", "s2"])
    >>> usage, meta = transcript_usage(counts, pd.DataFrame({"transcript_id": ["a", "b", "c"],
    ...                                                      "gene_id": ["G", "G", "H"]}))
    >>> usage.round(2).to_dict("list"), meta["gene_id"].tolist()
    ({'a': [0.25, nan], 'b': [0.75, nan]}, ['G', 'G'])
    """
    meta, blocks = transcript_usage_blocks(counts, tx2gene)
    parts = list(blocks)
    values = np.vstack(parts).T if parts else np.empty((len(counts), 0))
    return pd.DataFrame(values, index=counts.index, columns=pd.Index(meta["feature_id"], name=counts.columns.name)), meta

"""Per-gene driver channels and switch calls of one module (vectorised over genes).

A gene has up to two feature-score rows: its ``switch`` row (the within-gene transcript-usage coordinate)
and its ``abundance`` row. Both are kept (``switch_r/pvalue/qvalue``, ``abundance_r/pvalue/qvalue``, each
q by Benjamini-Hochberg over that channel's rows in the module); the gene's ``r, pvalue, qvalue`` follow
the chosen driver channel.

A **switch call** (``switch_called``), as IsoformSwitchAnalyzeR calls a switch (its ``alpha`` and
``dIFcutoff``): the switch row's q <= alpha, and at least one transcript significantly *up* (its
transcript-usage q <= alpha with r > 0 and ``delta_usage`` >= the minimum usage change) and one
significantly *down* (q <= alpha, r < 0, ``delta_usage`` <= -the minimum usage change), where
``delta_usage`` is the mean usage in high- minus low-module samples (ISAR's dIF). ``driver_kind`` says
which channels the gene drives the module through: ``switch``, ``abundance`` (abundance q <= alpha),
``switch+abundance`` or ``none``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from isograph.explain.stats import bh_qvalues

__all__ = ["DRIVER_CHANNELS", "DRIVER_KINDS", "call_switches", "channel_rows", "channel_table", "driver_kinds",
           "pick_rows"]

DRIVER_CHANNELS = ("switch", "abundance", "strongest")
DRIVER_KINDS = ("switch", "abundance", "switch+abundance", "none")


def _first_per_gene(rows: np.ndarray, codes: np.ndarray, n_genes: int) -> np.ndarray:
    """Per gene code, the first of ``rows`` (sorted by gene code, the wanted row first); -1 for none."""
    best = np.full(n_genes, -1)
    if rows.size:
        gene = codes[rows]
        first = np.r_[True, gene[1:] != gene[:-1]]
        best[gene[first]] = rows[first]
    return best


def pick_rows(values: np.ndarray, rows: np.ndarray, fill: object = np.nan) -> np.ndarray:
    """``values[rows]`` with ``fill`` where ``rows == -1`` (float output for a float fill, else object).

    Parameters
    ----------
    values : ndarray, shape (n_rows,)
    rows : ndarray of int
        Row per entry (-1: none).
    fill : float or None, default NaN

    Returns
    -------
    ndarray, shape of ``rows``
    """
    out = np.full(rows.shape, fill, dtype=np.float64 if isinstance(fill, float) else object)
    found = rows >= 0
    out[found] = values[rows[found]]
    return out


def channel_rows(score_codes: np.ndarray, score_types: np.ndarray, abs_r: np.ndarray, n_genes: int,
                 channel: str, *, fallback: bool = True) -> np.ndarray:
    """Per gene, the feature-score row of the driver channel (-1 where the gene has none).

    Parameters
    ----------
    score_codes : ndarray of int, shape (n_rows,)
        Gene code of each feature-score row (0 .. n_genes - 1).
    score_types : ndarray of str, shape (n_rows,)
        ``switch`` or ``abundance``.
    abs_r : ndarray of float, shape (n_rows,)
        |r| of each row with the eigengene (NaN allowed).
    n_genes : int
    channel : {"switch", "abundance", "strongest"}
        ``switch``: the switch row, else (a single-transcript gene) the abundance row; ``abundance``: the
        abundance row, else the switch row; ``strongest``: the row with the larger |r| (NaN last).
    fallback : bool, default True
        False: only rows of ``channel`` (-1 where the gene has none; not for ``strongest``).

    Returns
    -------
    ndarray of int, shape (n_genes,)
    """
    if channel == "strongest":
        key = np.where(np.isnan(abs_r), -1.0, -abs_r)
    else:
        key = np.where(score_types == channel, 0.0, 1.0)
    order = np.lexsort((key, score_codes))
    if not fallback:
        order = order[score_types[order] == channel]
    return _first_per_gene(order, score_codes, n_genes)


def channel_table(score_stats: dict[str, np.ndarray], rows: np.ndarray, prefix: str) -> dict[str, np.ndarray]:
    """``{prefix}r, {prefix}pvalue, {prefix}qvalue`` per gene from the rows given.

    Parameters
    ----------
    score_stats : dict of str to ndarray
        ``r, pvalue, ci_low, ci_high`` of every feature-score row.
    rows : ndarray of int, shape (n_genes,)
        Each gene's row (-1: none; its values are NaN).
    prefix : str
        ``""``, ``"switch_"`` or ``"abundance_"``.

    Returns
    -------
    dict of str to ndarray, each of shape (n_genes,)
        ``{prefix}r, pvalue, qvalue, ci_low, ci_high``; q is Benjamini-Hochberg over the genes that have
        the row. (Arrays, not a DataFrame: a frame per channel per module cost more than its statistics.)
    """
    p = pick_rows(score_stats["pvalue"], rows)
    return {f"{prefix}r": pick_rows(score_stats["r"], rows), f"{prefix}pvalue": p, f"{prefix}qvalue": bh_qvalues(p),
            f"{prefix}ci_low": pick_rows(score_stats["ci_low"], rows),
            f"{prefix}ci_high": pick_rows(score_stats["ci_high"], rows)}


def call_switches(codes: np.ndarray, r: np.ndarray, qvalue: np.ndarray, delta_usage: np.ndarray,
                  usage: np.ndarray, switch_qvalue: np.ndarray, *, alpha: float,
                  min_usage_change: float) -> pd.DataFrame:
    """The switch call of every gene from its transcripts' statistics.

    Parameters
    ----------
    codes : ndarray of int, shape (n_features,)
        Gene code of each feature (0 .. n_genes - 1).
    r, qvalue : ndarray of float, shape (n_features,)
        Each feature's correlation with the eigengene and its BH q (transcript-polarity table).
    delta_usage : ndarray of float, shape (n_features,)
        Mean usage in high- minus low-module samples.
    usage : ndarray of bool, shape (n_features,)
        True for transcript-usage features (others never count).
    switch_qvalue : ndarray of float, shape (n_genes,)
        q of each gene's switch row (NaN: no switch row).
    alpha : float
        Significance level for the gene's switch q and each transcript's q.
    min_usage_change : float
        Minimum |delta_usage| of the up and the down transcript.

    Returns
    -------
    DataFrame, one row per gene code
        ``switch_called`` (bool), ``n_transcripts_up``, ``n_transcripts_down`` (int: significant
        transcripts each way), ``switch_up_feature``, ``switch_down_feature`` (the up and down transcript
        with the largest |delta_usage|; None where there is none), ``switch_up_qvalue``,
        ``switch_down_qvalue``, ``switch_up_delta_usage``, ``switch_down_delta_usage``.
    """
    n_genes = len(switch_qvalue)
    with np.errstate(invalid="ignore"):
        significant = usage & (qvalue <= alpha)
        up = significant & (r > 0) & (delta_usage >= min_usage_change)
        down = significant & (r < 0) & (delta_usage <= -min_usage_change)
    n_up = np.bincount(codes[up], minlength=n_genes).astype(np.int64)
    n_down = np.bincount(codes[down], minlength=n_genes).astype(np.int64)
    with np.errstate(invalid="ignore"):
        out = {"switch_called": (switch_qvalue <= alpha) & (n_up > 0) & (n_down > 0),
               "n_transcripts_up": n_up, "n_transcripts_down": n_down}
    for side, mask, sign in (("up", up, -1.0), ("down", down, 1.0)):
        rows = np.flatnonzero(mask)
        rows = rows[np.lexsort((sign * delta_usage[rows], codes[rows]))]  # per gene, largest |delta| first
        best = _first_per_gene(rows, codes, n_genes)
        out[f"switch_{side}_row"] = best
        out[f"switch_{side}_qvalue"] = pick_rows(qvalue, best)
        out[f"switch_{side}_delta_usage"] = pick_rows(delta_usage, best)
    return pd.DataFrame(out)  # framed once: inserting columns one at a time cost more than the call


def driver_kinds(switch_called: np.ndarray, abundance_qvalue: np.ndarray, *, alpha: float) -> np.ndarray:
    """``switch``, ``abundance``, ``switch+abundance`` or ``none`` per gene.

    Parameters
    ----------
    switch_called : ndarray of bool, shape (n_genes,)
    abundance_qvalue : ndarray of float, shape (n_genes,)
        NaN where the gene has no abundance row.
    alpha : float

    Returns
    -------
    ndarray of str
    """
    with np.errstate(invalid="ignore"):
        abundance = abundance_qvalue <= alpha
    return np.select([switch_called & abundance, switch_called, abundance],
                     ["switch+abundance", "switch", "abundance"], default="none").astype(object)

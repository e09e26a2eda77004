"""Genome-wide consequence enrichment of isoform switches (IsoformSwitchAnalyzeR's
``extractConsequenceEnrichment``).

For each type of consequence that comes in two opposite forms (e.g. "Exon gain" vs "Exon loss"), count
the annotated switch pairs showing each form and ask whether one form is more common than the other:
an exact two-sided binomial test of ``n_gain`` successes in ``n_gain + n_loss`` trials against p = 0.5,
the Clopper-Pearson 95% interval of the gain fraction, and Benjamini-Hochberg q over every type (and
group) tested. A pair that shows both forms of a type (possible only for intron retention) is counted in
neither, as it says nothing about the direction.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

__all__ = ["CONSEQUENCE_TYPES", "consequence_enrichment"]

#: (type, gain words, loss words, column of :func:`isograph.structure.consequences.annotate_pairs`). The fraction
#: reported is that of the first form, as IsoformSwitchAnalyzeR writes "A (paired with B)".
CONSEQUENCE_TYPES: tuple[tuple[str, str, str, str], ...] = (
    ("TSS", "Tss more upstream", "Tss more downstream", "tss"),
    ("TTS", "Tts more downstream", "Tts more upstream", "tts"),
    ("First exon", "First exon more upstream", "First exon more downstream", "first_exon"),
    ("Last exon", "Last exon more downstream", "Last exon more upstream", "last_exon"),
    ("Exon number", "Exon gain", "Exon loss", "exon_number"),
    ("Exon skipping", "Exon inclusion", "Exon skipping", "exon_skipping"),
    ("Mutually exclusive exons", "Mutually exclusive exon more upstream", "Mutually exclusive exon more downstream",
     "mutually_exclusive"),
    ("Alternative 5' splice site", "Alternative 5' splice site, longer exon",
     "Alternative 5' splice site, shorter exon", "alt_5ss"),
    ("Alternative 3' splice site", "Alternative 3' splice site, longer exon",
     "Alternative 3' splice site, shorter exon", "alt_3ss"),
    ("Intron retention", "Intron retention gain", "Intron retention loss", "intron_retention"),
    ("Isoform length", "Length gain", "Length loss", "isoform_length"),
    ("ORF length", "ORF is longer", "ORF is shorter", "orf"),
    ("Coding potential", "Complete ORF gain", "Complete ORF loss", "orf"),
    ("5'UTR length", "5'UTR is longer", "5'UTR is shorter", "utr5"),
    ("3'UTR length", "3'UTR is longer", "3'UTR is shorter", "utr3"),
    ("NMD status", "NMD sensitive", "NMD insensitive", "nmd"),
)

RESULT_COLUMNS = ["consequence_type", "gain", "loss", "comparison", "n_gain", "n_loss", "n_total", "fraction_gain",
                  "ci_low", "ci_high", "pvalue", "qvalue"]


def _has(words: pd.Series, word: str) -> np.ndarray:
    """Does each cell (words joined by "; ") contain ``word`` as a whole item?"""
    return words.map(lambda cell: isinstance(cell, str) and word in cell.split("; ")).to_numpy(dtype=bool)


def consequence_enrichment(annotated: pd.DataFrame, *, by: str | None = None, min_events: int = 1,
                           confidence: float = 0.95) -> pd.DataFrame:
    """Is one form of each consequence type more frequent among the switches than its opposite?

    Parameters
    ----------
    annotated : DataFrame
        :func:`isograph.structure.consequences.annotate_pairs` output (``status`` and the consequence
        columns); only ``status == "ok"`` rows count.
    by : str, optional
        A column to test within (e.g. ``module_id``); BH runs over all groups and types together.
    min_events : int, default 1
        Types with fewer pairs showing either form are left out (IsoformSwitchAnalyzeR plots those with
        at least 10).
    confidence : float, default 0.95
        Level of the Clopper-Pearson interval.

    Returns
    -------
    DataFrame
        ``[by,] consequence_type, gain, loss, comparison ("gain (paired with loss)"), n_gain, n_loss,
        n_total, fraction_gain, ci_low, ci_high, pvalue, qvalue``, in :data:`CONSEQUENCE_TYPES` order.

    Notes
    -----
    The test is :func:`scipy.stats.binomtest` (exact, two-sided, p = 0.5) and the interval its
    ``proportion_ci(method="exact")``; q is :func:`scipy.stats.false_discovery_control` (BH).

    References
    ----------
    .. [1] Vitting-Seerup K, Sandelin A (2019). IsoformSwitchAnalyzeR: analysis of changes in genome-wide
       patterns of alternative splicing and its functional consequences. Bioinformatics 35:4469-4471.

    Examples
    --------
    >>> pairs = pd.DataFrame({"status": ["ok"] * 10, "exon_number": ["Exon gain"] * 9 + ["Exon loss"]})
    >>> row = consequence_enrichment(pairs).iloc[0]
    >>> row["consequence_type"], int(row["n_gain"]), int(row["n_loss"]), round(float(row["pvalue"]), 6)
    ('Exon number', 9, 1, 0.021484)
    """
    if "status" in annotated:
        annotated = annotated[annotated["status"] == "ok"]
    groups = [(None, annotated)] if by is None else list(annotated.groupby(by, sort=True))
    rows = []
    for key, part in groups:
        for name, gain, loss, column in CONSEQUENCE_TYPES:
            if column not in part:
                continue
            has_gain, has_loss = _has(part[column], gain), _has(part[column], loss)
            n_gain, n_loss = int((has_gain & ~has_loss).sum()), int((has_loss & ~has_gain).sum())
            n = n_gain + n_loss
            if n < max(1, min_events):
                continue
            test = stats.binomtest(n_gain, n, 0.5)
            ci = test.proportion_ci(confidence_level=confidence, method="exact")
            rows.append({**({by: key} if by else {}), "consequence_type": name, "gain": gain, "loss": loss,
                         "comparison": f"{gain} (paired with {loss})", "n_gain": n_gain, "n_loss": n_loss,
                         "n_total": n, "fraction_gain": n_gain / n, "ci_low": ci.low, "ci_high": ci.high,
                         "pvalue": test.pvalue})
    columns = ([by] if by else []) + RESULT_COLUMNS
    table = pd.DataFrame(rows, columns=columns)
    if len(table):
        table["qvalue"] = stats.false_discovery_control(table["pvalue"].clip(0, 1).to_numpy())
    return table

"""The switch <-> feature bridge: which SAE features tell apart the exons a module's isoform switches gain
from those they lose.

For each annotated switch pair (transcript 1 used more in low-module samples, transcript 2 in high-module
samples; :mod:`isograph.structure.annotate`), the exonic stretches only transcript 2 has are *gained* and
those only transcript 1 has are *lost* (genomic set difference of the two exon sets, cut from the transcript
that has them, 5'->3' on its strand). Each stretch is embedded by the language model and encoded by the SAE;
a feature's score on a stretch is its largest activation there. Per feature, the gained and lost stretches
are compared by a two-sided Mann-Whitney U test (``scipy.stats.mannwhitneyu``) with Benjamini-Hochberg q over
the features active on any stretch; the effect is the AUC (U / n_gained n_lost: above 0.5 = higher on gained
stretches).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import stats

from isograph.errors import InputError
from isograph.sae.sequences import SEQUENCE_COLUMNS

__all__ = ["bridge_switches", "exon_difference", "separating_features", "switch_exon_sequences"]


def exon_difference(starts_a: Sequence[int], ends_a: Sequence[int], starts_b: Sequence[int],
                    ends_b: Sequence[int]) -> list[tuple[int, int]]:
    """The 1-based inclusive stretches covered by exons A and by no exon B.

    Parameters
    ----------
    starts_a, ends_a : sequence of int
        Exons of transcript A (genomic, 1-based inclusive).
    starts_b, ends_b : sequence of int
        Exons of transcript B.

    Returns
    -------
    list of (int, int)
        ``(start, end)`` stretches, in genomic order.

    Examples
    --------
    >>> exon_difference([10, 50], [20, 60], [15, 55], [30, 58])
    [(10, 14), (50, 54), (59, 60)]
    """
    pieces = []
    cuts = sorted(zip(starts_b, ends_b))
    for start, end in sorted(zip(starts_a, ends_a)):
        cursor = start
        for b_start, b_end in cuts:
            if b_end < cursor or b_start > end:
                continue
            if b_start > cursor:
                pieces.append((cursor, b_start - 1))
            cursor = max(cursor, b_end + 1)
        if cursor <= end:
            pieces.append((cursor, end))
    return [(int(a), int(b)) for a, b in pieces]


def _tx_span(model: pd.Series, start: int, end: int) -> tuple[int, int]:
    """0-based ``[from, to)`` in the transcript of a genomic stretch inside one of its exons."""
    from isograph.structure.models import transcript_position

    a, b = transcript_position(model, start), transcript_position(model, end)
    return min(a, b), max(a, b) + 1


def switch_exon_sequences(pairs: pd.DataFrame, models: pd.DataFrame, sequences: dict[str, str], *,
                          min_length: int = 18) -> pd.DataFrame:
    """The gained and lost exonic stretches of each switch pair, as a sequence table.

    Parameters
    ----------
    pairs : DataFrame
        ``gene_id, transcript_id_1, transcript_id_2`` (+ ``module_id``), e.g. the ``ok`` rows of
        ``switch_pairs_annotated.parquet``.
    models : DataFrame
        Transcript models (``transcript_id, strand, exon_starts, exon_ends``).
    sequences : dict of str to str
        Transcript sequences.
    min_length : int, default 18
        Shorter stretches (three 6-mers) are left out.

    Returns
    -------
    DataFrame
        The sequence-table columns (``seq_id`` = ``{transcript}|{gained or lost}|{offset}``, ``set`` =
        ``gained`` or ``lost``) plus ``gene_id, module_id, transcript_id, pair`` (``T1>T2``), ``genomic_start,
        genomic_end``; identical stretches of one gene once.
    """
    by_id = models.set_index("transcript_id")
    rows = []
    for pair in pairs.itertuples(index=False):
        t1, t2 = str(pair.transcript_id_1), str(pair.transcript_id_2)
        if t1 not in by_id.index or t2 not in by_id.index or t1 not in sequences or t2 not in sequences:
            continue
        m1, m2 = by_id.loc[t1], by_id.loc[t2]
        for side, own, other in (("gained", m2, m1), ("lost", m1, m2)):
            tx = t2 if side == "gained" else t1
            for start, end in exon_difference(own["exon_starts"], own["exon_ends"], other["exon_starts"],
                                              other["exon_ends"]):
                if end - start + 1 < min_length:
                    continue
                lo, hi = _tx_span(own, start, end)
                rows.append({"seq_id": f"{tx}|{side}|{lo}", "sequence": sequences[tx][lo:hi], "chrom": str(own["seqname"]),
                             "start": start, "end": end, "strand": str(own["strand"]), "set": side,
                             "gene_id": str(pair.gene_id), "module_id": str(getattr(pair, "module_id", "")),
                             "transcript_id": tx, "pair": f"{t1}>{t2}", "genomic_start": start, "genomic_end": end})
    columns = SEQUENCE_COLUMNS + ["gene_id", "module_id", "transcript_id", "pair", "genomic_start", "genomic_end"]
    table = pd.DataFrame(rows, columns=columns)
    return table.drop_duplicates(["gene_id", "set", "sequence"], ignore_index=True)


def separating_features(segment_max: np.ndarray, sides: np.ndarray) -> pd.DataFrame:
    """Per feature: do its activations on gained stretches differ from those on lost ones?

    Parameters
    ----------
    segment_max : ndarray, shape (n_stretches, n_features)
        Each feature's largest activation on each stretch.
    sides : ndarray of str, shape (n_stretches,)
        ``gained`` or ``lost``.

    Returns
    -------
    DataFrame
        ``feature, n_gained, n_lost, mean_gained, mean_lost, auc, pvalue, qvalue`` for the features active
        on at least one stretch, sorted by p.

    Raises
    ------
    InputError
        Fewer than 2 stretches on a side.
    """
    gained, lost = sides == "gained", sides == "lost"
    if gained.sum() < 2 or lost.sum() < 2:
        raise InputError(f"the switches have {int(gained.sum())} gained and {int(lost.sum())} lost exonic stretches"
                         " (at least 2 of each are needed to compare); pick a module with more called switches")
    active = np.flatnonzero(segment_max.max(axis=0) > 0)
    a, b = segment_max[gained][:, active], segment_max[lost][:, active]
    test = stats.mannwhitneyu(a, b, alternative="two-sided", axis=0)
    pvalue = np.asarray(test.pvalue, dtype=float)
    table = pd.DataFrame({"feature": active, "n_gained": int(gained.sum()), "n_lost": int(lost.sum()),
                          "mean_gained": a.mean(axis=0), "mean_lost": b.mean(axis=0),
                          "auc": np.asarray(test.statistic, dtype=float) / (len(a) * len(b)), "pvalue": pvalue})
    table["qvalue"] = stats.false_discovery_control(np.nan_to_num(pvalue, nan=1.0)) if len(table) else []
    return table.sort_values(["pvalue", "feature"], ignore_index=True)


def bridge_switches(lm: object, sae: object, segments: pd.DataFrame, *, layer: int) -> tuple[pd.DataFrame, np.ndarray]:
    """Embed the stretches, encode them, and test every feature (gained vs lost).

    Parameters
    ----------
    lm : isograph.sae.lm.LocalLM
    sae : the SAE module
    segments : DataFrame
        :func:`switch_exon_sequences` output.
    layer : int
        ``hidden_states`` index the SAE reads.

    Returns
    -------
    features : DataFrame
        :func:`separating_features` output.
    segment_max : ndarray, shape (n_stretches, n_features)
        Each feature's largest activation on each stretch (rows as ``segments``).
    """
    from isograph.sae.embed import embed_tiled
    from isograph.sae.model import encode

    tokens, states = embed_tiled(lm, segments[SEQUENCE_COLUMNS], layer)
    z = encode(sae, states)
    row_of = pd.Series(np.arange(len(segments)), index=segments["seq_id"]).reindex(tokens["parent_id"]).to_numpy()
    segment_max = np.zeros((len(segments), z.shape[1]), dtype=np.float32)
    np.maximum.at(segment_max, row_of, z)
    return separating_features(segment_max, segments["set"].to_numpy()), segment_max

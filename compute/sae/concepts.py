"""Concept labels of SAE features (InterPLM-style): how well "feature active" matches "token in concept".

Concepts come from the transcript models of the GTF, in transcript coordinates, for tokens of sequences
cut from transcripts (``seq_id`` = a ``transcript_id``, or ``{transcript_id}|...|{offset}`` as the demo's
windows and tiles name them). A token is in a concept when (``[start, end)`` = its bases in the transcript,
``m`` = its middle base):

=====================  ==========================================================================
``CDS``                m in the ORF (start codon to stop codon)
``5'UTR``, ``3'UTR``   m before / after the ORF (coding transcripts)
``start codon``        the token shares a base with the start codon
``stop codon``         the token shares a base with the stop codon (the ORF's last codon, or the three bases
                       after it when the GTF's CDS rows end before the stop: checked in the sequence)
``exon junction``      an exon-exon junction lies strictly inside the token
``donor flank``        m within ``flank`` nt upstream of a junction (the end of an exon)
``acceptor flank``     m within ``flank`` nt downstream of a junction (the start of the next exon)
``first exon``         m in the first exon of a multi-exon transcript
``last exon``          m in the last exon of a multi-exon transcript
``NMD-sensitive``      the transcript's stop codon lies > 50 nt before its last junction
``switch exon``        m in an exonic stretch that a called switch gains or loses on this transcript
                       (:func:`isograph.sae.bridge.switch_exon_sequences`; only when those are given)
=====================  ==========================================================================

For each feature and concept, "active" is ``z > t × max(z)`` for a threshold ``t`` in ``THRESHOLDS``; the
threshold with the best F1 on the training tokens (genes not held out) is kept and precision, recall and F1
are reported on the validation tokens (whole genes held out). Counts are sparse matrix products, so all
features and concepts are scored at once.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import sparse

from isograph.errors import InputError
from isograph.structure.models import junction_positions

__all__ = ["CONCEPTS", "THRESHOLDS", "best_concepts", "concept_scores", "token_concepts", "transcript_positions"]

CONCEPTS = ("CDS", "5'UTR", "3'UTR", "start codon", "stop codon", "exon junction", "donor flank", "acceptor flank",
            "first exon", "last exon", "NMD-sensitive", "switch exon")
#: Activation thresholds, as fractions of each feature's largest activation (InterPLM's grid).
THRESHOLDS = (0.0, 0.15, 0.5, 0.6, 0.8)


def transcript_positions(tokens: pd.DataFrame, transcript_ids: set[str]) -> pd.DataFrame:
    """Each token's transcript and its ``[tx_start, tx_end)`` there (``transcript_id`` None when unknown).

    Parameters
    ----------
    tokens : DataFrame
        ``seq_id, start, end`` (0-based positions in the sequence).
    transcript_ids : set of str
        The transcripts of the GTF.

    Returns
    -------
    DataFrame
        ``transcript_id, tx_start, tx_end`` aligned with ``tokens`` (missing ID and -1 for tokens of other
        sequences).

    Examples
    --------
    >>> tok = pd.DataFrame({"seq_id": ["T1", "T1|CDS|30", "chr1:5-9", "T2|12"], "start": [0, 6, 0, 0], "end": [6, 12, 6, 6]})
    >>> transcript_positions(tok, {"T1", "T2"}).fillna("-").values.tolist()
    [['T1', 0, 6], ['T1', 36, 42], ['-', -1, -1], ['T2', 12, 18]]
    """
    ids = tokens["seq_id"].astype(str)
    parts = ids.str.split("|")
    head = parts.str[0]
    tail = parts.str[-1]
    known = head.isin(transcript_ids).to_numpy()
    offset = np.where(parts.str.len().to_numpy() > 1, pd.to_numeric(tail, errors="coerce").to_numpy(), 0)
    ok = known & ~np.isnan(offset.astype(float))
    offset = np.where(ok, offset, 0).astype(np.int64)
    return pd.DataFrame({"transcript_id": np.where(ok, head.to_numpy(dtype=object), None),
                         "tx_start": np.where(ok, tokens["start"].to_numpy() + offset, -1),
                         "tx_end": np.where(ok, tokens["end"].to_numpy() + offset, -1)})


def token_concepts(positions: pd.DataFrame, models: pd.DataFrame, *, flank: int = 30,
                   sequences: dict[str, str] | None = None, switch_exons: pd.DataFrame | None = None) -> pd.DataFrame:
    """Which concepts each token is in (see the module table).

    Parameters
    ----------
    positions : DataFrame
        :func:`transcript_positions` output.
    models : DataFrame
        Transcript models (:func:`isograph.structure.cache.load_transcript_models`).
    flank : int, default 30
        Bases of a splice-site flank.
    sequences : dict of str to str, optional
        Transcript sequences: place the stop codon where the sequence has it (without them, the ORF's
        last codon is taken as the stop codon).
    switch_exons : DataFrame, optional
        ``transcript_id, tx_start, tx_end`` of the stretches called switches gain or lose (without them,
        ``switch exon`` is all False).

    Returns
    -------
    DataFrame of bool
        One column per concept of ``CONCEPTS``, aligned with ``positions`` (all False for unmapped tokens).
    """
    out = pd.DataFrame(False, index=positions.index, columns=list(CONCEPTS))
    by_id = models.set_index("transcript_id")
    mapped = positions["transcript_id"].notna().to_numpy()
    if not mapped.any():
        return out
    rows = np.flatnonzero(mapped)
    tx = positions["transcript_id"].to_numpy(dtype=object)[rows]
    s, e = positions["tx_start"].to_numpy()[rows], positions["tx_end"].to_numpy()[rows]
    m = (s + e - 1) / 2
    info = by_id.reindex(tx)
    coding = info["coding"].fillna(False).to_numpy(dtype=bool)
    utr5, orf = info["utr5_length"].fillna(0).to_numpy(float), info["orf_length"].fillna(0).to_numpy(float)
    stop_end = utr5 + orf
    if sequences is not None:
        from isograph.sae.variants import stop_codon_end

        ends = {t: stop_codon_end(sequences[t], int(by_id.loc[t, "utr5_length"]), int(by_id.loc[t, "orf_length"]))
                for t in set(tx) if t in sequences and t in by_id.index and bool(by_id.loc[t, "coding"])}
        stop_end = np.array([ends.get(t, v) for t, v in zip(tx, stop_end)], dtype=float)
    orf_end = utr5 + orf
    values = {
        "CDS": coding & (m >= utr5) & (m < orf_end),
        "5'UTR": coding & (m < utr5),
        "3'UTR": coding & (m >= stop_end),
        "start codon": coding & (s < utr5 + 3) & (e > utr5),
        "stop codon": coding & (s < stop_end) & (e > stop_end - 3),
        "NMD-sensitive": info["nmd"].fillna(False).to_numpy(dtype=bool),
    }
    junction = {key: np.zeros(len(rows), dtype=bool) for key in
                ("exon junction", "donor flank", "acceptor flank", "first exon", "last exon")}
    for transcript, where in pd.Series(np.arange(len(rows))).groupby(tx).groups.items():
        if transcript not in by_id.index:
            continue
        cuts = junction_positions(by_id.loc[transcript])
        if not len(cuts):
            continue
        idx = np.asarray(where)
        ts, te, tm = s[idx], e[idx], m[idx]
        junction["exon junction"][idx] = ((cuts[None, :] > ts[:, None]) & (cuts[None, :] < te[:, None])).any(axis=1)
        junction["donor flank"][idx] = ((tm[:, None] >= cuts[None, :] - flank) & (tm[:, None] < cuts[None, :])).any(1)
        junction["acceptor flank"][idx] = ((tm[:, None] >= cuts[None, :]) & (tm[:, None] < cuts[None, :] + flank)).any(1)
        junction["first exon"][idx] = tm < cuts[0]
        junction["last exon"][idx] = tm >= cuts[-1]
    switch = np.zeros(len(rows), dtype=bool)
    if switch_exons is not None and len(switch_exons):
        for transcript, part in switch_exons.groupby("transcript_id"):
            idx = np.flatnonzero(tx == transcript)
            if len(idx):
                a, b = part["tx_start"].to_numpy(), part["tx_end"].to_numpy()
                switch[idx] = ((m[idx, None] >= a[None, :]) & (m[idx, None] < b[None, :])).any(axis=1)
    for name, value in {**values, **junction, "switch exon": switch}.items():
        out.loc[out.index[rows], name] = value
    return out


def concept_scores(z: np.ndarray, concepts: pd.DataFrame, validation: np.ndarray, *,
                   thresholds: tuple[float, ...] = THRESHOLDS) -> pd.DataFrame:
    """Precision, recall and F1 of every feature for every concept, the threshold chosen on the training tokens.

    Parameters
    ----------
    z : ndarray, shape (n_tokens, n_features)
        Feature activations.
    concepts : DataFrame of bool, shape (n_tokens, n_concepts)
        :func:`token_concepts` (tokens outside every transcript are best left out before calling).
    validation : ndarray of bool, shape (n_tokens,)
        Tokens of held-out genes (scored); the others choose the threshold.
    thresholds : tuple of float
        Fractions of each feature's largest activation (over all tokens).

    Returns
    -------
    DataFrame
        ``feature, concept, threshold, precision, recall, f1`` (validation tokens), ``f1_train``,
        ``n_concept_tokens`` (validation tokens in the concept), ``n_active`` (validation tokens active).
    """
    if len(z) != len(concepts) or len(validation) != len(z):
        raise InputError("activations, concept labels and the validation mask must have one row per token")
    labels = concepts.to_numpy(dtype=np.float64)
    peak = z.max(axis=0)
    results = {}
    for t in thresholds:
        active = z > (t * peak)[None, :]
        for part in ("train", "validation"):
            rows = ~validation if part == "train" else validation
            a = sparse.csr_matrix(active[rows].astype(np.float64))
            tp = np.asarray((a.T @ labels[rows]))  # features x concepts
            predicted = np.asarray(a.sum(axis=0)).ravel()[:, None]
            actual = labels[rows].sum(axis=0)[None, :]
            precision = np.divide(tp, predicted, out=np.zeros_like(tp), where=predicted > 0)
            recall = np.divide(tp, actual, out=np.zeros_like(tp), where=actual > 0)
            f1 = np.divide(2 * precision * recall, precision + recall, out=np.zeros_like(tp), where=(precision + recall) > 0)
            results[(t, part)] = (precision, recall, f1, np.broadcast_to(actual, tp.shape), np.broadcast_to(predicted, tp.shape))
    train_f1 = np.stack([results[(t, "train")][2] for t in thresholds])  # thresholds x features x concepts
    choice = train_f1.argmax(axis=0)
    pick = lambda k: np.take_along_axis(np.stack([results[(t, "validation")][k] for t in thresholds]),  # noqa: E731
                                        choice[None], axis=0)[0]
    n_features, n_concepts = choice.shape
    return pd.DataFrame({
        "feature": np.repeat(np.arange(n_features), n_concepts),
        "concept": np.tile(list(concepts.columns), n_features),
        "threshold": np.asarray(thresholds)[choice].ravel(),
        "precision": pick(0).ravel(), "recall": pick(1).ravel(), "f1": pick(2).ravel(),
        "f1_train": np.take_along_axis(train_f1, choice[None], axis=0)[0].ravel(),
        "n_concept_tokens": pick(3).ravel().astype(int), "n_active": pick(4).ravel().astype(int),
    })


def best_concepts(scores: pd.DataFrame) -> pd.DataFrame:
    """The concept with the highest validation F1 of each feature.

    Parameters
    ----------
    scores : DataFrame
        :func:`concept_scores` output.

    Returns
    -------
    DataFrame
        ``feature, best_concept, best_concept_f1, best_concept_precision, best_concept_recall``.
    """
    top = scores.sort_values(["feature", "f1", "concept"], ascending=[True, False, True]).drop_duplicates("feature")
    return pd.DataFrame({"feature": top["feature"].to_numpy(), "best_concept": top["concept"].to_numpy(),
                         "best_concept_f1": top["f1"].to_numpy(), "best_concept_precision": top["precision"].to_numpy(),
                         "best_concept_recall": top["recall"].to_numpy()})

"""What one SAE feature responds to: statistics, top-activating and quantile-sampled sequences, the
annotation track of a sequence, and the feature's activations on a sequence the user pastes.

The layout follows feature dashboards of Neuronpedia and InterPLM: activation frequency (the fraction of
tokens on which the feature is active, z > 0), the largest activation, a histogram of the non-zero
activations, the sequences whose largest activation is highest, and sequences sampled from intervals of
that per-sequence maximum (so that weak activations are seen too).
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from isograph.errors import InputError
from isograph.structure.models import junction_positions

if TYPE_CHECKING:
    from isograph.sae.lm import LocalLM

__all__ = ["FeatureProfile", "clean_dna", "feature_profile", "sequence_activations", "sequence_track",
           "token_activations"]

_NOT_DNA = re.compile(r"[^ACGTN]")


@dataclass
class FeatureProfile:
    """Summary of one feature over a token table.

    Attributes
    ----------
    feature : int
    n_tokens, n_active : int
        Tokens seen, tokens with z > 0.
    frequency : float
        ``n_active / n_tokens``.
    max_activation, mean_active : float
        Largest activation; mean over active tokens (NaN when never active).
    histogram : DataFrame
        ``left, right, count`` of the non-zero activations (``bins`` equal-width bins).
    top_sequences : DataFrame
        ``seq_id, set, max_activation, n_active, argmax_token`` (+ ``gene_name`` when the tokens have
        it), ``n_copies`` (sequences with the identical token string — e.g. the same window of sibling
        transcripts — shown once, under the first ID), the ``n_top`` distinct sequences with the highest
        per-sequence maximum.
    quantile_samples : DataFrame
        The same columns plus ``interval`` ("Q1 0.01–0.20" … lowest first), up to ``per_interval``
        sequences sampled (seeded) from each of ``n_intervals`` quantile intervals of the per-sequence
        maximum among sequences where the feature is active, excluding the top sequences.
    """

    feature: int
    n_tokens: int
    n_active: int
    frequency: float
    max_activation: float
    mean_active: float
    histogram: pd.DataFrame
    top_sequences: pd.DataFrame
    quantile_samples: pd.DataFrame


def feature_profile(tokens: pd.DataFrame, values: np.ndarray, *, feature: int, n_top: int = 8, n_intervals: int = 4,
                    per_interval: int = 2, bins: int = 40, seed: int = 0) -> FeatureProfile:
    """Statistics, histogram, top and quantile-sampled sequences of one feature.

    Parameters
    ----------
    tokens : DataFrame
        Token table (:mod:`isograph.sae.embed`): ``seq_id, token_index, token`` (+ ``set``, ``gene_name``).
    values : ndarray
        The feature's activation on each token, shape ``(len(tokens),)``.
    feature : int
        Its index (recorded only).
    n_top, n_intervals, per_interval, bins, seed : int
        See :class:`FeatureProfile`.

    Returns
    -------
    FeatureProfile

    Examples
    --------
    >>> tokens = pd.DataFrame({"seq_id": ["a", "a", "b", "b"], "token_index": [0, 1, 0, 1],
    ...                        "token": ["AAAAAA", "CCCCCC", "GGGGGG", "TTTTTT"]})
    >>> p = feature_profile(tokens, np.array([0.0, 2.0, 0.5, 0.0]), feature=3)
    >>> p.frequency, p.max_activation, p.top_sequences["seq_id"].tolist()
    (0.5, 2.0, ['a', 'b'])
    >>> twins = pd.concat([tokens, tokens.assign(seq_id="a2").iloc[:2]], ignore_index=True)
    >>> feature_profile(twins, np.array([0.0, 2.0, 0.5, 0.0, 0.0, 2.0]), feature=3).top_sequences[["seq_id", "n_copies"]].values.tolist()
    [['a', 2], ['b', 1]]
    """
    values = np.asarray(values, dtype=np.float64)
    if values.shape != (len(tokens),):
        raise InputError(f"got {values.shape} activations for {len(tokens)} tokens")
    active = values > 0
    n_active = int(active.sum())
    hist_counts, edges = np.histogram(values[active], bins=bins) if n_active else (np.zeros(0, int), np.zeros(1))
    histogram = pd.DataFrame({"left": edges[:-1], "right": edges[1:], "count": hist_counts})
    per_seq = _per_sequence(tokens, values)
    top = per_seq.head(n_top)
    rest = per_seq.iloc[len(top):]
    rest = rest[rest["max_activation"] > 0]
    samples = []
    if len(rest):
        cuts = np.quantile(rest["max_activation"], np.linspace(0, 1, n_intervals + 1))
        label = np.clip(np.searchsorted(cuts, rest["max_activation"], side="right") - 1, 0, n_intervals - 1)
        rng = np.random.default_rng(seed)
        for i in range(n_intervals):
            members = rest[label == i]
            if members.empty:
                continue
            pick = members.iloc[np.sort(rng.choice(len(members), min(per_interval, len(members)), replace=False))]
            samples.append(pick.assign(interval=f"Q{i + 1} {cuts[i]:.2f}–{cuts[i + 1]:.2f}"))
    quantiles = pd.concat(samples, ignore_index=True) if samples else per_seq.iloc[:0].assign(interval="")
    return FeatureProfile(feature=int(feature), n_tokens=len(values), n_active=n_active,
                          frequency=n_active / len(values) if len(values) else float("nan"),
                          max_activation=float(values.max()) if len(values) else float("nan"),
                          mean_active=float(values[active].mean()) if n_active else float("nan"),
                          histogram=histogram, top_sequences=top.reset_index(drop=True),
                          quantile_samples=quantiles)


def _per_sequence(tokens: pd.DataFrame, values: np.ndarray) -> pd.DataFrame:
    frame = pd.DataFrame({"seq_id": tokens["seq_id"].to_numpy(), "value": values,
                          "token": tokens["token"].to_numpy(), "active": values > 0})
    text = frame.groupby("seq_id", sort=False)["token"].agg("".join)  # the sequence, as its tokens spell it
    copies = text.map(text.value_counts())
    first = ~text.duplicated()
    frame = frame[frame["seq_id"].isin(text.index[first.to_numpy()])]  # identical windows once, under the first ID
    grouped = frame.groupby("seq_id", sort=False)
    best = frame.loc[grouped["value"].idxmax()]
    out = pd.DataFrame({"seq_id": best["seq_id"].to_numpy(), "max_activation": best["value"].to_numpy(),
                        "n_active": grouped["active"].sum().reindex(best["seq_id"]).to_numpy().astype(int),
                        "argmax_token": best["token"].to_numpy(),
                        "n_copies": copies.reindex(best["seq_id"]).to_numpy().astype(int)})
    extra = [c for c in ("set", "gene_name") if c in tokens]
    if extra:
        info = tokens.drop_duplicates("seq_id").set_index("seq_id")[extra]
        for col in extra:
            out.insert(1 if col == "set" else len(out.columns), col, info[col].reindex(out["seq_id"]).to_numpy())
    return out.sort_values(["max_activation", "seq_id"], ascending=[False, True], ignore_index=True)


def token_activations(tokens: pd.DataFrame, values: np.ndarray, seq_ids: list[str]) -> pd.DataFrame:
    """Per-token activations of some sequences, in the order of ``seq_ids``.

    Parameters
    ----------
    tokens : DataFrame
        Token table (``seq_id, token_index, token, start, end``).
    values : ndarray
        One feature's activation per token, aligned with ``tokens``.
    seq_ids : list of str
        The sequences wanted (rows come in this order).

    Returns
    -------
    DataFrame
        ``seq_id, token_index, token, start, end, activation``.
    """
    keep = tokens["seq_id"].isin(seq_ids).to_numpy()
    rows = tokens.loc[keep, ["seq_id", "token_index", "token", "start", "end"]].assign(
        activation=np.asarray(values, dtype=np.float64)[keep])
    rows["seq_id"] = pd.Categorical(rows["seq_id"], categories=list(dict.fromkeys(seq_ids)), ordered=True)
    rows = rows.sort_values(["seq_id", "token_index"], ignore_index=True)
    rows["seq_id"] = rows["seq_id"].astype(str)
    return rows


def sequence_track(seq_id: str, length: int, models: pd.DataFrame, *, chrom: str | None = None, start: int = -1,
                   strand: str = "+") -> pd.DataFrame:
    """Annotation track (5'UTR, CDS, 3'UTR, exon junctions) of a window of a transcript, from its model;
    for a sequence with genomic coordinates, from the transcripts it overlaps.

    Parameters
    ----------
    seq_id : str
        ``TRANSCRIPT|REGION|OFFSET`` (the demo's windows), ``TRANSCRIPT|OFFSET`` (tiles of a transcript
        FASTA) or ``TRANSCRIPT``; OFFSET is the 0-based first base of the window in the transcript.
    length : int
        Window length in bases.
    models : DataFrame
        :func:`isograph.structure.models.transcript_models` rows (any set; the transcript is looked up).
    chrom, start, strand : optional
        Genomic coordinates of the sequence (1-based first base; ``start`` -1 = none), used when
        ``seq_id`` names no transcript: each base is labelled CDS, 5'UTR, 3'UTR (of a coding transcript's
        exon) or exon (of a non-coding one), CDS first, read along the sequence (5'->3' on ``strand``).

    Returns
    -------
    DataFrame
        ``start, end, kind`` in window coordinates (0-based, end exclusive); ``kind`` is "5'UTR",
        "CDS", "3'UTR" or "exon" (non-coding), and "junction" rows (start = end) mark exon-exon
        junctions. Empty when the transcript is not in ``models``.

    Examples
    --------
    >>> models = pd.DataFrame({"transcript_id": ["T1"], "strand": ["+"], "exon_starts": [[1, 201]],
    ...                        "exon_ends": [[100, 400]], "coding": [True], "utr5_length": [30],
    ...                        "orf_length": [150], "length": [300]})
    >>> sequence_track("T1|CDS|20", 100, models).values.tolist()
    [[0, 10, "5'UTR"], [10, 100, 'CDS'], [80, 80, 'junction']]
    """
    parts = str(seq_id).split("|")
    transcript = parts[0]
    offset = int(parts[-1]) if len(parts) > 1 and parts[-1].isdigit() else 0
    hit = models[models["transcript_id"] == transcript]
    if hit.empty:
        if chrom is None or start < 0:
            return pd.DataFrame(columns=["start", "end", "kind"])
        return _genomic_track(models, str(chrom), int(start), int(length), strand)
    model = hit.iloc[0]
    total = int(model["length"])
    if model["coding"]:
        utr5, orf = int(model["utr5_length"]), int(model["orf_length"])
        pieces = [(0, utr5, "5'UTR"), (utr5, utr5 + orf, "CDS"), (utr5 + orf, total, "3'UTR")]
    else:
        pieces = [(0, total, "exon")]
    rows = []
    for lo, hi, kind in pieces:
        lo, hi = max(lo, offset) - offset, min(hi, offset + length) - offset
        if hi > lo:
            rows.append((lo, hi, kind))
    for junction in junction_positions(model):
        if offset < junction < offset + length:
            rows.append((int(junction - offset), int(junction - offset), "junction"))
    return pd.DataFrame(rows, columns=["start", "end", "kind"])


_KINDS = ("", "exon", "3'UTR", "5'UTR", "CDS")  # a base gets the highest-ranked label of any transcript


def _genomic_track(models: pd.DataFrame, chrom: str, start: int, length: int, strand: str) -> pd.DataFrame:
    end = start + length - 1
    near = models[(models["seqname"] == chrom) & (models["start"] <= end) & (models["end"] >= start)]
    label = np.zeros(length, dtype=np.int8)
    for model in near.itertuples(index=False):
        for s, e in zip(np.asarray(model.exon_starts), np.asarray(model.exon_ends)):
            lo, hi = max(int(s), start), min(int(e), end)
            if lo > hi:
                continue
            bases = np.arange(lo, hi + 1)
            if not model.coding:
                code = np.full(len(bases), 1)
            else:
                upstream = bases < model.cds_start if model.strand == "+" else bases > model.cds_end
                code = np.where((bases >= model.cds_start) & (bases <= model.cds_end), 4, np.where(upstream, 3, 2))
            np.maximum.at(label, bases - start, code.astype(np.int8))
    if strand == "-":
        label = label[::-1]
    change = np.flatnonzero(np.diff(label)) + 1
    bounds = np.r_[0, change, length]
    rows = [(int(a), int(b), _KINDS[label[a]]) for a, b in itertools.pairwise(bounds) if label[a] > 0]
    return pd.DataFrame(rows, columns=["start", "end", "kind"])


def clean_dna(text: str, *, k: int = 6, max_bases: int | None = None) -> str:
    """A pasted DNA sequence, checked: FASTA header lines and whitespace dropped, upper case, U -> T.

    Parameters
    ----------
    text : str
        What the user pasted.
    k : int, default 6
        The model's k-mer size (the shortest sequence that makes a token).
    max_bases : int, optional
        The longest sequence the model takes.

    Returns
    -------
    str
        The bases.

    Raises
    ------
    InputError
        Empty, shorter than ``k``, longer than ``max_bases``, or a character other than A, C, G, T, N
        (the message names the character and its position).

    Examples
    --------
    >>> clean_dna(">my seq\\nacgtac gtu\\n")
    'ACGTACGTT'
    >>> clean_dna("ACGTXACGT")
    Traceback (most recent call last):
    ...
    isograph.errors.InputError: invalid DNA: 'X' at position 5; use only A, C, G, T (or N)
    """
    lines = [line for line in (text or "").splitlines() if not line.lstrip().startswith(">")]
    sequence = re.sub(r"\s+", "", "".join(lines)).upper().replace("U", "T")
    if not sequence:
        raise InputError("no sequence: paste DNA bases (A, C, G, T), optionally after a FASTA header line")
    bad = _NOT_DNA.search(sequence)
    if bad is not None:
        raise InputError(f"invalid DNA: {bad.group()!r} at position {bad.start() + 1}; use only A, C, G, T (or N)")
    if len(sequence) < k:
        raise InputError(f"the sequence has {len(sequence)} bases; at least {k} are needed (one {k}-mer token)")
    if max_bases is not None and len(sequence) > max_bases:
        raise InputError(f"the sequence has {len(sequence):,} bases; the model takes at most {max_bases:,}"
                         " (paste a shorter piece)")
    return sequence


def sequence_activations(lm: LocalLM, sae: object, sequence: str, *, layer_idx: int, feature: int | None = None,
                         n_features: int = 10) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Run a sequence through the LM and the SAE.

    Parameters
    ----------
    lm : isograph.sae.lm.LocalLM
    sae : SparseAutoencoder
        Trained on ``hidden_states[layer_idx]`` of ``lm``.
    sequence : str
        Checked with :func:`clean_dna` first.
    layer_idx : int
    feature : int, optional
        The feature whose per-token activation is returned (default: the sequence's strongest).
    n_features : int, default 10

    Returns
    -------
    tokens : DataFrame
        ``token_index, token, start, end, activation`` (of ``feature``).
    top_features : DataFrame
        ``feature, max_activation, n_active`` of the ``n_features`` features with the highest maximum.
    """
    from isograph.sae.embed import embed_sequences
    from isograph.sae.model import encode

    bases = clean_dna(sequence, k=lm.k, max_bases=lm.k * (lm.max_tokens - 1))
    table = pd.DataFrame({"seq_id": ["pasted"], "sequence": [bases], "chrom": [None], "start": [-1], "end": [-1],
                          "strand": ["."], "set": ["pasted"]})
    acts = embed_sequences(lm, table, [layer_idx])
    z = encode(sae, acts.layer(layer_idx))
    if feature is not None and not 0 <= feature < z.shape[1]:
        raise InputError(f"feature {feature} is out of range: the SAE has features 0..{z.shape[1] - 1}")
    maxima = z.max(axis=0)
    order = np.argsort(-maxima, kind="stable")[:n_features]
    top = pd.DataFrame({"feature": order, "max_activation": maxima[order], "n_active": (z[:, order] > 0).sum(axis=0)})
    chosen = int(order[0]) if feature is None else int(feature)
    tokens = acts.tokens[["token_index", "token", "start", "end"]].assign(activation=z[:, chosen].astype(np.float64))
    return tokens.reset_index(drop=True), top

"""Transcript models from GTF rows: one row per transcript, vectorised over all exons.

A model holds the exons (genomic ascending starts/ends; 5'->3' order given by the strand), the CDS span
including the start and stop codons, transcript/ORF/5'UTR/3'UTR lengths, TSS/TTS, splice junctions, and
the PTC/NMD call: the stop codon lies more than 50 nt upstream of the last exon-exon junction. All
5'/3', upstream/downstream words are in transcript orientation.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
import pyarrow as pa

from isograph.errors import InputError

__all__ = ["MODEL_COLUMNS", "NMD_DISTANCE", "genomic_positions", "junction_positions", "splice_junctions", "transcript_models", "transcript_position"]

NMD_DISTANCE = 50

#: The columns of :func:`transcript_models`, in order (an empty table of models has them too).
MODEL_COLUMNS = ("transcript_id", "gene_id", "gene_name", "seqname", "strand", "biotype", "start", "end", "tss", "tts",
                 "n_exons", "exon_starts", "exon_ends", "length", "coding", "cds_start", "cds_end", "orf_length",
                 "utr5_length", "utr3_length", "stop_to_last_junction", "nmd")
def transcript_models(rows: pd.DataFrame) -> pd.DataFrame:
    """Build one model per transcript from :func:`read_gtf` rows (vectorised over all exons).

    Parameters
    ----------
    rows : DataFrame
        Output of :func:`read_gtf`.

    Returns
    -------
    DataFrame
        One row per transcript with exons, sorted by ``gene_id, transcript_id``:

        ``transcript_id, gene_id, gene_name, seqname, strand, biotype`` (transcript_type, else
        ``coding``/``noncoding``), ``start, end`` (span), ``tss, tts`` (5' and 3' ends, genomic),
        ``n_exons``, ``exon_starts, exon_ends`` (int64 arrays, genomic ascending), ``length`` (exonic nt),
        ``coding`` (bool), ``cds_start, cds_end`` (genomic span incl. start/stop codons; -1 when
        noncoding), ``orf_length, utr5_length, utr3_length`` (nt, transcript orientation),
        ``stop_to_last_junction`` (nt from the stop codon's last base to the last exon-exon junction;
        NaN for single-exon or noncoding), ``nmd`` (that distance > 50 nt).

    Raises
    ------
    InputError
        A transcript on two strands or chromosomes, or with overlapping exons.
    """
    exons = rows[rows["feature"] == "exon"]
    if exons.empty:
        raise InputError("the GTF has no exon rows")
    exons = exons.sort_values(["transcript_id", "start"], kind="stable")
    tx_codes, tx_ids = pd.factorize(exons["transcript_id"], sort=True)
    starts = exons["start"].to_numpy()
    ends = exons["end"].to_numpy()
    offsets = np.r_[0, np.cumsum(np.bincount(tx_codes, minlength=len(tx_ids)))]
    first, last = offsets[:-1], offsets[1:] - 1
    n_tx = len(tx_ids)

    def per_tx(values: pd.Series) -> np.ndarray:
        return values.to_numpy()[first]

    strand = exons["strand"].astype(str)
    multi = pd.DataFrame({"c": tx_codes, "s": strand.to_numpy(), "q": exons["seqname"].astype(str).to_numpy()})
    conflicting = multi.groupby("c")[["s", "q"]].nunique().max(axis=1) > 1
    if conflicting.any():
        raise InputError(f"transcript {tx_ids[int(np.flatnonzero(conflicting)[0])]!r} has exons on two strands"
                         " or chromosomes")
    same_tx = np.r_[False, tx_codes[1:] == tx_codes[:-1]]
    overlap = same_tx & (starts <= np.r_[-1, ends[:-1]])
    if overlap.any():
        raise InputError(f"transcript {tx_ids[tx_codes[np.flatnonzero(overlap)[0]]]!r} has overlapping exons")

    exon_len = ends - starts + 1
    length = np.add.reduceat(exon_len, first)
    plus = per_tx(strand) == "+"
    span_start, span_end = starts[first], np.maximum.reduceat(ends, first)

    # CDS span (CDS, start and stop codon rows together)
    cds_rows = rows[rows["feature"].isin(["CDS", "start_codon", "stop_codon"])]
    cds_codes = pd.Index(tx_ids).get_indexer(cds_rows["transcript_id"])
    known = cds_codes >= 0
    cds_start = np.full(n_tx, np.iinfo(np.int64).max)
    cds_end = np.full(n_tx, -1)
    np.minimum.at(cds_start, cds_codes[known], cds_rows["start"].to_numpy()[known])
    np.maximum.at(cds_end, cds_codes[known], cds_rows["end"].to_numpy()[known])
    coding = cds_end >= 0
    cds_start = np.where(coding, cds_start, -1)

    # exonic nt left of the CDS start and right of the CDS end (genomic), per exon then per transcript
    cs, ce = cds_start[tx_codes], cds_end[tx_codes]
    left = np.clip(np.minimum(ends, cs - 1) - starts + 1, 0, None)
    right = np.clip(ends - np.maximum(starts, ce + 1) + 1, 0, None)
    is_coding_exon = coding[tx_codes]
    left_len = np.add.reduceat(np.where(is_coding_exon, left, 0), first)
    right_len = np.add.reduceat(np.where(is_coding_exon, right, 0), first)
    utr5 = np.where(coding, np.where(plus, left_len, right_len), 0)
    utr3 = np.where(coding, np.where(plus, right_len, left_len), 0)
    orf = np.where(coding, length - left_len - right_len, 0)

    n_exons = last - first + 1
    three_prime_exon_len = np.where(plus, exon_len[last], exon_len[first])
    last_junction = length - three_prime_exon_len  # transcript coordinate of the last junction
    stop_end = utr5 + orf  # transcript coordinate of the stop codon's last base
    distance = np.where(coding & (n_exons >= 2), last_junction - stop_end, np.nan)

    # first non-empty value over a transcript's rows (some GTFs give attributes on some rows only)
    firsts = pd.DataFrame({"t": exons["transcript_type"].astype(object).to_numpy(),
                           "n": exons["gene_name"].astype(object).to_numpy()}).groupby(tx_codes).first()
    types = firsts["t"].reindex(range(n_tx)).to_numpy()
    biotype = np.where(pd.isna(types), np.where(coding, "coding", "noncoding"), types)
    names = firsts["n"].reindex(range(n_tx)).to_numpy()
    genes = per_tx(exons["gene_id"].astype(object))
    models = pd.DataFrame({
        "transcript_id": np.asarray(tx_ids, dtype=object),
        "gene_id": genes,
        "gene_name": np.where(pd.isna(names), genes, names),
        "seqname": per_tx(exons["seqname"].astype(object)),
        "strand": np.where(plus, "+", "-"),
        "biotype": biotype.astype(object),
        "start": span_start,
        "end": span_end,
        "tss": np.where(plus, span_start, span_end),
        "tts": np.where(plus, span_end, span_start),
        "n_exons": n_exons,
        "exon_starts": pa.ListArray.from_arrays(offsets, pa.array(starts)).to_pandas().to_numpy(),
        "exon_ends": pa.ListArray.from_arrays(offsets, pa.array(ends)).to_pandas().to_numpy(),
        "length": length,
        "coding": coding,
        "cds_start": cds_start,
        "cds_end": cds_end,
        "orf_length": orf,
        "utr5_length": utr5,
        "utr3_length": utr3,
        "stop_to_last_junction": distance,
        "nmd": np.nan_to_num(distance, nan=-np.inf) > NMD_DISTANCE,
    })
    order = np.lexsort((models["transcript_id"].to_numpy(), models["gene_id"].astype(str).to_numpy()))
    return models.iloc[order].reset_index(drop=True)


def splice_junctions(model: pd.Series) -> list[tuple[int, int]]:
    """Introns of a transcript model as genomic (first, last) intronic bases, 5'->3' in transcript order.

    Parameters
    ----------
    model : Series
        A row of :func:`transcript_models`.

    Returns
    -------
    list of (int, int)
        1-based inclusive intron spans; empty for a single-exon transcript.
    """
    starts, ends = np.asarray(model["exon_starts"]), np.asarray(model["exon_ends"])
    introns = [(int(e) + 1, int(s) - 1) for e, s in zip(ends[:-1], starts[1:])]
    return introns[::-1] if model["strand"] == "-" else introns


def _exon_lengths(model: Mapping) -> np.ndarray:
    """Exon lengths in genomic order (the models' exons are genomic ascending)."""
    return np.asarray(model["exon_ends"]) - np.asarray(model["exon_starts"]) + 1


def junction_positions(model: Mapping) -> np.ndarray:
    """Where the exon-exon junctions lie in the transcript: the 0-based index of the first base of each exon
    after the first, 5'->3'.

    Parameters
    ----------
    model : Series or mapping
        A row of :func:`transcript_models` (``strand, exon_starts, exon_ends``).

    Returns
    -------
    ndarray of int
        Empty for a single-exon transcript.

    Examples
    --------
    >>> junction_positions({"strand": "-", "exon_starts": [1, 101], "exon_ends": [20, 140]}).tolist()
    [40]
    """
    lengths = _exon_lengths(model)
    return np.cumsum(lengths[::-1] if model["strand"] == "-" else lengths)[:-1]


def transcript_position(model: Mapping, genomic: int) -> int | None:
    """0-based index in the transcript of a 1-based genomic position (None outside its exons).

    Parameters
    ----------
    model : Series or mapping
        A row of :func:`transcript_models` (``strand, exon_starts, exon_ends``).
    genomic : int

    Returns
    -------
    int or None

    Examples
    --------
    >>> model = {"strand": "-", "exon_starts": [1, 101], "exon_ends": [20, 140]}
    >>> transcript_position(model, 140), transcript_position(model, 20), transcript_position(model, 50)
    (0, 40, None)
    """
    starts, ends = np.asarray(model["exon_starts"]), np.asarray(model["exon_ends"])
    inside = np.flatnonzero((starts <= genomic) & (genomic <= ends))
    if not len(inside):
        return None
    i, lengths = int(inside[0]), _exon_lengths(model)
    if model["strand"] == "-":
        return int(lengths[i + 1:].sum() + ends[i] - genomic)
    return int(lengths[:i].sum() + genomic - starts[i])


def genomic_positions(model: Mapping, indices: Sequence[int] | np.ndarray) -> np.ndarray:
    """1-based genomic positions of 0-based transcript indices (the inverse of :func:`transcript_position`).

    Parameters
    ----------
    model : Series or mapping
        A row of :func:`transcript_models` (``strand, exon_starts, exon_ends``).
    indices : array-like of int
        0-based positions in the transcript (5'->3'), each in ``[0, transcript length)``.

    Returns
    -------
    ndarray of int64

    Raises
    ------
    ValueError
        An index outside the transcript.

    Examples
    --------
    >>> model = {"strand": "-", "exon_starts": [1, 101], "exon_ends": [20, 140]}
    >>> genomic_positions(model, [0, 39, 40, 59]).tolist()
    [140, 101, 20, 1]
    """
    starts, ends = np.asarray(model["exon_starts"], dtype=np.int64), np.asarray(model["exon_ends"], dtype=np.int64)
    lengths = ends - starts + 1
    index = np.asarray(indices, dtype=np.int64)
    if index.size and (index.min() < 0 or index.max() >= lengths.sum()):
        raise ValueError(f"transcript index out of range 0..{lengths.sum() - 1}")
    if model["strand"] == "-":
        starts, ends, lengths = starts[::-1], ends[::-1], lengths[::-1]
    before = np.r_[0, np.cumsum(lengths)[:-1]]
    exon = np.searchsorted(before, index, side="right") - 1
    within = index - before[exon]
    return ends[exon] - within if model["strand"] == "-" else starts[exon] + within

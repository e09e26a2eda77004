"""GTF parsing, transcript models and their fingerprinted cache.

Reading is columnar (pyarrow's multithreaded CSV reader plus vectorised regex extraction of the
attributes), never a per-line Python loop. Coordinates stay GTF's: 1-based, inclusive; a length is
``end - start + 1``. All 5'/3', upstream/downstream words are in transcript orientation.

Attribute styles understood
    GENCODE (``transcript_type``, ``gene_name``), Ensembl (``transcript_biotype``), RefSeq (``gene`` for the name, ``transcript_biotype``), UCSC/cufflinks (no
    biotype: ``coding``/``noncoding`` from the presence of CDS rows). Version suffixes (``ENST….3``)
    are kept unless ``strip_versions=True``.

Transcript models (one row per transcript; see :func:`transcript_models`)
    exons (genomic ascending starts/ends), 5'->3' order given by the strand, CDS span including the
    start and stop codons, transcript/ORF/5'UTR/3'UTR lengths, TSS/TTS, splice junctions, and the
    PTC/NMD call: the stop codon lies more than 50 nt upstream of the last exon-exon junction.

Cache
    A parquet of the models whose schema metadata holds a fingerprint of the GTF (size, mtime and a
    SHA-256 of sampled 64 KiB blocks), the cache-format version and the parse options. A stale,
    foreign or unreadable cache is rebuilt, never trusted.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import warnings
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv
import pyarrow.parquet as pq

from isograph.dataset.io import atomic_write
from isograph.errors import InputError, InputWarning

__all__ = [
    "CACHE_FORMAT_VERSION",
    "GtfModels",
    "gtf_fingerprint",
    "load_transcript_models",
    "read_gtf",
    "splice_junctions",
    "transcript_models",
    "write_cache",
]

CACHE_FORMAT_VERSION = 1
NMD_DISTANCE = 50
GTF_COLUMNS = ["seqname", "source", "feature", "start", "end", "score", "strand", "frame", "attribute"]
KEPT_FEATURES = ("exon", "CDS", "start_codon", "stop_codon", "UTR", "five_prime_utr", "three_prime_utr",
                 "5UTR", "3UTR")
ATTRIBUTES = {
    "transcript_id": ("transcript_id",),
    "gene_id": ("gene_id",),
    "gene_name": ("gene_name", "gene"),
    "transcript_type": ("transcript_type", "transcript_biotype"),
}


def _attribute(column: pa.ChunkedArray, keys: tuple[str, ...]) -> pa.ChunkedArray:
    """First of ``keys`` found in each attribute string (null where none is).

    ``\b`` keeps ``gene "`` from matching inside ``havana_gene "``; a fallback key is only searched
    when the first left some rows empty.
    """
    out = None
    for key in keys:
        if out is not None and out.null_count == 0:
            break
        found = pc.struct_field(pc.extract_regex(column, rf'\b{key} "(?P<v>[^"]*)"'), [0])
        out = found if out is None else pc.coalesce(out, found)
    return out


def _line_of_row(path: Path, row: int) -> int:
    """File line number (1-based) of the ``row``-th data line (0-based; comment lines skipped)."""
    opener = gzip.open if path.suffix == ".gz" else open
    seen = -1
    with opener(path, "rt") as handle:
        for number, line in enumerate(handle, start=1):
            if line.startswith("#") or not line.strip():
                continue
            seen += 1
            if seen == row:
                return number
    return -1


def _line_of_text(path: Path, text: str) -> int:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt") as handle:
        for number, line in enumerate(handle, start=1):
            if line.rstrip("\n") == text.rstrip("\n"):
                return number
    return -1


def read_gtf(path: str | os.PathLike, *, strip_versions: bool = False) -> pd.DataFrame:
    """The exon, CDS, UTR and start/stop codon rows of a GTF, with parsed attributes.

    Parameters
    ----------
    path : path-like
        GTF, plain or gzipped (``.gz``).
    strip_versions : bool, default False
        Remove a trailing ``.N`` from transcript and gene IDs.

    Returns
    -------
    DataFrame
        ``seqname, feature, start, end, strand, transcript_id, gene_id, gene_name, transcript_type``
        (categorical where repetitive; start/end int64, 1-based inclusive).

    Raises
    ------
    InputError
        Missing or corrupt file, a line without 9 tab-separated fields, a non-integer coordinate,
        start > end, a strand other than + or -, a kept row without ``transcript_id``/``gene_id``;
        the message gives the line number.
    """
    path = Path(path)
    if not path.exists():
        raise InputError(f"GTF not found: {path}")
    bad: list[str] = []

    def invalid(row: pcsv.InvalidRow) -> str:
        if not row.text.startswith("#"):
            bad.append(row.text)
        return "skip"

    try:
        table = pcsv.read_csv(
            path,
            read_options=pcsv.ReadOptions(column_names=GTF_COLUMNS, block_size=1 << 24),
            parse_options=pcsv.ParseOptions(delimiter="\t", quote_char=False, invalid_row_handler=invalid),
            convert_options=pcsv.ConvertOptions(column_types={c: pa.string() for c in GTF_COLUMNS},
                                                include_columns=["seqname", "feature", "start", "end", "strand",
                                                                 "attribute"]),
        )
    except (gzip.BadGzipFile, zlib.error, EOFError, pa.ArrowInvalid, OSError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise InputError(f"{path}: cannot read the GTF ({first})") from None
    if bad:
        line = _line_of_text(path, bad[0])
        fields = len(bad[0].split("\t"))
        raise InputError(f"{path}: line {line} has {fields} tab-separated fields, a GTF line needs 9"
                         f" ({len(bad)} such line(s))")
    keep = pc.is_in(table["feature"], value_set=pa.array(KEPT_FEATURES))
    row_index = pa.array(np.arange(table.num_rows))
    table = table.filter(keep)
    row_index = row_index.filter(keep)
    coords = {}
    for col in ("start", "end"):
        try:
            coords[col] = pc.cast(table[col], pa.int64())
        except pa.ArrowInvalid:
            ok = pc.match_substring_regex(table[col], r"^[0-9]+$")
            row = int(pc.index(ok, False).as_py())
            raise InputError(f"{path}: line {_line_of_row(path, int(row_index[row].as_py()))}: {col}"
                             f" {table[col][row].as_py()!r} is not an integer") from None
    checks = [
        (pc.greater(coords["start"], coords["end"]), "start is greater than end"),
        (pc.invert(pc.is_in(table["strand"], value_set=pa.array(["+", "-"]))), "strand is not + or -"),
        (pc.less(coords["start"], 1), "start is below 1 (GTF is 1-based)"),
    ]
    attrs = {name: _attribute(table["attribute"], keys) for name, keys in ATTRIBUTES.items()}
    checks.append((pc.or_(pc.is_null(attrs["transcript_id"]), pc.is_null(attrs["gene_id"])),
                   "row without transcript_id or gene_id attribute"))
    for mask, problem in checks:
        mask = pc.fill_null(mask, True)
        if pc.any(mask).as_py():
            row = int(pc.index(mask, True).as_py())
            raise InputError(f"{path}: line {_line_of_row(path, int(row_index[row].as_py()))}: {problem}")
    frame = pd.DataFrame({
        "seqname": table["seqname"].to_pandas().astype("category"),
        "feature": table["feature"].to_pandas().astype("category"),
        "start": coords["start"].to_numpy(),
        "end": coords["end"].to_numpy(),
        "strand": table["strand"].to_pandas().astype("category"),
    })
    for name, values in attrs.items():
        series = values.to_pandas()
        if strip_versions and name in ("transcript_id", "gene_id"):
            series = series.str.replace(r"\.\d+$", "", regex=True)
        frame[name] = series.astype("category") if name != "transcript_id" else series
    return frame


@dataclass
class GtfModels:
    """Transcript models and where they came from.

    Attributes
    ----------
    models : DataFrame
        See :func:`transcript_models`.
    cache_path : Path or None
    cache_used : bool
        True when the models were read from a valid cache.
    n_rows : dict
        Rows per GTF feature type (exon, CDS, ...), as parsed (or as recorded in the cache).
    """

    models: pd.DataFrame
    cache_path: Path | None
    cache_used: bool
    n_rows: dict[str, int]


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


def gtf_fingerprint(path: str | os.PathLike, *, block: int = 1 << 16, n_blocks: int = 16) -> str:
    """Fingerprint of a file: size, mtime and SHA-256 of ``n_blocks`` evenly spaced blocks.

    Parameters
    ----------
    path : path-like
    block : int, default 65536
        Bytes per sampled block.
    n_blocks : int, default 16
        Blocks sampled (the first and the last included).

    Returns
    -------
    str
        ``"{size}:{mtime_ns}:{sha256 hex}"``.
    """
    path = Path(path)
    stat = path.stat()
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        positions = np.linspace(0, max(stat.st_size - block, 0), n_blocks).astype(np.int64)
        for position in np.unique(positions):
            handle.seek(int(position))
            digest.update(handle.read(block))
    return f"{stat.st_size}:{stat.st_mtime_ns}:{digest.hexdigest()}"


def _cache_key(path: Path, strip_versions: bool) -> dict:
    return {"format_version": CACHE_FORMAT_VERSION, "fingerprint": gtf_fingerprint(path),
            "strip_versions": bool(strip_versions), "gtf_name": path.name}


def default_cache_path(gtf: str | os.PathLike) -> Path:
    """``{gtf}.isograph-cache.parquet`` next to the GTF."""
    return Path(f"{gtf}.isograph-cache.parquet")


def load_transcript_models(
    gtf: str | os.PathLike,
    *,
    cache: str | os.PathLike | None = None,
    use_cache: bool = True,
    strip_versions: bool = False,
) -> GtfModels:
    """Transcript models of a GTF, from a valid cache when there is one (else parsed and cached).

    Parameters
    ----------
    gtf : path-like
    cache : path-like, optional
        Cache file (default ``{gtf}.isograph-cache.parquet``).
    use_cache : bool, default True
        False: always parse, write nothing.
    strip_versions : bool, default False
        See :func:`read_gtf`; part of the cache key.

    Returns
    -------
    GtfModels

    Warns
    -----
    InputWarning
        A cache that was stale, foreign, of another format version or unreadable (it is rebuilt), or
        a cache that could not be written.
    """
    gtf = Path(gtf)
    if not gtf.exists():
        raise InputError(f"GTF not found: {gtf}")
    cache_path = Path(cache) if cache is not None else default_cache_path(gtf)
    key = _cache_key(gtf, strip_versions)
    if use_cache and cache_path.exists():
        try:
            meta = pq.read_schema(cache_path).metadata or {}
            stored = json.loads(meta.get(b"isograph_cache", b"{}"))
            if {k: stored.get(k) for k in key} == key:
                models = pq.read_table(cache_path).to_pandas()
                return GtfModels(models, cache_path, True, stored.get("n_rows", {}))
            reason = "stale or built from another GTF or version"
        except Exception as exc:  # a corrupt cache of any kind is rebuilt
            reason = f"unreadable ({type(exc).__name__})"
        warnings.warn(f"GTF cache {cache_path} is {reason}; rebuilding it", InputWarning, stacklevel=2)
    rows = read_gtf(gtf, strip_versions=strip_versions)
    n_rows = {str(k): int(v) for k, v in rows["feature"].value_counts().items()}
    models = transcript_models(rows)
    if use_cache:
        try:
            write_cache(models, cache_path, gtf, n_rows=n_rows, strip_versions=strip_versions)
        except OSError as exc:
            warnings.warn(f"could not write the GTF cache {cache_path} ({exc}); continuing without it",
                          InputWarning, stacklevel=2)
    return GtfModels(models, cache_path if use_cache else None, False, n_rows)


def write_cache(models: pd.DataFrame, cache_path: str | os.PathLike, gtf: str | os.PathLike, *,
                n_rows: dict[str, int], strip_versions: bool = False) -> Path:
    """Write transcript models as a parquet cache keyed by the GTF's fingerprint (atomically).

    Parameters
    ----------
    models : DataFrame
        From :func:`transcript_models`.
    cache_path, gtf : path-like
    n_rows : dict
        Rows per GTF feature type, stored with the key.
    strip_versions : bool, default False
        The parse option the models were made with (part of the key).

    Returns
    -------
    Path
    """
    key = _cache_key(Path(gtf), strip_versions)
    table = pa.Table.from_pandas(models, preserve_index=False)
    table = table.replace_schema_metadata({**(table.schema.metadata or {}),
                                           b"isograph_cache": json.dumps({**key, "n_rows": n_rows}).encode()})
    return atomic_write(cache_path, lambda tmp: pq.write_table(table, tmp))

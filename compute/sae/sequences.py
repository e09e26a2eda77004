"""DNA sequences: FASTA reading (plain or gzip), coordinates from headers, sequence sets, tiling.

A sequence table is a DataFrame with one row per sequence: ``seq_id`` (str, unique), ``sequence``
(str, upper case A/C/G/T/N), ``chrom`` (str or None), ``start``, ``end`` (int, 1-based inclusive genomic
coordinates of the first and last base, or -1 when the header has none), ``strand`` (``+``, ``-`` or
``.``), ``set`` (str label, e.g. ``positive``).
"""

from __future__ import annotations

import gzip
import os
import re
import zlib
from pathlib import Path

import numpy as np
import pandas as pd

from isograph.errors import InputError

__all__ = ["SEQUENCE_COLUMNS", "parse_header", "read_fasta", "read_sequence_sets", "tile_sequences",
           "tile_tokens"]

SEQUENCE_COLUMNS = ["seq_id", "sequence", "chrom", "start", "end", "strand", "set"]
_VALID = re.compile(r"[^ACGTN]")
_COORDS = re.compile(r"^(?P<chrom>[^\s:]+):(?P<start>[\d,]+)-(?P<end>[\d,]+)(?:\((?P<strand>[+\-.])\))?$")


def parse_header(header: str) -> dict:
    """``seq_id`` and coordinates from a FASTA header.

    ``chr12:65824760-65824860(+)`` (UCSC ``getfasta -s`` style, 0-based half-open start as bedtools
    writes it) gives chrom ``chr12``, start 65824761, end 65824860 (1-based inclusive), strand ``+``.
    Other headers keep their first word as ``seq_id`` and have no coordinates.

    Examples
    --------
    >>> parse_header("chr12:65824760-65824860(+)")
    {'seq_id': 'chr12:65824760-65824860(+)', 'chrom': 'chr12', 'start': 65824761, 'end': 65824860, 'strand': '+'}
    >>> parse_header("TCONS_00000001 gene=ABC")["seq_id"], parse_header("TCONS_00000001")["start"]
    ('TCONS_00000001', -1)
    """
    seq_id = header.split()[0] if header.split() else ""
    match = _COORDS.match(seq_id)
    if match is None:
        return {"seq_id": seq_id, "chrom": None, "start": -1, "end": -1, "strand": "."}
    start, end = int(match["start"].replace(",", "")), int(match["end"].replace(",", ""))
    return {"seq_id": seq_id, "chrom": match["chrom"], "start": start + 1, "end": end, "strand": match["strand"] or "."}


def _lines(path: Path):
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rt", encoding="utf-8", errors="strict") as handle:
            yield from handle
    except FileNotFoundError:
        raise InputError(f"{path}: no such FASTA file") from None
    except (OSError, EOFError, zlib.error) as exc:
        raise InputError(f"{path}: cannot be read as {'gzip ' if path.suffix == '.gz' else ''}FASTA ({exc})") from None
    except UnicodeDecodeError:
        raise InputError(f"{path}: is not a text FASTA file (bytes that are not UTF-8)") from None


def read_fasta(path: str | os.PathLike, *, set_name: str | None = None, allow_iupac: bool = False) -> pd.DataFrame:
    """Read a FASTA file (``.gz`` allowed) into a sequence table.

    Parameters
    ----------
    path : path
    set_name : str, optional
        The ``set`` label of every sequence (default: the file name without suffixes).
    allow_iupac : bool, default False
        Turn IUPAC ambiguity codes (R, Y, K, M, S, W, B, D, H, V) into N instead of refusing them.

    Returns
    -------
    DataFrame
        :data:`SEQUENCE_COLUMNS`, upper-case sequences, in file order.

    Raises
    ------
    InputError
        Missing/corrupt file, sequence text before the first header, an empty or duplicate ID, an empty
        sequence, or a character other than A/C/G/T/N (named with its record and 1-based position).
    """
    path = Path(path)
    records: list[dict] = []
    chunks: list[str] = []
    seen: dict[str, int] = {}

    def close(line_no: int) -> None:
        if not records:
            return
        record = records[-1]
        sequence = "".join(chunks).upper().replace("U", "T")
        if allow_iupac:
            sequence = re.sub(r"[RYKMSWBDHV]", "N", sequence)
        if not sequence:
            raise InputError(f"{path}: record {record['seq_id']!r} (before line {line_no}) has no sequence")
        bad = _VALID.search(sequence)
        if bad is not None:
            raise InputError(f"{path}: record {record['seq_id']!r} has an invalid character {bad.group()!r} at"
                             f" position {bad.start() + 1}; only A, C, G, T and N are allowed (use"
                             " allow_iupac to turn ambiguity codes into N)")
        record["sequence"] = sequence

    line_no = 0
    for line_no, line in enumerate(_lines(path), start=1):
        line = line.strip()
        if not line or line.startswith(";"):
            continue
        if line.startswith(">"):
            close(line_no)
            chunks = []
            record = parse_header(line[1:])
            if not record["seq_id"]:
                raise InputError(f"{path}: line {line_no} is a FASTA header without an ID")
            if record["seq_id"] in seen:
                raise InputError(f"{path}: line {line_no}: duplicate sequence ID {record['seq_id']!r} (first at"
                                 f" line {seen[record['seq_id']]}); make IDs unique")
            seen[record["seq_id"]] = line_no
            records.append(record)
        else:
            if not records:
                raise InputError(f"{path}: line {line_no} has sequence text before the first '>' header;"
                                 " is this a FASTA file?")
            chunks.append(line.replace(" ", ""))
    close(line_no + 1)
    if not records:
        raise InputError(f"{path}: no FASTA records (no line starts with '>')")
    table = pd.DataFrame.from_records(records)
    table["set"] = set_name if set_name is not None else path.name.split(".")[0]
    table["start"] = table["start"].astype(np.int64)
    table["end"] = table["end"].astype(np.int64)
    return table[SEQUENCE_COLUMNS]


def read_sequence_sets(paths: dict[str, str | os.PathLike]) -> pd.DataFrame:
    """Several FASTA files as one table, ``set`` = the dict key (e.g. ``{"positive": a, "negative": b}``).

    Raises
    ------
    InputError
        A sequence ID appears in two files.
    """
    tables = [read_fasta(path, set_name=name) for name, path in paths.items()]
    table = pd.concat(tables, ignore_index=True)
    dup = table["seq_id"][table["seq_id"].duplicated()]
    if len(dup):
        raise InputError(f"sequence ID {dup.iloc[0]!r} is in more than one sequence set; IDs must be unique")
    return table


def tile_sequences(table: pd.DataFrame, *, window: int, stride: int | None = None) -> pd.DataFrame:
    """Cut long sequences into windows of ``window`` bases every ``stride`` bases (the last window ends
    at the sequence end). Shorter sequences are kept whole.

    Parameters
    ----------
    table : DataFrame
        A sequence table.
    window : int
        Bases per tile (> 0).
    stride : int, optional
        Bases between tile starts (default ``window``: no overlap).

    Returns
    -------
    DataFrame
        A sequence table of tiles, ``seq_id`` = ``{seq_id}|{offset}`` (0-based offset in the parent),
        plus ``parent_id`` and ``offset``; genomic coordinates follow the strand.

    Examples
    --------
    >>> t = pd.DataFrame({"seq_id": ["s"], "sequence": ["ACGTACGTAC"], "chrom": ["chr1"], "start": [101],
    ...                   "end": [110], "strand": ["-"], "set": ["x"]})
    >>> tile_sequences(t, window=4, stride=3)[["seq_id", "sequence", "start", "end"]].values.tolist()
    [['s|0', 'ACGT', 107, 110], ['s|3', 'TACG', 104, 107], ['s|6', 'GTAC', 101, 104]]
    """
    if window <= 0 or (stride is not None and stride <= 0):
        raise InputError(f"tiling needs window > 0 and stride > 0 (got window={window}, stride={stride})")
    stride = stride or window
    spans = []
    for sequence in table["sequence"]:
        n = len(sequence)
        offsets = list(range(0, max(n - window, 0) + 1, stride))
        if n > window and offsets[-1] != n - window:
            offsets.append(n - window)
        spans.append([(offset, min(offset + window, n)) for offset in offsets])
    return _tiles(table, spans)


def tile_tokens(table: pd.DataFrame, *, k: int, max_tokens: int) -> pd.DataFrame:
    """Cut sequences into consecutive tiles of at most ``max_tokens`` model tokens each, cut between tokens.

    The model's tokenizer (:func:`isograph.sae.lm.kmer_tokens`) makes a token of every ``N`` and of every
    base left over before one, so a tile of ``k * max_tokens`` bases can hold more than ``max_tokens``
    tokens; these tiles never do, and tokenizing each tile gives exactly the tokens of the whole sequence.

    Parameters
    ----------
    table : DataFrame
        A sequence table.
    k : int
        The model's k-mer size.
    max_tokens : int
        Tokens per tile (> 0; ``LocalLM.max_tokens - 1`` leaves room for ``<cls>``).

    Returns
    -------
    DataFrame
        As :func:`tile_sequences` (``seq_id`` = ``{seq_id}|{offset}``, ``parent_id``, ``offset``).

    Examples
    --------
    >>> t = pd.DataFrame({"seq_id": ["s"], "sequence": ["ACGTACNNNGTACGTAC"], "chrom": [None], "start": [-1],
    ...                   "end": [-1], "strand": ["."], "set": ["x"]})
    >>> tile_tokens(t, k=6, max_tokens=3)[["seq_id", "sequence"]].values.tolist()
    [['s|0', 'ACGTACNN'], ['s|8', 'NGTACGTA'], ['s|16', 'C']]
    """
    from isograph.sae.lm import kmer_tokens

    if max_tokens <= 0:
        raise InputError(f"tiling needs max_tokens > 0 (got {max_tokens})")
    spans = []
    for sequence in table["sequence"]:
        _, starts, ends = kmer_tokens(sequence, k)
        firsts = range(0, len(starts), max_tokens)
        spans.append([(int(starts[i]), int(ends[min(i + max_tokens, len(ends)) - 1])) for i in firsts])
    return _tiles(table, spans)


def _tiles(table: pd.DataFrame, spans: list[list[tuple[int, int]]]) -> pd.DataFrame:
    """Tiles ``[offset, end)`` of each sequence of ``table`` (``spans[i]`` for row i) as a sequence table."""
    rows = []
    for row, pieces in zip(table.itertuples(index=False), spans):
        for offset, stop in pieces:
            piece = row.sequence[offset:stop]
            if row.start >= 0:
                if row.strand == "-":
                    end = row.end - offset
                    start = end - len(piece) + 1
                else:
                    start = row.start + offset
                    end = start + len(piece) - 1
            else:
                start = end = -1
            rows.append({"seq_id": f"{row.seq_id}|{offset}", "sequence": piece, "chrom": row.chrom, "start": start,
                         "end": end, "strand": row.strand, "set": row.set, "parent_id": row.seq_id,
                         "offset": offset})
    return pd.DataFrame(rows, columns=SEQUENCE_COLUMNS + ["parent_id", "offset"])

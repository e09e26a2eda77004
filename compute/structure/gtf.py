"""GTF parsing: one row per kept feature (exon, CDS, start/stop codon, UTR), columnar and vectorised.

Reading is columnar (pyarrow's multithreaded CSV reader plus vectorised regex extraction of the
attributes), never a per-line Python loop. Coordinates stay GTF's: 1-based, inclusive; a length is
``end - start + 1``.

Attribute styles understood
    GENCODE (``transcript_type``, ``gene_name``), Ensembl (``transcript_biotype``), RefSeq (``gene`` for
    the name, ``transcript_biotype``), UCSC/cufflinks (no biotype: ``coding``/``noncoding`` from the
    presence of CDS rows). Version suffixes (``ENST….3``) are kept unless ``strip_versions=True``.
"""

from __future__ import annotations

import gzip
import os
import zlib
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv

from isograph.errors import InputError

__all__ = ["ATTRIBUTES", "GTF_COLUMNS", "KEPT_FEATURES", "read_gtf"]

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


def _require_text(path: Path, n_bytes: int = 1 << 16) -> None:
    """Refuse a file whose first bytes (decompressed when gzipped) are not UTF-8 text."""
    try:
        with open(path, "rb") as raw:
            gzipped = raw.read(2) == b"\x1f\x8b"
        with (gzip.open(path, "rb") if gzipped else open(path, "rb")) as handle:
            head = handle.read(n_bytes)
    except (gzip.BadGzipFile, zlib.error, EOFError, OSError) as exc:
        raise InputError(f"{path}: corrupt or truncated gzip ({type(exc).__name__}); give a GTF, plain or .gz") from None
    try:
        head.decode("utf-8")
        binary = b"\x00" in head
    except UnicodeDecodeError as exc:
        binary = exc.start < len(head) - 4  # a multi-byte character cut by the sample's end is text
    if binary:
        raise InputError(f"{path}: not a text GTF (binary content in its first {len(head):,} bytes); give a GTF"
                         " (plain or .gz)")


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
    _require_text(path)
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

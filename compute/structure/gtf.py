"""GTF parsing: one row per kept feature (exon, CDS, start/stop codon, UTR), columnar and vectorised.

Reading is columnar, never a per-line Python loop: pyarrow's streaming CSV reader splits the (gzipped) file
into batches while a thread pool reads each batch's attributes by substring search and gather (a regex only
for the rare rows where a key is the tail of a longer one), so decompression and parsing overlap on the
cores. ``bench/gtf_scale.py`` times it against the polars recipe, gtfparse and pyranges.

Coordinates stay GTF's: 1-based, inclusive; a length is ``end - start + 1``.

Attribute styles understood
    GENCODE (``transcript_type``, ``gene_name``), Ensembl (``transcript_biotype``), RefSeq (``gene`` for
    the name, ``transcript_biotype``), UCSC/cufflinks (no biotype: ``coding``/``noncoding`` from the
    presence of CDS rows). Version suffixes (``ENST….3``) are kept unless ``strip_versions=True``.
"""

from __future__ import annotations

import gzip
import os
import zlib
from concurrent.futures import ThreadPoolExecutor
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


def _after_key(strings: pa.StringArray, key: str) -> tuple[pa.StringArray, np.ndarray]:
    """The value of ``key "VALUE"`` in each string, found by two substring searches and one gather (no regex).

    Returns the values (null where the key is absent) and the rows whose first ``key "`` is the tail of a
    longer key (``havana_gene "`` for ``gene``): the caller reads those few with the regex.
    """
    pattern = f'{key} "'
    n = len(strings)
    base = np.frombuffer(strings.buffers()[1], dtype=np.int32, count=n + 1, offset=4 * strings.offset)
    data_buffer = strings.buffers()[2] or pa.py_buffer(b"")
    data = np.frombuffer(data_buffer, dtype=np.uint8)
    pos = pc.fill_null(pc.find_substring(strings, pattern), -1).to_numpy(zero_copy_only=False)
    found = pos >= 0
    start = base[:-1] + np.where(found, pos + len(pattern), 0)
    before = data[np.maximum(base[:-1] + pos - 1, 0)] if len(data) else np.zeros(n, dtype=np.uint8)
    partial = found & (pos > 0) & (before != ord(" ")) & (before != ord(";")) & (before != ord("\t"))
    # each string from its value's first byte to its end, between the gaps up to the next value: one array,
    # zero-copy, whose even entries are searched for the closing quote
    bounds = np.empty(2 * n, dtype=np.int32)
    bounds[0::2], bounds[1::2] = start, base[1:]
    tails = pa.StringArray.from_buffers(max(2 * n - 1, 0), pa.py_buffer(bounds), data_buffer)
    quote = pc.find_substring(tails, '"').to_numpy(zero_copy_only=False)[0::2] if n else np.zeros(0, np.int32)
    ok = found & (quote >= 0) & ~partial
    end = np.where(ok, start + quote, start)
    bounds[0::2], bounds[1::2] = np.where(ok, start, base[:-1]), np.where(ok, end, base[:-1])
    spans = pa.StringArray.from_buffers(max(2 * n - 1, 0), pa.py_buffer(bounds), data_buffer)
    values = spans.take(pa.array(np.arange(0, 2 * n - 1, 2))) if n else pa.array([], pa.string())
    values = pa.StringArray.from_buffers(n, values.buffers()[1], values.buffers()[2],
                                         null_bitmap=pa.py_buffer(np.packbits(ok, bitorder="little")),
                                         offset=values.offset)
    return values, partial


def _attribute(strings: pa.StringArray, keys: tuple[str, ...]) -> pa.Array:
    """First of ``keys`` found in each attribute string (null where none is).

    A key counts only as a whole word (``gene "`` does not match inside ``havana_gene "``: those rows are read
    with a ``\\b`` regex); a fallback key is only searched when the first left some rows empty.
    """
    out = None
    for key in keys:
        if out is not None and out.null_count == 0:
            break
        found, partial = _after_key(strings, key)
        if partial.any():
            rows = np.flatnonzero(partial)
            exact = pc.struct_field(pc.extract_regex(strings.take(pa.array(rows)), rf'\b{key} "(?P<v>[^"]*)"'), [0])
            fill = np.full(len(strings), -1, dtype=np.int64)
            fill[rows] = np.arange(len(rows))
            found = pc.if_else(pa.array(partial), exact.take(pa.array(np.maximum(fill, 0))), found)
        out = found if out is None else pc.coalesce(out, found)
    return out


def _run_starts(ids: pa.Array) -> np.ndarray:
    """Positions where a run of equal values starts (a GTF lists a transcript's rows together)."""
    if len(ids) == 0:
        return np.zeros(0, dtype=np.int64)
    codes = pc.dictionary_encode(ids).indices.to_numpy(zero_copy_only=False)
    return np.flatnonzero(np.r_[True, codes[1:] != codes[:-1]])


def _kept_rows(batch: pa.RecordBatch, first_row: int) -> pa.RecordBatch:
    """The kept features of one batch of GTF rows with their attributes parsed and their row numbers in the
    file's data rows (``row``).

    ``transcript_id`` and ``gene_id`` are read on every row; ``gene_name`` and ``transcript_type``, which
    belong to the transcript, on the first row of each run of one transcript's rows and carried along the run.
    """
    keep = pc.is_in(batch.column("feature"), value_set=pa.array(KEPT_FEATURES))
    rows = pa.array(np.flatnonzero(keep.to_numpy(zero_copy_only=False)) + first_row)
    batch = batch.filter(keep)
    attribute = batch.column("attribute")
    columns = {name: batch.column(name) for name in ("seqname", "feature", "start", "end", "strand")}
    columns |= {name: _attribute(attribute, ATTRIBUTES[name]) for name in ("transcript_id", "gene_id")}
    starts = _run_starts(columns["transcript_id"])
    run_of_row = np.repeat(np.arange(len(starts)), np.diff(np.r_[starts, len(attribute)]))
    heads = attribute.take(pa.array(starts))
    for name in ("gene_name", "transcript_type"):
        columns[name] = _attribute(heads, ATTRIBUTES[name]).take(pa.array(run_of_row))
    return pa.RecordBatch.from_pydict({**columns, "row": rows})


def _categorical(values: pa.ChunkedArray) -> pd.Categorical:
    """``values`` as a pandas categorical with sorted categories (what ``astype("category")`` gives), from
    pyarrow's dictionary encoding (no Python objects per row)."""
    encoded = pc.dictionary_encode(values.combine_chunks() if isinstance(values, pa.ChunkedArray) else values)
    categories = pd.Index(encoded.dictionary.to_pandas())
    order = categories.argsort()
    rank = np.full(len(order) + 1, -1, dtype=np.int64)  # code -1 (null) reads the last entry: stays -1
    rank[order] = np.arange(len(order))
    codes = pc.fill_null(encoded.indices, -1).to_numpy(zero_copy_only=False).astype(np.int64)
    return pd.Categorical.from_codes(rank[codes], categories[order])


def _threads() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


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

    options = dict(
        read_options=pcsv.ReadOptions(column_names=GTF_COLUMNS, block_size=1 << 24),
        parse_options=pcsv.ParseOptions(delimiter="\t", quote_char=False, invalid_row_handler=invalid),
        convert_options=pcsv.ConvertOptions(column_types={c: pa.string() for c in GTF_COLUMNS},
                                            include_columns=["seqname", "feature", "start", "end", "strand",
                                                             "attribute"]),
    )
    # this thread decompresses and splits the file into batches while the pool parses each batch's
    # attributes (pyarrow's kernels release the GIL)
    with ThreadPoolExecutor(max_workers=_threads()) as pool:
        futures, first_row = [], 0
        try:
            reader = pcsv.open_csv(path, **options)
            for batch in reader:
                futures.append(pool.submit(_kept_rows, batch, first_row))
                first_row += batch.num_rows
        except (gzip.BadGzipFile, zlib.error, EOFError, pa.ArrowInvalid, OSError) as exc:
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise InputError(f"{path}: cannot read the GTF ({first})") from None
        if not futures:  # no data rows: one empty batch gives the columns
            empty = pa.RecordBatch.from_pydict({c: pa.array([], pa.string()) for c in reader.schema.names})
            futures.append(pool.submit(_kept_rows, empty, 0))
        table = pa.Table.from_batches([future.result() for future in futures])
    if bad:
        line = _line_of_text(path, bad[0])
        fields = len(bad[0].split("\t"))
        raise InputError(f"{path}: line {line} has {fields} tab-separated fields, a GTF line needs 9"
                         f" ({len(bad)} such line(s))")
    row_index = table["row"]
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
    attrs = {name: table[name] for name in ATTRIBUTES}
    checks.append((pc.or_(pc.is_null(attrs["transcript_id"]), pc.is_null(attrs["gene_id"])),
                   "row without transcript_id or gene_id attribute"))
    for mask, problem in checks:
        mask = pc.fill_null(mask, True)
        if pc.any(mask).as_py():
            row = int(pc.index(mask, True).as_py())
            raise InputError(f"{path}: line {_line_of_row(path, int(row_index[row].as_py()))}: {problem}")
    frame = pd.DataFrame({
        "seqname": _categorical(table["seqname"]),
        "feature": _categorical(table["feature"]),
        "start": coords["start"].to_numpy(),
        "end": coords["end"].to_numpy(),
        "strand": _categorical(table["strand"]),
    })
    for name, values in attrs.items():
        if strip_versions and name in ("transcript_id", "gene_id"):
            values = pc.replace_substring_regex(values, r"\.\d+$", "")
        frame[name] = _categorical(values) if name != "transcript_id" else values.to_pandas()
    return frame

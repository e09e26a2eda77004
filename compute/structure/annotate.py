"""Annotate a data set's switch pairs and store the results where the app reads them.

``{dataset}/structure/`` holds (staged and committed as a unit: :mod:`isograph.dataset.commit`)::

    switch_pairs_annotated.parquet   annotate_pairs output (one row per pair, status, words, deltas), with
                                     ``annotation_run`` (which run produced the row) and ``pair_source``
    transcript_annotation.parquet    per-transcript labels (structure_consequences, structure_nmd, ...)
    consequence_enrichment.parquet   gain vs loss per consequence type (binomial test, BH): over the called
                                     switches when there are any, else over every annotated pair
    structure.json                   the GTF, whether its cache was used, counts, timings and the runs

A run adds to what is there: its pairs replace earlier rows of the same (module, gene, transcript 1,
transcript 2) and every other earlier row is kept, so annotating one module or an upload never drops the
annotation of the others.
"""

from __future__ import annotations

import datetime as _dt
import os
import time
from collections.abc import Callable
from pathlib import Path

import pandas as pd

from isograph.dataset.structure_store import STRUCTURE_FILES, StructureStore
from isograph.errors import InputError
from isograph.structure.cache import load_transcript_models
from isograph.structure.consequences import annotate_pairs, transcript_annotation
from isograph.structure.enrichment import consequence_enrichment

__all__ = ["CALLED_SWITCHES", "STRUCTURE_FILES", "annotate_switches", "decode_upload", "read_pairs_upload", "with_structure_labels"]

PAIR_COLUMNS = ("gene_id", "transcript_id_1", "transcript_id_2")
MAX_UPLOAD_BYTES = 20 * 1024 * 1024
#: ``pair_source`` of pairs that are called switches (make-switch-pairs); only these enter the enrichment.
CALLED_SWITCHES = "called switches"
#: Pairs an uploaded table may have (every pair is annotated and listed on the page).
MAX_UPLOAD_ROWS = 50_000


def annotate_switches(gtf: str | os.PathLike, pairs: pd.DataFrame, out_dir: str | os.PathLike, *,
                      gtf_cache: str | os.PathLike | None = None, source: str = CALLED_SWITCHES,
                      progress: Callable[[float, str], None] | None = None) -> dict:
    """Annotate ``pairs`` with the GTF's transcript models and write the tables of ``out_dir``.

    Parameters
    ----------
    gtf : path
    pairs : DataFrame
        ``gene_id, transcript_id_1, transcript_id_2`` (+ e.g. ``module_id``, kept).
    out_dir : path
        Usually ``{dataset}/structure``.
    gtf_cache : path, optional
        Default ``{gtf}.isograph-cache.parquet``.
    source : str, default "called switches"
        What the pairs are (``"called switches"`` from ``make-switch-pairs``, or e.g. ``"upload pairs.tsv"``);
        stored per row as ``pair_source``. Only called switches enter the consequence enrichment when the
        annotation has any.
    progress : callable, optional
        ``progress(fraction, message)``.

    Returns
    -------
    dict
        The ``structure.json`` content: ``gtf, cache_used, cache_path, n_transcripts, n_pairs, run, n_ok``
        (this run), ``n_pairs_total, enrichment_over, runs`` (the whole annotation), ``seconds_models,
        seconds_annotate``.
    """
    missing = [c for c in PAIR_COLUMNS if c not in pairs.columns]
    if missing:
        raise InputError(f"switch pairs: missing required column(s) {', '.join(missing)}")
    if pairs.empty:
        raise InputError("switch pairs: no rows to annotate")
    report = progress or (lambda fraction, message: None)
    report(0.05, f"reading transcript models of {Path(gtf).name}")
    t0 = time.perf_counter()
    loaded = load_transcript_models(gtf, cache=gtf_cache)
    t1 = time.perf_counter()
    report(0.5, f"{len(loaded.models):,} transcripts ({'from the cache' if loaded.cache_used else 'parsed'});"
                f" annotating {len(pairs):,} pairs")
    run = f"{_dt.datetime.now().isoformat(timespec='microseconds')} {source}"
    this_run = annotate_pairs(pairs, loaded.models).assign(annotation_run=run, pair_source=source)

    def build(earlier: pd.DataFrame | None) -> tuple[dict[str, pd.DataFrame], dict]:
        annotated = _merge_with_earlier(this_run, earlier)
        called = annotated["pair_source"] == CALLED_SWITCHES
        tables = {"pairs": annotated, "transcripts": transcript_annotation(annotated, loaded.models),
                  "enrichment": consequence_enrichment(annotated[called] if called.any() else annotated)}
        t2 = time.perf_counter()
        report(0.9, "writing the tables")
        return tables, {
            "gtf": str(Path(gtf).name), "cache_used": bool(loaded.cache_used),
            "cache_path": str(loaded.cache_path) if loaded.cache_path else None,
            "n_transcripts": len(loaded.models), "n_pairs": len(pairs), "run": run,
            "n_ok": int((this_run["status"] == "ok").sum()), "n_pairs_total": len(annotated),
            "enrichment_over": CALLED_SWITCHES if called.any() else "every annotated pair",
            "runs": sorted(annotated["annotation_run"].astype(str).unique().tolist()),
            "seconds_models": round(t1 - t0, 3), "seconds_annotate": round(t2 - t1, 3)}

    summary = StructureStore(out_dir).update(build)  # the four files replace the earlier ones as a unit
    report(1.0, "done")
    return summary


def _merge_with_earlier(annotated: pd.DataFrame, earlier: pd.DataFrame | None) -> pd.DataFrame:
    """This run's rows, plus the earlier annotation's rows for other pairs (a key absent from a table is NA)."""
    if earlier is None:
        return annotated.reset_index(drop=True)
    if "annotation_run" not in earlier:
        earlier = earlier.assign(annotation_run="earlier run (before runs were recorded)", pair_source="unknown")
    key = [c for c in ("module_id", "gene_id", "transcript_id_1", "transcript_id_2")
           if c in annotated.columns or c in earlier.columns]
    mine = pd.MultiIndex.from_frame(annotated.reindex(columns=key).astype("string").fillna("<NA>"))
    theirs = pd.MultiIndex.from_frame(earlier.reindex(columns=key).astype("string").fillna("<NA>"))
    kept = earlier[~theirs.isin(mine)]
    return pd.concat([kept, annotated], ignore_index=True)


def decode_upload(contents: object, filename: str) -> bytes:
    """The bytes of a browser upload (``data:<type>;base64,<data>``), checked.

    The decoded size is worked out from the base64 text's length first, so a payload over
    ``MAX_UPLOAD_BYTES`` is refused without being decoded.

    Parameters
    ----------
    contents : str
        What ``dcc.Upload`` sends.
    filename : str
        Named in errors.

    Returns
    -------
    bytes

    Raises
    ------
    InputError
        Not a base64 data URL, or larger than ``MAX_UPLOAD_BYTES`` once decoded.
    """
    import base64
    import binascii

    if not isinstance(contents, str) or "," not in contents or ";base64" not in contents.split(",", 1)[0]:
        raise InputError(f"{filename}: the upload did not arrive as a file (expected a base64 data URL); choose the"
                         " file again")
    data = contents.split(",", 1)[1]
    _check_upload_size(len(data) * 3 // 4 - data[-2:].count("="), filename)
    try:
        return base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        raise InputError(f"{filename}: the upload is damaged (not valid base64); choose the file again") from None


def _check_upload_size(n_bytes: int, filename: str) -> None:
    if n_bytes > MAX_UPLOAD_BYTES:
        raise InputError(f"{filename}: {n_bytes / 1e6:.1f} MB is more than the {MAX_UPLOAD_BYTES // 2**20} MiB"
                         " an upload may have; run `isograph annotate-structure` on big tables")


def read_pairs_upload(content: bytes, filename: str) -> pd.DataFrame:
    """Switch pairs from an uploaded TSV/CSV (bytes), checked row by row as they are read.

    The rows are read one at a time (``csv`` over the lines, each decoded as UTF-8): the first bad row (empty
    ID, wrong number of fields, not UTF-8) or the row past ``MAX_UPLOAD_ROWS`` stops the read with its line
    number (the header is line 1), so a large or broken upload costs no more than the rows before it.

    Parameters
    ----------
    content : bytes
        The file's bytes.
    filename : str
        Its name (``.csv`` is read comma-separated, anything else tab-separated; named in errors).

    Returns
    -------
    DataFrame
        All columns as strings; ``gene_id, transcript_id_1, transcript_id_2`` present and non-empty.

    Raises
    ------
    InputError
        Too large (bytes or more than ``MAX_UPLOAD_ROWS`` rows), not text, a row with a different number of
        fields than the header, missing ``gene_id, transcript_id_1, transcript_id_2`` (named), or empty.
    """
    import csv
    import io

    _check_upload_size(len(content), filename)
    sep = "," if filename.lower().endswith(".csv") else "\t"
    kind = "CSV" if sep == "," else "tab-separated"
    if b"\0" in content[:8192]:
        raise InputError(f"{filename}: not a {kind} table (binary data); upload a text file")

    def text_lines():
        for line_number, line in enumerate(io.BytesIO(content), start=1):
            try:
                yield line.decode("utf-8-sig" if line_number == 1 else "utf-8")
            except UnicodeDecodeError:
                raise InputError(f"{filename}: not a {kind} table (line {line_number} is not UTF-8 text)") from None

    reader = csv.reader(text_lines(), delimiter=sep)
    row_number = 1
    try:
        header = next(reader, None)
        if not header or not any(field.strip() for field in header):
            raise InputError(f"{filename}: no rows (the file is empty); a switch-pair table has a header line")
        missing = [c for c in PAIR_COLUMNS if c not in header]
        if missing:
            raise InputError(f"{filename}: missing column(s) {', '.join(missing)}; a switch-pair table has gene_id,"
                             f" transcript_id_1, transcript_id_2 ({kind})")
        repeated = sorted({c for c in header if header.count(c) > 1})
        if repeated:
            raise InputError(f"{filename}: column(s) {', '.join(repeated)} appear more than once in the header;"
                             " give each column its own name")
        keys = [header.index(c) for c in PAIR_COLUMNS]
        rows = []
        for row in reader:
            row_number = reader.line_num
            if not row:
                continue  # a blank line
            if len(rows) == MAX_UPLOAD_ROWS:
                raise InputError(f"{filename}: more than the {MAX_UPLOAD_ROWS:,} pairs an upload may have (row"
                                 f" {row_number:,}; each is annotated and listed on the page); run `isograph"
                                 " annotate-structure` on big tables")
            if len(row) != len(header):
                raise InputError(f"{filename}: row {row_number:,} has {len(row)} field(s), the header {len(header)};"
                                 f" check the separator ({kind}) and quoting")
            if any(not row[k].strip() for k in keys):
                raise InputError(f"{filename}: row {row_number:,} has an empty gene or transcript ID")
            rows.append(row)
    except csv.Error as exc:
        raise InputError(f"{filename}: not a {kind} table (line {reader.line_num}: {exc})") from None
    if not rows:
        raise InputError(f"{filename}: no rows (only a header)")
    return pd.DataFrame(rows, columns=header, dtype=str)


def with_structure_labels(genes: pd.DataFrame, polarity: pd.DataFrame, pairs: pd.DataFrame | None,
                          transcripts: pd.DataFrame | None, *, module_id: str | None = None
                          ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Driver tables with the structural labels of :func:`annotate_switches` merged in.

    Parameters
    ----------
    genes, polarity : DataFrame
        ``gene_driver_table`` and ``transcript_polarity_table`` of one module.
    pairs, transcripts : DataFrame or None
        The ``structure/`` tables (None: returned unchanged).
    module_id : str, optional
        Use only pairs of this module (when the pairs have ``module_id``).

    Returns
    -------
    genes : DataFrame
        Plus ``switch_consequences``: "T1 → T2: words" of the gene's annotated pair — the pair of its reported
        down and up transcripts when annotated, else its first — and how many more pairs it has.
    polarity : DataFrame
        Plus the ``structure_*`` columns of each transcript (matched on ``transcript_id``, else
        ``feature_id``).
    """
    if pairs is not None:
        ok = pairs[pairs["status"] == "ok"]
        if module_id is not None and "module_id" in ok:
            ok = ok[ok["module_id"] == module_id]
        genes = genes.assign(switch_consequences=genes["gene_id"].map(_pair_words(genes, polarity, ok)))
    if transcripts is not None:
        key = polarity["transcript_id"] if "transcript_id" in polarity else polarity["feature_id"]
        key = key.astype("string").fillna(polarity["feature_id"].astype("string"))
        labels = transcripts.set_index("transcript_id")
        polarity = polarity.copy()
        for column in labels.columns:
            polarity[column] = labels[column].reindex(key.to_numpy()).to_numpy()
    return genes, polarity


def _pair_words(genes: pd.DataFrame, polarity: pd.DataFrame, ok: pd.DataFrame) -> pd.Series:
    """gene_id -> words of its preferred annotated pair (see :func:`with_structure_labels`)."""
    if ok.empty:
        return pd.Series(dtype=object)
    tx = polarity.set_index("feature_id")["transcript_id"] if "transcript_id" in polarity else pd.Series(dtype=object)
    preferred = set()
    if {"switch_down_feature", "switch_up_feature"} <= set(genes.columns):
        down = genes["switch_down_feature"].map(tx).fillna(genes["switch_down_feature"])
        up = genes["switch_up_feature"].map(tx).fillna(genes["switch_up_feature"])
        preferred = set(zip(genes["gene_id"], down, up))
    rank = [0 if key in preferred else 1 for key in zip(ok["gene_id"], ok["transcript_id_1"], ok["transcript_id_2"])]
    ordered = ok.assign(_rank=rank).sort_values(["gene_id", "_rank"], kind="stable")
    first = ordered.drop_duplicates("gene_id").set_index("gene_id")
    counts = ordered.groupby("gene_id").size()
    words = first["transcript_id_1"] + " → " + first["transcript_id_2"] + ": " + first["consequences"].fillna("")
    more = counts.reindex(first.index) - 1
    return words + more.map(lambda n: f" (+{n} more annotated pair{'s' if n > 1 else ''})" if n > 0 else "")

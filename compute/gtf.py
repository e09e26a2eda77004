"""Read the transcript table of a GTF file (plain or gzip): one row per transcript.

This is the small, columnar reader the simulator and importers need (transcript -> gene map, names,
coordinates, exon counts). GTF coordinates are 1-based and inclusive; they are kept as they are.
"""

from __future__ import annotations

import gzip
import os
import zlib
from pathlib import Path

import numpy as np
import pandas as pd

from compute.errors import InputError

__all__ = ["GTF_COLUMNS", "read_gtf_transcripts"]

GTF_COLUMNS = ("seqname", "source", "feature", "start", "end", "score", "strand", "frame", "attribute")


def _attribute(attrs: pd.Series, key: str) -> pd.Series:
    return attrs.str.extract(rf'(?:^|;)\s*{key}\s+"([^"]*)"', expand=False)


def read_gtf_transcripts(path: str | os.PathLike) -> pd.DataFrame:
    """Transcripts of a GTF, from its exon rows.

    Parameters
    ----------
    path : path-like
        GTF file, optionally gzipped. Needs ``exon`` rows with ``transcript_id`` and ``gene_id``
        attributes; ``gene_name`` is used when present.

    Returns
    -------
    DataFrame
        ``transcript_id, gene_id, gene_name, seqname, strand, start, end, n_exons`` (start/end are the
        1-based inclusive transcript span), sorted by ``gene_id, transcript_id``.

    Raises
    ------
    InputError
        Missing or corrupt file, a line without 9 tab-separated fields, a non-integer coordinate,
        an exon row without ``transcript_id``/``gene_id`` (the message names the line number).
    """
    path = Path(path)
    if not path.exists():
        raise InputError(f"GTF not found: {path}")
    try:
        opener = gzip.open if path.suffix == ".gz" else open
        with opener(path, "rt") as handle:
            lines = [line.rstrip("\n") for line in handle]
    except (gzip.BadGzipFile, zlib.error, EOFError, OSError) as exc:
        raise InputError(f"{path}: corrupt or unreadable GTF ({exc})") from None
    numbered = [(i + 1, line) for i, line in enumerate(lines) if line and not line.startswith("#")]
    fields = [line.split("\t") for _, line in numbered]
    bad = [n for (n, _), f in zip(numbered, fields) if len(f) != 9]
    if bad:
        raise InputError(f"{path}: line {bad[0]} does not have 9 tab-separated fields ({len(bad)} such lines)")
    df = pd.DataFrame(fields, columns=list(GTF_COLUMNS))
    df["line"] = [n for n, _ in numbered]
    df = df[df["feature"] == "exon"]
    for col in ("start", "end"):
        num = pd.to_numeric(df[col], errors="coerce")
        if num.isna().any():
            line = int(df.loc[num.isna(), "line"].iloc[0])
            raise InputError(f"{path}: line {line}: {col} is not an integer")
        df[col] = num.astype(np.int64)
    df["transcript_id"] = _attribute(df["attribute"], "transcript_id")
    df["gene_id"] = _attribute(df["attribute"], "gene_id")
    df["gene_name"] = _attribute(df["attribute"], "gene_name")
    missing = df["transcript_id"].isna() | df["gene_id"].isna()
    if missing.any():
        line = int(df.loc[missing, "line"].iloc[0])
        raise InputError(f"{path}: line {line}: exon row without transcript_id or gene_id attribute")
    grouped = df.groupby("transcript_id", sort=True)
    out = grouped.agg(
        gene_id=("gene_id", "first"),
        gene_name=("gene_name", "first"),
        seqname=("seqname", "first"),
        strand=("strand", "first"),
        start=("start", "min"),
        end=("end", "max"),
        n_exons=("start", "size"),
    ).reset_index()
    return out.sort_values(["gene_id", "transcript_id"], ignore_index=True)

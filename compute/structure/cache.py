"""Transcript models of a GTF with a fingerprinted parquet cache next to it (or where asked).

The cache is a parquet of the models whose schema metadata holds a fingerprint of the GTF (size, mtime and
a SHA-256 of sampled 64 KiB blocks), the cache-format version and the parse options. A stale, foreign or
unreadable cache is rebuilt, never trusted.
"""

from __future__ import annotations

import hashlib
import json
import os
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from isograph.dataset.io import atomic_write
from isograph.errors import InputError, InputWarning
from isograph.structure.gtf import read_gtf
from isograph.structure.models import transcript_models

__all__ = ["CACHE_FORMAT_VERSION", "GtfModels", "default_cache_path", "gtf_fingerprint", "load_transcript_models",
           "write_cache"]

CACHE_FORMAT_VERSION = 1
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

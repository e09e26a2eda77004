"""Cached reads of a data set's files, keyed by the file's identity (path, size, mtime_ns).

A file rewritten by another process (a new explain run, a new annotation) has a new size or mtime and is
read afresh on the next call; an unchanged file is read once per process. A damaged file raises a one-line
:class:`~isograph.errors.DatasetError` naming it and what to do.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd

from isograph.dataset.matrix import is_matrix
from isograph.errors import DatasetError

__all__ = ["cached", "read_parquet", "read_parquet_columns", "stamp"]


def stamp(path: str | os.PathLike) -> tuple[int, int]:
    """``(size, mtime_ns)`` of a file, ``(-1, -1)`` when it is missing: part of every cache key. A ``.matrix``
    folder is stamped by its ``values.npy``, which every rewrite replaces whole.

    Parameters
    ----------
    path : path-like

    Returns
    -------
    tuple of int
    """
    path = Path(path)
    if is_matrix(path):
        path = path / "values.npy"
    try:
        stat = path.stat()
    except OSError:
        return -1, -1
    return stat.st_size, stat.st_mtime_ns


def read_parquet(path: str | os.PathLike) -> pd.DataFrame:
    """A parquet table, cached until the file changes (do not modify the returned frame).

    Parameters
    ----------
    path : path-like

    Returns
    -------
    DataFrame

    Raises
    ------
    DatasetError
        Missing, truncated or not parquet.
    """
    return _parquet(str(path), *stamp(path))


def read_parquet_columns(path: str | os.PathLike, columns: tuple[str, ...]) -> pd.DataFrame:
    """The asked-for columns of a parquet table that it has (indexed by ``sample_id`` when it has one), cached.

    Parameters
    ----------
    path : path-like
    columns : tuple of str
        Columns to read; those the table lacks are left out.

    Returns
    -------
    DataFrame
    """
    return _parquet_columns(str(path), *stamp(path), tuple(columns))


def cached(function: Callable[[str], Any], path: str | os.PathLike) -> Any:
    """``function(path)``, cached until the file at ``path`` changes.

    Parameters
    ----------
    function : callable
        Takes the path as a string; a module-level function (it is part of the cache key).
    path : path-like

    Returns
    -------
    object
        What ``function`` returned (shared between callers: do not modify it).
    """
    return _cached_call(function, str(path), *stamp(path))


@functools.lru_cache(maxsize=512)
def _parquet(path: str, _size: int, _mtime_ns: int) -> pd.DataFrame:
    try:
        return pd.read_parquet(path)
    except FileNotFoundError:
        raise DatasetError(f"{path} is missing; re-run the step that writes it") from None
    except Exception as exc:  # noqa: BLE001 - pyarrow raises many types for a damaged file
        first = str(exc).splitlines()[0] if str(exc) else ""
        raise DatasetError(f"{path} cannot be read ({type(exc).__name__}: {first[:120]}); it is damaged or"
                           " truncated: re-run the step that writes it") from None


@functools.lru_cache(maxsize=64)
def _parquet_columns(path: str, _size: int, _mtime_ns: int, columns: tuple[str, ...]) -> pd.DataFrame:
    import pyarrow.parquet as pq

    try:
        present = set(pq.read_schema(path).names)
        table = pd.read_parquet(path, columns=[c for c in columns if c in present])
    except Exception as exc:  # noqa: BLE001 - as in _parquet
        raise DatasetError(f"{path} cannot be read ({type(exc).__name__}); it is damaged or truncated:"
                           " re-run the step that writes it") from None
    return table.set_index("sample_id") if "sample_id" in table.columns else table


@functools.lru_cache(maxsize=32)
def _cached_call(function: Callable[[str], Any], path: str, _size: int, _mtime_ns: int) -> Any:
    return function(path)

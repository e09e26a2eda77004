"""The feature-matrix folder: IsoGraph's fast layout of a samples x features table.

::

    NAME.matrix/
        values.npy        (n_features, n_samples) float32 or float64, C order (feature-major: the values of
                          one feature, or of a block of features, are contiguous on disk); a standard NumPy
                          .npy file, read through a memory map, so opening costs nothing and a read touches
                          only the features it needs
        features.parquet  feature_id (str), one row per row of values.npy (and, optionally, more columns about
                          each feature, e.g. a fit's feature_scores.matrix keeps gene_id, feature_type and
                          n_transcripts there)
        samples.parquet   sample_id (str), one row per column of values.npy
        matrix.json       {"format": "isograph-feature-matrix", "version": 1, "shape": [...], "dtype": ...}

Chosen by measurement (``bench/feature_formats.py``) over wide and transposed parquet, Feather, AnnData
``.h5ad`` and zarr: the same 300 x 100,000 table opens and reads fastest this way, and out-of-core work
streams blocks of features straight from the page cache. A folder is written whole or not at all (staged
in the parent folder and committed with :func:`isograph.dataset.commit.staged_commit`), so a reader never
sees half of one; :func:`write_matrix_blocks` writes one without holding the table in memory.
"""

from __future__ import annotations

import functools
import json
import os
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from isograph.dataset.commit import finish_interrupted_commit, staged_commit
from isograph.errors import InputError

__all__ = ["MATRIX_FORMAT", "MATRIX_SUFFIX", "FeatureMatrix", "is_matrix", "open_matrix", "write_matrix",
           "write_matrix_blocks", "write_matrix_folder"]

MATRIX_SUFFIX = ".matrix"
MATRIX_FORMAT = "isograph-feature-matrix"
_DTYPES = ("float32", "float64")


class FeatureMatrix:
    """An opened feature-matrix folder.

    Attributes
    ----------
    path : Path
    values : np.memmap, shape (n_features, n_samples)
        Read-only memory map of ``values.npy``.
    sample_ids : pd.Index of str
    feature_ids : pd.Index of str
        Built on first use (a hash of every ID); :meth:`columns` finds a few features without it.
    """

    def __init__(self, path: Path, values: np.ndarray, feature_ids: pa.ChunkedArray, sample_ids: pd.Index) -> None:
        self.path, self.values, self.sample_ids = path, values, sample_ids
        self._features = feature_ids

    @functools.cached_property
    def feature_ids(self) -> pd.Index:
        return _unique(pd.Index(self._features.to_pandas()), "feature", self.path)

    @property
    def shape(self) -> tuple[int, int]:
        """(n_samples, n_features), as the table reads."""
        return len(self.sample_ids), len(self._features)

    def frame(self) -> pd.DataFrame:
        """The whole table, samples x features, float64 (a view of the memory map when stored as float64).

        Returns
        -------
        DataFrame
            Index ``sample_id``, columns = feature IDs.
        """
        values = self.values.T if self.values.dtype == np.float64 else self.values.T.astype(np.float64)
        frame = pd.DataFrame(values, index=self.sample_ids, columns=self.feature_ids, copy=False)
        frame.index.name = "sample_id"
        return frame

    def feature_info(self, columns: Iterable[str]) -> pd.DataFrame:
        """Columns of ``features.parquet`` (one row per feature, in file order), e.g. ``gene_id``.

        Raises
        ------
        InputError
            A column the folder does not have (naming the ones it has).
        """
        columns = list(columns)
        have = pq.read_schema(self.path / "features.parquet").names
        missing = [c for c in columns if c not in have]
        if missing:
            raise InputError(f"{self.path / 'features.parquet'}: no column {', '.join(missing)} (it has"
                             f" {', '.join(have)})")
        return pq.read_table(self.path / "features.parquet", columns=columns).to_pandas()

    def rows_of(self, feature_ids: Iterable[str]) -> np.ndarray:
        """Row numbers of ``feature_ids`` (-1 for an ID the matrix lacks), found by one vectorised scan of
        the IDs (no hash of all of them).

        Parameters
        ----------
        feature_ids : iterable of str

        Returns
        -------
        ndarray of int64
        """
        wanted = [str(f) for f in feature_ids]
        mask = pc.is_in(self._features, value_set=pa.array(sorted(set(wanted)), pa.string()))
        hits = np.flatnonzero(mask.to_numpy(zero_copy_only=False))
        position: dict[str, int] = {}
        for row, fid in zip(hits.tolist(), self._features.take(pa.array(hits)).to_pylist()):
            if fid in position:
                raise InputError(f"{self.path}: duplicate feature ID {fid!r}; each must appear once")
            position[fid] = row
        return np.array([position.get(f, -1) for f in wanted], dtype=np.int64)

    def columns(self, feature_ids: Iterable[str]) -> pd.DataFrame:
        """Only the given features, samples x features, float64 (IDs the matrix lacks are left out).

        Parameters
        ----------
        feature_ids : iterable of str

        Returns
        -------
        DataFrame
        """
        ids = [str(f) for f in feature_ids]
        rows = self.rows_of(ids)
        keep = rows >= 0
        frame = pd.DataFrame(self.read_rows(rows[keep]).T, index=self.sample_ids,
                             columns=pd.Index(np.asarray(ids, dtype=object)[keep]))
        frame.index.name = "sample_id"
        return frame

    def read_rows(self, rows: np.ndarray) -> np.ndarray:
        """The given rows (features), read from ``values.npy`` in file order, returned in the order asked.

        Each run of consecutive rows is one positional read (``os.preadv``) into the result, not a touch of
        the memory map: a map's pages stay in the process's resident set, so streaming a table larger than
        the memory budget through the map would count the whole table; a read counts only what it returns.

        Parameters
        ----------
        rows : ndarray of int

        Returns
        -------
        ndarray, shape (len(rows), n_samples), float64, C order
        """
        rows = np.asarray(rows, dtype=np.int64)
        order = np.argsort(rows, kind="stable")
        ordered = rows[order]
        raw = np.empty((len(rows), len(self.sample_ids)), dtype=self.values.dtype)
        row_bytes = raw.shape[1] * raw.itemsize
        if len(rows) and row_bytes:
            if ordered[0] < 0 or ordered[-1] >= len(self.values):
                raise IndexError(f"{self.path}: row {ordered[0] if ordered[0] < 0 else ordered[-1]} is outside"
                                 f" 0..{len(self.values) - 1}")
            breaks = np.flatnonzero(np.diff(ordered) != 1) + 1
            starts, ends = np.r_[0, breaks], np.r_[breaks, len(ordered)]
            view = memoryview(raw).cast("B")
            offsets = (self.values.offset + ordered[starts] * row_bytes).tolist()
            fd = os.open(self.path / "values.npy", os.O_RDONLY)
            try:
                for start, end, offset in zip((starts * row_bytes).tolist(), (ends * row_bytes).tolist(), offsets):
                    part = view[start:end]
                    if os.preadv(fd, [part], offset) != end - start:  # a short read: read the rest
                        _read_exactly(fd, part, offset)
            finally:
                os.close(fd)
        if np.array_equal(order, np.arange(len(rows))):  # asked in file order (explain's case): no reordering
            return raw.astype(np.float64, copy=False)
        out = np.empty(raw.shape)
        out[order] = raw
        return out

    def blocks(self, rows: np.ndarray, *, max_bytes: int) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """The given rows in blocks of at most ``max_bytes`` (as float64), in order.

        Parameters
        ----------
        rows : ndarray of int
            Row numbers (features).
        max_bytes : int
            Bound on one block's float64 size (at least one feature per block).

        Yields
        ------
        rows_block : ndarray of int
        values : ndarray, shape (len(rows_block), n_samples), float64, C order
        """
        rows = np.asarray(rows, dtype=np.int64)
        step = max(1, int(max_bytes) // (8 * max(1, len(self.sample_ids))))
        for start in range(0, len(rows), step):
            part = rows[start:start + step]
            yield part, self.read_rows(part)


def _read_exactly(fd: int, view: memoryview, offset: int) -> None:
    """Fill ``view`` from ``fd`` at ``offset`` (a positional read may return less than asked)."""
    while len(view):
        got = os.preadv(fd, [view], offset)
        if got <= 0:
            raise OSError(f"values.npy ends before byte {offset + len(view)}")
        view, offset = view[got:], offset + got


def _unique(ids: pd.Index, what: str, path: Path) -> pd.Index:
    """``ids``, or a one-line error naming the first repeated one."""
    if not ids.is_unique:
        raise InputError(f"{path}: duplicate {what} ID {ids[ids.duplicated()][0]!r}; each must appear once")
    return ids


def is_matrix(path: str | os.PathLike) -> bool:
    """True when ``path`` names a feature-matrix folder (by its ``.matrix`` suffix)."""
    return Path(path).suffix.lower() == MATRIX_SUFFIX


def open_matrix(path: str | os.PathLike) -> FeatureMatrix:
    """Open a feature-matrix folder (nothing but the IDs is read).

    Parameters
    ----------
    path : path-like

    Returns
    -------
    FeatureMatrix

    Raises
    ------
    InputError
        Not a folder, a missing or damaged part, shapes or IDs that disagree (one line naming the part).
    """
    path = Path(path)
    finish_interrupted_commit(path.parent)  # a writer killed mid-commit: roll it forward first
    if not path.is_dir():
        raise InputError(f"feature matrix not found: {path} (a .matrix folder, as `isograph convert-features` writes)")
    try:
        spec = json.loads((path / "matrix.json").read_text())
        if spec.get("format") != MATRIX_FORMAT:
            raise ValueError(f"matrix.json says format {spec.get('format')!r}")
        values = np.load(path / "values.npy", mmap_mode="r")
        features = pq.read_table(path / "features.parquet", columns=["feature_id"]).column(0).cast(pa.string())
        samples = pq.read_table(path / "samples.parquet", columns=["sample_id"]).column(0).cast(pa.string())
    except (OSError, ValueError, KeyError, pa.ArrowException) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise InputError(f"{path}: not a readable feature matrix ({first}); re-create it with"
                         " `isograph convert-features`") from None
    if values.ndim != 2 or values.shape != (len(features), len(samples)) or str(values.dtype) not in _DTYPES:
        raise InputError(f"{path}: values.npy is {values.dtype} {values.shape} but the folder lists {len(features)}"
                         f" features x {len(samples)} samples (float32 or float64); re-create it")
    sample_ids = _unique(pd.Index(samples.to_pandas(), name="sample_id"), "sample", path)
    return FeatureMatrix(path, values, features, sample_ids)


def write_matrix(table: pd.DataFrame, path: str | os.PathLike, *, dtype: str = "float64",
                 block_bytes: int = 256 * 2**20) -> Path:
    """Write a samples x features table as a feature-matrix folder (atomically).

    Parameters
    ----------
    table : DataFrame
        Samples x features (index = sample IDs, columns = feature IDs), numeric.
    path : path-like
        The folder (``.matrix``).
    dtype : {"float64", "float32"}, default "float64"
    block_bytes : int, default 256 MiB
        Features are transposed and written this many bytes at a time.

    Returns
    -------
    Path
    """
    step = max(1, block_bytes // (8 * max(1, len(table))))
    blocks = (table.iloc[:, i:i + step].to_numpy(dtype=np.float64).T for i in range(0, table.shape[1], step))
    return write_matrix_blocks(path, table.index.astype(str), table.columns.astype(str), blocks, dtype=dtype)


def write_matrix_blocks(path: str | os.PathLike, sample_ids: Iterable[str], feature_ids: Iterable[str],
                        blocks: Iterable[np.ndarray], *, dtype: str = "float64",
                        progress: Callable[[int], None] | None = None,
                        feature_info: pd.DataFrame | None = None) -> Path:
    """Write a feature-matrix folder from blocks of features, never holding the whole table.

    Parameters
    ----------
    path : path-like
        The folder (``.matrix``); replaced whole on success, untouched on failure.
    sample_ids, feature_ids : iterable of str
        Unique.
    blocks : iterable of ndarray, shape (n_block_features, n_samples)
        Consecutive features, in ``feature_ids`` order, together exactly ``len(feature_ids)`` rows.
    dtype : {"float64", "float32"}
    progress : callable, optional
        Called with the number of features written so far.
    feature_info : DataFrame, optional
        More columns about each feature (one row per feature ID, in order), kept in ``features.parquet``
        beside ``feature_id`` and read back by :meth:`FeatureMatrix.feature_info`.

    Returns
    -------
    Path

    Raises
    ------
    InputError
        Not a ``.matrix`` path, an unknown dtype, duplicate IDs, or blocks that do not fit the IDs.
    """
    path = Path(path)
    if not is_matrix(path):
        raise InputError(f"{path}: a feature matrix is a folder whose name ends in {MATRIX_SUFFIX}")
    if dtype not in _DTYPES:
        raise InputError(f"dtype {dtype!r}: use float64 or float32")
    features = _unique(pd.Index([str(f) for f in feature_ids], dtype=object), "feature", path)
    samples = _unique(pd.Index([str(s) for s in sample_ids], dtype=object), "sample", path)
    with staged_commit(path.parent) as stage:
        write_matrix_folder(stage / path.name, samples, features, blocks, dtype=dtype, progress=progress,
                            label=str(path), feature_info=feature_info)
    return path


def write_matrix_folder(folder: str | os.PathLike, sample_ids: pd.Index, feature_ids: pd.Index,
                        blocks: Iterable[np.ndarray], *, dtype: str = "float64",
                        progress: Callable[[int], None] | None = None, label: str | None = None,
                        feature_info: pd.DataFrame | None = None) -> Path:
    """Write the parts of a feature-matrix folder into ``folder``, which must not exist yet (for a caller that
    stages its own commit, such as ``run_fit``; everyone else uses :func:`write_matrix_blocks`).

    Parameters
    ----------
    folder : path-like
    sample_ids, feature_ids : pd.Index of str
        Unique (checked by the callers).
    blocks : iterable of ndarray, shape (n_block_features, n_samples)
    dtype : {"float64", "float32"}
    progress : callable, optional
    label : str, optional
        How messages name the folder (default: its path).
    feature_info : DataFrame, optional
        More columns about each feature, one row per feature ID in order (not ``feature_id``).

    Returns
    -------
    Path

    Raises
    ------
    InputError
        Blocks that do not fit the IDs.
    """
    folder = Path(folder)
    label = label or str(folder)
    if feature_info is not None and (len(feature_info) != len(feature_ids) or "feature_id" in feature_info.columns):
        raise InputError(f"{label}: feature_info must have one row per feature ({len(feature_ids)}) and no"
                         " feature_id column")
    folder.mkdir()
    out = np.lib.format.open_memmap(folder / "values.npy", mode="w+", dtype=dtype,
                                    shape=(len(feature_ids), len(sample_ids)))
    done = 0
    for block in blocks:
        block = np.asarray(block)
        if block.ndim != 2 or block.shape[1] != len(sample_ids) or done + len(block) > len(feature_ids):
            raise InputError(f"{label}: a block of shape {block.shape} does not fit {len(feature_ids)} features x"
                             f" {len(sample_ids)} samples after {done} features")
        out[done:done + len(block)] = block
        done += len(block)
        if progress is not None:
            progress(done)
    if done != len(feature_ids):
        raise InputError(f"{label}: {done} feature rows written for {len(feature_ids)} feature IDs")
    out.flush()
    del out
    info = pd.DataFrame({"feature_id": feature_ids})
    if feature_info is not None:
        info = pd.concat([info, feature_info.reset_index(drop=True)], axis=1)
    info.to_parquet(folder / "features.parquet", index=False)
    pd.DataFrame({"sample_id": sample_ids}).to_parquet(folder / "samples.parquet", index=False)
    (folder / "matrix.json").write_text(json.dumps({"format": MATRIX_FORMAT, "version": 1,
                                                    "shape": [len(feature_ids), len(sample_ids)], "dtype": dtype}))
    return folder

"""The layouts a samples x features table may come in, read and converted in one place.

=====================  ==========================================================================
layout                 how it is recognised and read
=====================  ==========================================================================
feature matrix         a ``.matrix`` folder (:mod:`isograph.dataset.matrix`): the fast layout
                       ``isograph simulate``, ``isograph fit --write-usage`` and the demo write
AnnData                ``.h5ad``: samples are observations (``obs_names``), features variables
                       (``var_names``); ``X`` dense or sparse; feature meta comes from ``.var``
                       (``gene_id`` and ``feature_type`` columns; ``feature_id`` = ``var_names``)
parquet, TSV, CSV      the manual's samples x features table (``sample_id`` column or index)
=====================  ==========================================================================

:func:`read_feature_frame` gives any of them as a samples x features DataFrame; :func:`read_feature_columns`
reads only some features (the gene view: a gene's transcripts); :func:`convert_features` writes any of
them as any other (``isograph convert-features IN OUT``), block by block when both ends allow it.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd

from isograph.dataset.io import read_table, table_format, write_parquet, write_tsv
from isograph.dataset.matrix import MATRIX_SUFFIX, is_matrix, open_matrix, write_matrix, write_matrix_blocks
from isograph.errors import InputError

__all__ = ["H5AD_SUFFIX", "convert_features", "feature_table_format", "read_feature_columns", "read_feature_frame",
           "read_h5ad_var"]

H5AD_SUFFIX = ".h5ad"


def feature_table_format(path: str | os.PathLike) -> str:
    """``"matrix"``, ``"h5ad"``, ``"parquet"``, ``"tsv"`` or ``"csv"`` from the name.

    Parameters
    ----------
    path : path-like

    Returns
    -------
    str

    Raises
    ------
    InputError
        Any other suffix (the message lists the layouts).

    Examples
    --------
    >>> [feature_table_format(p) for p in ("a.matrix", "b.h5ad", "c.parquet", "d.tsv.gz")]
    ['matrix', 'h5ad', 'parquet', 'tsv']
    """
    if is_matrix(path):
        return "matrix"
    if Path(path).suffix.lower() == H5AD_SUFFIX:
        return "h5ad"
    try:
        return table_format(path)
    except InputError:
        suffix = Path(path).suffix.lower() or "(no suffix)"
        raise InputError(f"{path}: unsupported file type {suffix!r} for a feature table; use a {MATRIX_SUFFIX} folder,"
                         f" {H5AD_SUFFIX}, .parquet, .tsv, .txt or .csv (text optionally gzipped)") from None


def _h5ad(path: Path, *, backed: bool):
    import anndata

    if not path.is_file():
        raise InputError(f"feature table not found: {path}; check the path")
    try:
        return anndata.read_h5ad(path, backed="r" if backed else None)
    except (OSError, KeyError, ValueError, TypeError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise InputError(f"{path}: cannot read it as AnnData .h5ad ({first})") from None


def _dense(x) -> np.ndarray:
    """AnnData's X (dense, sparse or backed) as a float64 array."""
    return np.asarray(x.toarray() if hasattr(x, "toarray") else x, dtype=np.float64)


def read_feature_frame(path: str | os.PathLike, *, what: str = "feature table") -> pd.DataFrame:
    """A samples x features table from any layout, not yet validated (see ``load_feature_table``).

    Parameters
    ----------
    path : path-like
    what : str, default "feature table"
        For messages.

    Returns
    -------
    DataFrame
        A ``.matrix`` folder or ``.h5ad`` file: float64, index ``sample_id``, columns = feature IDs (a
        matrix stored as float64 is a view of its memory map). Parquet/TSV/CSV: as read.
    """
    path = Path(path)
    fmt = feature_table_format(path)
    if fmt == "matrix":
        return open_matrix(path).frame()
    if fmt == "h5ad":
        adata = _h5ad(path, backed=False)
        return pd.DataFrame(_dense(adata.X), index=pd.Index(adata.obs_names.astype(str), name="sample_id"),
                            columns=adata.var_names.astype(str), copy=False)
    return read_table(path, what=what)


def read_h5ad_var(path: str | os.PathLike) -> pd.DataFrame:
    """The feature meta of an ``.h5ad`` file: its ``.var`` with ``feature_id`` = ``var_names`` (X is not read).

    Parameters
    ----------
    path : path-like

    Returns
    -------
    DataFrame
        ``feature_id`` then ``.var``'s columns, RangeIndex.
    """
    adata = _h5ad(Path(path), backed=True)
    var = adata.var.drop(columns="feature_id", errors="ignore")  # var_names are the feature IDs
    adata.file.close()
    var.insert(0, "feature_id", var.index.astype(str))
    return var.reset_index(drop=True)


def read_feature_columns(path: str | os.PathLike, feature_ids: list[str]) -> pd.DataFrame:
    """Only the given features of a feature table, samples x features float64 (unknown IDs left out).

    A ``.matrix`` folder reads only those rows of its memory map; ``.h5ad`` only those columns (backed
    mode); parquet only those columns; text files are read whole.

    Parameters
    ----------
    path : path-like
    feature_ids : list of str

    Returns
    -------
    DataFrame
        Index ``sample_id``, the found features in the order given.
    """
    path = Path(path)
    fmt = feature_table_format(path)
    if fmt == "matrix":
        return open_matrix(path).columns(feature_ids)
    if fmt == "h5ad":
        adata = _h5ad(path, backed=True)
        cols = adata.var_names.get_indexer(pd.Index(feature_ids, dtype=object))
        found = cols[cols >= 0]
        order = np.argsort(found, kind="stable")
        block = _dense(adata.X[:, np.sort(found)]) if len(found) else np.zeros((adata.n_obs, 0))
        index = pd.Index(adata.obs_names.astype(str), name="sample_id")
        adata.file.close()
        out = np.empty_like(block)
        out[:, order] = block
        return pd.DataFrame(out, index=index, columns=[f for f, c in zip(feature_ids, cols) if c >= 0])
    if fmt == "parquet":
        import pyarrow.parquet as pq

        names = set(pq.read_schema(path).names)
        if "sample_id" in names:  # as a column, or the index stored by pandas under its name
            wanted = [f for f in feature_ids if f in names and f != "sample_id"]
            frame = pd.read_parquet(path, columns=["sample_id", *wanted])
            frame = frame.set_index("sample_id") if "sample_id" in frame.columns else frame
            frame.index = pd.Index(frame.index.astype(str), name="sample_id")
            return frame[wanted].astype(np.float64)
    from isograph.dataset.artifacts import load_feature_table

    table = load_feature_table(path)
    return table[[f for f in feature_ids if f in table.columns]]


def convert_features(source: str | os.PathLike, target: str | os.PathLike, *, dtype: str = "float64",
                     block_bytes: int = 256 * 2**20) -> Path:
    """Write a feature table in another layout (``isograph convert-features``).

    Parameters
    ----------
    source, target : path-like
        Any of the layouts (:func:`feature_table_format`); the target's name chooses its layout.
    dtype : {"float64", "float32"}, default "float64"
        Of a ``.matrix`` target (float32 halves it; values keep 7 significant digits).
    block_bytes : int, default 256 MiB
        A ``.matrix`` or ``.h5ad`` source into a ``.matrix`` target is copied this many bytes of features at a
        time, so the table never needs to fit in memory.

    Returns
    -------
    Path
        ``target``.

    Raises
    ------
    InputError
        An unknown layout, the same path twice, or a table that fails validation (named).
    """
    from isograph.dataset.artifacts import load_feature_table

    source, target = Path(source), Path(target)
    src, dst = feature_table_format(source), feature_table_format(target)
    if source.resolve() == target.resolve():
        raise InputError(f"{target}: the output must be another file than the input")
    if dst == "matrix" and src == "matrix":
        matrix = open_matrix(source)
        rows = np.arange(len(matrix.feature_ids))
        return write_matrix_blocks(target, matrix.sample_ids, matrix.feature_ids,
                                   (v for _, v in matrix.blocks(rows, max_bytes=block_bytes)), dtype=dtype)
    if dst == "matrix" and src == "h5ad":
        adata = _h5ad(source, backed=True)
        step = max(1, block_bytes // (8 * max(1, adata.n_obs)))
        blocks = (_dense(adata.X[:, i:i + step]).T for i in range(0, adata.n_vars, step))
        try:
            return write_matrix_blocks(target, adata.obs_names.astype(str), adata.var_names.astype(str), blocks,
                                       dtype=dtype)
        finally:
            adata.file.close()
    table = load_feature_table(source)
    if dst == "matrix":
        return write_matrix(table, target, dtype=dtype, block_bytes=block_bytes)
    if dst == "h5ad":
        return _write_h5ad(table, target)
    if dst == "parquet":
        return write_parquet(table, target, index=True)
    if dst == "csv":
        from isograph.dataset.io import atomic_write

        return atomic_write(target, lambda tmp: table.to_csv(tmp, compression="gzip" if target.suffix == ".gz" else None))
    return write_tsv(table, target, index=True)


def _write_h5ad(table: pd.DataFrame, target: Path) -> Path:
    import anndata

    from isograph.dataset.io import atomic_write

    # object-dtype names: anndata 0.12 cannot write pandas 3's Arrow-backed strings (fixed in anndata 0.13)
    adata = anndata.AnnData(X=table.to_numpy(dtype=np.float64),
                            obs=pd.DataFrame(index=pd.Index(table.index.astype(str), dtype=object)),
                            var=pd.DataFrame(index=pd.Index(table.columns.astype(str), dtype=object)))
    return atomic_write(target, lambda tmp: adata.write_h5ad(tmp))

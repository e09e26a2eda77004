"""Reading tables from parquet/TSV/CSV (plain or gzip) and writing files atomically.

Readers turn every I/O failure (missing file, corrupt gzip, unreadable parquet, ragged text) into a
one-line :class:`~isograph.errors.InputError` naming the file. Writers write to a temporary file in the
destination folder and rename it into place, so an interrupted run never leaves a half-written file
where a good one was.
"""

from __future__ import annotations

import csv
import gzip
import json
import os
import tempfile
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from isograph.errors import DatasetError, InputError

__all__ = ["atomic_write", "file_mode", "folder_lock", "read_table", "require_inside", "resolve_inside", "table_format",
           "write_json",
           "write_parquet", "write_tsv"]


def resolve_inside(root: Path, path: str | os.PathLike) -> Path | None:
    """``path`` resolved (symlinks followed), or None when it is not ``root`` or below it.

    Parameters
    ----------
    root : Path
        A resolved folder.
    path : path-like

    Returns
    -------
    Path or None
    """
    resolved = Path(path).resolve()
    return resolved if resolved == root or root in resolved.parents else None



def require_inside(root: Path, path: str | os.PathLike, *, name: str = "", advice: str = "") -> Path:
    """``path`` resolved (symlinks followed), refused unless it is ``root`` or below it.

    Parameters
    ----------
    root : Path
        A resolved folder.
    path : path-like
    name, advice : str
        How the message names ``root`` ("the data root") and what it tells the user.

    Returns
    -------
    Path

    Raises
    ------
    DatasetError
        ``{path} is outside {name} {root}; {advice}``.
    """
    resolved = resolve_inside(root, path)
    if resolved is None:
        raise DatasetError(f"{path} is outside {name + ' ' if name else ''}{root}" + (f"; {advice}" if advice else ""))
    return resolved


TEXT_SEPARATORS = {".tsv": "\t", ".txt": "\t", ".tab": "\t", ".csv": ","}
PARQUET_SUFFIXES = {".parquet", ".pq"}


def table_format(path: str | os.PathLike) -> str:
    """Return ``"parquet"``, ``"tsv"`` or ``"csv"`` from a file name (a trailing ``.gz`` is allowed).

    Parameters
    ----------
    path : path-like

    Returns
    -------
    str

    Raises
    ------
    InputError
        If the suffix is none of ``.parquet .pq .tsv .txt .tab .csv`` (optionally + ``.gz``).
    """
    suffixes = [s.lower() for s in Path(path).suffixes]
    if suffixes and suffixes[-1] == ".gz":
        suffixes = suffixes[:-1]
    last = suffixes[-1] if suffixes else ""
    if last in PARQUET_SUFFIXES:
        return "parquet"
    if last in TEXT_SEPARATORS:
        return "csv" if last == ".csv" else "tsv"
    raise InputError(
        f"{path}: unsupported file type {last or '(no suffix)'!r}; "
        "use .parquet, .tsv, .txt or .csv (optionally gzipped, .gz)"
    )


def read_table(path: str | os.PathLike, *, what: str = "table") -> pd.DataFrame:
    """Read a parquet, TSV or CSV file (text files may be gzipped) into a DataFrame.

    Parameters
    ----------
    path : path-like
        The file. Its format is chosen by suffix (see :func:`table_format`).
    what : str
        What the file is, for error messages (e.g. ``"feature table"``).

    Returns
    -------
    pandas.DataFrame
        Parquet files keep their stored index; text files get a RangeIndex and all columns as read.

    Raises
    ------
    InputError
        Missing file, corrupt gzip or parquet, ragged or empty text file.
    """
    path = Path(path)
    if not path.exists():
        raise InputError(f"{what} not found: {path}; check the path")
    if path.is_dir():
        raise InputError(f"{what} {path} is a folder; give the path of a file")
    fmt = table_format(path)
    try:
        if fmt == "parquet":
            return pd.read_parquet(path)
        sep = "\t" if fmt == "tsv" else ","
        _check_text_header(path, sep, what)
        return pd.read_csv(path, sep=sep, compression="infer", low_memory=False)
    except (gzip.BadGzipFile, zlib.error, EOFError) as exc:
        raise InputError(f"{path}: corrupt or truncated gzip ({exc}); re-create or re-download the file") from None
    except pd.errors.EmptyDataError:
        raise InputError(f"{path}: the {what} is empty; it needs a header row and data rows") from None
    except pd.errors.ParserError as exc:
        first = str(exc).strip().splitlines()[-1]
        raise InputError(f"{path}: cannot parse the {what}: {first}") from None
    except (pa.ArrowInvalid, pa.ArrowIOError, OSError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise InputError(f"{path}: cannot read the {what} as {fmt}: {first}") from None
    except UnicodeDecodeError:
        raise InputError(f"{path}: the {what} is not UTF-8 text; is it a binary file with a text suffix?") from None


def _check_text_header(path: Path, sep: str, what: str) -> None:
    """Refuse duplicate column names, which pandas would silently rename (``X`` -> ``X.1``)."""
    opener = gzip.open if path.suffix.lower() == ".gz" else open
    with opener(path, "rt", newline="") as handle:
        header = next(csv.reader(handle, delimiter=sep), [])
    seen: set[str] = set()
    for position, name in enumerate(header, start=1):
        if name in seen and name != "":
            raise InputError(
                f"{path}: duplicate column name {name!r} in the header (column {position}); each column of"
                f" the {what} must have a unique name"
            )
        seen.add(name)


def _umask() -> int:
    """The process's umask, read without changing it (Linux: /proc; elsewhere set and restored)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    except OSError:
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def file_mode() -> int:
    """The mode a new file gets under the current umask (``0o666 & ~umask``), as ``open()`` would give it."""
    return 0o666 & ~_umask()


LOCK_NAME = ".isograph.lock"


@contextmanager
def folder_lock(folder: str | os.PathLike) -> Iterator[Path]:
    """Hold the exclusive writers' lock of a folder (``fcntl.flock`` on ``{folder}/.isograph.lock``).

    Writers that read, change and write back a shared file (a manifest) hold it, so concurrent runs lose
    nothing. The lock is released when the block ends, or by the system when the process dies.

    Parameters
    ----------
    folder : path-like
        Created if needed.

    Yields
    ------
    Path
        The folder.
    """
    import fcntl

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / LOCK_NAME, "a+") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            yield folder
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def atomic_write(path: str | os.PathLike, write: Callable[[Path], Any]) -> Path:
    """Call ``write(tmp_path)`` on a temporary file next to ``path``, then rename it onto ``path``.

    The rename is atomic on POSIX file systems, so readers see either the old file or the complete new
    one. On any exception the temporary file is removed and ``path`` is untouched. The new file gets the
    mode the umask gives (``0o666 & ~umask``), not the temporary file's private 0600.

    Parameters
    ----------
    path : path-like
        Destination; its folder is created if needed.
    write : callable
        Writes the content to the path it is given.

    Returns
    -------
    Path
        ``path``.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        write(tmp)
        os.chmod(tmp, file_mode())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path


def write_parquet(df: pd.DataFrame, path: str | os.PathLike, *, index: bool = False) -> Path:
    """Write ``df`` to parquet atomically (pandas' metadata kept, as ``DataFrame.to_parquet`` writes it).

    Parameters
    ----------
    df : DataFrame
    path : path-like
    index : bool, default False
        Store the index too.

    Returns
    -------
    Path
    """
    def write(tmp: Path) -> None:
        table = pa.Table.from_pandas(df, preserve_index=index)
        # dictionary pages only for text and categories: numbers rarely repeat, and a dictionary of unique
        # floats makes the write 2-3x slower and the file larger
        text = [f.name for f in table.schema if not (pa.types.is_floating(f.type) or pa.types.is_integer(f.type)
                                                     or pa.types.is_boolean(f.type))]
        pq.write_table(table, tmp, use_dictionary=text)

    return atomic_write(path, write)


def write_tsv(df: pd.DataFrame, path: str | os.PathLike, *, index: bool = False) -> Path:
    """Write ``df`` as tab-separated text atomically (gzip when ``path`` ends in ``.gz``).

    Parameters
    ----------
    df : DataFrame
    path : path-like
    index : bool, default False
        Write the index as the first column.

    Returns
    -------
    Path
    """
    compression = "gzip" if str(path).endswith(".gz") else None
    return atomic_write(path, lambda tmp: df.to_csv(tmp, sep="\t", index=index, compression=compression))


def write_json(obj: Any, path: str | os.PathLike) -> Path:
    """Write ``obj`` as indented JSON atomically.

    Parameters
    ----------
    obj : JSON-serialisable object (other values are written with ``str``)
    path : path-like

    Returns
    -------
    Path
    """
    text = json.dumps(obj, indent=2, sort_keys=False, default=str) + "\n"
    return atomic_write(path, lambda tmp: tmp.write_text(text))

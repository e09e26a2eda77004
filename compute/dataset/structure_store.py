"""A structural-annotation folder (``{dataset}/structure/``): its file names, its tables, and its one writer.

The folder holds ``switch_pairs_annotated.parquet``, ``transcript_annotation.parquet``,
``consequence_enrichment.parquet`` and ``structure.json`` (columns: :mod:`isograph.structure.annotate`). An
update reads the earlier pairs and writes the four files under the folder's lock, committed as a unit
(:mod:`isograph.dataset.commit`), so a killed or failed run leaves the earlier annotation whole and two
concurrent runs never lose each other's pairs.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pandas as pd

from isograph.dataset.cache import read_parquet
from isograph.dataset.commit import finish_interrupted_commit, staged_commit
from isograph.dataset.io import require_inside, write_json, write_parquet
from isograph.errors import DatasetError

__all__ = ["STRUCTURE_FILES", "StructureStore"]

STRUCTURE_FILES = {"pairs": "switch_pairs_annotated.parquet", "transcripts": "transcript_annotation.parquet",
                   "enrichment": "consequence_enrichment.parquet", "summary": "structure.json"}
_TABLES = ("pairs", "transcripts", "enrichment")


class StructureStore:
    """The structural annotation in ``folder`` (``root``: the data root it must stay under; default none).

    Parameters
    ----------
    folder : path-like
    root : path-like, optional
    """

    def __init__(self, folder: str | os.PathLike, root: str | os.PathLike | None = None) -> None:
        self.folder = Path(folder)
        self._root = Path(root).resolve() if root is not None else None

    def path(self, name: str) -> Path:
        """Where a file of the annotation is (``pairs``, ``transcripts``, ``enrichment``, ``summary``).

        Raises
        ------
        DatasetError
            The folder or file resolves outside the data root (a symlink out).
        """
        path = self.folder / STRUCTURE_FILES[name]
        if self._root is not None:
            require_inside(self._root, path, name="the data root", advice="a data set's files must stay inside it")
        return path

    def table(self, name: str) -> pd.DataFrame | None:
        """``pairs``, ``transcripts`` or ``enrichment``; None before the first annotation. Re-read when it changes.

        Raises
        ------
        DatasetError
            A damaged table, or one outside the data root.
        """
        if name not in _TABLES:
            raise DatasetError(f"no structure table {name!r}; there are {', '.join(_TABLES)}")
        finish_interrupted_commit(self.folder)
        path = self.path(name)
        return read_parquet(path) if path.exists() else None

    def update(self, build: Callable[[pd.DataFrame | None], tuple[dict[str, pd.DataFrame], dict]]) -> dict:
        """Replace the annotation with what ``build(earlier pairs or None)`` returns, as a unit, under the lock.

        Parameters
        ----------
        build : callable
            Gets the earlier ``pairs`` table (read under the lock) and returns ``({"pairs": ...,
            "transcripts": ..., "enrichment": ...}, summary)``.

        Returns
        -------
        dict
            The summary written to ``structure.json``.
        """
        self.path("pairs")  # refuses a folder outside the root before anything is written
        with staged_commit(self.folder) as stage:
            earlier = self.path("pairs")
            tables, summary = build(read_parquet(earlier) if earlier.exists() else None)
            for name in _TABLES:
                write_parquet(tables[name], stage / STRUCTURE_FILES[name])
            write_json(summary, stage / STRUCTURE_FILES["summary"])
        return summary

"""Where a data set keeps its samples map's UMAP: ``{dataset}/samples/umap_<key>.parquet``.

A UMAP takes seconds to compute (umap-learn compiles its numba code in every new process), so it is computed
once, by a background job of the app or by ``isograph sample-map --method umap``, and kept. The key is a
hash of exactly what the map is made from (the z-scored eigengene matrix, its sample and module IDs, the
settings and umap-learn's version): a new explain run or other settings give another key, so a stored map
never stands for data it was not made from, and nothing has to be invalidated. Writing a map removes the
maps of earlier keys. Files are written atomically under the folder's writers' lock.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pandas as pd

from isograph.dataset.io import folder_lock, write_parquet

__all__ = ["SAMPLES_FOLDER", "SampleMapStore", "umap_key"]

SAMPLES_FOLDER = "samples"
_PREFIX = "umap_"


def umap_key(zscored: pd.DataFrame, settings: dict, umap_version: str) -> str:
    """The identity of a UMAP's inputs (16 hex digits).

    Parameters
    ----------
    zscored : DataFrame
        The samples x modules matrix the map is made from (index ``sample_id``).
    settings : dict
        umap-learn's settings (:data:`isograph.samples.embedding.UMAP_SETTINGS`).
    umap_version : str
        umap-learn's version (another version may draw another map from the same seed).

    Returns
    -------
    str
    """
    digest = hashlib.sha256(repr((sorted(settings.items()), umap_version, [str(c) for c in zscored.columns],
                                  [str(i) for i in zscored.index])).encode())
    digest.update(np.ascontiguousarray(zscored.to_numpy(dtype=np.float64)).tobytes())
    return digest.hexdigest()[:16]


class SampleMapStore:
    """The stored UMAP maps of one data set (a folder that may not exist yet).

    Parameters
    ----------
    folder : Path
        ``{dataset}/samples``.
    """

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)

    def path(self, key: str) -> Path:
        """The file of the map with ``key``."""
        if not key.isalnum():
            raise ValueError(f"not a map key: {key!r}")
        return self.folder / f"{_PREFIX}{key}.parquet"

    def load(self, key: str) -> pd.DataFrame | None:
        """The stored map with ``key``: index ``sample_id``, columns ``UMAP1``, ``UMAP2``; None when there is none."""
        path = self.path(key)
        if not path.is_file():
            return None
        table = pd.read_parquet(path)
        table.index = table.index.astype(str)
        table.index.name = "sample_id"
        return table[["UMAP1", "UMAP2"]].astype(np.float64)

    def save(self, key: str, coordinates: pd.DataFrame) -> Path:
        """Keep ``coordinates`` (index ``sample_id``; ``UMAP1``, ``UMAP2``) as the map with ``key``, atomically,
        and remove the maps of other keys.

        Returns
        -------
        Path
            The file written.
        """
        with folder_lock(self.folder):
            path = write_parquet(coordinates[["UMAP1", "UMAP2"]].rename_axis("sample_id"), self.path(key), index=True)
            for old in self.folder.glob(f"{_PREFIX}*.parquet"):
                if old != path:
                    old.unlink(missing_ok=True)
        return path

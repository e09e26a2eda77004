"""A 2-D map of the samples from their module eigengenes: PCA, or UMAP (umap-learn) of the same matrix."""

from __future__ import annotations

import importlib.util

import numpy as np
import pandas as pd

__all__ = ["MAP_METHODS", "UMAP_MIN_SAMPLES", "UMAP_SETTINGS", "eigengene_pca", "eigengene_umap", "umap_available",
           "zscored_eigengenes"]

#: The maps of the samples, and how the product names each.
MAP_METHODS = {"pca": "PCA", "umap": "UMAP"}
#: umap-learn's settings for the samples map: its defaults (15 neighbours, min_dist 0.1, Euclidean) and a fixed
#: seed, so the same eigengenes always give the same map.
UMAP_SETTINGS = {"n_neighbors": 15, "min_dist": 0.1, "metric": "euclidean", "random_state": 0}
#: fewer complete samples than this get no UMAP (a neighbour graph of a handful of points says nothing)
UMAP_MIN_SAMPLES = 10


def umap_available() -> bool:
    """True when umap-learn is installed (it is pinned in requirements.txt; a bare environment may lack it)."""
    return importlib.util.find_spec("umap") is not None


def zscored_eigengenes(eigengenes: pd.DataFrame) -> pd.DataFrame:
    """The complete samples' eigengenes, each module z-scored over those samples (so every module weighs the
    same in a map).

    Parameters
    ----------
    eigengenes : DataFrame
        Samples x modules (index ``sample_id``), unitless eigengene values; a sample missing any module's
        value is left out.

    Returns
    -------
    DataFrame
        Complete samples x modules, float64, mean 0 and standard deviation 1 (ddof=1) per module (a module
        without variance is left centred, not scaled). Index ``sample_id`` as str.
    """
    complete = eigengenes.dropna(axis=0, how="any")
    x = complete.to_numpy(dtype=np.float64)
    if len(x):
        sd = x.std(axis=0, ddof=1) if len(x) > 1 else np.ones(x.shape[1])
        x = (x - x.mean(axis=0)) / np.where(sd > 0, sd, 1.0)
    out = pd.DataFrame(x, index=complete.index.astype(str), columns=complete.columns)
    out.index.name = "sample_id"
    return out


def eigengene_pca(eigengenes: pd.DataFrame, n_components: int = 2) -> tuple[pd.DataFrame, np.ndarray]:
    """Principal components of the samples in module-eigengene space.

    Each module's eigengene is z-scored over the samples (so every module weighs the same), then the
    samples x modules matrix is decomposed by SVD. A sample missing any eigengene is left out. Each
    component's sign is chosen so that its largest loading (by absolute value) is positive, so the same data
    always give the same picture.

    Parameters
    ----------
    eigengenes : DataFrame
        Samples x modules (index ``sample_id``), unitless eigengene values.
    n_components : int, default 2

    Returns
    -------
    coordinates : DataFrame
        Index ``sample_id``; columns ``PC1 … PC<n>`` (sample scores, unitless).
    explained : ndarray, shape (n_components,)
        Fraction of the z-scored eigengenes' total variance each component explains.

    Raises
    ------
    ValueError
        With fewer modules than components, or fewer than 3 complete samples.
    """
    complete = zscored_eigengenes(eigengenes)
    if eigengenes.shape[1] < n_components:
        raise ValueError(f"a {n_components}-D map of the samples needs at least {n_components} explained modules; "
                         f"this data set has {eigengenes.shape[1]}")
    if len(complete) < 3:
        raise ValueError(f"only {len(complete)} samples have every module's eigengene; the map needs at least 3")
    x = complete.to_numpy()
    u, s, vt = np.linalg.svd(x, full_matrices=False)
    signs = np.sign(vt[np.arange(vt.shape[0]), np.abs(vt).argmax(axis=1)])
    signs[signs == 0] = 1.0
    scores = (u * s) * signs
    explained = s**2 / np.sum(s**2) if np.sum(s**2) > 0 else np.zeros_like(s)
    columns = [f"PC{i + 1}" for i in range(n_components)]
    coordinates = pd.DataFrame(scores[:, :n_components], index=complete.index, columns=columns)
    return coordinates, explained[:n_components]


def eigengene_umap(eigengenes: pd.DataFrame, *, n_neighbors: int = UMAP_SETTINGS["n_neighbors"],
                   min_dist: float = UMAP_SETTINGS["min_dist"],
                   random_state: int = UMAP_SETTINGS["random_state"]) -> pd.DataFrame:
    """UMAP (umap-learn) of the samples in z-scored module-eigengene space (:func:`zscored_eigengenes`, the
    matrix :func:`eigengene_pca` decomposes).

    The seed makes the map reproducible (umap-learn then runs on one thread). The first call in a process
    compiles umap-learn's numba code (10-20 s); later calls take well under a second for hundreds of samples.

    Parameters
    ----------
    eigengenes : DataFrame
        Samples x modules (index ``sample_id``), unitless eigengene values.
    n_neighbors : int, default 15
        Size of each sample's neighbourhood (at most the complete samples minus one).
    min_dist : float, default 0.1
        How tightly points may pack in the map.
    random_state : int, default 0

    Returns
    -------
    DataFrame
        Index ``sample_id`` (complete samples only); columns ``UMAP1``, ``UMAP2`` (unitless map coordinates).

    Raises
    ------
    ValueError
        Fewer than 2 modules, fewer than :data:`UMAP_MIN_SAMPLES` complete samples, or bad settings.
    ImportError
        umap-learn is not installed.
    """
    complete = zscored_eigengenes(eigengenes)
    if eigengenes.shape[1] < 2:
        raise ValueError(f"a UMAP of the samples needs at least 2 explained modules; this data set has"
                         f" {eigengenes.shape[1]}")
    if len(complete) < UMAP_MIN_SAMPLES:
        raise ValueError(f"only {len(complete)} samples have every module's eigengene; a UMAP needs at least"
                         f" {UMAP_MIN_SAMPLES} (the PCA map needs 3)")
    if int(n_neighbors) < 2 or not 0.0 <= float(min_dist) <= 1.0:
        raise ValueError(f"UMAP needs n_neighbors >= 2 and 0 <= min_dist <= 1; got {n_neighbors}, {min_dist}")
    import warnings

    import numba

    # numba's default OpenMP layer makes a process that has used it unable to fork (its children die:
    # "fork() called from a process already using GNU OpenMP"), and the app forks its job processes; the
    # seeded map runs on one thread anyway, so the fork-safe workqueue layer costs nothing
    numba.config.THREADING_LAYER = "workqueue"
    import umap

    reducer = umap.UMAP(n_components=2, n_neighbors=min(int(n_neighbors), len(complete) - 1),
                        min_dist=float(min_dist), metric="euclidean", random_state=int(random_state), n_jobs=1)
    with warnings.catch_warnings():  # "n_jobs overridden to 1 by setting random_state": what we asked for
        warnings.filterwarnings("ignore", message=".*n_jobs.*", category=UserWarning)
        embedding = reducer.fit_transform(complete.to_numpy())
    return pd.DataFrame(np.asarray(embedding, dtype=np.float64), index=complete.index, columns=["UMAP1", "UMAP2"])

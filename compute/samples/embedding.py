"""A 2-D map of the samples from their module eigengenes (PCA)."""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["eigengene_pca"]


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
    complete = eigengenes.dropna(axis=0, how="any")
    if eigengenes.shape[1] < n_components:
        raise ValueError(f"a {n_components}-D map of the samples needs at least {n_components} explained modules; "
                         f"this data set has {eigengenes.shape[1]}")
    if len(complete) < 3:
        raise ValueError(f"only {len(complete)} samples have every module's eigengene; the map needs at least 3")
    x = complete.to_numpy(dtype=np.float64)
    sd = x.std(axis=0, ddof=1)
    x = (x - x.mean(axis=0)) / np.where(sd > 0, sd, 1.0)
    u, s, vt = np.linalg.svd(x, full_matrices=False)
    signs = np.sign(vt[np.arange(vt.shape[0]), np.abs(vt).argmax(axis=1)])
    signs[signs == 0] = 1.0
    scores = (u * s) * signs
    explained = s**2 / np.sum(s**2) if np.sum(s**2) > 0 else np.zeros_like(s)
    columns = [f"PC{i + 1}" for i in range(n_components)]
    coordinates = pd.DataFrame(scores[:, :n_components], index=complete.index.astype(str), columns=columns)
    coordinates.index.name = "sample_id"
    return coordinates, explained[:n_components]

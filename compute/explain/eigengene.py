"""Module eigengene: one score per sample that summarises a module's feature-score rows.

``method="pc1"`` is the WGCNA definition (Langfelder & Horvath 2008, ``moduleEigengenes``): each row
standardised, the first left singular vector of the samples x rows matrix, its sign chosen so that it
correlates positively with the mean of the standardised rows. ``method="aligned_mean"`` reproduces
IsoGraph's sign-aligned mean: every standardised row is multiplied by the sign of its PC1 loading, so
that rows of opposite polarity (a switch scored "backwards") add up instead of cancelling, and the rows
are averaged.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
from scipy import linalg
from scipy.sparse import linalg as sparse_linalg

__all__ = ["EIGENGENE_METHODS", "EigengeneResult", "module_eigengene"]

EIGENGENE_METHODS = ("pc1", "aligned_mean")


@dataclass(frozen=True)
class EigengeneResult:
    """Result of :func:`module_eigengene`.

    Attributes
    ----------
    values : ndarray, shape (n_samples,)
        The eigengene, standardised to mean 0 and standard deviation 1 (ddof=1) over the samples where
        it is defined; NaN for samples with no finite value in any usable row.
    variance_explained : float
        Fraction of the total variance of the standardised rows captured by the eigengene direction,
        ``||Z e||^2 / ||Z||_F^2`` for the unit sample vector ``e`` (for PC1, ``d_1^2 / sum d_k^2``).
    loadings : ndarray, shape (n_rows,)
        Correlation of each input row with the eigengene (NaN for unusable rows): WGCNA's kME.
    used_rows : ndarray of bool, shape (n_rows,)
        Rows with >= 2 finite values and non-zero variance; the others are ignored.
    method : str
        ``"pc1"`` or ``"aligned_mean"``.
    """

    values: np.ndarray
    variance_explained: float
    loadings: np.ndarray
    used_rows: np.ndarray
    method: str


def _standardise_rows(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Z-score each row over its finite values (ddof=1, as R's ``scale``); returns (Z, usable)."""
    mask = np.isfinite(x)
    n = mask.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(mask, x, 0.0).sum(axis=1) / n
        dev = np.where(mask, x - mean[:, None], 0.0)
        sd = np.sqrt(np.einsum("ij,ij->i", dev, dev) / (n - 1))
        z = np.where(mask, dev / sd[:, None], np.nan)
    usable = (n >= 2) & np.isfinite(sd) & (sd > 0)
    return z, usable


def _unit_standardise(v: np.ndarray) -> np.ndarray:
    ok = np.isfinite(v)
    out = np.full(v.shape, np.nan)
    centred = v[ok] - v[ok].mean()
    sd = centred.std(ddof=1) if ok.sum() > 1 else 0.0
    out[ok] = centred / sd if sd > 0 else 0.0
    return out


def _row_correlations(z: np.ndarray, e: np.ndarray) -> np.ndarray:
    """Pearson r of each row of z with e on complete samples (lazy import avoids a cycle)."""
    from isograph.explain.stats import pearson_rows

    return pearson_rows(z, e, min_complete_pairs=3).r


def _top_eigenpair(gram: np.ndarray) -> tuple[float, np.ndarray]:
    """Largest eigenvalue and its eigenvector of a symmetric PSD matrix.

    ARPACK Lanczos (``scipy.sparse.linalg.eigsh``, ``tol=0`` = machine precision) from a fixed start
    vector, so results are deterministic; LAPACK ``eigh`` for tiny matrices or if ARPACK fails.
    """
    m = gram.shape[0]
    if m > 16:
        try:
            w, vec = sparse_linalg.eigsh(gram, k=1, which="LA", tol=0, v0=np.ones(m))
            return float(w[0]), vec[:, 0]
        except sparse_linalg.ArpackError:
            pass
    w, vec = linalg.eigh(gram)
    return float(w[-1]), vec[:, -1]


def _leading_singular_triplet(z: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
    """(u1, v1, d1) of ``z.T = U D V^T`` (z is rows x samples) from the smaller Gram matrix.

    Only the top eigenpair of ``z z^T`` or ``z^T z`` is computed, which is much cheaper than a full SVD
    for a module of many genes (and agrees with ``numpy.linalg.svd`` to ~1e-15).
    """
    n_rows, n_samples = z.shape
    if n_samples <= n_rows:
        w, u1 = _top_eigenpair(z.T @ z)  # samples x samples
        d1 = float(np.sqrt(max(w, 0.0)))
        v1 = z @ u1 / d1 if d1 > 0 else np.zeros(n_rows)
    else:
        w, v1 = _top_eigenpair(z @ z.T)  # rows x rows
        d1 = float(np.sqrt(max(w, 0.0)))
        u1 = z.T @ v1 / d1 if d1 > 0 else np.zeros(n_samples)
    return u1, v1, d1


def module_eigengene(
    scores: np.ndarray,
    *,
    method: Literal["pc1", "aligned_mean"] = "pc1",
    loadings: bool = True,
) -> EigengeneResult:
    r"""Eigengene of a module from its feature-score rows.

    Parameters
    ----------
    scores : array_like, shape (n_rows, n_samples)
        The module genes' feature-score rows (``feature_scores.parquet``); NaN marks a missing value.
    method : {"pc1", "aligned_mean"}, default "pc1"
        ``"pc1"``: the WGCNA eigengene. ``"aligned_mean"``: mean of sign-aligned standardised rows.
    loadings : bool, default True
        False: skip the kME (``loadings`` all NaN), for callers that correlate the rows with the eigengene
        themselves.

    Returns
    -------
    EigengeneResult
        ``values`` (standardised, one per sample), ``variance_explained``, ``loadings`` (kME),
        ``used_rows``, ``method``.

    Raises
    ------
    ValueError
        If ``method`` is unknown, or no row has two finite values with non-zero variance.

    Notes
    -----
    Rows are standardised, :math:`Z_{gs} = (x_{gs} - \bar x_g)/s_g`, over their finite values; a
    missing value then contributes 0 (mean imputation), which for complete data changes nothing. With
    the SVD :math:`Z^\top = U D V^\top` (samples x rows) the PC1 eigengene is :math:`u_1`, flipped when
    :math:`\operatorname{cor}(u_1, \bar Z_{\cdot s}) < 0` where :math:`\bar Z_{\cdot s}` is the mean of
    the standardised rows in sample :math:`s` (WGCNA's ``align = "along average"``) [1]_. The aligned
    mean is :math:`\operatorname{mean}_g \operatorname{sign}(v_{g1}) Z_{gs}` over finite values, with
    the same sign rule. Both are returned standardised; correlations with them do not depend on scale.

    References
    ----------
    .. [1] P. Langfelder and S. Horvath (2008), "WGCNA: an R package for weighted correlation network
           analysis", BMC Bioinformatics 9:559.

    Examples
    --------
    >>> import numpy as np
    >>> from isograph.explain.eigengene import module_eigengene
    >>> t = np.linspace(-1, 1, 6)
    >>> res = module_eigengene(np.vstack([t, 2 * t + 1, -t]))
    >>> np.round(res.values, 3), round(res.variance_explained, 3)
    (array([-1.336, -0.802, -0.267,  0.267,  0.802,  1.336]), 1.0)
    """
    if method not in EIGENGENE_METHODS:
        raise ValueError(f"eigengene method must be one of {EIGENGENE_METHODS}; got {method!r}")
    x = np.asarray(scores, dtype=np.float64)
    if x.ndim == 1:
        x = x[None, :]
    z, usable = _standardise_rows(x)
    if not usable.any():
        raise ValueError("no module row has two finite values with non-zero variance")
    zu = z[usable]
    sample_ok = np.isfinite(zu).any(axis=0)
    zf = np.where(np.isfinite(zu[:, sample_ok]), zu[:, sample_ok], 0.0)  # rows x defined samples
    average = zf.mean(axis=0)

    pc1, v1, d1 = _leading_singular_triplet(zf)
    if method == "pc1":
        e = pc1
    else:
        signs = np.where(v1 < 0, -1.0, 1.0)
        aligned = signs[:, None] * zu[:, sample_ok]
        with np.errstate(invalid="ignore"):
            e = np.nanmean(aligned, axis=0)
        e = e - e.mean()
    if np.dot(e - e.mean(), average - average.mean()) < 0:
        e = -e
    total = float(np.einsum("ij,ij->", zf, zf))  # = sum of all squared singular values
    norm = float(np.linalg.norm(e))
    if norm > 0 and total > 0:
        variance_explained = float(np.sum((zf @ (e / norm)) ** 2) / total)
    else:
        variance_explained = float("nan")

    values = np.full(x.shape[1], np.nan)
    values[sample_ok] = e
    values = _unit_standardise(values)
    kme = np.full(x.shape[0], np.nan)
    if loadings:
        kme[usable] = _row_correlations(zu, values)
    return EigengeneResult(
        values=values,
        variance_explained=variance_explained,
        loadings=kme,
        used_rows=usable,
        method=method,
    )

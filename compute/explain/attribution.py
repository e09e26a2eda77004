"""Which genes does the fit's VAE say drive a module? Decoder finite differences and Integrated Gradients.

Both start from the fit's ``vae_checkpoint.pt`` (loaded with ``weights_only=True``) and the VAE's own
input: the fit's feature scores in checkpoint order, standardised per feature over the fit samples
exactly as ``isograph fit`` trained it (a missing value enters as the feature mean).

Decoder attribution (the manual's "VAE Decoder Attribution")
    The module's latent dimension k is the one whose posterior mean correlates most (|r|) with the
    module eigengene over the samples used. The mean latent z̄ is decoded at z̄ ± eps·e_k and
    ``decoded_delta = (f(z̄ + eps e_k) − f(z̄ − eps e_k)) / (2 eps)`` (standardised feature-score units
    per unit of latent) estimates the directional derivative. Each gene keeps its row with the largest
    |decoded_delta| among its ``vae_feature_types`` rows (switch rows by default: a driver is a
    within-gene isoform switch). High-confidence drivers pass all three criteria of the manual:
    ``qvalue <= fdr_threshold`` (gene_driver_table), ``decoded_delta_percentile >= percentile_threshold``
    among the module's genes, and ``sign_agreement``: sign(decoded_delta · sign(latent_r)) equals the
    sign of that same row's r with the eigengene (the latent may run against the module).

Integrated Gradients (the manual's "Captum Integrated Gradients")
    Captum's ``IntegratedGradients`` of ``mu_k(standardise(x))`` with respect to the raw feature scores
    x, from a baseline of zeros (``"zero"``) or of the per-feature mean over samples (``"mean"``), for
    every sample; per feature the signed mean (``ig_score``) and the mean absolute attribution.
    Completeness: per sample, the attributions sum to mu_k(x) − mu_k(baseline) up to
    ``convergence_delta``.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch
from scipy import stats

from isograph.dataset.artifacts import FitArtifacts
from isograph.errors import InputError
from isograph.explain.stats import pearson_rows
from isograph.fit.vae import VAE, encode_mean, load_checkpoint

__all__ = [
    "AttributionInputs",
    "choose_latent",
    "decoder_delta",
    "integrated_gradients",
    "prepare_attribution",
    "vae_drivers",
]

IG_BASELINES = ("zero", "mean")


@dataclass
class AttributionInputs:
    """The VAE of a fit and its input, aligned (built once per explain run).

    Attributes
    ----------
    model : VAE
    feature_ids, gene_ids, feature_types : ndarray of str, shape (n_features,)
        Checkpoint order.
    sample_ids : list of str
        Fit samples (rows of ``raw``).
    raw : ndarray, shape (n_samples, n_features)
        Feature scores (NaN where missing).
    centre, scale : ndarray, shape (n_features,)
        The standardisation the VAE was trained with (mean and SD, ddof=1).
    mu : ndarray, shape (n_samples, latent_dim)
        Posterior means of every fit sample.
    """

    model: VAE
    feature_ids: np.ndarray
    gene_ids: np.ndarray
    feature_types: np.ndarray
    sample_ids: list[str]
    raw: np.ndarray
    centre: np.ndarray
    scale: np.ndarray
    mu: np.ndarray

    def standardised(self, raw: np.ndarray | None = None) -> np.ndarray:
        """(raw - centre) / scale with NaN -> 0 (the feature mean)."""
        raw = self.raw if raw is None else raw
        return np.nan_to_num((raw - self.centre) / self.scale, nan=0.0)


def prepare_attribution(fit: FitArtifacts) -> AttributionInputs:
    """Load the fit's checkpoint and line its features up with ``feature_scores.parquet``.

    Parameters
    ----------
    fit : FitArtifacts

    Returns
    -------
    AttributionInputs

    Raises
    ------
    InputError
        No ``vae_checkpoint.pt``, a refused/corrupt checkpoint, wrong shapes, or checkpoint features
        that ``feature_scores.parquet`` lacks.
    """
    if fit.checkpoint_path is None:
        raise InputError(f"{fit.artifact_dir}: no vae_checkpoint.pt, which --vae-attribution and"
                         " --integrated-gradients need; make the fit with `isograph fit`")
    model, meta = load_checkpoint(fit.checkpoint_path)
    feature_ids = np.asarray(meta["feature_ids"], dtype=object)
    rows = pd.Index(fit.score_meta["feature_id"].to_numpy(dtype=object)).get_indexer(feature_ids)
    if (rows < 0).any():
        missing = feature_ids[rows < 0]
        raise InputError(
            f"{fit.checkpoint_path}: {len(missing)} of {len(feature_ids)} checkpoint features are not in"
            f" {fit.scores_path.name} (e.g. {missing[0]!r}); the checkpoint belongs to another fit"
        )
    raw = np.ascontiguousarray(fit.score_rows(rows).T)
    centre = np.nanmean(raw, axis=0)
    scale = np.nanstd(raw, axis=0, ddof=1)
    scale[~(scale > 0)] = 1.0
    inputs = AttributionInputs(
        model=model, feature_ids=feature_ids, gene_ids=np.asarray(meta["gene_ids"], dtype=object),
        feature_types=np.asarray(meta["feature_types"], dtype=object), sample_ids=list(fit.sample_ids),
        raw=raw, centre=centre, scale=scale, mu=np.empty((0, 0)),
    )
    inputs.mu = encode_mean(model, inputs.standardised())
    return inputs


def choose_latent(mu: np.ndarray, eigengene: np.ndarray) -> tuple[int, np.ndarray]:
    """The latent dimension whose values correlate most (|r|) with the eigengene.

    Parameters
    ----------
    mu : ndarray, shape (n_samples, latent_dim)
    eigengene : ndarray, shape (n_samples,)
        NaN allowed (pairwise-complete correlation).

    Returns
    -------
    (int, ndarray)
        The chosen dimension and every dimension's r.
    """
    r = pearson_rows(np.ascontiguousarray(mu.T), eigengene).r
    return int(np.nanargmax(np.abs(np.nan_to_num(r, nan=0.0)))), r


def decoder_delta(model: VAE, z: np.ndarray, k: int, eps: float = 1.0) -> np.ndarray:
    """Central difference of the decoder along latent dimension ``k`` at ``z``.

    Parameters
    ----------
    model : VAE
    z : ndarray, shape (latent_dim,)
        Where to differentiate (the mean latent).
    k : int
    eps : float, default 1.0
        Half-width of the step, in latent units (> 0).

    Returns
    -------
    ndarray, shape (n_features,)
        ``(f(z + eps e_k) - f(z - eps e_k)) / (2 eps)``.
    """
    if not eps > 0:
        raise InputError(f"eps must be > 0; got {eps}")
    step = np.zeros_like(z, dtype=np.float64)
    step[k] = eps
    decoder = copy.deepcopy(model.decoder).double()  # float64: a small eps loses nothing to rounding
    with torch.no_grad():
        both = decoder(torch.as_tensor(np.stack([z + step, z - step]), dtype=torch.float64)).numpy()
    return (both[0] - both[1]) / (2.0 * eps)


def vae_drivers(
    inputs: AttributionInputs,
    module_genes: list[str],
    gene_table: pd.DataFrame,
    eigengene: pd.Series,
    *,
    eps: float = 1.0,
    fdr_threshold: float = 0.05,
    percentile_threshold: float = 90.0,
    feature_types: tuple[str, ...] = ("switch",),
) -> pd.DataFrame:
    """Decoder-attribution drivers of one module (``vae_drivers.parquet``).

    Parameters
    ----------
    inputs : AttributionInputs
    module_genes : list of str
    gene_table : DataFrame
        The module's ``gene_driver_table`` (``gene_id, r, qvalue``).
    eigengene : Series
        Eigengene over the samples used (index sample_id).
    eps : float, default 1.0
    fdr_threshold : float, default 0.05
    percentile_threshold : float, default 90.0
        In [0, 100]; |decoded_delta| percentile (among module genes) a driver must reach.
    feature_types : tuple of str, default ("switch",)
        Rows a gene's delta is taken from.

    Returns
    -------
    DataFrame
        ``gene_id, r, qvalue, decoded_delta, decoded_delta_percentile, latent_dim, latent_r,
        sign_agreement, high_confidence`` then ``delta_feature_id, delta_feature_type, delta_feature_r``;
        one row per module gene with a usable row, sorted by |decoded_delta|.
    """
    if not 0.0 <= percentile_threshold <= 100.0:
        raise InputError(f"vae percentile threshold must be in [0, 100]; got {percentile_threshold}")
    pos = pd.Index(inputs.sample_ids).get_indexer(eigengene.index)
    k, latent_r = choose_latent(inputs.mu[pos], eigengene.to_numpy())
    delta = decoder_delta(inputs.model, inputs.mu.mean(axis=0), k, eps)
    rows = np.flatnonzero(np.isin(inputs.gene_ids, module_genes) & np.isin(inputs.feature_types, feature_types))
    if rows.size == 0:
        raise InputError(f"no {'/'.join(feature_types)} row of this module's genes is in the VAE checkpoint")
    table = pd.DataFrame({"gene_id": inputs.gene_ids[rows], "row": rows, "abs": np.abs(delta[rows])})
    table = table.sort_values("abs", ascending=False, kind="stable").drop_duplicates("gene_id")
    best = table["row"].to_numpy()
    row_r = pearson_rows(np.ascontiguousarray(inputs.raw[pos][:, best].T), eigengene.to_numpy()).r
    genes = gene_table.set_index("gene_id")
    out = pd.DataFrame({
        "gene_id": table["gene_id"].to_numpy(dtype=object),
        "r": genes["r"].reindex(table["gene_id"]).to_numpy(),
        "qvalue": genes["qvalue"].reindex(table["gene_id"]).to_numpy(),
        "decoded_delta": delta[best],
        "decoded_delta_percentile": stats.rankdata(np.abs(delta[best]), method="max") / len(best) * 100.0,
        "latent_dim": k,
        "latent_r": latent_r[k],
    })
    direction = np.sign(out["decoded_delta"].to_numpy() * np.sign(latent_r[k]))
    out["sign_agreement"] = (direction != 0) & (direction == np.sign(row_r))
    out["high_confidence"] = ((out["qvalue"] <= fdr_threshold) & (out["decoded_delta_percentile"] >= percentile_threshold)
                              & out["sign_agreement"])
    out["delta_feature_id"] = inputs.feature_ids[best]
    out["delta_feature_type"] = inputs.feature_types[best]
    out["delta_feature_r"] = row_r
    return out.reset_index(drop=True)


def integrated_gradients(
    inputs: AttributionInputs,
    k: int,
    *,
    baseline: str = "zero",
    n_steps: int = 100,
    sample_ids: list[str] | None = None,
    internal_batch_size: int = 2048,
) -> tuple[pd.DataFrame, np.ndarray]:
    """Captum Integrated Gradients of latent ``k`` (posterior mean) with respect to the raw feature scores.

    Parameters
    ----------
    inputs : AttributionInputs
    k : int
        Latent dimension (e.g. from :func:`choose_latent`).
    baseline : {"zero", "mean"}, default "zero"
        All-zero feature scores, or each feature's mean over the fit samples.
    n_steps : int, default 100
        Integration steps (Gauss-Legendre, Captum's default method).
    sample_ids : list of str, optional
        Samples to attribute (default: all fit samples).
    internal_batch_size : int, default 2048
        Rows per encoder call inside Captum (memory only).

    Returns
    -------
    (DataFrame, ndarray)
        Per feature ``feature_id, gene_id, feature_type, ig_score`` (signed mean over samples),
        ``ig_abs_mean``, ``convergence_delta`` (mean |per-sample completeness gap|), sorted by
        |ig_score|; and the per-sample attribution matrix (n_samples, n_features).
    """
    from captum.attr import IntegratedGradients

    if baseline not in IG_BASELINES:
        raise InputError(f"ig baseline must be one of {', '.join(IG_BASELINES)}; got {baseline!r}")
    if n_steps < 2:
        raise InputError(f"ig n_steps must be >= 2; got {n_steps}")
    pos = np.arange(len(inputs.sample_ids)) if sample_ids is None else \
        pd.Index(inputs.sample_ids).get_indexer(sample_ids)
    raw = np.nan_to_num(inputs.raw[pos], nan=0.0) + np.where(np.isnan(inputs.raw[pos]), inputs.centre, 0.0)
    x = torch.as_tensor(raw, dtype=torch.float32)
    centre = torch.as_tensor(inputs.centre, dtype=torch.float32)
    scale = torch.as_tensor(inputs.scale, dtype=torch.float32)
    encoder = inputs.model.encoder

    def forward(values: torch.Tensor) -> torch.Tensor:
        mu, _ = encoder((values - centre) / scale)
        return mu[:, k]

    base = torch.zeros_like(x) if baseline == "zero" else centre.expand_as(x).clone()
    ig = IntegratedGradients(forward)
    attributions, delta = ig.attribute(x, baselines=base, n_steps=n_steps, return_convergence_delta=True,
                                       internal_batch_size=internal_batch_size)
    attr = attributions.detach().double().numpy()
    table = pd.DataFrame({
        "feature_id": inputs.feature_ids,
        "gene_id": inputs.gene_ids,
        "feature_type": inputs.feature_types,
        "ig_score": attr.mean(axis=0),
        "ig_abs_mean": np.abs(attr).mean(axis=0),
        "convergence_delta": float(np.abs(delta.detach().double().numpy()).mean()),
    })
    order = np.argsort(-np.abs(table["ig_score"].to_numpy()), kind="stable")
    return table.iloc[order].reset_index(drop=True), attr

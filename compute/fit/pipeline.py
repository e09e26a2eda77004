"""``isograph fit``: from matched transcript counts to an IsoGraph fit directory.

Stages (each reported to the ``progress`` callback as ``progress(stage, fraction, message)`` with
``fraction`` in [0, 1] over the whole fit):

1. ``scores``: switch score per gene with >= 2 transcripts and abundance score per gene
   (:mod:`isograph.fit.scores`), optionally with covariates regressed out;
2. ``vae``: a VAE on the standardised scores (:mod:`isograph.fit.vae`);
3. ``modules``: genes grouped by the similarity of their reconstructions (:mod:`isograph.fit.modules`);
4. ``membership``: each gene's kME (correlation of its best-reconstructed score with every module
   eigengene) with p and BH q;
5. ``write``: ``modules.parquet``, ``feature_scores.parquet`` (and the same scores as ``feature_scores.matrix``,
   which explain reads a module's rows from), ``module_membership.parquet``,
   ``vae_checkpoint.pt``, ``fit_config.json``, and explain's inputs: ``transcript_usage.matrix`` (each
   transcript's share of its gene's count, genes with >= 2 transcripts; :func:`isograph.fit.scores.transcript_usage`)
   with ``feature_metadata.parquet``; all committed as one unit.
"""

from __future__ import annotations

import datetime as _dt
import os
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import numpy as np
import pandas as pd

from isograph import __version__
from isograph.dataset.commit import staged_commit
from isograph.dataset.io import write_json, write_parquet
from isograph.dataset.matrix import write_matrix_folder
from isograph.errors import InputError, warn
from isograph.explain.eigengene import module_eigengene
from isograph.explain.stats import bh_qvalues, pearson_rows
from isograph.fit.importers import CountsImport
from isograph.fit.modules import DiscoveryConfig, discover_modules
from isograph.fit.scores import (
    abundance_scores,
    feature_scores_frame,
    regress_covariates,
    switch_scores,
    transcript_usage_blocks,
)
from isograph.fit.vae_config import VAEConfig

__all__ = ["FitConfig", "FitResult", "run_fit"]

Progress = Callable[[str, float, str], None]
# share of the total fit time each stage takes, for the progress fraction
_STAGE_SPAN = {"scores": (0.0, 0.1), "vae": (0.1, 0.85), "modules": (0.85, 0.92),
               "membership": (0.92, 0.96), "write": (0.96, 1.0)}


@dataclass(frozen=True)
class FitConfig:
    """Every parameter of a fit (written to ``fit_config.json``).

    Attributes
    ----------
    channels : tuple of {"switch", "abundance"}, default ("switch", "abundance")
        Feature-score channels that enter the VAE.
    vae : VAEConfig
        Architecture and training (see :class:`isograph.fit.vae.VAEConfig`; its ``seed`` is replaced by
        ``seed``).
    discovery : DiscoveryConfig
        Module discovery (see :class:`isograph.fit.modules.DiscoveryConfig`; its ``seed`` is
        replaced by ``seed``).
    seed : int, default 0
        Seeds the VAE and the community detection: equal seeds give identical modules.
    """

    channels: tuple[str, ...] = ("switch", "abundance")
    vae: VAEConfig = field(default_factory=VAEConfig)
    discovery: DiscoveryConfig = field(default_factory=DiscoveryConfig)
    seed: int = 0

    def vae_config(self) -> VAEConfig:
        """The VAE options with the fit's seed."""
        return replace(self.vae, seed=self.seed)

    def discovery_config(self) -> DiscoveryConfig:
        """The module-discovery options with the fit's seed."""
        return replace(self.discovery, seed=self.seed)

    def validate(self) -> None:
        """Raise :class:`InputError` for an option out of range."""
        bad = [c for c in self.channels if c not in ("switch", "abundance")]
        if bad or not self.channels:
            raise InputError(f"channels must be switch and/or abundance; got {', '.join(self.channels) or 'none'}")
        v = self.vae
        if v.latent_dim < 1 or v.hidden_dim < 1 or v.n_hidden_layers < 1:
            raise InputError("latent_dim, hidden_dim and n_hidden_layers must be >= 1")
        if not 0.0 < v.validation_fraction < 0.5:
            raise InputError(f"validation_fraction must be in (0, 0.5); got {v.validation_fraction}")
        self.discovery.validate()


@dataclass
class FitResult:
    """What :func:`run_fit` produced.

    Attributes
    ----------
    modules : DataFrame
        ``gene_id, module_id`` (``modules.parquet``).
    feature_scores : DataFrame
        ``feature_scores.parquet`` (covariate-corrected, not standardised).
    membership : DataFrame
        One row per gene: ``gene_id, module_id`` (NA when unassigned), ``feature_type`` (its
        best-reconstructed channel), ``r2`` (reconstruction R²), ``kME, kME_pvalue, kME_qvalue``
        (with its own module's eigengene), ``best_module, best_kME`` (the module whose eigengene it
        correlates with most strongly, in absolute value).
    timings : dict
        Seconds per stage.
    history : object
        The VAE's :class:`isograph.fit.vae.TrainingHistory`.
    files : dict
        Paths written.
    """

    modules: pd.DataFrame
    feature_scores: pd.DataFrame
    membership: pd.DataFrame
    timings: dict[str, float]
    history: object
    config: FitConfig
    files: dict[str, str] = field(default_factory=dict)


def _report(progress: Progress | None, stage: str, within: float, message: str) -> None:
    if progress is not None:
        lo, hi = _STAGE_SPAN[stage]
        progress(stage, lo + (hi - lo) * min(max(within, 0.0), 1.0), message)


def _standardise_columns(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    sd = x.std(axis=0, ddof=1)
    keep = np.isfinite(sd) & (sd > 1e-12)
    return (x[:, keep] - x[:, keep].mean(axis=0)) / sd[keep], keep


def _membership(x: np.ndarray, feature_genes: np.ndarray, feature_types: np.ndarray, genes: pd.DataFrame,
                modules: pd.DataFrame) -> pd.DataFrame:
    """kME of every gene's best channel with every module eigengene (pearson_rows; BH within the table).

    ``x`` is the samples x features matrix given to the VAE; ``genes`` comes from
    :func:`~isograph.fit.modules.discover_modules` (``feature_index`` = each gene's best feature).
    """
    module_ids = sorted(modules["module_id"].unique())
    best_rows = np.ascontiguousarray(x[:, genes["feature_index"].to_numpy()].T)  # genes x samples
    kme = np.full((len(genes), len(module_ids)), np.nan)
    pvalues = np.full_like(kme, np.nan)
    for j, mid in enumerate(module_ids):
        members = modules.loc[modules["module_id"] == mid, "gene_id"].to_numpy()
        rows = np.flatnonzero(np.isin(feature_genes, members))
        res = pearson_rows(best_rows, module_eigengene(x[:, rows].T, loadings=False).values)
        kme[:, j], pvalues[:, j] = res.r, res.pvalue
    own = pd.Index(module_ids).get_indexer(genes["module_id"].astype(object).fillna("").to_numpy())
    has = own >= 0
    at = (np.arange(len(genes)), np.maximum(own, 0))
    out = pd.DataFrame({
        "gene_id": genes["gene_id"].to_numpy(dtype=object),
        "module_id": genes["module_id"],
        "feature_type": feature_types[genes["feature_index"].to_numpy()],
        "r2": genes["r2"].to_numpy(),
        "kME": np.where(has, kme[at], np.nan),
        "kME_pvalue": np.where(has, pvalues[at], np.nan),
    })
    out["kME_qvalue"] = bh_qvalues(out["kME_pvalue"].to_numpy())
    strongest = np.argmax(np.nan_to_num(np.abs(kme), nan=-1.0), axis=1)
    out["best_module"] = np.asarray(module_ids, dtype=object)[strongest]
    out["best_kME"] = kme[np.arange(len(genes)), strongest]
    return out


def run_fit(
    data: CountsImport,
    config: FitConfig | None = None,
    *,
    covariates: pd.DataFrame | None = None,
    output_dir: str | os.PathLike | None = None,
    progress: Progress | None = None,
) -> FitResult:
    """Fit modules from matched transcript counts.

    Parameters
    ----------
    data : CountsImport
        From :func:`isograph.fit.importers.match_annotation`.
    config : FitConfig, optional
    covariates : DataFrame, optional
        One row per sample (``sample_id`` column or index); regressed out of every score.
    output_dir : path, optional
        Where the fit directory is written (created if needed).
    progress : callable, optional
        ``progress(stage, fraction, message)``; see the module docstring.

    Returns
    -------
    FitResult

    Raises
    ------
    InputError
        Fewer samples than latent dimensions, no gene with two transcripts for a switch channel, no
        module found (with what to try), bad options.
    """
    config = config or FitConfig()
    config.validate()
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    counts, tx2gene = data.counts, data.tx2gene
    if counts.shape[0] < config.vae.latent_dim:
        raise InputError(f"only {counts.shape[0]} samples for {config.vae.latent_dim} latent dimensions; use"
                         f" --latent-dim {max(1, counts.shape[0] // 4)} or fewer, or more samples")
    _report(progress, "scores", 0.0, f"scoring {tx2gene['gene_id'].nunique()} genes")
    channels: dict[str, pd.DataFrame] = {}
    if "switch" in config.channels:
        channels["switch"], _ = switch_scores(counts, tx2gene)
        if channels["switch"].shape[1] == 0:
            raise InputError("no gene has two quantified transcripts, so there is no switch channel;"
                             " use --channels abundance")
    if "abundance" in config.channels:
        channels["abundance"] = abundance_scores(counts, tx2gene)
    if covariates is not None:
        channels = {k: regress_covariates(v, covariates) for k, v in channels.items()}
    n_tx = tx2gene.groupby("gene_id").size()
    scores = feature_scores_frame(channels, n_tx)
    sample_cols = list(counts.index)
    matrix = scores[sample_cols].to_numpy(dtype=np.float64).T  # samples x features
    x, keep = _standardise_columns(matrix)
    if (~keep).any():
        warn(f"{int((~keep).sum())} constant feature score(s) are left out of the VAE")
    kept = scores.loc[keep].reset_index(drop=True)
    timings["scores"] = time.perf_counter() - t0
    _report(progress, "scores", 1.0, f"{x.shape[1]} features from {kept['gene_id'].nunique()} genes")

    from isograph.fit.vae import reconstruct, save_checkpoint, train_vae  # torch is imported only to fit

    t1 = time.perf_counter()
    vae_config = config.vae_config()
    model, history = train_vae(x, vae_config, progress=lambda e, n, loss: _report(
        progress, "vae", e / n, f"epoch {e}/{n}, validation loss {loss:.1f}"))
    timings["vae"] = time.perf_counter() - t1
    _report(progress, "vae", 1.0, f"VAE: best epoch {history.best_epoch + 1} of {len(history.train_loss)}")

    t2 = time.perf_counter()
    recon = reconstruct(model, x)
    feature_genes = kept["gene_id"].to_numpy(dtype=object)
    modules, genes = discover_modules(x, recon, feature_genes, config=config.discovery_config())
    timings["modules"] = time.perf_counter() - t2
    if modules.empty:
        d = config.discovery
        raise InputError(f"no module of >= {d.min_module_size} genes found (alpha {d.alpha}, min_r2"
                         f" {d.min_r2}); try a lower --alpha or --min-r2, or more samples")
    _report(progress, "modules", 1.0, f"{modules['module_id'].nunique()} modules, {len(modules)} genes")

    t3 = time.perf_counter()
    membership = _membership(x, feature_genes, kept["feature_type"].to_numpy(dtype=object), genes, modules)
    timings["membership"] = time.perf_counter() - t3
    result = FitResult(modules=modules, feature_scores=scores, membership=membership, timings=timings,
                       history=history, config=config)

    if output_dir is not None:
        t4 = time.perf_counter()
        out = Path(output_dir)
        if out.exists() and not out.is_dir():
            raise InputError(f"--output-dir {out} exists and is not a folder")
        # explain's feature table, next to the fit, written a block of transcripts at a time
        usage_meta, usage_blocks = transcript_usage_blocks(counts, tx2gene)
        with staged_commit(out) as stage:  # the fit's files replace an earlier fit's as a unit
            files = {
                "modules": write_parquet(modules, stage / "modules.parquet"),
                "feature_scores": write_parquet(scores, stage / "feature_scores.parquet"),
                # the same scores as a matrix (written after the parquet, so it is the one read): explain
                # reads only each module's rows of it
                "feature_scores_matrix": write_matrix_folder(
                    stage / "feature_scores.matrix", pd.Index(sample_cols).astype(str),
                    scores["feature_id"].astype(str), [matrix.T],  # `matrix` above, not a second copy
                    feature_info=scores[["gene_id", "feature_type", "n_transcripts"]]),
                "module_membership": write_parquet(membership, stage / "module_membership.parquet"),
                "transcript_usage": write_matrix_folder(stage / "transcript_usage.matrix", counts.index.astype(str),
                                                        pd.Index(usage_meta["feature_id"]), usage_blocks),
                "feature_metadata": write_parquet(usage_meta, stage / "feature_metadata.parquet"),
                "vae_checkpoint": save_checkpoint(stage / "vae_checkpoint.pt", model,
                                                  feature_ids=kept["feature_id"].tolist(),
                                                  gene_ids=kept["gene_id"].tolist(),
                                                  feature_types=kept["feature_type"].tolist(), config=vae_config),
            }
            timings["write"] = time.perf_counter() - t4
            files["fit_config"] = write_json({
                "package": "isograph-explorer",
                "package_version": __version__,
                "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
                "config": asdict(replace(config, vae=vae_config, discovery=config.discovery_config())),
                "import": {"n_samples": int(counts.shape[0]), "n_quantified": data.n_quantified,
                           "n_matched": data.n_matched, "versions_stripped": data.versions_stripped,
                           "n_single_transcript_genes": data.n_single_transcript_genes,
                           "covariates": None if covariates is None else [str(c) for c in covariates.columns
                                                                          if c != "sample_id"]},
                "vae": {"epochs": len(history.train_loss), "best_epoch": history.best_epoch + 1,
                        "best_validation_loss": float(min(history.validation_loss)), "device": history.device},
                "modules": {m: int(n) for m, n in modules["module_id"].value_counts().sort_index().items()},
                "timings_s": {k: round(v, 3) for k, v in timings.items()},
            }, stage / "fit_config.json")
        files = {name: out / Path(path).name for name, path in files.items()}  # where the commit put them
        result.files = {k: str(v) for k, v in files.items()}
        _report(progress, "write", 1.0, f"wrote {out}")
    return result

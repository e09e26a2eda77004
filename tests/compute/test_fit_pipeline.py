"""run_fit on simulated data with planted modules: recovery, determinism, outputs, bad inputs."""

from __future__ import annotations

import functools
import json

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from isograph.dataset.artifacts import load_fit_artifacts
from isograph.errors import InputError, InputWarning
from isograph.explain import explain_module
from isograph.explain.eigengene import module_eigengene
from isograph.fit.importers import match_annotation
from isograph.fit.modules import DiscoveryConfig, module_recovery
from isograph.fit.pipeline import FitConfig, run_fit
from isograph.fit.vae import load_checkpoint
from isograph.fit.vae_config import VAEConfig
from isograph.simulate import SimulationConfig, simulate

NOISY = SimulationConfig(dispersion=0.3, confounder_strength=1.0, seed=1)


@functools.cache
def _fit(config: SimulationConfig, with_covariates: bool):
    sim = simulate(config)
    data = match_annotation(sim.counts.astype(float), sim.tx2gene)
    return sim, run_fit(data, FitConfig(), covariates=sim.covariates if with_covariates else None)


def test_recovers_planted_modules_on_the_standard_set():
    sim, fit = _fit(SimulationConfig(), False)
    score, table = module_recovery(fit.modules, sim.oracle_modules)
    print(f"\nmodule recovery, standard set (seed 0): {score:.3f}; per module "
          + ", ".join(f"{r.truth_module} {r.jaccard:.2f}" for r in table.itertuples()))
    assert score >= 0.9


def test_recovers_planted_modules_on_the_noisy_set():
    sim, fit = _fit(NOISY, True)
    score, table = module_recovery(fit.modules, sim.oracle_modules)
    _, raw = _fit(NOISY, False)
    raw_score, _ = module_recovery(raw.modules, sim.oracle_modules)
    print(f"\nmodule recovery, noisy set (seed 1, dispersion 0.3, batch confounder 1.0): {score:.3f} with the"
          f" batch regressed out ({raw_score:.3f} without); per module "
          + ", ".join(f"{r.truth_module} {r.jaccard:.2f}" for r in table.itertuples()))
    assert score >= 0.8


def test_same_seed_gives_identical_modules():
    sim = simulate(SimulationConfig(n_samples=80, n_modules=3, seed=5))
    data = match_annotation(sim.counts.astype(float), sim.tx2gene)
    a = run_fit(data, FitConfig(seed=3))
    b = run_fit(data, FitConfig(seed=3))
    pd.testing.assert_frame_equal(a.modules, b.modules)
    pd.testing.assert_frame_equal(a.membership, b.membership)


def test_outputs_are_a_valid_fit_directory(tmp_path, small_sim):
    stages = []
    data = match_annotation(small_sim.counts.astype(float), small_sim.tx2gene)
    fit = run_fit(data, FitConfig(vae=VAEConfig(latent_dim=4), seed=7), output_dir=tmp_path / "fit",
                  progress=lambda stage, fraction, message: stages.append((stage, fraction)))
    fractions = [f for _, f in stages]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0
    assert [s for s, _ in stages][0] == "scores" and "vae" in {s for s, _ in stages}
    artifacts = load_fit_artifacts(tmp_path / "fit")
    assert artifacts.checkpoint_path is not None and artifacts.module_ids == sorted(fit.modules["module_id"].unique())
    assert set(artifacts.score_meta["feature_type"]) == {"switch", "abundance"}
    model, meta = load_checkpoint(tmp_path / "fit" / "vae_checkpoint.pt")
    assert set(meta["feature_ids"]) <= set(artifacts.score_meta["feature_id"])
    config = json.loads((tmp_path / "fit" / "fit_config.json").read_text())
    assert config["config"]["vae"]["seed"] == config["config"]["discovery"]["seed"] == config["config"]["seed"] == 7
    assert config["config"]["vae"]["latent_dim"] == 4 and config["import"]["n_matched"] == small_sim.counts.shape[1]
    membership = pd.read_parquet(tmp_path / "fit" / "module_membership.parquet")
    assert list(membership.columns[:4]) == ["gene_id", "module_id", "feature_type", "r2"]
    results = explain_module(tmp_path / "fit", small_sim.feature_table, small_sim.feature_meta)
    assert set(results) == set(artifacts.module_ids)
    # the scores are read from feature_scores.matrix (written last), equal to the parquet's
    assert artifacts.scores_path.name == "feature_scores.matrix" and isinstance(artifacts.scores, np.memmap)
    parquet = pd.read_parquet(tmp_path / "fit" / "feature_scores.parquet")
    assert artifacts.score_meta["feature_id"].tolist() == parquet["feature_id"].tolist()
    np.testing.assert_array_equal(artifacts.scores, parquet[artifacts.sample_ids].to_numpy())
    pd.testing.assert_series_equal(artifacts.score_meta["n_transcripts"], parquet["n_transcripts"].astype(float))


def test_kme_matches_pearsonr():
    # oracle: scipy.stats.pearsonr(gene's standardised best score, eigengene of its module's score rows)
    sim, fit = _fit(SimulationConfig(), False)
    scores = fit.feature_scores
    samples = list(sim.counts.index)
    row = fit.membership.dropna(subset=["module_id"]).iloc[0]
    members = set(fit.modules.loc[fit.modules["module_id"] == row["module_id"], "gene_id"])
    block = scores[scores["gene_id"].isin(members)][samples].to_numpy(dtype=float)
    eig = module_eigengene((block - block.mean(1, keepdims=True)) / block.std(1, ddof=1, keepdims=True)).values
    own = scores[(scores["gene_id"] == row["gene_id"]) & (scores["feature_type"] == row["feature_type"])]
    ref = stats.pearsonr(own[samples].to_numpy(dtype=float)[0], eig)
    assert row["kME"] == pytest.approx(ref.statistic, abs=1e-10)
    assert row["kME_pvalue"] == pytest.approx(ref.pvalue, rel=1e-8, abs=1e-300)


def test_fewer_samples_than_latent_dims(small_sim):
    data = match_annotation(small_sim.counts.iloc[:12].astype(float), small_sim.tx2gene)
    with pytest.raises(InputError, match="only 12 samples for 32 latent dimensions; use --latent-dim 3"):
        run_fit(data, FitConfig())


def test_single_transcript_genes_get_abundance_only(small_sim):
    tx2gene = small_sim.tx2gene.copy()
    first = tx2gene["gene_id"].iloc[0]
    lone = tx2gene.loc[tx2gene["gene_id"] == first, "transcript_id"].iloc[0]
    tx2gene.loc[tx2gene["transcript_id"] == lone, "gene_id"] = "LONE"
    with pytest.warns(InputWarning, match="1 of .* genes have a single quantified transcript"):
        data = match_annotation(small_sim.counts.astype(float), tx2gene)
    fit = run_fit(data, FitConfig(vae=VAEConfig(latent_dim=4)))
    assert set(fit.feature_scores.loc[fit.feature_scores["gene_id"] == "LONE", "feature_type"]) == {"abundance"}


def test_no_module_found_says_what_to_try(small_sim):
    data = match_annotation(small_sim.counts.astype(float), small_sim.tx2gene)
    with pytest.raises(InputError, match="no module of >= 5 genes found .* try a lower --alpha or --min-r2"):
        run_fit(data, FitConfig(vae=VAEConfig(latent_dim=4), discovery=DiscoveryConfig(min_r2=0.999)))


def test_bad_fit_options():
    with pytest.raises(InputError, match="channels must be switch and/or abundance"):
        FitConfig(channels=("exon",)).validate()
    with pytest.raises(InputError, match="alpha must be in"):
        FitConfig(discovery=DiscoveryConfig(alpha=1.5)).validate()

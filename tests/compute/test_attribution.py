"""Decoder attribution and Integrated Gradients on a trained VAE: exact-derivative and completeness
oracles, planted truth, and refusal of bad checkpoints."""

from __future__ import annotations

import copy

import numpy as np
import pandas as pd
import pytest
import torch

from isograph.dataset.artifacts import load_fit_artifacts
from isograph.errors import InputError
from isograph.explain import ExplainConfig, explain_module
from isograph.explain.attribution import choose_latent, decoder_delta, integrated_gradients, prepare_attribution


@pytest.fixture(scope="module")
def inputs(_fitted):
    return prepare_attribution(load_fit_artifacts(_fitted / "fit"))


def test_central_difference_matches_exact_jvp(inputs):
    # oracle: torch.func.jvp of the trained decoder at the mean latent along e_k (float64)
    decoder = copy.deepcopy(inputs.model.decoder).double()
    z = torch.as_tensor(inputs.mu.mean(axis=0), dtype=torch.float64)
    for k in (0, 5, 17):
        direction = torch.zeros_like(z)
        direction[k] = 1.0
        with torch.no_grad():
            _, exact = torch.func.jvp(decoder, (z,), (direction,))
        approx = decoder_delta(inputs.model, inputs.mu.mean(axis=0), k, eps=1e-3)
        assert np.max(np.abs(approx - exact.numpy())) <= 1e-3
        assert np.max(np.abs(exact.numpy())) > 1e-2  # a non-trivial derivative


@pytest.mark.parametrize("baseline", ["zero", "mean"])
def test_integrated_gradients_completeness(inputs, baseline):
    # oracle: per sample, sum of attributions = mu_k(x) - mu_k(baseline) (Sundararajan et al. 2017)
    samples = inputs.sample_ids[:20]
    table, attr = integrated_gradients(inputs, 3, baseline=baseline, n_steps=200, sample_ids=samples)
    x = torch.as_tensor(inputs.raw[:20], dtype=torch.float32)
    base = torch.zeros_like(x) if baseline == "zero" else torch.as_tensor(inputs.centre, dtype=torch.float32).expand_as(x)
    def f(v):
        return inputs.model.encoder((v - torch.as_tensor(inputs.centre, dtype=torch.float32))
                                    / torch.as_tensor(inputs.scale, dtype=torch.float32))[0][:, 3]

    with torch.no_grad():
        gap = (f(x) - f(base)).double().numpy()
    total = attr.sum(axis=1)
    assert np.max(np.abs(total - gap) / np.maximum(np.abs(gap), 1e-12)) <= 0.01
    assert table["ig_score"].abs().is_monotonic_decreasing
    np.testing.assert_allclose(table.set_index("feature_id").loc[inputs.feature_ids, "ig_score"], attr.mean(axis=0))


def test_latent_choice_maximises_abs_r(inputs):
    rng = np.random.default_rng(0)
    target = inputs.mu[:, 7] * -2.0 + 0.01 * rng.normal(size=len(inputs.mu))
    k, r = choose_latent(inputs.mu, target)
    assert k == 7 and r[7] < -0.99


def test_high_confidence_drivers_are_planted_switches(fitted_dir, standard_sim):
    """Planted truth: precision of high-confidence drivers for switching genes >= 0.8."""
    results = explain_module(fitted_dir / "fit", standard_sim.feature_table, standard_sim.feature_meta,
                             config=ExplainConfig(vae_attribution=True), output_dir=fitted_dir / "explain")
    truth = standard_sim.truth_genes.set_index("gene_id")["is_switching"]
    drivers = pd.concat([r.vae_drivers for r in results.values()])
    flagged = drivers.loc[drivers["high_confidence"], "gene_id"]
    switching = drivers.loc[truth.reindex(drivers["gene_id"]).fillna(False).to_numpy(bool), "gene_id"]
    precision = truth.reindex(flagged).fillna(False).mean()
    recall = flagged.isin(switching).sum() / len(switching)
    print(f"\nhigh-confidence VAE drivers: {len(flagged)} genes; precision for planted switching genes"
          f" {precision:.3f}, recall {recall:.3f} (of {len(switching)} switching module genes)")
    assert precision >= 0.8
    assert list(drivers.columns[:9]) == ["gene_id", "r", "qvalue", "decoded_delta", "decoded_delta_percentile",
                                         "latent_dim", "latent_r", "sign_agreement", "high_confidence"]
    assert (fitted_dir / "explain" / "M000" / "vae_drivers.parquet").exists()


def test_missing_checkpoint_is_an_error_when_asked_for(small_dir, small_sim):
    with pytest.raises(InputError, match="no vae_checkpoint.pt, which --vae-attribution and --integrated-gradients need"):
        explain_module(small_dir / "oracle_fit", small_sim.feature_table, small_sim.feature_meta,
                       config=ExplainConfig(integrated_gradients=True))


def test_checkpoint_of_another_fit_is_an_error(fitted_dir, standard_sim):
    scores = pd.read_parquet(fitted_dir / "fit" / "feature_scores.parquet")
    scores["feature_id"] = "other_" + scores["feature_id"]
    scores.to_parquet(fitted_dir / "fit" / "feature_scores.parquet")
    with pytest.raises(InputError, match=r"checkpoint features are not in feature_scores.parquet .*another fit"):
        explain_module(fitted_dir / "fit", standard_sim.feature_table, standard_sim.feature_meta,
                       config=ExplainConfig(vae_attribution=True))


def test_pickled_checkpoint_is_refused_by_explain(fitted_dir, standard_sim):
    class Payload:
        def __reduce__(self):
            return (print, ("never",))

    torch.save({"encoder": {}, "payload": Payload()}, fitted_dir / "fit" / "vae_checkpoint.pt")
    with pytest.raises(InputError, match="refused or unreadable checkpoint"):
        explain_module(fitted_dir / "fit", standard_sim.feature_table, standard_sim.feature_meta,
                       config=ExplainConfig(vae_attribution=True))

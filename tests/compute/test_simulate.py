"""The simulator: determinism, planted structure, real gene models, parameters."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from isograph.errors import InputError
from isograph.simulate import REFERENCE_GTF, SimulationConfig, simulate
from isograph.structure.cache import load_transcript_models


def test_same_seed_gives_identical_outputs_and_another_seed_differs():
    a = simulate(SimulationConfig(n_samples=30, n_modules=3, seed=4))
    b = simulate(SimulationConfig(n_samples=30, n_modules=3, seed=4))
    c = simulate(SimulationConfig(n_samples=30, n_modules=3, seed=5))
    for name in ("counts", "feature_table", "truth_genes", "oracle_modules", "oracle_feature_scores"):
        pd.testing.assert_frame_equal(getattr(a, name), getattr(b, name))
    assert not a.counts.equals(c.counts)


def test_standard_set_structure(standard_sim):
    truth = standard_sim.truth_genes
    reference = load_transcript_models(REFERENCE_GTF, use_cache=False).models
    multi = reference.groupby("gene_id").size()
    assert set(truth["gene_id"]) == set(multi[multi >= 2].index)  # the 234 real multi-isoform genes
    assert len(truth) == 234 and standard_sim.counts.shape == (200, multi[multi >= 2].sum())
    sizes = truth["module_id"].value_counts().sort_index()
    assert list(sizes.index) == [f"M00{i}" for i in range(6)]
    assert sizes.is_monotonic_decreasing and sizes.sum() == round(0.6 * 234)
    in_module = truth[truth["module_id"].notna()]
    frac = in_module.groupby("module_id")["is_switching"].mean()
    assert frac.between(0.4, 0.6).all()
    assert not truth.loc[truth["module_id"].isna(), "is_switching"].any()
    drivers = truth.dropna(subset=["driver_transcript_id"])
    tx_gene = standard_sim.tx2gene.set_index("transcript_id")["gene_id"]
    assert (tx_gene[drivers["driver_transcript_id"]].to_numpy() == drivers["gene_id"].to_numpy()).all()
    assert standard_sim.oracle_modules.merge(truth, on=["gene_id", "module_id"]).shape[0] == sizes.sum()


def test_counts_and_usage_are_consistent(standard_sim):
    counts = standard_sim.counts
    assert (counts.to_numpy() >= 0).all() and counts.dtypes.eq(np.int64).all()
    usage = standard_sim.feature_table
    gene = standard_sim.tx2gene.set_index("transcript_id")["gene_id"][usage.columns]
    sums = usage.T.groupby(gene.to_numpy()).sum(min_count=1).T
    assert np.allclose(sums.stack().dropna(), 1.0)


def test_planted_switch_follows_module_activity(standard_sim):
    truth = standard_sim.truth_genes[standard_sim.truth_genes["is_switching"]]
    usage = standard_sim.feature_table
    r = []
    for _, g in truth.iterrows():
        act = standard_sim.module_activity[g["module_id"]]
        x = usage[g["driver_transcript_id"]]
        ok = x.notna()
        r.append(np.corrcoef(x[ok], act[ok])[0, 1] * g["switch_direction"])
    assert np.median(r) > 0.5 and np.mean(np.array(r) > 0) > 0.95


def test_synthetic_genes_extend_real_models():
    sim = simulate(SimulationConfig(n_samples=20, n_genes=300, isoforms_per_gene=3, n_modules=3))
    synthetic = sim.truth_genes[sim.truth_genes["gene_model"] == "synthetic"]
    assert len(synthetic) == 66 and (synthetic["n_transcripts"] == 3).all()
    only = simulate(SimulationConfig(n_samples=20, n_genes=50, gene_models="synthetic", n_modules=2))
    assert only.counts.shape == (20, 200)


def test_missing_fraction_and_confounder():
    sim = simulate(SimulationConfig(n_samples=40, n_modules=2, missing_fraction=0.25, confounder_strength=1.0))
    assert 0.22 < sim.feature_table.isna().to_numpy().mean() < 0.3
    assert set(sim.covariates["batch"]) == {"b0", "b1"}


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"n_samples": 5}, "n_samples must be >= 10"),
    ({"dispersion": 0}, "dispersion must be > 0"),
    ({"n_modules": 40}, "modules of \\d+ genes"),
    ({"gene_models": "mouse"}, "gene_models must be"),
])
def test_bad_parameters(kwargs, message):
    with pytest.raises(InputError, match=message):
        simulate(SimulationConfig(**kwargs))

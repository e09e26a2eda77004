"""Module discovery on planted structure, and the recovery score."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from isograph.fit.modules import DiscoveryConfig, discover_modules, module_recovery


def _planted(rng, sizes=(12, 9, 6), n_noise=10, n=60):
    factors = rng.normal(size=(n, len(sizes)))
    cols, genes, truth = [], [], []
    for m, size in enumerate(sizes):
        for i in range(size):
            cols.append(factors[:, m] * rng.choice([-1, 1]) + 0.1 * rng.normal(size=n))
            genes.append(f"G{m}_{i}")
            truth.append(f"T{m}")
    for i in range(n_noise):
        cols.append(rng.normal(size=n))
        genes.append(f"N{i}")
    x = np.column_stack(cols)
    recon = np.column_stack([c if g.startswith("G") else 0.3 * c for c, g in zip(cols, genes)])
    recon[:, [i for i, g in enumerate(genes) if g.startswith("N")]] = rng.normal(size=(n, n_noise))  # poor fit
    truth = pd.DataFrame({"gene_id": genes[: len(truth)], "module_id": truth})
    return x, recon, np.array(genes, dtype=object), truth


@pytest.mark.parametrize("community", ["leiden", "louvain", "components"])
def test_planted_modules_are_found(community):
    x, recon, genes, truth = _planted(np.random.default_rng(0))
    modules, table = discover_modules(x, recon, genes, config=DiscoveryConfig(community=community, min_module_size=3))
    score, per_module = module_recovery(modules, truth)
    assert score == 1.0, per_module
    assert list(modules["module_id"].value_counts().sort_index()) == [12, 9, 6]  # M000 = largest
    assert table.set_index("gene_id").loc["N0", "module_id"] is pd.NA


def test_module_recovery_hand_computed():
    truth = pd.DataFrame({"gene_id": list("abcdef"), "module_id": list("XXXYYY")})
    found = pd.DataFrame({"gene_id": list("abcdg"), "module_id": list("MMMMN")})
    score, table = module_recovery(found, truth)
    # X = {a,b,c} vs M = {a,b,c,d}: 3/4; Y = {d,e,f} vs M: 1/6, vs N = {g}: 0 -> best 1/6
    assert table["jaccard"].tolist() == pytest.approx([0.75, 1 / 6])
    assert score == pytest.approx((0.75 + 1 / 6) / 2)

"""isograph.explain.eigengene against numpy SVD (WGCNA definition) and hand-computed cases."""

from __future__ import annotations

import numpy as np
import pytest

from isograph.explain.eigengene import module_eigengene


def _module(rng, n_rows=30, n_samples=60):
    t = rng.normal(size=n_samples)
    signs = rng.choice([-1.0, 1.0], size=n_rows)
    x = signs[:, None] * t[None, :] * rng.uniform(0.5, 2, size=(n_rows, 1))
    x = x + rng.normal(size=x.shape) + rng.normal(5, 3, size=(n_rows, 1))
    return x, t, signs


def _standardise(v):
    return (v - v.mean()) / v.std(ddof=1)


def test_pc1_matches_numpy_svd_with_wgcna_sign_rule():
    # oracle: numpy SVD of the row-standardised (ddof=1) samples x rows matrix; sign so that the
    # eigengene correlates positively with the mean of the standardised rows (WGCNA "along average")
    rng = np.random.default_rng(0)
    x, _, _ = _module(rng)
    z = (x - x.mean(1, keepdims=True)) / x.std(1, ddof=1, keepdims=True)
    u, d, _ = np.linalg.svd(z.T, full_matrices=False)
    pc = u[:, 0]
    if np.corrcoef(pc, z.mean(0))[0, 1] < 0:
        pc = -pc
    res = module_eigengene(x)
    np.testing.assert_allclose(res.values, _standardise(pc), atol=1e-10)
    assert res.variance_explained == pytest.approx(d[0] ** 2 / np.sum(d**2), rel=1e-12)
    assert res.used_rows.all()
    # kME: each row's correlation with the eigengene
    assert res.loadings[0] == pytest.approx(np.corrcoef(x[0], res.values)[0, 1], abs=1e-12)


def test_pc1_is_invariant_to_row_scale_and_shift_and_flips_with_the_data():
    rng = np.random.default_rng(1)
    x, _, _ = _module(rng)
    a = module_eigengene(x).values
    b = module_eigengene(3 * x + 7).values
    np.testing.assert_allclose(a, b, atol=1e-10)
    np.testing.assert_allclose(module_eigengene(-x).values, -a, atol=1e-10)


def test_pc1_is_robust_to_missing_values():
    rng = np.random.default_rng(2)
    x, t, _ = _module(rng)
    full = module_eigengene(x).values
    holes = x.copy()
    holes[rng.random(x.shape) < 0.2] = np.nan
    holes[3] = np.nan  # an all-missing row is ignored
    holes[4] = 1.5  # so is a constant row
    res = module_eigengene(holes)
    assert not res.used_rows[3] and not res.used_rows[4]
    assert np.isfinite(res.values).all()
    assert np.corrcoef(res.values, full)[0, 1] > 0.97
    assert abs(np.corrcoef(res.values, t)[0, 1]) > 0.9


def test_sample_without_any_value_gets_nan():
    rng = np.random.default_rng(3)
    x, _, _ = _module(rng, n_rows=5, n_samples=20)
    x[:, 7] = np.nan
    res = module_eigengene(x)
    assert np.isnan(res.values[7]) and np.isfinite(np.delete(res.values, 7)).all()


def test_aligned_mean_hand_computed():
    # rows t, -t, 2t+1 standardise to z, -z, z; PC1 loadings have signs (+, -, +), so the aligned mean
    # is mean(z, z, z) = z (a plain mean would be z/3, and a row-sum of -t would cancel)
    t = np.array([-2.0, -1.0, 0.0, 0.5, 2.5])
    res = module_eigengene(np.vstack([t, -t, 2 * t + 1]), method="aligned_mean")
    np.testing.assert_allclose(res.values, _standardise(t), atol=1e-12)
    assert res.variance_explained == pytest.approx(1.0)


def test_aligned_mean_recovers_mixed_polarity_signal():
    rng = np.random.default_rng(4)
    x, t, _ = _module(rng, n_rows=40)
    aligned = module_eigengene(x, method="aligned_mean")
    pc1 = module_eigengene(x)
    assert abs(np.corrcoef(aligned.values, t)[0, 1]) > 0.95
    assert np.corrcoef(aligned.values, pc1.values)[0, 1] > 0.95
    assert 0 < aligned.variance_explained <= pc1.variance_explained + 1e-12


def test_errors():
    with pytest.raises(ValueError, match="method"):
        module_eigengene(np.zeros((2, 4)), method="mean")
    with pytest.raises(ValueError, match="no module row"):
        module_eigengene(np.full((2, 4), 3.0))

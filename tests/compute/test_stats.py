"""isograph.explain.stats against per-feature scipy.stats / statsmodels loops (the independent oracles)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from scipy import stats
from statsmodels.stats.multitest import multipletests

from isograph.explain.stats import bh_qvalues, pearson_rows, welch_ttest_groups, welch_ttest_rows


def _nan_matrix(rng, n_rows, n_samples, frac, *, offset=0.0):
    base = rng.normal(size=n_samples)
    x = offset + 0.5 * base[None, :] * rng.normal(size=(n_rows, 1)) + rng.normal(size=(n_rows, n_samples))
    x[rng.random(x.shape) < frac] = np.nan
    return x, base


@pytest.fixture
def nan_data():
    rng = np.random.default_rng(20261122)
    x, base = _nan_matrix(rng, 300, 40, 0.25)
    y = base + rng.normal(scale=0.7, size=base.size)
    y[rng.random(y.size) < 0.1] = np.nan
    return x, y


def test_nan_fraction_is_at_least_20_percent(nan_data):
    x, y = nan_data
    assert np.isnan(x).mean() >= 0.2


def test_pearson_matches_scipy_pearsonr_per_row(nan_data):
    # oracle: scipy.stats.pearsonr(x[i, ok], y[ok]) and its .confidence_interval(0.95), per row
    x, y = nan_data
    res = pearson_rows(x, y)
    for i in range(x.shape[0]):
        ok = np.isfinite(x[i]) & np.isfinite(y)
        ref = stats.pearsonr(x[i, ok], y[ok])
        ci = ref.confidence_interval(confidence_level=0.95)
        assert res.n_complete[i] == ok.sum()
        assert res.r[i] == pytest.approx(ref.statistic, abs=1e-10)
        assert res.pvalue[i] == pytest.approx(ref.pvalue, abs=1e-10)
        assert res.ci_low[i] == pytest.approx(ci.low, abs=1e-10)
        assert res.ci_high[i] == pytest.approx(ci.high, abs=1e-10)


def test_pearson_confidence_level_and_large_offsets_match_scipy():
    # rows far from zero (mean 1e6) test the centring; CI at 0.9 tests the level
    rng = np.random.default_rng(1)
    x, base = _nan_matrix(rng, 50, 30, 0.2, offset=1e6)
    y = base * 3 + 1e4
    res = pearson_rows(x, y, confidence_level=0.9)
    for i in range(50):
        ok = np.isfinite(x[i])
        ref = stats.pearsonr(x[i, ok], y[ok])
        ci = ref.confidence_interval(confidence_level=0.9)
        assert res.r[i] == pytest.approx(ref.statistic, abs=1e-9)
        assert res.ci_low[i] == pytest.approx(ci.low, abs=1e-9)


def test_pearson_does_not_depend_on_chunk_size(nan_data):
    x, y = nan_data
    a, b = pearson_rows(x, y), pearson_rows(x, y, chunk_rows=7)
    np.testing.assert_allclose(a.r, b.r, rtol=0, atol=1e-14)
    np.testing.assert_array_equal(a.n_complete, b.n_complete)


def test_pearson_degenerate_cases_follow_scipy():
    y = np.array([1.0, 2.0, 3.0, 4.0, 6.0, 5.0])
    x = np.array([
        [2.0, 2.0, 2.0, 2.0, 2.0, 2.0],               # constant -> NaN (scipy warns and returns NaN)
        [1.0, np.nan, np.nan, np.nan, np.nan, 3.0],   # 2 complete pairs < min_complete_pairs=3 -> NaN
        [1.0, 2.0, 3.0, 4.0, 6.0, 5.0],               # perfect -> r=1, p=0, CI [1, 1]
        [1.0, 5.0, 2.0, np.nan, np.nan, np.nan],      # n=3 -> CI [-1, 1]
    ])
    res = pearson_rows(x, y)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert np.isnan(stats.pearsonr(x[0], y).statistic)
    assert np.isnan(res.r[0]) and np.isnan(res.pvalue[0]) and np.isnan(res.ci_low[0])
    assert np.isnan(res.r[1]) and res.n_complete[1] == 2
    assert res.r[2] == pytest.approx(1.0) and res.pvalue[2] == 0.0
    assert (res.ci_low[3], res.ci_high[3]) == (-1.0, 1.0)
    ref = stats.pearsonr(x[3, :3], y[:3])
    assert res.r[3] == pytest.approx(ref.statistic, abs=1e-12)
    assert res.pvalue[3] == pytest.approx(ref.pvalue, abs=1e-12)


def test_pearson_two_pairs_gives_p_one_like_scipy():
    res = pearson_rows(np.array([[1.0, 3.0, np.nan]]), np.array([2.0, 1.0, 0.0]), min_complete_pairs=2)
    ref = stats.pearsonr([1.0, 3.0], [2.0, 1.0])
    assert res.r[0] == pytest.approx(ref.statistic) == -1.0
    assert res.pvalue[0] == ref.pvalue == 1.0


def test_pearson_constant_y_on_complete_samples_is_nan():
    # y is constant on the samples where the row is finite
    res = pearson_rows(np.array([[1.0, 2.0, 3.0, np.nan]]), np.array([5.0, 5.0, 5.0, 9.0]))
    assert np.isnan(res.r[0])


def test_pearson_rejects_bad_arguments():
    with pytest.raises(ValueError, match="samples"):
        pearson_rows(np.zeros((2, 3)), np.zeros(4))
    with pytest.raises(ValueError, match="min_complete_pairs"):
        pearson_rows(np.zeros((2, 3)), np.zeros(3), min_complete_pairs=1)


def test_bh_matches_scipy_and_statsmodels_and_keeps_nan():
    rng = np.random.default_rng(5)
    p = np.concatenate([rng.uniform(size=200), rng.uniform(0, 0.01, size=50)])
    p[rng.random(p.size) < 0.2] = np.nan
    q = bh_qvalues(p)
    ok = np.isfinite(p)
    np.testing.assert_allclose(q[ok], stats.false_discovery_control(p[ok]), rtol=1e-12)
    np.testing.assert_allclose(q[ok], multipletests(p[ok], method="fdr_bh")[1], rtol=1e-12)
    assert np.isnan(q[~ok]).all()
    assert np.isnan(bh_qvalues(np.array([np.nan, np.nan]))).all()


def test_bh_is_scipys_to_the_last_bit_with_ties_and_edge_sizes():
    # the step-up is written out by hand (no scipy.stats import in explain); it must be scipy's, bit for bit
    rng = np.random.default_rng(11)
    for n in (1, 2, 3, 17, 5000):
        p = rng.uniform(size=n) ** 4
        p[: n // 3] = p[n // 3] if n > 2 else p[: n // 3]  # a block of tied p-values
        np.testing.assert_array_equal(bh_qvalues(p), stats.false_discovery_control(p))
    np.testing.assert_array_equal(bh_qvalues(np.array([0.0, 1.0, 1.0, 0.5])),
                                  stats.false_discovery_control([0.0, 1.0, 1.0, 0.5]))
    assert bh_qvalues(np.array([], dtype=float)).shape == (0,)
    for bad in (1.5, -0.1):
        with pytest.raises(ValueError, match="between 0 and 1"):
            bh_qvalues(np.array([0.2, bad]))


def test_bh_worked_example():
    # Benjamini & Hochberg (1995) style hand computation: q_(i) = min_j>=i p_(j) m / j
    p = np.array([0.01, 0.04, 0.03, 0.20])
    # sorted p: .01 .03 .04 .20 -> p*m/rank: .04 .06 .0533 .20 -> running min from the top: .04 .0533 .0533 .20
    np.testing.assert_allclose(bh_qvalues(p), [0.04, 0.16 / 3, 0.16 / 3, 0.2], rtol=1e-12)


def test_welch_matches_scipy_ttest_ind_per_row():
    # oracle: scipy.stats.ttest_ind(a[i, finite], b[i, finite], equal_var=False)
    rng = np.random.default_rng(9)
    a = rng.normal(0.3, 1.0, size=(200, 25))
    b = rng.normal(0.0, 2.0, size=(200, 18))
    a[rng.random(a.shape) < 0.25] = np.nan
    b[rng.random(b.shape) < 0.25] = np.nan
    res = welch_ttest_rows(a, b)
    for i in range(200):
        ai, bi = a[i, np.isfinite(a[i])], b[i, np.isfinite(b[i])]
        ref = stats.ttest_ind(ai, bi, equal_var=False)
        assert res.tstat[i] == pytest.approx(ref.statistic, abs=1e-10)
        assert res.pvalue[i] == pytest.approx(ref.pvalue, abs=1e-10)
        assert res.df[i] == pytest.approx(ref.df, rel=1e-10)
        assert res.mean_a[i] == pytest.approx(ai.mean()) and res.n_b[i] == bi.size
        assert res.delta[i] == pytest.approx(ai.mean() - bi.mean())
        assert res.se[i] == pytest.approx(np.sqrt(ai.var(ddof=1) / ai.size + bi.var(ddof=1) / bi.size))


def test_welch_sign_and_degenerate_groups():
    a = np.array([[5.0, 6.0, 7.0], [1.0, np.nan, np.nan], [2.0, 2.0, 2.0]])
    b = np.array([[1.0, 2.0, 3.0], [0.0, 1.0, 2.0], [2.0, 2.0, 2.0]])
    res = welch_ttest_rows(a, b)
    assert res.tstat[0] > 0  # positive = group a (high) has the larger mean
    assert np.isnan(res.tstat[1]) and res.n_a[1] == 1  # one value in a group: undefined
    assert np.isnan(res.tstat[2]) and np.isnan(res.pvalue[2])  # both constant: se = 0, undefined


def test_welch_groups_equals_slicing_even_with_overlap():
    # a sample in both groups (the median sample at P = 50) counts in both, as with explicit slices
    rng = np.random.default_rng(12)
    x = rng.normal(size=(50, 21)) + rng.normal(0, 5, size=(50, 1))
    x[rng.random(x.shape) < 0.2] = np.nan
    order = np.argsort(rng.normal(size=21))
    high = np.zeros(21, dtype=bool)
    high[order[10:]] = True
    low = np.zeros(21, dtype=bool)
    low[order[:11]] = True  # order[10] is in both
    grouped = welch_ttest_groups(x, high, low)
    sliced = welch_ttest_rows(x[:, high], x[:, low])
    for field in ("mean_a", "mean_b", "se", "tstat", "df", "pvalue"):
        np.testing.assert_allclose(getattr(grouped, field), getattr(sliced, field), rtol=1e-10)
    ref = stats.ttest_ind(x[0, high][np.isfinite(x[0, high])], x[0, low][np.isfinite(x[0, low])], equal_var=False)
    assert grouped.tstat[0] == pytest.approx(ref.statistic, abs=1e-10)


def test_one_pass_pearson_and_welch_equal_the_two_tests():
    """The fused pass (explain's path) against pearson_rows and welch_ttest_groups, each checked against scipy
    above; groups overlap at a threshold sample, values and the eigengene have NaNs, one row is constant."""
    from isograph.explain.stats import pearson_and_welch_rows, pearson_rows, welch_ttest_groups

    rng = np.random.default_rng(5)
    x = rng.normal(loc=3.0, size=(300, 41))
    x[rng.random(x.shape) < 0.2] = np.nan
    x[7] = 2.5
    y = rng.normal(size=41)
    y[[3, 9]] = np.nan
    high, low = y >= np.nanpercentile(y, 50), y <= np.nanpercentile(y, 50)
    assert (high & low).any()
    pearson, welch, n_both = pearson_and_welch_rows(x, y, high, low, min_complete_pairs=5, chunk_rows=64)
    expected_p = pearson_rows(x, y, min_complete_pairs=5)
    expected_w = welch_ttest_groups(x, high, low)
    for name in ("r", "pvalue", "ci_low", "ci_high", "n_complete"):
        np.testing.assert_allclose(getattr(pearson, name), getattr(expected_p, name), rtol=1e-12, atol=1e-14)
    for name in ("mean_a", "mean_b", "delta", "se", "tstat", "df", "pvalue", "n_a", "n_b"):
        np.testing.assert_allclose(getattr(welch, name), getattr(expected_w, name), rtol=1e-10, atol=1e-14)
    np.testing.assert_array_equal(n_both, np.isfinite(x[:, high & low]).sum(axis=1))
    assert np.isnan(pearson.r[7]) and np.isnan(welch.tstat[7])

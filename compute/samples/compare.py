"""Welch's t-test of every feature between two groups of samples, vectorised over the features."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import stats

__all__ = ["COMPARE_COLUMNS", "welch_compare"]

COMPARE_COLUMNS = ["feature_id", "n_a", "n_b", "mean_a", "mean_b", "delta", "t", "df", "pvalue", "qvalue"]


def welch_compare(values: pd.DataFrame, group_a: Sequence[str], group_b: Sequence[str]) -> pd.DataFrame:
    """Welch's two-sided t-test (unequal variances) of each feature, group A against group B.

    The same statistic as ``scipy.stats.ttest_ind(a, b, equal_var=False, nan_policy="omit")`` for each
    column, computed for all columns at once. A feature with fewer than 2 values in either group, or with
    no variance in both, is not tested (t, p and q empty). q is Benjamini–Hochberg over the features tested.

    Parameters
    ----------
    values : DataFrame
        Samples x features (index ``sample_id``), NaN for a missing value.
    group_a, group_b : sequence of str
        Sample IDs of each group (IDs not in ``values`` are ignored); the groups must not share a sample.

    Returns
    -------
    DataFrame
        :data:`COMPARE_COLUMNS`, one row per feature, smallest p first: ``n_a``/``n_b`` the values used,
        ``mean_a``/``mean_b`` the group means, ``delta = mean_a − mean_b`` (the features' unit), ``t`` and its
        Welch–Satterthwaite ``df``, two-sided ``pvalue``, BH ``qvalue``.

    Raises
    ------
    ValueError
        When the groups share samples or either has fewer than 2 samples in ``values``.
    """
    shared = sorted(set(map(str, group_a)) & set(map(str, group_b)))
    if shared:
        raise ValueError(f"{len(shared)} sample(s) are in both groups (first: {shared[0]}); a sample can be in one "
                         "group only")
    index = values.index.astype(str)
    in_a, in_b = index.isin(list(map(str, group_a))), index.isin(list(map(str, group_b)))
    for name, mask in (("A", in_a), ("B", in_b)):
        if mask.sum() < 2:
            raise ValueError(f"group {name} has {int(mask.sum())} sample(s) of this table; Welch's t-test needs at "
                             "least 2 in each group")
    x = values.to_numpy(dtype=np.float64)
    n_a, mean_a, var_a = _moments(x[in_a])
    n_b, mean_b, var_b = _moments(x[in_b])
    with np.errstate(divide="ignore", invalid="ignore"):
        se_a, se_b = var_a / n_a, var_b / n_b
        se2 = se_a + se_b
        t = (mean_a - mean_b) / np.sqrt(se2)
        df = se2**2 / (se_a**2 / (n_a - 1) + se_b**2 / (n_b - 1))
    tested = (n_a >= 2) & (n_b >= 2) & (se2 > 0) & np.isfinite(se2)
    t, df = np.where(tested, t, np.nan), np.where(tested, df, np.nan)
    p = np.full(x.shape[1], np.nan)
    p[tested] = 2.0 * stats.t.sf(np.abs(t[tested]), df[tested])
    q = np.full(x.shape[1], np.nan)
    if tested.any():
        q[tested] = stats.false_discovery_control(p[tested], method="bh")
    table = pd.DataFrame({"feature_id": values.columns.astype(str), "n_a": n_a, "n_b": n_b, "mean_a": mean_a,
                          "mean_b": mean_b, "delta": mean_a - mean_b, "t": t, "df": df, "pvalue": p, "qvalue": q})
    return table.sort_values(["pvalue", "feature_id"], na_position="last", kind="stable").reset_index(drop=True)


def _moments(x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per column: the number of values, their mean and their variance (ddof 1), NaN where undefined."""
    present = ~np.isnan(x)
    n = present.sum(axis=0).astype(np.int64)
    filled = np.where(present, x, 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        mean = filled.sum(axis=0) / n
        var = np.where(present, (x - mean) ** 2, 0.0).sum(axis=0) / (n - 1)
    return n, np.where(n > 0, mean, np.nan), np.where(n > 1, var, np.nan)

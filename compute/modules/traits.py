"""Module–trait relationships: eigengenes against sample covariates, as WGCNA relates them.

WGCNA correlates each module eigengene with each trait (``cor(MEs, traits, use = "p")``) and tests each r
with Student's t on n - 2 degrees of freedom (``corPvalueStudent``). A categorical covariate is first made
numeric as WGCNA's ``binarizeCategoricalColumns`` does by default: one 0/1 column per level against all
other samples (``level vs rest``), the first level (sorted) dropped because it carries no information the
others do not. Here the p-values are also adjusted (BH over every module × trait cell shown).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from isograph.errors import InputError
from isograph.explain.stats import bh_qvalues, pearson_rows

__all__ = ["MAX_LEVELS", "eigengene_group_test", "groups_samples", "module_trait_table", "trait_matrix"]

MAX_LEVELS = 20  #: a text covariate with more levels than this (e.g. an ID column) is not a trait


def groups_samples(values: pd.Series) -> bool:
    """Whether a covariate groups samples: text (not numbers or booleans) with 2 to :data:`MAX_LEVELS` levels
    and fewer levels than samples with a value (a different value in every sample is an ID, not a group).

    Parameters
    ----------
    values : Series

    Returns
    -------
    bool
    """
    if pd.api.types.is_bool_dtype(values) or pd.api.types.is_numeric_dtype(values):
        return False
    levels = values.nunique(dropna=True)
    return 2 <= levels <= MAX_LEVELS and levels < values.notna().sum()


def trait_matrix(covariates: pd.DataFrame) -> pd.DataFrame:
    """Covariates as numeric traits (samples x traits).

    Parameters
    ----------
    covariates : DataFrame
        ``sample_id`` plus one column per covariate (numbers, booleans or text).

    Returns
    -------
    DataFrame
        Index ``sample_id``; a numeric or boolean covariate is one float column of its own name; a text
        covariate with 2 to :data:`MAX_LEVELS` levels, fewer than its samples, is one 0/1 column per level after
        the first, named ``"{covariate}: {level} vs rest"`` (NaN where the covariate is missing). Other columns
        (one level, or a different value in every sample: an ID) are left out.

    Raises
    ------
    InputError
        No ``sample_id`` column.
    """
    if "sample_id" not in covariates.columns:
        raise InputError("covariates: no sample_id column; the first column must name the samples")
    cov = covariates.set_index(covariates["sample_id"].astype(str)).drop(columns="sample_id")
    cov.index.name = "sample_id"
    columns: dict[str, np.ndarray] = {}
    for name in cov.columns:
        values = cov[name]
        if pd.api.types.is_bool_dtype(values) or pd.api.types.is_numeric_dtype(values):
            columns[str(name)] = values.astype(float).to_numpy()
            continue
        if not groups_samples(values):  # one level, too many, or an ID column
            continue
        levels = sorted(values.dropna().astype(str).unique())
        text = values.astype("string")
        for level in levels[1:]:
            columns[f"{name}: {level} vs rest"] = np.where(text.isna(), np.nan, (text == level).astype(float))
    return pd.DataFrame(columns, index=cov.index)


def module_trait_table(eigengenes: pd.DataFrame, traits: pd.DataFrame) -> pd.DataFrame:
    """Pearson r of every module eigengene with every trait, on the samples both have.

    Parameters
    ----------
    eigengenes : DataFrame
        Samples x modules (index ``sample_id``).
    traits : DataFrame
        Samples x traits (index ``sample_id``), as :func:`trait_matrix` returns.

    Returns
    -------
    DataFrame
        ``module_id, trait, r, pvalue, qvalue, n_samples``, one row per module x trait: r on each pair's
        complete samples, p of Student's t on n - 2 df (= ``scipy.stats.pearsonr``), q by Benjamini–Hochberg
        over all rows.

    Raises
    ------
    InputError
        Fewer than 3 samples in common.
    """
    samples = eigengenes.index.intersection(traits.index)
    if len(samples) < 3:
        raise InputError(f"covariates: only {len(samples)} of their samples have an eigengene; check that the"
                         " sample_id values match the feature table's")
    eig = eigengenes.loc[samples].to_numpy(dtype=np.float64).T  # modules x samples
    parts = []
    for trait in traits.columns:
        res = pearson_rows(eig, traits.loc[samples, trait].to_numpy(dtype=np.float64))
        parts.append(pd.DataFrame({"module_id": eigengenes.columns.astype(str), "trait": trait, "r": res.r,
                                   "pvalue": res.pvalue, "n_samples": res.n_complete.astype(np.int64)}))
    columns = ["module_id", "trait", "r", "pvalue", "qvalue", "n_samples"]
    if not parts:
        return pd.DataFrame(columns=columns)
    table = pd.concat(parts, ignore_index=True)
    table["qvalue"] = bh_qvalues(table["pvalue"].to_numpy())
    return table[columns]


def eigengene_group_test(eigengene: pd.Series, groups: pd.Series) -> dict:
    """Does the eigengene differ between sample groups? Welch's t for two groups, Kruskal–Wallis for more.

    Parameters
    ----------
    eigengene : Series
        Indexed by sample ID.
    groups : Series
        Each sample's group (text), indexed by sample ID; missing groups are left out.

    Returns
    -------
    dict
        ``test`` (its name), ``statistic``, ``pvalue`` (NaN when fewer than two groups have two samples),
        ``n_groups``, ``sizes`` ({group: n}).
    """
    joined = pd.DataFrame({"e": eigengene, "g": groups}).dropna()
    values = {str(g): part["e"].to_numpy(dtype=np.float64) for g, part in joined.groupby("g", sort=True)}
    usable = [v for v in values.values() if len(v) >= 2]
    sizes = {g: len(v) for g, v in values.items()}
    if len(usable) < 2:
        return {"test": "none (fewer than two groups of two samples)", "statistic": np.nan, "pvalue": np.nan,
                "n_groups": len(values), "sizes": sizes}
    if len(usable) == 2:
        res = stats.ttest_ind(*usable, equal_var=False)
        return {"test": "Welch's t-test", "statistic": float(res.statistic), "pvalue": float(res.pvalue),
                "n_groups": 2, "sizes": sizes}
    res = stats.kruskal(*usable)
    return {"test": "Kruskal–Wallis test", "statistic": float(res.statistic), "pvalue": float(res.pvalue),
            "n_groups": len(usable), "sizes": sizes}

"""The samples view's numbers for a data set: the map of the samples, what colours them, and the comparison
of two groups of samples."""

from __future__ import annotations

import functools
from collections.abc import Sequence

import numpy as np
import pandas as pd

from isograph.dataset.artifacts import TRANSCRIPT_USAGE, load_feature_meta, load_fit_artifacts
from isograph.dataset.cache import cached
from isograph.dataset.datasets import Dataset
from isograph.errors import InputError
from isograph.modules.report import dataset_covariates, dataset_eigengenes
from isograph.samples.compare import welch_compare
from isograph.samples.embedding import eigengene_pca

__all__ = ["KINDS", "compare_sample_groups", "comparison_values", "sample_colour", "sample_map"]

#: What two groups of samples can be compared on, and how the product names it.
KINDS = {"switch": "switch scores (the fit's switch channel, one per gene)",
         "usage": "transcript usage (the feature table's transcript_usage columns)"}


def sample_map(ds: Dataset) -> tuple[pd.DataFrame, np.ndarray]:
    """The samples' PCA map from every explained module's eigengene (:func:`~isograph.samples.embedding
    .eigengene_pca`).

    Parameters
    ----------
    ds : Dataset

    Returns
    -------
    coordinates : DataFrame
        Index ``sample_id``; columns ``PC1``, ``PC2``.
    explained : ndarray, shape (2,)
        Fraction of variance explained by each component.
    """
    try:
        return eigengene_pca(dataset_eigengenes(ds))
    except ValueError as exc:
        raise InputError(f"{ds.name}: {exc}") from None


def sample_colour(ds: Dataset, key: str) -> tuple[pd.Series, str, bool]:
    """The per-sample values a colour choice stands for.

    Parameters
    ----------
    ds : Dataset
    key : str
        ``eigengene:<module>``, ``covariate:<column of covariates.tsv>`` or ``gene:<gene_id>`` (the gene's
        switch score from the fit).

    Returns
    -------
    values : Series
        Indexed by ``sample_id``.
    label : str
        What the values are, with their source (for the colour bar or legend).
    categorical : bool
        True for a covariate whose values name groups (drawn one colour per level).

    Raises
    ------
    InputError
        For a key that names nothing in the data set.
    """
    kind, _, name = str(key).partition(":")
    if kind == "eigengene":
        eigengenes = dataset_eigengenes(ds)
        if name not in eigengenes.columns:
            raise InputError(f"no explained module {name!r}; choose one of {', '.join(eigengenes.columns[:10])}")
        return eigengenes[name], f"{name} eigengene", False
    if kind == "covariate":
        covariates = dataset_covariates(ds)
        if covariates is None or name not in covariates.columns:
            raise InputError(f"no covariate {name!r} in {ds.name}'s covariates.tsv")
        column = covariates[name]
        categorical = not pd.api.types.is_numeric_dtype(column)
        values = column.map(lambda v: str(v) if pd.notna(v) else np.nan) if categorical else column.astype(float)
        return values, f"{name} (covariates.tsv)", categorical  # a missing value stays missing (drawn grey)
    if kind == "gene":
        values, meta = comparison_values(ds, "switch")
        if name not in values.columns:
            raise InputError(f"gene {name!r} has no switch score in the fit (a gene with one transcript has none)")
        return values[name], f"{meta.loc[name, 'gene_name']} switch score (fit)", False
    raise InputError(f"unknown colour {key!r}; use eigengene:<module>, covariate:<name> or gene:<gene_id>")


def comparison_values(ds: Dataset, kind: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """What two groups of samples are compared on.

    Parameters
    ----------
    ds : Dataset
    kind : {"switch", "usage"}
        :data:`KINDS`: the fit's per-gene switch scores, or the feature table's transcript usage (a fraction
        of the gene's expression, 0–1).

    Returns
    -------
    values : DataFrame
        Samples x features (index ``sample_id``; columns gene IDs for ``switch``, feature IDs for ``usage``).
    meta : DataFrame
        Index the columns of ``values``; ``gene_id``, ``gene_name``, ``module_id`` ("" for a gene in no module).
    """
    if kind not in KINDS:
        raise InputError(f"unknown comparison {kind!r}; use one of {', '.join(KINDS)}")
    return _values(ds, kind, ds.version())


@functools.lru_cache(maxsize=4)  # keyed by the data set's version: a new fit or table is read again
def _values(ds: Dataset, kind: str, version: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    index = ds.gene_index()
    names = dict(zip(index["gene_id"].astype(str), index["gene_name"].astype(str)))
    modules = dict(zip(index["gene_id"].astype(str), index["module_id"].astype(str)))
    if kind == "switch":
        fit = cached(load_fit_artifacts, ds.paths["fit"])
        meta = fit.score_meta
        rows = np.flatnonzero(meta["feature_type"].astype(str).to_numpy() == "switch")
        genes = meta["gene_id"].astype(str).to_numpy()[rows]
        values = pd.DataFrame(fit.score_rows(rows).T, index=pd.Index(fit.sample_ids, name="sample_id"), columns=genes)
        gene_of = pd.Series(genes, index=genes)
    else:
        feature_meta = cached(load_feature_meta, ds.paths["feature_meta"])
        usage = feature_meta[feature_meta["feature_type"].astype(str) == TRANSCRIPT_USAGE]
        table = ds.feature_table()
        wanted = [f for f in usage["feature_id"].astype(str) if f in table.columns]
        values = table[wanted]
        gene_of = usage.set_index(usage["feature_id"].astype(str))["gene_id"].astype(str).reindex(wanted)
        names = {**dict(zip(usage["gene_id"].astype(str), usage["gene_name"].astype(str))), **names}
    meta = pd.DataFrame({"gene_id": gene_of.to_numpy(),
                         "gene_name": [names.get(g, g) for g in gene_of.to_numpy()],
                         "module_id": [modules.get(g, "") for g in gene_of.to_numpy()]}, index=values.columns)
    return values, meta


def compare_sample_groups(ds: Dataset, group_a: Sequence[str], group_b: Sequence[str], kind: str) -> pd.DataFrame:
    """Welch's t-test of every switch score or transcript usage between two groups of samples, BH over the
    features tested (:func:`~isograph.samples.compare.welch_compare`).

    Parameters
    ----------
    ds : Dataset
    group_a, group_b : sequence of str
        Sample IDs.
    kind : {"switch", "usage"}

    Returns
    -------
    DataFrame
        ``feature_id, gene_id, gene_name, module_id`` then :data:`~isograph.samples.compare.COMPARE_COLUMNS`
        after ``feature_id``; smallest p first.

    Raises
    ------
    InputError
        Groups that share samples or hold fewer than 2 samples of the table.
    """
    values, meta = comparison_values(ds, kind)
    try:
        table = welch_compare(values, group_a, group_b)
    except ValueError as exc:
        raise InputError(str(exc)) from None
    info = meta.reindex(table["feature_id"])
    table.insert(1, "gene_id", info["gene_id"].to_numpy())
    table.insert(2, "gene_name", info["gene_name"].to_numpy())
    table.insert(3, "module_id", info["module_id"].to_numpy())
    return table

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
from isograph.samples.embedding import (
    MAP_METHODS,
    UMAP_SETTINGS,
    eigengene_pca,
    eigengene_umap,
    umap_available,
    zscored_eigengenes,
)

__all__ = ["KINDS", "MAP_METHODS", "MapNotComputed", "compare_sample_groups", "comparison_values", "compute_umap",
           "sample_colour", "sample_map", "stored_umap"]


class MapNotComputed(InputError):
    """The UMAP of a data set's current eigengenes has not been computed (and stored) yet."""

#: What two groups of samples can be compared on, and how the product names it.
KINDS = {"switch": "switch scores (the fit's switch channel, one per gene)",
         "usage": "transcript usage (the feature table's transcript_usage columns)"}


def sample_map(ds: Dataset, method: str = "pca") -> tuple[pd.DataFrame, np.ndarray | None]:
    """The samples' map from every explained module's eigengene: the PCA (:func:`~isograph.samples.embedding
    .eigengene_pca`, computed here, a fraction of a second), or the stored UMAP (:func:`compute_umap`).

    Parameters
    ----------
    ds : Dataset
    method : {"pca", "umap"}

    Returns
    -------
    coordinates : DataFrame
        Index ``sample_id``; columns ``PC1``, ``PC2`` or ``UMAP1``, ``UMAP2``.
    explained : ndarray, shape (2,), or None
        For the PCA, the fraction of variance explained by each component; None for the UMAP.

    Raises
    ------
    MapNotComputed
        ``method="umap"`` and no UMAP of the current eigengenes is stored.
    InputError
        An unknown method, or too few modules or samples for a map.
    """
    if method not in MAP_METHODS:
        raise InputError(f"unknown map {method!r}; use one of {', '.join(MAP_METHODS)}")
    eigengenes = dataset_eigengenes(ds)
    if method == "umap":
        coordinates = stored_umap(ds, eigengenes)
        if coordinates is None:
            raise MapNotComputed(f"{ds.name}: the UMAP of these samples has not been computed yet; compute it on"
                                 " the samples page, or with `isograph sample-map --dataset DIR --method umap`")
        return coordinates, None
    try:
        return eigengene_pca(eigengenes)
    except ValueError as exc:
        raise InputError(f"{ds.name}: {exc}") from None


def _umap_key(eigengenes: pd.DataFrame) -> str:
    from importlib.metadata import PackageNotFoundError, version

    from isograph.dataset.sample_map_store import umap_key

    try:
        umap_version = version("umap-learn")
    except PackageNotFoundError:
        umap_version = "not installed"
    return umap_key(zscored_eigengenes(eigengenes), UMAP_SETTINGS, umap_version)


def stored_umap(ds: Dataset, eigengenes: pd.DataFrame | None = None) -> pd.DataFrame | None:
    """The stored UMAP of the data set's current eigengenes, if it has been computed.

    Parameters
    ----------
    ds : Dataset
    eigengenes : DataFrame, optional
        The data set's eigengenes (:func:`~isograph.modules.report.dataset_eigengenes`), when the caller has
        them already.

    Returns
    -------
    DataFrame or None
        Index ``sample_id``; ``UMAP1``, ``UMAP2``. None when no UMAP of these eigengenes is kept.
    """
    eigengenes = dataset_eigengenes(ds) if eigengenes is None else eigengenes
    return ds.sample_maps.load(_umap_key(eigengenes))


def compute_umap(ds: Dataset) -> tuple[pd.DataFrame, bool]:
    """The UMAP of the data set's samples (:func:`~isograph.samples.embedding.eigengene_umap` with
    :data:`~isograph.samples.embedding.UMAP_SETTINGS`), computed and stored in the data set unless it is
    stored already.

    Parameters
    ----------
    ds : Dataset

    Returns
    -------
    coordinates : DataFrame
        Index ``sample_id``; ``UMAP1``, ``UMAP2``.
    computed : bool
        False when the stored map was returned.

    Raises
    ------
    InputError
        umap-learn is not installed, too few modules or samples, or the data set's folder is not writable.
    """
    eigengenes = dataset_eigengenes(ds)
    key = _umap_key(eigengenes)
    stored = ds.sample_maps.load(key)
    if stored is not None:
        return stored, False
    if not umap_available():
        raise InputError("a UMAP needs umap-learn, which is not installed here: python -m pip install -r"
                         " requirements.txt (the PCA map works without it)")
    try:
        coordinates = eigengene_umap(eigengenes)  # its defaults are UMAP_SETTINGS
    except ValueError as exc:
        raise InputError(f"{ds.name}: {exc}") from None
    try:
        ds.sample_maps.save(key, coordinates)
    except OSError as exc:
        raise InputError(f"could not keep the UMAP in {ds.sample_maps.folder}: {exc.strerror or exc}; make the"
                         " data set's folder writable") from None
    return coordinates, True


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

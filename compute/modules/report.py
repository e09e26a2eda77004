"""One module's biology from a data set (hub genes, traits, eigengene by group, GO) and the files of
``isograph module-report``."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from isograph.dataset.artifacts import load_fit_artifacts
from isograph.dataset.cache import cached, read_parquet_columns
from isograph.dataset.datasets import Dataset
from isograph.dataset.io import read_table, write_tsv
from isograph.errors import DatasetError
from isograph.figures.publication import mm_to_px
from isograph.modules.go_terms import module_go
from isograph.modules.membership import module_membership
from isograph.modules.traits import groups_samples, module_trait_table, trait_matrix

__all__ = ["A4_PX", "ModuleBiology", "categorical_covariates", "dataset_covariates", "dataset_eigengenes", "dataset_go",
           "module_biology", "write_module_report"]

A4_PX = (round(mm_to_px(210)), round(mm_to_px(297)))  #: an A4 page in CSS pixels, as the PDF exporter sizes pages


@dataclass
class ModuleBiology:
    """Everything the module-biology views show for one module.

    Attributes
    ----------
    module_id : str
    membership : DataFrame
        :func:`~isograph.modules.membership.module_membership`'s table.
    eigengenes : DataFrame
        Samples x explained modules (index ``sample_id``).
    covariates : DataFrame or None
        The data set's covariates (index ``sample_id``), None when it has none.
    traits : DataFrame
        :func:`~isograph.modules.traits.module_trait_table` over every explained module (empty without
        covariates).
    go : DataFrame or None
        :func:`~isograph.modules.go_terms.module_go`'s table; None when not asked for.
    """

    module_id: str
    membership: pd.DataFrame
    eigengenes: pd.DataFrame
    covariates: pd.DataFrame | None
    traits: pd.DataFrame
    go: pd.DataFrame | None = None


def dataset_eigengenes(ds: Dataset) -> pd.DataFrame:
    """Every explained module's eigengene.

    Parameters
    ----------
    ds : Dataset

    Returns
    -------
    DataFrame
        Samples x explained modules (index ``sample_id``; unitless eigengene values, NaN where a module's
        explain run left a sample out).
    """
    columns = {}
    for mid in ds.module_ids:
        table = ds.explain.table(mid, "eigengene")
        columns[mid] = pd.Series(table["eigengene"].to_numpy(), index=table["sample_id"].astype(str))
    frame = pd.DataFrame(columns)
    frame.index.name = "sample_id"
    return frame


def dataset_covariates(ds: Dataset) -> pd.DataFrame | None:
    """The data set's covariates (``covariates.tsv``), cached until the file changes.

    Parameters
    ----------
    ds : Dataset

    Returns
    -------
    DataFrame or None
        Index ``sample_id``, one column per covariate; None when the data set has no covariates file.
    """
    path = ds.paths.get("covariates")
    if path is None or not Path(path).is_file():
        return None
    table = cached(_read_covariates, ds.inside(path))
    return table.set_index(table["sample_id"].astype(str)).drop(columns="sample_id")


def _read_covariates(path: str) -> pd.DataFrame:
    table = read_table(path, what="covariates")
    if "sample_id" not in table.columns:
        raise DatasetError(f"{path}: no sample_id column; the covariates' first column must name the samples")
    return table


def categorical_covariates(covariates: pd.DataFrame | None) -> list[str]:
    """The covariates that group samples (:func:`~isograph.modules.traits.groups_samples`), for the
    eigengene-by-group view.

    Parameters
    ----------
    covariates : DataFrame or None

    Returns
    -------
    list of str
    """
    if covariates is None:
        return []
    return [str(c) for c in covariates.columns if groups_samples(covariates[c])]


def _membership(ds: Dataset, module_id: str, eigengene: pd.Series, genes: pd.DataFrame) -> pd.DataFrame:
    """kME of the module's genes from the fit's scores: each gene's fit-chosen feature (module_membership
    .parquet), or its switch row where the fit wrote no membership table."""
    fit = cached(load_fit_artifacts, ds.paths["fit"])
    chosen = ds.paths["fit"] / "module_membership.parquet"
    if chosen.is_file():
        feature = read_parquet_columns(chosen, ("gene_id", "feature_type"))
        feature = feature.set_index(feature["gene_id"].astype(str))["feature_type"]
    else:
        feature = pd.Series(dtype=object)
    wanted = genes.assign(feature_type=feature.reindex(genes["gene_id"].astype(str)).fillna("switch").to_numpy())
    meta = fit.score_meta
    key = pd.Index(meta["gene_id"].astype(str) + "\t" + meta["feature_type"].astype(str))
    rows = key.get_indexer(wanted["gene_id"].astype(str) + "\t" + wanted["feature_type"].astype(str))
    # a gene without its chosen row (an older fit) falls back to whichever row it has
    first_row = pd.Series(np.arange(len(meta)), index=meta["gene_id"].astype(str).to_numpy())
    first_row = first_row[~first_row.index.duplicated()]
    fallback = first_row.reindex(wanted["gene_id"].astype(str)).fillna(-1).to_numpy(dtype=np.intp)
    missing = rows < 0
    rows[missing] = fallback[missing]
    wanted.loc[missing & (fallback >= 0), "feature_type"] = meta["feature_type"].astype(str).to_numpy()[
        fallback[missing & (fallback >= 0)]]
    has = rows >= 0
    sample_pos = pd.Index(fit.sample_ids).get_indexer(eigengene.index)
    shared = sample_pos >= 0
    scores = np.full((len(wanted), int(shared.sum())), np.nan)
    if has.any():
        scores[has] = fit.score_rows(rows[has])[:, sample_pos[shared]]
    return module_membership(scores, eigengene.to_numpy()[shared], wanted)


def module_biology(ds: Dataset, module_id: str, *, with_go: bool = False) -> ModuleBiology:
    """Hub genes, module–trait table and (optionally) GO enrichment of one explained module.

    Parameters
    ----------
    ds : Dataset
    module_id : str
    with_go : bool, default False
        Also run the GO enrichment (the first call in a process reads the ontology: about 3 s).

    Returns
    -------
    ModuleBiology

    Raises
    ------
    DatasetError
        The module is not explained, or a file it needs is missing or damaged.
    """
    eigengenes = dataset_eigengenes(ds)
    if module_id not in eigengenes.columns:
        raise DatasetError(f"module {module_id!r} is not explained in this data set; it has"
                           f" {', '.join(eigengenes.columns[:10])}")
    genes = ds.explain.table(module_id, "gene_driver_table")[["gene_id", "gene_name", "switch_called"]]
    membership = _membership(ds, module_id, eigengenes[module_id].dropna(), genes)
    covariates = dataset_covariates(ds)
    traits = (module_trait_table(eigengenes, trait_matrix(covariates.reset_index())) if covariates is not None
              else module_trait_table(eigengenes, pd.DataFrame(index=eigengenes.index)))
    return ModuleBiology(module_id=module_id, membership=membership, eigengenes=eigengenes,
                         covariates=covariates, traits=traits, go=dataset_go(ds, module_id) if with_go else None)


def dataset_go(ds: Dataset, module_id: str) -> pd.DataFrame:
    """:func:`~isograph.modules.go_terms.module_go` of one module of a data set: its genes (explain's gene
    table) against every gene named in the data set's feature meta.

    Parameters
    ----------
    ds : Dataset
    module_id : str

    Returns
    -------
    DataFrame
        As :func:`~isograph.modules.go_terms.module_go` returns it.
    """
    genes = ds.explain.table(module_id, "gene_driver_table")[["gene_id", "gene_name", "switch_called"]]
    background = read_parquet_columns(ds.paths["feature_meta"], ("gene_id", "gene_name"))
    return module_go(genes, background["gene_name"].dropna().astype(str).unique().tolist())


def write_module_report(bio: ModuleBiology, output_dir: str | os.PathLike, *, formats: tuple[str, ...] = ("pdf",),
                        covariate: str | None = None, stem: str = "") -> list[Path]:
    """Write the module report: its tables (TSV), its figures and a one-page PDF report.

    Parameters
    ----------
    bio : ModuleBiology
        With ``go`` (from ``module_biology(..., with_go=True)``).
    output_dir : path
    formats : tuple of str, default ("pdf",)
        Formats of the single figures (``pdf``, ``png``, ``svg``, ``html``); the report is always a PDF.
    covariate : str, optional
        The covariate grouping the eigengene-by-group panel (default the first categorical one).
    stem : str, default ""
        Starts every file name (e.g. the data set's folder name).

    Returns
    -------
    list of Path
        The files written: ``{stem}_{module}_hub_genes.tsv``, ``_module_traits.tsv``, ``_go_enrichment.tsv``,
        one file per figure and format (``_hub_genes``, ``_module_traits``, ``_eigengene_by_group``,
        ``_go_enrichment``) and ``{stem}_{module}_report.pdf``.
    """
    from isograph.figures.module_biology import module_figures, module_report_figure
    from isograph.figures.render import check_formats, write_figure

    check_formats(formats)
    out = Path(output_dir)
    prefix = f"{stem}_{bio.module_id}" if stem else bio.module_id
    written = [write_tsv(bio.membership, out / f"{prefix}_hub_genes.tsv"),
               write_tsv(bio.traits, out / f"{prefix}_module_traits.tsv")]
    if bio.go is not None:
        written.append(write_tsv(bio.go, out / f"{prefix}_go_enrichment.tsv"))
    for name, fig in module_figures(bio, covariate=covariate).items():
        for fmt in formats:
            written.append(write_figure(fig, out / f"{prefix}_{name}.{fmt}", width=900,
                                        height=int(fig.layout.height or 500), scale=1.0))
    report = module_report_figure(bio, covariate=covariate)
    written.append(write_figure(report, out / f"{prefix}_report.pdf", width=A4_PX[0], height=A4_PX[1], scale=1.0))
    return written

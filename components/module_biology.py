"""The module page's "What is this module about?" section: hub genes (kME), module–trait correlations,
eigengene by sample group and GO enrichment (figures shared with ``isograph module-report``)."""

from __future__ import annotations

import functools

import dash_bootstrap_components as dbc
import pandas as pd
from dash import dcc, html

from components.data_grid import data_grid
from components.layout import figure_card, gene_href
from isograph.dataset.datasets import Dataset
from isograph.figures.module_biology import (
    eigengene_group_figure,
    go_enrichment_bar,
    kme_hub_plot,
    module_trait_heatmap,
)
from isograph.modules.report import categorical_covariates, dataset_go, module_biology

__all__ = ["GO_COLUMNS", "HUB_COLUMNS", "TABS", "TRAIT_COLUMNS", "biology_section", "go_genes_panel", "go_panel",
           "tab_body_id", "tab_content"]

HUB_COLUMNS = ["gene_id", "gene_name", "kME", "ci_low", "ci_high", "qvalue", "n_samples", "feature_type",
               "switch_called", "hub"]
TRAIT_COLUMNS = ["module_id", "trait", "r", "pvalue", "qvalue", "n_samples"]
GO_COLUMNS = ["gene_set", "go_id", "term", "ontology", "k", "n", "K", "N", "fold_enrichment", "pvalue", "qvalue",
              "genes"]


TABS = {"hubs": "Hub genes (kME)", "traits": "Module–trait", "groups": "Eigengene by group", "go": "GO enrichment"}


def biology_section(ds: Dataset, module_id: str, *, active: str = "hubs", covariate: str | None = None) -> dbc.Card:
    """The section's tabs for one module; only the open tab's content is built (:func:`tab_content`, called
    again when another tab is opened), so the page draws one of its figures, not all four.

    Parameters
    ----------
    ds : Dataset
    module_id : str
    active : str, default "hubs"
        The tab open first (one of :data:`TABS`; a shared URL's).
    covariate : str, optional
        The eigengene-by-group tab's grouping (a shared URL's; default the first categorical covariate).

    Returns
    -------
    dbc.Card
    """
    return dbc.Card([
        dbc.CardHeader(html.Span("What is this module about?", className="fw-semibold")),
        dbc.CardBody(dbc.Tabs(id="module-biology-tabs", active_tab=active, children=[
            dbc.Tab(label=label, tab_id=tab, children=dcc.Loading(html.Div(
                id=tab_body_id(tab), children=tab_content(ds, module_id, tab, covariate=covariate)
                if tab == active else None)))
            for tab, label in TABS.items()])),
    ], className="mb-3")


def tab_body_id(tab: str) -> str:
    """The ID of the element that holds one tab's content.

    Parameters
    ----------
    tab : str
        One of :data:`TABS`.

    Returns
    -------
    str
    """
    return f"module-bio-{tab}"


def tab_content(ds: Dataset, module_id: str, tab: str, *, covariate: str | None = None) -> list:
    """One tab's content.

    Parameters
    ----------
    ds : Dataset
    module_id : str
    tab : {"hubs", "traits", "groups", "go"}
        GO reads the shipped ontology the first time (a few seconds).
    covariate : str, optional
        The grouping of the eigengene-by-group tab (default, or when it is not categorical: the first
        categorical covariate).

    Returns
    -------
    list of Dash components
    """
    if tab == "go":
        return go_panel(ds, module_id)
    bio = module_biology(ds, module_id)
    stem = f"{ds.file_stem}_{module_id}"
    if tab == "hubs":
        hubs = bio.membership
        return [
            html.P(f"kME = Pearson r of each gene's fit feature score with the module eigengene ({len(hubs)} genes;"
                   " 95% CI by Fisher z; q by BH over the module's genes). "
                   f"{int(hubs['hub'].sum())} hub genes (★): the 10 of largest |kME| with q ≤ 0.05.",
                   className="text-muted small mt-2"),
            figure_card("module-kme", kme_hub_plot(hubs), title="Module membership (kME) of the top genes",
                        filename=f"{stem}_hub_genes"),
            data_grid("module-hub-table", hubs, columns=HUB_COLUMNS, csv_name=f"{stem}_hub_genes"),
        ]
    if tab == "traits":
        note = ("No covariates: add covariates.tsv (sample_id + one column per trait) to the data set."
                if bio.covariates is None else
                f"Every explained module's eigengene against every covariate of {ds.paths['covariates'].name}:"
                " Pearson r, Student's p on n − 2 df (WGCNA's definition; a text covariate is one 0/1 column per"
                " level after the first, 'level vs rest'); q by BH over all cells.")
        return [
            html.P(note, className="text-muted small mt-2"),
            figure_card("module-traits", module_trait_heatmap(bio.traits, module_id=module_id),
                        title="Module eigengenes vs covariates (r, p)", filename=f"{ds.file_stem}_module_traits"),
            data_grid("module-trait-table", bio.traits, columns=TRAIT_COLUMNS, csv_name=f"{ds.file_stem}_module_traits"),
        ]
    if tab == "groups":
        groups = categorical_covariates(bio.covariates)
        chosen = covariate if covariate in groups else groups[0] if groups else None
        return [
            dbc.Row([dbc.Col(html.Label("Group samples by", className="mt-3"), width="auto"),
                     dbc.Col(dcc.Dropdown(id="module-group-covariate", options=groups, value=chosen,
                                          clearable=False, placeholder="no categorical covariate"), md=4)]),
            figure_card("module-by-group", eigengene_group_figure(bio, chosen),
                        title="Module eigengene by sample group", filename=f"{stem}_eigengene_by_group"),
        ]
    raise ValueError(f"unknown tab {tab!r}: one of {', '.join(TABS)}")


@functools.lru_cache(maxsize=32)
def _module_go(ds: Dataset, version: str, module_id: str) -> pd.DataFrame:
    return dataset_go(ds, module_id)


def go_panel(ds: Dataset, module_id: str) -> list:
    """The GO tab's content: the significant terms' figure and the whole table (rows open the genes).

    Parameters
    ----------
    ds : Dataset
    module_id : str

    Returns
    -------
    list of Dash components
    """
    table = _module_go(ds, ds.version(), module_id)
    stem = f"{ds.file_stem}_{module_id}"
    return [
        html.P("Over-representation of GO terms among the module's called-switch genes and among all its genes,"
               " against every gene of the data set that the shipped ontology annotates (one-sided hypergeometric"
               " test = Fisher's exact; q by BH over the terms tested; annotations propagated along is_a and"
               " part_of). Click a row to list its genes.", className="text-muted small mt-2"),
        figure_card("module-go", go_enrichment_bar(table), title="GO terms at q ≤ 0.05",
                    filename=f"{stem}_go_enrichment"),
        data_grid("module-go-table", table, columns=GO_COLUMNS, csv_name=f"{stem}_go_enrichment"),
        html.Div(id="module-go-genes", className="mt-2"),
    ]


def go_genes_panel(row: dict | None, ds: Dataset, module_id: str) -> html.Div:
    """The genes of one GO term's row, each a link to its gene view.

    Parameters
    ----------
    row : dict or None
        A row of the GO table (``go_id, term, gene_set, genes``).
    ds : Dataset
    module_id : str

    Returns
    -------
    html.Div
    """
    if not row:
        return html.Div()
    names = [g for g in str(row.get("genes") or "").split(",") if g]
    genes = ds.explain.table(module_id, "gene_driver_table")[["gene_id", "gene_name"]].dropna()
    by_name = dict(zip(genes["gene_name"].astype(str), genes["gene_id"].astype(str)))
    links = [dcc.Link(name, href=gene_href(by_name[name], module=module_id, dataset=ds.name),
                      className="me-2") if name in by_name else html.Span(name, className="me-2") for name in names]
    return html.Div([
        html.Strong(f"{row.get('go_id')} {row.get('term')}: "),
        html.Span(f"{len(names)} of the {row.get('gene_set')} ", className="text-muted"),
        *(links or [html.Span("none of them has this term", className="text-muted")]),
    ], id="module-go-gene-list")

"""``/modules/<module_id>``: drivers of one module (barplot, usage gradient, heatmap, tables)."""

from __future__ import annotations

import dash
import dash_bootstrap_components as dbc
from dash import Input, Output, State, callback, dcc, html, no_update

from components.data_grid import clicked_row, data_grid, grid_id, grid_source
from components.jobs import explain_job_panel
from components.layout import (
    alert,
    current_dataset,
    figure_card,
    gene_href,
    graph_ref,
    optional_part,
    page_errors,
    path_id,
)
from components.module_biology import TABS, biology_section, go_genes_panel, tab_body_id, tab_content
from components.paper import paper_button, paper_request, register_builder
from components.search import gene_search
from components.url_state import choice, filter_model, url_state
from components.view_cache import cached_view
from isograph.dataset.datasets import DatasetError
from isograph.figures.explain import driver_barplot, driver_heatmap, usage_gradient
from isograph.figures.panels import module_paper_figure
from isograph.structure.annotate import with_structure_labels

dash.register_page(__name__, path_template="/modules/<module_id>", path="/modules/M000", name="Module",
                   title=lambda module_id=None, **_: f"{module_id} — IsoGraph Explorer")

GENE_COLUMNS = ["gene_id", "gene_name", "switch_called", "driver_kind", "switch_r", "switch_qvalue", "abundance_r",
                "abundance_qvalue", "switch_up_feature", "switch_up_delta_usage", "switch_down_feature",
                "switch_down_delta_usage", "n_samples", "missing_fraction", "switch_strength", "switch_consequences"]
TX_COLUMNS = ["feature_id", "gene_id", "gene_name", "r", "pvalue", "qvalue", "delta_usage", "n_samples", "switch_strength",
              "direction",
              "structure_consequences", "structure_nmd", "structure_biotype"]


CHANNELS = ("switch", "abundance")
#: what the URL keeps of this page (components.url_state): query parameter -> the control
URL_STATE = url_state("module", {
    "channel": ("module-channel", "value"), "tab": ("module-biology-tabs", "active_tab"),
    "genes.filter": (grid_id("module-gene-table"), "filterModel"),
    "transcripts.filter": (grid_id("module-tx-table"), "filterModel")})
URL_STATE_GROUPS = url_state("module-groups", {"covariate": ("module-group-covariate", "value")})


@cached_view
@page_errors
def layout(module_id: str | None = None, dataset: str | None = None, channel: str | None = None,
           tab: str | None = None, covariate: str | None = None, **query) -> html.Div:
    if module_id is None:
        return html.Div()
    module_id = path_id(module_id)
    channel, tab = choice(channel, CHANNELS, "switch"), choice(tab, TABS, "hubs")
    try:
        ds = current_dataset(dataset)
        genes = ds.explain.table(module_id, "gene_driver_table")
        polarity = ds.explain.table(module_id, "transcript_polarity_table")
        eigengene = ds.explain.table(module_id, "eigengene").set_index("sample_id")["eigengene"]
        usage = ds.feature_columns(polarity["feature_id"].astype(str).tolist())  # only this module's features
    except DatasetError as exc:
        return alert(str(exc), title="Unknown module")
    pairs, pairs_warning = optional_part(ds.structure.table, "pairs", what="Structural labels")
    labels, labels_warning = optional_part(ds.structure.table, "transcripts", what="Structural labels")
    genes, polarity = with_structure_labels(genes, polarity, pairs, labels, module_id=module_id)
    context = {"dataset": ds.name, "module": module_id, "covariate": covariate}
    return html.Div([
        pairs_warning or labels_warning or html.Div(),
        dcc.Store(id="module-context", data=context), URL_STATE, URL_STATE_GROUPS,
        dbc.Row([
            dbc.Col(html.H3(f"Module {module_id}"), md=6),
            dbc.Col(gene_search(ds, module_id), md=6),
        ], className="mb-2"),
        html.P(f"{len(genes)} genes, {len(polarity)} features. Click a bar, a heatmap row or a table row to open"
               " the isoform-switch view of that gene.", className="text-muted"),
        paper_button("module-paper", "A the top driver genes, B transcript usage along the module, C the top"
                                     " driver transcripts"),
        dbc.RadioItems(id="module-channel", value=channel, inline=True, className="mb-1", options=[
            {"label": "switch drivers (called switches solid)", "value": "switch"},
            {"label": "abundance drivers (q ≤ α solid)", "value": "abundance"}]),
        figure_card("module-driver-bar", _barplot(genes, channel, ds.explain.config(module_id)),
                    title="Top driver genes: |r| of the channel's score with the module eigengene (95% CI)",
                    filename=f"{module_id}_drivers"),
        dbc.Row([
            dbc.Col(figure_card("module-gradient", usage_gradient(polarity, usage, eigengene),
                                title="Transcript usage along the module", filename=f"{module_id}_gradient"), lg=7),
            dbc.Col(figure_card("module-heatmap", driver_heatmap(polarity, usage, eigengene, top_n=12),
                                title="Top positive and negative driver transcripts", filename=f"{module_id}_heatmap"),
                    lg=5),
        ]),
        biology_section(ds, module_id, active=tab, covariate=covariate),
        html.H5("Gene drivers"), data_grid("module-gene-table", genes, columns=GENE_COLUMNS,
                                           csv_name=f"{ds.file_stem}_{module_id}_gene_drivers",
                                           filter_model=filter_model(query.get("genes.filter"), GENE_COLUMNS)),
        explain_job_panel(module_id, ds.name),
        html.H5("Transcript polarity"), data_grid(
            "module-tx-table", polarity, columns=TX_COLUMNS, csv_name=f"{ds.file_stem}_{module_id}_transcript_polarity",
            filter_model=filter_model(query.get("transcripts.filter"), TX_COLUMNS)),
    ])


def build_paper_figure(spec: dict):
    """The module's figure for a paper (:func:`isograph.figures.panels.module_paper_figure`) in the channel shown."""
    ds = current_dataset(spec["dataset"])
    module_id = spec["module"]
    polarity = ds.explain.table(module_id, "transcript_polarity_table")
    eigengene = ds.explain.table(module_id, "eigengene").set_index("sample_id")["eigengene"]
    return module_paper_figure(ds.explain.table(module_id, "gene_driver_table"), polarity,
                               ds.feature_columns(polarity["feature_id"].astype(str).tolist()), eigengene,
                               module_id=module_id, channel=choice(spec.get("channel"), CHANNELS, "switch"),
                               alpha=ds.explain.config(module_id)["switch_alpha"])


register_builder("module", build_paper_figure)


@callback(Output("export-request", "data", allow_duplicate=True), Input("module-paper", "n_clicks"),
          State("module-channel", "value"), State("module-context", "data"), prevent_initial_call=True)
def request_paper_figure(clicks, channel, context):
    return paper_request(clicks, {"kind": "module", "dataset": context["dataset"], "module": context["module"],
                          "channel": channel}, f"{context['module']}_{channel}")


def _barplot(genes, channel: str, config: dict):
    return driver_barplot(genes, top_n=25, title=None, channel=channel, alpha=config["switch_alpha"])


@callback(Output(graph_ref("module-driver-bar"), "figure"), Input("module-channel", "value"),
          State("module-context", "data"), prevent_initial_call=True)
def show_channel(channel, context):
    ds = current_dataset(context["dataset"])
    return _barplot(ds.explain.table(context["module"], "gene_driver_table"), channel, ds.explain.config(context["module"]))


def gene_href_from_click(click: dict | None, context: dict | None) -> str | None:
    """The gene view URL for a click on a bar (``customdata`` holds the gene ID)."""
    if not click or not context:
        return None
    custom = click["points"][0].get("customdata")
    gene = custom[0] if isinstance(custom, (list, tuple)) else custom
    return gene_href(gene, module=context["module"], dataset=context["dataset"]) if gene else None


def gene_href_from_heatmap_click(click: dict | None, context: dict | None) -> str | None:
    """The gene view URL for a click on a heatmap cell (its row, ``y``, is a feature ID of the module)."""
    if not click or not context:
        return None
    feature = click["points"][0].get("y")
    polarity = current_dataset(context["dataset"]).explain.table(context["module"], "transcript_polarity_table")
    genes = polarity["gene_id"].to_numpy(dtype=object)[polarity["feature_id"].to_numpy(dtype=object) == feature]
    return gene_href(genes[0], module=context["module"], dataset=context["dataset"]) if len(genes) else None


@callback(Output("url", "href", allow_duplicate=True),
          Input(graph_ref("module-driver-bar"), "clickData"), Input(graph_ref("module-heatmap"), "clickData"),
          Input(grid_id("module-gene-table"), "cellClicked"), Input(grid_id("module-tx-table"), "cellClicked"),
          State(grid_source("module-gene-table"), "data"), State(grid_source("module-tx-table"), "data"),
          State("module-context", "data"), prevent_initial_call=True)
def open_gene(bar_click, heat_click, gene_cell, tx_cell, gene_rows, tx_rows, context):
    trigger = dash.ctx.triggered_id
    if trigger == graph_ref("module-driver-bar"):
        return gene_href_from_click(bar_click, context) or no_update
    if trigger == graph_ref("module-heatmap"):
        return gene_href_from_heatmap_click(heat_click, context) or no_update
    row = (clicked_row(gene_cell, gene_rows) if trigger == grid_id("module-gene-table")
           else clicked_row(tx_cell, tx_rows) if trigger == grid_id("module-tx-table") else None)
    if row and row.get("gene_id") and context:
        return gene_href(row['gene_id'], module=context["module"], dataset=context["dataset"])
    return no_update


@callback(Output(graph_ref("module-by-group"), "figure"), Input("module-group-covariate", "value"),
          State("module-context", "data"), prevent_initial_call=True)
def show_group(covariate, context):
    from isograph.figures.module_biology import eigengene_group_figure
    from isograph.modules.report import module_biology

    ds = current_dataset(context["dataset"])
    return eigengene_group_figure(module_biology(ds, context["module"]), covariate)


@callback([Output(tab_body_id(tab), "children") for tab in TABS], Input("module-biology-tabs", "active_tab"),
          [State(tab_body_id(tab), "children") for tab in TABS], State("module-context", "data"),
          prevent_initial_call=True)
def show_tab(tab, *bodies_and_context):
    """Build a biology tab's content the first time it is opened."""
    *bodies, context = bodies_and_context
    if tab not in TABS or not context or bodies[list(TABS).index(tab)]:
        return [no_update] * len(TABS)
    content = tab_content(current_dataset(context["dataset"]), context["module"], tab,
                          covariate=context.get("covariate"))
    return [content if name == tab else no_update for name in TABS]


@callback(Output("module-go-genes", "children"), Input(grid_id("module-go-table"), "cellClicked"),
          State(grid_source("module-go-table"), "data"), State("module-context", "data"), prevent_initial_call=True)
def show_go_genes(cell, rows, context):
    return go_genes_panel(clicked_row(cell, rows), current_dataset(context["dataset"]), context["module"])

"""``/genes/<gene_id>?module=<id>``: the isoform switch of one gene along one module."""

from __future__ import annotations

import dash
import dash_bootstrap_components as dbc
from dash import Input, Output, State, callback, dcc, html

from components.data_grid import data_grid
from components.gene_features import feature_track_job, gene_sae_section
from components.jobs import job_options, on_cancel
from components.layout import (
    alert,
    control_value,
    current_dataset,
    figure_card,
    graph_ref,
    module_href,
    optional_part,
    page_errors,
    path_id,
)
from components.paper import paper_button, paper_request, register_builder
from components.url_state import choice, url_state
from components.variant_box import variant_report
from components.view_cache import cached_view
from isograph.dataset.datasets import DatasetError
from isograph.errors import InputError
from isograph.explain.words import gene_sentence
from isograph.figures.explain import high_low_contrast, usage_gradient
from isograph.figures.panels import gene_paper_figure
from isograph.figures.switch_plot import switch_plot
from isograph.structure.annotate import with_structure_labels

dash.register_page(__name__, path_template="/genes/<gene_id>", path="/genes/example", name="Gene",
                   title=lambda gene_id=None, module=None, **_: f"{gene_id} — isoform switch in {module or 'its module'}")


#: what the URL keeps of this page (components.url_state)
URL_STATE = url_state("gene", {"introns": ("gene-compress", "value")})


@cached_view
@page_errors
def layout(gene_id: str | None = None, module: str | None = None, dataset: str | None = None,
           introns: str | None = None, **_query) -> html.Div:
    if gene_id is None:
        return html.Div()
    gene_id = path_id(gene_id)
    compress = choice(introns, ("true", "false"), "true") == "true"
    try:
        ds = current_dataset(dataset)
        module = module or ds.module_of(gene_id)
        if module is None:
            raise DatasetError(f"gene {gene_id!r} is not in any explained module of data set {ds.name!r}")
        genes = ds.explain.table(module, "gene_driver_table")
        match = genes[genes["gene_id"] == gene_id]
        if match.empty:
            raise DatasetError(f"gene {gene_id!r} is not in module {module}")
        polarity = ds.explain.table(module, "transcript_polarity_table")
        contrast = ds.explain.table(module, "high_vs_low_table")
        eigengene = ds.explain.table(module, "eigengene").set_index("sample_id")["eigengene"]
    except DatasetError as exc:
        return alert(str(exc), title="Unknown gene or module")
    pairs, pairs_warning = optional_part(ds.structure.table, "pairs", what="Structural labels")
    labels, labels_warning = optional_part(ds.structure.table, "transcripts", what="Structural labels")
    genes, polarity = with_structure_labels(genes, polarity, pairs, labels, module_id=module)
    row = genes[genes["gene_id"] == gene_id].iloc[0]
    label = row["gene_name"] if isinstance(row["gene_name"], str) else gene_id
    mine = polarity[polarity["gene_id"] == gene_id]
    config = ds.explain.config(module)
    sentence = gene_sentence(row, mine, module, label=label, alpha=config["switch_alpha"],
                             min_usage_change=config["min_usage_change"])
    return html.Div([
        pairs_warning or labels_warning or html.Div(),
        html.H3([f"{label} ", html.Small(f"{gene_id} in ", className="text-muted"),
                 dcc.Link(module, href=module_href(module, dataset=ds.name))]),
        dbc.Alert(sentence, color="success" if bool(row.get("switch_called", False)) else "light", id="gene-direction"),
        _structure_note(row),
        dcc.Store(id="gene-context", data={"dataset": ds.name, "module": module, "gene": gene_id}), URL_STATE,
        dbc.Switch(id="gene-compress", label="compress introns", value=compress, className="mb-1"),
        paper_button("gene-paper", "A the switchPlot (structures, expression, usage by group), B each transcript's"
                                   " usage along the module"),
        figure_card("gene-switchplot", switch_view(ds, module, gene_id, mine, compress=compress),
                    title=f"{label} along {module}: structures, expression and usage of each isoform (one colour per"
                          " isoform; light bars: low-module samples, full: high)", filename=f"{gene_id}_{module}_switchplot"),
        dbc.Row([
            dbc.Col(figure_card("gene-usage", usage_gradient(polarity, ds.feature_columns(mine["feature_id"].astype(str).tolist()), eigengene,
                                                               genes=[gene_id], columns=1),
                                title="Usage of each transcript against the module eigengene",
                                filename=f"{gene_id}_usage"), lg=6),
            dbc.Col(figure_card("gene-contrast", high_low_contrast(contrast[contrast["gene_id"] == gene_id]),
                                title="High- vs low-module samples", filename=f"{gene_id}_contrast"), lg=6),
        ]),
        html.H5("Transcripts"),
        data_grid("gene-tx-table", mine, columns=["feature_id", "r", "ci_low", "ci_high", "pvalue", "qvalue", "delta_usage",
                                                  "n_samples", "direction", "structure_consequences", "structure_nmd",
                                                  "structure_orf_length", "structure_partner"],
                  csv_name=f"{ds.file_stem}_{module}_{gene_id}_transcripts"),
        gene_sae_section(ds, gene_id, mine["transcript_id"].dropna().astype(str).tolist()),
    ])


def switch_view(ds, module: str, gene_id: str, transcripts, *, compress: bool):
    """The switchPlot of a gene in a module from the data set's tables (counts when the data set has them)."""
    groups = ds.explain.table(module, "eigengene")
    low = groups.loc[groups["group"].isin(["low", "both"]), "sample_id"].tolist()
    high = groups.loc[groups["group"].isin(["high", "both"]), "sample_id"].tolist()
    tids = transcripts["transcript_id"].astype("string").fillna(transcripts["feature_id"]).astype(str).tolist()
    return switch_plot(ds.transcript_models(gene_id), transcripts,
                       ds.feature_columns(transcripts["feature_id"].astype(str).tolist()),
                       groups.set_index("sample_id")["eigengene"], low, high,
                       expression=ds.transcript_expression(tids), compress=compress)


def build_paper_figure(spec: dict):
    """The gene's figure for a paper (:func:`isograph.figures.panels.gene_paper_figure`)."""
    ds = current_dataset(spec["dataset"])
    module, gene_id = spec["module"], spec["gene"]
    polarity = ds.explain.table(module, "transcript_polarity_table")
    mine = polarity[polarity["gene_id"] == gene_id]
    eigengene = ds.explain.table(module, "eigengene").set_index("sample_id")["eigengene"]
    gradient = usage_gradient(polarity, ds.feature_columns(mine["feature_id"].astype(str).tolist()), eigengene,
                              genes=[gene_id], columns=1)
    gradient.update_layout(title_text=f"usage of each transcript along {module} (LOWESS)")
    switch = switch_view(ds, module, gene_id, mine, compress=bool(spec.get("compress", True)))
    names = ds.explain.table(module, "gene_driver_table").set_index("gene_id")["gene_name"]
    label = names.get(gene_id) if isinstance(names.get(gene_id), str) else gene_id
    return gene_paper_figure(switch, gradient, title=f"{label} ({gene_id}) along {module}")


register_builder("gene", build_paper_figure)


@callback(Output("export-request", "data", allow_duplicate=True), Input("gene-paper", "n_clicks"),
          State("gene-compress", "value"), State("gene-context", "data"), prevent_initial_call=True)
def request_paper_figure(clicks, compress, context):
    return paper_request(clicks, {"kind": "gene", "dataset": context["dataset"], "module": context["module"],
                          "gene": context["gene"], "compress": bool(compress)}, f"{context['gene']}_{context['module']}")


@callback(Output(graph_ref("gene-switchplot"), "figure"), Input("gene-compress", "value"),
          State("gene-context", "data"), prevent_initial_call=True)
def redraw_switch_view(compress, context):
    ds = current_dataset(context["dataset"])
    polarity = ds.explain.table(context["module"], "transcript_polarity_table")
    return switch_view(ds, context["module"], context["gene"], polarity[polarity["gene_id"] == context["gene"]],
                       compress=bool(compress))


@callback(Output("gene-track-status", "children"), Output("gene-track-result", "children"),
          Input("gene-track-run", "n_clicks"), State("gene-context", "data"), State("gene-track-sae", "value"),
          State("gene-track-feature", "value"), State("gene-compress", "value"),
          **job_options("gene-track"), interval=300)
def draw_feature_track(set_progress, _clicks, context, run_key, feature, compress):
    return feature_track_job(set_progress, context, run_key, feature, bool(compress))


on_cancel("gene-track", "gene-track-status", "Cancelled; nothing was drawn.")


@callback(Output("gene-variant-result", "children"), Input("gene-variant-run", "n_clicks"),
          State("gene-variant", "value"), State("gene-context", "data"), State("gene-track-sae", "value"),
          State("gene-track-feature", "value"), prevent_initial_call=True)
def run_gene_variant(_clicks, text, context, run_key, feature):
    """The variant box of the gene view: HGVS on one of the gene's transcripts."""
    try:
        ds = current_dataset(context["dataset"])
        run = ds.sae.run_by_key(run_key)
        models = ds.transcript_models(context["gene"])
        chosen = None if feature in (None, "") else control_value(feature, "feature", default=0, kind=int, low=0)
    except (DatasetError, InputError) as exc:
        return dbc.Alert(str(exc), color="danger", id="gene-variant-error")
    return variant_report("gene", ds, run, text, feature=chosen,
                          transcripts=models["transcript_id"].astype(str).tolist(), owner=f"gene {context['gene']}")


def _structure_note(row) -> html.Div:
    """The structural consequences of the gene's switch (from /structure), or how to get them."""
    words = row.get("switch_consequences")
    if isinstance(words, str):
        text = words or "no structural difference between the two transcripts"
        return dbc.Alert([html.B("Structural consequences of the switch: "), text, " (",
                          dcc.Link("all switches", href="/structure"), ")"], color="info", id="gene-structure")
    return html.Div(["No structural annotation of this switch yet: ", dcc.Link("annotate on /structure", href="/structure")],
                    className="small text-muted mb-2", id="gene-structure")

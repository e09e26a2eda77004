"""``/sae``: the SAE knowledge-graph explorer (cytoscape top-N subgraph, feature table, training job)."""

from __future__ import annotations

import json

import dash
import dash_bootstrap_components as dbc
import dash_cytoscape as cyto
import pandas as pd
from dash import Input, Output, State, callback, dcc, html, no_update

from components.data_grid import clicked_row, data_grid, grid_id, grid_source
from components.jobs import job_options, on_cancel
from components.layout import (
    alert,
    control_value,
    current_dataset,
    figure_card,
    graph_ref,
    href,
    number_input,
    page_errors,
    settings,
)
from components.model_card import model_card
from components.sae_graph import LAYOUT, PER_FEATURE_MAX, STYLESHEET, TOP_N_MAX, graph_elements, legend_items
from components.url_state import choice, url_state
from isograph.dataset.datasets import DatasetError
from isograph.errors import InputError
from isograph.figures.sae import training_curves

dash.register_page(__name__, path="/sae", name="SAE features", title="SAE knowledge graph — IsoGraph Explorer")

FEATURE_COLUMNS = ["feature", "pagerank_rank", "pagerank", "degree_centrality", "n_tokens", "log10_ratio", "seen_in",
                   "best_concept", "best_concept_f1"]
CONCEPT_COLUMNS = ["feature", "concept", "f1", "precision", "recall", "threshold", "n_active", "n_concept_tokens"]


def _run_of(ds, layer, ef):
    """The run the URL names, else the last one (None without runs)."""
    runs = ds.sae.runs()
    if not runs:
        return None
    try:
        return _selected_run(ds, layer, ef)
    except InputError:
        return runs[-1]


def _selected_run(ds, layer, ef):
    """The run the selects name; InputError naming the runs there are when there is no such run (never another
    run's graph under these selects)."""
    runs = ds.sae.runs()
    for run in runs:
        if str(run.layer_idx) == str(layer) and str(run.expansion_factor) == str(ef):
            return run
    there = ", ".join(f"layer {r.layer_idx} with expansion factor {r.expansion_factor}" for r in runs) or "none"
    raise InputError(f"no SAE run has layer {str(layer)[:8]} and expansion factor {str(ef)[:8]}; the runs are: {there}")


#: what the URL keeps of this page (components.url_state); the concept menu is drawn only with concept scores
URL_STATE = url_state("sae", {"layer": ("sae-layer", "value"), "ef": ("sae-ef", "value"), "sets": ("sae-sets", "value"),
                              "top": ("sae-top-n", "value"), "min_weight": ("sae-min-weight", "value"),
                              "links": ("sae-per-feature", "value")})
URL_STATE_CONCEPT = url_state("sae-concept", {"concept": ("sae-concept", "value")})


def _url_number(value: object, *, default: float, kind: type = float, low: float, high: float | None = None):
    """A number a shared URL gives a control: its value when valid, else the default (never out of range)."""
    try:
        return control_value(value, "", default=default, kind=kind, low=low, high=high)
    except InputError:
        return default


@page_errors
def layout(dataset: str | None = None, layer: str | None = None, ef: str | None = None, sets: str | None = None,
           top: str | None = None, min_weight: str | None = None, links: str | None = None,
           concept: str | None = None, **_query) -> html.Div:
    try:
        ds = current_dataset(dataset)
    except DatasetError as exc:
        return alert(str(exc), title="No data set")
    runs = ds.sae.runs()
    run = _run_of(ds, layer, ef)
    job = _training_card(ds)
    if run is None:
        return html.Div([html.H3("SAE features"), dbc.Alert("This data set has no SAE run yet: train one below (it needs"
                                                            " a DNA language model in sae/lm).", color="light"), job])
    available = list(run.sets)
    try:  # a shared URL's sets (a JSON list), the run's own only
        chosen = [x for x in json.loads(sets) if x in available] if sets else available
    except (ValueError, TypeError):
        chosen = available
    sets = chosen or available
    top_n = _url_number(top, default=25, kind=int, low=1, high=TOP_N_MAX)
    weight = _url_number(min_weight, default=0, low=0)
    per_feature = _url_number(links, default=4, kind=int, low=1, high=PER_FEATURE_MAX)
    # drawn with the page: no extra round trip
    elements, note, table = graph_view(run, sets, top_n, weight, per_feature, dataset=ds.file_stem)
    return html.Div([
        dcc.Store(id="sae-context", data={"dataset": ds.name}), URL_STATE, URL_STATE_CONCEPT,
        html.H3("SAE knowledge graph"),
        model_card(ds),
        html.P("Features (red) linked to the 6-mer tokens (grey) and sequences (coloured by set) on which they are the"
               " strongest feature; node size is PageRank. Click a feature to open its page.", className="text-muted"),
        dbc.Row([
            dbc.Col([dbc.Label("layer"), dbc.Select(id="sae-layer", value=str(run.layer_idx), options=[
                {"label": str(x), "value": str(x)} for x in sorted({r.layer_idx for r in runs})])], md=1),
            dbc.Col([dbc.Label("expansion factor"), dbc.Select(id="sae-ef", value=str(run.expansion_factor), options=[
                {"label": str(x), "value": str(x)} for x in sorted({r.expansion_factor for r in runs})])], md=2),
            dbc.Col([dbc.Label("sequence sets"), dcc.Dropdown(id="sae-sets", options=available, value=sets,
                                                              multi=True)], md=3),
            dbc.Col([dbc.Label("top-N features"), number_input("sae-top-n", top_n, hint=f"1–{TOP_N_MAX}")], md=2),
            dbc.Col([dbc.Label("min edge weight"), number_input("sae-min-weight", weight, hint="≥ 0")], md=2),
            dbc.Col([dbc.Label("links per feature"), number_input("sae-per-feature", per_feature,
                                                                  hint=f"1–{PER_FEATURE_MAX}")], md=2),
        ], className="mb-2"),
        dbc.Row([dbc.Col(html.Div(note, id="sae-graph-note", className="small text-muted"), md=10),
                  dbc.Col(dbc.Button("Download PNG", id="sae-graph-png", size="sm", color="secondary",
                                     className="float-end"), md=2)]),
        cyto.Cytoscape(id="sae-graph", elements=elements, stylesheet=STYLESHEET, style={"width": "100%", "height": "620px"},
                       layout=LAYOUT,
                       minZoom=0.2, maxZoom=3, className="border rounded mb-3"),
        html.H5("Features by PageRank"),
        html.Div(table, id="sae-feature-table"),
        concept_search(run, ds.file_stem, concept),
        job,
    ])


def concept_search(run, dataset: str = "", concept: str | None = None) -> html.Div:
    """"Features for concept X": the run's features ranked by F1 for one GTF concept (isograph.sae.concepts)."""
    from isograph.sae.runs import load_run_concepts

    concepts = load_run_concepts(run)
    if concepts is None:
        return html.P("This run has no concept scores (they need sequences cut from the GTF's transcripts).",
                      className="small text-muted", id="sae-concept-none")
    names = sorted(concepts["concept"].unique())
    chosen = choice(concept, names, "CDS" if "CDS" in names else names[0])
    return html.Div([
        html.H5("Features for a concept"),
        html.P(f"Precision, recall and F1 of \"feature active\" (z above the threshold × its maximum, chosen on training"
               f" genes) against \"token in the concept\", on the {int(concepts['n_validation_tokens'].iloc[0]):,}"
               " tokens of held-out genes. A ranking, not a test: an F1 near 0 means no feature tracks the concept.",
               className="small text-muted"),
        dbc.Row(dbc.Col(dcc.Dropdown(id="sae-concept", options=names, value=chosen, clearable=False), md=4),
                className="mb-2"),
        html.Div(concept_table(concepts, chosen, run, dataset), id="sae-concept-table"),
    ])


def concept_table(concepts, concept: str, run, dataset: str = "") -> html.Div:
    """Every feature's scores for ``concept``, highest F1 first."""
    shown = concepts[concepts["concept"] == concept].sort_values(["f1", "feature"], ascending=[False, True])
    return data_grid("sae-concept-features", shown, columns=CONCEPT_COLUMNS, page_size=10,
                     csv_name=f"{_csv_stem(run, dataset)}_concept_{concept}")


def _csv_stem(run, dataset: str) -> str:
    return f"{dataset + '_' if dataset else ''}sae_ef{run.expansion_factor}_layer{run.layer_idx}"


@callback(Output("sae-concept-table", "children"), Input("sae-concept", "value"), State("sae-layer", "value"),
          State("sae-ef", "value"), State("sae-context", "data"), prevent_initial_call=True)
def show_concept(concept, layer, ef, context):
    from isograph.sae.runs import load_run_concepts

    try:
        ds = current_dataset(context["dataset"])
        run = _selected_run(ds, layer, ef)
        concepts = load_run_concepts(run)
        if concepts is None or concept not in set(concepts["concept"]):
            raise InputError(f"no concept {str(concept)[:40]!r} in this run's concept scores")
        return concept_table(concepts, concept, run, ds.file_stem)
    except InputError as exc:
        return dbc.Alert(str(exc), color="warning", id="sae-concept-error")


def _training_card(ds) -> dbc.Card:
    lm_ok = ds.sae.has_lm()
    return dbc.Card([
        dbc.CardHeader(html.Span("Train an SAE and build its knowledge graph", className="fw-semibold")),
        dbc.CardBody([
            dcc.Store(id="sae-job-context", data={"dataset": ds.name}),
            html.P("Embeds the data set's sequences with its DNA language model (cached), trains the sparse autoencoder"
                   " and builds the graph; the charts follow every epoch." if lm_ok else
                   "No language model in sae/lm: run `isograph demo` or `isograph sae train-lm` first.",
                   className="small text-muted"),
            dbc.Row([
                dbc.Col([dbc.Label("layer"), number_input("sae-job-layer", 1, hint="0 to the model's layers")], md=2),
                dbc.Col([dbc.Label("expansion factor"), number_input("sae-job-ef", 4, hint="1–64")], md=2),
                dbc.Col([dbc.Label("epochs"), number_input("sae-job-epochs", 8, hint="1–200")], md=2),
                dbc.Col([dbc.Label("L1 coefficient"), number_input("sae-job-l1", 1.0, hint="≥ 0")], md=2),
                dbc.Col([dbc.Button("Train", id="sae-job-run", color="primary", className="me-2 mt-4",
                                    disabled=not lm_ok),
                         dbc.Button("Cancel", id="sae-job-cancel", color="secondary", className="mt-4", disabled=True)],
                        md=4),
            ]),
            dbc.Progress(id="sae-job-progress", value=0, label="", className="my-2", style={"height": "1.2rem"}),
            html.Div(id="sae-job-status", className="small"),
            figure_card("sae-job-curves", training_curves(None), title="Training by epoch", filename="sae_training"),
        ]),
    ], className="mb-3")


def graph_view(run, sets, top_n, min_weight, per_feature, *, dataset: str = "") -> tuple[list, object, object]:
    """Cytoscape elements, a note and the feature table of a run's top-N subgraph (see ``top_subgraph``)."""
    from isograph.sae.concepts import best_concepts
    from isograph.sae.runs import load_run_concepts, load_run_graph, load_set_centrality, top_subgraph

    edges, centrality, contrast = load_run_graph(run)
    everything = not sets or set(sets) == set(run.sets)
    ranks = centrality if everything else load_set_centrality(run, tuple(sets))
    nodes, links = top_subgraph(edges, ranks, sets=None if everything else sets,
                                top_n=control_value(top_n, "features shown", default=25, kind=int, low=1, high=TOP_N_MAX),
                                min_weight=control_value(min_weight, "minimum edge weight", default=0, low=0),
                                per_feature=control_value(per_feature, "links per feature", default=4, kind=int, low=1,
                                                          high=PER_FEATURE_MAX))
    note = (f"Run {run.key}: showing {int((nodes['kind'] == 'feature').sum())} features, {len(nodes)} nodes and"
            f" {len(links)} links of {len(edges):,} token edges.")
    table = centrality[centrality["kind"] == "feature"].copy()
    table["feature"] = table["node"].str[1:].astype(int)
    table = table.merge(edges.groupby("feature").size().rename("n_tokens").reset_index(), on="feature", how="left")
    if contrast is not None:
        table = table.merge(contrast[["feature", "log10_ratio"]  # seen_in: files written before it had it
                                     + (["seen_in"] if "seen_in" in contrast else [])], on="feature", how="left")
    concepts = load_run_concepts(run)
    if concepts is not None:
        table = table.merge(best_concepts(concepts), on="feature", how="left")
    elements = graph_elements(nodes, links)
    legend = [html.Span([html.Span("●", style={"color": colour, "fontSize": "1.2em"}), f" {label}"], className="me-3")
              for label, colour in legend_items(elements)]
    return elements, [note, html.Div(legend, id="sae-graph-legend")], data_grid(
        "sae-features", table, columns=FEATURE_COLUMNS, csv_name=f"{_csv_stem(run, dataset)}_features")


@callback(Output("sae-graph", "elements"), Output("sae-graph-note", "children"), Output("sae-feature-table", "children"),
          Input("sae-layer", "value"), Input("sae-ef", "value"), Input("sae-sets", "value"), Input("sae-top-n", "value"),
          Input("sae-min-weight", "value"), Input("sae-per-feature", "value"), State("sae-context", "data"),
          prevent_initial_call=True)
def draw_graph(layer, ef, sets, top_n, min_weight, per_feature, context):
    try:
        ds = current_dataset(context["dataset"])
        return graph_view(_selected_run(ds, layer, ef), sets, top_n, min_weight, per_feature, dataset=ds.file_stem)
    except (InputError, ValueError) as exc:  # no graph and no table of other settings under these controls
        return [], dbc.Alert(str(exc), color="warning", id="sae-error"), html.Div()


@callback(Output("sae-graph", "generateImage"), Input("sae-graph-png", "n_clicks"), State("sae-ef", "value"),
          State("sae-layer", "value"), prevent_initial_call=True)
def download_graph(_clicks, ef, layer):
    """The graph as drawn, as a PNG rendered by the browser (cytoscape's own image export)."""
    return {"type": "png", "action": "download", "filename": f"knowledge_graph_ef{ef}_layer{layer}",
            "options": {"full": True, "scale": 2, "bg": "#ffffff"}}


@callback(Output("url", "href", allow_duplicate=True), Input("sae-graph", "tapNodeData"),
          Input(grid_id("sae-features"), "cellClicked"), State(grid_source("sae-features"), "data"),
          State("sae-layer", "value"), State("sae-ef", "value"), State("sae-context", "data"), prevent_initial_call=True)
def open_feature(node, cell, source, layer, ef, context):
    trigger = dash.ctx.triggered_id
    if trigger == "sae-graph" and node and node.get("kind") == "feature":
        index = node["id"][1:]
    elif trigger == grid_id("sae-features") and (row := clicked_row(cell, source)):
        index = row["feature"]
    else:
        return no_update
    return href(f"/sae/features/{layer}/{index}", ef=ef, dataset=context["dataset"])


@callback(
    Output("sae-job-status", "children"),
    Output(graph_ref("sae-job-curves"), "figure", allow_duplicate=True),  # the whole chart stays after the job
    Input("sae-job-run", "n_clicks"),
    State("sae-job-context", "data"), State("sae-job-layer", "value"), State("sae-job-ef", "value"),
    State("sae-job-epochs", "value"), State("sae-job-l1", "value"),
    **job_options("sae-job", Output(graph_ref("sae-job-curves"), "figure")), interval=400,
)
def train_job(set_progress, _clicks, context, layer, ef, epochs, l1):
    return training_job(set_progress, context, layer, ef, epochs, l1)


def training_job(set_progress, context, layer, ef, epochs, l1):
    """Background job: embed (cached) -> train the SAE (charts every epoch) -> knowledge graph -> run.json.

    Returns the status and the training chart of every epoch (the last progress report may never reach the
    browser before the job ends, so the result carries the final chart itself)."""
    from components.background import budgeted, job_gate
    from isograph.sae.model import SAEConfig

    set_progress((1, "waiting to start", no_update))
    rows: list[dict] = []

    with job_gate(settings()):
        checked = budgeted(set_progress, settings(), "SAE training",
                           instead="run `isograph sae embed` and `isograph sae train` from the command line")

        def report(fraction, message, row):
            if row is not None:
                rows.append(row)
            checked((int(100 * fraction), message[:60], training_curves(pd.DataFrame(rows)) if row is not None
                     else no_update))

        try:
            ds = current_dataset(context["dataset"])
            config = SAEConfig(expansion_factor=control_value(ef, "expansion factor", default=4, kind=int, low=1, high=64),
                               epochs=control_value(epochs, "epochs", default=8, kind=int, low=1, high=200),
                               l1_coefficient=control_value(l1, "L1 coefficient", default=1.0, low=0),
                               batch_size=512)
            built = ds.sae.train(control_value(layer, "layer", default=0, kind=int, low=0), config, progress=report)
        except InputError as exc:
            set_progress((100, "failed", no_update))
            return dbc.Alert(f"Could not train: {exc}", color="danger", id="sae-job-error"), no_update
    best = built["train"].metrics[built["train"].best_epoch - 1]
    link = dcc.Link("show it", href=href("/sae", dataset=ds.name, layer=built["run"].layer_idx,
                                         ef=built["run"].expansion_factor))
    words = (f"Trained {built['run'].key}: best epoch {built['train'].best_epoch}, FVU {best['val_fvu']:.3f},"
             f" L0 {best['l0']:.1f}; {len(built['edges']):,} token edges. ")
    return dbc.Alert([words, link], color="success", id="sae-job-done"), training_curves(pd.DataFrame(rows))


on_cancel("sae-job", "sae-job-status", "Cancelled; runs already saved are unchanged.")

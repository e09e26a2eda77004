"""``/structure``: structural consequences of isoform switches (annotation job, pairs, genome-wide summary)."""

from __future__ import annotations

import math
import time

import dash
import dash_bootstrap_components as dbc
import pandas as pd
from dash import Input, Output, State, callback, dcc, html, no_update

from components.data_grid import clicked_row, data_grid, grid_id, grid_source
from components.jobs import job_options, on_cancel
from components.layout import (
    alert,
    control_value,
    current_dataset,
    figure_card,
    number_input,
    page_errors,
    settings,
)
from components.url_state import choice, url_state
from isograph.dataset.datasets import DatasetError
from isograph.errors import InputError
from isograph.figures.structure import consequence_summary, switch_pair
from isograph.structure.annotate import CALLED_SWITCHES
from isograph.structure.enrichment import CONSEQUENCE_TYPES

dash.register_page(__name__, path="/structure", name="Structure", title="Structural consequences — IsoGraph Explorer")

PAIR_COLUMNS = ["gene_id", "module_id", "transcript_id_1", "transcript_id_2", "status", "consequences", "switch_strength",
                "qvalue_1", "qvalue_2", "delta_usage_1", "delta_usage_2",
                "delta_length", "delta_orf_length", "shared_exon_fraction", "pair_source", "annotation_run"]
ENRICHMENT_COLUMNS = ["consequence_type", "comparison", "n_gain", "n_loss", "n_total", "fraction_gain", "ci_low",
                      "ci_high", "pvalue", "qvalue"]
ALL_MODULES = "__all__"
#: what the URL keeps of this page (components.url_state); the consequence filter is drawn with the results
URL_STATE = url_state("structure", {"module": ("structure-module", "value"),
                                    "min_strength": ("structure-min-strength", "value")})
URL_STATE_FILTER = url_state("structure-filter", {"consequence": ("structure-filter", "value")})


def _consequence_words() -> list[str]:
    words = []
    for _name, gain, loss, _column in CONSEQUENCE_TYPES:
        words += [gain, loss]
    return words + ["Biotype switch"]


def _contains(pairs, word: str):
    """Rows whose consequences mention ``word``."""
    return pairs["consequences"].map(lambda cell: isinstance(cell, str) and word in cell).to_numpy(dtype=bool)


@page_errors
def layout(dataset: str | None = None, module: str | None = None, min_strength: str | None = None,
           consequence: str | None = None, **_query) -> html.Div:
    try:
        ds = current_dataset(dataset)
    except DatasetError as exc:
        return alert(str(exc), title="No data set")
    gtfs = [str(p.relative_to(ds.root)) for p in ds.gtf_files()]
    modules = [{"label": "all modules", "value": ALL_MODULES}] + [{"label": m, "value": m} for m in ds.module_ids]
    try:  # a shared URL's minimum, shown as it was typed when it is a number (the run checks its range)
        strength = float(min_strength) if min_strength is not None else 0
    except ValueError:
        strength = 0
    strength = strength if math.isfinite(strength) else 0
    return html.Div([
        dcc.Store(id="structure-context", data={"dataset": ds.name}), URL_STATE, URL_STATE_FILTER,
        html.H3("Structural consequences of the isoform switches"),
        html.P("From a module, the called switches are annotated (switch q ≤ α and transcripts significantly up and"
               " down, as explain-module calls them): every transcript significantly used more in low-module samples"
               " (1) paired with every one significantly used more in high-module samples (2), as IsoformSwitchAnalyzeR"
               " pairs a switch's isoforms. The words say what transcript 2 has that 1 has not, in its terms.",
               className="text-muted"),
        dbc.Card([
            dbc.CardHeader(html.Span("Annotate switch pairs", className="fw-semibold")),
            dbc.CardBody([
                dbc.Row([
                    dbc.Col([dbc.Label("GTF under the data root"),
                             dbc.Select(id="structure-gtf", options=[{"label": g, "value": g} for g in gtfs],
                                        value=gtfs[0] if gtfs else None)], md=4),
                    dbc.Col([dbc.Label("switch pairs"),
                             dbc.RadioItems(id="structure-source", value="module", inline=True,
                                            options=[{"label": "called switches of…", "value": "module"},
                                                     {"label": "uploaded TSV", "value": "upload"}])], md=3),
                    dbc.Col([dbc.Label("module"), dbc.Select(id="structure-module", options=modules, value=choice(
                        module, [o["value"] for o in modules], ALL_MODULES))], md=2),
                    dbc.Col([dbc.Label("min switch strength"),
                             number_input("structure-min-strength", strength, hint="0–2")], md=3),
                ], className="mb-2"),
                dcc.Upload(id="structure-upload", children=html.Div(["Drop or ", html.A("choose"), (
                    " a TSV with gene_id, transcript_id_1, transcript_id_2")]),
                           max_size=20 * 1024 * 1024, className="upload-box mb-2"),
                html.Div(id="structure-upload-name", className="small text-muted mb-2"),
                dbc.Button("Run annotation", id="structure-run", color="primary", className="me-2"),
                dbc.Button("Cancel", id="structure-cancel", color="secondary", disabled=True),
                dbc.Progress(id="structure-progress", value=0, label="", className="my-2", style={"height": "1.2rem"}),
                html.Div(id="structure-status", className="small"),
            ]),
        ], className="mb-3"),
        html.Div(id="structure-results", children=results_view(ds, consequence)),
    ])


def results_view(ds, consequence: str | None = None) -> list:
    """Summary figure and tables of the data set's latest annotation (or a hint before the first one), the
    pairs filtered by ``consequence`` when it is one of theirs."""
    try:
        pairs, enrichment = ds.structure.table("pairs"), ds.structure.table("enrichment")
    except DatasetError as exc:  # damaged tables: say which; the panel above can annotate again
        return [alert(str(exc), title="Cannot show the annotation")]
    if pairs is None:
        return [dbc.Alert("No annotation yet: run one above.", color="light")]
    words = [w for w in _consequence_words() if _contains(pairs, w).any()]
    consequence = choice(consequence, words, None)
    called = pairs.get("pair_source", pd.Series(None, index=pairs.index)) == CALLED_SWITCHES
    source = (f"{int(called.sum())} called switch pairs" if called.any()
              else "every annotated pair (uploaded or from an earlier version: not necessarily called switches)")
    return [
        figure_card("structure-summary", consequence_summary(enrichment),
                    title=f"Genome-wide, {source}: consequence gain vs loss (exact binomial test vs ½, BH)",
                    filename="consequence_summary"),
        html.H5("Consequence tests"),
        data_grid("structure-enrichment-table", enrichment, columns=ENRICHMENT_COLUMNS,
                  csv_name=f"{ds.file_stem}_structure_consequence_tests"),
        dbc.Row([dbc.Col(html.H5("Switch pairs (click one)"), md=6),
                 dbc.Col(dcc.Dropdown(id="structure-filter", options=words, placeholder="Filter by consequence…",
                                      clearable=True, value=consequence), md=6)]),
        pairs_grid(ds, pairs, consequence),
        html.Div(id="structure-pair-view"),
    ]


@callback(Output("structure-upload-name", "children"), Input("structure-upload", "filename"),
          prevent_initial_call=True)
def show_upload(filename):
    return f"Uploaded: {filename}" if filename else ""


@callback(
    Output("structure-status", "children"), Output("structure-results", "children"),
    Input("structure-run", "n_clicks"),
    State("structure-context", "data"), State("structure-gtf", "value"), State("structure-source", "value"),
    State("structure-module", "value"), State("structure-min-strength", "value"),
    State("structure-upload", "contents"), State("structure-upload", "filename"),
    **job_options("structure"), interval=300,
)
def run_annotation(set_progress, _clicks, context, gtf, source, module, min_strength, contents, filename):
    return annotation_job(set_progress, context, gtf, source, module, min_strength, contents, filename)


def annotation_job(set_progress, context, gtf, source, module, min_strength, contents, filename):
    """Background job: switch pairs (module or upload) -> transcript models (cache) -> consequences -> tables."""
    from components.background import budgeted, job_gate
    from isograph.structure.annotate import decode_upload, read_pairs_upload

    set_progress((2, "waiting to start"))
    with job_gate(settings()):
        checked = budgeted(set_progress, settings(), "The annotation",
                           instead="run `isograph annotate-structure` from the command line")
        try:
            ds = current_dataset(context["dataset"])
            if not gtf:
                raise InputError("no GTF under the data root; put one (.gtf or .gtf.gz) next to the data set")
            ds.structure.gtf(gtf)  # refuses a GTF outside the data root before anything is read
            if source == "upload":
                if not contents:
                    raise InputError("choose a switch-pair TSV to upload first, or pick 'from module…'")
                pairs = read_pairs_upload(decode_upload(contents, filename or "upload"), filename or "upload")
            else:
                strength = control_value(min_strength, "minimum switch strength", default=0, low=0, high=2)
                pairs = ds.explain.switch_pairs(None if module in (None, ALL_MODULES) else [module],
                                                min_switch_strength=strength)
                if pairs.empty:
                    raise InputError(f"no called switch in {'any module' if module in (None, ALL_MODULES) else module}"
                                     f" has a switch strength of at least {strength:g}; lower the"
                                     " minimum, pick another module, or upload pairs")
            start = time.perf_counter()
            summary = ds.structure.annotate(gtf, pairs,
                                            source=f"upload {filename}" if source == "upload" else CALLED_SWITCHES,
                                            progress=lambda f, m: checked((int(5 + 95 * f), m)))
        except InputError as exc:
            set_progress((100, "failed"))
            return dbc.Alert(f"Could not annotate: {exc}", color="danger", id="structure-error"), no_update
    cache = "GTF cache used" if summary["cache_used"] else "GTF parsed (cache written for next time)"
    status = dbc.Alert(f"Done in {time.perf_counter() - start:.1f} s: {summary['n_ok']} of {summary['n_pairs']} pairs"
                       f" annotated from {summary['n_transcripts']:,} transcripts; {cache}"
                       f" ({summary['seconds_models']:.2f} s). The data set's annotation now holds"
                       f" {summary['n_pairs_total']} pairs from {len(summary['runs'])} run(s).", color="success",
                       id="structure-done")
    return status, results_view(ds)


on_cancel("structure", "structure-status", "Cancelled; the tables of the previous annotation are unchanged.")


def pairs_grid(ds, pairs: pd.DataFrame, word: str | None) -> html.Div:
    """The switch-pairs table, all pairs or those whose consequences mention ``word``."""
    if word:
        pairs = pairs[_contains(pairs, word)]
    return data_grid("structure-pairs-table", pairs, columns=PAIR_COLUMNS, page_size=12,
                     csv_name=f"{ds.file_stem}_structure_pairs{f'_{word}' if word else ''}")


@callback(Output("structure-pairs-table", "children"), Output("structure-pair-view", "children", allow_duplicate=True),
          Input("structure-filter", "value"), State("structure-context", "data"), prevent_initial_call=True)
def filter_pairs(word, context):
    """A new filter: the filtered table, and no drawing of a pair that may no longer be listed."""
    ds = current_dataset(context["dataset"])
    return pairs_grid(ds, ds.structure.table("pairs"), word).children, None


@callback(Output("structure-pair-view", "children"), Input(grid_id("structure-pairs-table"), "cellClicked"),
          State(grid_source("structure-pairs-table"), "data"), State("structure-context", "data"),
          State("structure-gtf", "value"), prevent_initial_call=True)
def show_pair(cell, source, context, gtf):
    row = clicked_row(cell, source)
    if not row:
        return no_update
    try:
        ds = current_dataset(context["dataset"])
        models = ds.structure.models(gtf).set_index("transcript_id", drop=False)
        t1, t2 = row["transcript_id_1"], row["transcript_id_2"]
        if t1 not in models.index or t2 not in models.index:
            raise InputError(f"{t1 if t1 not in models.index else t2} is not in {gtf}")
    except (InputError, TypeError) as exc:
        return alert(str(exc), title="Cannot draw this pair")
    words = row.get("consequences") or "no structural difference found"
    figure = switch_pair(models.loc[t1], models.loc[t2], consequences=words,
                         title=f"{row['gene_id']}: {t1} → {t2}")
    return [
        figure_card("structure-pair", figure, title=f"Switch of {row['gene_id']}", filename=f"{row['gene_id']}_switch"),
        dbc.Alert([html.B("In words: "), f"switching from {t1} to {t2}: {words}."], color="light", id="structure-words"),
    ]

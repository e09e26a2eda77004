"""The job panel: run explain for one module with chosen options, with a progress bar and a cancel button."""

from __future__ import annotations

import dash
import dash_bootstrap_components as dbc
from dash import Input, Output, State, dcc, html

__all__ = ["explain_job_panel", "register_callbacks", "run_explain_job"]


def explain_job_panel(module_id: str, dataset: str) -> dbc.Card:
    """Options, Run/Cancel buttons, a progress bar and the result area of an explain job."""
    return dbc.Card([
        dbc.CardHeader(html.Span(f"Re-run explain for {module_id} with other options", className="fw-semibold")),
        dbc.CardBody([
            dcc.Store(id="job-context", data={"module": module_id, "dataset": dataset}),
            dbc.Row([
                dbc.Col([dbc.Label("split percentile P"), dbc.Input(id="job-percentile", type="number", value=25,
                                                                   min=1, max=50, step=1)], md=3),
                dbc.Col([dbc.Label("min complete pairs"), dbc.Input(id="job-min-pairs", type="number", value=3,
                                                                   min=2, step=1)], md=3),
                dbc.Col([dbc.Label("eigengene"), dbc.Select(id="job-method", value="pc1",
                                                            options=[{"label": "PC1 (WGCNA)", "value": "pc1"},
                                                                     {"label": "aligned mean", "value": "aligned_mean"}])],
                        md=3),
                dbc.Col([dbc.Button("Run", id="job-run", color="primary", className="me-2 mt-4"),
                         dbc.Button("Cancel", id="job-cancel", color="secondary", className="mt-4", disabled=True)],
                        md=3),
            ]),
            dbc.Progress(id="job-progress", value=0, label="", className="my-2", style={"height": "1.2rem"}),
            html.Div(id="job-status", className="small text-muted"),
            html.Div(id="job-result"),
        ]),
    ], className="mb-3")


def run_explain_job(set_progress, context: dict, percentile, min_pairs, method) -> tuple:
    """The job body: explain one module with the chosen options; returns (status, result table)."""
    from components.layout import current_dataset, settings
    from compute.errors import InputError
    from compute.explain import ExplainConfig, explain_module
    from compute.jobs import job_gate

    set_progress((5, "waiting to start"))
    with job_gate(settings()):
        set_progress((20, "loading the fit and the feature table"))
        try:
            ds = current_dataset(context["dataset"])
            config = ExplainConfig(split_percentile=float(percentile or 50), min_complete_pairs=int(min_pairs or 3),
                                   eigengene_method=method or "pc1")
            set_progress((50, f"explaining {context['module']}"))
            result = explain_module(ds.paths["fit"], ds.usage(), ds.paths["feature_meta"],
                                    module_ids=[context["module"]], config=config)[context["module"]]
        except InputError as exc:
            return f"Could not run: {exc}", None
    set_progress((100, "done"))
    top = result.gene_driver_table.head(10)[["gene_id", "gene_name", "r", "qvalue", "switch_strength"]]
    table = dbc.Table.from_dataframe(top.round(4), striped=True, size="sm", id="job-table")
    status = (f"Done: {context['module']} with P = {config.split_percentile:g}, min pairs {config.min_complete_pairs},"
              f" {config.eigengene_method}; {len(result.high_samples)} high and {len(result.low_samples)} low samples.")
    return status, table


def register_callbacks(app: dash.Dash) -> None:
    """Attach the explain-job callbacks (background job with progress/cancel, cancel message) to ``app``."""
    app.callback(
        Output("job-status", "children"), Output("job-result", "children"),
        Input("job-run", "n_clicks"),
        State("job-context", "data"), State("job-percentile", "value"), State("job-min-pairs", "value"),
        State("job-method", "value"),
        background=True, prevent_initial_call=True,
        running=[(Output("job-run", "disabled"), True, False), (Output("job-cancel", "disabled"), False, True),
                 (Output("job-running", "data"), True, False)],
        cancel=[Input("job-cancel", "n_clicks")],
        progress=[Output("job-progress", "value"), Output("job-progress", "label")],
    )(explain_job)
    app.callback(Output("job-status", "children", allow_duplicate=True),
                 Output("job-progress", "label", allow_duplicate=True),
                 Input("job-cancel", "n_clicks"), prevent_initial_call=True)(show_cancelled)


def explain_job(set_progress, _clicks, context, percentile, min_pairs, method):
    """Background job: see :func:`run_explain_job`."""
    return run_explain_job(set_progress, context, percentile, min_pairs, method)


def show_cancelled(_clicks):
    """Say so when the user cancels."""
    return "Cancelled.", "cancelled"

"""Background jobs of the app, each with a progress bar and a cancel button.

- the explain job panel of the module page: run explain for one module with chosen options;
- the export panel (app level, bottom right): any figure's PDF/PNG/SVG export. The menu click is turned
  into an export request in the browser (a clientside callback, so no figure travels twice), and the
  job renders it through the server's warm exporter (:class:`components.export_service.ExportService`).

A running job sets the app-level ``job-running`` store; its tab shares it with the browser's other tabs
through localStorage (``job-running-shared``), and every tab's navbar shows it on every page.
"""

from __future__ import annotations

import dash
import dash_bootstrap_components as dbc
import pandas as pd
import plotly.graph_objects as go
from dash import ALL, ClientsideFunction, Input, Output, State, dcc, html

__all__ = ["explain_job_panel", "export_panel", "job_options", "on_cancel", "register_callbacks", "run_explain_job",
           "run_export_job"]


def job_options(prefix: str, *more_progress: Output) -> dict:
    """Background-callback options of a job panel whose components are ``{prefix}-run``, ``{prefix}-cancel``
    and ``{prefix}-progress``: Run is disabled and Cancel enabled while it runs, the app-level
    ``job-running`` store is set, Cancel cancels, and progress goes to the bar's value and label (then to
    ``more_progress``). Pass as ``callback(..., **job_options(prefix), interval=...)``."""
    return {
        "background": True, "prevent_initial_call": True,
        "running": [(Output(f"{prefix}-run", "disabled"), True, False), (Output(f"{prefix}-cancel", "disabled"), False, True),
                    (Output("job-running", "data"), True, False)],
        "cancel": [Input(f"{prefix}-cancel", "n_clicks")],
        "progress": [Output(f"{prefix}-progress", "value"), Output(f"{prefix}-progress", "label"), *more_progress],
    }


def on_cancel(prefix: str, message_id: str, message: str = "Cancelled.", *, callback=dash.callback) -> None:
    """Register the callback that writes ``message`` into ``message_id`` (and "cancelled" into the progress
    bar's label) when ``{prefix}-cancel`` is clicked; ``callback`` is ``app.callback`` for app-level panels."""
    callback(Output(message_id, "children", allow_duplicate=True),
             Output(f"{prefix}-progress", "label", allow_duplicate=True),
             Input(f"{prefix}-cancel", "n_clicks"), prevent_initial_call=True)(lambda _clicks: (message, "cancelled"))


def explain_job_panel(module_id: str, dataset: str) -> dbc.Card:
    """Options, Run/Cancel buttons, a progress bar and the result area of an explain job."""
    from components.layout import number_input

    return dbc.Card([
        dbc.CardHeader(html.Span(f"Re-run explain for {module_id} with other options", className="fw-semibold")),
        dbc.CardBody([
            dcc.Store(id="job-context", data={"module": module_id, "dataset": dataset}),
            dbc.Row([
                dbc.Col([dbc.Label("split percentile P"), number_input("job-percentile", 25, hint="1–50")], md=3),
                dbc.Col([dbc.Label("min complete pairs"), number_input("job-min-pairs", 3,
                                                                      hint="a whole number, 2 to the samples")],
                        md=3),
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
    from components.background import budgeted, job_gate
    from components.layout import control_value, current_dataset, settings
    from isograph.errors import InputError
    from isograph.explain import ExplainConfig

    set_progress((5, "waiting to start"))
    with job_gate(settings()):
        checked = budgeted(set_progress, settings(), "The explain job",
                           instead="run `isograph explain-module` from the command line")
        try:
            checked((20, "loading the fit and the feature table"))
            ds = current_dataset(context["dataset"])
            n_samples = len(ds.explain.table(context["module"], "eigengene"))  # the samples the module was explained on
            config = ExplainConfig(
                split_percentile=control_value(percentile, "split percentile P", default=25, low=1, high=50),
                min_complete_pairs=control_value(min_pairs, "min complete pairs", default=3, kind=int, low=2,
                                                 high=max(n_samples, 2)),
                eigengene_method=method if method in ("pc1", "aligned_mean") else "pc1")
            checked((50, f"explaining {context['module']}"))
            result = ds.explain.rerun(context["module"], config)
            checked((95, "listing the drivers"))
        except InputError as exc:
            return f"Could not run: {exc}", None
    set_progress((100, "done"))
    status = (f"Done: {context['module']} with P = {config.split_percentile:g}, min pairs {config.min_complete_pairs},"
              f" {config.eigengene_method}; {len(result.high_samples)} high and {len(result.low_samples)} low samples."
              " Shown here only: the module's stored tables are unchanged (isograph explain-module writes them).")
    genes = result.gene_driver_table
    if not genes["r"].notna().any():  # degenerate: say why instead of a table of empty cells
        return (f"{status} No gene has {config.min_complete_pairs} samples with both its score and the eigengene, so"
                " every r, p and q is empty; lower min complete pairs."), None
    top = genes.head(10)[["gene_id", "gene_name", "r", "qvalue", "switch_strength"]].copy()
    for column in ("r", "qvalue", "switch_strength"):  # significant digits: a q of 1e-90 is not shown as 0
        top[column] = top[column].map(lambda v: "" if pd.isna(v) else f"{v:.4g}")
    table = dbc.Table.from_dataframe(top, striped=True, size="sm", id="job-table")
    return status, table


def export_panel() -> html.Div:
    """The app-level export job: request store, download, and a toast with progress, cancel and message."""
    return html.Div([
        dcc.Store(id="export-request"),
        dcc.Download(id="export-download"),
        dbc.Toast([
            dbc.Progress(id="export-progress", value=0, label="", className="mb-2", style={"height": "1.1rem"}),
            html.Div(id="export-message", className="small mb-2"),
            dbc.Button("Cancel", id="export-cancel", size="sm", color="secondary", disabled=True),
        ], id="export-toast", header="Figure export", is_open=False, dismissable=True,
            style={"position": "fixed", "bottom": 16, "right": 16, "width": 340, "zIndex": 1080}),
    ])


def run_export_job(set_progress, request: dict) -> tuple:
    """The job body: render one figure; returns (dcc.Download data, message).

    Parameters
    ----------
    set_progress : callable
        Takes (percent, label).
    request : dict
        ``figure`` (plotly JSON) or ``paper`` (what :func:`components.paper.paper_figure` builds), ``format`` (an export-menu choice: ``pdf-single``, ``pdf-double``,
        ``png-single``, ``png-double`` — journal widths, PNG at 300 dpi — or ``svg``/``pdf``/``png`` at screen
        size), ``filename`` (no suffix; a journal width adds ``_89mm`` or ``_183mm``).
    """
    from components.background import job_gate
    from components.export_service import export_via
    from components.layout import settings
    from isograph.errors import InputError
    from isograph.figures.publication import JOURNAL_WIDTHS_MM, export_choice, publication_figure
    from isograph.figures.render import chrome_path

    try:
        fmt, column, scale = export_choice(str(request["format"]))
    except ValueError as exc:
        return dash.no_update, f"Could not export: {exc}"
    if request.get("paper"):  # a multi-panel figure for a paper, built here from the data set
        from components.paper import paper_figure

        try:
            request = {**request, "figure": paper_figure(request["paper"])}
        except (InputError, ValueError) as exc:
            return dash.no_update, f"Could not build the figure: {exc}"
    figure, width, height = request["figure"], 1000, None
    filename = request["filename"]
    if column is not None:  # a journal column: print layout, the size in the file name
        figure, width, height = publication_figure(go.Figure(figure), column)
        filename = f"{filename}_{JOURNAL_WIDTHS_MM[column]:.0f}mm"
    set_progress((5, "waiting to start"))
    with job_gate(settings()):
        if chrome_path() is None:
            set_progress((100, "no browser"))
            return dash.no_update, ("No Chrome/Chromium on the server, so PDF/PNG/SVG export is off; use the camera"
                                    " button of the figure toolbar (SVG, drawn by your browser), or install"
                                    " chromium on the server.")
        set_progress((30, f"rendering {filename}.{fmt}"))
        try:
            data = export_via(settings().get("exporter"), figure, fmt, width=width, height=height, scale=scale)
        except InputError as exc:
            set_progress((100, "failed"))
            return dash.no_update, f"Could not export: {exc}"
    set_progress((100, "done"))
    return dcc.send_bytes(data, f"{filename}.{fmt}"), f"Exported {filename}.{fmt} ({len(data) / 1024:.0f} KiB)."


def register_callbacks(app: dash.Dash) -> None:
    """Attach the job callbacks (explain job, export job, cancel messages, navbar indicator) to ``app``."""
    app.callback(
        Output("job-status", "children"), Output("job-result", "children"),
        Input("job-run", "n_clicks"),
        State("job-context", "data"), State("job-percentile", "value"), State("job-min-pairs", "value"),
        State("job-method", "value"),
        **job_options("job"),
    )(explain_job)
    on_cancel("job", "job-status", callback=app.callback)

    app.clientside_callback(
        ClientsideFunction(namespace="isograph", function_name="exportRequest"),
        Output("export-request", "data"), Output("export-message", "children", allow_duplicate=True),
        Input({"type": "export", "graph": ALL, "format": ALL}, "n_clicks"),
        State({"type": "figure", "graph": ALL}, "figure"), State({"type": "export-name", "graph": ALL}, "data"),
        prevent_initial_call=True,
    )
    app.callback(
        Output("export-download", "data"), Output("export-message", "children"),
        Input("export-request", "data"),
        background=True, prevent_initial_call=True, interval=250,  # ms between the browser's polls
        running=[(Output("export-toast", "is_open"), True, True), (Output("export-cancel", "disabled"), False, True),
                 (Output("job-running", "data"), True, False)],
        cancel=[Input("export-cancel", "n_clicks")],
        progress=[Output("export-progress", "value"), Output("export-progress", "label")],
    )(export_job)
    on_cancel("export", "export-message", callback=app.callback)
    # this tab's job state joins the other tabs' in localStorage; every tab's navbar reads the shared map
    app.clientside_callback(
        ClientsideFunction(namespace="isograph", function_name="shareJobState"),
        Output("job-running-shared", "data"),
        Input("job-running", "data"), State("job-running-shared", "data"), State("job-budget", "data"),
    )
    app.callback(Output("job-indicator", "children"), Input("job-running-shared", "data"))(job_indicator)


def export_job(set_progress, request):
    """Background job: see :func:`run_export_job`."""
    if not request:
        return dash.no_update, dash.no_update
    return run_export_job(set_progress, request)


def job_indicator(shared: dict | None) -> list | str:
    """The navbar's sign that a job is running in any tab of this browser (every page of every tab shows it).

    Parameters
    ----------
    shared : dict or None
        The ``job-running-shared`` store: ``{tab ID: {"running": true, "at": ms}}`` for each tab of the browser
        whose job is running (``assets/isograph.js`` ``shareJobState`` keeps it: a tab's entry goes when its
        job ends or the tab closes, and any entry older than the job time budget is dropped).

    Returns
    -------
    list or str
        A spinner and "job running" (with the number of tabs when more than one), or "".
    """
    tabs = sum(1 for entry in (shared or {}).values() if isinstance(entry, dict) and entry.get("running"))
    if not tabs:
        return ""
    return [dbc.Spinner(size="sm", spinner_class_name="me-1"), "job running" if tabs == 1 else f"jobs running in {tabs} tabs"]


def explain_job(set_progress, _clicks, context, percentile, min_pairs, method):
    """Background job: see :func:`run_explain_job`."""
    return run_explain_job(set_progress, context, percentile, min_pairs, method)

"""Shared Dash pieces: navbar, alerts, figure cards with export menus, tables, the current data set."""

from __future__ import annotations

from urllib.parse import urlencode

import dash
import dash_bootstrap_components as dbc
import pandas as pd
from dash import ALL, MATCH, Input, Output, State, dash_table, dcc, html

from components.figures import empty_figure
from compute.datasets import Dataset, open_dataset

__all__ = ["alert", "current_dataset", "data_table", "export_payload", "figure_card", "graph_ref", "href", "navbar",
           "register_callbacks"]


def settings() -> dict:
    """The running app's settings (``create_app`` puts them in the Flask config)."""
    return dash.get_app().server.config["ISOGRAPH"]


def current_dataset(name: str | None) -> Dataset:
    """The data set of a request (the first under the data root when ``name`` is None)."""
    return open_dataset(settings()["data_root"], name)


def href(path: str, **query) -> str:
    """A shareable URL: ``path`` plus the non-empty query parameters."""
    params = {k: v for k, v in query.items() if v not in (None, "")}
    return f"{path}?{urlencode(params)}" if params else path


def navbar() -> dbc.Navbar:
    """The top bar: product name and the pages."""
    return dbc.Navbar(dbc.Container([
        dbc.NavbarBrand("IsoGraph Explorer", href="/"),
        dbc.Nav([dbc.NavItem(dbc.NavLink("Modules", href="/"))], navbar=True),
    ], fluid=True), color="dark", dark=True, className="mb-3")


def alert(message: str, *, title: str = "Cannot show this page", colour: str = "warning") -> dbc.Alert:
    """A friendly message instead of a traceback, with a way back."""
    return dbc.Alert([html.H5(title), html.P(message, id="page-error"), dcc.Link("Back to the modules", href="/")],
                     color=colour)


def figure_card(graph_id: str, figure, *, title: str, filename: str) -> dbc.Card:
    """A figure with its title and an export menu (PDF/PNG/SVG through the server; SVG also from the toolbar)."""
    menu = dbc.DropdownMenu(
        [dbc.DropdownMenuItem(fmt.upper(), id={"type": "export", "graph": graph_id, "format": fmt})
         for fmt in ("pdf", "png", "svg")],
        label="Export", size="sm", color="secondary", className="float-end",
    )
    graph = dcc.Loading(dcc.Graph(
        id=graph_ref(graph_id), figure=figure if figure is not None else empty_figure(),
        config={"displaylogo": False, "toImageButtonOptions": {"format": "svg", "filename": filename}},
    ))
    return dbc.Card([
        dbc.CardHeader([html.Span(title, className="fw-semibold"), menu]),
        dbc.CardBody([graph, dcc.Download(id={"type": "export-download", "graph": graph_id}),
                      dcc.Store(id={"type": "export-name", "graph": graph_id}, data=filename),
                      html.Div(id={"type": "export-status", "graph": graph_id}, className="small text-muted")]),
    ], className="mb-3")


def graph_ref(graph_id: str) -> dict:
    """The component ID of a figure card's graph (a dict, so one callback can export every figure)."""
    return {"type": "figure", "graph": graph_id}


def register_callbacks(app: dash.Dash) -> None:
    """Attach the figure-export callback to ``app`` (components register per app, not at import)."""
    app.callback(
        Output({"type": "export-download", "graph": MATCH}, "data"),
        Output({"type": "export-status", "graph": MATCH}, "children"),
        Input({"type": "export", "graph": MATCH, "format": ALL}, "n_clicks"),
        State({"type": "figure", "graph": MATCH}, "figure"),
        State({"type": "export-name", "graph": MATCH}, "data"),
        prevent_initial_call=True,
    )(export_figure)


def export_figure(_clicks, figure, filename):
    """Send the figure as the clicked format (PDF/PNG/SVG via kaleido + chromium)."""
    trigger = dash.ctx.triggered_id
    if not trigger or not any(_clicks):
        return dash.no_update, dash.no_update
    return export_payload(figure, trigger["format"], filename)


def export_payload(figure: dict, fmt: str, filename: str) -> tuple:
    """(dcc.Download data, status message) for one figure; a clear message instead of an error."""
    import plotly.graph_objects as go

    from components.export import chrome_path, figure_bytes
    from compute.errors import InputError

    if fmt != "svg" and chrome_path() is None:
        return dash.no_update, ("No Chrome/Chromium on the server, so PDF/PNG export is off; use SVG from the"
                                " camera button of the figure toolbar.")
    try:
        data = figure_bytes(go.Figure(figure), fmt)
    except InputError as exc:
        return dash.no_update, str(exc)
    return dcc.send_bytes(data, f"{filename}.{fmt}"), f"Exported {filename}.{fmt}"


def data_table(table_id: str, frame: pd.DataFrame, *, columns: list[str], page_size: int = 15) -> html.Div:
    """A sortable, filterable table with a CSV download of everything it holds."""
    shown = frame[[c for c in columns if c in frame.columns]].copy()
    for col in shown.select_dtypes("float").columns:
        shown[col] = shown[col].map(lambda v: float(f"{v:.4g}") if pd.notna(v) else None)
    table = dash_table.DataTable(
        id=table_id, data=shown.to_dict("records"), columns=[{"name": c, "id": c} for c in shown.columns],
        sort_action="native", filter_action="native", page_size=page_size, row_selectable=False,
        style_table={"overflowX": "auto"}, style_cell={"fontSize": 13, "padding": "4px"},
        export_format="csv", export_headers="display",
    )
    return html.Div(table, className="mb-4")

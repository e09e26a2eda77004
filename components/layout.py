"""Shared Dash pieces: navbar, alerts, figure cards with export menus, the current data set (tables:
:mod:`components.data_grid`)."""

from __future__ import annotations

import functools
import math
from urllib.parse import quote, unquote, urlencode

import dash
import dash_bootstrap_components as dbc
from dash import dcc, html

from isograph.dataset.datasets import Dataset, open_dataset
from isograph.errors import InputError
from isograph.figures.common import empty_figure

__all__ = ["EXPORT_LABELS", "GRAPH_CONFIG", "alert", "control_value", "current_dataset", "figure_card", "graph_ref", "href", "navbar", "optional_part",
           "page_errors", "settings"]


def settings() -> dict:
    """The running app's settings (``create_app`` puts them in the Flask config)."""
    return dash.get_app().server.config["ISOGRAPH"]


def current_dataset(name: str | None) -> Dataset:
    """The data set of a request (the first under the data root when ``name`` is None)."""
    return open_dataset(settings()["data_root"], name)


def control_value(value: object, label: str, *, default: float, kind: type = float, low: float | None = None,
                  high: float | None = None) -> float | int:
    """A number typed into a control, checked: ``default`` when empty, else a finite ``kind`` in [low, high].

    Parameters
    ----------
    value : object
        What the browser sent (a number, a string, None).
    label : str
        The control's label, named in the message.
    default : float
        Used when the control is empty.
    kind : type, default float
        ``int`` refuses fractions.
    low, high : float, optional
        Inclusive bounds.

    Returns
    -------
    float or int

    Raises
    ------
    InputError
        Not a number, not finite, a fraction where a whole number is needed, or out of range; the message
        names the control, the value and the allowed range.
    """
    if value is None or (isinstance(value, str) and not value.strip()):
        return kind(default)
    bounds = (f" between {low:g} and {high:g}" if low is not None and high is not None
              else f" of at least {low:g}" if low is not None else f" of at most {high:g}" if high is not None else "")
    wanted = f"{'a whole number' if kind is int else 'a number'}{bounds}"
    try:
        number = float(value) if not isinstance(value, bool) else float("nan")
    except (TypeError, ValueError):
        number = float("nan")
    if not math.isfinite(number) or (kind is int and not number.is_integer()):
        raise InputError(f"{label}: {str(value)[:40]!r} is not {wanted}; type {wanted}")
    if (low is not None and number < low) or (high is not None and number > high):
        raise InputError(f"{label}: {number:g} is out of range; type {wanted}")
    return kind(number)


def number_input(component_id: str, value: float | None = None, *, hint: str) -> dbc.Input:
    """A number box whose every typed value reaches the server.

    It has no HTML ``min``, ``max`` or ``step``: with them the browser marks an out-of-range or off-step number
    invalid and Dash receives it as empty, so the server could only fall back to the default (a split
    percentile of 80 ran as the default). The server checks the value (:func:`control_value`) and refuses it
    with the valid range.

    Parameters
    ----------
    component_id : str
    value : float, optional
        The value shown first.
    hint : str
        The valid range in words (the box's placeholder, shown when it is empty), e.g. ``"1–50"``.

    Returns
    -------
    dbc.Input
    """
    return dbc.Input(id=component_id, type="number", value=value, step="any", placeholder=hint)


def href(path: str, **query) -> str:
    """A shareable URL: ``path`` plus the non-empty query parameters."""
    params = {k: v for k, v in query.items() if v not in (None, "")}
    return f"{path}?{urlencode(params)}" if params else path


def gene_href(gene_id: str, **query) -> str:
    """The gene view's URL: the ID percent-encoded as one path segment (an ID with ``/``, ``%``, ``?``, ``#``
    or spaces round-trips; the page decodes it with :func:`path_id`)."""
    return href(f"/genes/{quote(str(gene_id), safe='')}", **query)


def module_href(module_id: str, **query) -> str:
    """The module page's URL (the ID encoded as :func:`gene_href` does)."""
    return href(f"/modules/{quote(str(module_id), safe='')}", **query)


def path_id(value: str | None) -> str | None:
    """An ID from a page's path, percent-decoded (the browser keeps a path percent-encoded)."""
    return unquote(value) if value is not None else None


def navbar() -> dbc.Navbar:
    """The top bar: product name and the pages."""
    return dbc.Navbar(dbc.Container([
        dbc.NavbarBrand("IsoGraph Explorer", href="/"),
        dbc.Nav([dbc.NavItem(dbc.NavLink("Modules", href="/")), dbc.NavItem(dbc.NavLink("Samples", href="/samples")),
                 dbc.NavItem(dbc.NavLink("Structure", href="/structure")),
                 dbc.NavItem(dbc.NavLink("SAE features", href="/sae"))], navbar=True, className="me-auto"),
        html.Span(id="job-indicator", className="text-light small"),
    ], fluid=True), color="dark", dark=True, className="mb-3")


def page_errors(layout):
    """Decorate a page's ``layout``: a bad or damaged input shows an alert naming it, never an HTTP 500."""
    @functools.wraps(layout)
    def safe(*args, **kwargs):
        try:
            return layout(*args, **kwargs)
        except InputError as exc:  # DatasetError included: unknown IDs, damaged or missing files
            return alert(str(exc))
    return safe


def optional_part(load, *args, what: str) -> tuple:
    """``(load(*args), None)``, or ``(None, a warning naming the damaged file)`` so the rest of the page shows."""
    try:
        return load(*args), None
    except InputError as exc:
        return None, dbc.Alert(f"{what} not shown: {exc}", color="warning", className="small py-2")


def alert(message: str, *, title: str = "Cannot show this page", colour: str = "warning") -> dbc.Alert:
    """A friendly message instead of a traceback, with a way back."""
    return dbc.Alert([html.H5(title), html.P(message, id="page-error"), dcc.Link("Back to the modules", href="/")],
                     color=colour)


#: every figure's toolbar: no plotly logo, and nothing that sends the data to Plotly's cloud (Chart Studio)
GRAPH_CONFIG = {"displaylogo": False, "showSendToCloud": False, "showEditInChartStudio": False,
                "modeBarButtonsToRemove": ["sendDataToCloud"]}
#: the export menu (isograph.figures.publication.EXPORT_CHOICES): journal widths, 300 dpi PNG, editable SVG
EXPORT_LABELS = {"pdf-single": "PDF, single column (89 mm)", "pdf-double": "PDF, double column (183 mm)",
                 "png-single": "PNG 300 dpi, single column (89 mm)", "png-double": "PNG 300 dpi, double column (183 mm)",
                 "svg": "SVG (screen size, editable)"}


def figure_card(graph_id: str, figure, *, title: str, filename: str) -> dbc.Card:
    """A figure with its title and an export menu (journal-width PDF/PNG and SVG rendered by a background
    export job, see :mod:`components.jobs`; SVG also from the figure toolbar's camera button, in the browser)."""
    menu = dbc.DropdownMenu(
        [dbc.DropdownMenuItem(label, id={"type": "export", "graph": graph_id, "format": choice})
         for choice, label in EXPORT_LABELS.items()],
        label="Export", size="sm", color="secondary", className="float-end",
    )
    graph = dcc.Loading(dcc.Graph(
        id=graph_ref(graph_id), figure=figure if figure is not None else empty_figure(),
        config=GRAPH_CONFIG | {"toImageButtonOptions": {"format": "svg", "filename": filename}},
    ))
    return dbc.Card([
        dbc.CardHeader([html.Span(title, className="fw-semibold"), menu]),
        dbc.CardBody([graph, dcc.Store(id={"type": "export-name", "graph": graph_id}, data=filename)]),
    ], className="mb-3")


def graph_ref(graph_id: str) -> dict:
    """The component ID of a figure card's graph (a dict, so one callback can export every figure)."""
    return {"type": "figure", "graph": graph_id}

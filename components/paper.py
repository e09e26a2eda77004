"""The "Figure for a paper" button of the module page and the gene view: the server builds the multi-panel
figure (:mod:`isograph.figures.panels`) inside the export job, at double-column width.

A page registers how to build its figure from the request (:func:`register_builder`); the button's callback
puts ``{"paper": {...}, "format": "pdf-double", "filename": ...}`` into the export request, and
:func:`components.jobs.run_export_job` calls :func:`paper_figure`.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable

import dash_bootstrap_components as dbc
import plotly.graph_objects as go
from dash import no_update

__all__ = ["PAPER_FORMAT", "paper_button", "paper_figure", "paper_request", "register_builder"]

PAPER_FORMAT = "pdf-double"  #: one PDF page, 183 mm wide (240 mm high)
_BUILDERS: dict[str, Callable[[dict], go.Figure]] = {}


def register_builder(kind: str, build: Callable[[dict], go.Figure]) -> None:
    """Let :func:`paper_figure` build figures of ``kind`` with ``build(spec)``.

    Parameters
    ----------
    kind : str
        ``module`` or ``gene``.
    build : callable
        Takes the request's ``paper`` dict, returns the figure.
    """
    _BUILDERS[kind] = build


def paper_figure(spec: dict) -> go.Figure:
    """The figure a paper request names.

    Parameters
    ----------
    spec : dict
        ``kind`` and what its builder reads (``dataset``, ``module``, ``gene``, …).

    Returns
    -------
    go.Figure

    Raises
    ------
    ValueError
        An unknown kind.
    """
    kind = str((spec or {}).get("kind"))
    if kind not in _BUILDERS:
        raise ValueError(f"no figure for a paper of kind {kind!r}")
    return _BUILDERS[kind](spec)


def paper_request(clicks: int | None, spec: dict, name: str):
    """The export request of a figure for a paper (what a page's button callback returns).

    Parameters
    ----------
    clicks : int or None
        The button's ``n_clicks``. Dash calls the callback when the button appears with the page; that is no
        click, and gives ``dash.no_update`` (it once exported and downloaded a PDF on every page load).
    spec : dict
        ``kind`` and what its builder reads.
    name : str
        Says what the figure is (e.g. ``M000_switch``); characters unsafe in a file name become ``_``.

    Returns
    -------
    dict or dash.no_update
        ``paper``, ``format`` (:data:`PAPER_FORMAT`), ``filename`` (``{name}_paper_figure``) and ``requested``
        (a time stamp, so that the same click twice is two requests).
    """
    if not clicks:
        return no_update
    safe = re.sub(r"[^A-Za-z0-9._-]+", "_", name)
    return {"paper": spec, "format": PAPER_FORMAT, "filename": f"{safe}_paper_figure", "requested": time.time()}


def paper_button(button_id: str, what: str) -> dbc.Button:
    """The button (its tooltip says what the page holds).

    Parameters
    ----------
    button_id : str
    what : str
        The panels, in words.

    Returns
    -------
    dbc.Button
    """
    return dbc.Button("Figure for a paper (PDF, 183 mm)", id=button_id, size="sm", color="secondary", outline=True,
                      className="mb-2", title=f"One PDF page, double-column width (183 × 240 mm): {what}")

"""State in the URL: every control that changes what a page shows writes its value into the page's query
string (``history.replaceState``, no navigation), and the page's ``layout`` reads it back, so a URL shared or
bookmarked rebuilds the same view.

A page declares its controls once: :func:`url_state` registers the clientside callback (``syncUrl`` in
``assets/isograph.js``) and returns the store that names the query parameters; the layout passes the
parameters it receives to its controls, checked with :func:`choice` and :func:`filter_model`.
"""

from __future__ import annotations

import json

from dash import ClientsideFunction, Input, Output, State, clientside_callback, dcc

__all__ = ["MAX_PARAMETER", "choice", "filter_model", "url_state"]

MAX_PARAMETER = 4000  #: characters of one query parameter read back (a table's filter model is far smaller)


def url_state(name: str, controls: dict[str, tuple[object, str]]) -> dcc.Store:
    """Write the given controls' values into the URL whenever one changes.

    Parameters
    ----------
    name : str
        The page's name (the store's ID is ``url-state-<name>``); one call per page module, at import.
    controls : dict
        Query parameter -> ``(component_id, property)``. Every component must be in the page's layout when
        it is drawn (a control built later, e.g. in a tab, gets its own call).

    Returns
    -------
    dcc.Store
        Put it into the page's layout (it holds the parameter names).
    """
    store_id = f"url-state-{name}"
    clientside_callback(ClientsideFunction("isograph", "syncUrl"), Output(store_id, "data"),
                        [Input(cid, prop) for cid, prop in controls.values()], State(store_id, "data"),
                        prevent_initial_call=True)
    return dcc.Store(id=store_id, data=list(controls))


def choice(value: object, allowed, default):
    """``value`` when it is one of ``allowed`` (a URL parameter someone may have edited), else ``default``.

    Parameters
    ----------
    value : object
        The query parameter (a string or None).
    allowed : iterable
    default : object

    Returns
    -------
    object
    """
    return value if value is not None and value in set(allowed) else default


def filter_model(value: object, columns) -> dict | None:
    """A table's filter model from a URL parameter: the JSON object AG Grid reported, restricted to the
    table's columns; None for anything else (malformed, too long, not an object).

    Parameters
    ----------
    value : object
        The query parameter (a string or None).
    columns : iterable of str
        The table's columns.

    Returns
    -------
    dict or None
    """
    if not isinstance(value, str) or not value or len(value) > MAX_PARAMETER:
        return None
    try:
        model = json.loads(value)
    except ValueError:
        return None
    if not isinstance(model, dict):
        return None
    known = set(columns)
    kept = {c: f for c, f in model.items() if c in known and isinstance(f, dict)}
    return kept or None

"""The app's tables: AG Grid (dash-ag-grid) grids whose rows come from the server, a page at a time.

:func:`data_grid` stores the table once (Arrow IPC bytes in :func:`table_store`, keyed by a hash of its
content, so equal tables share one entry and any server process can answer) and sends the browser only
column definitions and that key. The grid uses AG Grid's infinite row model with pagination: for each page
it asks :func:`serve_rows` for ``[startRow, endRow)`` with its sort and filter models, which
:mod:`components.grid_query` applies on the server; the browser never holds more than the pages it drew.

Numbers travel at full precision and are formatted in the browser (4 significant digits, the full value on
hover); the CSV button downloads the whole table at full precision under a name that says what it is
(``{data set}_{module}_{table}.csv``). Each column's header tooltip says its definition, test and direction
(:mod:`components.column_help`). A row click reaches page callbacks as ``cellClicked`` of :func:`grid_id`;
:func:`clicked_row` turns it into the stored row.
"""

from __future__ import annotations

import functools
import hashlib
import io
import re

import dash
import dash_ag_grid as dag
import pandas as pd
import pyarrow as pa
from dash import MATCH, Input, Output, State, dcc, html

from components.column_help import column_help
from components.grid_query import query_rows, records
from components.shared_store import shared_store
from isograph.errors import InputError

__all__ = ["clicked_row", "data_grid", "download_csv", "grid_id", "grid_source", "load_table", "register_callbacks",
           "serve_rows", "store_table", "table_store"]

_GRID, _SOURCE, _CSV, _DOWNLOAD, _NOTE = ("isograph-grid", "isograph-grid-source", "isograph-grid-csv",
                                          "isograph-grid-download", "isograph-grid-note")
_TOKEN = re.compile(r"[0-9a-f]{32}")
_ROW = "_row"  # the row's position in the stored table, as text: the grid's row ID
ROW_HEIGHT = 30  # px: one line of text
WRAPPED_ROW_HEIGHT = 58  # px: three lines of wrapped text (line height 16 px, assets/app.css)
LONG_TEXT = 60  # characters: columns with longer values wrap (full text on hover)
CHAR_PX = 7.5  # px per character at the grid's 13 px font, for column widths
_FLOAT_FORMAT = "params.value == null ? '' : d3.format('.4~g')(params.value)"


def _digits_note(frame: pd.DataFrame) -> str:
    """What the browser does to this table's numbers ("" without float columns, which it shows as they are)."""
    has_floats = any(pd.api.types.is_float_dtype(t) for t in frame.dtypes)
    return "; numbers shown to 4 significant digits (hover for the full value)" if has_floats else ""


def grid_id(name: str) -> dict:
    """The component ID of table ``name``'s grid (for ``cellClicked`` in page callbacks).

    Parameters
    ----------
    name : str
        The table's name, as given to :func:`data_grid`.

    Returns
    -------
    dict
    """
    return {"type": _GRID, "name": name}


def grid_source(name: str) -> dict:
    """The component ID of the store that names table ``name``'s stored rows (a State for :func:`clicked_row`).

    Parameters
    ----------
    name : str
        The table's name.

    Returns
    -------
    dict
    """
    return {"type": _SOURCE, "name": name}


def table_store(settings: dict) -> object:
    """The store of the app's tables (:func:`components.shared_store.shared_store` "tables").

    Parameters
    ----------
    settings : dict
        The app settings.

    Returns
    -------
    object
        ``get(key) -> bytes | None``, ``set(key, bytes)``, ``has(key)``.
    """
    return shared_store(settings, "tables", prefix="table")


def _ipc_bytes(frame: pd.DataFrame) -> bytes:
    frame = frame.reset_index(drop=True)
    for col in [c for c in frame.columns if pd.api.types.is_object_dtype(frame[c].dtype)]:
        try:
            pa.array(frame[col], from_pandas=True)
        except (pa.ArrowInvalid, pa.ArrowTypeError):  # mixed types: as text
            frame[col] = frame[col].map(lambda v: v if v is None or (isinstance(v, float) and v != v) else str(v))
    sink = io.BytesIO()
    table = pa.Table.from_pandas(frame, preserve_index=False)
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return sink.getvalue()


def store_table(frame: pd.DataFrame, settings: dict) -> str:
    """Store ``frame`` in the table store; return its key (a hash of its content).

    Parameters
    ----------
    frame : DataFrame
        The rows and columns the grid shows (the index is dropped).
    settings : dict
        The app settings (which store).

    Returns
    -------
    str
        32 hex digits.
    """
    data = _ipc_bytes(frame)
    token = hashlib.sha256(data).hexdigest()[:32]
    store = table_store(settings)
    if not store.has(token):
        store.set(token, data)
    return token


@functools.lru_cache(maxsize=32)
def _decoded(token: str, store: object) -> pd.DataFrame:
    """The stored table (content-addressed, so cached by key); KeyError (not cached) when it is not stored."""
    data = store.get(token)
    if data is None:
        raise KeyError(token)
    with pa.ipc.open_stream(data) as reader:
        frame = reader.read_all().to_pandas()
    return frame.assign(**{_ROW: [str(i) for i in range(len(frame))]})  # AG Grid's row IDs are strings


def load_table(token: object, settings: dict) -> pd.DataFrame | None:
    """The stored table ``token`` with a ``_row`` column (its row positions); None when it is not stored.

    Parameters
    ----------
    token : object
        A key from :func:`store_table` (anything else is refused).
    settings : dict
        The app settings.

    Returns
    -------
    DataFrame or None
        Shared between callers: do not modify it.

    Raises
    ------
    InputError
        ``token`` is not a table key.
    """
    if not isinstance(token, str) or not _TOKEN.fullmatch(token):
        raise InputError("this is not a table of the app")
    try:
        return _decoded(token, table_store(settings))
    except KeyError:
        return None


def _source_table(source: dict | None) -> pd.DataFrame | None:
    """:func:`load_table` of a grid's source store data (None when the table is no longer stored)."""
    from components.layout import settings

    return load_table((source or {}).get("grid_token"), settings())


def _column_def(table_id: str, name: str, column: pd.Series) -> dict:
    numeric = pd.api.types.is_numeric_dtype(column) and not pd.api.types.is_bool_dtype(column)
    present = column.dropna()
    longest = int(present.astype(str).str.len().max()) if len(present) else 0
    if pd.api.types.is_float_dtype(column):
        longest = min(longest, 10)  # shown to 4 significant digits: "-1.234e-300"
    width = round(min(max(longest, len(name) + 4), LONG_TEXT) * CHAR_PX + 28)  # the rows arrive later: size now
    spec = {"field": name, "headerName": name, "width": width,
            "filter": "agNumberColumnFilter" if numeric else "agTextColumnFilter"}
    if help_text := column_help(table_id, name):
        spec["headerTooltip"] = f"{name}: {help_text}"
    if numeric:
        spec["type"] = "rightAligned"
        if pd.api.types.is_float_dtype(column):
            spec["valueFormatter"] = {"function": _FLOAT_FORMAT}
            spec["tooltipField"] = name  # the full value on hover
    elif longest > LONG_TEXT:
        spec.update(wrapText=True, tooltipField=name, cellClass="isograph-long-text")
    return spec


def data_grid(table_id: str, frame: pd.DataFrame, *, columns: list[str], page_size: int = 15,
              csv_name: str | None = None, filter_model: dict | None = None) -> html.Div:
    """A sortable, filterable table whose rows the server sends a page at a time, with a full CSV download.

    Parameters
    ----------
    table_id : str
        The table's name: the ID of the wrapping Div (``#table_id`` in the page), the key of its column help
        (:data:`components.column_help.TABLE_HELP`) and the name in :func:`grid_id` / :func:`grid_source`.
    frame : DataFrame
        The table; the listed ``columns`` that exist are shown, in that order, at full precision.
    columns : list of str
        Columns to show.
    page_size : int, default 15
        Rows per page (and per request).
    csv_name : str, optional
        The CSV's file name without ``.csv`` (default ``table_id``); say the data set and module.
    filter_model : dict, optional
        AG Grid's filter model to start with (a shared URL's, :func:`components.url_state.filter_model`).

    Returns
    -------
    html.Div
        ID ``table_id``: the grid, a line saying which rows are drawn, and the CSV button.
    """
    from components.layout import settings

    shown = frame[[c for c in columns if c in frame.columns]]
    token = store_table(shown, settings())
    defs = [_column_def(table_id, c, shown[c]) for c in shown.columns]
    long_text = any(d.get("wrapText") for d in defs)
    row_height = WRAPPED_ROW_HEIGHT if long_text else ROW_HEIGHT
    grid = dag.AgGrid(
        id=grid_id(table_id), columnDefs=defs, rowModelType="infinite",
        defaultColDef={"sortable": True, "resizable": True, "floatingFilter": True, "cellDataType": False,
                       "minWidth": 90,
                       "filterParams": {"maxNumConditions": 2, "inRangeInclusive": True, "debounceMs": 300}},
        dashGridOptions={"pagination": True, "paginationPageSize": page_size, "paginationPageSizeSelector": False,
                         "cacheBlockSize": page_size, "maxBlocksInCache": 4, "rowHeight": row_height,
                         "tooltipShowDelay": 400},
        getRowId=f"params.data.{_ROW}",
        **({"filterModel": filter_model} if filter_model else {}),
        style={"height": f"{max(min(len(shown), page_size), 1) * row_height + 128}px"},  # no empty rows below
        className="isograph-grid",
    )
    n = len(shown)
    filename = re.sub(r"[^A-Za-z0-9._-]+", "_", csv_name or table_id).strip("._") or table_id
    return html.Div([
        dcc.Store(id=grid_source(table_id), data={"grid_token": token, "filename": f"{filename}.csv",
                                                  "rows": n}),
        grid,
        html.Div([
            html.Span(f"{n:,} rows{_digits_note(shown)}.",
                      id={"type": _NOTE, "name": table_id}, className="small text-muted me-2"),
            html.Button(f"CSV ({n:,} rows, full precision)", id={"type": _CSV, "name": table_id},
                        className="btn btn-sm btn-outline-secondary"),
            dcc.Download(id={"type": _DOWNLOAD, "name": table_id}),
        ], className="mt-1"),
    ], id=table_id, className="mb-4")


def register_callbacks(app: dash.Dash) -> None:
    """Attach the tables' callbacks to ``app``: rows on request (:func:`serve_rows`), the CSV (:func:`download_csv`).

    Parameters
    ----------
    app : dash.Dash
        The app.
    """
    def of(kind: str) -> dict:
        return {"type": kind, "name": MATCH}

    app.callback(Output(of(_GRID), "getRowsResponse"), Output(of(_NOTE), "children"),
                 Input(of(_GRID), "getRowsRequest"), State(of(_SOURCE), "data"), prevent_initial_call=True)(serve_rows)
    app.callback(Output(of(_DOWNLOAD), "data"), Input(of(_CSV), "n_clicks"), State(of(_SOURCE), "data"),
                 prevent_initial_call=True)(download_csv)


def serve_rows(request: dict | None, source: dict | None) -> tuple[dict, str]:
    """Answer a grid's ``getRowsRequest``: the requested rows of the sorted, filtered stored table.

    Parameters
    ----------
    request : dict or None
        ``startRow, endRow, sortModel, filterModel``.
    source : dict or None
        The data of :func:`grid_source`.

    Returns
    -------
    response : dict
        ``rowData`` (full precision) and ``rowCount`` (rows passing the filters).
    note : str
        Which rows are drawn, or why none are.
    """
    try:
        frame = _source_table(source)
        if frame is None:
            return ({"rowData": [], "rowCount": 0},
                    "This table is no longer in the server's cache: reload the page to rebuild it.")
        rows, count = query_rows(frame, request)
    except InputError as exc:
        return {"rowData": [], "rowCount": 0}, f"Cannot show these rows: {exc}"
    start = int((request or {}).get("startRow") or 0)
    shown = f"rows {start + 1:,}–{start + len(rows):,} of {count:,}" if rows else "no row passes the filters"
    total = len(frame)
    return ({"rowData": rows, "rowCount": count},
            f"Showing {shown}{f' (filtered from {total:,})' if count != total else ''}{_digits_note(frame)}.")


def download_csv(_clicks: int | None, source: dict | None) -> dict | None:
    """The whole stored table as CSV, full precision, named after the table, data set and module.

    Parameters
    ----------
    _clicks : int or None
        The CSV button's clicks.
    source : dict or None
        The data of :func:`grid_source`.

    Returns
    -------
    dict or None
        ``dcc.Download`` data; None when the table is not stored.
    """
    try:
        frame = _source_table(source)
    except InputError:
        return None
    if frame is None:
        return None
    return dcc.send_data_frame(frame.drop(columns=_ROW).to_csv, source["filename"], index=False)


def clicked_row(click: dict | None, source: dict | None) -> dict | None:
    """The stored row of a grid's ``cellClicked`` (every shown column, full precision), or None.

    Parameters
    ----------
    click : dict or None
        The grid's ``cellClicked`` (its ``rowId`` is the row's position in the stored table).
    source : dict or None
        The data of :func:`grid_source` (State).

    Returns
    -------
    dict or None
    """
    if not click or not source or click.get("rowId") is None:
        return None
    try:
        frame = _source_table(source)
        row = int(click["rowId"])
    except (InputError, TypeError, ValueError):
        return None
    if frame is None or not 0 <= row < len(frame):
        return None
    return records(frame.iloc[[row]].drop(columns=_ROW))[0]

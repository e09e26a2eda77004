"""AG Grid's sort and filter models applied to a DataFrame on the server (the grids' rows come on demand).

Pure functions: a grid with ``rowModelType="infinite"`` sends ``getRowsRequest`` = ``{startRow, endRow,
sortModel, filterModel}``; :func:`query_rows` answers with the requested slice of the sorted, filtered table.
Filters follow AG Grid's simple filters: text (``contains, notContains, equals, notEqual, startsWith,
endsWith, blank, notBlank``; case-insensitive, as AG Grid's default) and number (``equals, notEqual,
greaterThan, greaterThanOrEqual, lessThan, lessThanOrEqual, inRange`` (inclusive), ``blank, notBlank``),
each alone or two joined by ``AND``/``OR``. Sorting puts missing values last in either direction.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from isograph.errors import InputError

__all__ = ["apply_filter_model", "apply_sort_model", "query_rows", "records"]

_NUMBER_TESTS = {
    "equals": lambda v, a, b: v == a, "notEqual": lambda v, a, b: v != a,
    "greaterThan": lambda v, a, b: v > a, "greaterThanOrEqual": lambda v, a, b: v >= a,
    "lessThan": lambda v, a, b: v < a, "lessThanOrEqual": lambda v, a, b: v <= a,
    "inRange": lambda v, a, b: (v >= min(a, b)) & (v <= max(a, b)),
}
_TEXT_TESTS = {
    "contains": lambda s, a: s.str.contains(a, regex=False), "notContains": lambda s, a: ~s.str.contains(a, regex=False),
    "equals": lambda s, a: s == a, "notEqual": lambda s, a: s != a,
    "startsWith": lambda s, a: s.str.startswith(a), "endsWith": lambda s, a: s.str.endswith(a),
}


def _text(column: pd.Series) -> pd.Series:
    """The column as lower-case strings (booleans as ``true``/``false``, as the grid shows them); NaN stays NaN."""
    missing = column.isna().to_numpy()
    strings = column.map(lambda v: str(v).lower()).astype(object)
    strings[missing] = np.nan
    return strings


def _condition(column: pd.Series, condition: dict, name: str) -> np.ndarray:
    kind, test = condition.get("filterType", "text"), condition.get("type")
    missing = column.isna().to_numpy()
    if test == "blank":
        return missing
    if test == "notBlank":
        return ~missing
    if kind == "number":
        if test not in _NUMBER_TESTS:
            raise InputError(f"column {name}: unknown number filter {test!r}")
        values = pd.to_numeric(column, errors="coerce").to_numpy(dtype=float)
        try:
            low = float(condition.get("filter"))
            high = float(condition.get("filterTo", low) if condition.get("filterTo") is not None else low)
        except (TypeError, ValueError):
            return np.ones(len(column), dtype=bool)  # an empty filter box filters nothing
        with np.errstate(invalid="ignore"):
            return np.asarray(_NUMBER_TESTS[test](values, low, high), dtype=bool) & ~missing
    if test not in _TEXT_TESTS:
        raise InputError(f"column {name}: unknown text filter {test!r}")
    word = condition.get("filter")
    if word is None or str(word) == "":
        return np.ones(len(column), dtype=bool)
    text = _text(column)
    missing_passes = test in ("notContains", "notEqual")  # a missing value contains and equals nothing
    result = _TEXT_TESTS[test](text.fillna(""), str(word).lower()).to_numpy(dtype=bool)
    return np.where(text.isna().to_numpy(), missing_passes, result)


def apply_filter_model(frame: pd.DataFrame, model: dict | None) -> pd.DataFrame:
    """The rows of ``frame`` that pass AG Grid's ``filterModel``.

    Parameters
    ----------
    frame : DataFrame
        The whole table.
    model : dict or None
        ``{column: condition}``; a condition is ``{filterType, type, filter[, filterTo]}`` or ``{filterType,
        operator: "AND"|"OR", conditions: [condition, ...]}``.

    Returns
    -------
    DataFrame
        The passing rows, in ``frame``'s order (a view; index kept).

    Raises
    ------
    InputError
        A column that is not in the table or a filter type this module does not know.
    """
    if not model:
        return frame
    keep = np.ones(len(frame), dtype=bool)
    for name, spec in model.items():
        if name not in frame.columns:
            raise InputError(f"cannot filter on {name!r}: the table has no such column")
        parts = spec.get("conditions") or [spec]
        masks = [_condition(frame[name], part, name) for part in parts]
        joined = np.logical_or.reduce(masks) if str(spec.get("operator", "AND")).upper() == "OR" \
            else np.logical_and.reduce(masks)
        keep &= joined
    return frame[keep]


def apply_sort_model(frame: pd.DataFrame, model: list[dict] | None) -> pd.DataFrame:
    """``frame`` sorted by AG Grid's ``sortModel`` (``[{colId, sort: "asc"|"desc"}, ...]``, first key first).

    Parameters
    ----------
    frame : DataFrame
        The table.
    model : list of dict or None
        Sort keys; an empty model keeps the order.

    Returns
    -------
    DataFrame
        Stable sort; missing values last; text compared as strings.

    Raises
    ------
    InputError
        A column that is not in the table.
    """
    if not model:
        return frame
    for key in model:
        if key.get("colId") not in frame.columns:
            raise InputError(f"cannot sort on {key.get('colId')!r}: the table has no such column")
    order = np.arange(len(frame))
    for key in reversed(model):  # stable sorts, last key first
        column = frame[key["colId"]].iloc[order]
        numeric = pd.api.types.is_numeric_dtype(column) and not pd.api.types.is_bool_dtype(column)
        values = column if numeric else _text(column)
        ranked = values.reset_index(drop=True).sort_values(ascending=key.get("sort") != "desc", kind="stable",
                                                           na_position="last")
        order = order[ranked.index.to_numpy()]
    return frame.iloc[order]


def records(frame: pd.DataFrame) -> list[dict]:
    """Rows as JSON-ready dicts at full precision: missing values as None, numpy scalars as Python numbers.

    Parameters
    ----------
    frame : DataFrame
        Any table.

    Returns
    -------
    list of dict
    """
    return frame.astype(object).where(frame.notna(), None).to_dict("records")


def query_rows(frame: pd.DataFrame, request: dict | None) -> tuple[list[dict], int]:
    """The rows an infinite-model grid asked for: filtered, sorted, then ``[startRow, endRow)``.

    Parameters
    ----------
    frame : DataFrame
        The whole table.
    request : dict or None
        ``getRowsRequest``: ``startRow, endRow, sortModel, filterModel``.

    Returns
    -------
    rows : list of dict
        :func:`records` of the slice.
    count : int
        Rows that pass the filter (the grid's row count).
    """
    request = request or {}
    table = apply_sort_model(apply_filter_model(frame, request.get("filterModel")), request.get("sortModel"))
    start = max(int(request.get("startRow") or 0), 0)
    end = max(int(request.get("endRow") if request.get("endRow") is not None else start + 100), start)
    return records(table.iloc[start:end]), len(table)

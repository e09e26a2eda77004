"""AG Grid's sort and filter models applied on the server, checked against hand-picked rows and pandas."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from components.grid_query import apply_filter_model, apply_sort_model, query_rows, records
from isograph.errors import InputError


@pytest.fixture
def table() -> pd.DataFrame:
    return pd.DataFrame({
        "gene": ["DDOST", "wnt4", "ZBTB40", None, "Wnt4-AS"],
        "r": [0.93, -0.92, np.nan, 0.1, -0.5],
        "n": [200, 150, 180, 200, 90],
        "called": [True, False, True, False, True],
        "words": ["Exon gain; ORF is longer", "NMD sensitive", None, "Exon loss", "Exon gain"],
    }, index=[10, 11, 12, 13, 14])


def _number(kind: str, value: float, to: float | None = None) -> dict:
    return {"filterType": "number", "type": kind, "filter": value, **({"filterTo": to} if to is not None else {})}


@pytest.mark.parametrize(("condition", "kept"), [
    (_number("greaterThan", 0.1), [10]),
    (_number("greaterThanOrEqual", 0.1), [10, 13]),
    (_number("lessThan", 0), [11, 14]),
    (_number("lessThanOrEqual", -0.5), [11, 14]),
    (_number("equals", 0.1), [13]),
    (_number("notEqual", 0.1), [10, 11, 14]),  # a missing r passes no number test
    (_number("inRange", -0.5, 0.1), [13, 14]),  # inclusive at both ends
    (_number("inRange", 0.1, -0.5), [13, 14]),  # ends given the other way round
    ({"filterType": "number", "type": "blank"}, [12]),
    ({"filterType": "number", "type": "notBlank"}, [10, 11, 13, 14]),
    ({"filterType": "number", "type": "greaterThan", "filter": None}, [10, 11, 12, 13, 14]),  # an empty box
])
def test_number_filters(table, condition, kept):
    assert apply_filter_model(table, {"r": condition}).index.tolist() == kept


@pytest.mark.parametrize(("column", "kind", "word", "kept"), [
    ("gene", "contains", "WNT", [11, 14]),  # case-insensitive, as AG Grid's default
    ("gene", "notContains", "wnt", [10, 12, 13]),  # a missing value does not contain the word
    ("gene", "equals", "wnt4", [11]),
    ("gene", "notEqual", "wnt4", [10, 12, 13, 14]),
    ("gene", "startsWith", "z", [12]),
    ("gene", "endsWith", "-as", [14]),
    ("words", "contains", "exon gain", [10, 14]),
    ("words", "contains", "gain; orf", [10]),  # the word is text, never a pattern
    ("called", "equals", "true", [10, 12, 14]),  # booleans as the grid shows them
    ("n", "contains", "20", [10, 13]),
])
def test_text_filters(table, column, kind, word, kept):
    model = {column: {"filterType": "text", "type": kind, "filter": word}}
    assert apply_filter_model(table, model).index.tolist() == kept


def test_two_conditions_and_two_columns(table):
    either = {"r": {"filterType": "number", "operator": "OR",
                    "conditions": [_number("greaterThan", 0.5), _number("lessThan", -0.6)]}}
    assert apply_filter_model(table, either).index.tolist() == [10, 11]
    both = {"r": {"filterType": "number", "operator": "AND",
                  "conditions": [_number("lessThan", 0.5), _number("greaterThan", -0.6)]},
            "called": {"filterType": "text", "type": "equals", "filter": "TRUE"}}
    assert apply_filter_model(table, both).index.tolist() == [14]


def test_sorting_matches_pandas_with_missing_values_last(table):
    down = apply_sort_model(table, [{"colId": "r", "sort": "desc"}])
    assert down.index.tolist() == [10, 13, 14, 11, 12]
    up = apply_sort_model(table, [{"colId": "r", "sort": "asc"}])
    assert up.index.tolist() == [11, 14, 13, 10, 12]
    assert up.index.tolist() == table.sort_values("r", na_position="last").index.tolist()
    by_two = apply_sort_model(table, [{"colId": "n", "sort": "desc"}, {"colId": "gene", "sort": "asc"}])
    assert by_two.index.tolist() == [10, 13, 12, 11, 14]  # n = 200 twice: DDOST before the missing name
    words = apply_sort_model(table, [{"colId": "gene", "sort": "asc"}])
    assert words.index.tolist() == [10, 11, 14, 12, 13]  # compared as lower-case text; missing last


def test_query_rows_slices_after_filtering_and_sorting(table):
    rows, count = query_rows(table, {"startRow": 1, "endRow": 3, "sortModel": [{"colId": "n", "sort": "asc"}],
                                     "filterModel": {"called": {"filterType": "text", "type": "equals",
                                                                "filter": "true"}}})
    assert count == 3
    assert [r["gene"] for r in rows] == ["ZBTB40", "DDOST"]  # n 90, [180, 200]
    assert rows[0]["r"] is None and isinstance(rows[1]["n"], int) and rows[1]["r"] == 0.93
    assert query_rows(table, {"startRow": 10, "endRow": 20}) == ([], 5)


def test_full_precision_and_missing_values_as_null():
    frame = pd.DataFrame({"p": [1.2345678901234567e-300, np.nan], "s": ["a", None]})
    out = records(frame)
    assert out[0]["p"] == 1.2345678901234567e-300 and out[1] == {"p": None, "s": None}


def test_unknown_columns_and_filter_types_are_refused(table):
    with pytest.raises(InputError, match="no such column"):
        apply_filter_model(table, {"nope": _number("equals", 1)})
    with pytest.raises(InputError, match="unknown number filter"):
        apply_filter_model(table, {"r": {"filterType": "number", "type": "regex", "filter": 1}})
    with pytest.raises(InputError, match="cannot sort on"):
        apply_sort_model(table, [{"colId": "nope", "sort": "asc"}])

"""Tables whose rows the server sends a page at a time: stored once at full precision, queried on the server,
downloaded whole as a named CSV, every column explained; a cached view whose table was evicted is rebuilt."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
import pytest
from dash import dcc

from components import data_grid as data_grid_module
from components.column_help import TABLE_HELP
from components.data_grid import (
    clicked_row,
    data_grid,
    download_csv,
    grid_id,
    grid_source,
    load_table,
    serve_rows,
    table_store,
)


@pytest.fixture
def app_context(tmp_path):
    from app import create_app

    (tmp_path / "root").mkdir()
    app = create_app({"data_root": tmp_path / "root", "cache_dir": str(tmp_path / "jobs")})
    with app.server.app_context():
        yield app.server.config["ISOGRAPH"]


@pytest.fixture
def frame() -> pd.DataFrame:
    rng = np.random.default_rng(7)
    n = 40
    return pd.DataFrame({
        "gene_id": [f"G{i:03d}" for i in range(n)],
        "r": rng.normal(size=n) / 3,
        "qvalue": 10.0 ** -rng.uniform(0, 300, n),  # down to 1e-300: no digit may be lost
        "n_samples": rng.integers(10, 300, n),
        "switch_called": rng.random(n) < 0.5,
        "driver_kind": pd.Categorical(rng.choice(["switch", "abundance", "none"], n)),
        "switch_consequences": ["Exon gain; ORF is longer; 5'UTR is shorter; NMD insensitive; Biotype switch" * (i % 2)
                                for i in range(n)],
    }).assign(r=lambda t: t["r"].where(np.arange(n) % 7 != 3))  # some missing r


def _parts(div):
    store = next(c for c in div.children if isinstance(c, dcc.Store))
    grid = next(c for c in div.children if getattr(c, "id", None) == grid_id(div.id))
    return store.data, grid


def test_the_page_holds_no_rows_and_the_store_holds_them_exactly(app_context, frame):
    div = data_grid("module-gene-table", frame.assign(hidden=1), columns=[*frame.columns, "absent"],
                    csv_name="demo_M000_gene_drivers")
    source, grid = _parts(div)
    assert source["rows"] == 40 and source["filename"] == "demo_M000_gene_drivers.csv"
    assert "G017" not in str(div.to_plotly_json())  # the rows stay on the server
    stored = load_table(source["grid_token"], app_context)
    pd.testing.assert_frame_equal(stored.drop(columns="_row"), frame)  # full precision, dtypes kept, no extra column
    assert stored["_row"].tolist() == [str(i) for i in range(40)]
    again = _parts(data_grid("module-gene-table", frame, columns=list(frame.columns)))[0]
    assert again["grid_token"] == source["grid_token"]  # content-addressed: one entry per distinct table
    defs = {d["field"]: d for d in grid.columnDefs}
    assert [d["field"] for d in grid.columnDefs] == list(frame.columns)
    assert defs["r"]["filter"] == "agNumberColumnFilter" and "valueFormatter" in defs["r"]
    assert defs["n_samples"]["filter"] == "agNumberColumnFilter" and "valueFormatter" not in defs["n_samples"]
    assert defs["gene_id"]["filter"] == defs["switch_called"]["filter"] == "agTextColumnFilter"
    assert defs["switch_consequences"]["wrapText"] and defs["switch_consequences"]["tooltipField"]
    assert defs["r"]["headerTooltip"].startswith("r: Pearson r with the module eigengene")
    assert grid.rowModelType == "infinite" and grid.dashGridOptions["cacheBlockSize"] == 15


def test_rows_come_a_page_at_a_time_sorted_and_filtered_on_the_server(app_context, frame):
    source, _ = _parts(data_grid("module-gene-table", frame, columns=list(frame.columns)))
    request = {"startRow": 15, "endRow": 30, "sortModel": [{"colId": "qvalue", "sort": "asc"}],
               "filterModel": {"switch_called": {"filterType": "text", "type": "equals", "filter": "true"}}}
    response, note = serve_rows(request, source)
    expected = frame[frame["switch_called"]].sort_values("qvalue")
    assert response["rowCount"] == len(expected)
    assert [r["gene_id"] for r in response["rowData"]] == expected["gene_id"].iloc[15:30].tolist()
    assert [r["qvalue"] for r in response["rowData"]] == expected["qvalue"].iloc[15:30].tolist()  # exact
    assert note.startswith(f"Showing rows 16–{min(30, len(expected))} of {len(expected)} (filtered from 40)")
    first, _ = serve_rows({"startRow": 0, "endRow": 15}, source)
    assert len(first["rowData"]) == 15 and first["rowCount"] == 40
    bad, why = serve_rows({"startRow": 0, "endRow": 15, "sortModel": [{"colId": "nope", "sort": "asc"}]}, source)
    assert bad == {"rowData": [], "rowCount": 0} and "no such column" in why
    refused, why = serve_rows({"startRow": 0}, {"grid_token": "../../etc/passwd"})
    assert refused["rowData"] == [] and "not a table of the app" in why


def test_a_table_gone_from_the_cache_says_to_reload(app_context, frame):
    source, _ = _parts(data_grid("module-gene-table", frame, columns=list(frame.columns)))
    table_store(app_context)._cache.clear()  # evicted (diskcache's size limit) and not in this process's cache
    data_grid_module._decoded.cache_clear()
    response, note = serve_rows({"startRow": 0, "endRow": 15}, source)
    assert response["rowData"] == [] and "reload the page" in note


def test_the_csv_is_the_whole_table_at_full_precision_under_its_name(app_context, frame):
    source, _ = _parts(data_grid("structure-pairs-table", frame, columns=list(frame.columns),
                                 csv_name="demo_structure_pairs_Exon gain/../x"))
    assert source["filename"] == "demo_structure_pairs_Exon_gain_.._x.csv"  # no path, no spaces
    sent = download_csv(1, source)
    assert sent["filename"] == source["filename"]
    back = pd.read_csv(io.StringIO(sent["content"]), keep_default_na=True)
    assert back["qvalue"].tolist() == frame["qvalue"].tolist()  # every digit
    np.testing.assert_array_equal(back["r"].to_numpy(), frame["r"].to_numpy())
    assert back["gene_id"].tolist() == frame["gene_id"].tolist() and "_row" not in back


def test_a_clicked_cell_gives_its_stored_row(app_context, frame):
    source, _ = _parts(data_grid("module-gene-table", frame, columns=list(frame.columns)))
    row = clicked_row({"rowId": "17", "colId": "gene_id", "value": "G017"}, source)
    assert row["gene_id"] == "G017" and row["qvalue"] == frame["qvalue"].iloc[17]
    assert clicked_row({"rowId": "400"}, source) is None and clicked_row({"rowId": "x"}, source) is None
    assert clicked_row(None, source) is None and clicked_row({"rowId": "1"}, {"grid_token": "zz"}) is None


def test_every_column_of_every_table_is_explained():
    from components import module_biology
    from pages import module, sae, sae_feature, samples, structure

    tables = {"module-gene-table": module.GENE_COLUMNS, "module-tx-table": module.TX_COLUMNS,
              "structure-pairs-table": structure.PAIR_COLUMNS,
              "structure-enrichment-table": structure.ENRICHMENT_COLUMNS, "sae-features": sae.FEATURE_COLUMNS,
              "sae-concept-features": sae.CONCEPT_COLUMNS, "feature-sequences": sae_feature.SEQUENCE_COLUMNS,
              "feature-go-table": sae_feature.GO_COLUMNS, "feature-switches": sae_feature.SWITCH_COLUMNS,
              "module-hub-table": module_biology.HUB_COLUMNS, "module-trait-table": module_biology.TRAIT_COLUMNS,
              "module-go-table": module_biology.GO_COLUMNS, "samples-compare-table": samples.RESULT_COLUMNS}
    for table, columns in tables.items():
        missing = [c for c in columns if not TABLE_HELP[table].get(c)]
        assert not missing, f"{table}: no help for {missing}"
    assert "binomial" in TABLE_HELP["structure-enrichment-table"]["pvalue"]
    assert "hypergeometric" in TABLE_HELP["feature-go-table"]["pvalue"]
    assert "Pearson" in TABLE_HELP["module-tx-table"]["pvalue"]


def test_grid_ids_are_dicts_that_page_callbacks_can_name():
    assert grid_id("x") == {"type": "isograph-grid", "name": "x"}
    assert grid_source("x") == {"type": "isograph-grid-source", "name": "x"}


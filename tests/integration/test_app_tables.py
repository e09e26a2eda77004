"""The app's tables on the demo: whole (no longer cut to their first rows), named after what they hold, and the
same numbers as the files they come from."""

from __future__ import annotations

import pandas as pd

from tests.integration.conftest import grid_source_data as _source
from tests.integration.conftest import grid_table


def test_module_tables_are_the_explain_tables_at_full_precision(app, demo_root):
    from pages.module import GENE_COLUMNS, layout

    explain = demo_root / "demo" / "explain" / "M000"
    genes = pd.read_parquet(explain / "gene_driver_table.parquet")
    with app.server.app_context():
        view = layout("M000", dataset="demo")
        shown = grid_table(view, "module-gene-table")
        assert _source(view, "module-gene-table")["filename"] == "demo_M000_gene_drivers.csv"
        assert _source(view, "module-tx-table")["filename"] == "demo_M000_transcript_polarity.csv"
    assert len(shown) == len(genes) and list(shown.columns) == [c for c in GENE_COLUMNS if c in shown.columns]
    for column in ("switch_r", "switch_qvalue", "abundance_r", "switch_strength"):
        assert shown[column].tolist() == genes[column].tolist()  # every digit of the file


def test_the_sae_feature_table_is_whole(app, demo_root):
    from pages.sae import layout

    centrality = pd.read_parquet(demo_root / "demo" / "sae" / "ef8" / "layer_2" / "centrality.parquet")
    with app.server.app_context():
        view = layout(dataset="demo", layer="2", ef="8")
        shown = grid_table(view, "sae-features")
        assert _source(view, "sae-features")["filename"] == "demo_sae_ef8_layer2_features.csv"
    assert len(shown) == int((centrality["kind"] == "feature").sum())  # was cut to 300 rows
    assert shown["pagerank_rank"].is_monotonic_increasing

"""On a data set whose feature table is a .matrix folder (the demo), the module and gene views read only the
features they draw: the whole table is never built, and the columns read equal the table's."""

from __future__ import annotations

import pandas as pd
from dash import html


def test_views_never_build_the_whole_table(app, demo_root, monkeypatch):
    from isograph.dataset.datasets import Dataset, open_dataset
    from isograph.dataset.matrix import FeatureMatrix
    from pages.gene import layout as gene_layout
    from pages.module import layout as module_layout

    ds = open_dataset(demo_root, "demo")
    assert ds.paths["feature_table"].name == "features.matrix"
    whole = ds.feature_table()
    polarity = ds.explain.table("M000", "transcript_polarity_table")
    gene = polarity["gene_id"].iloc[0]
    ids = polarity.loc[polarity["gene_id"] == gene, "feature_id"].tolist()
    pd.testing.assert_frame_equal(ds.feature_columns([*ids, "nope"]), whole[ids], check_column_type=False)

    def refuse(self):
        raise AssertionError("the whole feature table was read")

    monkeypatch.setattr(FeatureMatrix, "frame", refuse)
    monkeypatch.setattr(Dataset, "feature_table", refuse)  # nor its cached copy
    with app.server.app_context():
        for page in (module_layout(module_id="M000", dataset="demo"), gene_layout(gene_id=gene, module="M000", dataset="demo")):
            text = str(html.Div(page).to_plotly_json())
            assert "page-error" not in text and "the whole feature table" not in text
            assert "module-gradient" in text or "gene-switchplot" in text

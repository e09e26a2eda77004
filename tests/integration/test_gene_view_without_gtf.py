"""A user's data set with no GTF: the gene view draws expression and usage, and says why there are no structures."""

from __future__ import annotations

import json

import pandas as pd
from dash import dcc

from isograph.explain import explain_module
from isograph.structure.models import MODEL_COLUMNS


def _graphs(component) -> dict:
    """Every dcc.Graph in a layout, by its figure card's name."""
    found = {}
    if isinstance(component, dcc.Graph):
        found[component.id["graph"] if isinstance(component.id, dict) else component.id] = component.figure
    children = getattr(component, "children", None)
    for child in children if isinstance(children, list | tuple) else [children]:
        if child is not None and not isinstance(child, str | int | float):
            found.update(_graphs(child))
    return found


def test_gene_view_of_a_data_set_without_a_gtf(small_dir, small_sim, tmp_path):
    from app import create_app

    root = tmp_path / "root"
    root.mkdir()
    folder = small_dir.rename(root / "small")
    explain_module(folder / "oracle_fit", small_sim.feature_table, small_sim.feature_meta, output_dir=folder / "explain")
    (folder / "dataset.json").write_text(json.dumps({"paths": {"fit": "oracle_fit"}}))  # no "gtf"
    app = create_app({"data_root": root, "cache_dir": str(tmp_path / "jobs")})
    from isograph.dataset.datasets import open_dataset
    from pages import gene as gene_page

    polarity = pd.read_parquet(folder / "explain" / "M000" / "transcript_polarity_table.parquet")
    gene = polarity["gene_id"].value_counts().index[0]  # a gene with several transcripts
    with app.server.test_request_context():
        models = open_dataset(root, "small").transcript_models(gene)
        page = gene_page.layout(gene_id=gene, module="M000", dataset="small")
    assert models.empty and list(models.columns) == list(MODEL_COLUMNS)
    figures = _graphs(page)
    assert "gene-switchplot" in figures, "the gene page did not draw (was: KeyError 'transcript_id', an HTTP 500)"
    switch = figures["gene-switchplot"]
    notes = [a.text for a in switch.layout.annotations]
    assert "no transcript models for these isoforms: the data set has no GTF, or its GTF lacks them" in notes
    usage = [t for t in switch.data if t.name in ("low-module samples", "high-module samples")]
    assert len(usage) == 2  # the usage panel still drawn, one bar per isoform and group
    assert set(usage[0].x) <= set(polarity.loc[polarity["gene_id"] == gene, "feature_id"].astype(str)) and len(usage[0].x) >= 2

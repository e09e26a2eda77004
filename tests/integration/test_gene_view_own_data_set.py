"""A user's own data set: no GTF, and its feature table in any layout the project reads. The gene view draws
expression and usage, says why there are no structures, and draws the same numbers from every layout."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pandas as pd
from dash import dcc

from isograph.dataset.feature_formats import convert_features
from isograph.explain import explain_module
from isograph.structure.models import MODEL_COLUMNS

#: data set folder -> its feature table (converted from the simulated parquet)
LAYOUTS = {"small": "features.parquet", "small_h5ad": "study.h5ad", "small_matrix": "features.matrix",
           "small_tsv": "features.tsv"}


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


def test_gene_view_of_a_data_set_without_a_gtf_from_every_layout(small_dir, small_sim, tmp_path):
    from app import create_app

    root = tmp_path / "root"
    root.mkdir()
    folder = small_dir.rename(root / "small")
    explain_module(folder / "oracle_fit", small_sim.feature_table, small_sim.feature_meta, output_dir=folder / "explain")
    for name, table in LAYOUTS.items():
        if name != "small":
            shutil.copytree(folder, root / name, ignore=shutil.ignore_patterns("features.parquet"))
            convert_features(folder / "features.parquet", root / name / table)
        (root / name / "dataset.json").write_text(json.dumps({"paths": {"fit": "oracle_fit", "feature_table": table}}))
    app = create_app({"data_root": root, "cache_dir": str(tmp_path / "jobs")})  # no "gtf" in any of them
    from isograph.dataset.datasets import open_dataset
    from pages import gene as gene_page

    polarity = pd.read_parquet(folder / "explain" / "M000" / "transcript_polarity_table.parquet")
    gene = polarity["gene_id"].value_counts().index[0]  # a gene with several transcripts
    drawn = {}
    for name in LAYOUTS:
        with app.server.test_request_context():
            models = open_dataset(root, name).transcript_models(gene)
            page = gene_page.layout(gene_id=gene, module="M000", dataset=name)
        assert models.empty and list(models.columns) == list(MODEL_COLUMNS)
        figures = _graphs(page)
        assert "gene-switchplot" in figures, f"{name}: the gene page did not draw (was: KeyError 'transcript_id')"
        switch = figures["gene-switchplot"]
        notes = [a.text for a in switch.layout.annotations]
        assert "no transcript models for these isoforms: the data set has no GTF, or its GTF lacks them" in notes
        usage = [t for t in switch.data if t.name in ("low-module samples", "high-module samples")]
        assert len(usage) == 2  # the usage panel still drawn, one bar per isoform and group
        assert set(usage[0].x) <= set(polarity.loc[polarity["gene_id"] == gene, "feature_id"].astype(str))
        assert len(usage[0].x) >= 2
        drawn[name] = [(tuple(t.x), np.asarray(t.y, dtype=float)) for t in usage]
        markers = [t for t in figures["gene-usage"].data if t.mode == "markers"]  # usage along the eigengene
        assert len(markers) >= 2 and all(len(t.y) == len(markers[0].y) > 0 for t in markers)
        drawn[name] += [(("gradient", t.name), np.asarray(t.y, dtype=float)) for t in markers]
    for name in LAYOUTS:  # the same numbers whatever the layout (the oracle: the simulated parquet)
        assert [label for label, _ in drawn[name]] == [label for label, _ in drawn["small"]], name
        for (_, y), (_, y0) in zip(drawn[name], drawn["small"]):
            np.testing.assert_allclose(y, y0, rtol=1e-12, equal_nan=True, err_msg=name)

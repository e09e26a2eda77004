"""The gene view's language-model part on the demo: a feature drawn along each isoform (a background job,
clicked through in Chromium) and the variant box limited to the gene's transcripts."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from dash import html
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys


def _text(component) -> str:
    return str(html.Div(component).to_plotly_json())


def _switch_gene(demo_root) -> tuple[str, list[str]]:
    """A called switch of M000 and its transcripts as the switch plot draws them (by Δ usage)."""
    explain = demo_root / "demo" / "explain" / "M000"
    genes = pd.read_parquet(explain / "gene_driver_table.parquet")
    gene = genes.loc[genes["switch_called"], "gene_id"].iloc[0]
    polarity = pd.read_parquet(explain / "transcript_polarity_table.parquet")
    return gene, polarity[polarity["gene_id"] == gene]["transcript_id"].astype(str).tolist()


def test_the_gene_view_draws_a_feature_along_each_isoform(app, demo_root):
    """The job's figure holds, per isoform, the activation the compute layer gives for the same feature; the
    words name the run, how the feature was chosen and each isoform's largest activation."""
    from components.gene_features import feature_track_job
    from isograph.dataset.datasets import open_dataset
    from isograph.sae.runs import load_run_models
    from isograph.sae.transcript_track import transcript_activations
    from pages.gene import layout

    gene, _ = _switch_gene(demo_root)
    context = {"dataset": "demo", "module": "M000", "gene": gene}
    reports = []
    with app.server.app_context():
        page = _text(layout(gene_id=gene, module="M000", dataset="demo"))
        assert "gene-track-run" in page and "gene-variant-run" in page and "ef8/layer_2" in page
        words, card = feature_track_job(reports.append, context, "ef8/layer_2", 17, True)
        default_words, _ = feature_track_job(lambda _r: None, context, "ef8/layer_2", None, True)
    assert reports[-1] == (100, "done") and [r[0] for r in reports] == sorted(r[0] for r in reports)
    text = _text(words)
    assert "Feature 17 of run ef8/layer_2 (as entered" in text and "not a test" in text
    assert "differs most between these isoforms" in _text(default_words)
    figure = card.children[1].children[0].children.figure
    lines = [t for t in figure.data if t.fill == "tozeroy"]
    ds = open_dataset(demo_root, "demo")
    run = ds.sae.runs()[0]
    lm, sae = load_run_models(run)
    models = ds.transcript_models(gene)
    models = models[models["transcript_id"].isin([t.name for t in lines])]
    tokens, _ = transcript_activations(lm, sae, ds.sae.transcripts(), models, layer_idx=2, feature=17)
    for line in lines:
        drawn = np.array([y for y, h in zip(line.y, line.hovertext) if h is not None], dtype=float)
        expected = tokens.loc[tokens["transcript_id"] == line.name, "activation"].to_numpy()
        np.testing.assert_allclose(drawn, expected, rtol=1e-6)
        assert f"{line.name} {expected.max():.3g}" in text


@pytest.mark.parametrize("feature, words", [(512, "feature (0..511)"), (-1, "feature (0..511)"), (2.5, "whole number")])
def test_a_feature_outside_the_sae_is_refused_with_its_range(app, demo_root, feature, words):
    from components.gene_features import feature_track_job

    gene, _ = _switch_gene(demo_root)
    with app.server.app_context():
        alert, card = feature_track_job(lambda _r: None, {"dataset": "demo", "module": "M000", "gene": gene},
                                        "ef8/layer_2", feature, True)
    assert card is None and "gene-track-error" in _text(alert) and words in _text(alert)


def test_the_gene_variant_box_takes_only_the_genes_transcripts(app, demo_root):
    from isograph.sae.sequences import read_fasta
    from pages.gene import run_gene_variant

    gene, transcripts = _switch_gene(demo_root)
    sequences = read_fasta(demo_root / "demo" / "transcripts.fa.gz").set_index("seq_id")["sequence"]
    tid = transcripts[0]
    base = sequences[tid][0]
    alt = "A" if base != "A" else "C"
    context = {"dataset": "demo", "module": "M000", "gene": gene}
    with app.server.app_context():
        result = _text(run_gene_variant(1, f"{tid}:n.1{base}>{alt}", context, "ef8/layer_2", 17))
        assert "gene-variant-summary" in result and f"{base} → {alt}" in result and "feature 17 max activation" in result
        other = _text(run_gene_variant(1, "TCONS_00000001:n.1A>G", context, "ef8/layer_2", None))
        assert "gene-variant-error" in other and f"is not a transcript of gene {gene}" in other
        big = _text(run_gene_variant(1, f"{tid}:n.1{base}>{alt}", context, "ef8/layer_2", 900))
        assert "feature 900 is out of range" in big and "0..511" in big


def test_draw_a_feature_track_in_the_browser(dash_duo, ui, app, demo_root):
    """Open a switching gene, type a feature, click Draw: the progress bar ends at done, one panel per drawn
    isoform appears with the words; an out-of-range feature is refused in words naming the range."""
    gene, _ = _switch_gene(demo_root)
    dash_duo.start_server(app)
    dash_duo.driver.get(f"{dash_duo.server_url}/genes/{gene}?module=M000")
    box = ui.settled(lambda: dash_duo.find_element("#gene-track-feature"), timeout=30)
    box.send_keys("17")
    ui.click(dash_duo.find_element("#gene-track-run"))
    summary = dash_duo.wait_for_element("#gene-track-summary", timeout=60).text
    assert summary.startswith("Feature 17 of run ef8/layer_2 (as entered")
    panels = ui.wait(lambda: ui.graph("gene-track").find_elements(By.CSS_SELECTOR, ".scatterlayer .trace"))
    assert len(panels) >= 2
    assert ui.wait(lambda: dash_duo.find_element("#gene-track-run").is_enabled())
    box.send_keys(Keys.CONTROL, "a")
    box.send_keys("5000")
    ui.click(dash_duo.find_element("#gene-track-run"))
    assert "0..511" in dash_duo.wait_for_element("#gene-track-error", timeout=60).text
    assert dash_duo.get_logs() == []

"""Figure factories: the data in the traces (CI bounds, colours by sign, ordering), not just a figure."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from isograph.explain import explain_module
from isograph.figures.common import NEGATIVE, POSITIVE, lighter
from isograph.figures.explain import (
    driver_barplot,
    driver_heatmap,
    eigengene_overview,
    high_low_contrast,
    usage_gradient,
)
from isograph.figures.structure import transcript_structures
from isograph.structure.gtf import read_gtf
from isograph.structure.models import transcript_models


@pytest.fixture(scope="module")
def module(_written, small_sim):
    sim = small_sim
    res = explain_module(_written["small"] / "oracle_fit", sim.feature_table, sim.feature_meta, module_ids=["M000"])
    return res["M000"], sim


def test_driver_barplot_bars_ci_colours_order():
    drivers = pd.DataFrame({
        "gene_id": ["G1", "G2", "G3", "G4"], "gene_name": ["A", None, "C", "D"], "r": [0.9, -0.8, 0.5, np.nan],
        "qvalue": [1e-5, 1e-4, 0.01, np.nan], "n_samples": [50, 48, 50, 0],
        "ci_low": [0.83, -0.88, 0.26, np.nan], "ci_high": [0.94, -0.67, 0.68, np.nan],
    })
    fig = driver_barplot(drivers, top_n=3)
    pos, neg = fig.data
    assert (pos.name, neg.name) == ("r > 0", "r < 0")
    assert pos.marker.color == POSITIVE and neg.marker.color == NEGATIVE
    assert list(pos.y) == ["A", "C"] and list(neg.y) == ["G2"]  # gene name, else gene ID; NaN r dropped
    np.testing.assert_allclose(pos.x, [0.9, 0.5])
    np.testing.assert_allclose(pos.x + pos.error_x.array, [0.94, 0.68])  # upper CI bound of |r|
    np.testing.assert_allclose(pos.x - pos.error_x.arrayminus, [0.83, 0.26])
    np.testing.assert_allclose(neg.x + neg.error_x.array, [0.88])  # r = -0.8, CI [-0.88, -0.67] -> |r| in [0.67, 0.88]
    np.testing.assert_allclose(neg.x - neg.error_x.arrayminus, [0.67])
    assert list(fig.layout.yaxis.categoryarray) == ["C", "G2", "A"]  # strongest at the top
    assert pos.customdata[0][0] == "G1"  # a click carries the gene ID


def test_driver_heatmap_rows_and_sample_order(module):
    res, sim = module
    fig = driver_heatmap(res.transcript_polarity_table, sim.feature_table, res.eigengene, top_n=4)
    heat = fig.data[0]
    eig = res.eigengene.sort_values()
    assert list(heat.x) == list(eig.index)  # samples by increasing eigengene
    pol = res.transcript_polarity_table
    top = pol.sort_values("r", ascending=False)["feature_id"].iloc[0]
    assert heat.y[-1] == top  # the top row (drawn last) is the largest r; rows are feature IDs (a click's y)
    assert list(fig.layout.yaxis.tickvals) == list(heat.y)
    names = dict(zip(pol["feature_id"], pol["gene_name"]))
    assert fig.layout.yaxis.ticktext[-1] in (top, f"{top} ({names[top]})")  # labelled with the gene name
    z = np.asarray(heat.z, dtype=float)
    np.testing.assert_allclose(np.nanmean(z, axis=1), 0, atol=1e-9)  # z-scored per row
    assert np.corrcoef(np.nan_to_num(z[-1]), np.arange(z.shape[1]))[0, 1] > 0.3  # rises with the eigengene


def test_usage_gradient_points_and_trends(module):
    res, sim = module
    fig = usage_gradient(res.transcript_polarity_table, sim.feature_table, res.eigengene, top_n=2)
    markers = [t for t in fig.data if t.mode == "markers"]
    trends = [t for t in fig.data if t.mode == "lines"]
    assert len(markers) == len(trends) >= 4
    first = res.transcript_polarity_table.iloc[0]
    assert markers[0].name == first["feature_id"] and markers[0].customdata is None  # no ID repeated per point
    np.testing.assert_allclose(markers[0].x, res.eigengene.to_numpy())
    rising = [t for t in trends if t.name.startswith(markers[0].name)][0]
    assert rising.y[-1] > rising.y[0] and rising.name.endswith("(r > 0)")  # the most positive transcript rises
    # every transcript is named in the legend, in its own colour (its points and its trend alike)
    assert sorted(t.name.split(" (r")[0] for t in trends if t.showlegend) == sorted(t.name for t in markers)
    for marker, trend in zip(markers, trends):
        assert marker.marker.color == trend.line.color
    for gene in res.transcript_polarity_table["gene_id"].unique()[:2]:
        ids = set(res.transcript_polarity_table.loc[res.transcript_polarity_table["gene_id"] == gene, "feature_id"])
        colours = [t.line.color for t in trends if t.name.split(" (r")[0] in ids]
        assert len(set(colours)) == len(colours)  # distinct hues within a gene


def test_eigengene_overview_groups(module):
    res, _ = module
    frame = pd.DataFrame({"sample_id": res.eigengene.index, "eigengene": res.eigengene.to_numpy(),
                          "group": np.where(res.eigengene.index.isin(res.high_samples), "high", "low")})
    fig = eigengene_overview(frame)
    high = next(t for t in fig.data if t.name == "high")
    assert min(high.y) >= max(next(t for t in fig.data if t.name == "low").y)
    assert high.marker.color == POSITIVE


def test_high_low_contrast_interval():
    from scipy import stats

    table = pd.DataFrame({"feature_id": ["T1", "T2"], "delta": [-0.2, 0.3], "se": [0.05, 0.1], "df": [30.0, 40.0],
                          "mean_high": [0.4, 0.6], "mean_low": [0.6, 0.3], "pvalue": [0.001, 0.004]})
    trace = high_low_contrast(table).data[0]
    assert list(trace.y) == ["T2", "T1"] and list(trace.marker.color) == [POSITIVE, NEGATIVE]
    np.testing.assert_allclose(trace.error_x.array, [stats.t.ppf(0.975, 40) * 0.1, stats.t.ppf(0.975, 30) * 0.05])


def test_transcript_glyphs_cds_taller_than_utr_and_minus_reversed(tmp_path):
    text = "\n".join([
        'chr1\tt\texon\t100\t200\t.\t-\t.\tgene_id "G"; transcript_id "T1";',
        'chr1\tt\texon\t300\t400\t.\t-\t.\tgene_id "G"; transcript_id "T1";',
        'chr1\tt\tCDS\t150\t200\t.\t-\t0\tgene_id "G"; transcript_id "T1";',
        'chr1\tt\tCDS\t300\t350\t.\t-\t0\tgene_id "G"; transcript_id "T1";',
    ]) + "\n"
    (tmp_path / "g.gtf").write_text(text)
    models = transcript_models(read_gtf(tmp_path / "g.gtf"))
    fig = transcript_structures(models, r=pd.Series({"T1": 0.7}))
    heights = sorted({round(s.y1 - s.y0, 2) for s in fig.layout.shapes})
    assert heights == [0.25, 0.5]  # UTR and CDS boxes
    cds = [s for s in fig.layout.shapes if round(s.y1 - s.y0, 2) == 0.5]
    assert sorted((s.x0 + 0.5, s.x1 - 0.5) for s in cds) == [(150, 200), (300, 350)]
    assert fig.layout.xaxis.autorange == "reversed"  # minus strand drawn 5'->3'
    arrows = [t for t in fig.data if t.mode == "markers" and t.marker.symbol]
    assert arrows[0].marker.symbol == "triangle-left"
    assert fig.layout.yaxis.ticktext[0] == "T1 (r = +0.70)"


def test_driver_barplot_by_channel_marks_called_switches():
    """Switch channel: called switches in full colour, others lighter (the legend shows each as drawn);
    the abundance channel uses its own r, q and CI; the hover names the channel."""
    drivers = pd.DataFrame({
        "gene_id": ["G1", "G2", "G3"], "gene_name": ["A", "B", "C"], "n_samples": [50, 50, 50],
        "r": [0.2, 0.9, -0.3], "qvalue": [0.1, 1e-9, 0.01], "ci_low": [0.0, 0.8, -0.5], "ci_high": [0.4, 0.95, -0.1],
        "switch_r": [0.8, 0.1, -0.7], "switch_qvalue": [1e-6, 0.5, 1e-4], "switch_ci_low": [0.7, -0.1, -0.8],
        "switch_ci_high": [0.9, 0.3, -0.5], "switch_called": [True, False, False],
        "abundance_r": [0.2, 0.9, -0.3], "abundance_qvalue": [0.1, 1e-9, 0.01], "abundance_ci_low": [0.0, 0.8, -0.5],
        "abundance_ci_high": [0.4, 0.95, -0.1],
    })
    fig = driver_barplot(drivers, channel="switch")
    traces = {t.name: t for t in fig.data}
    assert set(traces) == {"r > 0, called switch", "r > 0, not called", "r < 0, not called"}
    assert traces["r > 0, called switch"].marker.color == POSITIVE
    assert traces["r < 0, not called"].marker.color == lighter(NEGATIVE, 0.65)
    assert list(traces["r > 0, called switch"].x) == [0.8] and "switch score" in traces["r > 0, called switch"].hovertemplate
    assert fig.layout.yaxis.categoryarray[-1] == "A"  # strongest |switch r| on top
    abundance = driver_barplot(drivers, channel="abundance", alpha=0.05)
    names = {t.name: list(t.y) for t in abundance.data}
    assert names == {"r > 0, q ≤ 0.05": ["B"], "r > 0, q > 0.05": ["A"], "r < 0, q ≤ 0.05": ["C"]}
    assert "abundance score" in abundance.data[0].hovertemplate


def test_the_module_figure_for_a_paper_is_one_journal_page_naming_every_trace(module):
    """The module's multi-panel figure at double column: one page 183 mm wide (within 1 mm) and no taller than
    a journal page (247 mm); panels A–C; the legend names every transcript the gradients draw and the barplot's
    classes (the usage gradient's legend alone was once 14 of 18)."""
    import re
    import shutil
    import subprocess

    from isograph.figures.panels import module_paper_figure
    from isograph.figures.publication import publication_figure
    from isograph.figures.render import chrome_path, figure_bytes

    if chrome_path() is None or shutil.which("pdfinfo") is None:
        pytest.skip("needs chromium and poppler-utils (installed by .ci/run)")
    res, sim = module
    paper = module_paper_figure(res.gene_driver_table, res.transcript_polarity_table, sim.feature_table, res.eigengene,
                                module_id="M000")
    fig, width, height = publication_figure(paper, "double")
    pdf = figure_bytes(fig, "pdf", width=width, height=height, scale=1.0)
    info = subprocess.run(["pdfinfo", "-"], input=pdf, capture_output=True, check=True).stdout.decode()
    size = re.search(r"Page size:\s+([\d.]+) x ([\d.]+)", info)
    assert re.search(r"^Pages:\s+1$", info, re.MULTILINE)
    assert abs(float(size.group(1)) * 25.4 / 72 - 183) <= 1 and float(size.group(2)) * 25.4 / 72 <= 247
    text = subprocess.run(["pdftotext", "-", "-"], input=pdf, capture_output=True, check=True).stdout.decode()
    named = {t.name for t in fig.data if t.name and t.showlegend is not False}
    assert len(named) >= 8 and all(name.split(" (")[0] in text for name in named)
    assert all(f"{letter}  " in text or f"{letter} " in text for letter in "ABC")

"""The switchPlot figure: one colour per isoform in every panel, compressed introns, q stars, hidden isoforms."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from isograph.figures.switch_plot import ISOFORM_COLOURS, compress_introns, q_stars, switch_plot


def _models(strand: str = "+") -> pd.DataFrame:
    base = {"gene_id": "G", "seqname": "chr1", "strand": strand, "coding": True, "biotype": "coding", "nmd": False}
    return pd.DataFrame([
        {**base, "transcript_id": "T1", "exon_starts": [100, 5000, 9000], "exon_ends": [199, 5099, 9199],
         "cds_start": 150, "cds_end": 9100, "length": 400, "orf_length": 300},
        {**base, "transcript_id": "T2", "exon_starts": [100, 9000], "exon_ends": [199, 9199],
         "cds_start": 150, "cds_end": 9100, "length": 300, "orf_length": 200},
        {**base, "transcript_id": "T3", "exon_starts": [100], "exon_ends": [400],
         "cds_start": 150, "cds_end": 300, "length": 301, "orf_length": 150},
    ])


def _inputs():
    rng = np.random.default_rng(0)
    samples = [f"S{i}" for i in range(20)]
    eig = pd.Series(np.linspace(-1, 1, 20), index=samples)
    t1 = 0.3 + 0.4 * (eig.to_numpy() > 0) + rng.normal(0, 0.01, 20)
    t3 = np.full(20, 0.02)  # below 5% mean usage: left out
    usage = pd.DataFrame({"f1": t1, "f2": 1 - t1 - t3, "f3": t3}, index=samples)
    transcripts = pd.DataFrame({"feature_id": ["f1", "f2", "f3"], "transcript_id": ["T1", "T2", "T3"],
                                "feature_type": "transcript_usage", "r": [0.9, -0.9, 0.0],
                                "qvalue": [1e-5, 0.004, 0.6], "delta_usage": [0.4, -0.4, 0.0]})
    expression = pd.DataFrame({"T1": 5 + eig, "T2": 5 - eig, "T3": np.zeros(20)}, index=samples)
    return transcripts, usage, eig, samples[:10], samples[10:], expression


def test_q_stars():
    assert [q_stars(q) for q in (1e-4, 0.005, 0.03, 0.2, np.nan)] == ["***", "**", "*", "ns", "ns"]


def test_compressed_introns_keep_exon_lengths():
    f = compress_introns(_models(), intron_fraction=0.04)
    exonic = (400 - 100 + 1) + 100 + 200  # the union of the exons: 100-400, 5000-5099, 9000-9199
    x = f([99.5, 400.5, 4999.5, 5099.5, 8999.5, 9199.5])
    assert x[1] - x[0] == pytest.approx(301) and x[3] - x[2] == pytest.approx(100) and x[5] - x[4] == pytest.approx(200)
    assert x[2] - x[1] == pytest.approx(0.04 * exonic) and x[4] - x[3] == pytest.approx(0.04 * exonic)


def test_one_colour_per_isoform_in_every_panel_and_a_note_for_hidden_ones():
    transcripts, usage, eig, low, high, expression = _inputs()
    fig = switch_plot(_models(), transcripts, usage, eig, low, high, expression=expression)
    legend = {t.name: t.marker.color for t in fig.data if t.showlegend is not False and t.name in ("T1", "T2", "T3")}
    assert legend == {"T1": ISOFORM_COLOURS[0], "T2": ISOFORM_COLOURS[1]}  # by delta usage, T3 left out
    usage_bars = [t for t in fig.data if t.type == "bar" and t.xaxis == "x4"]
    high_bar = next(t for t in usage_bars if t.name.startswith("high"))
    assert list(high_bar.x) == ["T1", "T2"] and list(high_bar.marker.color) == [ISOFORM_COLOURS[0], ISOFORM_COLOURS[1]]
    assert high_bar.y[0] == pytest.approx(usage.loc[high, "f1"].mean())
    texts = " ".join(a.text for a in fig.layout.annotations)
    assert "***<br>Δ +0.40" in texts and "**<br>Δ -0.40" in texts
    assert "1 isoform(s) with mean usage below 5% not shown: T3" in texts
    exon_fills = {s.fillcolor for s in fig.layout.shapes}
    assert ISOFORM_COLOURS[0] in exon_fills and ISOFORM_COLOURS[1] in exon_fills  # CDS in the isoform's colour


def test_minus_strand_is_drawn_5_to_3_and_no_counts_says_so():
    transcripts, usage, eig, low, high, _ = _inputs()
    fig = switch_plot(_models("-"), transcripts, usage, eig, low, high, expression=None, compress=False)
    arrows = [t for t in fig.data if t.type == "scatter" and t.mode == "markers" and t.marker.symbol == "triangle-right"]
    assert arrows  # arrows point right: the axis runs 5'->3'
    t1_shapes = [s for s in fig.layout.shapes if s.y0 > -0.5]  # the first row: T1
    rightmost = max(t1_shapes, key=lambda s: max(s.x0, s.x1))
    # the genomically first bases (100-149, the 3' UTR of a minus-strand transcript) are drawn at the right end
    assert max(rightmost.x0, rightmost.x1) == pytest.approx(100 + 9199 - 99.5)
    assert abs(rightmost.x1 - rightmost.x0) == pytest.approx(50) and rightmost.y1 - rightmost.y0 == pytest.approx(0.26)
    assert "no counts in this data set" in " ".join(a.text for a in fig.layout.annotations)


def test_the_feature_track_draws_each_isoform_in_its_switch_plot_colour_without_crossing_introns():
    from isograph.figures.feature_track import isoform_feature_track
    from isograph.figures.switch_plot import isoform_colours, shown_isoforms

    transcripts, usage, *_ = _inputs()
    shown, hidden = shown_isoforms(transcripts, usage)
    assert shown["tid"].tolist() == ["T1", "T2"] and hidden == ["T3"]  # as the switch plot draws them
    colours = isoform_colours(shown["tid"].tolist())
    # T1: 3 tokens in exon 1, 2 in exon 2, 1 in exon 3; T2: 2 + 2
    tokens = pd.DataFrame({
        "transcript_id": ["T1"] * 6 + ["T2"] * 4, "token": ["AAAAAA"] * 10,
        "tx_start": [0, 6, 12, 100, 106, 200, 0, 6, 100, 106], "tx_end": [6, 12, 18, 106, 112, 206, 6, 12, 106, 112],
        "genomic": [102, 108, 114, 5002, 5008, 9002, 102, 108, 9002, 9008], "region": "CDS",
        "activation": [0.0, 1.5, 0.2, 3.0, 0.0, 0.7, 0.1, 0.0, 2.0, 0.4]})
    fig = isoform_feature_track(_models(), tokens, colours, feature=4)
    lines = [t for t in fig.data if t.fill == "tozeroy"]
    assert [t.name for t in lines] == ["T1", "T2"] and [t.line.color for t in lines] == list(colours.values())
    t1 = lines[0]
    assert list(t1.y) == [0.0, 0.0, 1.5, 0.2, 0.0, None, 0.0, 3.0, 0.0, 0.0, None, 0.0, 0.7, 0.0, None]
    assert list(t1.x).count(None) == 3  # one closed piece per exon
    assert fig.layout.yaxis2.range[1] == pytest.approx(3.0 * 1.08) == fig.layout.yaxis3.range[1]  # one scale
    assert "max 3" in fig.layout.yaxis2.title.text and fig.layout.yaxis2.title.font.color == colours["T1"]
    legend = [t.name for t in fig.data if t.showlegend is not False and t.name]
    assert legend == ["T1", "T2"]

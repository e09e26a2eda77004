"""Figures of /structure and /sae: what is drawn where, checked on hand-built inputs."""

from __future__ import annotations

import numpy as np
import pandas as pd

from components.sae_graph import graph_elements
from isograph.figures.common import REGION_COLOURS
from isograph.figures.sae import activation_histogram, intervention_side_by_side, sequence_heat, training_curves
from isograph.figures.structure import UNIQUE_EXON, consequence_summary, switch_pair


def _model(tid, exons, *, strand="+", cds=(120, 330), nmd=False):
    starts, ends = zip(*exons)
    return pd.Series({"transcript_id": tid, "seqname": "chr1", "strand": strand, "exon_starts": np.array(starts),
                      "exon_ends": np.array(ends), "coding": True, "cds_start": cds[0], "cds_end": cds[1],
                      "nmd": nmd, "stop_to_last_junction": 120.0 if nmd else np.nan, "biotype": "coding",
                      "length": sum(e - s + 1 for s, e in exons), "orf_length": 150})


def test_switch_pair_highlights_the_exon_only_one_transcript_has_and_the_ptc():
    t1 = _model("T1", [(100, 200), (300, 400)])
    t2 = _model("T2", [(100, 200), (240, 260), (300, 400)], nmd=True)
    fig = switch_pair(t1, t2, consequences="Exon gain; NMD sensitive")
    unique = [s for s in fig.layout.shapes if s.fillcolor == UNIQUE_EXON]
    assert len(unique) == 1 and (unique[0].x0, unique[0].x1) == (239.5, 260.5) and unique[0].y0 < -0.5  # row 2
    ptc = [t for t in fig.data if t.text is not None and "PTC" in t.text]
    assert len(ptc) == 1 and ptc[0].x[0] == 330  # the stop codon of a + strand transcript is at cds_end
    assert list(fig.layout.yaxis.ticktext) == ["1: T1<br>(low-module)", "2: T2<br>(high-module)"]
    assert "Exon gain" in fig.layout.title.text
    minus = switch_pair(_model("A", [(100, 200)], strand="-"), _model("B", [(100, 200)], strand="-", nmd=True))
    assert minus.layout.xaxis.autorange == "reversed"
    assert next(t for t in minus.data if t.text is not None).x[0] == 120  # minus strand: the stop is at cds_start


def test_consequence_summary_rows_and_colours():
    table = pd.DataFrame({"comparison": ["Exon gain (paired with Exon loss)", "NMD sensitive (paired with NMD insensitive)"],
                          "fraction_gain": [0.8, 0.5], "ci_low": [0.6, 0.2], "ci_high": [0.9, 0.8], "n_gain": [8, 2],
                          "n_total": [10, 4], "pvalue": [0.01, 1.0], "qvalue": [0.02, 1.0]})
    trace = consequence_summary(table).data[0]
    assert list(trace.y) == list(table["comparison"][::-1])  # first type on top
    assert list(trace.marker.color) == ["#999999", "#c0392b"]
    assert list(trace.error_x.array) == [0.30000000000000004, 0.09999999999999998]
    assert list(trace.text) == ["2/4", "8/10"]
    assert consequence_summary(table.iloc[:0]).layout.annotations[0].text.startswith("no annotated switch")


def test_histogram_heat_curves_and_intervention():
    hist = pd.DataFrame({"left": [0.0, 1.0], "right": [1.0, 2.0], "count": [5, 2]})
    bar = activation_histogram(hist).data[0]
    assert list(bar.x) == [0.5, 1.5] and list(bar.y) == [5, 2]
    heat = pd.DataFrame({"seq_id": ["a", "a", "b"], "token_index": [0, 1, 0], "token": ["AAAAAA", "CCCCCC", "G"],
                         "start": [0, 6, 0], "end": [6, 12, 1], "activation": [0.0, 2.0, 1.0]})
    track = {"a": pd.DataFrame({"start": [0, 4, 6], "end": [4, 12, 6], "kind": ["5'UTR", "CDS", "junction"]})}
    fig = sequence_heat(heat, track, labels={"a": "top: a"})
    assert list(fig.data[0].base) == [0, 6] and list(fig.data[0].x) == [6, 6]
    assert list(fig.layout.yaxis.ticktext) == ["top: a", "b"]
    assert len(fig.layout.shapes) == 3
    legend = {t.name: t.marker.color for t in fig.data if t.showlegend}
    assert list(legend) == ["5'UTR", "CDS", "exon junction"]  # every strip kind drawn, in the strips' order
    strips = [shape for shape in fig.layout.shapes if shape.type == "rect"]
    assert [s.fillcolor for s in strips] == [legend["5'UTR"], legend["CDS"]]  # the legend's colour is the strip's
    assert all(s.opacity == 1 for s in fig.layout.shapes)  # not the template's translucent shapes
    assert len(set(REGION_COLOURS.values())) == len(REGION_COLOURS)  # every region its own colour
    curves = training_curves(pd.DataFrame({"epoch": [1, 2], "mse": [2.0, 1.0], "l0": [10, 8], "val_fvu": [0.5, 0.3]}))
    assert [list(t.y) for t in curves.data] == [[2.0, 1.0], [10, 8], [0.5, 0.3]]
    effects = pd.DataFrame({"seq_id": ["s"] * 2, "token_index": [0, 1], "p_token_before": [0.2, 0.4],
                            "p_token_after": [0.1, 0.5], "z_before": [1.0, 0.0], "z_after": [0.0, 0.0],
                            "top_token_before": ["A", "C"], "top_token_after": ["G", "C"]})
    side = intervention_side_by_side(effects)
    assert side.data[0].z.tolist() == [[0.2, 0.4]] and side.data[1].z.tolist() == [[0.1, 0.5]]


def test_graph_elements_sizes_and_colours():
    nodes = pd.DataFrame({"node": ["f1", "ACGTAC", "T1|CDS|0"], "kind": ["feature", "token", "sequence"],
                          "label": ["f1", "ACGTAC", "T1|CDS|0"], "pagerank": [0.4, 0.1, 0.0], "set": ["", "", "CDS"]})
    links = pd.DataFrame({"source": ["ACGTAC", "T1|CDS|0"], "target": ["f1", "f1"], "weight": [2.0, 1.0], "n_edges": [2, 1]})
    elements = graph_elements(nodes, links)
    data = {e["data"]["id"]: e["data"] for e in elements if "id" in e["data"]}
    assert data["f1"]["size"] == 48.0 and data["ACGTAC"]["size"] == 8 + 40 * 0.5 and data["T1|CDS|0"]["size"] == 8.0
    assert data["f1"]["colour"] == "#c0392b" and data["T1|CDS|0"]["label"] == "T1"
    edges = [e["data"] for e in elements if "source" in e["data"]]
    assert [e["width"] for e in edges] == [6.0, 3.5]


def test_graph_positions_come_from_the_server_deterministic_and_spread():
    """Two stars of 40 tokens each: every node gets a position, the same every time; linked nodes lie closer
    than unlinked ones (a force layout), and no two nodes share a point."""
    from components.sae_graph import graph_positions

    tokens = [f"t{i}" for i in range(80)]
    nodes = pd.DataFrame({"node": ["f1", "f2", *tokens], "kind": ["feature"] * 2 + ["token"] * 80,
                          "label": ["f1", "f2", *tokens], "pagerank": 0.1, "set": ""})
    links = pd.DataFrame({"source": tokens, "target": ["f1"] * 40 + ["f2"] * 40, "weight": 1.0, "n_edges": 1})
    xy = graph_positions(nodes, links)
    np.testing.assert_array_equal(xy, graph_positions(nodes, links))
    assert xy.shape == (82, 2) and np.isfinite(xy).all()
    distance = np.linalg.norm(xy[:, None] - xy[None], axis=2)
    assert np.median(distance[0, 2:42]) < 0.5 * np.median(distance[0, 42:])  # f1's tokens around f1, f2's away
    assert distance[np.triu_indices(82, 1)].min() > 0
    elements = graph_elements(nodes, links)
    assert all("position" in e for e in elements if "id" in e["data"])

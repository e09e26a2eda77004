"""Knowledge graph, PageRank against networkx on an independently collapsed graph, set contrast, GTF overlap."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pandas as pd
import pytest

from isograph.errors import InputError
from isograph.sae.graph import (
    annotate_tokens,
    build_knowledge_graph,
    centrality,
    contrast_sets,
    load_graph,
    save_graph,
    strongest_features,
    token_edges,
)


def _tokens(n: int, seed: int = 0) -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(seed)
    kmers = np.array(["AAAAAA", "CCCCCC", "GGGGGG", "TTTTTT", "ACGTAC", "N"])
    tokens = pd.DataFrame({
        "seq_id": [f"s{i % 7}" for i in range(n)], "set": ["pos" if i % 7 < 4 else "neg" for i in range(n)],
        "token_index": np.arange(n) // 7, "token": rng.choice(kmers, n), "start": 0, "end": 6, "chrom": "chr1",
        "genomic_start": -1, "genomic_end": -1, "strand": "+"})
    z = rng.exponential(1.0, (n, 12)) * (rng.random((n, 12)) < 0.3)
    return tokens, z.astype(np.float32)


def test_strongest_feature_in_batches():
    z = np.array([[0, 2, 1], [0, 0, 0], [3, 1, 0], [0.5, 0.5, 0.7]], dtype=np.float32)
    feature, value = strongest_features([z[:3], z[3:]], 4)
    assert feature.tolist() == [1, 0, 0, 2] and value.tolist() == pytest.approx([2, 0, 3, 0.7])
    edges = token_edges(pd.DataFrame({"token": list("ABCD"), "seq_id": "s", "set": "x", "token_index": range(4),
                                      "start": 0, "end": 1, "chrom": None, "genomic_start": -1, "genomic_end": -1}),
                        feature, value)
    assert edges["token"].tolist() == ["A", "C", "D"]  # the token with no active feature is dropped


def _collapse_by_hand(graph: nx.MultiDiGraph) -> nx.DiGraph:
    out = nx.DiGraph()
    for u, v, data in graph.edges(data=True):
        weight = out.edges[u, v]["weight"] if out.has_edge(u, v) else 0.0
        out.add_edge(u, v, weight=weight + data["weight"])
    return out


def test_pagerank_equals_networkx_on_the_collapsed_graph():
    tokens, z = _tokens(500)
    feature, value = strongest_features([z], len(z))
    edges = token_edges(tokens, feature, value)
    graph = build_knowledge_graph(edges, layer_idx=3, expansion_factor=8)
    assert graph.number_of_edges() == 2 * len(edges)  # token -> feature and sequence -> feature
    oracle = nx.pagerank(_collapse_by_hand(graph), alpha=0.85, weight="weight")
    degree = nx.degree_centrality(_collapse_by_hand(graph))
    for source in (edges, graph):
        table = centrality(source).set_index("node")
        assert set(table.index) == set(oracle)
        for node, value in oracle.items():
            assert table.loc[node, "pagerank"] == pytest.approx(value, rel=1e-6)
            assert table.loc[node, "degree_centrality"] == pytest.approx(degree[node])
    features = centrality(edges).query("kind == 'feature'")
    assert features["pagerank_rank"].tolist() == list(range(1, len(features) + 1))


def test_pagerank_by_hand():
    """Two sources both point to f0 (weights 1 and 3) and one to f1 (weight 1); features are dangling."""
    edges = pd.DataFrame({"token": ["AAAAAA", "CCCCCC", "CCCCCC"], "seq_id": ["s", "s", "s"], "set": "x",
                          "feature": [0, 0, 1], "weight": [1.0, 3.0, 1.0], "token_index": [0, 1, 2], "start": 0,
                          "end": 6, "chrom": None, "genomic_start": -1, "genomic_end": -1, "features": "", "genes": ""})
    table = centrality(edges).set_index("node")["pagerank"]
    # nodes AAAAAA, CCCCCC, s, f0, f1; solve the PageRank equations directly
    nodes = ["AAAAAA", "CCCCCC", "s", "f0", "f1"]
    w = np.zeros((5, 5))
    w[0, 3], w[1, 3], w[1, 4], w[2, 3], w[2, 4] = 1, 3, 1, 4, 1
    out = w.sum(axis=1)
    transition = np.where(out[:, None] > 0, w / np.where(out[:, None] > 0, out[:, None], 1), 1 / 5)
    m = 0.85 * transition.T + 0.15 / 5
    vals, vecs = np.linalg.eig(m)
    pr = np.real(vecs[:, np.argmax(np.real(vals))])
    pr /= pr.sum()
    for node, value in zip(nodes, pr):
        assert table[node] == pytest.approx(value, rel=1e-5)


def test_contrast_ranks_a_planted_positive_feature_first():
    tokens, z = _tokens(700, seed=2)
    pos = (tokens["set"] == "pos").to_numpy()
    z[pos, 11] = 10.0  # feature 11 leads every positive token
    z[np.flatnonzero(~pos)[:5], 11] = 10.0  # and five negative ones
    feature, value = strongest_features([z], len(z))
    table = contrast_sets(token_edges(tokens, feature, value), "pos", "neg")
    assert table.iloc[0]["feature"] == 11 and table.iloc[0]["log10_ratio"] > 0 and table.iloc[0]["seen_in"] == "both"
    assert table.iloc[0]["n_tokens_a"] == pos.sum() and table.iloc[0]["n_tokens_b"] >= 5
    with pytest.raises(InputError, match="sequence set 'other' has no token"):
        contrast_sets(token_edges(tokens, feature, value), "pos", "other")


def test_features_of_one_set_only_get_no_invented_ratio():
    """HSG lists features seen in one set apart; they must not fill the ends of the ratio ranking."""
    tokens, z = _tokens(700, seed=2)
    pos = (tokens["set"] == "pos").to_numpy()
    z[:, 10:] = 0
    z[np.flatnonzero(pos)[:40], 10] = 20.0  # feature 10: positive tokens only
    z[np.flatnonzero(~pos)[:30], 11] = 20.0  # feature 11: negative tokens only
    edges = token_edges(tokens, *strongest_features([z], len(z)))
    table = contrast_sets(edges, "pos", "neg")
    only = table.set_index("feature").loc[[10, 11]]
    assert only["seen_in"].tolist() == ["pos", "neg"] and only["log10_ratio"].isna().all()
    assert np.isnan(only.loc[10, "pagerank_b"]) and np.isnan(only.loc[11, "pagerank_a"])
    assert (only.loc[10, "n_tokens_a"], only.loc[11, "n_tokens_b"]) == (40, 30)
    both = table[table["seen_in"] == "both"]
    assert table.index[table["feature"] == 10][0] > both.index.max()  # listed after every ranked feature
    assert table.index[table["feature"] == 11][0] > table.index[table["feature"] == 10][0]
    assert both["log10_ratio"].is_monotonic_decreasing and both["log10_ratio"].notna().all()
    for row in both.itertuples():  # each ratio is of the two sets' own PageRanks
        assert row.log10_ratio == pytest.approx(np.log10(row.pagerank_a / row.pagerank_b))


def test_gtf_overlap_counts_any_shared_base():
    tokens = pd.DataFrame({"chrom": ["chr1"] * 4, "genomic_start": [95, 100, 201, 150],
                           "genomic_end": [100, 105, 206, 155]})
    gtf = pd.DataFrame({"seqname": pd.Categorical(["chr1", "chr1", "chr2"]), "feature": ["exon", "CDS", "exon"],
                        "start": [100, 150, 1], "end": [200, 152, 1000], "gene_id": ["G1", "G1", "G9"],
                        "gene_name": ["ABC", None, None]})
    notes = annotate_tokens(tokens, gtf)
    assert notes["features"].tolist() == ["exon", "exon", "", "CDS,exon"]  # 95-100 shares base 100
    assert notes["genes"].tolist() == ["ABC", "ABC", "", "ABC,G1"]


def test_a_token_gets_only_the_genes_of_its_own_strand_in_edges_and_go_sets():
    """A plus-strand window over a minus-strand gene's exon does not get that gene (nor does the GO background)."""
    from isograph.sae.go import edge_genes

    tokens = pd.DataFrame({"token": ["AAAAAA"] * 3, "seq_id": ["p", "m", "u"], "set": "x", "token_index": 0,
                           "start": 0, "end": 6, "chrom": "chr1", "genomic_start": [100, 100, 100],
                           "genomic_end": [105, 105, 105], "strand": ["+", "-", "."]})
    gtf = pd.DataFrame({"seqname": ["chr1", "chr1"], "feature": ["exon", "exon"], "start": [90, 95], "end": [110, 120],
                        "strand": ["+", "-"], "gene_name": ["PLUS", "MINUS"]})
    edges = token_edges(tokens, np.array([1, 2, 3]), np.array([1.0, 1.0, 1.0]), gtf_rows=gtf)
    assert edges["genes"].tolist() == ["PLUS", "MINUS", "MINUS,PLUS"]
    assert sorted(edge_genes(edges[edges["seq_id"] == "p"])["gene"]) == ["PLUS"]
    unstranded = annotate_tokens(tokens.drop(columns="strand"), gtf.drop(columns="strand"))
    assert unstranded["genes"].tolist() == ["MINUS,PLUS"] * 3  # without strands, both


def test_node_link_round_trip(tmp_path):
    tokens, z = _tokens(100)
    feature, value = strongest_features([z], len(z))
    graph = build_knowledge_graph(token_edges(tokens, feature, value), layer_idx=2, expansion_factor=8)
    path = save_graph(graph, tmp_path / "x_kg.json")
    again = load_graph(path)
    assert again.number_of_edges() == graph.number_of_edges() and again.graph["layer_idx"] == 2
    _, _, data = next(iter(again.edges(data=True)))
    assert {"seq_id", "token_index", "weight", "genomic_start", "features", "genes"} <= set(data)
    (tmp_path / "bad.json").write_text("{")
    with pytest.raises(InputError, match="not a node-link JSON"):
        load_graph(tmp_path / "bad.json")

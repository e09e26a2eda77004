"""Benchmark: the /sae explorer's top-N subgraph on a knowledge graph of real size.

Setup (not timed): a synthetic token-edge table of ``--tokens`` tokens (6-mers drawn from the 4,096, one
strongest feature each out of ``--features`` with Zipf-like popularity, sequences of 40 tokens split into
two sets), as ``isograph.sae.graph.token_edges`` writes it, and its centrality table.

Timed:
1. ``top_subgraph`` with the stored centrality (the page's default view, all sets);
2. ``top_subgraph`` for one set, with the per-set PageRank that ``build_run`` stores
   (``centrality_by_set.parquet``), and recomputing it (what a set combination not stored costs once;
   the app caches it);
3. the elements sent to the browser (``components.sae_graph.graph_elements``), with their size in bytes;
4. the baseline: the whole collapsed graph as cytoscape elements, what a page without the top-N view
   would send and lay out (node and edge counts and JSON size).

Run: ``python bench/sae_graph_scale.py`` (about half a minute on 2 cores at the default 1,000,000 tokens).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from components.sae_graph import graph_elements  # noqa: E402
from isograph.sae.graph import centrality, collapse  # noqa: E402
from isograph.sae.runs import top_subgraph  # noqa: E402


def synthetic_edges(n_tokens: int, n_features: int, seed: int = 0) -> pd.DataFrame:
    """Token edges with Zipf-like feature popularity (a few features lead many tokens, as in real SAEs)."""
    rng = np.random.default_rng(seed)
    kmers = np.array(["".join(p) for p in np.array(np.meshgrid(*[list("ACGT")] * 6)).reshape(6, -1).T])
    popularity = 1.0 / np.arange(1, n_features + 1) ** 1.1
    feature = rng.choice(n_features, n_tokens, p=popularity / popularity.sum())
    seq = np.arange(n_tokens) // 40
    return pd.DataFrame({"token": kmers[rng.integers(0, len(kmers), n_tokens)], "seq_id": "s" + pd.Series(seq).astype(str),
                         "set": np.where(seq % 2 == 0, "A", "B"), "feature": feature,
                         "weight": rng.gamma(2.0, 0.5, n_tokens)})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tokens", type=int, default=1_000_000)
    parser.add_argument("--features", type=int, default=8192)
    parser.add_argument("--top-n", type=int, default=25)
    args = parser.parse_args()

    edges = synthetic_edges(args.tokens, args.features)
    t0 = time.perf_counter()
    table = centrality(edges)
    set_a = centrality(edges[edges["set"] == "A"])
    t_centrality = time.perf_counter() - t0
    print(f"{len(edges):,} token edges, {edges['feature'].nunique():,} features; centrality (setup) {t_centrality:.1f} s")

    t0 = time.perf_counter()
    nodes, links = top_subgraph(edges, table, top_n=args.top_n, per_feature=4)
    t_all = time.perf_counter() - t0
    t0 = time.perf_counter()
    top_subgraph(edges, set_a, sets=["A"], top_n=args.top_n, per_feature=4)
    t_one_set_stored = time.perf_counter() - t0
    t0 = time.perf_counter()
    top_subgraph(edges, sets=["A"], top_n=args.top_n, per_feature=4)
    t_one_set = time.perf_counter() - t0
    t0 = time.perf_counter()
    elements = graph_elements(nodes, links)
    size = len(json.dumps(elements))
    t_elements = time.perf_counter() - t0
    print(f"top-{args.top_n} subgraph, all sets (stored PageRank): {t_all:.2f} s")
    print(f"top-{args.top_n} subgraph, one set (stored per-set PageRank): {t_one_set_stored:.2f} s")
    print(f"top-{args.top_n} subgraph, one set (PageRank recomputed): {t_one_set:.2f} s"
          f" ({t_one_set / t_one_set_stored:.0f}× the stored path)")
    print(f"elements: {len(nodes)} nodes + {len(links)} links, {size / 1024:.0f} KiB JSON, built in {t_elements:.3f} s")

    whole = collapse(edges)
    whole_nodes = pd.DataFrame({"node": list(whole.nodes), "kind": "token", "label": list(whole.nodes),
                                "pagerank": table.set_index("node")["pagerank"].reindex(list(whole.nodes)).fillna(0).to_numpy(),
                                "set": ""})
    whole_links = pd.DataFrame([(u, v, w, 1) for u, v, w in whole.edges(data="weight")],
                               columns=["source", "target", "weight", "n_edges"])
    whole_size = len(json.dumps(graph_elements(whole_nodes, whole_links)))
    print(f"baseline, the whole graph: {whole.number_of_nodes():,} nodes + {whole.number_of_edges():,} edges,"
          f" {whole_size / 2**20:.1f} MiB JSON ({whole_size / size:.0f}× the top-N view)")


if __name__ == "__main__":
    main()

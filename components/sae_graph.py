"""The knowledge graph as dash-cytoscape elements and its stylesheet (pure: tables in, dicts out)."""

from __future__ import annotations

import random
import threading

import numpy as np
import pandas as pd

__all__ = ["LAYOUT", "PER_FEATURE_MAX", "SET_COLOURS", "STYLESHEET", "TOP_N_MAX", "graph_elements", "graph_positions",
           "legend_items"]

TOP_N_MAX = 300  #: most features the graph may show (the control's max and the server's check agree)
PER_FEATURE_MAX = 20  #: most token links drawn per feature
#: positions come from the server (graph_positions): the browser only draws them, at any size
LAYOUT = {"name": "preset", "fit": True, "padding": 20}

_LAYOUT_LOCK = threading.Lock()
SET_COLOURS = ["#2c6fbb", "#27ae60", "#8e44ad", "#d35400", "#16a085", "#7f8c8d"]

STYLESHEET = [
    {"selector": "node", "style": {"width": "data(size)", "height": "data(size)", "background-color": "data(colour)",
                                   "label": "data(label)", "font-size": 7, "color": "#333", "text-valign": "bottom",
                                   "min-zoomed-font-size": 6}},
    {"selector": "node[kind = 'feature']", "style": {"font-size": 10, "font-weight": "bold", "border-width": 1,
                                                      "border-color": "#7b241c"}},
    {"selector": "edge", "style": {"width": "data(width)", "line-color": "#c8c8c8", "curve-style": "haystack",
                                   "opacity": 0.7}},
    {"selector": ":selected", "style": {"border-width": 3, "border-color": "#f1c40f"}},
]


def graph_positions(nodes: pd.DataFrame, links: pd.DataFrame) -> np.ndarray:
    """Node positions (px) of a force-directed layout, computed on the server.

    Fruchterman–Reingold (igraph, in C; edge weights pull harder; 500 iterations, fewer above 400 nodes) from
    a circle, so the same graph always gets the same picture. The browser's own force layout (cytoscape's cose) is O(n²) per iteration in JavaScript
    and froze the page for seconds at the largest top-N; with positions given it only draws.

    Parameters
    ----------
    nodes : DataFrame
        ``node`` (its ID) ...
    links : DataFrame
        ``source, target, weight``.

    Returns
    -------
    ndarray, shape (n_nodes, 2)
        x, y in px, spread over about 120 px per √node.
    """
    import igraph

    n = len(nodes)
    if n == 0:
        return np.zeros((0, 2))
    index = pd.Index(nodes["node"])
    pairs = np.column_stack([index.get_indexer(links["source"]), index.get_indexer(links["target"])])
    keep = (pairs >= 0).all(axis=1)
    graph = igraph.Graph(n=n, edges=pairs[keep].tolist())
    angle = 2 * np.pi * np.arange(n) / n
    start = np.column_stack([np.cos(angle), np.sin(angle)]) * np.sqrt(n)
    weights = links["weight"].to_numpy(dtype=float)[keep]
    with _LAYOUT_LOCK:  # igraph draws its moves from one global generator: seeded here, then given back
        igraph.set_random_number_generator(random.Random(0))
        try:
            layout = graph.layout_fruchterman_reingold(
                weights=(weights / weights.max()).tolist() if len(weights) else None, seed=start.tolist(),
                niter=int(np.clip(200_000 / n, 100, 500)))
        finally:
            igraph.set_random_number_generator(random)
    xy = np.asarray(layout.coords, dtype=float)
    xy -= xy.min(axis=0)
    span = float(xy.max()) or 1.0
    return xy * (120.0 * np.sqrt(n) / span)


def graph_elements(nodes: pd.DataFrame, links: pd.DataFrame, *, min_size: float = 8.0, max_size: float = 48.0) -> list[dict]:
    """Cytoscape elements of :func:`isograph.sae.runs.top_subgraph` output, placed by :func:`graph_positions`.

    Args:
        nodes: ``node, kind, label, pagerank, set``.
        links: ``source, target, weight, n_edges``.
        min_size, max_size: node diameter in px; sqrt-scaled by PageRank (largest node = ``max_size``).

    Returns:
        Node elements (``data``: ``id, label, kind, pagerank, size, colour``; features red, tokens grey,
        sequences coloured by set; ``position``: ``x, y``) then edge elements (``data``: ``source, target,
        weight, width`` 1-6 px).
    """
    top = float(nodes["pagerank"].max()) or 1.0
    size = min_size + (max_size - min_size) * np.sqrt(nodes["pagerank"].to_numpy() / top)
    sets = sorted(s for s in nodes["set"].unique() if s)
    colour_of = {s: SET_COLOURS[i % len(SET_COLOURS)] for i, s in enumerate(sets)}
    elements = []
    for row, px, (x, y) in zip(nodes.itertuples(index=False), size, graph_positions(nodes, links)):
        colour = "#c0392b" if row.kind == "feature" else colour_of.get(row.set, "#95a5a6")
        label = row.label if row.kind != "sequence" else str(row.label).split("|")[0]
        elements.append({"data": {"id": row.node, "label": label, "kind": row.kind, "set": row.set,
                                  "pagerank": float(row.pagerank), "size": round(float(px), 1), "colour": colour},
                         "position": {"x": round(float(x), 1), "y": round(float(y), 1)}})
    heaviest = float(links["weight"].max()) if len(links) else 1.0
    for row in links.itertuples(index=False):
        elements.append({"data": {"source": row.source, "target": row.target, "weight": float(row.weight),
                                  "width": round(1 + 5 * float(row.weight) / heaviest, 2)}})
    return elements


def legend_items(elements: list[dict]) -> list[tuple[str, str]]:
    """``(label, colour)`` of every node kind drawn: features, tokens, then each sequence set by name.

    Args:
        elements: :func:`graph_elements` output.

    Returns:
        One pair per colour in use, in that order.
    """
    nodes = [e["data"] for e in elements if "id" in e["data"]]
    items = [("feature", "#c0392b")] if any(n["kind"] == "feature" for n in nodes) else []
    items += [("6-mer token", n["colour"]) for n in nodes if n["kind"] == "token"][:1]
    sets = {}
    for n in nodes:
        if n["kind"] == "sequence":
            sets.setdefault(f"sequence in {n['set']}" if n["set"] else "sequence", n["colour"])
    return items + sorted(sets.items())

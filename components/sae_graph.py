"""The knowledge graph as dash-cytoscape elements and its stylesheet (pure: tables in, dicts out)."""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["SET_COLOURS", "STYLESHEET", "graph_elements", "legend_items"]

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


def graph_elements(nodes: pd.DataFrame, links: pd.DataFrame, *, min_size: float = 8.0, max_size: float = 48.0) -> list[dict]:
    """Cytoscape elements of :func:`isograph.sae.runs.top_subgraph` output.

    Args:
        nodes: ``node, kind, label, pagerank, set``.
        links: ``source, target, weight, n_edges``.
        min_size, max_size: node diameter in px; sqrt-scaled by PageRank (largest node = ``max_size``).

    Returns:
        Node elements (``data``: ``id, label, kind, pagerank, size, colour``; features red, tokens grey,
        sequences coloured by set) then edge elements (``data``: ``source, target, weight, width`` 1-6 px).
    """
    top = float(nodes["pagerank"].max()) or 1.0
    size = min_size + (max_size - min_size) * np.sqrt(nodes["pagerank"].to_numpy() / top)
    sets = sorted(s for s in nodes["set"].unique() if s)
    colour_of = {s: SET_COLOURS[i % len(SET_COLOURS)] for i, s in enumerate(sets)}
    elements = []
    for row, px in zip(nodes.itertuples(index=False), size):
        colour = "#c0392b" if row.kind == "feature" else colour_of.get(row.set, "#95a5a6")
        label = row.label if row.kind != "sequence" else str(row.label).split("|")[0]
        elements.append({"data": {"id": row.node, "label": label, "kind": row.kind, "set": row.set,
                                  "pagerank": float(row.pagerank), "size": round(float(px), 1), "colour": colour}})
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

"""The SAE knowledge graph: tokens and sequences linked to the feature each token activates most.

For every token whose strongest SAE feature is active above ``threshold`` (default > 0) the graph gets
two edges (the Hidden-State-Genomics triplets):

- token node (the k-mer, e.g. ``ACGTAC``) -> feature node (``f{idx}``), and
- sequence node (the ``seq_id``) -> feature node,

each carrying ``weight`` (the activation), ``seq_id``, ``set``, ``token_index``, ``start``/``end`` in
the sequence, ``chrom``/``genomic_start``/``genomic_end``, and the GTF ``features`` and ``genes`` the
token overlaps (any overlap of at least one base, not "completely within"). It is a networkx
``MultiDiGraph`` saved as node-link JSON.

Centrality is computed on the collapsed graph: one directed edge per (source, target) pair whose weight
is the sum of the multi-edge weights; PageRank (networkx, weighted, damping 0.85) and degree centrality.
Two sequence sets are contrasted by the log10 ratio of each feature's PageRank in the graph of set A to
that in the graph of set B (a feature absent from one set gets half the smallest PageRank of that graph).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from pathlib import Path

import networkx as nx
import numpy as np
import pandas as pd

from isograph.dataset.io import atomic_write
from isograph.errors import InputError

__all__ = ["annotate_tokens", "build_knowledge_graph", "centrality", "collapse", "contrast_sets", "load_graph",
           "save_graph", "strongest_features", "token_edges"]


def strongest_features(z_batches: Iterable[np.ndarray], n_tokens: int) -> tuple[np.ndarray, np.ndarray]:
    """Index and value of each token's largest feature activation.

    Parameters
    ----------
    z_batches : iterable of ndarray
        Feature activations ``(batch, d_sae)`` in token order (so the full matrix is never held).
    n_tokens : int

    Returns
    -------
    feature : ndarray of int64, value : ndarray of float32
    """
    feature = np.empty(n_tokens, dtype=np.int64)
    value = np.empty(n_tokens, dtype=np.float32)
    at = 0
    for z in z_batches:
        idx = np.argmax(z, axis=1)
        feature[at:at + len(z)] = idx
        value[at:at + len(z)] = z[np.arange(len(z)), idx]
        at += len(z)
    if at != n_tokens:
        raise InputError(f"got activations for {at} tokens, expected {n_tokens}")
    return feature, value


def annotate_tokens(tokens: pd.DataFrame, gtf_rows: pd.DataFrame | None) -> pd.DataFrame:
    """``features`` and ``genes`` (comma-joined, sorted) of the GTF rows each token overlaps, on its strand.

    A token and a GTF row on opposite strands do not overlap (a plus-strand window gets no minus-strand
    gene), as Hidden-State-Genomics annotates; a token or row without a strand (``.``, or no ``strand``
    column) matches both strands.

    Parameters
    ----------
    tokens : DataFrame
        ``chrom, genomic_start, genomic_end`` (1-based inclusive; -1 = no coordinates), optional ``strand``.
    gtf_rows : DataFrame or None
        ``seqname, feature, start, end``, optional ``strand``, and ``gene_name`` or ``gene_id``.

    Returns
    -------
    DataFrame
        ``features, genes`` aligned with ``tokens`` (empty strings where nothing overlaps).

    Examples
    --------
    >>> tok = pd.DataFrame({"chrom": ["c", "c", "c"], "genomic_start": [5, 20, -1], "genomic_end": [10, 25, -1]})
    >>> gtf = pd.DataFrame({"seqname": ["c", "c"], "feature": ["exon", "CDS"], "start": [1, 10],
    ...                     "end": [5, 30], "gene_id": ["G1", "G2"]})
    >>> annotate_tokens(tok, gtf).values.tolist()
    [['CDS,exon', 'G1,G2'], ['CDS', 'G2'], ['', '']]
    >>> annotate_tokens(tok.assign(strand="+"), gtf.assign(strand=["+", "-"])).values.tolist()
    [['exon', 'G1'], ['', ''], ['', '']]
    """
    features = np.full(len(tokens), "", dtype=object)
    genes = np.full(len(tokens), "", dtype=object)
    if gtf_rows is None or gtf_rows.empty or len(tokens) == 0:
        return pd.DataFrame({"features": features, "genes": genes})
    def plain(col: str) -> pd.Series:  # categorical GTF columns as plain objects
        return pd.Series(gtf_rows[col].to_numpy(dtype=object), index=gtf_rows.index)

    gene = plain("gene_name") if "gene_name" in gtf_rows else pd.Series(None, index=gtf_rows.index, dtype=object)
    if "gene_id" in gtf_rows:
        gene = gene.where(gene.notna(), plain("gene_id"))
    gtf = pd.DataFrame({"seqname": plain("seqname"), "feature": plain("feature"), "start": gtf_rows["start"],
                        "end": gtf_rows["end"], "_gene": gene,
                        "strand": plain("strand") if "strand" in gtf_rows else "."}).reset_index(drop=True)
    has = tokens["genomic_start"].to_numpy() >= 0
    t_strand = tokens["strand"].to_numpy(dtype=object) if "strand" in tokens else np.full(len(tokens), ".", dtype=object)
    pairs_t, pairs_f = [], []
    chroms = tokens["chrom"].to_numpy(dtype=object)
    for chrom, part in gtf.groupby("seqname", sort=False):
        rows = np.flatnonzero(has & (chroms == chrom))
        if not rows.size:
            continue
        part = part.sort_values("start")
        starts, ends = part["start"].to_numpy(), part["end"].to_numpy()
        reach = np.maximum.accumulate(ends)
        t_start = tokens["genomic_start"].to_numpy()[rows]
        t_end = tokens["genomic_end"].to_numpy()[rows]
        hi = np.searchsorted(starts, t_end, side="right")  # features starting at or before the token's end
        lo = np.searchsorted(reach, t_start, side="left")  # before lo every feature ends before the token
        counts = np.maximum(hi - lo, 0)
        cand_t = np.repeat(rows, counts)
        cand_f = np.concatenate([np.arange(a, b) for a, b in zip(lo, hi) if b > a]) if counts.sum() else np.array([], int)
        keep = ends[cand_f] >= np.repeat(t_start, counts)
        row_strand = part["strand"].to_numpy(dtype=object)[cand_f]
        token_strand = t_strand[cand_t]
        keep &= ~np.isin(row_strand, ["+", "-"]) | ~np.isin(token_strand, ["+", "-"]) | (row_strand == token_strand)
        pairs_t.append(cand_t[keep])
        pairs_f.append(part.index.to_numpy()[cand_f[keep]])
    if pairs_t:
        pt, pf = np.concatenate(pairs_t), np.concatenate(pairs_f)
        hits = pd.DataFrame({"t": pt, "feature": gtf.loc[pf, "feature"].to_numpy(), "gene": gtf.loc[pf, "_gene"].to_numpy()})
        joined = hits.groupby("t").agg(features=("feature", lambda s: ",".join(sorted(set(map(str, s))))),
                                       genes=("gene", lambda s: ",".join(sorted(set(map(str, s))))))
        features[joined.index.to_numpy()] = joined["features"].to_numpy()
        genes[joined.index.to_numpy()] = joined["genes"].to_numpy()
    return pd.DataFrame({"features": features, "genes": genes})


def token_edges(tokens: pd.DataFrame, feature: np.ndarray, value: np.ndarray, *, threshold: float = 0.0,
                gtf_rows: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per token whose strongest feature's activation is > ``threshold``.

    Parameters
    ----------
    tokens : DataFrame
        Token table (:mod:`isograph.sae.embed`), optionally with ``gene_id``.
    feature, value : ndarray
        :func:`strongest_features` output, aligned with ``tokens``.
    threshold : float, default 0
        Keep tokens whose strongest activation is above it.
    gtf_rows : DataFrame, optional
        GTF rows for :func:`annotate_tokens`.

    Returns
    -------
    DataFrame
        ``token, seq_id, set, feature, weight, token_index, start, end, chrom, genomic_start,
        genomic_end, features, genes`` (``features``/``genes`` from the GTF; a sequence-table ``gene_id``
        column, when the tokens have one, fills ``genes`` where the GTF gives nothing).
    """
    keep = value > threshold
    edges = tokens.loc[keep, ["token", "seq_id", "set", "token_index", "start", "end", "chrom", "genomic_start",
                              "genomic_end"]].reset_index(drop=True)
    edges.insert(3, "feature", feature[keep])
    edges.insert(4, "weight", value[keep].astype(np.float64))
    notes = annotate_tokens(edges.assign(strand=tokens.loc[keep, "strand"].to_numpy()) if "strand" in tokens else edges,
                            gtf_rows)
    edges["features"] = notes["features"].to_numpy()
    edges["genes"] = notes["genes"].to_numpy()
    if "gene_id" in tokens:
        own = tokens.loc[keep, "gene_id"].fillna("").astype(str).to_numpy()
        edges["genes"] = np.where(edges["genes"] == "", own, edges["genes"])
    return edges


def build_knowledge_graph(edges: pd.DataFrame, *, layer_idx: int | None = None,
                          expansion_factor: int | None = None) -> nx.MultiDiGraph:
    """The MultiDiGraph of :func:`token_edges` rows (token -> feature and sequence -> feature).

    Parameters
    ----------
    edges : DataFrame
        :func:`token_edges` rows.
    layer_idx, expansion_factor : int, optional
        Recorded as graph attributes.
    """
    graph = nx.MultiDiGraph(layer_idx=layer_idx, expansion_factor=expansion_factor)
    feats = [f"f{int(f)}" for f in edges["feature"]]
    graph.add_nodes_from((f, {"kind": "feature", "index": int(f[1:])}) for f in set(feats))
    graph.add_nodes_from((t, {"kind": "token"}) for t in edges["token"].unique())
    seq_sets = edges.drop_duplicates("seq_id")[["seq_id", "set"]]
    graph.add_nodes_from(((s, {"kind": "sequence", "set": str(k)}) for s, k in zip(seq_sets["seq_id"], seq_sets["set"])))
    attrs = edges.drop(columns=["token", "feature"]).to_dict("records")
    for source_col in ("token", "seq_id"):
        graph.add_edges_from((src, f, {**a, "relation": f"{'token' if source_col == 'token' else 'sequence'}_activates"})
                             for src, f, a in zip(edges[source_col], feats, attrs))
    return graph


def collapse(graph: nx.MultiDiGraph | pd.DataFrame) -> nx.DiGraph:
    """One edge per (source, target), weight = the sum of the multi-edges' weights.

    Accepts the MultiDiGraph or the :func:`token_edges` table (faster: a pandas group-by).
    """
    if isinstance(graph, pd.DataFrame):
        feats = "f" + graph["feature"].astype(str)
        parts = [pd.DataFrame({"u": graph[col].astype(str).to_numpy(), "v": feats.to_numpy(),
                               "w": graph["weight"].to_numpy()}) for col in ("token", "seq_id")]
        summed = pd.concat(parts).groupby(["u", "v"], sort=False)["w"].sum()
        out = nx.DiGraph()
        out.add_weighted_edges_from(zip(summed.index.get_level_values(0), summed.index.get_level_values(1), summed))
        return out
    out = nx.DiGraph()
    out.add_nodes_from(graph.nodes(data=True))
    for u, v, w in graph.edges(data="weight", default=1.0):
        if out.has_edge(u, v):
            out[u][v]["weight"] += w
        else:
            out.add_edge(u, v, weight=w)
    return out


def centrality(graph: nx.MultiDiGraph | pd.DataFrame, *, damping: float = 0.85) -> pd.DataFrame:
    """PageRank (weighted, networkx) and degree centrality of every node of the collapsed graph.

    Parameters
    ----------
    graph : MultiDiGraph or DataFrame
        The knowledge graph or its :func:`token_edges` table.
    damping : float, default 0.85

    Returns
    -------
    DataFrame
        ``node, kind, pagerank, degree_centrality, pagerank_rank`` (1 = highest among nodes of its kind),
        sorted by PageRank.
    """
    collapsed = collapse(graph)
    if collapsed.number_of_nodes() == 0:
        raise InputError("the knowledge graph is empty: no token activated a feature above the threshold")
    pagerank = nx.pagerank(collapsed, alpha=damping, weight="weight")
    degree = nx.degree_centrality(collapsed)
    nodes = list(collapsed.nodes)
    kind = [_kind(n, collapsed) for n in nodes]
    table = pd.DataFrame({"node": nodes, "kind": kind, "pagerank": [pagerank[n] for n in nodes],
                          "degree_centrality": [degree[n] for n in nodes]})
    table["pagerank_rank"] = table.groupby("kind")["pagerank"].rank(ascending=False, method="min").astype(int)
    return table.sort_values("pagerank", ascending=False, ignore_index=True)


def _kind(node: str, graph: nx.DiGraph) -> str:
    kind = graph.nodes[node].get("kind")
    if kind:
        return kind
    return "feature" if graph.in_degree(node) and not graph.out_degree(node) else "token_or_sequence"


def contrast_sets(edges: pd.DataFrame, set_a: str, set_b: str, *, damping: float = 0.85) -> pd.DataFrame:
    """Rank features by how much more central they are among ``set_a``'s sequences than ``set_b``'s.

    PageRank is computed in each set's own graph; the ratio is defined only for features in both graphs.
    A feature seen in one set only has no PageRank in the other, so it gets no ratio (NaN) and is listed
    after the ranked ones with its token counts (``seen_in``), never given an invented value.

    Parameters
    ----------
    edges : DataFrame
        :func:`token_edges` rows of both sets.
    set_a, set_b : str
        ``set`` labels.
    damping : float, default 0.85

    Returns
    -------
    DataFrame
        ``feature, pagerank_a, pagerank_b`` (NaN where the feature is not in that set's graph),
        ``log10_ratio`` (log10 pagerank_a / pagerank_b; NaN unless in both), ``n_tokens_a, n_tokens_b``,
        ``seen_in`` (``"both"``, ``set_a`` or ``set_b``): features in both sets by ``log10_ratio``
        descending, then those of ``set_a`` only, then of ``set_b`` only (each by token count).
    """
    out = {}
    counts = {}
    for name in (set_a, set_b):
        part = edges[edges["set"] == name]
        if part.empty:
            raise InputError(f"sequence set {name!r} has no token above the threshold; sets: "
                             f"{', '.join(map(str, sorted(edges['set'].unique())))}")
        table = centrality(part, damping=damping)
        feats = table[table["node"].isin({f"f{f}" for f in part["feature"].unique()})]
        out[name] = feats.set_index("node")["pagerank"]
        counts[name] = part.groupby("feature").size()
    a, b = out[set_a], out[set_b]
    index = a.index.union(b.index)
    pa, pb = a.reindex(index).to_numpy(), b.reindex(index).to_numpy()
    feature = np.array([int(n[1:]) for n in index])
    seen = np.where(np.isnan(pa), set_b, np.where(np.isnan(pb), set_a, "both"))
    result = pd.DataFrame({"feature": feature, "pagerank_a": pa, "pagerank_b": pb,
                           "log10_ratio": np.log10(pa / pb),
                           "n_tokens_a": counts[set_a].reindex(feature).fillna(0).astype(int).to_numpy(),
                           "n_tokens_b": counts[set_b].reindex(feature).fillna(0).astype(int).to_numpy(),
                           "seen_in": seen})
    group = np.select([seen == "both", seen == set_a], [0, 1], 2) if set_a != set_b else np.zeros(len(seen), int)
    order = np.lexsort((result["feature"].to_numpy(), -(result["n_tokens_a"] + result["n_tokens_b"]).to_numpy(),
                        -np.nan_to_num(result["log10_ratio"].to_numpy(), nan=-np.inf), group))
    return result.iloc[order].reset_index(drop=True)


def save_graph(graph: nx.MultiDiGraph, path: str | os.PathLike) -> Path:
    """Node-link JSON (``networkx.node_link_data``), written atomically.

    Parameters
    ----------
    graph : MultiDiGraph
    path : path
    """
    data = nx.node_link_data(graph, edges="edges")
    return atomic_write(Path(path), lambda tmp: tmp.write_text(json.dumps(data, default=_json_default)))


def _json_default(value):
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value)
    return str(value)


def load_graph(path: str | os.PathLike) -> nx.MultiDiGraph:
    """Read a node-link JSON knowledge graph.

    Raises
    ------
    InputError
        Missing file or not node-link JSON.
    """
    try:
        data = json.loads(Path(path).read_text())
        return nx.node_link_graph(data, edges="edges", directed=True, multigraph=True)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise InputError(f"{path}: not a node-link JSON knowledge graph ({exc})") from None

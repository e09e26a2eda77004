"""Gene Ontology enrichment of SAE-feature gene sets.

Annotations (``data/reference/go``: symbol -> GO term, Entrez Gene 2022; GO 2022-07-01) are propagated
to every ancestor term along ``is_a`` and ``part_of`` edges (the true-path rule) before testing. For a
gene set S within a background B (by default the genes of all analysed sequences), each term t with at
least ``min_genes`` annotated background genes is tested with the one-sided hypergeometric test

    p = P(X >= k),  X ~ Hypergeom(N = |B|, K = |B ∩ t|, n = |S ∩ B|)

(= ``scipy.stats.hypergeom.sf(k - 1, N, K, n)`` = Fisher's exact test, alternative "greater"), with
Benjamini–Hochberg q over the terms tested (``scipy.stats.false_discovery_control``).
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from isograph.dataset.io import read_table
from isograph.errors import InputError
from isograph.reference import reference_path

__all__ = ["GO_DIR", "GeneOntology", "edge_genes", "enrich", "load_gene_ontology"]

GO_DIR = reference_path("go")
PROPAGATE = ("isa", "part of")


@dataclass
class GeneOntology:
    """Terms (``go_id, term, ontology``) and propagated annotations (``gene, go_id``, one row per pair)."""

    terms: pd.DataFrame
    annotations: pd.DataFrame

    def genes_of(self, go_id: str) -> set[str]:
        return set(self.annotations.loc[self.annotations["go_id"] == go_id, "gene"])


def _ancestors(parents: pd.DataFrame, relationships: tuple[str, ...]) -> dict[str, set[str]]:
    """Every term's ancestors (itself excluded) along the given relationships."""
    import networkx as nx

    edges = parents[parents["relationship"].isin(relationships)]
    graph = nx.DiGraph()
    graph.add_edges_from(zip(edges["go_id"], edges["parent_go_id"]))  # child -> parent
    if not nx.is_directed_acyclic_graph(graph):
        raise InputError("the GO parent edges contain a cycle; check go_parents")
    ancestors: dict[str, set[str]] = {}
    for term in reversed(list(nx.topological_sort(graph))):  # parents before children
        found: set[str] = set()
        for parent in graph.successors(term):
            found.add(parent)
            found |= ancestors[parent]
        ancestors[term] = found
    return ancestors


def load_gene_ontology(go_dir: str | os.PathLike = GO_DIR, *, relationships: tuple[str, ...] = PROPAGATE,
                       evidence_exclude: tuple[str, ...] = ("ND",)) -> GeneOntology:
    """Read the GO files and propagate annotations to ancestors.

    Parameters
    ----------
    go_dir : path
        ``hs_gene2go.tsv.gz``, ``go_terms.tsv.gz``, ``go_parents.tsv.gz``.
    relationships : tuple of str
        Parent edges to propagate along (default ``is_a`` and ``part_of``, written ``isa``/``part of``).
    evidence_exclude : tuple of str
        Evidence codes dropped (default ND, "no biological data": the root-term placeholders).

    Returns
    -------
    GeneOntology
    """
    go_dir = Path(go_dir)
    direct = read_table(go_dir / "hs_gene2go.tsv.gz", what="GO annotation table")
    terms = read_table(go_dir / "go_terms.tsv.gz", what="GO term table")
    parents = read_table(go_dir / "go_parents.tsv.gz", what="GO parent table")
    for frame, cols, name in ((direct, ("symbol", "go_id", "evidence"), "hs_gene2go"),
                              (terms, ("go_id", "term", "ontology"), "go_terms"),
                              (parents, ("go_id", "parent_go_id", "relationship"), "go_parents")):
        missing = [c for c in cols if c not in frame.columns]
        if missing:
            raise InputError(f"{go_dir / name}: missing column(s) {', '.join(missing)}")
    direct = direct[~direct["evidence"].isin(evidence_exclude)].dropna(subset=["symbol", "go_id"])
    pairs = direct[["symbol", "go_id"]].drop_duplicates()
    ancestors = _ancestors(parents, relationships)
    up = [(t, a) for t in pairs["go_id"].unique() for a in ancestors.get(t, ())]
    up = pd.DataFrame(up, columns=["go_id", "ancestor"])
    lifted = pairs.merge(up, on="go_id")[["symbol", "ancestor"]].rename(columns={"ancestor": "go_id"})
    annotations = pd.concat([pairs, lifted], ignore_index=True).drop_duplicates().rename(columns={"symbol": "gene"})
    return GeneOntology(terms=terms[["go_id", "term", "ontology"]].drop_duplicates("go_id"),
                        annotations=annotations.reset_index(drop=True))


def enrich(gene_set: Iterable[str], background: Iterable[str], ontology: GeneOntology, *, min_genes: int = 3, max_genes: int = 2000) -> pd.DataFrame:
    """Hypergeometric over-representation of GO terms in ``gene_set`` against ``background``.

    Parameters
    ----------
    gene_set, background : iterable of str
        Gene symbols; the set is intersected with the background.
    ontology : GeneOntology
    min_genes, max_genes : int
        Terms with fewer / more annotated background genes are not tested.

    Returns
    -------
    DataFrame
        ``go_id, term, ontology, k`` (set genes with the term), ``n`` (set size), ``K`` (background genes
        with the term), ``N`` (background size), ``expected`` (= n K / N), ``fold_enrichment``, ``pvalue``,
        ``qvalue``, ``genes`` (comma-joined set genes with the term); sorted by p. Terms no set gene has
        are tested too (p = 1) so that BH counts every term tested.
    """
    background = set(map(str, background))
    annotated = ontology.annotations[ontology.annotations["gene"].isin(background)]
    universe = set(annotated["gene"])
    if not universe:
        raise InputError("no background gene has a GO annotation; are these gene symbols (e.g. TP53)?")
    genes = set(map(str, gene_set)) & universe
    big_n, n = len(universe), len(genes)
    per_term = annotated.groupby("go_id")["gene"]
    sizes = per_term.size()
    tested = sizes[(sizes >= min_genes) & (sizes <= max_genes)].index
    part = annotated[annotated["go_id"].isin(tested)]
    hits = part[part["gene"].isin(genes)]
    k = hits.groupby("go_id").size().reindex(tested, fill_value=0)
    big_k = sizes.reindex(tested)
    table = pd.DataFrame({"go_id": tested, "k": k.to_numpy(), "n": n, "K": big_k.to_numpy(), "N": big_n})
    table["expected"] = table["n"] * table["K"] / big_n
    with np.errstate(divide="ignore", invalid="ignore"):
        table["fold_enrichment"] = table["k"] / table["expected"]
    table["pvalue"] = stats.hypergeom.sf(table["k"] - 1, big_n, table["K"], n)
    table["qvalue"] = stats.false_discovery_control(table["pvalue"].clip(0, 1)) if len(table) else []
    listed = hits.groupby("go_id")["gene"].agg(lambda s: ",".join(sorted(s)))
    table["genes"] = listed.reindex(table["go_id"]).fillna("").to_numpy()
    table = table.merge(ontology.terms, on="go_id", how="left")
    cols = ["go_id", "term", "ontology", "k", "n", "K", "N", "expected", "fold_enrichment", "pvalue", "qvalue", "genes"]
    return table[cols].sort_values(["pvalue", "go_id"], ignore_index=True)


def edge_genes(edges: pd.DataFrame) -> pd.DataFrame:
    """The genes of each feature's token edges, one row per (edge, gene).

    Parameters
    ----------
    edges : DataFrame
        Token edges with ``feature`` and ``genes`` (comma-joined; empty or missing when a token overlaps
        no gene).

    Returns
    -------
    DataFrame
        ``feature, gene``, empty gene names dropped.
    """
    pairs = edges[["feature"]].assign(gene=edges["genes"].fillna("").astype(str).str.split(",")).explode("gene")
    return pairs[pairs["gene"] != ""].reset_index(drop=True)

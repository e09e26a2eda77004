"""Module discovery: genes whose VAE reconstructions move together form a module.

1. Each feature's reconstruction quality is R² = cor(observed, reconstruction)²; each gene is
   represented by its best-reconstructed feature (switch or abundance channel). Genes whose best R² is
   below ``min_r2`` are noise to the VAE and stay unassigned.
2. Similarity between genes = |Pearson r| of their reconstructions across samples (the sign of a
   switch score is arbitrary, and modules hold genes going both ways).
3. Graph: every gene keeps its ``n_neighbors`` most similar genes with similarity >= ``alpha``
   (a k-nearest-neighbour graph, as scanpy does before Leiden: it keeps 20,000-gene fits sparse).
4. Communities: Leiden (``leidenalg``, RB configuration, seeded), Louvain (``networkx``, seeded) or
   connected components (``igraph``); communities of >= ``min_module_size`` genes become modules
   ``M000, M001, ...`` by decreasing size.
"""

from __future__ import annotations

from dataclasses import dataclass

import networkx as nx
import numpy as np
import pandas as pd

from isograph.errors import InputError

__all__ = ["COMMUNITY_METHODS", "DiscoveryConfig", "discover_modules", "module_recovery"]

COMMUNITY_METHODS = ("leiden", "louvain", "components")


@dataclass(frozen=True)
class DiscoveryConfig:
    """Options of :func:`discover_modules`.

    Attributes
    ----------
    alpha : float, default 0.8
        Minimum |r| between two genes' reconstructions for an edge.
    n_neighbors : int, default 30
        Edges kept per gene (its most similar genes above ``alpha``).
    min_r2 : float, default 0.5
        Genes whose best feature is reconstructed with a lower R² are not assigned.
    min_module_size : int, default 5
        Smaller communities stay unassigned.
    community : {"leiden", "louvain", "components"}, default "leiden"
        Community detection on the gene graph (Leiden, Louvain, or its connected components).
    resolution : float, default 1.0
        Resolution of Leiden/Louvain (higher: smaller modules).
    seed : int, default 0
        Seeds Leiden/Louvain.
    """

    alpha: float = 0.8
    n_neighbors: int = 30
    min_r2: float = 0.5
    min_module_size: int = 5
    community: str = "leiden"
    resolution: float = 1.0
    seed: int = 0

    def validate(self) -> None:
        """Raise :class:`InputError` for an option out of range."""
        if not 0.0 < self.alpha < 1.0:
            raise InputError(f"alpha must be in (0, 1); got {self.alpha}")
        if self.community not in COMMUNITY_METHODS:
            raise InputError(f"community must be one of {', '.join(COMMUNITY_METHODS)}; got {self.community!r}")
        if self.n_neighbors < 1 or self.min_module_size < 2:
            raise InputError("n_neighbors must be >= 1 and min_module_size >= 2")


def _knn_edges(profiles: np.ndarray, alpha: float, k: int, block: int = 2048) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Edges (i, j, |r|) from each row to its k most similar rows with |r| >= alpha (i != j)."""
    z = profiles - profiles.mean(axis=1, keepdims=True)
    z /= np.linalg.norm(z, axis=1, keepdims=True)
    n = len(z)
    k = min(k, n - 1)
    src, dst, weight = [], [], []
    for start in range(0, n, block):
        stop = min(start + block, n)
        sim = np.abs(z[start:stop] @ z.T)
        sim[np.arange(stop - start), np.arange(start, stop)] = -1.0  # no self edges
        top = np.argpartition(-sim, k - 1, axis=1)[:, :k] if k > 0 else np.empty((stop - start, 0), int)
        w = np.take_along_axis(sim, top, axis=1)
        keep = w >= alpha
        rows = np.repeat(np.arange(start, stop), k).reshape(-1, k)
        src.append(rows[keep])
        dst.append(top[keep])
        weight.append(w[keep])
    return np.concatenate(src), np.concatenate(dst), np.concatenate(weight)


def _communities(n: int, src: np.ndarray, dst: np.ndarray, weight: np.ndarray,
                 config: DiscoveryConfig) -> list[list[int]]:
    lo, hi = np.minimum(src, dst), np.maximum(src, dst)
    edges = pd.DataFrame({"a": lo, "b": hi, "w": weight}).groupby(["a", "b"], sort=True)["w"].max().reset_index()
    if config.community == "louvain":
        g = nx.Graph()
        g.add_nodes_from(range(n))
        g.add_weighted_edges_from(edges.itertuples(index=False, name=None))
        return [sorted(c) for c in nx.community.louvain_communities(
            g, weight="weight", resolution=config.resolution, seed=config.seed)]
    import igraph  # imported here: igraph loads its plotly drawing backend at import time
    import leidenalg

    g = igraph.Graph(n=n, edges=list(zip(edges["a"].tolist(), edges["b"].tolist())))
    g.es["weight"] = edges["w"].tolist()
    if config.community == "components":
        parts = g.connected_components()
    else:
        parts = leidenalg.find_partition(g, leidenalg.RBConfigurationVertexPartition, weights="weight",
                                         resolution_parameter=config.resolution, seed=config.seed)
    return [sorted(p) for p in parts]


def discover_modules(
    observed: np.ndarray,
    reconstructed: np.ndarray,
    feature_genes: np.ndarray,
    *,
    config: DiscoveryConfig | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Group genes into modules by the similarity of their VAE reconstructions.

    Parameters
    ----------
    observed, reconstructed : ndarray, shape (n_samples, n_features)
        VAE input and its reconstruction.
    feature_genes : array of str, shape (n_features,)
        Gene of each feature.
    config : DiscoveryConfig, optional

    Returns
    -------
    modules : DataFrame
        ``gene_id, module_id`` for assigned genes, sorted by module then gene.
    genes : DataFrame
        One row per gene: ``gene_id, feature_index`` (its best-reconstructed feature), ``r2``,
        ``degree`` (edges in the graph), ``module_id`` (NA when unassigned).
    """
    config = config or DiscoveryConfig()
    config.validate()
    r2 = _feature_r2(observed, reconstructed)
    feature_genes = np.asarray(feature_genes, dtype=object)
    codes, gene_ids = pd.factorize(feature_genes, sort=True)
    order = np.lexsort((-np.nan_to_num(r2, nan=-1.0), codes))
    first = np.flatnonzero(np.r_[True, codes[order][1:] != codes[order][:-1]])
    best = order[first]  # best feature of each gene, genes in sorted order
    genes = pd.DataFrame({"gene_id": np.asarray(gene_ids, dtype=object), "feature_index": best,
                          "r2": r2[best], "degree": 0, "module_id": pd.array([None] * len(best), dtype="string")})
    assigned = np.flatnonzero(genes["r2"].to_numpy() >= config.min_r2)
    if len(assigned) < config.min_module_size:
        return pd.DataFrame({"gene_id": pd.array([], dtype="string"), "module_id": pd.array([], dtype="string")}), genes
    profiles = np.ascontiguousarray(reconstructed[:, best[assigned]].T, dtype=np.float64)
    src, dst, weight = _knn_edges(profiles, config.alpha, config.n_neighbors)
    degree = np.bincount(np.r_[src, dst], minlength=len(assigned))
    genes.loc[assigned, "degree"] = degree
    parts = [p for p in _communities(len(assigned), src, dst, weight, config) if len(p) >= config.min_module_size]
    parts.sort(key=lambda p: (-len(p), genes["gene_id"].iloc[assigned[p[0]]]))
    module_of = np.full(len(genes), None, dtype=object)
    for m, part in enumerate(parts):
        module_of[assigned[part]] = f"M{m:03d}"
    genes["module_id"] = pd.array(module_of, dtype="string")
    modules = genes.loc[genes["module_id"].notna(), ["gene_id", "module_id"]]
    modules = modules.sort_values(["module_id", "gene_id"], ignore_index=True).astype(str)
    return modules, genes


def _feature_r2(observed: np.ndarray, reconstructed: np.ndarray) -> np.ndarray:
    """cor(observed_j, reconstructed_j)² for every column j (0 where undefined)."""
    o = observed - observed.mean(axis=0)
    r = reconstructed - reconstructed.mean(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        cor = np.einsum("ij,ij->j", o, r) / np.sqrt(np.einsum("ij,ij->j", o, o) * np.einsum("ij,ij->j", r, r))
    return np.nan_to_num(cor**2, nan=0.0)


def module_recovery(found: pd.DataFrame, truth: pd.DataFrame) -> tuple[float, pd.DataFrame]:
    """Mean over truth modules of the best-match Jaccard index with a found module.

    Parameters
    ----------
    found, truth : DataFrame
        ``gene_id, module_id`` each (genes without a module are simply absent).

    Returns
    -------
    (float, DataFrame)
        The mean, and per truth module ``truth_module, best_match, jaccard, n_truth, n_found``.
    """
    found_sets = {m: set(g) for m, g in found.groupby("module_id")["gene_id"]}
    rows = []
    for m, g in truth.groupby("module_id")["gene_id"]:
        t = set(g)
        scores = {f: len(t & s) / len(t | s) for f, s in found_sets.items()}
        best = max(scores, key=scores.get) if scores else None
        rows.append({"truth_module": m, "best_match": best, "jaccard": scores.get(best, 0.0),
                     "n_truth": len(t), "n_found": len(found_sets.get(best, ()))})
    table = pd.DataFrame(rows)
    return float(table["jaccard"].mean()) if len(table) else 0.0, table

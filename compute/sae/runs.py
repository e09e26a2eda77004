"""SAE runs of a data set: one trained SAE (expansion factor, layer) with its knowledge graph.

A run lives in ``{sae_dir}/ef{N}/layer_{L}/`` (:func:`isograph.sae.model.checkpoint_dir`) and holds, next
to the SAE checkpoint::

    run.json            layer_idx, expansion_factor, sets, and paths relative to sae_dir of
                        lm (the DNA model), sequences (the sequence table), activations (the cache)
    edges.parquet       token edges (:func:`isograph.sae.graph.token_edges`)
    kg.json             the knowledge graph (node-link JSON)
    centrality.parquet  PageRank and degree centrality of every node
    centrality_by_set.parquet  the same within each sequence set's own edges (+ ``set``)
    contrast.parquet    PageRank contrast of the first two sequence sets (when there are two or more)
    go_enrichment.parquet  GO enrichment of each feature's genes (written by the demo and `sae go`)
    concept_scores.parquet  precision/recall/F1 of each feature for each GTF concept (isograph.sae.concepts)

:func:`build_run` makes one (embed -> train -> encode -> graph), :func:`find_runs` lists them, and
:func:`top_subgraph` picks the part of a graph that stays readable in a browser.
"""

from __future__ import annotations

import functools
import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from isograph.dataset.commit import staged_commit
from isograph.dataset.io import require_inside, write_json, write_parquet
from isograph.errors import InputError

if TYPE_CHECKING:
    from isograph.sae.model import SAEConfig

__all__ = ["RunData", "SAERun", "build_run", "find_runs", "load_run_concepts", "load_run_data", "load_run_graph",
           "load_run_models",
           "load_set_centrality", "top_subgraph"]

RUN_FILE = "run.json"


@dataclass(frozen=True)
class SAERun:
    """One run: where it is and what it was built from (paths resolved inside ``sae_dir``)."""

    sae_dir: Path
    expansion_factor: int
    layer_idx: int
    sets: tuple[str, ...]
    paths: tuple[tuple[str, Path], ...]

    @property
    def key(self) -> str:
        """``ef{N}/layer_{L}`` (also its folder relative to ``sae_dir``)."""
        return f"ef{self.expansion_factor}/layer_{self.layer_idx}"

    @property
    def folder(self) -> Path:
        return self.sae_dir / self.key

    def path(self, name: str) -> Path:
        """A recorded input (``lm``, ``sequences``, ``activations``) or an output file of the folder.

        Raises
        ------
        InputError
            The file resolves outside ``sae_dir`` (a symlink out).
        """
        recorded = dict(self.paths)
        if name in recorded:
            return recorded[name]
        return _inside(self.sae_dir, self.folder / {"edges": "edges.parquet", "graph": "kg.json",
                                                    "centrality": "centrality.parquet",
                                                    "contrast": "contrast.parquet",
                                                    "go_enrichment": "go_enrichment.parquet",
                                                    "concepts": "concept_scores.parquet",
                                                    "regions": "feature_region_enrichment.parquet",
                                                    "switch_segments": "switch_segments.parquet",
                                                    "switch_features": "switch_features.parquet"}.get(name, name))


def _inside(root: Path, path: Path) -> Path:
    return require_inside(root, path, name="the SAE folder")


def find_runs(sae_dir: str | os.PathLike) -> list[SAERun]:
    """Runs with a ``run.json`` under ``sae_dir``, sorted by expansion factor then layer.

    Parameters
    ----------
    sae_dir : path

    Returns
    -------
    list of SAERun
        Runs whose manifest is unreadable or points outside ``sae_dir`` are skipped.
    """
    root = Path(sae_dir).resolve()
    runs = []
    for manifest in sorted(root.glob(f"ef*/layer_*/{RUN_FILE}")):
        try:
            _inside(root, manifest)  # a run folder (or its ef folder) that is a symlink out of sae/ is no run
            spec = json.loads(manifest.read_text())
            paths = tuple((k, _inside(root, root / v)) for k, v in sorted(spec.get("paths", {}).items()))
            runs.append(SAERun(root, int(spec["expansion_factor"]), int(spec["layer_idx"]),
                               tuple(map(str, spec.get("sets", []))), paths))
        except (OSError, ValueError, KeyError, TypeError, InputError):
            continue
    return sorted(runs, key=lambda r: (r.expansion_factor, r.layer_idx))


def build_run(sae_dir: str | os.PathLike, lm_path: str | os.PathLike, sequences: pd.DataFrame, *, layer_idx: int,
              config: SAEConfig | None = None, sequences_path: str | os.PathLike | None = None, gene_column: str = "gene_id",
              threshold: float = 0.0, contrast: tuple[str, str] | None = None, progress: Callable[[float, str, dict | None], None] | None = None,
              should_stop: Callable[[], bool] | None = None) -> dict:
    """Embed ``sequences``, train an SAE on ``hidden_states[layer_idx]`` and build its knowledge graph.

    Parameters
    ----------
    sae_dir : path
        The run goes to ``{sae_dir}/ef{N}/layer_{L}/``; activations are cached in ``{sae_dir}/activations``.
    lm_path : path
        A local masked LM (:func:`isograph.sae.lm.load_masked_lm`), inside ``sae_dir``.
    sequences : DataFrame
        A sequence table (+ optional ``gene_id``/``gene_name`` columns, carried into the token table).
    layer_idx : int
    config : isograph.sae.model.SAEConfig, optional
    sequences_path : path, optional
        Where ``sequences`` is stored (recorded; default: written to ``{sae_dir}/sequences.parquet``).
    gene_column : str, default "gene_id"
        Which column names the genes of the token edges (``gene_name`` for GO enrichment by symbol).
    threshold : float, default 0
        Token edges need an activation above it.
    contrast : (str, str), optional
        Sequence sets to contrast (default the first two sets of ``sequences``, when it has two).
    progress : callable, optional
        ``progress(fraction, message, epoch_metrics or None)``.
    should_stop : callable, optional
        Passed to :func:`isograph.sae.model.train_sae` (stop after the current epoch).

    Returns
    -------
    dict
        ``run`` (SAERun), ``train`` (SAETrainResult), ``edges`` (DataFrame), ``tokens`` (token table with
        the sequences' gene columns), ``z`` (ndarray of feature activations, tokens x features).
    """
    from isograph.sae.embed import activation_cache_dir, embed_sequences
    from isograph.sae.graph import (
        build_knowledge_graph,
        centrality,
        contrast_sets,
        save_graph,
        strongest_features,
        token_edges,
    )
    from isograph.sae.lm import load_masked_lm
    from isograph.sae.model import SAEConfig, checkpoint_dir, encode, save_sae, train_sae

    report = progress or (lambda fraction, message, row: None)
    root = Path(sae_dir).resolve()
    config = config or SAEConfig()
    lm_path, sequences_path = Path(lm_path).resolve(), Path(sequences_path or root / "sequences.parquet").resolve()
    _inside(root, lm_path)
    if not sequences_path.exists():
        write_parquet(sequences, sequences_path)
    _inside(root, sequences_path)
    lm = load_masked_lm(lm_path)
    if not 0 <= layer_idx <= lm.n_layers:
        raise InputError(f"layer {layer_idx} is out of range: the model has layers 0..{lm.n_layers}")
    report(0.0, f"embedding {len(sequences):,} sequences", None)
    acts = embed_sequences(lm, sequences, [layer_idx], batch_size=64, cache_dir=root / "activations",
                           progress=lambda f, m: report(0.2 * f, m, None))
    tokens = _with_sequence_info(acts.tokens, sequences)
    result = train_sae(acts.layer(layer_idx), config, layer_idx=layer_idx, sae_dir=None,
                       progress=lambda f, m, row: report(0.2 + 0.7 * f, f"SAE {m}", row), should_stop=should_stop)
    report(0.92, "building the knowledge graph", None)
    z = encode(result.model, acts.layer(layer_idx))
    feature, value = strongest_features([z], len(z))
    named = tokens.assign(gene_id=tokens[gene_column]) if gene_column in tokens else tokens
    edges = token_edges(named, feature, value, threshold=threshold)
    edges["features"] = np.where(edges["features"] == "", edges["set"], edges["features"])
    target = checkpoint_dir(root, config.expansion_factor, layer_idx)
    _refuse_links(root, target)  # never write through a symlink out of sae/, nor delete what it points at
    _parent(target)
    # the run folder is staged and committed whole (isograph.dataset.commit): a killed or failed build never
    # leaves a half-rewritten run, and the previous one stays until the new one is complete
    with staged_commit(target.parent) as stage:
        folder = stage / target.name
        folder.mkdir()
        result.path = save_sae(result, folder, layer_idx=layer_idx)
        write_parquet(edges, folder / "edges.parquet")
        save_graph(build_knowledge_graph(edges, layer_idx=layer_idx, expansion_factor=config.expansion_factor),
                   folder / "kg.json")
        write_parquet(centrality(edges), folder / "centrality.parquet")
        write_parquet(pd.concat([centrality(part).assign(set=str(name)) for name, part in edges.groupby("set", sort=True)],
                                ignore_index=True), folder / "centrality_by_set.parquet")
        sets = [str(s) for s in pd.unique(sequences["set"])]
        pair = contrast or (tuple(sets[:2]) if len(sets) >= 2 else None)
        if pair is not None:
            write_parquet(contrast_sets(edges, pair[0], pair[1]).assign(set_a=pair[0], set_b=pair[1]),
                          folder / "contrast.parquet")
        cache = activation_cache_dir(lm, sequences, [layer_idx], root / "activations")
        write_json({"layer_idx": layer_idx, "expansion_factor": config.expansion_factor, "sets": sets,
                    "paths": {"lm": os.path.relpath(lm_path, root), "sequences": os.path.relpath(sequences_path, root),
                              "activations": os.path.relpath(cache.resolve(), root)}}, folder / RUN_FILE)
    result.path = target
    report(1.0, f"done: {len(edges):,} token edges", None)
    run = next(r for r in find_runs(root) if r.key == f"ef{config.expansion_factor}/layer_{layer_idx}")
    return {"run": run, "train": result, "edges": edges, "tokens": tokens, "z": z}


def _with_sequence_info(tokens: pd.DataFrame, sequences: pd.DataFrame) -> pd.DataFrame:
    """The token table plus the sequences' ``gene_id, gene_name, region`` columns (those it has)."""
    extra = [c for c in ("gene_id", "gene_name", "region") if c in sequences and c not in tokens]
    return tokens.merge(sequences[["seq_id", *extra]], on="seq_id", how="left") if extra else tokens


def _refuse_links(root: Path, target: Path) -> None:
    """Refuse a run folder, or a folder above it inside ``root``, that is a symlink (or resolves outside)."""
    for folder in (target, *[p for p in target.parents if root in p.parents]):
        if folder.is_symlink():
            raise InputError(f"{folder} is a symbolic link; SAE runs are written only into real folders under {root}")
    if target.parent.exists():
        _inside(root, target.parent)


def _parent(target: Path) -> Path:
    target.parent.mkdir(parents=True, exist_ok=True)
    return target.parent


def top_subgraph(edges: pd.DataFrame, centrality_table: pd.DataFrame | None = None, *,
                 sets: list[str] | None = None, top_n: int = 30, min_weight: float = 0.0,
                 per_feature: int = 5) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The readable part of a knowledge graph: the ``top_n`` features by PageRank and their strongest links.

    Parameters
    ----------
    edges : DataFrame
        Token edges (``token, seq_id, set, feature, weight``).
    centrality_table : DataFrame, optional
        :func:`isograph.sae.graph.centrality` of the edges kept (after the ``sets`` filter); computed
        here when None (see :func:`load_set_centrality` for stored per-set tables).
    sets : list of str, optional
        Keep edges of these sequence sets only.
    top_n : int, default 30
        Features kept (highest PageRank).
    min_weight : float, default 0
        Links (summed activation of a token or sequence on a feature) below it are dropped.
    per_feature : int, default 5
        Token links and sequence links kept per feature (the heaviest).

    Returns
    -------
    nodes : DataFrame
        ``node, kind (feature/token/sequence), label, pagerank, set`` (``set`` of sequence nodes).
    links : DataFrame
        ``source, target, weight, n_edges`` (token or sequence -> feature).
    """
    from isograph.sae.graph import centrality

    if sets:
        edges = edges[edges["set"].isin(sets)]
    if edges.empty:
        raise InputError("no token edges left: choose other sequence sets or a lower threshold")
    table = centrality_table if centrality_table is not None else centrality(edges)
    rank = table.set_index("node")["pagerank"]
    features = table[table["kind"] == "feature"].head(top_n)["node"].tolist()
    feats = "f" + edges["feature"].astype(str)
    keep = feats.isin(features).to_numpy()
    parts = []
    for column, kind in (("token", "token"), ("seq_id", "sequence")):
        summed = (pd.DataFrame({"source": edges.loc[keep, column].astype(str).to_numpy(), "target": feats[keep].to_numpy(),
                                "weight": edges.loc[keep, "weight"].to_numpy()})
                  .groupby(["source", "target"], sort=False)["weight"].agg(["sum", "size"]).reset_index()
                  .rename(columns={"sum": "weight", "size": "n_edges"}))
        summed = summed[summed["weight"] >= min_weight]
        summed = summed.sort_values(["target", "weight"], ascending=[True, False]).groupby("target").head(per_feature)
        parts.append(summed.assign(kind=kind))
    links = pd.concat(parts, ignore_index=True)
    seq_set = edges.drop_duplicates("seq_id").set_index("seq_id")["set"].astype(str)
    node_rows = [(f, "feature", f) for f in features]
    for kind in ("token", "sequence"):
        for source in links.loc[links["kind"] == kind, "source"].unique():
            node_rows.append((source, kind, source))
    nodes = pd.DataFrame(node_rows, columns=["node", "kind", "label"]).drop_duplicates("node")
    nodes["pagerank"] = rank.reindex(nodes["node"]).fillna(0.0).to_numpy()
    nodes["set"] = np.where(nodes["kind"] == "sequence", seq_set.reindex(nodes["node"]).fillna("").to_numpy(), "")
    return nodes.reset_index(drop=True), links[["source", "target", "weight", "n_edges"]].reset_index(drop=True)


@dataclass
class RunData:
    """What the app shows of a run: the token table (with the sequences' ``gene_id``/``gene_name``/``region``),
    feature activations ``z`` (tokens x features, float32), edges, centrality, contrast (or None), sequences."""

    tokens: pd.DataFrame
    z: np.ndarray
    edges: pd.DataFrame
    centrality: pd.DataFrame
    contrast: pd.DataFrame | None
    sequences: pd.DataFrame


def _stamp(run: SAERun) -> int:
    return (run.folder / "sae.pt").stat().st_mtime_ns if (run.folder / "sae.pt").exists() else 0


def load_run_data(run: SAERun) -> RunData:
    """:class:`RunData` of a run (cached until its ``sae.pt`` changes)."""
    return _run_data(run, _stamp(run))


def load_run_graph(run: SAERun) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame | None]:
    """``(edges, centrality, contrast or None)`` of a run, without the activations (cached)."""
    return _run_graph(run, _stamp(run))


def load_set_centrality(run: SAERun, sets: tuple[str, ...]) -> pd.DataFrame:
    """Centrality within the edges of ``sets`` (stored per set by :func:`build_run`, else computed; cached).

    Parameters
    ----------
    run : SAERun
    sets : tuple of str
        Sequence sets whose edges are kept.

    Returns
    -------
    DataFrame
        As :func:`isograph.sae.graph.centrality`.
    """
    return _set_centrality(run, tuple(sorted(sets)), _stamp(run))


@functools.lru_cache(maxsize=16)
def _set_centrality(run: SAERun, sets: tuple[str, ...], stamp_ns: int) -> pd.DataFrame:
    from isograph.sae.graph import centrality

    stored = run.folder / "centrality_by_set.parquet"
    if len(sets) == 1 and stored.exists():
        table = pd.read_parquet(stored)
        if (table["set"] == sets[0]).any():
            return table[table["set"] == sets[0]].drop(columns="set").reset_index(drop=True)
    edges = _run_graph(run, stamp_ns)[0]
    return centrality(edges[edges["set"].isin(sets)])


def load_run_concepts(run: SAERun) -> pd.DataFrame | None:
    """The run's concept scores (:func:`isograph.sae.concepts.concept_scores`), or None when it has none (cached
    until the file changes)."""
    from isograph.dataset.cache import read_parquet

    path = run.path("concepts")
    return read_parquet(path) if path.exists() else None


def load_run_models(run: SAERun) -> tuple[object, object]:
    """The run's language model (:class:`isograph.sae.lm.LocalLM`) and SAE, loaded once (cached)."""
    return _run_models(run, _stamp(run))


@functools.lru_cache(maxsize=2)
def _run_data(run: SAERun, _stamp_ns: int) -> RunData:
    from isograph.sae.embed import load_activations
    from isograph.sae.model import encode, load_sae

    acts = load_activations(run.path("activations"), [run.layer_idx])
    sequences = pd.read_parquet(run.path("sequences"))
    tokens = _with_sequence_info(acts.tokens, sequences)
    sae, _ = load_sae(run.folder)
    z = encode(sae, acts.layer(run.layer_idx))
    edges, table, contrast = _run_graph(run, _stamp_ns)
    return RunData(tokens=tokens, z=z, edges=edges, centrality=table, contrast=contrast, sequences=sequences)


@functools.lru_cache(maxsize=4)
def _run_graph(run: SAERun, _stamp_ns: int) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame | None]:
    contrast = pd.read_parquet(run.path("contrast")) if run.path("contrast").exists() else None
    return pd.read_parquet(run.path("edges")), pd.read_parquet(run.path("centrality")), contrast


@functools.lru_cache(maxsize=2)
def _run_models(run: SAERun, _stamp_ns: int) -> tuple[object, object]:
    from isograph.sae.lm import load_masked_lm
    from isograph.sae.model import load_sae

    return load_masked_lm(run.path("lm")), load_sae(run.folder)[0]

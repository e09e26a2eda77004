"""What ``isograph sae kg`` writes for one set of sequences, and the same as a batch task (``isograph sae batch``:
one task per FASTA file or pair of sets).

From ``{stem}.json`` (the knowledge graph, node-link JSON) come ``{stem}_edges.parquet`` (token edges),
``{stem}_centrality.parquet`` (PageRank and degree) and, with a negative set, ``{stem}_contrast.parquet``;
every file is written atomically.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

__all__ = ["kg_task", "sequence_table", "write_knowledge_graph"]


def sequence_table(input_fasta: str, negative: str | None = None, *, allow_iupac: bool = False,
                   tile: int | None = None, tile_stride: int | None = None) -> pd.DataFrame:
    """The sequences of one FASTA file (or a positive and a negative set), optionally cut into windows.

    Parameters
    ----------
    input_fasta : str
        FASTA (gzip allowed); the ``positive`` set when ``negative`` is given.
    negative : str, optional
        A second FASTA, the ``negative`` set.
    allow_iupac : bool, default False
        Turn IUPAC ambiguity codes into N (one set only).
    tile, tile_stride : int, optional
        Cut the sequences into windows of ``tile`` bases, ``tile_stride`` apart.

    Returns
    -------
    DataFrame
        ``seq_id, sequence`` (+ ``set``, coordinates).
    """
    from isograph.sae.sequences import read_fasta, read_sequence_sets, tile_sequences

    if negative:
        table = read_sequence_sets({"positive": input_fasta, "negative": negative})
    else:
        table = read_fasta(input_fasta, allow_iupac=allow_iupac)
    return tile_sequences(table, window=tile, stride=tile_stride) if tile else table


def write_knowledge_graph(lm: object, sae: object, sequences: pd.DataFrame, *, layer_idx: int, expansion_factor: int,
                          output: str | Path, threshold: float = 0.0, gtf_rows: pd.DataFrame | None = None,
                          contrast: bool = False, progress: object = None) -> dict:
    """Embed the sequences, take each token's strongest SAE feature, write the graph files; return a summary.

    Parameters
    ----------
    lm : LocalLM
    sae : SparseAutoencoder
    sequences : DataFrame
        ``seq_id, sequence`` (+ ``set`` for two sets, + coordinates).
    layer_idx, expansion_factor : int
    output : path
        The graph's JSON file; the tables go next to it (``{stem}_edges.parquet`` ...).
    threshold : float, default 0
        The strongest activation must exceed it.
    gtf_rows : DataFrame, optional
        GTF rows whose features and genes the tokens are annotated with.
    contrast : bool, default False
        Also write the positive-vs-negative contrast (the sequences are two sets).
    progress : callable, optional
        ``progress(fraction, message)`` while embedding.

    Returns
    -------
    dict
        ``sequences, edges, features, top_features`` (the five largest PageRanks, ``"node (pagerank)"``).
    """
    from isograph.dataset.io import write_parquet
    from isograph.sae.embed import embed_sequences
    from isograph.sae.graph import (
        build_knowledge_graph,
        centrality,
        contrast_sets,
        save_graph,
        strongest_features,
        token_edges,
    )
    from isograph.sae.model import encode

    acts = embed_sequences(lm, sequences, [layer_idx], progress=progress)
    z = encode(sae, acts.layer(layer_idx))
    feature, value = strongest_features([z], len(z))
    edges = token_edges(acts.tokens, feature, value, threshold=threshold, gtf_rows=gtf_rows)
    output = Path(output)
    save_graph(build_knowledge_graph(edges, layer_idx=layer_idx, expansion_factor=expansion_factor), output)
    stem = output.with_suffix("")
    write_parquet(edges, f"{stem}_edges.parquet")
    table = centrality(edges)
    write_parquet(table, f"{stem}_centrality.parquet")
    if contrast:
        write_parquet(contrast_sets(edges, "positive", "negative"), f"{stem}_contrast.parquet")
    top = table[table["kind"] == "feature"].head(5)
    return {"sequences": int(sequences["seq_id"].nunique()), "edges": int(len(edges)),
            "features": int((table["kind"] == "feature").sum()),
            "top_features": ", ".join(f"{n} ({p:.3g})" for n, p in zip(top["node"], top["pagerank"]))}


def kg_task(params: dict) -> dict:
    """One FASTA file (or pair of sets) as a batch task (JSON in, JSON out; see :mod:`isograph.batch`).

    Parameters
    ----------
    params : dict
        ``model, sae, layer_idx, expansion_factor, input, output`` (absolute paths), optional ``negative,
        gtf, threshold, allow_iupac, tile, tile_stride``.

    Returns
    -------
    dict
        :func:`write_knowledge_graph`'s summary plus ``output``.
    """
    from isograph.sae.lm import load_masked_lm
    from isograph.sae.model import load_sae

    lm = load_masked_lm(params["model"])
    sae, _config = load_sae(params["sae"])
    sequences = sequence_table(params["input"], params.get("negative"), allow_iupac=bool(params.get("allow_iupac")),
                               tile=params.get("tile"), tile_stride=params.get("tile_stride"))
    gtf_rows = None
    if params.get("gtf"):
        from isograph.structure.gtf import read_gtf

        gtf_rows = read_gtf(params["gtf"])
    summary = write_knowledge_graph(lm, sae, sequences, layer_idx=int(params["layer_idx"]),
                                    expansion_factor=int(params["expansion_factor"]), output=params["output"],
                                    threshold=float(params.get("threshold", 0.0)), gtf_rows=gtf_rows,
                                    contrast=bool(params.get("negative")))
    return {**summary, "output": params["output"]}

"""The SAE part of the demo: real transcript windows labelled CDS or UTR -> the shipped small DNA LM -> SAE ->
knowledge graph, centrality, CDS-vs-UTR feature tests and GO enrichment.

Written under ``{demo}/sae/``::

    windows.parquet                      the sequence table (set = CDS or UTR, gene_id, gene_name)
    lm/                                  the DNA masked LM (a copy of the shipped one; Hugging Face layout)
    activations/<key>/                   cached hidden states
    ef{N}/layer_{L}/                     the run (isograph.sae.runs): sae.pt, config.json, metrics.json,
                                         run.json, edges.parquet (one row per token edge), kg.json (the
                                         knowledge graph), centrality.parquet (PageRank, degree),
                                         contrast.parquet (log10 PageRank ratio, CDS vs UTR),
                                         feature_region_enrichment.parquet (Fisher per feature: CDS vs
                                         UTR tokens, BH q), go_enrichment.parquet (GO enrichment of the
                                         top features' gene sets), concept_scores.parquet (precision,
                                         recall, F1 of every feature for every GTF concept: run_concepts),
                                         switch_segments.parquet + switch_features.parquet (the exons the
                                         called switches gain or lose, and the features that separate
                                         them: isograph.sae.bridge)
    summary.json                         what was built, timings, the best CDS/UTR feature
"""

from __future__ import annotations

import json
import os
import shutil
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from isograph.dataset.io import write_json, write_parquet
from isograph.errors import InputError
from isograph.reference import reference_path
from isograph.sae.sequences import SEQUENCE_COLUMNS, read_fasta

__all__ = ["REFERENCE_FASTA", "SHIPPED_LM", "build_sae_demo", "run_concepts", "region_enrichment", "transcript_windows"]

REFERENCE_FASTA = reference_path("isar_example", "example_isoform_nt.fasta.gz")
#: The demo's DNA language model, shipped (weights, vocabulary, training report): data/reference/dna_lm.
SHIPPED_LM = reference_path("dna_lm")


def transcript_windows(fasta: pd.DataFrame, models: pd.DataFrame, *, window: int = 240) -> pd.DataFrame:
    """One CDS window and one UTR window (3' UTR, else 5' UTR) of ``window`` bases per coding transcript.

    Parameters
    ----------
    fasta : DataFrame
        Sequence table of transcript sequences (``seq_id`` = ``transcript_id``).
    models : DataFrame
        Transcript models (:func:`isograph.structure.cache.load_transcript_models`).
    window : int, default 240
        Bases per window (40 six-mers).

    A window lies wholly inside its region (transcript coordinates from the GTF models: 5' UTR, ORF,
    3' UTR lengths). The CDS window starts at the ORF's first base; the UTR window is the 3' UTR's
    middle (or the 5' UTR's). Transcripts whose FASTA length differs from the model are skipped.

    Returns
    -------
    DataFrame
        A sequence table plus ``gene_id, gene_name, region`` (``set`` = ``region`` = CDS or UTR).
    """
    merged = fasta.merge(models[["transcript_id", "gene_id", "gene_name", "coding", "length", "utr5_length",
                                 "orf_length", "utr3_length"]], left_on="seq_id", right_on="transcript_id")
    merged = merged[merged["coding"] & (merged["sequence"].str.len() == merged["length"])]
    rows = []
    for r in merged.itertuples(index=False):
        cds_start = int(r.utr5_length)
        if r.orf_length >= window:
            rows.append((f"{r.seq_id}|CDS|{cds_start}", r.sequence[cds_start:cds_start + window], "CDS", r))
        if r.utr3_length >= window:
            begin = cds_start + int(r.orf_length) + (int(r.utr3_length) - window) // 2
        elif r.utr5_length >= window:
            begin = (int(r.utr5_length) - window) // 2
        else:
            continue
        rows.append((f"{r.seq_id}|UTR|{begin}", r.sequence[begin:begin + window], "UTR", r))
    table = pd.DataFrame({
        "seq_id": [x[0] for x in rows], "sequence": [x[1] for x in rows], "chrom": None, "start": -1, "end": -1,
        "strand": ".", "set": [x[2] for x in rows], "gene_id": [x[3].gene_id for x in rows],
        "gene_name": [x[3].gene_name for x in rows], "region": [x[2] for x in rows]})
    table["start"] = table["start"].astype(np.int64)
    table["end"] = table["end"].astype(np.int64)
    return table[SEQUENCE_COLUMNS + ["gene_id", "gene_name", "region"]]


def region_enrichment(edges: pd.DataFrame, *, region_a: str = "CDS", region_b: str = "UTR") -> pd.DataFrame:
    """Fisher's exact test per feature: is it the strongest feature of ``region_a`` tokens more often?

    Parameters
    ----------
    edges : DataFrame
        :func:`isograph.sae.graph.token_edges` rows (``set``, ``feature``).
    region_a, region_b : str
        The two ``set`` labels compared (default CDS vs UTR).

    For feature f: the 2x2 table [[A tokens led by f, other A tokens], [B tokens led by f, other B tokens]]
    over the edge table's tokens (one token, one strongest feature). Two-sided p
    (``scipy.stats.fisher_exact``), BH q over the features tested, and the odds ratio (> 1: region A).

    Returns
    -------
    DataFrame
        ``feature, n_a, n_b, odds_ratio, pvalue, qvalue``, sorted by p.
    """
    in_a, in_b = edges["set"] == region_a, edges["set"] == region_b
    total_a, total_b = int(in_a.sum()), int(in_b.sum())
    counts = pd.DataFrame({"n_a": edges[in_a].groupby("feature").size(), "n_b": edges[in_b].groupby("feature").size()})
    counts = counts.fillna(0).astype(int)
    odds, pvals = [], []
    for n_a, n_b in zip(counts["n_a"], counts["n_b"]):
        result = stats.fisher_exact([[n_a, total_a - n_a], [n_b, total_b - n_b]])
        odds.append(result.statistic)
        pvals.append(result.pvalue)
    table = counts.reset_index().rename(columns={"index": "feature"})
    table["odds_ratio"] = odds
    table["pvalue"] = pvals
    table["qvalue"] = stats.false_discovery_control(np.clip(pvals, 0, 1)) if pvals else []
    return table.sort_values(["pvalue", "feature"], ignore_index=True)


def run_concepts(tokens: pd.DataFrame, z: np.ndarray, models: pd.DataFrame, *, validation_fraction: float = 0.3,
                 seed: int = 0, sequences: dict[str, str] | None = None,
                 switch_exons: pd.DataFrame | None = None) -> pd.DataFrame:
    """Concept scores (:func:`isograph.sae.concepts.concept_scores`) of a run's tokens that lie in transcripts.

    Parameters
    ----------
    tokens : DataFrame
        The run's token table (``seq_id, start, end``; ``gene_id`` for the split, when it has it).
    z : ndarray, shape (n_tokens, n_features)
    models : DataFrame
        Transcript models of the GTF.
    validation_fraction : float, default 0.3
        Genes whose tokens score the features (the others choose each threshold).
    seed : int, default 0
    sequences : dict of str to str, optional
        Transcript sequences (place the stop codon; see :func:`isograph.sae.concepts.token_concepts`).
    switch_exons : DataFrame, optional
        Stretches called switches gain or lose (the ``switch exon`` concept).

    Returns
    -------
    DataFrame
        As ``concept_scores``, plus ``n_validation_tokens``.
    """
    from isograph.sae.concepts import concept_scores, token_concepts, transcript_positions

    positions = transcript_positions(tokens, set(models["transcript_id"]))
    mapped = positions["transcript_id"].notna().to_numpy()
    if not mapped.any():
        raise InputError("no token lies in a transcript of the GTF (sequence IDs must be transcript IDs)")
    genes = (tokens["gene_id"] if "gene_id" in tokens else positions["transcript_id"]).astype(str).to_numpy()[mapped]
    unique = np.unique(genes)
    held = np.random.default_rng(seed).permutation(unique)[:max(1, int(round(validation_fraction * len(unique))))]
    validation = np.isin(genes, held)
    labels = token_concepts(positions[mapped].reset_index(drop=True), models, sequences=sequences,
                            switch_exons=switch_exons)
    return concept_scores(z[mapped], labels, validation).assign(n_validation_tokens=int(validation.sum()))


def _bridge(demo_dir: Path, run: object, models: pd.DataFrame, fasta: pd.DataFrame,
            layer_idx: int) -> tuple[dict, pd.DataFrame | None]:
    """The switch <-> feature bridge of the demo's called switches (isograph.sae.bridge), written to the run; its
    summary and the stretches (``transcript_id, tx_start, tx_end``) for the ``switch exon`` concept."""
    from isograph.sae.bridge import bridge_switches, switch_exon_sequences
    from isograph.sae.runs import load_run_models

    annotated = demo_dir / "structure" / "switch_pairs_annotated.parquet"
    if not annotated.exists():
        return {"status": "no structural annotation"}, None
    pairs = pd.read_parquet(annotated)
    segments = switch_exon_sequences(pairs[pairs["status"] == "ok"], models,
                                     dict(zip(fasta["seq_id"], fasta["sequence"])))
    stretches = pd.DataFrame({"transcript_id": segments["transcript_id"],
                              "tx_start": segments["seq_id"].str.split("|").str[-1].astype(int)})
    stretches["tx_end"] = stretches["tx_start"] + segments["sequence"].str.len()
    lm, sae = load_run_models(run)
    try:
        features, segment_max = bridge_switches(lm, sae, segments, layer=layer_idx)
    except InputError as exc:
        return {"status": str(exc)}, stretches
    maxima = pd.DataFrame(segment_max, columns=[f"f{i}" for i in range(segment_max.shape[1])])
    write_parquet(pd.concat([segments, maxima], axis=1), run.path("switch_segments"))
    write_parquet(features, run.path("switch_features"))
    best = features.iloc[0]
    return {"status": "ok", "n_gained": int((segments["set"] == "gained").sum()),
            "n_lost": int((segments["set"] == "lost").sum()), "n_pairs": int(segments["pair"].nunique()),
            "n_features_q05": int((features["qvalue"] < 0.05).sum()),
            "best": {"feature": int(best["feature"]), "auc": float(best["auc"]), "pvalue": float(best["pvalue"]),
                     "qvalue": float(best["qvalue"])}}, stretches


def build_sae_demo(demo_dir: str | os.PathLike, gtf: str | os.PathLike, *, lm: str | os.PathLike | None = None,
                   layer_idx: int = 2, expansion_factor: int = 8, seed: int = 0,
                   progress: Callable[[float, str], None] | None = None) -> dict:
    """Build ``{demo_dir}/sae`` (see the module docstring) and return its summary.

    Parameters
    ----------
    demo_dir : path
        The demo data set folder; ``sae/`` is written inside it.
    gtf : path
        The GTF of the transcripts (CDS/UTR boundaries).
    lm : path, optional
        A local masked LM folder, copied to ``sae/lm`` (default the shipped model, :data:`SHIPPED_LM`:
        trained by ``isograph sae train-lm`` on the reference transcripts; see ``data/reference/README.md``).
    layer_idx : int, default 2
        ``hidden_states`` index the SAE is trained on (capped at the model's last layer).
    expansion_factor : int, default 8
        SAE latents per hidden dimension.
    seed : int, default 0
    progress : callable, optional
        ``progress(fraction, message)``.
    """
    from isograph.sae.go import enrich, load_gene_ontology
    from isograph.sae.lm import load_masked_lm
    from isograph.sae.model import SAEConfig
    from isograph.sae.runs import build_run
    from isograph.structure.cache import load_transcript_models

    report = progress or (lambda fraction, message: None)
    out = Path(demo_dir) / "sae"
    out.mkdir(parents=True, exist_ok=True)
    timings = {}
    fasta = read_fasta(REFERENCE_FASTA, set_name="transcripts")
    models = load_transcript_models(gtf).models
    windows = transcript_windows(fasta, models)
    write_parquet(windows, out / "windows.parquet")
    report(0.05, f"{len(windows)} windows ({(windows['set'] == 'CDS').sum()} CDS, {(windows['set'] == 'UTR').sum()} UTR)")

    source = Path(lm) if lm is not None else SHIPPED_LM
    if (out / "lm").exists():
        shutil.rmtree(out / "lm")
    shutil.copytree(source, out / "lm")
    report(0.1, f"language model: {source.name} (shipped, trained offline)")
    training = json.loads((out / "lm" / "training.json").read_text()) if (out / "lm" / "training.json").exists() else {}
    layer_idx = min(layer_idx, load_masked_lm(out / "lm").n_layers)
    t1 = time.perf_counter()
    built = build_run(out, out / "lm", windows, layer_idx=layer_idx, sequences_path=out / "windows.parquet",
                      config=SAEConfig(expansion_factor=expansion_factor, epochs=15, batch_size=512,
                                       learning_rate=1e-3, seed=seed),
                      gene_column="gene_name", contrast=("CDS", "UTR"),  # GO uses gene symbols
                      progress=lambda f, m, row: report(0.1 + 0.8 * f, m))
    timings["embed_train_graph"] = time.perf_counter() - t1
    sae_result, edges, run = built["train"], built["edges"], built["run"]
    regions = region_enrichment(edges)
    write_parquet(regions, run.path("regions"))
    bridge, switch_exons = _bridge(Path(demo_dir), run, models, fasta, layer_idx)
    concepts = run_concepts(built["tokens"], built["z"], models, seed=seed,
                            sequences=dict(zip(fasta["seq_id"], fasta["sequence"])), switch_exons=switch_exons)
    write_parquet(concepts, run.path("concepts"))

    t4 = time.perf_counter()
    ontology = load_gene_ontology()
    background = windows["gene_name"].dropna().unique()
    go_tables = []
    for feat in regions["feature"].head(5):
        genes = edges.loc[edges["feature"] == feat, "genes"].unique()
        table = enrich(genes, background, ontology)
        go_tables.append(table.assign(feature=int(feat)).head(50))
    go_table = pd.concat(go_tables, ignore_index=True) if go_tables else pd.DataFrame()
    write_parquet(go_table, run.path("go_enrichment"))
    timings["go"] = time.perf_counter() - t4

    best = regions.iloc[0]
    cds = regions[regions["odds_ratio"] > 1].iloc[0] if (regions["odds_ratio"] > 1).any() else best
    summary = {
        "n_windows": len(windows), "n_tokens": len(built["tokens"]), "layer_idx": layer_idx, "run": run.key,
        "expansion_factor": expansion_factor,
        "lm": {"source": str(source), **{k: training.get(k) for k in ("steps", "held_out", "probe", "config")}},
        "sae": {"best_epoch": sae_result.best_epoch, "final": sae_result.metrics[sae_result.best_epoch - 1]},
        "n_significant_features_q05": int((regions["qvalue"] < 0.05).sum()),
        "best_region_feature": {"feature": int(best["feature"]), "odds_ratio": float(best["odds_ratio"]),
                                "qvalue": float(best["qvalue"]), "n_cds": int(best["n_a"]), "n_utr": int(best["n_b"])},
        "best_cds_feature": {"feature": int(cds["feature"]), "odds_ratio": float(cds["odds_ratio"]),
                             "qvalue": float(cds["qvalue"]), "n_cds": int(cds["n_a"]), "n_utr": int(cds["n_b"])},
        "concepts": {row.concept: {"feature": int(row.feature), "f1": float(row.f1), "precision": float(row.precision),
                                   "recall": float(row.recall), "threshold": float(row.threshold)}
                     for row in concepts.sort_values("f1", ascending=False).drop_duplicates("concept").itertuples()},
        "switch_bridge": bridge,
        "timings_s": {k: round(v, 2) for k, v in timings.items()},
    }
    write_json(summary, out / "summary.json")
    report(1.0, "SAE demo done")
    return summary

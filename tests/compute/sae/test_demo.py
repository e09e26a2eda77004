"""The SAE demo on the real transcripts: at least one feature separates CDS from UTR tokens (Fisher, BH q < 0.05)."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from scipy import stats

from isograph.sae.demo import transcript_windows
from isograph.sae.graph import load_graph
from isograph.simulate import REFERENCE_GTF


@pytest.fixture(scope="module")
def demo(demo_root):
    """The SAE part of the shared demo: its folder and summary."""
    out = demo_root / "demo" / "sae"
    return out, json.loads((out / "summary.json").read_text())


def test_windows_lie_in_their_region(tmp_path):
    from isograph.sae.demo import REFERENCE_FASTA
    from isograph.sae.sequences import read_fasta
    from isograph.structure.cache import load_transcript_models

    models = load_transcript_models(REFERENCE_GTF, cache=tmp_path / "models.parquet").models
    windows = transcript_windows(read_fasta(REFERENCE_FASTA), models)
    assert set(windows["set"]) == {"CDS", "UTR"} and (windows["sequence"].str.len() == 240).all()
    row = windows[windows["set"] == "CDS"].iloc[0]
    tx = models.set_index("transcript_id").loc[row["seq_id"].split("|")[0]]
    assert int(row["seq_id"].split("|")[2]) == tx["utr5_length"]  # the CDS window starts at the ORF's first base


def test_a_feature_separates_cds_from_utr(demo):
    out, summary = demo
    regions = pd.read_parquet(out / summary["run"] / "feature_region_enrichment.parquet")
    best = summary["best_cds_feature"]
    print(f"SAE demo: {summary['n_significant_features_q05']} features differ between CDS and UTR tokens at q < 0.05;"
          f" CDS feature {best['feature']}: odds ratio {best['odds_ratio']:.2f}, q {best['qvalue']:.2g}")
    assert summary["n_significant_features_q05"] >= 1 and best["qvalue"] < 0.05 and best["odds_ratio"] > 1
    edges = pd.read_parquet(out / summary["run"] / "edges.parquet")  # the oracle: a 2x2 table counted here, scipy's Fisher test
    cds, led = edges["set"] == "CDS", edges["feature"] == best["feature"]
    table = [[(cds & led).sum(), (cds & ~led).sum()], [(~cds & led).sum(), (~cds & ~led).sum()]]
    fisher = stats.fisher_exact(table)
    row = regions.set_index("feature").loc[best["feature"]]
    assert row["pvalue"] == pytest.approx(fisher.pvalue) and row["odds_ratio"] == pytest.approx(fisher.statistic)


def test_outputs_are_written(demo):
    out, summary = demo
    run = out / summary["run"]
    graph = load_graph(run / "kg.json")
    kinds = {data["kind"] for _, data in graph.nodes(data=True)}
    assert kinds == {"feature", "token", "sequence"} and graph.graph["expansion_factor"] == 8
    centrality = pd.read_parquet(run / "centrality.parquet")
    assert centrality["pagerank"].sum() == pytest.approx(1.0)
    contrast = pd.read_parquet(run / "contrast.parquet")
    ranked = contrast[contrast["seen_in"] == "both"]
    assert ranked["log10_ratio"].is_monotonic_decreasing and set(contrast["set_a"]) == {"CDS"}
    assert contrast.loc[contrast["seen_in"] != "both", "log10_ratio"].isna().all()
    assert (out / "ef8" / f"layer_{summary['layer_idx']}" / "sae.pt").exists()
    assert json.loads((out / "summary.json").read_text())["n_tokens"] == summary["n_tokens"] > 10000
    go = pd.read_parquet(run / "go_enrichment.parquet")
    assert {"go_id", "term", "pvalue", "qvalue", "feature"} <= set(go.columns)


def test_the_demo_uses_the_shipped_model_and_says_how_good_it_is(demo):
    from isograph.sae.demo import SHIPPED_LM
    from isograph.sae.train_lm import describe_model

    out, summary = demo
    assert (out / "lm" / "model.safetensors").read_bytes() == (SHIPPED_LM / "model.safetensors").read_bytes()
    held = summary["lm"]["held_out"]
    assert held["loss"] <= held["loss_kmer_frequency"] - 0.3
    words = describe_model(out / "lm")
    assert f"{held['loss']:.2f} nats vs {held['loss_kmer_frequency']:.2f} for 6-mer frequencies" in words
    assert "CDS-vs-UTR linear probe" in words


def test_concept_labels_agree_with_how_the_windows_were_cut(demo):
    """Every token of a CDS window is labelled CDS, every token of a UTR window 5'UTR or 3'UTR (the windows lie
    wholly inside their region), and the stored scores cover every feature and concept."""
    from isograph.sae.concepts import CONCEPTS, token_concepts, transcript_positions
    from isograph.sae.runs import find_runs, load_run_data
    from isograph.structure.cache import load_transcript_models

    out, summary = demo
    run = next(r for r in find_runs(out) if r.key == summary["run"])
    tokens = load_run_data(run).tokens
    models = load_transcript_models(REFERENCE_GTF).models
    labels = token_concepts(transcript_positions(tokens, set(models["transcript_id"])), models)
    cds = (tokens["set"] == "CDS").to_numpy()
    assert labels.loc[cds, "CDS"].all() and not labels.loc[~cds, "CDS"].any()
    assert (labels.loc[~cds, "3'UTR"] | labels.loc[~cds, "5'UTR"]).all()
    scores = pd.read_parquet(run.path("concepts"))
    assert len(scores) == 512 * len(CONCEPTS) and scores["f1"].between(0, 1).all()
    best = summary["concepts"]["CDS"]
    row = scores[(scores["concept"] == "CDS") & (scores["feature"] == best["feature"])].iloc[0]
    assert row["f1"] == pytest.approx(best["f1"]) and row["f1"] == scores.loc[scores["concept"] == "CDS", "f1"].max()


def test_the_switch_bridge_compares_gained_and_lost_exons(demo):
    """The demo's called switches give gained and lost exonic stretches; each tested feature's p-value is scipy's
    Mann-Whitney U of the stored per-stretch maxima."""
    out, summary = demo
    bridge = summary["switch_bridge"]
    assert bridge["status"] == "ok" and bridge["n_gained"] >= 2 and bridge["n_lost"] >= 2
    segments = pd.read_parquet(out / summary["run"] / "switch_segments.parquet")
    features = pd.read_parquet(out / summary["run"] / "switch_features.parquet")
    assert set(segments["set"]) == {"gained", "lost"} and (segments["sequence"].str.len() >= 18).all()
    best = features.iloc[0]
    column = segments[f"f{int(best['feature'])}"]
    test = stats.mannwhitneyu(column[segments["set"] == "gained"], column[segments["set"] == "lost"])
    assert best["pvalue"] == pytest.approx(test.pvalue) and best["feature"] == bridge["best"]["feature"]

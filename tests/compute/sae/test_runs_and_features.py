"""SAE runs (build, find, readable subgraph) and feature pages' statistics, against recomputed oracles."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pandas as pd
import pytest

from isograph.errors import InputError
from isograph.sae.features import clean_dna, feature_profile, sequence_activations, sequence_track, token_activations
from isograph.sae.model import SAEConfig
from isograph.sae.runs import build_run, find_runs, top_subgraph

from .conftest import random_sequences


@pytest.fixture(scope="module")
def run(tmp_path_factory, tiny_lm_dir):
    sae_dir = tmp_path_factory.mktemp("sae_run")
    shutil.copytree(tiny_lm_dir, sae_dir / "lm")
    sequences = pd.concat([random_sequences(12, [120, 90], seed=1, set_name="a"),
                           random_sequences(12, [120, 90], seed=2, set_name="b")], ignore_index=True)
    sequences["gene_id"] = [f"G{i % 5}" for i in range(len(sequences))]
    rows = []
    built = build_run(sae_dir, sae_dir / "lm", sequences, layer_idx=2,
                      config=SAEConfig(expansion_factor=4, epochs=3, batch_size=64, seed=0),
                      progress=lambda f, m, row: rows.append((f, m, row)))
    return sae_dir, built, rows


def test_build_run_writes_a_findable_run(run):
    sae_dir, _, rows = run
    [found] = find_runs(sae_dir)
    assert (found.expansion_factor, found.layer_idx, found.sets) == (4, 2, ("a", "b"))
    assert found.path("lm") == (sae_dir / "lm").resolve() and found.path("activations").is_dir()
    for name in ("edges", "graph", "centrality", "contrast"):
        assert found.path(name).exists(), name
    assert [r for _, _, r in rows if r is not None][-1]["epoch"] == 3 and rows[-1][0] == 1.0
    # the oracle: edges = each token's argmax feature, recomputed from the saved SAE and the cached activations
    from isograph.sae.embed import load_activations
    from isograph.sae.model import encode, load_sae

    sae, _ = load_sae(found.folder)
    z = encode(sae, load_activations(found.path("activations")).layer(2))
    active = z.max(axis=1) > 0
    edges = pd.read_parquet(found.path("edges"))
    np.testing.assert_array_equal(edges["feature"].to_numpy(), z.argmax(axis=1)[active])
    np.testing.assert_allclose(edges["weight"].to_numpy(), z.max(axis=1)[active], rtol=1e-6)
    assert set(edges["genes"]) <= {f"G{i}" for i in range(5)}


def test_a_run_outside_its_folder_is_not_listed(tmp_path):
    evil = tmp_path / "ef2" / "layer_0"
    evil.mkdir(parents=True)
    (evil / "run.json").write_text(json.dumps({"layer_idx": 0, "expansion_factor": 2,
                                               "paths": {"lm": "../../../../etc"}}))
    assert find_runs(tmp_path) == []


def test_top_subgraph_links_are_summed_edges(run):
    sae_dir, built, _ = run
    edges = built["edges"]
    nodes, links = top_subgraph(edges, top_n=3, per_feature=4)
    features = nodes.loc[nodes["kind"] == "feature", "node"].tolist()
    assert len(features) == 3 and set(links["target"]) <= set(features)
    assert (links.groupby("target").size() <= 8).all()  # up to 4 token and 4 sequence links each
    for link in links.head(10).itertuples():
        column = "seq_id" if link.source in set(edges["seq_id"]) else "token"
        mine = edges[(edges[column] == link.source) & ("f" + edges["feature"].astype(str) == link.target)]
        assert link.weight == pytest.approx(mine["weight"].sum()) and link.n_edges == len(mine)
    assert set(nodes["node"]) == set(features) | set(links["source"])
    heavy = links["weight"].median()
    _, kept = top_subgraph(edges, top_n=3, per_feature=4, min_weight=heavy)
    assert (kept["weight"] >= heavy).all() and len(kept) < len(links)
    only_b, _ = top_subgraph(edges, sets=["b"], top_n=3)
    assert set(only_b.loc[only_b["kind"] == "sequence", "set"]) == {"b"}
    from isograph.sae.graph import centrality
    from isograph.sae.runs import load_set_centrality

    [found] = find_runs(sae_dir)
    stored = load_set_centrality(found, ("b",))  # written by build_run; equal to a recomputation
    fresh = centrality(pd.read_parquet(found.path("edges")).query("set == 'b'"))
    pd.testing.assert_series_equal(stored.set_index("node")["pagerank"].sort_index(),
                                   fresh.set_index("node")["pagerank"].sort_index(), rtol=1e-9)
    with_stored, _ = top_subgraph(edges, stored, sets=["b"], top_n=3)
    assert with_stored["node"].tolist() == only_b["node"].tolist()
    with pytest.raises(InputError, match="no token edges"):
        top_subgraph(edges, sets=["nope"])


def test_feature_profile_against_direct_counts(run):
    _, built, _ = run
    tokens, z = built["tokens"], built["z"]
    feature = int(np.argmax((z > 0).sum(axis=0)))
    values = z[:, feature]
    profile = feature_profile(tokens, values, feature=feature, n_top=3, n_intervals=3, per_interval=2)
    assert profile.frequency == pytest.approx((values > 0).mean()) and profile.max_activation == pytest.approx(values.max())
    assert profile.histogram["count"].sum() == (values > 0).sum()
    per_seq = pd.Series(values).groupby(tokens["seq_id"].to_numpy()).max().sort_values(ascending=False)
    assert profile.top_sequences["seq_id"].tolist() == per_seq.index[:3].tolist()
    np.testing.assert_allclose(profile.top_sequences["max_activation"], per_seq.iloc[:3], rtol=1e-6)
    sampled = profile.quantile_samples
    assert not set(sampled["seq_id"]) & set(profile.top_sequences["seq_id"])
    for row in sampled.itertuples():
        low, high = map(float, row.interval.split(" ")[1].split("–"))
        assert low - 1e-2 <= row.max_activation <= high + 1e-2
    heat = token_activations(tokens, values, per_seq.index[:2].tolist())
    assert heat["seq_id"].unique().tolist() == per_seq.index[:2].tolist()
    assert heat.groupby("seq_id")["activation"].max().to_dict() == pytest.approx(per_seq.iloc[:2].to_dict())


def test_pasted_sequence_activations_equal_the_hooked_model(run, tiny_lm):
    """Oracle: the intervention hook's own encoding of the same layer (an identity edit)."""
    from isograph.sae.intervene import intervene
    from isograph.sae.model import load_sae

    sae_dir, _, _ = run
    [found] = find_runs(sae_dir)
    sae, _ = load_sae(found.folder)
    sequence = "ACGTTGCAAGGCTTACCGATAGCTAGGCTTAACGGATCCAGT"
    tokens, top = sequence_activations(tiny_lm, sae, ">pasted\n" + sequence.lower(), layer_idx=2)
    feature = int(top["feature"].iloc[0])
    hooked = intervene(tiny_lm, sae, sequence, layer_idx=2, feature=feature, alpha=1.0).effects
    np.testing.assert_allclose(tokens["activation"], hooked["z_before"], atol=1e-5)
    assert tokens["token"].tolist() == hooked["token"].tolist()
    assert top["max_activation"].is_monotonic_decreasing
    with pytest.raises(InputError, match="feature 999 is out of range"):
        sequence_activations(tiny_lm, sae, sequence, layer_idx=2, feature=999)


@pytest.mark.parametrize(("text", "message"), [
    ("ACGTXACGT", "invalid DNA: 'X' at position 5"),
    ("", "no sequence"),
    (">only a header\n", "no sequence"),
    ("ACG", "at least 6 are needed"),
    ("ACGT" * 100, "at most 300"),
])
def test_bad_dna_is_named(text, message):
    with pytest.raises(InputError, match=message):
        clean_dna(text, max_bases=300)


def test_sequence_track_minus_strand_window():
    # a minus-strand transcript: exons (genomic) 501-600 and 101-250 -> transcript order 100 nt then 150 nt
    models = pd.DataFrame({"transcript_id": ["T2"], "strand": ["-"], "exon_starts": [[101, 501]],
                           "exon_ends": [[250, 600]], "coding": [True], "utr5_length": [40], "orf_length": [180],
                           "length": [250]})
    track = sequence_track("T2|UTR|60", 120, models)
    assert track.values.tolist() == [[0, 120, "CDS"], [40, 40, "junction"]]
    assert sequence_track("T2|200", 50, models).values.tolist() == [[0, 20, "CDS"], [20, 50, "3'UTR"]]
    assert sequence_track("NOPE|0", 50, models).empty


def test_rebuilding_a_run_replaces_it_whole(run):
    """A run is staged and committed whole (isograph.dataset.commit): no mix of old and new files, no leftovers."""
    sae_dir, _, _ = run
    [before] = find_runs(sae_dir)
    sequences = pd.read_parquet(before.path("sequences"))
    build_run(sae_dir, sae_dir / "lm", sequences, layer_idx=2, config=SAEConfig(expansion_factor=4, epochs=1,
                                                                               batch_size=64, seed=5))
    [after] = find_runs(sae_dir)
    metrics = json.loads((after.folder / "metrics.json").read_text())
    assert len(metrics["epochs"]) == 1 and after.key == before.key
    # no staging or backup folder left; the writers' lock file stays (it is how writers take turns)
    assert sorted(p.name for p in after.folder.parent.iterdir()) == [".isograph.lock", "layer_2"]
    edges = pd.read_parquet(after.path("edges"))
    from isograph.sae.embed import load_activations
    from isograph.sae.model import encode, load_sae

    z = encode(load_sae(after.folder)[0], load_activations(after.path("activations")).layer(2))
    np.testing.assert_array_equal(edges["feature"].to_numpy(), z.argmax(axis=1)[z.max(axis=1) > 0])


def test_sequence_track_from_genomic_coordinates():
    # a + strand coding transcript: exons 101-200 and 301-400, CDS 151-350; a non-coding one: exon 401-450
    models = pd.DataFrame({"transcript_id": ["T1", "T2"], "seqname": ["chr1", "chr1"], "strand": ["+", "+"],
                           "start": [101, 401], "end": [400, 450], "exon_starts": [[101, 301], [401]],
                           "exon_ends": [[200, 400], [450]], "coding": [True, False], "cds_start": [151, -1],
                           "cds_end": [350, -1], "utr5_length": [50, 0], "orf_length": [100, 0], "length": [200, 50]})
    track = sequence_track("chr1:91-440(+)", 350, models, chrom="chr1", start=91, strand="+")
    assert track.values.tolist() == [[10, 60, "5'UTR"], [60, 110, "CDS"], [210, 260, "CDS"], [260, 310, "3'UTR"],
                                     [310, 350, "exon"]]  # bases 91-100 and 201-300 are not exonic
    minus = sequence_track("x", 350, models, chrom="chr1", start=91, strand="-")  # read from base 440 down
    assert minus.values.tolist()[0] == [0, 40, "exon"] and minus.values.tolist()[-1] == [290, 340, "5'UTR"]
    assert sequence_track("x", 50, models, chrom="chr2", start=91).empty

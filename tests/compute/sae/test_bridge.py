"""The switch <-> feature bridge: gained/lost exonic stretches by hand, the per-feature test against scipy."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from statsmodels.stats.multitest import multipletests

from isograph.errors import InputError
from isograph.sae.bridge import bridge_switches, exon_difference, separating_features, switch_exon_sequences


def test_gained_and_lost_stretches_on_both_strands():
    # gene on - strand: T1 exons 100-199, 300-399; T2 exons 100-199, 250-279, 300-399 (T2 gains 250-279);
    # read 5'->3' from 399 down, T2's gained exon is transcript 100..129 (after its first exon of 100 nt)
    models = pd.DataFrame({"transcript_id": ["T1", "T2"], "seqname": "chr1", "strand": "-",
                           "exon_starts": [[100, 300], [100, 250, 300]], "exon_ends": [[199, 399], [199, 279, 399]]})
    rng = np.random.default_rng(0)
    t2 = "".join(rng.choice(list("ACGT"), 230))
    t1 = t2[:100] + t2[130:]
    pairs = pd.DataFrame({"gene_id": ["G"], "transcript_id_1": ["T1"], "transcript_id_2": ["T2"], "module_id": ["M1"]})
    table = switch_exon_sequences(pairs, models, {"T1": t1, "T2": t2})
    assert table[["seq_id", "set", "start", "end"]].values.tolist() == [["T2|gained|100", "gained", 250, 279]]
    assert table["sequence"].iloc[0] == t2[100:130] and table["pair"].iloc[0] == "T1>T2"
    swapped = switch_exon_sequences(pairs.assign(transcript_id_1="T2", transcript_id_2="T1"), models, {"T1": t1, "T2": t2})
    assert swapped["set"].tolist() == ["lost"] and swapped["sequence"].iloc[0] == t2[100:130]
    assert exon_difference([1], [10], [3], [5]) == [(1, 2), (6, 10)]


def test_the_feature_test_is_scipys_mann_whitney_with_bh():
    rng = np.random.default_rng(3)
    sides = np.array(["gained"] * 12 + ["lost"] * 9)
    z = rng.exponential(1.0, (21, 6)) * (rng.random((21, 6)) < 0.7)
    z[:, 5] = 0  # never active: not tested
    z[:12, 2] += 3.0  # planted: feature 2 fires on gained stretches
    table = separating_features(z, sides)
    assert set(table["feature"]) == {0, 1, 2, 3, 4} and table.iloc[0]["feature"] == 2 and table.iloc[0]["auc"] > 0.9
    loop = {f: stats.mannwhitneyu(z[:12, f], z[12:, f], alternative="two-sided") for f in range(5)}
    for row in table.itertuples():
        assert row.pvalue == pytest.approx(loop[row.feature].pvalue)
        assert row.auc == pytest.approx(loop[row.feature].statistic / (12 * 9))
    expected_q = multipletests(table["pvalue"], method="fdr_bh")[1]
    np.testing.assert_allclose(table["qvalue"], expected_q)
    with pytest.raises(InputError, match="1 gained and 9 lost"):
        separating_features(z[11:], sides[11:])


def test_bridge_takes_each_stretchs_max_over_its_tiles(tmp_path):
    import torch

    from isograph.sae.embed import embed_sequences
    from isograph.sae.lm import load_masked_lm, make_esm_lm
    from isograph.sae.model import encode, new_sae

    lm = load_masked_lm(make_esm_lm(tmp_path / "lm", hidden_size=16, n_layers=1, n_heads=2, max_tokens=20, seed=0))
    torch.manual_seed(0)
    sae = new_sae(16, 24)
    rng = np.random.default_rng(1)
    segments = pd.DataFrame({"seq_id": [f"T|{s}|{i}" for i, s in enumerate(["gained", "gained", "lost", "lost"])],
                             "sequence": ["".join(rng.choice(list("ACGT"), n)) for n in (40, 200, 60, 150)],
                             "chrom": "c", "start": -1, "end": -1, "strand": ".",
                             "set": ["gained", "gained", "lost", "lost"]})
    _, segment_max = bridge_switches(lm, sae, segments, layer=1)
    one = embed_sequences(lm, segments.iloc[[0]], [1])  # short enough for one pass: its own max is the oracle
    np.testing.assert_allclose(segment_max[0], encode(sae, one.layer(1)).max(axis=0), atol=1e-5)
    assert (segment_max >= 0).all() and segment_max.shape == (4, 24)

"""The language-model trainer (deterministic, held-out genes, baselines) and the CDS/UTR probe, against oracles."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from scipy import stats

from isograph.sae.probe import _bag_of_kmers, logistic_probe_auc, region_labels, roc_auc
from isograph.sae.train_lm import LMConfig, encode_windows, evaluate_masked_lm, split_held_out, train_masked_lm


def _transcripts(n: int = 24, length: int = 420, seed: int = 3) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame({"seq_id": [f"t{i}" for i in range(n)],
                         "sequence": ["".join(rng.choice(list("ACGT"), length)) for _ in range(n)],
                         "chrom": None, "start": -1, "end": -1, "strand": ".", "set": "x",
                         "gene_id": [f"g{i // 2}" for i in range(n)]})


def test_held_out_genes_are_whole_and_seeded():
    table = _transcripts()
    train, held = split_held_out(table, 0.25, seed=4)
    assert set(train["gene_id"]).isdisjoint(held["gene_id"]) and held["gene_id"].nunique() == 3
    assert held.groupby("gene_id").size().eq(2).all()  # both transcripts of each held-out gene
    assert split_held_out(table, 0.25, seed=4)[1]["seq_id"].tolist() == held["seq_id"].tolist()
    with pytest.raises(Exception, match="validation_fraction must be in"):
        split_held_out(table, 1.0)


def test_training_is_deterministic_for_a_fixed_seed_and_step_count(tmp_path):
    import torch
    from safetensors.torch import load_file

    config = LMConfig(hidden_size=16, n_layers=1, n_heads=2, window_tokens=24, batch_size=8, epochs=4, max_steps=9,
                      validation_fraction=0.25, seed=7)
    first = train_masked_lm(_transcripts(), tmp_path / "a", config)
    second = train_masked_lm(_transcripts(), tmp_path / "b", config)
    assert first["steps"] == 9 and first["history"][-1]["steps"] == 9
    a, b = load_file(tmp_path / "a" / "model.safetensors"), load_file(tmp_path / "b" / "model.safetensors")
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
    assert first["held_out"] == second["held_out"] and first["n_held_out_sequences"] == 6


def test_held_out_loss_and_its_baselines_by_hand(tmp_path):
    """The 6-mer-frequency baseline is -mean log((count + 1) / (N + 4096)) over the masked held-out tokens, and
    the model's loss is the cross-entropy of its k-mer logits renormalised over the 4,096 k-mers."""
    import torch

    from isograph.sae.lm import load_masked_lm, make_esm_lm

    lm = load_masked_lm(make_esm_lm(tmp_path / "m", hidden_size=16, n_layers=1, n_heads=2, max_tokens=40, seed=2))
    train, held = split_held_out(_transcripts(), 0.25, seed=1)
    windows = [encode_windows(lm, train, 30)]
    result = evaluate_masked_lm(lm, held, windows, window_tokens=30, seed=5)
    kmer_ids = np.array(sorted(i for t, i in lm.vocab.items() if len(t) == 6 and set(t) <= set("ACGT")))
    assert len(kmer_ids) == 4096 and lm.special_id("<mask>") not in kmer_ids
    ids = encode_windows(lm, held, 30)
    chosen = np.isin(ids, kmer_ids) & (np.random.default_rng(6).random(ids.shape) < 0.15)
    assert result["n_tokens"] == chosen.sum()
    train_tokens = windows[0][np.isin(windows[0], kmer_ids)]
    counts = pd.Series(train_tokens).value_counts().reindex(kmer_ids, fill_value=0).to_numpy() + 1.0
    expected = -np.log(counts[np.searchsorted(kmer_ids, ids[chosen])] / counts.sum()).mean()
    assert result["loss_kmer_frequency"] == pytest.approx(expected) and result["loss_uniform"] == pytest.approx(np.log(4096))
    x = ids.copy()
    x[chosen] = lm.special_id("<mask>")
    with torch.no_grad():
        logits = lm.model(input_ids=torch.from_numpy(x),
                          attention_mask=torch.from_numpy((x != lm.special_id("<pad>")).astype(np.int64))).logits
    logp = torch.log_softmax(logits[torch.from_numpy(chosen)][:, torch.from_numpy(kmer_ids)], -1).numpy()
    target = np.searchsorted(kmer_ids, ids[chosen])
    assert result["loss"] == pytest.approx(-logp[np.arange(len(target)), target].mean(), rel=1e-5)


def test_auc_is_the_mann_whitney_statistic():
    rng = np.random.default_rng(0)
    score, label = rng.normal(size=200), rng.random(200) < 0.4
    score[label] += 0.7
    pairs = (score[label][:, None] > score[~label][None, :]).mean()  # every positive-negative pair, by hand
    assert roc_auc(score, label.astype(int)) == pytest.approx(pairs)


def test_the_probe_fits_the_logistic_regression_statsmodels_fits():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(600, 4))
    y = (rng.random(600) < 1 / (1 + np.exp(-(1.5 * x[:, 0] - x[:, 2])))).astype(int)
    auc, scores, l2 = logistic_probe_auc(x[:400], y[:400], x[400:], y[400:], l2=0.0)
    z = (x - x[:400].mean(0)) / x[:400].std(0)
    fit = sm.Logit(y[:400], sm.add_constant(z[:400])).fit(disp=0)
    np.testing.assert_allclose(scores, sm.add_constant(z[400:]) @ fit.params, rtol=1e-4, atol=1e-4)
    assert l2 == 0.0 and auc == pytest.approx(roc_auc(scores, y[400:]))
    assert logistic_probe_auc(x[:400], y[:400], x[400:], y[400:])[2] in (1e-4, 1e-3, 1e-2, 1e-1)


def test_region_labels_and_the_kmer_bag_by_hand():
    models = pd.DataFrame({"transcript_id": ["T1", "T2"], "coding": [True, False], "utr5_length": [6, 0],
                           "orf_length": [12, 0]})
    tokens = pd.DataFrame({"transcript_id": ["T1"] * 4 + ["T2"], "tx_start": [0, 6, 12, 18, 0],
                           "tx_end": [6, 12, 18, 24, 6]})
    assert region_labels(tokens, models).tolist() == [0, 1, 1, 0, -1]  # 5' UTR, ORF, ORF, 3' UTR, noncoding
    bag = _bag_of_kmers(pd.DataFrame({"token": ["AAAAAA", "AAAAAC", "N", "AAAAAA"], "seq_id": ["s", "s", "s", "u"]}),
                        1, 6)
    assert bag[0, 0] == 1 and bag[0, 1] == 1 and bag[1].sum() == 2 and bag[3].tolist().count(1) == 1
    assert bag[3, 0] == 1  # another tile's neighbour is not counted
    assert stats.rankdata([1]).tolist() == [1.0]


def test_the_model_card_says_what_a_report_holds_and_what_it_lacks(tmp_path):
    import json

    from isograph.sae.train_lm import describe_model

    assert "without a training report" in describe_model(tmp_path)
    (tmp_path / "training.json").write_text(json.dumps({"config": {"n_layers": 2, "hidden_size": 8, "seed": 3}}))
    words = describe_model(tmp_path)
    assert "2 layers × 8" in words and "for ? steps" in words and "No held-out evaluation" in words
    (tmp_path / "training.json").write_text(json.dumps({
        "config": {"n_layers": 2, "hidden_size": 8, "seed": 3}, "steps": 1200, "n_train_sequences": 40,
        "n_held_out_sequences": 5, "held_out": {"loss": 7.5, "loss_kmer_frequency": 8.0, "loss_uniform": 8.32,
                                                "n_tokens": 1234},
        "probe": [{"layer": 1, "auc_hidden": 0.8, "auc_kmer_bag": 0.7}]}))
    words = describe_model(tmp_path)
    assert "1,200 steps on 40 sequences" in words and "7.50 nats vs 8.00 for 6-mer frequencies" in words
    assert "AUC 0.80 vs 0.70 for a bag of 6-mers" in words and "No held-out" not in words

"""Concept labels of tokens from transcript models, and per-feature precision/recall/F1, by hand and by planting."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from isograph.sae.concepts import CONCEPTS, best_concepts, concept_scores, token_concepts, transcript_positions


def _models():
    # T1 (+): exons 101-130 and 201-260 (30 + 60 nt); 5' UTR 12 nt, ORF 60 nt (start at 12, stop codon 69-71),
    # 3' UTR 18 nt; its one junction at transcript position 30. T2 (-): exons 1001-1020 and 1101-1140, read from
    # 1140 down: first exon 40 nt, junction at 40; noncoding.
    return pd.DataFrame({
        "transcript_id": ["T1", "T2"], "strand": ["+", "-"], "exon_starts": [[101, 201], [1001, 1101]],
        "exon_ends": [[130, 260], [1020, 1140]], "coding": [True, False], "utr5_length": [12, 0],
        "orf_length": [60, 0], "utr3_length": [18, 0], "nmd": [True, False]})


def test_each_concept_by_hand():
    tokens = pd.DataFrame({"seq_id": ["T1", "T1", "T1", "T1", "T1|w|60", "T2", "T2", "X"],
                           "start": [0, 12, 24, 30, 6, 36, 42, 0], "end": [6, 18, 30, 36, 12, 42, 48, 6]})
    positions = transcript_positions(tokens, {"T1", "T2"})
    assert positions["tx_start"].tolist() == [0, 12, 24, 30, 66, 36, 42, -1]
    labels = token_concepts(positions, _models(), flank=10)
    on = {i: sorted(c for c in CONCEPTS if labels.loc[i, c]) for i in labels.index}
    assert on[0] == ["5'UTR", "NMD-sensitive", "first exon"]
    assert on[1] == ["CDS", "NMD-sensitive", "first exon", "start codon"]
    assert on[2] == ["CDS", "NMD-sensitive", "donor flank", "first exon"]  # middle 26.5: within 10 nt before 30
    assert on[3] == ["CDS", "NMD-sensitive", "acceptor flank", "last exon"]  # starts at the junction: not inside
    assert on[4] == ["CDS", "NMD-sensitive", "last exon", "stop codon"]  # 66-71 holds the stop codon 69-71
    assert on[5] == ["donor flank", "exon junction", "first exon"] and on[6] == ["acceptor flank", "last exon"]  # T2: junction at 40
    assert on[7] == []
    stretches = pd.DataFrame({"transcript_id": ["T1"], "tx_start": [10], "tx_end": [20]})
    switch = token_concepts(positions, _models(), flank=10, switch_exons=stretches)["switch exon"]
    assert switch.tolist() == [False, True, False, False, False, False, False, False]  # only the middle 14.5


def test_a_planted_feature_scores_f1_one_on_its_concept_and_the_threshold_comes_from_training_tokens():
    rng = np.random.default_rng(0)
    n = 400
    concepts = pd.DataFrame({"CDS": rng.random(n) < 0.4, "stop codon": rng.random(n) < 0.05})
    z = rng.exponential(0.1, (n, 3)).astype(np.float32)
    z[:, 0] = np.where(concepts["CDS"], 5.0 + rng.random(n), 0.5 * rng.random(n))  # feature 0 = CDS above 0.5 x max
    validation = np.arange(n) % 4 == 0
    scores = concept_scores(z, concepts, validation)
    row = scores.set_index(["feature", "concept"]).loc[(0, "CDS")]
    assert row["f1"] == pytest.approx(1.0) and row["threshold"] in (0.15, 0.5, 0.6, 0.8)
    assert row["n_concept_tokens"] == concepts.loc[validation, "CDS"].sum()
    # the oracle for another cell: counted with plain Python on the validation tokens at the chosen threshold
    other = scores.set_index(["feature", "concept"]).loc[(2, "stop codon")]
    active = z[validation, 2] > other["threshold"] * z[:, 2].max()
    truth = concepts.loc[validation, "stop codon"].to_numpy()
    tp = int((active & truth).sum())
    precision = tp / active.sum() if active.sum() else 0.0
    recall = tp / truth.sum()
    assert other["precision"] == pytest.approx(precision) and other["recall"] == pytest.approx(recall)
    best = best_concepts(scores).set_index("feature")
    assert best.loc[0, "best_concept"] == "CDS" and best.loc[0, "best_concept_f1"] == pytest.approx(1.0)

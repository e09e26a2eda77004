"""Switch and abundance scores against a per-gene numpy loop (the oracle)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from isograph.fit.scores import (
    abundance_scores,
    feature_scores_frame,
    switch_scores,
    transcript_usage,
    transcript_usage_blocks,
)


@pytest.fixture
def counts_and_map(small_sim):
    return small_sim.counts, small_sim.tx2gene


def test_switch_scores_match_per_gene_svd(counts_and_map):
    counts, tx2gene = counts_and_map
    scores, loadings = switch_scores(counts, tx2gene)
    for gene, txs in list(tx2gene.groupby("gene_id")["transcript_id"])[:40]:
        clr = np.log(counts[list(txs)].to_numpy() + 0.5)
        clr = clr - clr.mean(axis=1, keepdims=True)
        clr = clr - clr.mean(axis=0)
        u, s, vt = np.linalg.svd(clr, full_matrices=False)
        v = vt[0] * np.sign(vt[0][np.abs(vt[0]).argmax()])  # largest-|loading| transcript positive
        np.testing.assert_allclose(scores[gene].to_numpy(), clr @ v, atol=1e-10)
        got = loadings[loadings["gene_id"] == gene].set_index("transcript_id")["loading"]
        np.testing.assert_allclose(got[list(txs)].to_numpy(), v, atol=1e-10)


def test_single_transcript_genes_have_no_switch_score():
    counts = pd.DataFrame({"a": [1, 2, 3], "b": [3, 2, 1], "c": [5, 5, 6]}, index=["s1", "s2", "s3"])
    tx2gene = pd.DataFrame({"transcript_id": ["a", "b", "c"], "gene_id": ["G1", "G1", "G2"]})
    scores, _ = switch_scores(counts, tx2gene)
    assert list(scores.columns) == ["G1"]


def test_abundance_scores_are_z_scored_log_cpm(counts_and_map):
    counts, tx2gene = counts_and_map
    z = abundance_scores(counts, tx2gene)
    gene = tx2gene["gene_id"].iloc[0]
    txs = tx2gene.loc[tx2gene["gene_id"] == gene, "transcript_id"]
    cpm = counts[txs].sum(axis=1) / counts.sum(axis=1) * 1e6
    expected = np.log2(cpm + 0.5)
    expected = (expected - expected.mean()) / expected.std(ddof=1)
    np.testing.assert_allclose(z[gene], expected, atol=1e-12)


def test_feature_scores_frame_layout(counts_and_map):
    counts, tx2gene = counts_and_map
    sw, _ = switch_scores(counts, tx2gene)
    n_tx = tx2gene.groupby("gene_id").size()
    frame = feature_scores_frame({"switch": sw, "abundance": abundance_scores(counts, tx2gene)}, n_tx)
    assert list(frame.columns[:4]) == ["feature_id", "gene_id", "feature_type", "n_transcripts"]
    assert list(frame.columns[4:]) == list(counts.index)
    assert frame["feature_id"].is_unique and set(frame["feature_type"]) == {"switch", "abundance"}


def test_blocks_change_nothing(counts_and_map):
    """Scores and usage computed a few genes or transcripts at a time equal the one-block results, and usage
    equals a pandas groupby (the oracle)."""
    counts, tx2gene = counts_and_map
    whole, whole_loadings = switch_scores(counts, tx2gene, block_bytes=1 << 40)
    small, small_loadings = switch_scores(counts, tx2gene, block_bytes=8 * 4 * len(counts) * 3 * 2)  # ~2 genes
    pd.testing.assert_frame_equal(small, whole, check_exact=False, rtol=0, atol=1e-12)
    pd.testing.assert_frame_equal(small_loadings, whole_loadings, check_exact=False, rtol=0, atol=1e-12)

    meta, blocks = transcript_usage_blocks(counts, tx2gene, block_bytes=8 * 2 * len(counts) * 7)
    parts = list(blocks)
    assert len(parts) > 3 and all(len(p) <= 7 for p in parts)
    gene = tx2gene.set_index("transcript_id")["gene_id"]
    totals = counts.T.groupby(gene.reindex(counts.columns).to_numpy()).sum().T
    expected = counts[meta["feature_id"]] / totals[gene[meta["feature_id"]]].to_numpy()
    expected = expected.where(totals[gene[meta["feature_id"]]].to_numpy() > 0)
    np.testing.assert_allclose(np.vstack(parts).T, expected.to_numpy(), rtol=1e-12, atol=0)
    usage, _ = transcript_usage(counts, tx2gene)
    np.testing.assert_array_equal(usage.to_numpy(), np.vstack(parts).T)

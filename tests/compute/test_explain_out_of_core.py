"""Out-of-core explain: a .matrix feature table is streamed in blocks within the memory budget, never read whole,
and gives the in-memory results (to 1e-12 from float64, to 1e-6 from float32)."""

from __future__ import annotations

import shutil

import numpy as np
import pandas as pd
import pytest

from isograph.dataset.artifacts import SCORE_META_COLUMNS, fit_scores_file, load_fit_artifacts
from isograph.dataset.matrix import FeatureMatrix, write_matrix, write_matrix_blocks
from isograph.errors import InputError
from isograph.explain import ExplainConfig, explain_module
from isograph.explain.kernel import PreparedInputs

TABLES = ("gene_driver_table", "transcript_polarity_table", "high_vs_low_table")


def _compare(a: dict, b: dict, *, atol: float) -> None:
    """Equal values; rows keyed by their ID (two transcripts of a two-transcript gene have the same p in exact
    arithmetic, so rounding in the last bit may order such a tie either way)."""
    assert list(a) == list(b)
    for module in a:
        for name in TABLES:
            key = "gene_id" if name == "gene_driver_table" else "feature_id"
            left, right = (getattr(r[module], name).set_index(key).sort_index() for r in (a, b))
            pd.testing.assert_frame_equal(left, right, check_exact=False, rtol=0, atol=atol)


def test_streamed_blocks_within_the_budget_give_the_in_memory_results(standard_dir, standard_sim, tmp_path,
                                                                      monkeypatch):
    table = standard_sim.feature_table
    path = write_matrix(table, tmp_path / "features.matrix")
    budget_gib = 0.25 * table.to_numpy().nbytes / 2**30  # the table is 4x the budget
    seen: list[int] = []
    blocks = PreparedInputs.feature_blocks

    def watched(self, rows):
        for block in blocks(self, rows):
            seen.append(block.nbytes)
            assert block.nbytes <= max(self.block_bytes, 8 * block.shape[1])
            yield block

    def refuse(self):
        raise AssertionError("the whole feature table was read")

    monkeypatch.setattr(PreparedInputs, "feature_blocks", watched)
    monkeypatch.setattr(FeatureMatrix, "frame", refuse)
    fit, meta = standard_dir / "oracle_fit", standard_sim.feature_meta
    streamed = explain_module(fit, path, meta, config=ExplainConfig(memory_budget=budget_gib))
    assert len(seen) > 2 * len(streamed)  # several blocks per module
    assert sum(seen) <= table.to_numpy().nbytes and max(seen) * 6 <= budget_gib * 2**30 * 1.01
    in_memory = explain_module(fit, table, meta)
    _compare(streamed, in_memory, atol=1e-12)


def test_a_fit_whose_scores_are_a_matrix_explains_as_its_parquet(standard_dir, standard_sim, tmp_path):
    fit_dir = tmp_path / "fit"
    shutil.copytree(standard_dir / "oracle_fit", fit_dir)
    parquet = pd.read_parquet(fit_dir / "feature_scores.parquet")
    samples = [c for c in parquet.columns if c not in SCORE_META_COLUMNS]
    write_matrix_blocks(fit_dir / "feature_scores.matrix", samples, parquet["feature_id"],
                        [parquet[samples].to_numpy()], feature_info=parquet[["gene_id", "feature_type", "n_transcripts"]])
    fit = load_fit_artifacts(fit_dir)
    assert fit.scores_path == fit_dir / "feature_scores.matrix" and isinstance(fit.scores, np.memmap)
    meta = standard_sim.feature_meta
    _compare(explain_module(fit, standard_sim.feature_table, meta),
             explain_module(standard_dir / "oracle_fit", standard_sim.feature_table, meta), atol=1e-12)
    parquet.to_parquet(fit_dir / "feature_scores.parquet")  # rewritten after the matrix: the parquet is read
    assert fit_scores_file(fit_dir) == fit_dir / "feature_scores.parquet"
    (fit_dir / "feature_scores.parquet").unlink()
    pd.DataFrame({"feature_id": parquet["feature_id"]}).to_parquet(fit_dir / "feature_scores.matrix" / "features.parquet")
    with pytest.raises(InputError, match=r"features.parquet: no column gene_id, feature_type, n_transcripts"):
        load_fit_artifacts(fit_dir)


def test_a_float32_matrix_changes_nothing_beyond_1e6(standard_dir, standard_sim, tmp_path):
    path = write_matrix(standard_sim.feature_table, tmp_path / "f32.matrix", dtype="float32")
    fit, meta = standard_dir / "oracle_fit", standard_sim.feature_meta
    small = explain_module(fit, path, meta, config=ExplainConfig(memory_budget=0.01))
    full = explain_module(fit, standard_sim.feature_table, meta)
    for module in full:
        a, b = small[module].transcript_polarity_table, full[module].transcript_polarity_table
        for column in ("r", "ci_low", "ci_high", "delta_usage"):
            np.testing.assert_allclose(a[column], b[column], rtol=0, atol=1e-6)
        assert a["feature_id"].tolist() == b["feature_id"].tolist()
        assert small[module].gene_driver_table["switch_called"].tolist() == \
            full[module].gene_driver_table["switch_called"].tolist()


def test_a_budget_must_be_positive(standard_dir, standard_sim):
    with pytest.raises(InputError, match="memory_budget must be > 0 GiB; got 0"):
        explain_module(standard_dir / "oracle_fit", standard_sim.feature_table, standard_sim.feature_meta,
                       config=ExplainConfig(memory_budget=0))

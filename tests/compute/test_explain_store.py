"""ExplainStore: the one reader and writer of an explain output folder (CLI, API and app alike)."""

from __future__ import annotations

import pandas as pd
import pytest

from isograph.dataset.explain_store import ExplainStore, check_module_id
from isograph.errors import DatasetError, InputError
from isograph.explain import ExplainConfig, explain_module


def test_a_stored_module_reads_back_as_the_result_explain_returned(small_dir, small_sim, tmp_path):
    out = tmp_path / "explain"
    returned = explain_module(small_dir / "oracle_fit", small_sim.feature_table, small_sim.feature_meta,
                              output_dir=out)["M001"]
    store = ExplainStore(out)
    stored = store.result("M001")
    for name in ("gene_driver_table", "transcript_polarity_table", "high_vs_low_table"):
        pd.testing.assert_frame_equal(getattr(stored, name), getattr(returned, name).reset_index(drop=True),
                                      check_dtype=False)
    pd.testing.assert_series_equal(stored.eigengene, returned.eigengene, check_names=False)
    assert (sorted(stored.high_samples), sorted(stored.low_samples)) == (sorted(returned.high_samples),
                                                                         sorted(returned.low_samples))
    assert stored.sample_ids == list(returned.eigengene.index)
    assert (stored.eigengene_source, stored.variance_explained) == (returned.eigengene_source,
                                                                    pytest.approx(returned.variance_explained))
    assert stored.config == returned.config
    assert stored.files == returned.files and set(stored.files) == {"gene_driver_table", "transcript_polarity_table",
                                                                     "high_vs_low_table", "eigengene"}
    assert store.module_ids == ["M000", "M001"]


def test_a_write_merges_with_the_modules_already_there(small_dir, small_sim, tmp_path):
    out = tmp_path / "explain"
    explain_module(small_dir / "oracle_fit", small_sim.feature_table, small_sim.feature_meta, module_ids=["M000"],
                   output_dir=out)
    first = (out / "M000" / "gene_driver_table.parquet").read_bytes()
    store = ExplainStore(out)
    store.write({"M009": {"eigengene": pd.DataFrame({"sample_id": ["s"], "eigengene": [0.0], "group": ["high"]})}},
                {"M009": {"n_genes": 0}}, {"format": "test"})
    assert store.module_ids == ["M000", "M009"]
    assert store.manifest()["format"] == "test" and store.manifest()["modules"]["M009"]["n_genes"] == 0
    assert (out / "M000" / "gene_driver_table.parquet").read_bytes() == first


@pytest.mark.parametrize("module_id", ["../escape", "a/b", ".hidden", "", " M1", "a\\b"])
def test_a_module_id_that_cannot_name_a_folder_is_refused_before_any_write(tmp_path, module_id):
    with pytest.raises(InputError, match="cannot name a folder"):
        ExplainStore(tmp_path / "explain").write({module_id: {}}, {}, {})
    assert not (tmp_path / "explain").exists() and not (tmp_path / "escape").exists()
    assert check_module_id("M000") == "M000"


def test_reading_a_folder_without_a_run_names_the_command_to_run(tmp_path):
    with pytest.raises(DatasetError, match=r"module_explanation_manifest.json not found; re-run `isograph explain-module"):
        ExplainStore(tmp_path).module_ids
    with pytest.raises(DatasetError, match="is not in"):
        (tmp_path / "module_explanation_manifest.json").write_text('{"modules": {}}')
        ExplainStore(tmp_path).table("M000", "gene_driver_table")


def test_a_module_that_fails_while_others_are_written_leaves_the_folder_as_it_was(small_dir, small_sim, tmp_path,
                                                                                  snapshot):
    """Each module's tables are staged as soon as it is computed; a later module's error commits nothing."""
    out = tmp_path / "explain"
    explain_module(small_dir / "oracle_fit", small_sim.feature_table, small_sim.feature_meta, module_ids=["M000"],
                   output_dir=out)
    before = snapshot(out)
    meta = small_sim.feature_meta.copy()
    m001 = pd.read_parquet(small_dir / "oracle_fit" / "modules.parquet").query("module_id == 'M001'")["gene_id"]
    meta.loc[meta["gene_id"].isin(m001), "feature_type"] = "exon_usage"  # M001 has no transcript usage left
    with pytest.raises(InputError, match="module M001: none of its"):
        explain_module(small_dir / "oracle_fit", small_sim.feature_table, meta, module_ids=["M000", "M001"],
                       output_dir=out, config=ExplainConfig(split_percentile=20))
    assert snapshot(out) == before  # M000's new tables were staged, then thrown away with the stage
    assert ExplainStore(out).config("M000")["split_percentile"] == ExplainConfig().split_percentile

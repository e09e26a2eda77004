"""Data sets under a data root: discovery, refusal of paths outside it, cached tables."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from isograph.dataset.datasets import DatasetError, find_datasets, open_dataset
from isograph.explain import explain_module


@pytest.fixture
def root(small_dir, small_sim, tmp_path):
    data_root = tmp_path / "root"
    (data_root / "group").mkdir(parents=True)
    ds = small_dir.rename(data_root / "group" / "small")
    explain_module(ds / "oracle_fit", small_sim.feature_table, small_sim.feature_meta, output_dir=ds / "explain")
    (ds / "dataset.json").write_text(json.dumps({"name": "Small", "paths": {"fit": "oracle_fit"}}))
    return data_root


def test_find_and_open(root):
    [ds] = find_datasets(root)
    assert (ds.name, ds.title, ds.module_ids) == ("group/small", "Small", ["M000", "M001"])
    assert open_dataset(root, None).name == "group/small"
    table = ds.explain.table("M001", "gene_driver_table")
    assert table is ds.explain.table("M001", "gene_driver_table")  # cached
    gene = table["gene_id"].iloc[0]
    assert ds.module_of(gene) == "M001" and ds.feature_table().shape[0] == 40
    assert ds.transcript_models(gene).empty  # no GTF in this data set


def test_refusals(root, tmp_path):
    with pytest.raises(DatasetError, match=r"no data set '\.\./\.\.' under the data root"):
        open_dataset(root, "../..")
    with pytest.raises(DatasetError, match="module 'M9' is not in data set 'group/small'"):
        open_dataset(root, None).explain.table("M9", "gene_driver_table")
    spec = root / "group" / "small" / "dataset.json"
    spec.write_text(json.dumps({"paths": {"feature_table": "../../../../outside.parquet"}}))
    assert find_datasets(root) == []  # a data set pointing outside the root is not offered
    with pytest.raises(DatasetError, match="no data set under"):
        open_dataset(tmp_path / "empty", None)


def test_transcript_expression_is_log_cpm_of_the_asked_columns(small_dir):
    from isograph.dataset.datasets import Dataset

    ds = Dataset(name="small", root=small_dir, paths={"counts": small_dir / "counts.parquet"})
    counts = pd.read_parquet(small_dir / "counts.parquet")
    ids = list(counts.columns[:3])
    expected = np.log2((counts[ids] + 0.5).div(counts.sum(axis=1) + 1.0, axis=0) * 1e6)  # limma-voom's log-CPM
    got = ds.transcript_expression(ids)
    np.testing.assert_allclose(got[ids].to_numpy(), expected.to_numpy(), rtol=1e-12)
    assert Dataset(name="x", root=small_dir, paths={}).transcript_expression(ids) is None


def test_the_domain_stores_own_the_paths(tmp_path, small_dir, small_sim):
    """ds.explain / ds.structure / ds.sae: what pages and jobs use instead of building paths themselves."""
    from isograph.dataset.datasets import DatasetError

    folder = tmp_path / "root" / "small"
    folder.mkdir(parents=True)
    for name in ("features.parquet", "feature_metadata.parquet"):
        (folder / name).write_bytes((small_dir / name).read_bytes())
    explain_module(small_dir / "oracle_fit", small_sim.feature_table, small_sim.feature_meta,
                   output_dir=folder / "explain")
    ds = open_dataset(tmp_path / "root", "small")
    pd.testing.assert_frame_equal(ds.explain.table("M000", "gene_driver_table"),
                                  pd.read_parquet(folder / "explain" / "M000" / "gene_driver_table.parquet"))
    assert ds.explain.config("M000")["switch_alpha"] == 0.05
    assert ds.feature_table().shape == small_sim.feature_table.shape
    with pytest.raises(DatasetError, match="outside the data root"):
        ds.structure.gtf("../../elsewhere.gtf")
    assert ds.structure.table("pairs") is None and ds.structure.models() is None
    assert not ds.sae.has_lm() and ds.sae.runs() == []
    with pytest.raises(DatasetError, match="no SAE run ef8/layer_2"):
        ds.sae.run(2, 8)
    with pytest.raises(DatasetError, match="no sequence table"):
        ds.sae.sequences()


def test_a_training_job_over_its_memory_budget_is_refused_before_any_work(tmp_path):
    import json as _json

    from isograph.dataset.datasets import Dataset, DatasetError

    sae = tmp_path / "sae"
    (sae / "lm").mkdir(parents=True)
    (sae / "lm" / "config.json").write_text(_json.dumps({"hidden_size": 64}))
    pd.DataFrame({"seq_id": ["a", "b"], "sequence": ["ACGT" * 300, "ACGT" * 300]}).to_parquet(sae / "sequences.parquet")
    ds = Dataset(name="x", root=tmp_path, paths={"sae": sae})
    # (2 x 1200 bases / 6 + 2) = 402 tokens x 64 dims x 4 bytes = 102,912 bytes
    with pytest.raises(DatasetError, match="402 tokens x 64 dimensions need 0.10 MiB of hidden states, more than the 0.05 MiB"):
        ds.sae.train(1, None, max_activation_bytes=50_000)
    assert not (sae / "ef8").exists() and not (sae / "activations").exists()


def test_version_changes_with_every_commit_and_only_then(root, small_sim):
    """Dataset.version: the same until a writer commits something the views read (an explain run, a structure
    annotation, a rewritten feature table or dataset.json), then new."""
    import os
    import time

    from isograph.dataset.io import write_parquet

    [ds] = find_datasets(root)
    seen = {ds.version()}
    assert ds.version() in seen and len(ds.version()) == 16
    folder = root / "group" / "small"
    steps = [
        lambda: explain_module(folder / "oracle_fit", small_sim.feature_table, small_sim.feature_meta,
                               module_ids=["M000"], output_dir=folder / "explain"),
        lambda: write_parquet(pd.DataFrame({"x": [1]}), folder / "structure" / "switch_pairs_annotated.parquet"),
        lambda: os.utime(folder / "feature_metadata.parquet"),
        lambda: (folder / "dataset.json").write_text((folder / "dataset.json").read_text() + " "),
    ]
    for step in steps:
        time.sleep(0.01)
        step()
        [ds] = find_datasets(root)
        assert ds.version() not in seen
        seen.add(ds.version())
    assert find_datasets(root)[0].version() == ds.version()  # nothing changed since

"""Symlinks never lead the app or its jobs out of the data root: SAE run folders and the GTF picker."""

from __future__ import annotations

import json
import os

import pandas as pd
import pytest

from isograph.dataset.datasets import Dataset
from isograph.errors import InputError
from isograph.sae.runs import _refuse_links, find_runs


def _fake_run(folder, layer=2, ef=8):
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "run.json").write_text(json.dumps({"layer_idx": layer, "expansion_factor": ef, "sets": [],
                                                 "paths": {}}))


@pytest.mark.parametrize("link", ["ef8/layer_2", "ef8"])
def test_an_sae_run_behind_a_symlink_out_of_the_root_is_not_a_run(tmp_path, link):
    sae = tmp_path / "root" / "demo" / "sae"
    _fake_run(sae / "ef16" / "layer_1", layer=1, ef=16)  # a real run inside
    outside = tmp_path / "elsewhere"
    _fake_run(outside / ("layer_2" if link == "ef8" else ""))
    (sae / link).parent.mkdir(parents=True, exist_ok=True)
    os.symlink(outside, sae / link)
    assert [r.key for r in find_runs(sae)] == ["ef16/layer_1"]


def test_a_run_is_never_written_through_a_symlink(tmp_path):
    sae = tmp_path / "sae"
    outside = tmp_path / "elsewhere"
    (outside / "layer_2").mkdir(parents=True)
    (outside / "layer_2" / "precious.txt").write_text("keep me")
    sae.mkdir()
    os.symlink(outside, sae / "ef8")
    with pytest.raises(InputError, match="is a symbolic link"):
        _refuse_links(sae.resolve(), sae.resolve() / "ef8" / "layer_2")
    assert (outside / "layer_2" / "precious.txt").read_text() == "keep me"
    _refuse_links(sae.resolve(), sae.resolve() / "ef16" / "layer_1")  # a real folder (to be made): fine


def test_the_gtf_picker_lists_no_file_behind_a_symlink_out_of_the_root(tmp_path):
    root = tmp_path / "root"
    (root / "demo").mkdir(parents=True)
    (root / "demo" / "own.gtf").write_text("x")
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (outside / "secret.gtf").write_text("x")
    os.symlink(outside, root / "linked")  # a folder link out of the root
    os.symlink(outside / "secret.gtf", root / "demo" / "link.gtf")  # a file link out of the root
    os.symlink(root / "demo" / "own.gtf", root / "demo" / "alias.gtf")  # a link that stays inside
    ds = Dataset(name="demo", root=root.resolve(), paths={"gtf": root.resolve() / "demo" / "own.gtf"})
    names = [p.relative_to(ds.root).as_posix() for p in ds.gtf_files()]
    assert names == ["demo/own.gtf", "demo/alias.gtf"]
    assert pd.Series(names).str.contains("secret|linked|link.gtf").sum() == 0


# --- every kind of file and folder of a data set, behind a symlink out of the data root -----------------

@pytest.fixture
def linked(small_dir, small_sim, tmp_path):
    """A data root with one explained data set (and a structure folder), plus a place outside the root.

    Returns ``(root, dataset folder, outside)``; a test replaces one entry of the data set by a symlink to a
    copy of it outside the root.
    """
    from isograph.explain import explain_module

    root = tmp_path / "root"
    folder = small_dir.rename(tmp_path / "small")
    root.mkdir()
    folder = folder.rename(root / "small")
    explain_module(folder / "oracle_fit", small_sim.feature_table, small_sim.feature_meta, output_dir=folder / "explain")
    (folder / "dataset.json").write_text(json.dumps({"paths": {"fit": "oracle_fit"}}))
    (folder / "structure").mkdir()
    pd.DataFrame({"gene_id": ["g"], "status": ["ok"]}).to_parquet(folder / "structure" / "switch_pairs_annotated.parquet")
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    return root, folder, outside


def _link_out(entry, outside):
    """Move ``entry`` outside the root and leave a symlink to it in its place; returns the target."""
    target = outside / entry.name
    entry.rename(target)
    os.symlink(target, entry)
    return target


def _tree(folder):
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.mark.parametrize("entry", ["explain", "features.parquet", "feature_metadata.parquet", "oracle_fit", "sae"])
def test_a_data_set_whose_folder_or_table_links_out_of_the_root_is_not_served(linked, entry):
    from isograph.dataset.datasets import find_datasets

    root, folder, outside = linked
    (folder / "sae").mkdir(exist_ok=True)
    assert [d.name for d in find_datasets(root)] == ["small"]
    _link_out(folder / entry, outside)
    assert find_datasets(root) == []


@pytest.mark.parametrize("entry", ["explain/M000", "explain/M000/gene_driver_table.parquet",
                                   "explain/module_explanation_manifest.json"])
def test_explain_files_behind_a_symlink_out_of_the_root_are_refused(linked, entry):
    from isograph.dataset.datasets import DatasetError, open_dataset

    root, folder, outside = linked
    ds = open_dataset(root, "small")
    _link_out(folder / entry, outside)
    with pytest.raises(DatasetError, match="outside"):
        ds.explain.table("M000", "gene_driver_table")
    if entry != "explain/module_explanation_manifest.json":
        assert len(ds.explain.table("M001", "gene_driver_table"))  # the other module still reads


def test_a_manifest_entry_pointing_out_of_the_folder_is_refused(linked):
    from isograph.dataset.datasets import DatasetError, open_dataset

    root, folder, outside = linked
    (outside / "stolen.parquet").write_bytes((folder / "explain" / "M000" / "gene_driver_table.parquet").read_bytes())
    manifest = folder / "explain" / "module_explanation_manifest.json"
    spec = json.loads(manifest.read_text())
    spec["modules"]["M000"]["files"]["gene_driver_table"] = "../../../elsewhere/stolen.parquet"
    manifest.write_text(json.dumps(spec))
    with pytest.raises(DatasetError, match="outside"):
        open_dataset(root, "small").explain.table("M000", "gene_driver_table")


def test_explain_never_writes_through_a_module_folder_that_links_out(linked, small_sim):
    """Re-running a module whose folder is a symlink out replaces the link, not what it points to."""
    from isograph.explain import explain_module

    root, folder, outside = linked
    target = _link_out(folder / "explain" / "M000", outside)
    before = _tree(target)
    explain_module(folder / "oracle_fit", small_sim.feature_table, small_sim.feature_meta, module_ids=["M000"],
                   output_dir=folder / "explain")
    assert _tree(target) == before
    assert not (folder / "explain" / "M000").is_symlink()


@pytest.mark.parametrize("entry", ["structure", "structure/switch_pairs_annotated.parquet"])
def test_structure_files_behind_a_symlink_out_of_the_root_are_refused(linked, entry):
    from isograph.dataset.datasets import DatasetError, open_dataset

    root, folder, outside = linked
    ds = open_dataset(root, "small")
    target = _link_out(folder / entry, outside)
    before = _tree(target) if target.is_dir() else target.read_bytes()
    with pytest.raises(DatasetError, match="outside the data root"):
        ds.structure.table("pairs")
    pairs = pd.DataFrame({"gene_id": ["g"], "transcript_id_1": ["a"], "transcript_id_2": ["b"]})
    with pytest.raises(DatasetError, match="outside the data root"):
        ds.structure.annotate("any.gtf", pairs, source="upload")
    assert (_tree(target) if target.is_dir() else target.read_bytes()) == before


@pytest.mark.parametrize("entry", ["lm", "sequences.parquet"])
def test_sae_model_and_sequences_behind_a_symlink_out_of_the_root_are_refused(linked, entry):
    from isograph.dataset.datasets import DatasetError, open_dataset

    root, folder, outside = linked
    sae = folder / "sae"
    (sae / "lm").mkdir(parents=True)
    (sae / "lm" / "config.json").write_text("{}")
    pd.DataFrame({"seq_id": ["a"], "sequence": ["ACGT"]}).to_parquet(sae / "sequences.parquet")
    ds = open_dataset(root, "small")
    _link_out(sae / entry, outside)
    with pytest.raises(DatasetError, match="outside the data root"):
        ds.sae.lm if entry == "lm" else ds.sae.sequences()


def test_an_sae_run_output_file_behind_a_symlink_out_is_refused(tmp_path):
    sae = tmp_path / "sae"
    _fake_run(sae / "ef8" / "layer_2")
    (tmp_path / "elsewhere.json").write_text("{}")
    os.symlink(tmp_path / "elsewhere.json", sae / "ef8" / "layer_2" / "kg.json")
    [run] = find_runs(sae)
    with pytest.raises(InputError, match="outside the SAE folder"):
        run.path("graph")
    assert run.path("edges").name == "edges.parquet"

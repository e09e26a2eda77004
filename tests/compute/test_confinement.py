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

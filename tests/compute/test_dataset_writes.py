"""Writes that never lose or leak a file: the umask is honoured, manifest updates are locked, a damaged
manifest is an error (nothing is overwritten), and the app's caches notice a rewritten file."""

from __future__ import annotations

import json
import os
import stat
import threading
import time

import pandas as pd
import pytest

from isograph.dataset.datasets import open_dataset
from isograph.dataset.io import folder_lock, write_parquet
from isograph.errors import InputError
from isograph.explain import MANIFEST_NAME, ExplainConfig, explain_module


@pytest.mark.parametrize("umask", [0o022, 0o002, 0o077])
def test_written_files_honour_the_umask(tmp_path, umask):
    previous = os.umask(umask)
    try:
        path = write_parquet(pd.DataFrame({"a": [1]}), tmp_path / "x.parquet")
    finally:
        os.umask(previous)
    assert stat.S_IMODE(path.stat().st_mode) == 0o666 & ~umask


def test_the_folder_lock_makes_a_second_writer_wait(tmp_path):
    order = []

    def second():
        with folder_lock(tmp_path):
            order.append("second")

    with folder_lock(tmp_path):
        thread = threading.Thread(target=second)
        thread.start()
        time.sleep(0.3)
        order.append("first done")
    thread.join(5)
    assert order == ["first done", "second"]


def test_concurrent_explain_runs_into_one_folder_lose_no_module(small_dir, small_sim):
    """Two runs (M000, M001) write the same output folder at once: the manifest lists both."""
    out = small_dir / "explain"
    errors = []

    def run(module):
        try:
            explain_module(small_dir / "oracle_fit", small_sim.feature_table, small_sim.feature_meta,
                           module_ids=[module], output_dir=out)
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(m,)) for m in ("M000", "M001")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not errors
    assert set(json.loads((out / MANIFEST_NAME).read_text())["modules"]) == {"M000", "M001"}


@pytest.mark.parametrize("damage", [b'{"modules": {"M000": ', b"\x00\x01binary", b"[1, 2]"])
def test_a_damaged_manifest_is_an_error_and_nothing_is_overwritten(small_dir, small_sim, snapshot, damage):
    out = small_dir / "explain"
    explain_module(small_dir / "oracle_fit", small_sim.feature_table, small_sim.feature_meta, module_ids=["M000"],
                   output_dir=out)
    (out / MANIFEST_NAME).write_bytes(damage)
    before = snapshot(out)
    with pytest.raises(InputError, match="nothing was written"):
        explain_module(small_dir / "oracle_fit", small_sim.feature_table, small_sim.feature_meta,
                       module_ids=["M000", "M001"], output_dir=out)
    assert snapshot(out) == before


def test_the_app_reads_a_rewritten_module_without_a_restart(tmp_path, small_dir, small_sim):
    """A data set's cached tables are keyed on the files' size and mtime: a new explain run is served."""
    root = tmp_path / "root"
    folder = root / "small"
    folder.mkdir(parents=True)
    for name in ("features.parquet", "feature_metadata.parquet"):
        (folder / name).write_bytes((small_dir / name).read_bytes())
    explain_module(small_dir / "oracle_fit", small_sim.feature_table, small_sim.feature_meta, output_dir=folder / "explain")
    ds = open_dataset(root, "small")
    first = ds.explain.table("M000", "high_vs_low_table")
    assert ds.explain.config("M000")["split_percentile"] == 50
    explain_module(small_dir / "oracle_fit", small_sim.feature_table, small_sim.feature_meta, output_dir=folder / "explain",
                   config=ExplainConfig(split_percentile=25))
    again = ds.explain.table("M000", "high_vs_low_table")
    assert ds.explain.config("M000")["split_percentile"] == 25
    assert again["n_high"].max() < first["n_high"].max()  # a quarter of the samples, not a half


def _state(out) -> dict:
    """Per module in the manifest: the split its tables were computed with (high samples / all samples)."""
    manifest = json.loads((out / MANIFEST_NAME).read_text())
    state = {}
    for mid, entry in manifest["modules"].items():
        groups = pd.read_parquet(out / entry["files"]["eigengene"])["group"]
        n_high = pd.read_parquet(out / entry["files"]["high_vs_low_table"])["n_high"].max()
        assert n_high <= (groups.isin(["high", "both"])).sum()  # the tables agree with each other
        state[mid] = (entry["config"]["split_percentile"], round((groups == "high").mean(), 2))
    return state


@pytest.mark.parametrize(("failpoint", "survives"), [("staged", "old"), ("journal", "new"), ("moved-one", "new"),
                                                    ("moved-all", "new")])
def test_kill_9_during_an_explain_commit_leaves_one_complete_run(small_dir, small_sim, failpoint, survives):
    """A run killed (SIGKILL) at each step of its commit: the folder holds the earlier run, whole, or — once
    the journal is written — the new run, whole, after the next reader rolls it forward."""
    import subprocess
    import sys

    from isograph.dataset.commit import has_pending_commit
    from isograph.dataset.datasets import Dataset

    out = small_dir / "explain"
    explain_module(small_dir / "oracle_fit", small_sim.feature_table, small_sim.feature_meta, output_dir=out)
    old = _state(out)
    code = ("from isograph.explain import ExplainConfig, explain_module\n"
            f"explain_module({str(small_dir / 'oracle_fit')!r}, {str(small_dir / 'features.parquet')!r},"
            f" {str(small_dir / 'feature_metadata.parquet')!r}, config=ExplainConfig(split_percentile=25),"
            f" output_dir={str(out)!r})\n")
    proc = subprocess.run([sys.executable, "-c", code], env={**os.environ, "ISOGRAPH_FAILPOINT": failpoint},
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == -9, proc.stderr  # killed where asked
    assert has_pending_commit(out) == (survives == "new")
    reader = Dataset(name="small", root=small_dir, paths={"explain": out})
    reader.explain.manifest()  # a reader rolls an interrupted commit forward
    assert not has_pending_commit(out)
    state = _state(out)
    assert set(state) == {"M000", "M001"}
    if survives == "old":
        assert state == old  # the killed run's staging folder is ignored, and removed by the next writer
        explain_module(small_dir / "oracle_fit", small_sim.feature_table, small_sim.feature_meta,
                       module_ids=["M001"], output_dir=out)
    else:
        assert all(split == 25 and 0.2 <= high <= 0.3 for split, high in state.values()), state
    assert not list(out.glob(".isograph-staging-*")) and not list(out.glob(".isograph-backup-*"))

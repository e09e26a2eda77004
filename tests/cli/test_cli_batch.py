"""`isograph sae intervene --grid`: features x delta x alpha as resumable batch tasks (local process pool).

The run is killed with SIGKILL after three of its six tasks are recorded (a failpoint in the runner, as a
kill -9 would); the re-run finishes only the three missing tasks, and every cell equals a single
`isograph sae intervene` of the same edit.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from isograph.batch import Task, run_batch
from isograph.batch.manifest import read_manifest
from isograph.cli import main
from isograph.errors import InputError

REPO = Path(__file__).resolve().parents[2]


def _grid_command(tiny: dict, out: Path) -> list[str]:
    return [sys.executable, "-m", "isograph.cli", "sae", "intervene", "--grid", "--input", str(tiny["fasta"]),
            "--model-name", str(tiny["model"]), "--layer-idx", "2", "--sae", str(tiny["sae"]),
            "--feature", "1", "2", "3", "--min-act", "0.5", "--act-factor", "2", "10", "--max-sequences", "3",
            "--output-dir", str(out)]


def test_grid_killed_half_way_resumes_only_the_missing_tasks(tiny_intervention, tmp_path):
    out = tmp_path / "grid"
    env = {**os.environ, "ISOGRAPH_FAILPOINT": "batch-after-3"}
    with open(tmp_path / "killed.log", "w") as log:
        killed = subprocess.Popen(_grid_command(tiny_intervention, out), cwd=REPO, env=env, stdout=log, stderr=log,
                                  start_new_session=True)
    try:
        assert killed.wait(timeout=240) == -signal.SIGKILL, (tmp_path / "killed.log").read_text()[-2000:]
        end = time.monotonic() + 15  # its pool worker sees its parent gone and exits by itself
        while subprocess.run(["pgrep", "-s", str(killed.pid)], capture_output=True).stdout and time.monotonic() < end:
            time.sleep(0.5)
        left = subprocess.run(["pgrep", "-a", "-s", str(killed.pid)], capture_output=True, text=True).stdout
        assert left == "", f"processes of the killed run still alive: {left}"
    finally:
        try:
            os.killpg(killed.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    first = read_manifest(out / "tasks.tsv").set_index("task_id")
    assert len(first) == 6 and (first["status"] == "done").sum() == 3 and (first["status"] == "pending").sum() == 3
    done_before = first.index[first["status"] == "done"]
    stamps = {t: (out / t / "effects.parquet").stat().st_mtime_ns for t in done_before}

    resumed = subprocess.run(_grid_command(tiny_intervention, out), cwd=REPO, capture_output=True, text=True,
                             timeout=300)
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    assert "3 task(s) run, 3 skipped (finished by an earlier run), 0 failed; process pool (1 worker)" in resumed.stderr
    final = read_manifest(out / "tasks.tsv").set_index("task_id")
    assert (final["status"] == "done").all() and len(final) == 6
    for task in done_before:  # the finished tasks were not run again
        assert final.at[task, "finished"] == first.at[task, "finished"]
        assert (out / task / "effects.parquet").stat().st_mtime_ns == stamps[task]

    for task, row in final.iterrows():
        params = json.loads(row["params"])
        effects = pd.read_parquet(out / task / "effects.parquet")
        assert effects["seq_id"].nunique() == 3
        # the edited feature: z' = max(z, delta) * alpha >= delta * alpha at every token
        assert (effects["z_after"] >= params["delta"] * params["alpha"] - 1e-5).all()
        assert json.loads(row["result"])["tokens"] == len(effects)


def test_a_grid_cell_equals_the_single_run(tiny_intervention, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    common = ["sae", "intervene", "--input", str(tiny_intervention["fasta"]), "--model-name",
              str(tiny_intervention["model"]), "--layer-idx", "2", "--sae", str(tiny_intervention["sae"]),
              "--max-sequences", "2", "--feature", "4", "--min-act", "0.2", "--act-factor", "5"]
    assert main([*common, "--output-dir", "single"]) == 0
    assert main([*common, "--output-dir", "grid", "--grid", "--workers", "0"]) == 0  # (the pool: test above)
    single = pd.read_parquet(tmp_path / "single" / "feature_4" / "effects.parquet")
    cell = pd.read_parquet(tmp_path / "grid" / "feature_4" / "delta_0.2_alpha_5" / "effects.parquet")
    pd.testing.assert_frame_equal(single, cell)
    assert main([*common, "--output-dir", "grid", "--grid"]) == 0  # everything finished: nothing runs again
    assert "0 task(s) run, 1 skipped" in capsys.readouterr().err
    # several values without --grid: refused, naming --grid
    assert main([*common[:-6], "--feature", "4", "5", "--output-dir", "x"]) == 2
    assert "give --grid" in capsys.readouterr().err


def test_a_failed_task_is_recorded_and_rerun(tmp_path):
    """A task that raises is recorded as failed with its one-line error; the next run tries it again."""
    bad = Task("bad", "sae.intervene", {"model": str(tmp_path / "no-model"), "sae": "x", "input": "y",
                                       "layer_idx": 0, "feature": 0, "delta": 0, "alpha": 1, "max_sequences": 1,
                                       "output": str(tmp_path / "o")})
    result = run_batch([bad], tmp_path / "tasks.tsv", workers=0)
    assert (result.ran, result.failed, result.engine) == (1, 1, "this process")
    row = result.manifest.iloc[0]
    assert row["status"] == "failed" and "no-model" in row["error"] and "\n" not in row["error"]
    assert run_batch([bad], tmp_path / "tasks.tsv", workers=0).ran == 1  # failed tasks are not skipped
    with pytest.raises(InputError, match="duplicate task IDs"):
        run_batch([bad, bad], tmp_path / "tasks.tsv")


def test_sae_batch_builds_one_graph_per_row_like_sae_kg(tiny_intervention, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    fasta = tiny_intervention["fasta"]
    (tmp_path / "other.fa").write_text(">o1\n" + "ACGT" * 20 + "\n>o2\n" + "GGCA" * 20 + "\n")
    (tmp_path / "m.tsv").write_text(f"name\tinput\tnegative\nfirst\t{fasta}\t\npair\t{fasta}\tother.fa\n")
    model = ["--model-name", str(tiny_intervention["model"]), "--layer-idx", "2", "--sae", str(tiny_intervention["sae"])]
    assert main(["sae", "batch", "--manifest", "m.tsv", *model, "--workers", "0", "--output-dir", "out"]) == 0
    assert "2 task(s) run, 0 skipped" in capsys.readouterr().err
    assert main(["sae", "kg", "--input", str(fasta), *model, "--output", "single_kg.json"]) == 0
    pd.testing.assert_frame_equal(pd.read_parquet("out/first/first_kg_edges.parquet"),
                                  pd.read_parquet("single_kg_edges.parquet"))
    assert Path("out/pair/pair_kg_contrast.parquet").exists() and not Path("out/first/first_kg_contrast.parquet").exists()
    assert set(pd.read_parquet("out/pair/pair_kg_edges.parquet")["set"]) == {"positive", "negative"}
    assert main(["sae", "batch", "--manifest", "m.tsv", *model, "--workers", "0", "--output-dir", "out"]) == 0
    assert "0 task(s) run, 2 skipped" in capsys.readouterr().err
    (tmp_path / "bad.tsv").write_text("name\tinput\nfirst\tmissing.fa\n")
    assert main(["sae", "batch", "--manifest", "bad.tsv", *model, "--output-dir", "out2"]) == 2
    assert "bad.tsv, line 2: input 'missing.fa' not found" in capsys.readouterr().err


def test_explain_batch_over_data_sets_equals_one_run_each(small_dir, small_sim, tmp_path, capsys):
    import shutil

    from isograph.explain import explain_module

    for name in ("a", "b"):
        shutil.copytree(small_dir, tmp_path / name)
    lines = ["name\tartifact_dir\tfeature_table\tfeature_meta\toutput_dir"]
    lines += [f"{n}\t{n}/oracle_fit\t{n}/features.parquet\t{n}/feature_metadata.parquet\t{n}/explain" for n in ("a", "b")]
    (tmp_path / "sets.tsv").write_text("\n".join(lines) + "\n")
    assert main(["explain-module", "--batch", str(tmp_path / "sets.tsv"), "--workers", "0"]) == 0
    err = capsys.readouterr().err
    assert "2 task(s) run, 0 skipped" in err and "this process" in err
    direct = explain_module(small_dir / "oracle_fit", small_sim.feature_table, small_sim.feature_meta)
    for n in ("a", "b"):
        for module, res in direct.items():
            got = pd.read_parquet(tmp_path / n / "explain" / module / "gene_driver_table.parquet")
            pd.testing.assert_frame_equal(got, res.gene_driver_table, check_dtype=False)
    tasks = read_manifest(tmp_path / "sets.tasks.tsv")
    assert json.loads(tasks.iloc[0]["result"])["modules"] == len(direct)
    # other options are other tasks: both run again
    assert main(["explain-module", "--batch", str(tmp_path / "sets.tsv"), "--workers", "0", "--split-percentile",
                 "20"]) == 0
    assert "2 task(s) run, 0 skipped" in capsys.readouterr().err
    assert main(["explain-module", "--batch", str(tmp_path / "sets.tsv"), "--workers", "0", "--split-percentile",
                 "20"]) == 0
    assert "0 task(s) run, 2 skipped" in capsys.readouterr().err
    assert main(["explain-module", "--output-dir", "x"]) == 2  # without --batch the paths are needed
    assert "needs --artifact-dir, --feature-table, --feature-meta" in capsys.readouterr().err

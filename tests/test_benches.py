"""Every benchmark under bench/ runs to its end at a tiny size and prints its result lines.

Nothing here is timed (the benches measure; the README quotes them): these tests keep the bench code in step
with the package, which it calls directly (two benches had called a renamed API and a removed option, and
failed only when someone next ran them). ``sae_graph_draw.py`` is left out: its baseline lays out a
1,888-node graph with cytoscape's force layout in the browser (about 25 s at any size).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[1] / "bench"

#: bench file, tiny-size arguments, lines its output must have (the result lines the README quotes)
TINY = {
    "explain_scale": (["--genes", "2000", "--samples", "60", "--modules", "4", "--loop-features", "200", "--repeats",
                       "1"], ["from files, wide parquet / .matrix folder", "the whole `isograph explain-module` command",
                              "speed-up vs the loop"]),
    "explain_out_of_core": (["--rows", "0"], ["out of core s RSS GiB", "     300     20000"]),
    "feature_formats": (["--features", "2000", "--rounds", "1"], ["feature matrix (ours)", "AnnData .h5ad", "zarr"]),
    "fit_scale": (["--genes", "3000", "--samples", "60"], ["VAE:", "fit total:"]),
    "attribution_scale": (["--genes", "3000", "--samples", "60"], ["decoder attribution", "integrated gradients"]),
    "gtf_scale": (["--genes", "300", "--repeats", "1"], ["isograph ", "transcript models from the rows", "cache load"]),
    "sae_graph_scale": (["--tokens", "20000", "--features", "256"], ["top-25 subgraph", "baseline, the whole graph"]),
    "sae_scale": (["--sequences", "20", "--window", "600"], ["embedding: batched", "SAE training"]),
    "app_latency": (["--genes", "2000", "--samples", "60", "--modules", "4", "--repeats", "1"],
                    ["first gene view of a server that has not warmed up", "gene click -> finished gene view",
                     "PDF export of the driver barplot", "export job (forked process)"]),
}


def _run(name: str, args: list[str]) -> str:
    done = subprocess.run([sys.executable, str(BENCH / f"{name}.py"), *args], capture_output=True, text=True,
                          timeout=280, cwd=BENCH.parent)
    assert done.returncode == 0, f"bench/{name}.py {' '.join(args)} failed:\n{done.stderr[-3000:]}"
    return done.stdout


@pytest.mark.parametrize("name", sorted(TINY))
def test_the_bench_runs_at_a_tiny_size(name, tmp_path):
    args, lines = TINY[name]
    if name == "gtf_scale":
        args = [*args, "--out", str(tmp_path)]  # its generated GTF and cache, not bench/out
    out = _run(name, args)
    for line in lines:
        assert line in out, f"bench/{name}.py printed no {line!r}:\n{out[-2000:]}"


def test_serve_load_runs_against_the_demo(demo_root):
    out = _run("serve_load", ["--data-root", str(demo_root), "--clients", "2", "--seconds", "1", "--modules", "1",
                              "--workers", "2"])
    for server in ("embedded-uncached:", "embedded:", "production"):
        assert server in out and "0 errors" in out.split(server, 1)[1].splitlines()[0], out[-2000:]


def test_every_bench_is_covered():
    benches = {p.stem for p in BENCH.glob("*.py")}
    assert benches == set(TINY) | {"serve_load", "sae_graph_draw"}, "a new bench needs a tiny-size run here"

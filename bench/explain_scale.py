"""Benchmark: explain-module on all modules of a 20,000-gene x 300-sample fit with 100,000 transcript features.

Setup (not timed): ``simulate`` with synthetic gene models (20,000 genes x 5 transcripts, every gene in
one of 20 modules, 20% of usage values missing) and its oracle fit written to a temporary folder.

Timed:
1. ``explain_module`` on all modules: fit loaded from disk, feature table and meta in memory, once with
   all tables and the manifest written and once in memory only (the Python API path); then from files
   (what the CLI does, each run in a fresh process with its imports not timed), with the feature table as
   the manual's wide parquet and as the ``.matrix`` folder that ``simulate`` writes, interleaved.
2. The baseline, a per-feature ``scipy.stats`` loop on the same inputs doing the same statistics
   (``pearsonr`` + ``confidence_interval`` per feature on pairwise-complete samples, ``ttest_ind(...,
   equal_var=False)`` per feature, ``pearsonr`` per gene score row). The loop is timed on a fixed subset
   (``--loop-features`` features and a proportional number of gene rows) and scaled linearly to the full
   size; the printout says so.

Run: ``python bench/explain_scale.py`` (about a minute on 2 cores). Prints wall times and the ratio.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from isograph.dataset.artifacts import load_fit_artifacts  # noqa: E402
from isograph.explain import explain_module  # noqa: E402
from isograph.simulate import SimulationConfig, simulate, write_simulation  # noqa: E402


def scipy_loop(features: np.ndarray, eig: np.ndarray, high: np.ndarray, low: np.ndarray,
               gene_rows: np.ndarray) -> float:
    """Seconds for the per-feature scipy.stats baseline on the given rows."""
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pvalues = []
        for x in features:
            ok = np.isfinite(x)
            res = stats.pearsonr(x[ok], eig[ok])
            res.confidence_interval(0.95)
            hx, lx = x[high], x[low]
            t = stats.ttest_ind(hx[np.isfinite(hx)], lx[np.isfinite(lx)], equal_var=False)
            pvalues += [res.pvalue, t.pvalue]
        for x in gene_rows:
            ok = np.isfinite(x)
            pvalues.append(stats.pearsonr(x[ok], eig[ok]).pvalue)
        stats.false_discovery_control(np.asarray(pvalues))
    return time.perf_counter() - start


CHILD = """
import sys, time
from isograph.explain import explain_module
folder, table, out = sys.argv[1:4]
start = time.perf_counter()
explain_module(f"{folder}/oracle_fit", f"{folder}/{table}", f"{folder}/feature_metadata.parquet", output_dir=out)
print(time.perf_counter() - start)
"""


def from_files(folder: Path, table: str, out: Path) -> float:
    """Seconds of ``explain_module`` from files with the tables written, in a fresh process (imports not
    counted), as ``isograph explain-module`` runs it."""
    done = subprocess.run([sys.executable, "-c", CHILD, str(folder), table, str(out)], capture_output=True,
                          text=True, check=True)
    return float(done.stdout.strip().splitlines()[-1])


def whole_command(folder: Path, table: str, out: Path) -> float:
    """Seconds of the whole ``isograph explain-module`` command, as a user times it: the interpreter's start,
    the imports and the exit included."""
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "isograph.cli", "explain-module", "--artifact-dir", str(folder / "oracle_fit"),
                    "--feature-table", str(folder / table), "--feature-meta", str(folder / "feature_metadata.parquet"),
                    "--output-dir", str(out)], capture_output=True, text=True, check=True)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--genes", type=int, default=20_000)
    parser.add_argument("--samples", type=int, default=300)
    parser.add_argument("--isoforms", type=int, default=5)
    parser.add_argument("--modules", type=int, default=20)
    parser.add_argument("--loop-features", type=int, default=2_000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    print(f"cores available: {len(os.sched_getaffinity(0))}")
    t0 = time.perf_counter()
    sim = simulate(SimulationConfig(n_samples=args.samples, n_genes=args.genes, gene_models="synthetic",
                                    isoforms_per_gene=args.isoforms, n_modules=args.modules,
                                    module_fraction=1.0, missing_fraction=0.2, seed=1))
    with tempfile.TemporaryDirectory(prefix="isograph-bench-") as folder:  # removed at the end, also on an error
        run(args, sim, Path(folder), t0)


def run(args: argparse.Namespace, sim, tmp: Path, t0: float) -> None:
    """The timed part, with its files in ``tmp``."""
    write_simulation(sim, tmp)
    n_features = sim.feature_table.shape[1]
    print(f"setup (simulate + write, not timed): {time.perf_counter() - t0:.1f} s; {args.genes} genes x "
          f"{args.samples} samples x {n_features} transcript features, {args.modules} modules")

    sim.feature_table.to_parquet(tmp / "features.parquet")  # the manual's wide layout, next to features.matrix
    t0 = time.perf_counter()
    pd.read_parquet(tmp / "features.parquet")
    read_s = time.perf_counter() - t0

    times, compute_times = [], []
    for i in range(args.repeats):
        t0 = time.perf_counter()
        results = explain_module(tmp / "oracle_fit", sim.feature_table, sim.feature_meta,
                                 output_dir=tmp / f"explain{i}")
        times.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        explain_module(tmp / "oracle_fit", sim.feature_table, sim.feature_meta)
        compute_times.append(time.perf_counter() - t0)
    fast, fast_compute = min(times), min(compute_times)
    files: dict[str, list[float]] = {"features.parquet": [], "features.matrix": []}
    for i in range(args.repeats):  # interleaved: the two layouts take turns, each in a fresh process as the CLI
        for name in (list(files) if i % 2 == 0 else list(files)[::-1]):
            files[name].append(from_files(tmp, name, tmp / f"explain_files_{name}_{i}"))
    commands = [whole_command(tmp, "features.matrix", tmp / f"explain_command_{i}") for i in range(args.repeats)]

    # baseline on a fixed subset of the same inputs, scaled to the full size
    res = results["M000"]
    eig = res.eigengene.to_numpy()
    samples = list(res.eigengene.index)
    high = res.eigengene.index.isin(res.high_samples)
    low = res.eigengene.index.isin(res.low_samples)
    rng = np.random.default_rng(0)
    cols = rng.choice(n_features, size=args.loop_features, replace=False)
    feats = sim.feature_table.loc[samples].to_numpy()[:, cols].T
    fit = load_fit_artifacts(tmp / "oracle_fit")
    n_gene_rows = fit.scores.shape[0]
    k_genes = max(1, round(args.loop_features * n_gene_rows / n_features))
    gene_rows = fit.scores[rng.choice(n_gene_rows, size=k_genes, replace=False)]
    loop_subset = scipy_loop(feats, eig, high, low, gene_rows)
    loop_full = loop_subset * n_features / args.loop_features

    print(f"read feature table (parquet, {n_features} columns): {read_s:.2f} s")
    print(f"explain_module, all {len(results)} modules, tables + manifest written: {fast:.2f} s (best of"
          f" {args.repeats}: " + ", ".join(f"{t:.2f}" for t in times) + ")")
    print(f"explain_module, all {len(results)} modules, in memory (no output_dir): {fast_compute:.2f} s (best of"
          f" {args.repeats}: " + ", ".join(f"{t:.2f}" for t in compute_times) + ")")
    for name, runs in files.items():
        print(f"explain_module from files, feature table {name} (= `isograph explain-module`, tables written):"
              f" {min(runs):.2f} s (best of {args.repeats}: " + ", ".join(f"{t:.2f}" for t in runs) + ")")
    print(f"the whole `isograph explain-module` command with features.matrix (interpreter start and imports"
          f" included): {min(commands):.2f} s (best of {args.repeats}: " + ", ".join(f"{t:.2f}" for t in commands) + ")")
    print(f"from files, wide parquet / .matrix folder: {min(files['features.parquet']) / min(files['features.matrix']):.1f}x")
    print(f"scipy.stats per-feature loop: {loop_subset:.2f} s on {args.loop_features} features + {k_genes} gene"
          f" rows, scaled x{n_features / args.loop_features:.0f} to the full size: {loop_full:.1f} s")
    print(f"speed-up vs the loop (both in memory): {loop_full / fast_compute:.0f}x; counting our writes too:"
          f" {loop_full / fast:.0f}x  (targets: <= 15 s and >= 50x)")


if __name__ == "__main__":
    main()

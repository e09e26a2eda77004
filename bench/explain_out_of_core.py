"""Benchmark: explain in memory vs out of core vs the floor, and how both scale with samples and features.

Each row of the table is one synthetic study (not stored: generated into a temporary folder, seeded): genes of
five transcripts in 20 modules, transcript usage with 10% missing values as a float32 ``.matrix`` folder, and
a fit (``modules.parquet`` + ``feature_scores.parquet``: one switch row per gene). Timed, each in its own
process so that peak RSS is that run's (the child's own ``ru_maxrss``), contenders interleaved per row:

- in memory: ``explain_module`` with the table read whole first (``load_feature_table``);
- out of core: ``explain_module`` on the ``.matrix`` path with ``--memory-budget`` (default 0.5 GiB);
- floor: the read of each module's features plus one BLAS matrix-vector product per module (the least any
  correlation with the eigengene costs).

No output tables are written (the statistics and the reads are what scale). Run:
``python bench/explain_out_of_core.py`` (rows: samples 300 -> 17,000 at 20,000 features, features
20,000 -> 200,000 at 300 samples; ``--rows`` picks some, ``--big`` adds 17,000 x 200,000).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

ROWS = [(300, 20_000), (2_000, 20_000), (6_000, 20_000), (17_000, 20_000), (300, 60_000), (300, 200_000)]
BIG = (17_000, 200_000)


def make_study(folder: Path, n_samples: int, n_features: int, seed: int = 0) -> None:
    """Write features.matrix (float32), feature_metadata.parquet and fit/ for one synthetic study."""
    from isograph.dataset.matrix import write_matrix_blocks

    rng = np.random.default_rng(seed)
    n_genes, n_modules = n_features // 5, 20
    samples = [f"S{i:05d}" for i in range(n_samples)]
    genes = [f"G{g:06d}" for g in range(n_genes)]
    activity = rng.normal(size=(n_modules, n_samples))
    module_of_gene = np.arange(n_genes) % n_modules
    features = [f"T{j:07d}" for j in range(n_features)]

    def blocks(step: int = 5_000):
        for start in range(0, n_features, step):
            rows = np.arange(start, min(start + step, n_features))
            gene = rows // 5
            signal = 0.1 * activity[module_of_gene[gene]] * ((rows % 5 == 0) * 2 - 1)[:, None] * (gene % 2 == 0)[:, None]
            block = np.clip(0.2 + signal + rng.normal(scale=0.05, size=(len(rows), n_samples)), 0, 1)
            block[rng.random(block.shape) < 0.1] = np.nan
            yield block.astype(np.float32)

    write_matrix_blocks(folder / "features.matrix", samples, features, blocks(), dtype="float32")
    pd.DataFrame({"feature_id": features, "gene_id": [genes[j // 5] for j in range(n_features)],
                  "feature_type": "transcript_usage", "gene_name": None, "transcript_id": features}
                 ).to_parquet(folder / "feature_metadata.parquet")
    (folder / "fit").mkdir()
    pd.DataFrame({"gene_id": genes, "module_id": [f"M{m:03d}" for m in module_of_gene]}).to_parquet(
        folder / "fit" / "modules.parquet")
    scores = activity[module_of_gene] + rng.normal(scale=0.5, size=(n_genes, n_samples))
    meta = pd.DataFrame({"feature_id": [f"{g}::switch" for g in genes], "gene_id": genes, "feature_type": "switch",
                         "n_transcripts": 5})
    frame = pd.concat([meta, pd.DataFrame(scores, columns=samples)], axis=1)
    frame.to_parquet(folder / "fit" / "feature_scores.parquet")


CHILD = r"""
import json, sys, time
import numpy as np
from pathlib import Path
folder, mode, budget = Path(sys.argv[1]), sys.argv[2], float(sys.argv[3])
start = time.perf_counter()
from isograph.dataset.artifacts import load_feature_meta, load_feature_table, load_fit_artifacts
from isograph.explain import ExplainConfig, explain_module
if mode == "floor":
    from isograph.dataset.matrix import open_matrix
    fit = load_fit_artifacts(folder / "fit")
    meta = load_feature_meta(folder / "feature_metadata.parquet")
    matrix = open_matrix(folder / "features.matrix")
    gene_module = fit.modules.set_index("gene_id")["module_id"]
    module_of_feature = gene_module.reindex(meta["gene_id"]).to_numpy()
    for module in fit.module_ids:
        rows = np.sort(matrix.rows_of(meta["feature_id"][module_of_feature == module]))
        eig = fit.scores[np.flatnonzero(fit.score_meta["gene_id"].map(gene_module).to_numpy() == module)].mean(axis=0)
        x = np.nan_to_num(np.asarray(matrix.values[rows], dtype=np.float64))
        x @ eig
else:
    table = folder / "features.matrix" if mode == "out-of-core" else load_feature_table(folder / "features.matrix")
    explain_module(folder / "fit", table, folder / "feature_metadata.parquet",
                   config=ExplainConfig(memory_budget=budget))
import resource
print(json.dumps({"seconds": time.perf_counter() - start,
                  "peak_gib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20}))  # KiB on Linux
"""


def run(folder: Path, mode: str, budget: float) -> tuple[float, float]:
    """(seconds, peak RSS GiB) of one contender in a fresh process (its own ``ru_maxrss``)."""
    out = subprocess.run([sys.executable, "-c", CHILD, str(folder), mode, str(budget)], capture_output=True,
                         text=True, check=True, env={**os.environ, "PYTHONWARNINGS": "ignore"})
    result = json.loads(out.stdout.strip().splitlines()[-1])
    return result["seconds"], result["peak_gib"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="+", help="indices into the default rows (0-5)")
    parser.add_argument("--big", action="store_true", help="add the GTEx-sized row (17,000 x 200,000)")
    parser.add_argument("--budget", type=float, default=0.5, help="--memory-budget of the out-of-core runs (GiB)")
    args = parser.parse_args()
    rows = [ROWS[i] for i in args.rows] if args.rows else list(ROWS)
    rows += [BIG] if args.big else []
    print(f"cores available: {len(os.sched_getaffinity(0))}; out-of-core budget {args.budget} GiB")
    print(f"{'samples':>8} {'features':>9} {'table GiB':>9} | {'in memory s':>11} {'RSS GiB':>7} | {'out of core s':>13}"
          f" {'RSS GiB':>7} | {'floor s':>7} {'RSS GiB':>7}")
    for n_samples, n_features in rows:
        folder = Path(tempfile.mkdtemp(prefix="isograph-ooc-"))
        try:
            make_study(folder, n_samples, n_features)
            cells = {}
            for mode in ("out-of-core", "in-memory", "floor"):  # each in a fresh process; RSS is per child
                cells[mode] = run(folder, mode, args.budget)
            gib = n_samples * n_features * 8 / 2**30
            print(f"{n_samples:>8} {n_features:>9} {gib:>9.2f} | {cells['in-memory'][0]:>11.1f} {cells['in-memory'][1]:>7.2f}"
                  f" | {cells['out-of-core'][0]:>13.1f} {cells['out-of-core'][1]:>7.2f} | {cells['floor'][0]:>7.1f}"
                  f" {cells['floor'][1]:>7.2f}", flush=True)
        finally:
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()

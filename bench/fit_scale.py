"""Benchmark: `isograph fit` stages on 20,000 genes x 300 samples (CPU).

Setup (not timed): ``simulate`` with synthetic gene models (20,000 genes x 4 transcripts = 80,000
transcripts, 20 planted modules over 60% of the genes), matched to its annotation.

Timed: ``run_fit`` with the default FitConfig, reporting the wall time of each stage (scores: switch +
abundance scores; vae: training to early stopping; modules: reconstruction kNN graph + Leiden;
membership: kME of every gene with every module eigengene; write: parquet + checkpoint) and the
recovery of the planted modules.

Run: ``python bench/fit_scale.py [--genes 20000 --samples 300]``. Target: <= 120 s in all.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from isograph.fit.importers import match_annotation  # noqa: E402
from isograph.fit.modules import module_recovery  # noqa: E402
from isograph.fit.pipeline import FitConfig, run_fit  # noqa: E402
from isograph.fit.vae_config import VAEConfig  # noqa: E402
from isograph.simulate import SimulationConfig, simulate  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--genes", type=int, default=20_000)
    parser.add_argument("--samples", type=int, default=300)
    parser.add_argument("--isoforms", type=int, default=4)
    parser.add_argument("--modules", type=int, default=20)
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args()

    print(f"cores available: {len(os.sched_getaffinity(0))}")
    t0 = time.perf_counter()
    sim = simulate(SimulationConfig(n_samples=args.samples, n_genes=args.genes, gene_models="synthetic",
                                    isoforms_per_gene=args.isoforms, n_modules=args.modules, seed=2))
    data = match_annotation(sim.counts, sim.tx2gene)
    print(f"setup (not timed): {time.perf_counter() - t0:.1f} s; {args.genes} genes x {args.samples} samples,"
          f" {sim.counts.shape[1]} transcripts, {args.modules} planted modules")

    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory() as out:
        result = run_fit(data, FitConfig(vae=VAEConfig(device=args.device)), output_dir=out)
    total = time.perf_counter() - t0
    score, _ = module_recovery(result.modules, sim.oracle_modules)
    for stage, seconds in result.timings.items():
        print(f"  {stage:<11} {seconds:7.1f} s")
    hist = result.history
    print(f"VAE: {len(hist.train_loss)} epochs (best {hist.best_epoch + 1}) on {hist.device}")
    print(f"fit total: {total:.1f} s (target <= 120 s); {result.modules['module_id'].nunique()} modules,"
          f" recovery of the planted modules (mean best Jaccard) {score:.3f}")


if __name__ == "__main__":
    main()

"""Benchmark: decoder attribution and Integrated Gradients for one module of a 20,000-gene fit (CPU).

Setup (not timed): simulate 20,000 synthetic genes x 300 samples (20 modules), ``run_fit`` (VAE on 40,000
feature scores), ``explain_module`` without attribution, and ``prepare_attribution`` (checkpoint load +
encoding of every sample, timed separately).

Timed for the largest module: ``vae_drivers`` (latent choice, central difference, per-gene collapse,
criteria) and ``integrated_gradients`` over all 300 samples with ``n_steps`` 100 (the CLI default) and 50.

Run: ``python bench/attribution_scale.py``.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from isograph.dataset.artifacts import load_fit_artifacts  # noqa: E402
from isograph.explain import explain_module  # noqa: E402
from isograph.explain.attribution import (  # noqa: E402
    choose_latent,
    integrated_gradients,
    prepare_attribution,
    vae_drivers,
)
from isograph.fit.importers import match_annotation  # noqa: E402
from isograph.fit.pipeline import FitConfig, run_fit  # noqa: E402
from isograph.simulate import SimulationConfig, simulate  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--genes", type=int, default=20_000)
    parser.add_argument("--samples", type=int, default=300)
    args = parser.parse_args()
    print(f"cores available: {len(os.sched_getaffinity(0))}")
    t0 = time.perf_counter()
    sim = simulate(SimulationConfig(n_samples=args.samples, n_genes=args.genes, gene_models="synthetic",
                                    isoforms_per_gene=4, n_modules=20, seed=2))
    with tempfile.TemporaryDirectory() as tmp:
        run_fit(match_annotation(sim.counts, sim.tx2gene), FitConfig(), output_dir=Path(tmp) / "fit")
        fit = load_fit_artifacts(Path(tmp) / "fit")
        res = explain_module(fit, sim.feature_table, sim.feature_meta, module_ids=["M000"])["M000"]
        print(f"setup (simulate + fit + explain, not timed): {time.perf_counter() - t0:.1f} s;"
              f" module M000 has {len(res.gene_driver_table)} genes")
        t0 = time.perf_counter()
        inputs = prepare_attribution(fit)
        print(f"prepare_attribution (load checkpoint, encode {len(inputs.sample_ids)} samples,"
              f" {len(inputs.feature_ids)} features): {time.perf_counter() - t0:.2f} s")
        t0 = time.perf_counter()
        drivers = vae_drivers(inputs, fit.module_genes("M000"), res.gene_driver_table, res.eigengene)
        print(f"decoder attribution (vae_drivers), one module: {time.perf_counter() - t0:.3f} s;"
              f" {int(drivers['high_confidence'].sum())} high-confidence drivers")
        k, _ = choose_latent(inputs.mu, res.eigengene.to_numpy())
        for steps in (100, 50):
            t0 = time.perf_counter()
            table, _ = integrated_gradients(inputs, k, n_steps=steps)
            print(f"integrated gradients, one module, {len(inputs.sample_ids)} samples, n_steps {steps}:"
                  f" {time.perf_counter() - t0:.1f} s (mean |completeness gap| {table['convergence_delta'].iloc[0]:.2e})")


if __name__ == "__main__":
    main()

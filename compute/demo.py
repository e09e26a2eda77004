"""The embedded demo data set, built deterministically: simulate -> fit -> explain.

The demo is the standard simulated set (seed 0: 200 samples, 6 planted modules, half of the module
genes switching) on the 234 real multi-isoform human genes of IsoformSwitchAnalyzeR's chr1 example, fitted
with the default :class:`~isograph.fit.pipeline.FitConfig` and explained with the default
:class:`~isograph.explain.ExplainConfig`. Later steps (structure annotation, SAE features) add to it.

Layout of ``{out}`` (a *data set* folder)::

    dataset.json                     name, description, relative paths of everything below
    counts.parquet, tx2gene.tsv      simulated transcript counts and the transcript -> gene map
    features.matrix                  samples x transcript-usage features (the fast layout)
    feature_metadata.parquet         feature_id, gene_id, feature_type, gene_name, transcript_id, ...
    annotation.gtf.gz                the real GTF of the gene models (for transcript structures)
    transcripts.fa.gz                their real transcript sequences (for variants on the feature pages)
    fit/                             the IsoGraph fit (modules, feature scores, VAE, membership)
    explain/                         explain-module outputs for every module of the fit
    structure/                       structural consequences of each driver's switch (isograph.structure.annotate)
    sae/                             DNA LM, SAE, knowledge graph and enrichment (isograph.sae.demo)
    covariates.tsv                   sample_id, batch, and two traits planted on module activity (see
                                     :func:`demo_covariates`) for the module–trait views
    truth/, oracle_fit/, simulation_config.json   the simulation's truth
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from isograph import __version__
from isograph.dataset.io import atomic_write, write_json, write_tsv
from isograph.explain import ExplainConfig, explain_module
from isograph.fit.importers import load_tx2gene, match_annotation
from isograph.fit.modules import module_recovery
from isograph.fit.pipeline import FitConfig, run_fit
from isograph.reference import reference_path
from isograph.simulate import (
    REFERENCE_GTF,
    SimulationConfig,
    SimulationResult,
    simulate,
    switch_call_recovery,
    write_simulation,
)
from isograph.structure.annotate import annotate_switches
from isograph.structure.consequences import switch_pairs_from_explain

__all__ = ["DATASET_FILE", "DEMO_SIMULATION", "PLANTED_TRAITS", "build_demo", "demo_covariates", "demo_is_built"]

DATASET_FILE = "dataset.json"
DEMO_SIMULATION = SimulationConfig()


PLANTED_TRAITS = {"condition": "M001", "age": "M000"}  #: each demo trait and the module whose activity it follows


def demo_covariates(sim: SimulationResult) -> pd.DataFrame:
    """The demo's covariates: the simulation's ``batch`` (one level, ``b0``, in the standard set: no batch
    effect was simulated) and two traits planted on the modules' true activity, so that the module–trait
    views have something true to find.

    - ``condition``: ``treated`` where M001's activity + N(0, 0.5²) > 0, else ``control``;
    - ``age`` (years): 55 + 8 × M000's activity + N(0, 6²), rounded to whole years.

    They are drawn with their own generator (seed 0), so the simulation itself is unchanged, and the fit does
    not see them.

    Parameters
    ----------
    sim : SimulationResult

    Returns
    -------
    DataFrame
        ``sample_id, batch, condition, age``.
    """
    rng = np.random.default_rng(0)
    activity = sim.module_activity
    n = len(activity)
    condition = np.where(activity[PLANTED_TRAITS["condition"]].to_numpy() + rng.normal(0.0, 0.5, n) > 0,
                         "treated", "control")
    age = np.round(55.0 + 8.0 * activity[PLANTED_TRAITS["age"]].to_numpy() + rng.normal(0.0, 6.0, n))
    return sim.covariates.assign(condition=condition, age=age.astype(np.int64))


def demo_is_built(out_dir: str | os.PathLike) -> bool:
    """True when ``out_dir`` holds a complete demo (its ``dataset.json`` is written last).

    Parameters
    ----------
    out_dir : path

    Returns
    -------
    bool
    """
    return (Path(out_dir) / DATASET_FILE).exists()


def build_demo(
    out_dir: str | os.PathLike,
    *,
    progress: Callable[[str, float, str], None] | None = None,
    sae: bool = True,
) -> dict:
    """Build the demo data set into ``out_dir`` (deterministic; about 10 s on 2 cores).

    Parameters
    ----------
    out_dir : path
        Created if needed; files there are replaced one by one, ``dataset.json`` last.
    progress : callable, optional
        ``progress(stage, fraction, message)`` with stages ``simulate``, ``fit``, ``explain``, ``sae``.
    sae : bool, default True
        Also build the SAE demo under ``sae/`` (:func:`isograph.sae.demo.build_sae_demo`: the shipped DNA
        language model, an SAE trained on its hidden states, the knowledge graph).

    Returns
    -------
    dict
        The ``dataset.json`` content (paths relative to ``out_dir``, recovery of the planted modules,
        timings).
    """
    out = Path(out_dir)
    timings = {}
    t0 = time.perf_counter()
    report = progress or (lambda stage, fraction, message: None)
    report("simulate", 0.0, "simulating the standard set")
    sim = simulate(DEMO_SIMULATION)
    write_simulation(sim, out)
    write_tsv(demo_covariates(sim), out / "covariates.tsv")
    atomic_write(out / "annotation.gtf.gz", lambda tmp: shutil.copyfile(REFERENCE_GTF, tmp))
    atomic_write(out / "transcripts.fa.gz", lambda tmp: shutil.copyfile(reference_path("isar_example", "example_isoform_nt.fasta.gz"), tmp))
    timings["simulate"] = time.perf_counter() - t0

    t1 = time.perf_counter()
    data = match_annotation(sim.counts.astype(float), load_tx2gene(sim.tx2gene))
    fit = run_fit(data, FitConfig(), output_dir=out / "fit",
                  progress=lambda stage, fraction, message: report("fit", 0.05 + 0.85 * fraction, message))
    timings["fit"] = time.perf_counter() - t1

    t2 = time.perf_counter()
    report("explain", 0.9, "explaining every module")
    explained = explain_module(out / "fit", sim.feature_table, sim.feature_meta, config=ExplainConfig(),
                               output_dir=out / "explain")
    calls = switch_call_recovery([r.gene_driver_table for r in explained.values()], sim.truth_genes)
    timings["explain"] = time.perf_counter() - t2
    t_structure = time.perf_counter()
    annotate_switches(out / "annotation.gtf.gz", switch_pairs_from_explain(out / "explain"),  # the called switches
                      out / "structure")
    timings["structure"] = time.perf_counter() - t_structure
    sae_summary = None
    if sae:
        from isograph.sae.demo import build_sae_demo

        t3 = time.perf_counter()
        sae_summary = build_sae_demo(out, out / "annotation.gtf.gz",
                                     progress=lambda fraction, message: report("sae", fraction, message))
        timings["sae"] = time.perf_counter() - t3
    recovery, table = module_recovery(fit.modules, sim.oracle_modules)
    dataset = {
        "name": "IsoGraph demo (simulated on real human transcript models)",
        "description": "Standard simulated set, seed 0: 200 samples, 6 planted modules, half of the module genes"
                       " switching isoforms; fitted and explained by IsoGraph Explorer.",
        "package_version": __version__,
        "paths": {"fit": "fit", "explain": "explain", "feature_table": "features.matrix",
                  "feature_meta": "feature_metadata.parquet", "counts": "counts.parquet",
                  "tx2gene": "tx2gene.tsv", "gtf": "annotation.gtf.gz", "truth": "truth/genes.tsv",
                  "structure": "structure", "transcripts": "transcripts.fa.gz", "covariates": "covariates.tsv"},
        "planted_traits": {trait: f"follows the planted activity of {module}" for trait, module in PLANTED_TRAITS.items()},
        "module_recovery": {"mean_best_jaccard": round(recovery, 4),
                            "per_module": table.to_dict(orient="records")},
        "switch_calls": {"definition": "switch_called: switch q <= 0.05 and a transcript significantly up and one"
                                       " down (q <= 0.05, |delta_usage| >= 0.1); truth: the planted switching genes",
                         **{k: round(v, 4) if isinstance(v, float) else v for k, v in calls.items()}},
        "timings_s": {k: round(v, 2) for k, v in timings.items()},
    }
    if sae_summary is not None:
        dataset["paths"]["sae"] = "sae"
        dataset["sae"] = {k: sae_summary[k] for k in ("n_windows", "n_tokens", "layer_idx", "expansion_factor",
                                                       "n_significant_features_q05", "best_region_feature",
                                                       "best_cds_feature")}
    write_json(dataset, out / DATASET_FILE)
    report("explain", 1.0, f"demo ready in {out}")
    return dataset

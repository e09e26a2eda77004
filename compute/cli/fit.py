"""``isograph fit``, ``simulate`` and ``demo``: build fits and data sets (flags from the config dataclasses)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from isograph.cli.common import ProgressPrinter
from isograph.cli.config_args import add_config_arguments, config_from_args
from isograph.fit.modules import DiscoveryConfig
from isograph.fit.pipeline import FitConfig
from isograph.fit.vae_config import VAEConfig
from isograph.simulate import SimulationConfig

__all__ = ["add_demo", "add_fit", "add_simulate"]


def add_simulate(sub: argparse._SubParsersAction) -> None:
    """Add ``simulate`` to the ``isograph`` subcommands.

    Parameters
    ----------
    sub : argparse subparsers
    """
    p = sub.add_parser(
        "simulate",
        help="simulate counts with planted modules and isoform switches (+ an oracle fit)",
        description="Write counts, a transcript-usage feature table, feature meta, truth tables and an"
        " oracle fit directory built on real human transcript models.",
    )
    p.add_argument("--out", required=True, metavar="DIR", help="output folder")
    p.add_argument("--feature-layout", choices=("matrix", "parquet"), default="matrix",
                   help="the transcript-usage table as features.matrix (the fast layout, default) or features.parquet")
    add_config_arguments(p, SimulationConfig)
    p.set_defaults(run=_run_simulate)


def _run_simulate(args: argparse.Namespace) -> int:
    from isograph.simulate import simulate, write_simulation

    config = config_from_args(SimulationConfig, args)
    sim = simulate(config)
    paths = write_simulation(sim, args.out, feature_layout=args.feature_layout)
    truth = sim.truth_genes
    print(f"isograph: simulated {sim.counts.shape[0]} samples x {sim.counts.shape[1]} transcripts of"
          f" {len(truth)} genes; {int(truth['module_id'].notna().sum())} in {config.n_modules} modules,"
          f" {int(truth['is_switching'].sum())} switching", file=sys.stderr)
    print(Path(paths["config"]).parent)
    return 0


def add_fit(sub: argparse._SubParsersAction) -> None:
    """Add ``fit`` to the ``isograph`` subcommands.

    Parameters
    ----------
    sub : argparse subparsers
    """
    p = sub.add_parser(
        "fit",
        help="fit modules from transcript counts (switch scores, VAE, module graph)",
        description="Import counts, score every gene's isoform switch and abundance, train a VAE, group genes"
        " whose reconstructions move together into modules, and write an IsoGraph fit directory.",
    )
    source = p.add_mutually_exclusive_group(required=True)
    source.add_argument("--counts", metavar="FILE",
                        help="estimated counts, samples x transcripts or transcripts x samples (parquet/TSV/CSV)")
    source.add_argument("--salmon-dir", metavar="DIR", help="folder of salmon <sample>.quant.sf[.gz] or <sample>/quant.sf")
    annotation = p.add_mutually_exclusive_group(required=True)
    annotation.add_argument("--tx2gene", metavar="FILE", help="table with transcript_id, gene_id [, gene_name]")
    annotation.add_argument("--gtf", metavar="FILE", help="GTF (plain or .gz) to map transcripts to genes")
    p.add_argument("--output-dir", required=True, metavar="DIR", help="the fit directory to write")
    p.add_argument("--covariates", metavar="FILE", help="sample_id + covariate columns to regress out of every score")
    p.add_argument("--min-matched-fraction", type=float, default=0.5, metavar="F",
                   help="refuse when fewer quantified transcripts are in the annotation (default 0.5)")
    add_config_arguments(p, FitConfig)
    add_config_arguments(p.add_argument_group("VAE (architecture and training)"), VAEConfig, exclude=["seed"])
    add_config_arguments(p.add_argument_group("module discovery"), DiscoveryConfig, exclude=["seed"])
    p.set_defaults(run=_run_fit)


def _run_fit(args: argparse.Namespace) -> int:
    from isograph.dataset.io import read_table
    from isograph.fit.importers import load_counts, load_salmon_dir, load_tx2gene, match_annotation
    from isograph.fit.pipeline import run_fit

    config = config_from_args(FitConfig, args, vae=config_from_args(VAEConfig, args),
                              discovery=config_from_args(DiscoveryConfig, args))
    config.validate()
    tx2gene = load_tx2gene(args.tx2gene or args.gtf)
    counts = load_salmon_dir(args.salmon_dir) if args.salmon_dir else load_counts(args.counts, tx2gene)
    data = match_annotation(counts, tx2gene, min_matched_fraction=args.min_matched_fraction)
    print(f"isograph fit: {data.summary()}", file=sys.stderr)
    covariates = read_table(args.covariates, what="covariates table") if args.covariates else None
    result = run_fit(data, config, covariates=covariates, output_dir=args.output_dir,
                     progress=ProgressPrinter("isograph fit"))
    sizes = result.modules["module_id"].value_counts().sort_index()
    print(f"isograph fit: {len(sizes)} modules ({', '.join(f'{m}: {n}' for m, n in sizes.items())}); "
          + ", ".join(f"{k} {v:.1f} s" for k, v in result.timings.items()), file=sys.stderr)
    out = Path(args.output_dir)
    print(f"isograph fit: next, `isograph explain-module --artifact-dir {out} --feature-table"
          f" {out / 'transcript_usage.matrix'} --feature-meta {out / 'feature_metadata.parquet'} --output-dir ...`",
          file=sys.stderr)
    print(out)
    return 0


def add_demo(sub: argparse._SubParsersAction) -> None:
    """Add ``demo`` to the ``isograph`` subcommands.

    Parameters
    ----------
    sub : argparse subparsers
    """
    p = sub.add_parser("demo", help="build the demo data set (simulate -> fit -> explain -> SAE)",
                       description="Build the embedded demo deterministically: the standard simulated set on real"
                       " human transcript models, fitted and explained.")
    p.add_argument("--out", default="demo_data", metavar="DIR", help="output folder (default demo_data)")
    p.add_argument("--force", action="store_true", help="rebuild even if the folder already holds the demo")
    p.add_argument("--no-sae", action="store_true", help="skip the SAE part (DNA LM, SAE, knowledge graph; ~1 min)")
    p.set_defaults(run=_run_demo)


def _run_demo(args: argparse.Namespace) -> int:
    from isograph.demo import build_demo, demo_is_built

    if demo_is_built(args.out) and not args.force:
        print(f"isograph demo: {args.out} already holds the demo (use --force to rebuild)", file=sys.stderr)
    else:
        dataset = build_demo(args.out, progress=ProgressPrinter("isograph demo"), sae=not args.no_sae)
        print(f"isograph demo: planted-module recovery (mean best Jaccard)"
              f" {dataset['module_recovery']['mean_best_jaccard']:.3f}", file=sys.stderr)
        calls = dataset["switch_calls"]
        print(f"isograph demo: switch calls against the planted switching genes: {calls['n_called']} called,"
              f" precision {calls['precision']:.3f}, recall {calls['recall']:.3f}"
              f" ({calls['true_positives']} of {calls['n_planted']} planted)", file=sys.stderr)
        if "sae" in dataset:
            best = dataset["sae"]["best_cds_feature"]
            print(f"isograph demo: SAE feature {best['feature']} is the CDS-enriched feature with the lowest p"
                  f" (odds ratio {best['odds_ratio']:.2f}, q {best['qvalue']:.2g});"
                  f" {dataset['sae']['n_significant_features_q05']} features differ between CDS and UTR at q < 0.05",
                  file=sys.stderr)
    print(Path(args.out))
    return 0

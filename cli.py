"""The ``isograph`` command line: thin subcommands over ``compute/``.

Every bad input ends in one line on stderr (``isograph: error: ...``) and exit status 2, with no
traceback; warnings are one line each (``isograph: warning: ...``). Set ``ISOGRAPH_DEBUG=1`` to see the
traceback of an unexpected internal error.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import warnings
from collections.abc import Sequence
from pathlib import Path

EXIT_INPUT_ERROR = 2


class _Parser(argparse.ArgumentParser):
    """An ArgumentParser whose usage errors are one line and exit status 2."""

    def error(self, message: str) -> None:  # noqa: D401 - argparse API
        self.exit(EXIT_INPUT_ERROR, f"{self.prog}: error: {message} (see `{self.prog} --help`)\n")


def _show_warning(message, category, filename, lineno, file=None, line=None) -> None:
    print(f"isograph: warning: {message}", file=sys.stderr)


def _add_explain_module(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "explain-module",
        help="find the gene and transcript drivers of each module",
        description="Correlate every module gene and transcript feature with the module eigengene, contrast"
        " high- vs low-module samples, and write the driver tables and a manifest.",
    )
    p.add_argument("--artifact-dir", required=True, metavar="DIR", help="IsoGraph fit folder (modules.parquet, feature_scores.parquet)")
    p.add_argument("--feature-table", required=True, metavar="FILE", help="samples x features table (parquet, TSV or CSV)")
    p.add_argument("--feature-meta", required=True, metavar="FILE", help="feature_id, gene_id, feature_type (+ optional columns)")
    p.add_argument("--module-ids", nargs="+", metavar="ID", help="modules to explain (default: all)")
    p.add_argument("--module-score-table", metavar="FILE", help="samples x modules precomputed eigengenes (overrides the eigengene)")
    p.add_argument("--annotation-table", metavar="FILE", help="structural labels from `isograph annotate-structure`")
    p.add_argument("--output-dir", required=True, metavar="DIR", help="where the per-module tables and the manifest go")
    p.add_argument("--split-percentile", type=float, default=50.0, metavar="P",
                   help="high = top P%% of samples by eigengene, low = bottom P%% (default 50)")
    p.add_argument("--min-complete-pairs", type=int, default=3, metavar="N",
                   help="NaN correlation below N complete sample pairs (default 3)")
    p.add_argument("--eigengene-method", choices=["pc1", "aligned_mean"], default="pc1",
                   help="WGCNA PC1 eigengene (default) or IsoGraph's sign-aligned mean")
    p.add_argument("--plot", action="store_true",
                   help="write the driver barplot, usage gradient and driver heatmap per module to {module}/figures/")
    p.add_argument("--output-format", nargs="+", choices=["pdf", "png", "svg", "html"], default=["pdf"],
                   metavar="FMT", help="figure formats with --plot: pdf png svg html (default pdf)")
    vae = p.add_argument_group("VAE decoder attribution (needs vae_checkpoint.pt in the fit)")
    vae.add_argument("--vae-attribution", action="store_true",
                     help="decoder finite-difference drivers -> {module}/vae_drivers.parquet")
    vae.add_argument("--vae-fdr-threshold", type=float, default=0.05, metavar="Q",
                     help="high-confidence drivers need gene q <= Q (default 0.05)")
    vae.add_argument("--vae-percentile-threshold", type=float, default=90.0, metavar="P",
                     help="... and |decoded_delta| in the top percentile P among module genes (default 90)")
    vae.add_argument("--vae-eps", type=float, default=1.0, metavar="EPS",
                     help="half-step of the central difference in latent units (default 1.0)")
    ig = p.add_argument_group("Captum Integrated Gradients (needs vae_checkpoint.pt in the fit)")
    ig.add_argument("--integrated-gradients", action="store_true",
                    help="attribute the module's latent to the input features -> {module}/ig_attributions.parquet")
    ig.add_argument("--ig-n-steps", type=int, default=100, metavar="N", help="integration steps (default 100)")
    ig.add_argument("--ig-baseline", choices=["zero", "mean"], default="zero",
                    help="all-zero scores (no switching; default) or each feature's mean")
    p.set_defaults(run=_run_explain_module)


def _run_explain_module(args: argparse.Namespace) -> int:
    from compute.explain import MANIFEST_NAME, ExplainConfig, explain_module

    config = ExplainConfig(
        split_percentile=args.split_percentile,
        min_complete_pairs=args.min_complete_pairs,
        eigengene_method=args.eigengene_method,
        vae_attribution=args.vae_attribution,
        vae_fdr_threshold=args.vae_fdr_threshold,
        vae_percentile_threshold=args.vae_percentile_threshold,
        vae_eps=args.vae_eps,
        integrated_gradients=args.integrated_gradients,
        ig_n_steps=args.ig_n_steps,
        ig_baseline=args.ig_baseline,
    )
    start = time.perf_counter()
    results = explain_module(
        artifact_dir=args.artifact_dir,
        feature_table=args.feature_table,
        feature_meta=args.feature_meta,
        module_ids=args.module_ids,
        config=config,
        output_dir=args.output_dir,
        module_score_table=args.module_score_table,
        annotation_table=args.annotation_table,
    )
    if args.plot:
        from components.export import chrome_path, write_module_figures
        from compute.artifacts import load_feature_table
        from compute.errors import InputError

        if chrome_path() is None and set(args.output_format) - {"html"}:
            raise InputError("--plot with pdf/png/svg needs Chrome or Chromium (Debian: apt-get install chromium);"
                             " use --output-format html, or set BROWSER_PATH")
        figures = write_module_figures(results, load_feature_table(args.feature_table), args.output_dir,
                                       args.output_format)
        print(f"isograph: wrote {len(figures)} figure file(s)", file=sys.stderr)
    n_samples = len(next(iter(results.values())).sample_ids) if results else 0
    print(f"isograph: explained {len(results)} module(s) on {n_samples} samples in "
          f"{time.perf_counter() - start:.1f} s", file=sys.stderr)
    print(Path(args.output_dir) / MANIFEST_NAME)
    return 0


def _add_simulate(sub: argparse._SubParsersAction) -> None:
    from compute.simulate import SimulationConfig

    d = SimulationConfig()
    p = sub.add_parser(
        "simulate",
        help="simulate counts with planted modules and isoform switches (+ an oracle fit)",
        description="Write counts, a transcript-usage feature table, feature meta, truth tables and an"
        " oracle fit directory built on real human transcript models.",
    )
    p.add_argument("--out", required=True, metavar="DIR", help="output folder")
    p.add_argument("--seed", type=int, default=d.seed)
    p.add_argument("--n-samples", type=int, default=d.n_samples)
    p.add_argument("--n-modules", type=int, default=d.n_modules)
    p.add_argument("--n-genes", type=int, default=None,
                   help="genes (default: the 234 real multi-isoform genes; more adds synthetic genes)")
    p.add_argument("--gene-models", choices=["real", "synthetic"], default=d.gene_models)
    p.add_argument("--module-fraction", type=float, default=d.module_fraction)
    p.add_argument("--switch-fraction", type=float, default=d.switch_fraction)
    p.add_argument("--isoforms-per-gene", type=int, default=d.isoforms_per_gene,
                   help="transcripts of each synthetic gene")
    p.add_argument("--dispersion", type=float, default=d.dispersion, help="negative-binomial dispersion")
    p.add_argument("--switch-effect", type=float, default=d.switch_effect)
    p.add_argument("--abundance-effect", type=float, default=d.abundance_effect)
    p.add_argument("--mean-gene-count", type=float, default=d.mean_gene_count)
    p.add_argument("--confounder-strength", type=float, default=d.confounder_strength)
    p.add_argument("--missing-fraction", type=float, default=d.missing_fraction)
    p.set_defaults(run=_run_simulate)


def _run_simulate(args: argparse.Namespace) -> int:
    from compute.simulate import SimulationConfig, simulate, write_simulation

    config = SimulationConfig(
        n_samples=args.n_samples, n_modules=args.n_modules, n_genes=args.n_genes,
        gene_models=args.gene_models, module_fraction=args.module_fraction,
        switch_fraction=args.switch_fraction, isoforms_per_gene=args.isoforms_per_gene,
        dispersion=args.dispersion, switch_effect=args.switch_effect,
        abundance_effect=args.abundance_effect, mean_gene_count=args.mean_gene_count,
        confounder_strength=args.confounder_strength, missing_fraction=args.missing_fraction,
        seed=args.seed,
    )
    sim = simulate(config)
    paths = write_simulation(sim, args.out)
    truth = sim.truth_genes
    print(f"isograph: simulated {sim.counts.shape[0]} samples x {sim.counts.shape[1]} transcripts of"
          f" {len(truth)} genes; {int(truth['module_id'].notna().sum())} in {config.n_modules} modules,"
          f" {int(truth['is_switching'].sum())} switching", file=sys.stderr)
    print(Path(paths["config"]).parent)
    return 0


class _ProgressPrinter:
    """Prints ``progress(stage, fraction, message)`` to stderr when the stage or 5% of progress changes."""

    def __init__(self, prog: str) -> None:
        self.prog, self.last = prog, ("", -1.0)

    def __call__(self, stage: str, fraction: float, message: str) -> None:
        if stage != self.last[0] or fraction - self.last[1] >= 0.05 or fraction >= 1.0:
            print(f"{self.prog}: [{fraction:4.0%}] {stage}: {message}", file=sys.stderr, flush=True)
            self.last = (stage, fraction)


def _add_fit(sub: argparse._SubParsersAction) -> None:
    from compute.fit_pipeline import FitConfig
    from compute.module_discovery import DiscoveryConfig
    from compute.vae_config import VAEConfig

    d, v, g = FitConfig(), VAEConfig(), DiscoveryConfig()
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
    p.add_argument("--seed", type=int, default=d.seed)
    p.add_argument("--min-matched-fraction", type=float, default=0.5, metavar="F",
                   help="refuse when fewer quantified transcripts are in the annotation (default 0.5)")
    p.add_argument("--channels", nargs="+", choices=["switch", "abundance"], default=list(d.channels))
    p.add_argument("--latent-dim", type=int, default=v.latent_dim)
    p.add_argument("--hidden-dim", type=int, default=v.hidden_dim)
    p.add_argument("--n-hidden-layers", type=int, default=v.n_hidden_layers)
    p.add_argument("--max-epochs", type=int, default=v.max_epochs)
    p.add_argument("--patience", type=int, default=v.patience)
    p.add_argument("--batch-size", type=int, default=v.batch_size)
    p.add_argument("--learning-rate", type=float, default=v.learning_rate)
    p.add_argument("--kl-warmup-epochs", type=int, default=v.kl_warmup_epochs)
    p.add_argument("--device", choices=["cpu", "cuda", "auto"], default=v.device)
    p.add_argument("--alpha", type=float, default=g.alpha, help="minimum |r| between reconstructions for an edge")
    p.add_argument("--n-neighbors", type=int, default=g.n_neighbors)
    p.add_argument("--min-r2", type=float, default=g.min_r2, help="genes reconstructed worse stay unassigned")
    p.add_argument("--min-module-size", type=int, default=g.min_module_size)
    p.add_argument("--community", choices=["leiden", "louvain", "components"], default=g.community)
    p.add_argument("--resolution", type=float, default=g.resolution)
    p.set_defaults(run=_run_fit)


def _run_fit(args: argparse.Namespace) -> int:
    from compute.fit_pipeline import FitConfig, run_fit
    from compute.importers import load_counts, load_salmon_dir, load_tx2gene, match_annotation
    from compute.module_discovery import DiscoveryConfig
    from compute.vae import VAEConfig
    from compute.io import read_table

    config = FitConfig(
        channels=tuple(args.channels),
        vae=VAEConfig(latent_dim=args.latent_dim, hidden_dim=args.hidden_dim, n_hidden_layers=args.n_hidden_layers,
                      max_epochs=args.max_epochs, patience=args.patience, batch_size=args.batch_size,
                      learning_rate=args.learning_rate, kl_warmup_epochs=args.kl_warmup_epochs, device=args.device),
        discovery=DiscoveryConfig(alpha=args.alpha, n_neighbors=args.n_neighbors, min_r2=args.min_r2,
                                  min_module_size=args.min_module_size, community=args.community,
                                  resolution=args.resolution),
        seed=args.seed,
    )
    config.validate()
    tx2gene = load_tx2gene(args.tx2gene or args.gtf)
    counts = load_salmon_dir(args.salmon_dir) if args.salmon_dir else load_counts(args.counts, tx2gene)
    data = match_annotation(counts, tx2gene, min_matched_fraction=args.min_matched_fraction)
    print(f"isograph fit: {data.summary()}", file=sys.stderr)
    covariates = read_table(args.covariates, what="covariates table") if args.covariates else None
    result = run_fit(data, config, covariates=covariates, output_dir=args.output_dir,
                     progress=_ProgressPrinter("isograph fit"))
    sizes = result.modules["module_id"].value_counts().sort_index()
    print(f"isograph fit: {len(sizes)} modules ({', '.join(f'{m}: {n}' for m, n in sizes.items())}); "
          + ", ".join(f"{k} {v:.1f} s" for k, v in result.timings.items()), file=sys.stderr)
    print(Path(args.output_dir))
    return 0


def _add_demo(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("demo", help="build the demo data set (simulate -> fit -> explain -> SAE)",
                       description="Build the embedded demo deterministically: the standard simulated set on real"
                       " human transcript models, fitted and explained.")
    p.add_argument("--out", default="demo_data", metavar="DIR", help="output folder (default demo_data)")
    p.add_argument("--force", action="store_true", help="rebuild even if the folder already holds the demo")
    p.add_argument("--no-sae", action="store_true", help="skip the SAE part (DNA LM, SAE, knowledge graph; ~1 min)")
    p.set_defaults(run=_run_demo)


def _run_demo(args: argparse.Namespace) -> int:
    from compute.demo import build_demo, demo_is_built

    if demo_is_built(args.out) and not args.force:
        print(f"isograph demo: {args.out} already holds the demo (use --force to rebuild)", file=sys.stderr)
    else:
        dataset = build_demo(args.out, progress=_ProgressPrinter("isograph demo"), sae=not args.no_sae)
        print(f"isograph demo: planted-module recovery (mean best Jaccard)"
              f" {dataset['module_recovery']['mean_best_jaccard']:.3f}", file=sys.stderr)
        if "sae" in dataset:
            best = dataset["sae"]["best_cds_feature"]
            print(f"isograph demo: SAE feature {best['feature']} is the CDS-enriched feature with the lowest p"
                  f" (odds ratio {best['odds_ratio']:.2f}, q {best['qvalue']:.2g});"
                  f" {dataset['sae']['n_significant_features_q05']} features differ between CDS and UTR at q < 0.05",
                  file=sys.stderr)
    print(Path(args.out))
    return 0


def _add_annotate_structure(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("annotate-structure", help="structural consequences of switch pairs from a GTF",
                       description="Annotate (gene_id, transcript_id_1, transcript_id_2) switch pairs with the"
                       " structural consequences of using transcript 2 instead of transcript 1, and write a"
                       " per-transcript table for `explain-module --annotation-table`.")
    p.add_argument("--gtf", required=True, metavar="FILE", help="GTF, plain or .gz")
    p.add_argument("--switch-pairs", required=True, metavar="FILE",
                   help="gene_id, transcript_id_1, transcript_id_2 (TSV/CSV/parquet)")
    p.add_argument("--gtf-cache", metavar="FILE", help="transcript-model cache (default: next to the GTF)")
    p.add_argument("--no-cache", action="store_true", help="parse the GTF and write no cache")
    p.add_argument("--strip-versions", action="store_true", help="drop .N version suffixes from transcript/gene IDs")
    p.add_argument("--output", required=True, metavar="FILE",
                   help="per-transcript annotation (.tsv or .parquet) for --annotation-table")
    p.add_argument("--pairs-output", metavar="FILE",
                   help="one row per pair with every label (default: OUTPUT with .pairs before the suffix)")
    p.set_defaults(run=_run_annotate_structure)


def _pairs_path(output: Path) -> Path:
    suffix = "".join(output.suffixes[-2:]) if output.name.endswith(".gz") else output.suffix
    return output.with_name(output.name[: len(output.name) - len(suffix)] + ".pairs" + suffix)


def _write_table(df, path: Path) -> None:
    from compute.io import table_format, write_parquet, write_tsv

    if table_format(path) == "parquet":
        write_parquet(df, path)
    else:
        write_tsv(df, path)


def _run_annotate_structure(args: argparse.Namespace) -> int:
    from compute.errors import InputError
    from compute.io import read_table, table_format
    from compute.structure import load_transcript_models
    from compute.switch_consequences import annotate_pairs, transcript_annotation

    output = Path(args.output)
    table_format(output)  # refuse an unsupported suffix before any work
    pairs = read_table(args.switch_pairs, what="switch pairs")
    missing = [c for c in ("gene_id", "transcript_id_1", "transcript_id_2") if c not in pairs.columns]
    if missing:
        raise InputError(f"{args.switch_pairs}: missing required column(s) {', '.join(missing)}")
    start = time.perf_counter()
    loaded = load_transcript_models(args.gtf, cache=args.gtf_cache, use_cache=not args.no_cache,
                                    strip_versions=args.strip_versions)
    source = f"cache {loaded.cache_path}" if loaded.cache_used else "parsed"
    print(f"isograph annotate-structure: {len(loaded.models)} transcripts of"
          f" {loaded.models['gene_id'].nunique()} genes ({source}, {time.perf_counter() - start:.1f} s)",
          file=sys.stderr)
    annotated = annotate_pairs(pairs, loaded.models)
    not_found = annotated["status"].str.startswith("not in GTF")
    if not_found.any():
        ids = sorted({t for s in annotated.loc[not_found, "status"] for t in s.split(": ", 1)[1].split(", ")})
        shown = ", ".join(ids[:50]) + (f" ... and {len(ids) - 50} more" if len(ids) > 50 else "")
        print(f"isograph: warning: {int(not_found.sum())} of {len(pairs)} pairs name {len(ids)} transcript(s)"
              f" missing from {args.gtf}: {shown}", file=sys.stderr)
    other = ~not_found & (annotated["status"] != "ok")
    if other.any():
        print(f"isograph: warning: {int(other.sum())} pair(s) not annotated: {annotated.loc[other, 'status'].iloc[0]}",
              file=sys.stderr)
    pairs_path = Path(args.pairs_output) if args.pairs_output else _pairs_path(output)
    _write_table(annotated, pairs_path)
    _write_table(transcript_annotation(annotated, loaded.models), output)
    print(f"isograph annotate-structure: {int((annotated['status'] == 'ok').sum())} of {len(pairs)} pairs"
          f" annotated; pairs in {pairs_path}", file=sys.stderr)
    print(output)
    return 0


def _add_make_switch_pairs(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("make-switch-pairs", help="switch pairs of the driver genes of explained modules",
                       description="For each driver gene its most negative (transcript 1) and most positive"
                       " (transcript 2) transcript by r: the switch the module drives.")
    p.add_argument("--explain-dir", required=True, metavar="DIR", help="an explain-module --output-dir")
    p.add_argument("--module-ids", nargs="+", metavar="ID", help="default: every explained module")
    p.add_argument("--fdr", type=float, default=0.05, help="driver genes need gene q <= FDR (default 0.05)")
    p.add_argument("--min-switch-strength", type=float, default=0.0)
    p.add_argument("--output", required=True, metavar="FILE", help="switch_pairs.tsv (or .parquet)")
    p.set_defaults(run=_run_make_switch_pairs)


def _run_make_switch_pairs(args: argparse.Namespace) -> int:
    from compute.io import table_format
    from compute.switch_consequences import switch_pairs_from_explain

    table_format(args.output)
    pairs = switch_pairs_from_explain(args.explain_dir, module_ids=args.module_ids, fdr=args.fdr,
                                      min_switch_strength=args.min_switch_strength)
    _write_table(pairs, Path(args.output))
    print(f"isograph make-switch-pairs: {len(pairs)} switch pairs from {pairs['module_id'].nunique()} module(s)",
          file=sys.stderr)
    print(args.output)
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The ``isograph`` argument parser with all subcommands."""
    parser = _Parser(prog="isograph", description="IsoGraph Explorer: isoform switches behind transcript-usage modules.")
    from compute import __version__

    parser.add_argument("--version", action="version", version=f"isograph-explorer {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND", parser_class=_Parser)
    _add_annotate_structure(sub)
    _add_demo(sub)
    _add_explain_module(sub)
    _add_fit(sub)
    _add_make_switch_pairs(sub)
    from cli_sae import add_sae

    add_sae(sub, _Parser)
    _add_simulate(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``isograph``; returns the exit status (0 ok, 2 bad input, 1 internal error)."""
    from compute.errors import InputError

    args = build_parser().parse_args(argv)
    previous = warnings.showwarning
    warnings.showwarning = _show_warning
    try:
        return args.run(args)
    except InputError as exc:
        print(f"isograph: error: {exc}", file=sys.stderr)
        return EXIT_INPUT_ERROR
    except KeyboardInterrupt:
        print("isograph: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # an unexpected failure: one line unless debugging
        if os.environ.get("ISOGRAPH_DEBUG"):
            raise
        print(f"isograph: internal error: {type(exc).__name__}: {exc} (set ISOGRAPH_DEBUG=1 for the"
              " traceback and please report it)", file=sys.stderr)
        return 1
    finally:
        warnings.showwarning = previous


if __name__ == "__main__":
    sys.exit(main())

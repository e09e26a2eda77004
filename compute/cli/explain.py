"""``isograph explain-module``: the drivers of each module (flags from :class:`~isograph.explain.ExplainConfig`)."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from isograph.cli.common import add_batch_arguments, run_batch_command
from isograph.cli.config_args import add_config_arguments, config_from_args
from isograph.errors import InputError
from isograph.explain.contracts import ExplainConfig

__all__ = ["add_explain_module"]

VAE_FIELDS = ("vae_attribution", "vae_fdr_threshold", "vae_percentile_threshold", "vae_eps")
IG_FIELDS = ("integrated_gradients", "ig_n_steps", "ig_baseline")


def add_explain_module(sub: argparse._SubParsersAction) -> None:
    """Add ``explain-module`` to the ``isograph`` subcommands.

    Parameters
    ----------
    sub : argparse subparsers
    """
    p = sub.add_parser(
        "explain-module",
        help="find the gene and transcript drivers of each module",
        description="Correlate every module gene and transcript feature with the module eigengene, contrast"
        " high- vs low-module samples, and write the driver tables and a manifest.",
    )
    p.add_argument("--artifact-dir", metavar="DIR", help="IsoGraph fit folder (modules.parquet, feature_scores.parquet)")
    p.add_argument("--feature-table", metavar="FILE", help="samples x features table (parquet, TSV or CSV)")
    p.add_argument("--feature-meta", metavar="FILE", help="feature_id, gene_id, feature_type (+ optional columns)")
    p.add_argument("--module-ids", nargs="+", metavar="ID", help="modules to explain (default: all)")
    p.add_argument("--module-score-table", metavar="FILE", help="samples x modules precomputed eigengenes (overrides the eigengene)")
    p.add_argument("--annotation-table", metavar="FILE", help="structural labels from `isograph annotate-structure`")
    p.add_argument("--output-dir", metavar="DIR", help="where the per-module tables and the manifest go")
    batch = p.add_argument_group("many data sets (instead of the four paths above)")
    batch.add_argument("--batch", metavar="TSV",
                       help="one data set per row: name, artifact_dir, feature_table, feature_meta, output_dir (+"
                            " optional module_score_table, annotation_table), paths relative to the TSV; one"
                            " resumable task each, recorded in {TSV name}.tasks.tsv")
    add_batch_arguments(batch, when="--batch: ")
    add_config_arguments(p, ExplainConfig, exclude=VAE_FIELDS + IG_FIELDS)
    p.add_argument("--plot", action="store_true",
                   help="write the driver barplot, usage gradient and driver heatmap per module to {module}/figures/")
    p.add_argument("--output-format", nargs="+", choices=["pdf", "png", "svg", "html"], default=["pdf"],
                   metavar="FMT", help="figure formats with --plot: pdf png svg html (default pdf)")
    p.add_argument("--figure-width", choices=["screen", "single", "double"], default="screen",
                   help="with --plot: the on-screen size (default), or a journal column, single (89 mm) or double"
                        " (183 mm), with print fonts and 300-dpi PNG; files are then named {figure}_89mm.{fmt}")
    add_config_arguments(p.add_argument_group("VAE decoder attribution (needs vae_checkpoint.pt in the fit)"),
                         ExplainConfig, only=VAE_FIELDS)
    add_config_arguments(p.add_argument_group("Captum Integrated Gradients (needs vae_checkpoint.pt in the fit)"),
                         ExplainConfig, only=IG_FIELDS)
    p.set_defaults(run=run_explain_module)


def run_explain_module(args: argparse.Namespace) -> int:
    """Run ``isograph explain-module``; returns the exit status."""
    from isograph.explain import MANIFEST_NAME, explain_module

    config = config_from_args(ExplainConfig, args)
    if args.batch:
        return _run_batch(args, config)
    missing = [flag for flag in ("artifact_dir", "feature_table", "feature_meta", "output_dir") if not getattr(args, flag)]
    if missing:
        raise InputError("explain-module needs " + ", ".join("--" + m.replace("_", "-") for m in missing)
                         + " (or --batch TSV for many data sets)")
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
        from isograph.dataset.artifacts import load_feature_table
        from isograph.figures.module_files import write_module_figures
        from isograph.figures.render import chrome_path

        if chrome_path() is None and set(args.output_format) - {"html"}:
            raise InputError("--plot with pdf/png/svg needs Chrome or Chromium (Debian: apt-get install chromium);"
                             " use --output-format html, or set BROWSER_PATH")
        figures = write_module_figures(results, load_feature_table(args.feature_table), args.output_dir,
                                       args.output_format,
                                       column=None if args.figure_width == "screen" else args.figure_width)
        print(f"isograph: wrote {len(figures)} figure file(s)", file=sys.stderr)
    n_samples = len(next(iter(results.values())).sample_ids) if results else 0
    print(f"isograph: explained {len(results)} module(s) on {n_samples} samples in "
          f"{time.perf_counter() - start:.1f} s", file=sys.stderr)
    print(Path(args.output_dir) / MANIFEST_NAME)
    return 0


def _run_batch(args: argparse.Namespace, config: ExplainConfig) -> int:
    """``--batch``: one resumable task per data set (the options apply to all)."""
    from isograph.explain.batch import explain_tasks

    if args.plot or args.module_ids:
        raise InputError("--batch explains every module of every data set: leave out --plot and --module-ids")
    manifest = Path(args.batch)
    return run_batch_command("isograph explain-module --batch", explain_tasks(manifest, config),
                             manifest.with_name(manifest.stem + ".tasks.tsv"), args, what="data sets",
                             columns=["modules", "samples", "switches_called"])

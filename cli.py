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
    p.set_defaults(run=_run_explain_module)


def _run_explain_module(args: argparse.Namespace) -> int:
    from compute.explain import MANIFEST_NAME, ExplainConfig, explain_module

    config = ExplainConfig(
        split_percentile=args.split_percentile,
        min_complete_pairs=args.min_complete_pairs,
        eigengene_method=args.eigengene_method,
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


def build_parser() -> argparse.ArgumentParser:
    """The ``isograph`` argument parser with all subcommands."""
    parser = _Parser(prog="isograph", description="IsoGraph Explorer: isoform switches behind transcript-usage modules.")
    from compute import __version__

    parser.add_argument("--version", action="version", version=f"isograph-explorer {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND", parser_class=_Parser)
    _add_explain_module(sub)
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

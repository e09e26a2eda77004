"""``isograph module-report``: what one module is about, as files (tables, figures, a one-page PDF)."""

from __future__ import annotations

import argparse
import sys
import time

__all__ = ["add_module_report"]


def add_module_report(sub: argparse._SubParsersAction) -> None:
    """Add ``module-report`` to the ``isograph`` subcommands.

    Parameters
    ----------
    sub : argparse subparsers
    """
    p = sub.add_parser(
        "module-report",
        help="hub genes (kME), module-trait correlations, eigengene by group and GO enrichment of one module",
        description="Write what one explained module is about: its genes' kME (module membership) with 95%% CIs and"
        " hub genes, the correlations of every module eigengene with the covariates (WGCNA's definition;"
        " categorical covariates one-hot), the eigengene by sample group (Welch's t or Kruskal-Wallis) and the GO"
        " enrichment of its called-switch genes and of all its genes against the data set's genes (hypergeometric,"
        " BH), as TSV tables, figures and a one-page PDF report.",
    )
    p.add_argument("--dataset", metavar="DIR", required=True,
                   help="a data set folder (as `isograph demo --out` writes it: fit/, explain/, covariates.tsv ...)")
    p.add_argument("--module", metavar="ID", required=True, help="the module, e.g. M000")
    p.add_argument("--output-dir", metavar="DIR", default="module_report", help="where to write (default module_report)")
    p.add_argument("--covariate", metavar="NAME", help="the covariate grouping the eigengene-by-group panel"
                   " (default the first categorical one)")
    p.add_argument("--output-format", metavar="FMT", nargs="+", default=["pdf"],
                   help="formats of the single figures: pdf png svg html (default pdf); the report is a PDF")
    p.add_argument("--no-go", action="store_true", help="skip the GO enrichment (it reads the shipped ontology: ~3 s)")
    p.set_defaults(run=_run_module_report)


def _run_module_report(args: argparse.Namespace) -> int:
    from pathlib import Path

    from isograph.dataset.datasets import open_dataset
    from isograph.errors import InputError
    from isograph.modules.report import categorical_covariates, module_biology, write_module_report

    start = time.perf_counter()
    if not Path(args.dataset).is_dir():
        raise InputError(f"--dataset {args.dataset}: not a folder; give a data set folder (fit/, explain/ ...)")
    ds = open_dataset(args.dataset, None)
    bio = module_biology(ds, args.module, with_go=not args.no_go)
    groups = categorical_covariates(bio.covariates)
    if args.covariate is not None and args.covariate not in groups:
        raise InputError(f"--covariate {args.covariate}: not a categorical covariate of {ds.paths['covariates']};"
                         f" use one of: {', '.join(groups) or '(none)'}")
    files = write_module_report(bio, args.output_dir, formats=tuple(args.output_format), covariate=args.covariate,
                                stem=ds.file_stem)
    print(f"isograph: wrote {len(files)} files for module {args.module} in {time.perf_counter() - start:.1f} s",
          file=sys.stderr)
    for path in files:
        print(path)
    return 0

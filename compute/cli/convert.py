"""``isograph convert-features IN OUT``: a feature table in another layout (the fast ``.matrix`` folder,
AnnData ``.h5ad``, parquet, TSV or CSV; the output's name chooses)."""

from __future__ import annotations

import argparse
import sys
import time

__all__ = ["add_convert_features"]


def add_convert_features(sub: argparse._SubParsersAction) -> None:
    """Add ``convert-features`` to the ``isograph`` subcommands.

    Parameters
    ----------
    sub : argparse subparsers
    """
    p = sub.add_parser(
        "convert-features",
        help="write a samples x features table in another layout (e.g. the fast .matrix folder)",
        description="Convert a feature table between layouts: a .matrix folder (the fast layout: read in a blink,"
        " streamed by out-of-core work), AnnData .h5ad (samples as observations), parquet, TSV or CSV. The output"
        " is written whole or not at all.",
    )
    p.add_argument("input", metavar="IN", help="the feature table (.matrix, .h5ad, .parquet, .tsv, .csv)")
    p.add_argument("output", metavar="OUT", help="where to write it; the suffix chooses the layout")
    p.add_argument("--dtype", choices=("float64", "float32"), default="float64",
                   help="values of a .matrix output (float32: half the size, 7 significant digits)")
    p.set_defaults(run=_run_convert)


def _run_convert(args: argparse.Namespace) -> int:
    from isograph.dataset.feature_formats import convert_features, feature_table_format

    start = time.perf_counter()
    out = convert_features(args.input, args.output, dtype=args.dtype)
    print(f"isograph: wrote {out} ({feature_table_format(out)}) in {time.perf_counter() - start:.1f} s",
          file=sys.stderr)
    print(out)
    return 0

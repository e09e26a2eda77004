"""``isograph annotate-structure`` and ``make-switch-pairs``: structural consequences of switches."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import pandas as pd

__all__ = ["add_annotate_structure", "add_make_switch_pairs"]


def add_annotate_structure(sub: argparse._SubParsersAction) -> None:
    """Add ``annotate-structure`` to the ``isograph`` subcommands.

    Parameters
    ----------
    sub : argparse subparsers
    """
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


def _write_table(df: pd.DataFrame, path: Path) -> None:
    from isograph.dataset.io import table_format, write_parquet, write_tsv

    if table_format(path) == "parquet":
        write_parquet(df, path)
    else:
        write_tsv(df, path)


def _run_annotate_structure(args: argparse.Namespace) -> int:
    from isograph.dataset.io import read_table, table_format
    from isograph.errors import InputError
    from isograph.structure.cache import load_transcript_models
    from isograph.structure.consequences import annotate_pairs, transcript_annotation

    output = Path(args.output)
    table_format(output)  # refuse an unsupported suffix before any work
    pairs = read_table(args.switch_pairs, what="switch pairs")
    missing = [c for c in ("gene_id", "transcript_id_1", "transcript_id_2") if c not in pairs.columns]
    if missing:
        raise InputError(f"{args.switch_pairs}: missing required column(s) {', '.join(missing)}")
    if pairs.empty:
        raise InputError(f"{args.switch_pairs}: no switch pairs (only a header); make them with"
                         " `isograph make-switch-pairs`, or add rows of gene_id, transcript_id_1, transcript_id_2")
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


def add_make_switch_pairs(sub: argparse._SubParsersAction) -> None:
    """Add ``make-switch-pairs`` to the ``isograph`` subcommands.

    Parameters
    ----------
    sub : argparse subparsers
    """
    p = sub.add_parser("make-switch-pairs", help="switch pairs of the called switches of explained modules",
                       description="For each called switch (switch_called in the gene table), every transcript"
                       " significantly used more in low-module samples (transcript 1) paired with every one"
                       " significantly used more in high-module samples (transcript 2), as IsoformSwitchAnalyzeR"
                       " pairs a switch's isoforms. --all-drivers instead pairs the most negative and most positive"
                       " transcript of every gene with q <= --fdr, significant or not.")
    p.add_argument("--explain-dir", required=True, metavar="DIR", help="an explain-module --output-dir")
    p.add_argument("--module-ids", nargs="+", metavar="ID", help="default: every explained module")
    p.add_argument("--all-drivers", action="store_true",
                   help="not only called switches: the top pair of every gene with q <= --fdr (exploratory)")
    p.add_argument("--fdr", type=float, default=0.05, help="with --all-drivers: genes need q <= FDR (default 0.05)")
    p.add_argument("--min-switch-strength", type=float, default=0.0,
                   help="genes need max r - min r of their transcripts >= this (default 0)")
    p.add_argument("--output", required=True, metavar="FILE", help="switch_pairs.tsv (or .parquet)")
    p.set_defaults(run=_run_make_switch_pairs)


def _run_make_switch_pairs(args: argparse.Namespace) -> int:
    from isograph.dataset.io import table_format
    from isograph.structure.consequences import switch_pairs_from_explain

    table_format(args.output)
    pairs = switch_pairs_from_explain(args.explain_dir, module_ids=args.module_ids, called_only=not args.all_drivers,
                                      fdr=args.fdr, min_switch_strength=args.min_switch_strength)
    _write_table(pairs, Path(args.output))
    what = "top pairs of driver genes (not all significant switches)" if args.all_drivers else "pairs of called switches"
    print(f"isograph make-switch-pairs: {len(pairs)} {what}: {pairs['gene_id'].nunique()} genes in"
          f" {pairs['module_id'].nunique()} module(s)", file=sys.stderr)
    print(args.output)
    return 0

"""``isograph sample-map``: the samples' map (PCA or UMAP of the module eigengenes) as a table and a figure."""

from __future__ import annotations

import argparse
import sys
import time

from isograph.samples.embedding import MAP_METHODS

__all__ = ["add_sample_map"]


def add_sample_map(sub: argparse._SubParsersAction) -> None:
    """Add ``sample-map`` to the ``isograph`` subcommands.

    Parameters
    ----------
    sub : argparse subparsers
    """
    p = sub.add_parser(
        "sample-map",
        help="the samples on a 2-D map of the module eigengenes (PCA, or UMAP kept in the data set)",
        description="Place every sample on a 2-D map of the explained modules' eigengenes (each z-scored over the"
        " samples): PCA, or UMAP (umap-learn; 15 neighbours, min_dist 0.1, Euclidean, seed 0). A UMAP is kept in"
        " the data set (samples/umap_<key>.parquet), so the app's samples view draws it at once; it is"
        " computed again only when the eigengenes change. Writes the coordinates as TSV, and the map as a figure.",
    )
    p.add_argument("--dataset", metavar="DIR", required=True,
                   help="a data set folder (as `isograph demo --out` writes it: fit/, explain/ ...)")
    p.add_argument("--method", choices=list(MAP_METHODS), default="pca", help="the map (default pca)")
    p.add_argument("--colour", metavar="KEY", help="colour the figure by eigengene:<module>, covariate:<name> or"
                   " gene:<gene_id> (default none)")
    p.add_argument("--output-dir", metavar="DIR", default="sample_map", help="where to write (default sample_map)")
    p.add_argument("--output-format", metavar="FMT", nargs="+", default=["pdf"],
                   help="formats of the figure: pdf png svg html (default pdf)")
    p.set_defaults(run=_run_sample_map)


def _run_sample_map(args: argparse.Namespace) -> int:
    from pathlib import Path

    from isograph.dataset.datasets import open_dataset
    from isograph.dataset.io import write_tsv
    from isograph.errors import InputError
    from isograph.figures.render import check_formats, write_figure
    from isograph.figures.samples import sample_map_figure
    from isograph.samples.dataset import compute_umap, sample_colour, sample_map

    start = time.perf_counter()
    check_formats(args.output_format, option="--output-format")
    if not Path(args.dataset).is_dir():
        raise InputError(f"--dataset {args.dataset}: not a folder; give a data set folder (fit/, explain/ ...)")
    ds = open_dataset(args.dataset, None)
    how = ""
    if args.method == "umap":  # the kept map, or computed and kept now
        coordinates, computed = compute_umap(ds)
        explained = None
        how = " (computed and kept in the data set)" if computed else " (the one kept in the data set)"
    else:
        coordinates, explained = sample_map(ds, args.method)
    colour, label, categorical = sample_colour(ds, args.colour) if args.colour else (None, "", False)
    out = Path(args.output_dir)
    out.mkdir(parents=True, exist_ok=True)
    stem = f"{ds.file_stem}_samples_{args.method}"
    files = [write_tsv(coordinates, out / f"{stem}.tsv", index=True)]
    figure = sample_map_figure(coordinates, explained, colour, colour_label=label, categorical=categorical)
    files += [write_figure(figure, out / f"{stem}.{fmt}", width=800, height=int(figure.layout.height or 520), scale=1.0)
              for fmt in args.output_format]
    print(f"isograph: {args.method.upper()} map of {len(coordinates)} samples{how} in"
          f" {time.perf_counter() - start:.1f} s", file=sys.stderr)
    for path in files:
        print(path)
    return 0

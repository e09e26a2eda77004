"""Benchmark: parse a GENCODE-sized GTF, write and load the transcript-model cache.

Setup (not timed): a synthetic GTF shaped like GENCODE v47 (≈ 63k genes, ≈ 250k transcripts,
≈ 3.4 M lines: gene, transcript, exon, CDS, UTR, start/stop codon rows with GENCODE-style attribute
strings), gzipped like the real file. Generated once into ``bench/out/`` (``--regenerate`` to redo).

Timed:
1. reading the GTF into rows with the four attributes IsoGraph uses, each contender in its own process
   (imports not timed), interleaved, median of ``--repeats``: IsoGraph's ``read_gtf``; the plain polars recipe
   (``read_csv`` + ``filter`` + ``str.extract`` per attribute); ``gtfparse.read_gtf`` and ``pyranges.read_gtf``
   (both also expand every other attribute). The other readers come from the bench's own requirements:
   ``python -m pip install -r bench/requirements-gtf.txt``; a missing one is reported, not timed;
2. ``transcript_models`` from the rows (what a cold ``annotate-structure`` adds), writing the cache, and
   loading it with its fingerprint check (``load_transcript_models``) against ``pandas.read_parquet`` of the
   same file, interleaved.

Run: ``python bench/gtf_scale.py``. Targets: IsoGraph's read the fastest; cache load within 2x of the parquet
read.
"""

from __future__ import annotations

import argparse
import gzip
import os
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from isograph.structure.cache import load_transcript_models, write_cache  # noqa: E402
from isograph.structure.gtf import read_gtf  # noqa: E402
from isograph.structure.models import transcript_models  # noqa: E402

OUT = Path(__file__).resolve().parent / "out"


def generate(path: Path, n_genes: int, seed: int = 0) -> int:
    """Write a GENCODE-like GTF (gzipped); returns the number of lines."""
    rng = np.random.default_rng(seed)
    lines = 0
    position = 10_000
    with gzip.open(path, "wt", compresslevel=1) as out:
        out.write("##description: synthetic GENCODE-like annotation for IsoGraph benchmarks\n##format: gtf\n")
        for g in range(n_genes):
            chrom = f"chr{1 + g * 22 // n_genes}"
            strand = "+" if rng.random() < 0.5 else "-"
            gene_id, gene_name = f"ENSG{g:011d}.{rng.integers(1, 20)}", f"GENE{g}"
            gene_type = "protein_coding" if rng.random() < 0.6 else "lncRNA"
            n_tx = int(min(1 + rng.geometric(0.3), 30))
            gene_start = position
            txs = []
            for t in range(n_tx):
                n_ex = int(min(1 + rng.poisson(5.5), 60))
                lengths = rng.integers(60, 400, size=n_ex)
                gaps = rng.integers(200, 5000, size=n_ex)
                starts = gene_start + rng.integers(0, 300) + np.r_[0, np.cumsum(lengths[:-1] + gaps[:-1])]
                ends = starts + lengths - 1
                txs.append((t, starts, ends))
            gene_end = int(max(e[-1] for _, _, e in txs))
            base = f'gene_id "{gene_id}"; gene_type "{gene_type}"; gene_name "{gene_name}"; level 2; tag "basic";'
            out.write(f"{chrom}\tHAVANA\tgene\t{gene_start}\t{gene_end}\t.\t{strand}\t.\t{base}\n")
            lines += 1
            for t, starts, ends in txs:
                coding = gene_type == "protein_coding" and rng.random() < 0.75
                tx_type = "protein_coding" if coding else ("retained_intron" if gene_type == "protein_coding" else "lncRNA")
                attrs = (f'gene_id "{gene_id}"; transcript_id "ENST{g:08d}{t:03d}.{rng.integers(1, 9)}"; gene_type'
                         f' "{gene_type}"; gene_name "{gene_name}"; transcript_type "{tx_type}"; transcript_name'
                         f' "{gene_name}-{201 + t}"; level 2; transcript_support_level "1"; tag "basic";')
                rows = [("transcript", int(starts[0]), int(ends[-1]))]
                rows += [("exon", int(s), int(e)) for s, e in zip(starts, ends)]
                if coding and len(starts) >= 2:
                    cds_s, cds_e = int(starts[0] + (ends[0] - starts[0]) // 2), int(ends[-1] - (ends[-1] - starts[-1]) // 2)
                    rows += [("CDS", max(int(s), cds_s), min(int(e), cds_e)) for s, e in zip(starts, ends)
                             if e >= cds_s and s <= cds_e]
                    rows += [("UTR", int(starts[0]), cds_s - 1), ("UTR", cds_e + 1, int(ends[-1])),
                             ("start_codon", cds_s, cds_s + 2), ("stop_codon", cds_e - 2, cds_e)]
                for feature, s, e in rows:
                    out.write(f"{chrom}\tHAVANA\t{feature}\t{s}\t{e}\t.\t{strand}\t.\t{attrs}\n")
                lines += len(rows)
            position = gene_end + int(rng.integers(1000, 20000))
    return lines


CHILD = r"""
import sys, time
path, contender = sys.argv[1], sys.argv[2]
if contender == "isograph":
    from isograph.structure.gtf import read_gtf
    start = time.perf_counter(); rows = read_gtf(path)
elif contender == "polars recipe":
    import polars as pl
    from isograph.structure.gtf import ATTRIBUTES, GTF_COLUMNS, KEPT_FEATURES
    start = time.perf_counter()
    rows = (pl.read_csv(path, separator="\t", has_header=False, comment_prefix="#", new_columns=GTF_COLUMNS,
                        quote_char=None, schema_overrides={c: pl.String for c in GTF_COLUMNS} | {"start": pl.Int64,
                                                                                                "end": pl.Int64})
            .filter(pl.col("feature").is_in(KEPT_FEATURES))
            .with_columns([pl.col("attribute").str.extract(keys[0] + ' "([^"]*)"', 1).alias(name)
                           for name, keys in ATTRIBUTES.items()]).drop("attribute"))
elif contender == "gtfparse":
    import gtfparse
    start = time.perf_counter(); rows = gtfparse.read_gtf(path)
elif contender == "pyranges":
    import pyranges
    start = time.perf_counter(); rows = pyranges.read_gtf(path)
print(time.perf_counter() - start, len(rows))
"""
CONTENDERS = ("isograph", "polars recipe", "gtfparse", "pyranges")


def parse_time(path: Path, contender: str) -> float | None:
    """Seconds one contender takes to read the GTF, in a fresh process (imports not timed); None when it is not
    installed."""
    import subprocess

    out = subprocess.run([sys.executable, "-c", CHILD, str(path), contender], capture_output=True, text=True,
                         env={**os.environ, "PYTHONWARNINGS": "ignore"})
    if out.returncode != 0:
        if "ModuleNotFoundError" in out.stderr:
            return None
        raise RuntimeError(f"{contender} failed: {out.stderr.strip().splitlines()[-1]}")
    return float(out.stdout.split()[0])


def median(values: list[float]) -> float:
    return float(np.median(values))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--genes", type=int, default=63_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--regenerate", action="store_true")
    parser.add_argument("--out", type=Path, default=OUT, help="folder of the generated GTF and its cache (kept"
                        " for the next run; default bench/out)")
    args = parser.parse_args()
    print(f"cores available: {len(os.sched_getaffinity(0))}")
    args.out.mkdir(exist_ok=True)
    gtf = args.out / f"gencode_like_{args.genes}.gtf.gz"
    if args.regenerate or not gtf.exists():
        t0 = time.perf_counter()
        n = generate(gtf, args.genes)
        print(f"generated {gtf.name}: {n:,} lines in {time.perf_counter() - t0:.0f} s (not timed)")
    with gzip.open(gtf, "rt") as handle:
        n_lines = sum(1 for line in handle if not line.startswith("#"))
    print(f"{gtf.name}: {gtf.stat().st_size / 1e6:.0f} MB gzipped, {n_lines:,} lines")

    # 1. reading the GTF (rows + the four attributes), contenders interleaved, each in its own process
    runs: dict[str, list[float]] = {c: [] for c in CONTENDERS}
    for i in range(args.repeats):
        for contender in (CONTENDERS if i % 2 == 0 else CONTENDERS[::-1]):
            seconds = parse_time(gtf, contender)
            if seconds is not None:
                runs[contender].append(seconds)
    ours = median(runs["isograph"])
    for contender, times in runs.items():
        if not times:
            print(f"  {contender:<14} not installed (python -m pip install -r bench/requirements-gtf.txt)")
            continue
        print(f"  {contender:<14} {median(times):6.1f} s (median of {len(times)}: "
              + ", ".join(f"{t:.1f}" for t in times) + f"); {median(times) / ours:.2f}x IsoGraph's time")

    # 2. transcript models and the cache
    t0 = time.perf_counter()
    rows = read_gtf(gtf)
    t_read = time.perf_counter() - t0
    models = transcript_models(rows)
    t_models = time.perf_counter() - t0 - t_read
    print(f"transcript models from the rows: {t_models:.1f} s; {len(models):,} transcripts,"
          f" {models['gene_id'].nunique():,} genes, {len(rows):,} rows kept")
    cache = args.out / "gencode_like.cache.parquet"
    t0 = time.perf_counter()
    write_cache(models, cache, gtf, n_rows={str(k): int(v) for k, v in rows["feature"].value_counts().items()})
    print(f"cache write: {time.perf_counter() - t0:.1f} s ({cache.stat().st_size / 1e6:.0f} MB parquet)")
    loads: dict[str, list[float]] = {"cache load": [], "parquet read": []}
    for _ in range(max(3, args.repeats)):  # interleaved
        t0 = time.perf_counter()
        warm = load_transcript_models(gtf, cache=cache)
        loads["cache load"].append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        pd.read_parquet(cache)
        loads["parquet read"].append(time.perf_counter() - t0)
    assert warm.cache_used and len(warm.models) == len(models)
    load, floor = median(loads["cache load"]), median(loads["parquet read"])
    print(f"cache load (fingerprint check + parquet + models): {load:.2f} s; pandas.read_parquet of the same"
          f" file: {floor:.2f} s; ratio {load / floor:.2f} (target <= 2)")


if __name__ == "__main__":
    main()

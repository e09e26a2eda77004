"""Benchmark: parse a GENCODE-sized GTF, write and load the transcript-model cache.

Setup (not timed): a synthetic GTF shaped like GENCODE v47 (≈ 63k genes, ≈ 250k transcripts,
≈ 3.4 M lines: gene, transcript, exon, CDS, UTR, start/stop codon rows with GENCODE-style attribute
strings), gzipped like the real file. Generated once into ``bench/out/`` (``--regenerate`` to redo).

Timed:
1. ``read_gtf`` + ``transcript_models`` (what a cold ``annotate-structure`` does) = "parse";
2. writing the cache (``write_cache``), and loading it with its fingerprint check (``load_transcript_models``);
3. the baseline: ``pandas.read_csv`` of the same file + ``Series.str.extract`` of the same five
   attributes (the usual pandas recipe), on the first ``--baseline-lines`` lines, scaled linearly to the
   whole file (printed as such).

Run: ``python bench/gtf_scale.py``. Targets: parse ≤ 60 s, cache load ≤ 2 s.
"""

from __future__ import annotations

import argparse
import gzip
import itertools
import os
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from isograph.structure.cache import load_transcript_models, write_cache  # noqa: E402
from isograph.structure.gtf import ATTRIBUTES, read_gtf  # noqa: E402
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


def baseline(path: Path, n_lines: int) -> float:
    """Seconds for pandas read_csv + str.extract of the five attributes on the first n_lines lines."""
    start = time.perf_counter()
    with gzip.open(path, "rt") as handle:
        head = list(itertools.islice(handle, n_lines))
    from io import StringIO

    df = pd.read_csv(StringIO("".join(head)), sep="\t", comment="#", header=None,
                     names=["seqname", "source", "feature", "start", "end", "score", "strand", "frame", "attribute"])
    for name, keys in ATTRIBUTES.items():
        df[name] = df["attribute"].str.extract(rf'{keys[0]} "([^"]*)"', expand=False)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--genes", type=int, default=63_000)
    parser.add_argument("--baseline-lines", type=int, default=500_000)
    parser.add_argument("--regenerate", action="store_true")
    args = parser.parse_args()
    print(f"cores available: {len(os.sched_getaffinity(0))}")
    OUT.mkdir(exist_ok=True)
    gtf = OUT / f"gencode_like_{args.genes}.gtf.gz"
    if args.regenerate or not gtf.exists():
        t0 = time.perf_counter()
        n = generate(gtf, args.genes)
        print(f"generated {gtf.name}: {n:,} lines in {time.perf_counter() - t0:.0f} s (not timed)")
    with gzip.open(gtf, "rt") as handle:
        n_lines = sum(1 for line in handle if not line.startswith("#"))
    print(f"{gtf.name}: {gtf.stat().st_size / 1e6:.0f} MB gzipped, {n_lines:,} lines")

    t0 = time.perf_counter()
    rows = read_gtf(gtf)
    t_read = time.perf_counter() - t0
    models = transcript_models(rows)
    t_parse = time.perf_counter() - t0
    print(f"parse: {t_parse:.1f} s (read + attributes {t_read:.1f} s, models {t_parse - t_read:.1f} s);"
          f" {len(models):,} transcripts, {models['gene_id'].nunique():,} genes, {len(rows):,} rows kept")

    cache = OUT / "gencode_like.cache.parquet"
    t0 = time.perf_counter()
    n_rows = {str(k): int(v) for k, v in rows["feature"].value_counts().items()}
    write_cache(models, cache, gtf, n_rows=n_rows)
    t_write = time.perf_counter() - t0
    t0 = time.perf_counter()
    warm = load_transcript_models(gtf, cache=cache)
    t_load = time.perf_counter() - t0
    assert warm.cache_used and len(warm.models) == len(models)
    print(f"cache write: {t_write:.1f} s ({cache.stat().st_size / 1e6:.0f} MB parquet)")
    print(f"cache load (fingerprint + parquet): {t_load:.2f} s (target <= 2 s)")

    t_base = baseline(gtf, args.baseline_lines) * n_lines / args.baseline_lines
    print(f"baseline pandas read_csv + str.extract: {t_base:.0f} s (timed on the first {args.baseline_lines:,} lines,"
          f" scaled x{n_lines / args.baseline_lines:.1f}); parse speed-up {t_base / t_parse:.1f}x,"
          f" cache load {t_base / t_load:.0f}x  (target: parse <= 60 s)")


if __name__ == "__main__":
    main()

"""Benchmark: DNA-LM embedding throughput (batched, dynamic padding vs batch size 1 padded to the longest
sequence) and sparse-autoencoder training throughput.

Setup (not timed): an ESM masked LM with the Nucleotide Transformer's 6-mer vocabulary (``--hidden``
wide, ``--layers`` deep, random weights: throughput does not depend on training) and the real transcript
sequences of ``data/reference/isar_example``: ``--sequences`` whole transcripts of at most ``--window``
bases, drawn at random (lengths vary as in real inputs).

Timed:
1. ``embed_sequences`` at batch size ``--batch-size`` with dynamic padding (sequences sorted by length,
   each batch padded to its longest member), in tokens per second;
2. the baseline on the same sequences: batch size 1, every sequence padded to the longest of all (the
   naive loop, as a one-sequence-at-a-time script with a fixed input width would run);
3. ``train_sae`` (expansion factor 8) on the embedded tokens, in tokens per second per epoch.

Run: ``python bench/sae_scale.py`` (about a minute on 2 cores).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from isograph.sae.demo import REFERENCE_FASTA  # noqa: E402
from isograph.sae.embed import embed_sequences  # noqa: E402
from isograph.sae.lm import load_masked_lm, make_esm_lm  # noqa: E402
from isograph.sae.model import SAEConfig, train_sae  # noqa: E402
from isograph.sae.sequences import read_fasta  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hidden", type=int, default=128)
    parser.add_argument("--layers", type=int, default=4)
    parser.add_argument("--window", type=int, default=3000, help="longest window in bases (500 six-mers)")
    parser.add_argument("--sequences", type=int, default=400)
    parser.add_argument("--batch-size", type=int, default=16)
    args = parser.parse_args()

    import torch

    print(f"torch threads: {torch.get_num_threads()}")
    with tempfile.TemporaryDirectory() as tmp:
        lm = load_masked_lm(make_esm_lm(Path(tmp) / "lm", hidden_size=args.hidden, n_layers=args.layers,
                                        n_heads=max(1, args.hidden // 32), max_tokens=args.window // 6 + 8))
    transcripts = read_fasta(REFERENCE_FASTA)
    windows = transcripts[transcripts["sequence"].str.len() <= args.window]  # whole transcripts, lengths as they are
    windows = windows.sample(n=min(args.sequences, len(windows)), random_state=0).reset_index(drop=True)
    lengths = windows["sequence"].str.len()
    print(f"{len(windows)} windows of {lengths.min()}-{lengths.max()} bp (median {int(lengths.median())}),"
          f" model {args.layers} layers x {args.hidden}")

    t0 = time.perf_counter()
    batched = embed_sequences(lm, windows, [args.layers], batch_size=args.batch_size)
    t_batched = time.perf_counter() - t0
    n_tokens = len(batched.tokens)
    t0 = time.perf_counter()
    naive = embed_sequences(lm, windows, [args.layers], batch_size=1, dynamic_padding=False)
    t_naive = time.perf_counter() - t0
    gap = float(np.abs(naive.layer(args.layers) - batched.layer(args.layers)).max())
    print(f"embedding: batched (batch {args.batch_size}, dynamic padding) {n_tokens / t_batched:,.0f} tokens/s"
          f" ({t_batched:.1f} s); batch 1 padded to the longest {n_tokens / t_naive:,.0f} tokens/s ({t_naive:.1f} s);"
          f" {t_naive / t_batched:.1f}x; max |difference| {gap:.1e}")

    result = train_sae(batched.layer(args.layers), SAEConfig(expansion_factor=8, epochs=5, batch_size=1024))
    best = result.metrics[result.best_epoch - 1]
    print(f"SAE training (ef8, {args.hidden} -> {8 * args.hidden} latents, {n_tokens:,} tokens x 5 epochs):"
          f" {result.tokens_per_second:,.0f} tokens/s; FVU {best['val_fvu']:.3f}, L0 {best['l0']:.1f}")


if __name__ == "__main__":
    main()

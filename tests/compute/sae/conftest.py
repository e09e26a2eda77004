"""Fixtures of the SAE tests: a tiny random ESM masked LM with the 6-mer vocabulary, built in a temp dir."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest


@pytest.fixture(scope="session")
def tiny_lm_dir(tmp_path_factory):
    from isograph.sae.lm import make_esm_lm

    return make_esm_lm(tmp_path_factory.mktemp("tiny_lm"), hidden_size=16, n_layers=3, n_heads=2, max_tokens=64,
                       seed=1)


@pytest.fixture(scope="session")
def tiny_lm(tiny_lm_dir):
    from isograph.sae.lm import load_masked_lm

    return load_masked_lm(tiny_lm_dir)


def random_sequences(n: int, lengths, *, seed: int = 0, set_name: str = "x") -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    lengths = list(lengths) * (n // len(list(lengths)) + 1)
    return pd.DataFrame({
        "seq_id": [f"{set_name}{i}" for i in range(n)],
        "sequence": ["".join(rng.choice(list("ACGT"), lengths[i])) for i in range(n)],
        "chrom": "chr1", "start": [1000 * (i + 1) for i in range(n)],
        "end": [1000 * (i + 1) + lengths[i] - 1 for i in range(n)], "strand": "+", "set": set_name,
    })

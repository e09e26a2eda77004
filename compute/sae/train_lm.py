"""Train the project's small DNA masked language model (ESM architecture, 6-mer tokens).

BERT-style masked-token training: 15% of the real tokens of each window are chosen; of those 80% become
``<mask>``, 10% a random k-mer and 10% stay; the loss is the cross-entropy on the chosen tokens. AdamW
with linear warm-up, fixed seed, CPU. The model is saved with ``save_pretrained`` so that
:func:`isograph.sae.lm.load_masked_lm` reads it like any local Hugging Face model.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from isograph.dataset.io import write_json
from isograph.errors import InputError
from isograph.sae.lm import kmer_tokens, load_masked_lm, make_esm_lm
from isograph.sae.sequences import tile_sequences

__all__ = ["LMConfig", "train_masked_lm"]


@dataclass
class LMConfig:
    """Architecture and training options (saved as ``training.json`` next to the model).

    Attributes
    ----------
    hidden_size : int, default 64
        Width of the transformer (hidden states have this many dimensions).
    n_layers : int, default 4
        Transformer layers.
    n_heads : int, default 4
        Attention heads per layer.
    window_tokens : int, default 100
        6-mer tokens per training window.
    batch_size : int, default 32
        Windows per step.
    epochs : int, default 3
        Passes over the windows.
    learning_rate : float, default 1e-3
        AdamW learning rate.
    mask_fraction : float, default 0.15
        Fraction of tokens masked for the masked-token objective.
    max_seconds : float or None, default None
        Stop training after this many seconds (None: train every epoch).
    seed : int, default 0
        Seeds the initialisation, the masks and the batches.
    """

    hidden_size: int = 64
    n_layers: int = 4
    n_heads: int = 4
    window_tokens: int = 100
    batch_size: int = 32
    epochs: int = 3
    learning_rate: float = 1e-3
    mask_fraction: float = 0.15
    max_seconds: float | None = None
    seed: int = 0


def train_masked_lm(sequences: pd.DataFrame, out_dir: str | os.PathLike, config: LMConfig | None = None, *,
                    progress: Callable[[float, str], None] | None = None) -> dict:
    """Train on ``sequences`` (a sequence table) cut into windows of ``window_tokens`` 6-mers.

    Parameters
    ----------
    sequences : DataFrame
        A sequence table.
    out_dir : path
        Where the model is saved.
    config : LMConfig, optional
    progress : callable, optional
        ``progress(fraction, message)`` after each epoch.

    Returns
    -------
    dict
        ``out_dir``, per-epoch ``loss`` and masked-token ``accuracy``, ``seconds``, ``n_windows``.
    """
    import torch

    config = config or LMConfig()
    if sequences.empty:
        raise InputError("train-lm needs at least one sequence")
    out = make_esm_lm(out_dir, hidden_size=config.hidden_size, n_layers=config.n_layers, n_heads=config.n_heads,
                      max_tokens=config.window_tokens + 2, seed=config.seed)
    lm = load_masked_lm(out)
    windows = tile_sequences(sequences, window=6 * config.window_tokens)
    token_ids = [lm.ids(kmer_tokens(s, lm.k)[0])[:config.window_tokens] for s in windows["sequence"]]
    token_ids = [t for t in token_ids if len(t) >= 8]
    if not token_ids:
        raise InputError("the sequences are too short to train on (fewer than 8 tokens each)")
    cls, pad, mask_id = lm.special_id("<cls>"), lm.special_id("<pad>"), lm.special_id("<mask>")
    width = config.window_tokens + 1
    ids = np.full((len(token_ids), width), pad, dtype=np.int64)
    for i, t in enumerate(token_ids):
        ids[i, 0] = cls
        ids[i, 1:len(t) + 1] = t
    real = (ids != pad) & (ids != cls)
    kmer_ids = np.array([i for tok, i in lm.vocab.items() if len(tok) == lm.k])
    rng = np.random.default_rng(config.seed)
    torch.manual_seed(config.seed)
    model = lm.model
    model.train()
    optimizer = torch.optim.AdamW(model.parameters(), lr=config.learning_rate, weight_decay=0.01)
    total = config.epochs * int(np.ceil(len(ids) / config.batch_size))
    schedule = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda s: min(1.0, (s + 1) / max(1, total // 10)))
    history, t0, step = [], time.perf_counter(), 0
    for epoch in range(config.epochs):
        order = rng.permutation(len(ids))
        losses, correct, counted = [], 0, 0
        for b in range(0, len(order), config.batch_size):
            rows = order[b:b + config.batch_size]
            x = ids[rows].copy()
            chosen = real[rows] & (rng.random(x.shape) < config.mask_fraction)
            labels = np.where(chosen, x, -100)
            roll = rng.random(x.shape)
            x[chosen & (roll < 0.8)] = mask_id
            swap = chosen & (roll >= 0.8) & (roll < 0.9)
            x[swap] = rng.choice(kmer_ids, size=int(swap.sum()))
            result = model(input_ids=torch.from_numpy(x), attention_mask=torch.from_numpy((x != pad).astype(np.int64)),
                           labels=torch.from_numpy(labels))
            optimizer.zero_grad(set_to_none=True)
            result.loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            schedule.step()
            step += 1
            losses.append(float(result.loss.detach()))
            with torch.no_grad():
                pred = result.logits.argmax(-1).numpy()
                correct += int((pred[chosen] == labels[chosen]).sum())
                counted += int(chosen.sum())
            if config.max_seconds is not None and time.perf_counter() - t0 > config.max_seconds:
                break
        history.append({"epoch": epoch + 1, "loss": float(np.mean(losses)), "accuracy": correct / max(counted, 1),
                        "seconds": time.perf_counter() - t0})
        if progress is not None:
            progress((epoch + 1) / config.epochs, f"epoch {epoch + 1}: loss {history[-1]['loss']:.3f},"
                     f" masked-token accuracy {history[-1]['accuracy']:.3f}")
        if config.max_seconds is not None and time.perf_counter() - t0 > config.max_seconds:
            break
    model.eval()
    model.save_pretrained(out)
    report = {"out_dir": str(out), "history": history, "seconds": time.perf_counter() - t0,
              "n_windows": len(ids), "config": asdict(config)}
    write_json(report, Path(out) / "training.json")
    return report

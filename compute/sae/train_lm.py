"""Train the project's small DNA masked language model (ESM architecture, 6-mer tokens), and measure it.

BERT-style masked-token training: ``mask_fraction`` of the real tokens of each window are chosen; of those
80% become ``<mask>``, 10% a random k-mer and 10% stay; the loss is the cross-entropy on the chosen tokens
(the output layer is applied to those positions only). AdamW, linear warm-up then linear decay to zero
over ``max_steps``; every random choice (initialisation, split, masks, batches) comes from ``seed`` and the
run is deterministic on one machine. Each pass over the windows tokenizes them from the next start offset
(0..5 bases), so the model sees all six 6-mer phases of the sequence.

The k-mer embeddings (tied to the output layer) start as a sum of a random vector per (position in the
k-mer, base), so k-mers that share bases start close; everything else is the ESM default initialisation.

Held-out evaluation (:func:`evaluate_masked_lm`): the sequences of a ``validation_fraction`` of the genes
(``gene_id`` when the table has it, else of the sequences) are never trained on; their windows get fixed
masks (every chosen token becomes ``<mask>``) and the mean cross-entropy of the masked tokens in nats is
compared with two baselines on the same tokens: uniform over the 4,096 6-mers, and the 6-mer frequencies
of the training windows (add-one smoothed).

The model is saved with ``save_pretrained`` so that :func:`isograph.sae.lm.load_masked_lm` reads it like
any local Hugging Face model; ``training.json`` next to it holds the options, the per-epoch history and
the held-out numbers.
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
from isograph.sae.lm import LocalLM, kmer_tokens, load_masked_lm, make_esm_lm
from isograph.sae.sequences import tile_sequences

__all__ = ["LMConfig", "describe_model", "encode_windows", "evaluate_masked_lm", "split_held_out", "train_masked_lm"]


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
        Passes over the windows (each from the next 6-mer phase); ``max_steps`` stops earlier.
    learning_rate : float, default 1e-3
        AdamW peak learning rate.
    mask_fraction : float, default 0.15
        Fraction of tokens masked for the masked-token objective.
    max_seconds : float or None, default None
        Stop training after this many seconds (None: no time limit; the run is then deterministic).
    seed : int, default 0
        Seeds the initialisation, the held-out split, the masks and the batches.
    max_steps : int or None, default None
        Stop after this many optimizer steps (None: train every epoch); the learning rate decays to zero
        over ``min(max_steps, epochs x batches per epoch)`` steps.
    validation_fraction : float, default 0.0
        Fraction of the genes (or sequences, without ``gene_id``) held out for the held-out evaluation.
    composition_init : bool, default True
        Start each k-mer's embedding as the sum of its bases' per-position vectors.
    dropout : float, default 0.0
        Hidden and attention dropout while training.
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
    max_steps: int | None = None
    validation_fraction: float = 0.0
    composition_init: bool = True
    dropout: float = 0.0


def split_held_out(sequences: pd.DataFrame, fraction: float, seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Split a sequence table into training and held-out sequences by gene (``gene_id``), else by sequence.

    Whole genes are held out, so no exon shared by sibling transcripts is on both sides.

    Parameters
    ----------
    sequences : DataFrame
        A sequence table (+ optional ``gene_id``).
    fraction : float
        Of the genes held out, in [0, 1).
    seed : int, default 0

    Returns
    -------
    train, held_out : DataFrame

    Examples
    --------
    >>> t = pd.DataFrame({"seq_id": list("abcd"), "sequence": ["ACGT"] * 4, "gene_id": ["g1", "g1", "g2", "g3"]})
    >>> train, held = split_held_out(t, 0.34, seed=0)
    >>> sorted(held["gene_id"].unique()), len(train) + len(held)
    (['g3'], 4)
    """
    if not 0.0 <= fraction < 1.0:
        raise InputError(f"validation_fraction must be in [0, 1); got {fraction}")
    key = sequences["gene_id"] if "gene_id" in sequences else sequences["seq_id"]
    groups = np.array(sorted(key.astype(str).unique()))
    n_held = int(round(fraction * len(groups)))
    held = set(np.random.default_rng(seed).choice(groups, size=n_held, replace=False)) if n_held else set()
    mask = key.astype(str).isin(held).to_numpy()
    return sequences[~mask].reset_index(drop=True), sequences[mask].reset_index(drop=True)


def encode_windows(lm: LocalLM, sequences: pd.DataFrame, window_tokens: int, *, offset: int = 0) -> np.ndarray:
    """Token IDs of ``sequences`` cut into windows: ``<cls>`` then up to ``window_tokens`` tokens, ``<pad>`` after.

    Parameters
    ----------
    lm : LocalLM
    sequences : DataFrame
        A sequence table.
    window_tokens : int
    offset : int, default 0
        Bases dropped from the start of each sequence first (the 6-mer phase).

    Returns
    -------
    ndarray of int64, shape (n_windows, window_tokens + 1)
        Windows with fewer than 8 tokens are left out.
    """
    trimmed = sequences.assign(sequence=sequences["sequence"].str.slice(offset))
    trimmed = trimmed[trimmed["sequence"].str.len() >= 6 * 8]
    if trimmed.empty:
        return np.zeros((0, window_tokens + 1), dtype=np.int64)
    windows = tile_sequences(trimmed, window=lm.k * window_tokens)
    token_ids = [lm.ids(kmer_tokens(s, lm.k)[0])[:window_tokens] for s in windows["sequence"]]
    token_ids = [t for t in token_ids if len(t) >= 8]
    ids = np.full((len(token_ids), window_tokens + 1), lm.special_id("<pad>"), dtype=np.int64)
    ids[:, 0] = lm.special_id("<cls>")
    for i, t in enumerate(token_ids):
        ids[i, 1:len(t) + 1] = t
    return ids


def _composition_init(lm: LocalLM, seed: int) -> None:
    """k-mer embedding = sum over its positions of a random vector per (position, base), scaled like the default."""
    import torch

    weight = lm.model.esm.embeddings.word_embeddings.weight
    generator = torch.Generator().manual_seed(seed)
    per_base = torch.randn(lm.k, 4, weight.shape[1], generator=generator) * (0.02 / np.sqrt(lm.k)) * 4
    index = {b: i for i, b in enumerate("ACGT")}
    with torch.no_grad():
        for token, row in lm.vocab.items():
            if len(token) == lm.k and set(token) <= set("ACGT"):
                weight[row] = sum(per_base[p, index[b]] for p, b in enumerate(token))


def _masked_logits(model, x, attention, positions):
    """Output-layer logits at ``positions`` (a boolean array) only."""
    hidden = model.esm(input_ids=x, attention_mask=attention).last_hidden_state
    return model.lm_head(hidden[positions])


def train_masked_lm(sequences: pd.DataFrame, out_dir: str | os.PathLike, config: LMConfig | None = None, *,
                    progress: Callable[[float, str], None] | None = None) -> dict:
    """Train on ``sequences`` (a sequence table) cut into windows of ``window_tokens`` 6-mers.

    Parameters
    ----------
    sequences : DataFrame
        A sequence table (+ optional ``gene_id``: the held-out split keeps genes whole).
    out_dir : path
        Where the model is saved.
    config : LMConfig, optional
    progress : callable, optional
        ``progress(fraction, message)`` after each epoch.

    Returns
    -------
    dict
        ``out_dir``, ``history`` (per epoch: ``loss`` and masked-token ``accuracy`` on the training batches,
        ``steps``, ``seconds``), ``steps``, ``seconds``, ``n_windows``, ``n_train_sequences``,
        ``n_held_out_sequences``, ``held_out`` (:func:`evaluate_masked_lm`, when there is a held-out split),
        ``config``.
    """
    import torch

    config = config or LMConfig()
    if sequences.empty:
        raise InputError("train-lm needs at least one sequence")
    train, held = split_held_out(sequences, config.validation_fraction, config.seed)
    out = make_esm_lm(out_dir, hidden_size=config.hidden_size, n_layers=config.n_layers, n_heads=config.n_heads,
                      max_tokens=config.window_tokens + 2, seed=config.seed, dropout=config.dropout)
    lm = load_masked_lm(out)
    if config.composition_init:
        _composition_init(lm, config.seed)
    phases = [encode_windows(lm, train, config.window_tokens, offset=o) for o in range(lm.k)]
    if not len(phases[0]):
        raise InputError("the sequences are too short to train on (fewer than 8 tokens each)")
    pad, mask_id = lm.special_id("<pad>"), lm.special_id("<mask>")
    kmer_ids = lm.kmer_ids()
    rng = np.random.default_rng(config.seed)
    torch.manual_seed(config.seed)
    model = lm.model
    model.train()
    optimizer = torch.optim.AdamW(model.parameters(), lr=config.learning_rate, weight_decay=0.01)
    per_epoch = [int(np.ceil(len(phases[e % lm.k]) / config.batch_size)) for e in range(config.epochs)]
    total = min(sum(per_epoch), config.max_steps or sum(per_epoch))
    warmup = max(1, total // 20)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda s: min((s + 1) / warmup, max(0.0, (total - s) / max(1, total - warmup))))
    history, t0, step = [], time.perf_counter(), 0

    def out_of_budget() -> bool:
        return step >= total or (config.max_seconds is not None and time.perf_counter() - t0 > config.max_seconds)

    for epoch in range(config.epochs):
        ids = phases[epoch % lm.k]
        real = (ids != pad) & (ids != lm.special_id("<cls>"))
        order = rng.permutation(len(ids))
        losses, correct, counted = [], 0, 0
        for b in range(0, len(order), config.batch_size):
            rows = order[b:b + config.batch_size]
            x = ids[rows].copy()
            chosen = real[rows] & (rng.random(x.shape) < config.mask_fraction)
            if not chosen.any():
                continue
            target = x[chosen]
            roll = rng.random(x.shape)
            x[chosen & (roll < 0.8)] = mask_id
            swap = chosen & (roll >= 0.8) & (roll < 0.9)
            x[swap] = rng.choice(kmer_ids, size=int(swap.sum()))
            logits = _masked_logits(model, torch.from_numpy(x), torch.from_numpy((x != pad).astype(np.int64)),
                                    torch.from_numpy(chosen))
            loss = torch.nn.functional.cross_entropy(logits, torch.from_numpy(target))
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            schedule.step()
            step += 1
            losses.append(float(loss.detach()))
            correct += int((logits.detach().argmax(-1).numpy() == target).sum())
            counted += int(chosen.sum())
            if out_of_budget():
                break
        history.append({"epoch": epoch + 1, "loss": float(np.mean(losses)) if losses else float("nan"),
                        "accuracy": correct / max(counted, 1), "steps": step, "seconds": time.perf_counter() - t0})
        if progress is not None:
            progress(min(1.0, step / total), f"epoch {epoch + 1}: loss {history[-1]['loss']:.3f}, masked-token"
                     f" accuracy {history[-1]['accuracy']:.3f} ({step} steps)")
        if out_of_budget():
            break
    model.eval()
    model.save_pretrained(out)
    report = {"out_dir": str(out), "history": history, "steps": step, "seconds": time.perf_counter() - t0,
              "n_windows": int(sum(len(p) for p in phases)), "n_train_sequences": len(train),
              "n_held_out_sequences": len(held), "config": asdict(config)}
    if len(held):
        report["held_out"] = evaluate_masked_lm(lm, held, phases, window_tokens=config.window_tokens,
                                                mask_fraction=config.mask_fraction, seed=config.seed)
    write_json(report, Path(out) / "training.json")
    return report


def evaluate_masked_lm(lm: LocalLM, held_out: pd.DataFrame, train_windows: list[np.ndarray], *, window_tokens: int,
                       mask_fraction: float = 0.15, seed: int = 0, batch_size: int = 64) -> dict:
    """Held-out masked-token cross-entropy of ``lm`` against the uniform and the 6-mer-frequency baselines.

    Parameters
    ----------
    lm : LocalLM
    held_out : DataFrame
        Sequences never trained on (a sequence table).
    train_windows : list of ndarray
        The training windows' token IDs (:func:`encode_windows`), for the 6-mer frequencies.
    window_tokens : int
    mask_fraction : float, default 0.15
    seed : int, default 0
        Chooses the masked tokens (the same for every model evaluated with this seed).
    batch_size : int, default 64

    Returns
    -------
    dict
        ``n_tokens`` (masked k-mer tokens scored), ``loss`` (mean cross-entropy in nats over the 4,096
        k-mers: the model's output restricted to k-mer tokens and renormalised), ``loss_uniform``
        (ln 4096), ``loss_kmer_frequency`` (add-one-smoothed training 6-mer frequencies), ``accuracy``,
        ``accuracy_kmer_frequency`` (always guessing the most frequent 6-mer).
    """
    import torch

    ids = encode_windows(lm, held_out, window_tokens)
    kmer_ids = lm.kmer_ids()
    position = np.full(max(lm.vocab.values()) + 1, -1)
    position[kmer_ids] = np.arange(len(kmer_ids))
    rng = np.random.default_rng(seed + 1)
    chosen = (position[ids] >= 0) & (rng.random(ids.shape) < mask_fraction)
    train_tokens = np.concatenate([w.ravel() for w in train_windows])
    counts = np.bincount(position[train_tokens[position[train_tokens] >= 0]], minlength=len(kmer_ids)) + 1.0
    log_freq = np.log(counts / counts.sum())
    target = position[ids[chosen]]
    losses, hits = [], 0
    model = lm.model
    with torch.no_grad():
        for b in range(0, len(ids), batch_size):
            x = ids[b:b + batch_size].copy()
            where = chosen[b:b + batch_size]
            if not where.any():
                continue
            x[where] = lm.special_id("<mask>")
            logits = _masked_logits(model, torch.from_numpy(x), torch.from_numpy((x != lm.special_id("<pad>")).astype(np.int64)),
                                    torch.from_numpy(where))[:, torch.from_numpy(kmer_ids)]
            logp = torch.log_softmax(logits, dim=-1).numpy()
            t = position[ids[b:b + batch_size][where]]
            losses.append(-logp[np.arange(len(t)), t])
            hits += int((logp.argmax(-1) == t).sum())
    loss = np.concatenate(losses) if losses else np.array([np.nan])
    return {"n_tokens": int(len(target)), "loss": float(loss.mean()), "loss_uniform": float(np.log(len(kmer_ids))),
            "loss_kmer_frequency": float(-log_freq[target].mean()), "accuracy": hits / max(len(target), 1),
            "accuracy_kmer_frequency": float((target == counts.argmax()).mean())}


def describe_model(lm_dir: str | os.PathLike) -> str:
    """One paragraph saying what a model folder's language model is and how well it does, from its
    ``training.json`` (written by :func:`train_masked_lm`, plus the probe of ``isograph sae train-lm --gtf``).

    Parameters
    ----------
    lm_dir : path

    Returns
    -------
    str
        Architecture, training data size and steps, held-out masked-token loss against the 6-mer-frequency
        and uniform baselines, and the CDS-vs-UTR probe AUC against a bag of 6-mers; or a sentence saying
        the folder has no training report (e.g. a Nucleotide Transformer), so its quality is not measured here.
    """
    import json

    path = Path(lm_dir) / "training.json"
    try:
        report = json.loads(path.read_text())
        config = report["config"]
    except (OSError, ValueError, KeyError, TypeError):
        return ("Language model: a local model without a training report (training.json); its quality is not"
                " measured here.")
    def count(key: str) -> str:
        value = report.get(key)
        return f"{value:,}" if isinstance(value, int) else "?"

    words = (f"Language model: ESM masked LM, {config['n_layers']} layers × {config['hidden_size']}, 6-mer tokens,"
             f" trained by isograph sae train-lm for {count('steps')} steps on {count('n_train_sequences')} sequences"
             f" (seed {config['seed']}).")
    held = report.get("held_out")
    if held:
        words += (f" Held-out masked-token loss {held['loss']:.2f} nats vs {held['loss_kmer_frequency']:.2f} for"
                  f" 6-mer frequencies and {held['loss_uniform']:.2f} for chance, on {held['n_tokens']:,} tokens of"
                  f" {report.get('n_held_out_sequences', '?')} held-out sequences.")
    for probe in report.get("probe", []):
        words += (f" CDS-vs-UTR linear probe on held-out transcripts, layer {probe['layer']}: AUC"
                  f" {probe['auc_hidden']:.2f} vs {probe['auc_kmer_bag']:.2f} for a bag of 6-mers.")
    if not held:
        words += " No held-out evaluation was recorded: how well it models DNA is not measured."
    return words

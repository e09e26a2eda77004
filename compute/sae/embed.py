"""Hidden states of a DNA masked LM for many sequences: batched with dynamic padding, cached on disk.

:func:`embed_sequences` returns an :class:`Activations`: a token table (one row per real token, special
tokens and padding dropped) and, per requested layer, a float32 array ``(n_tokens, hidden_size)`` of
``hidden_states[layer]`` (layer 0 = the embeddings, layer L = the output of transformer block L).

Token table columns: ``seq_id, set, token_index`` (0-based among the sequence's real tokens), ``token``,
``start, end`` (0-based, end exclusive, in the sequence), ``chrom, genomic_start, genomic_end`` (1-based
inclusive, strand-aware; -1 without coordinates), ``strand``.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from isograph.dataset.io import atomic_write, write_json, write_parquet
from isograph.errors import InputError
from isograph.sae.lm import LocalLM, kmer_tokens

__all__ = ["Activations", "activation_cache_dir", "embed_sequences", "embed_tiled", "load_activations",
           "save_activations", "tokenize_table"]


@dataclass
class Activations:
    """Token table and per-layer hidden states (rows aligned)."""

    tokens: pd.DataFrame
    layers: dict[int, np.ndarray] = field(default_factory=dict)
    model: str = ""
    seconds: float = 0.0

    def layer(self, idx: int) -> np.ndarray:
        """``(n_tokens, hidden_size)`` float32 hidden states of one layer."""
        if idx not in self.layers:
            raise InputError(f"layer {idx} was not embedded; these were: {sorted(self.layers)}")
        return self.layers[idx]


def tokenize_table(sequences: pd.DataFrame, k: int = 6) -> tuple[pd.DataFrame, list[list[str]]]:
    """The token table of a sequence table (see module doc) and each sequence's token list.

    Parameters
    ----------
    sequences : DataFrame
        A sequence table.
    k : int, default 6
    """
    parts, token_lists = [], []
    for row in sequences.itertuples(index=False):
        tokens, starts, ends = kmer_tokens(row.sequence, k)
        token_lists.append(tokens)
        n = len(tokens)
        if row.start >= 0:
            if row.strand == "-":
                g_end, g_start = row.end - starts, row.end - ends + 1
            else:
                g_start, g_end = row.start + starts, row.start + ends - 1
        else:
            g_start = g_end = np.full(n, -1, dtype=np.int64)
        parts.append(pd.DataFrame({
            "seq_id": row.seq_id, "set": row.set, "token_index": np.arange(n), "token": tokens, "start": starts,
            "end": ends, "chrom": row.chrom, "genomic_start": g_start, "genomic_end": g_end, "strand": row.strand,
        }))
    return pd.concat(parts, ignore_index=True), token_lists


def embed_sequences(lm: LocalLM, sequences: pd.DataFrame, layers: list[int], *, batch_size: int = 16,
                    dynamic_padding: bool = True, progress: Callable[[float, str], None] | None = None,
                    cache_dir: str | os.PathLike | None = None) -> Activations:
    """Hidden states of every token of every sequence at the given layers.

    Parameters
    ----------
    lm : LocalLM
    sequences : DataFrame
        A sequence table (:mod:`isograph.sae.sequences`).
    layers : list of int
        Indices into ``hidden_states`` (0 = embeddings, ``lm.n_layers`` = last block).
    batch_size : int, default 16
    dynamic_padding : bool, default True
        Sort sequences by length and pad each batch only to its longest member. False pads every batch
        to the longest sequence of all (the baseline of ``bench/sae_scale.py``).
    progress : callable, optional
        ``progress(fraction, message)``.
    cache_dir : path, optional
        Reuse (or store) the result under a key of the model, sequences and layers.

    Returns
    -------
    Activations

    Raises
    ------
    InputError
        A layer out of range, or a sequence longer than the model takes (tile it first).
    """
    import torch

    for idx in layers:
        if not 0 <= idx <= lm.n_layers:
            raise InputError(f"layer {idx} is out of range: the model has layers 0..{lm.n_layers}")
    cached = activation_cache_dir(lm, sequences, layers, cache_dir) if cache_dir is not None else None
    if cached is not None and (cached / "tokens.parquet").exists():
        return load_activations(cached)

    t0 = time.perf_counter()
    table, token_lists = tokenize_table(sequences, lm.k)
    lengths = np.array([len(t) for t in token_lists])
    too_long = np.flatnonzero(lengths + 1 > lm.max_tokens)
    if too_long.size:
        i = too_long[0]
        raise InputError(f"sequence {sequences['seq_id'].iloc[i]!r} has {lengths[i]} tokens but the model takes at"
                         f" most {lm.max_tokens - 1}; tile long sequences first (e.g. --tile {6 * (lm.max_tokens - 2)})")
    offsets = np.r_[0, np.cumsum(lengths)]
    out = {idx: np.empty((len(table), lm.hidden_size), dtype=np.float32) for idx in layers}
    order = np.argsort(-lengths, kind="stable") if dynamic_padding else np.arange(len(lengths))
    global_max = int(lengths.max()) + 1
    cls, pad = lm.special_id("<cls>"), lm.special_id("<pad>")
    device = next(lm.model.parameters()).device
    with torch.inference_mode():
        for b in range(0, len(order), batch_size):
            members = order[b:b + batch_size]
            width = int(lengths[members].max()) + 1 if dynamic_padding else global_max
            ids = np.full((len(members), width), pad, dtype=np.int64)
            mask = np.zeros((len(members), width), dtype=np.int64)
            for row, s in enumerate(members):
                ids[row, 0] = cls
                ids[row, 1:lengths[s] + 1] = lm.ids(token_lists[s])
                mask[row, :lengths[s] + 1] = 1
            result = lm.model(input_ids=torch.from_numpy(ids).to(device),
                              attention_mask=torch.from_numpy(mask).to(device), output_hidden_states=True)
            for idx in layers:
                hidden = result.hidden_states[idx].float().cpu().numpy()
                for row, s in enumerate(members):
                    out[idx][offsets[s]:offsets[s + 1]] = hidden[row, 1:lengths[s] + 1]
            if progress is not None:
                progress(min(1.0, (b + len(members)) / len(order)), f"embedded {b + len(members)} sequences")
    acts = Activations(tokens=table, layers=out, model=str(lm.path), seconds=time.perf_counter() - t0)
    if cached is not None:
        save_activations(acts, cached)
    return acts


def activation_cache_dir(lm: LocalLM, sequences: pd.DataFrame, layers: list[int],
                         cache_dir: str | os.PathLike) -> Path:
    """The folder under ``cache_dir`` where :func:`embed_sequences` caches these activations.

    Parameters
    ----------
    lm : LocalLM
    sequences : DataFrame
    layers : list of int
    cache_dir : path

    Returns
    -------
    Path
        ``{cache_dir}/{key}``, the key a digest of the model (config and first weights), the sequences
        and the layers.
    """
    return Path(cache_dir) / _cache_key(lm, sequences, layers)


def _cache_key(lm: LocalLM, sequences: pd.DataFrame, layers: list[int]) -> str:
    digest = hashlib.sha256()
    digest.update(json.dumps(lm.model.config.to_dict(), sort_keys=True, default=str).encode())
    for name, tensor in list(lm.model.state_dict().items())[:3]:  # weights identify a trained model
        digest.update(name.encode() + tensor.float().cpu().numpy().tobytes()[:4096])
    for col in ("seq_id", "sequence", "start", "end", "strand", "set"):
        digest.update("\x1f".join(map(str, sequences[col].tolist())).encode())
    digest.update(repr(sorted(layers)).encode())
    return digest.hexdigest()[:20]


def embed_tiled(lm: LocalLM, sequences: pd.DataFrame, layer: int, *, max_tokens: int | None = None,
                batch_size: int = 16, progress: Callable[[float, str], None] | None = None
                ) -> tuple[pd.DataFrame, np.ndarray]:
    """Hidden states at one layer of every token of sequences of any length.

    Each sequence is cut between its tokens into tiles the model takes
    (:func:`isograph.sae.sequences.tile_tokens`), the tiles are embedded separately (a token near a tile's
    edge sees less context), and each token is placed back on its whole sequence.

    Parameters
    ----------
    lm : LocalLM
    sequences : DataFrame
        A sequence table.
    layer : int
        Index into ``hidden_states``.
    max_tokens : int, optional
        Tokens per tile (default the model's length less ``<cls>``).
    batch_size : int, default 16
    progress : callable, optional
        ``progress(fraction, message)``.

    Returns
    -------
    tokens : DataFrame
        :class:`Activations` token rows (``seq_id`` = the tile, ``start, end`` in it) plus ``parent_id`` (the
        whole sequence) and ``parent_start, parent_end`` (0-based, end exclusive, in the whole sequence).
    states : ndarray, shape (n_tokens, hidden_size), float32
    """
    from isograph.sae.sequences import tile_tokens

    tiles = tile_tokens(sequences, k=lm.k, max_tokens=max_tokens or lm.max_tokens - 1)
    acts = embed_sequences(lm, tiles, [layer], batch_size=batch_size, progress=progress)
    where = tiles.set_index("seq_id")
    offset = acts.tokens["seq_id"].map(where["offset"]).to_numpy()
    tokens = acts.tokens.assign(parent_id=acts.tokens["seq_id"].map(where["parent_id"]).to_numpy(),
                                parent_start=acts.tokens["start"].to_numpy() + offset,
                                parent_end=acts.tokens["end"].to_numpy() + offset)
    return tokens, acts.layer(layer)


def save_activations(acts: Activations, directory: str | os.PathLike) -> Path:
    """Write ``tokens.parquet``, ``layer_{idx}.npy`` and ``activations.json`` (atomically, file by file).

    Parameters
    ----------
    acts : Activations
    directory : path
    """
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    for idx, values in acts.layers.items():
        atomic_write(directory / f"layer_{idx}.npy", lambda tmp, v=values: _save_npy(tmp, v))
    write_json({"model": acts.model, "layers": sorted(acts.layers), "n_tokens": len(acts.tokens),
                "seconds": acts.seconds}, directory / "activations.json")
    write_parquet(acts.tokens, directory / "tokens.parquet")  # last: its presence marks a complete cache
    return directory


def _save_npy(path: Path, values: np.ndarray) -> None:
    with open(path, "wb") as handle:  # a file object: np.save would add ".npy" to a temp name
        np.save(handle, values, allow_pickle=False)


def load_activations(directory: str | os.PathLike, layers: list[int] | None = None) -> Activations:
    """Read what :func:`save_activations` wrote (arrays memory-mapped, no pickle).

    Parameters
    ----------
    directory : path
    layers : list of int, optional
        Layers to read (default all).

    Raises
    ------
    InputError
        Missing files, or arrays that do not match the token table.
    """
    directory = Path(directory)
    try:
        meta = json.loads((directory / "activations.json").read_text())
        tokens = pd.read_parquet(directory / "tokens.parquet")
    except (OSError, ValueError) as exc:
        raise InputError(f"{directory}: not an activation cache (activations.json + tokens.parquet): {exc}") from None
    out = {}
    for idx in layers if layers is not None else meta["layers"]:
        path = directory / f"layer_{idx}.npy"
        if not path.exists():
            raise InputError(f"{path}: missing; the cache has layers {meta['layers']}")
        values = np.load(path, mmap_mode="r", allow_pickle=False)
        if values.shape[0] != len(tokens):
            raise InputError(f"{path}: {values.shape[0]} rows but tokens.parquet has {len(tokens)}; re-embed")
        out[idx] = values
    return Activations(tokens=tokens, layers=out, model=meta.get("model", ""), seconds=meta.get("seconds", 0.0))

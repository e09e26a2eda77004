"""DNA masked language models: 6-mer tokens, loading a local Hugging Face model, a small model of our own.

Tokens follow the Nucleotide Transformer: the sequence is cut left to right into non-overlapping 6-mers;
a 6-mer with an N, and the last < 6 bases, become single-nucleotide tokens; ``<cls>`` is prepended. The
tokenization is done here (the model's tokenizer only maps tokens to IDs), so every token keeps its
place in the sequence: ``start`` (0-based) and ``end`` (exclusive).

Nothing is downloaded: :func:`load_masked_lm` reads a local directory (or a model already in the local
Hugging Face cache) with ``local_files_only=True``.
"""

from __future__ import annotations

import itertools
import json
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from isograph.errors import InputError

__all__ = ["SPECIAL_TOKENS", "LocalLM", "kmer_tokens", "load_masked_lm", "make_esm_lm", "nt_vocabulary"]

SPECIAL_TOKENS = ["<unk>", "<pad>", "<mask>", "<cls>", "<eos>", "<bos>"]


def nt_vocabulary(k: int = 6) -> list[str]:
    """The Nucleotide Transformer vocabulary: special tokens, every k-mer over ATCG, then A T C G N.

    Parameters
    ----------
    k : int, default 6

    Examples
    --------
    >>> v = nt_vocabulary(); len(v), v[:4], v[6], v[-5:]
    (4107, ['<unk>', '<pad>', '<mask>', '<cls>'], 'AAAAAA', ['A', 'T', 'C', 'G', 'N'])
    """
    return SPECIAL_TOKENS + ["".join(p) for p in itertools.product("ATCG", repeat=k)] + list("ATCGN")


def kmer_tokens(sequence: str, k: int = 6) -> tuple[list[str], np.ndarray, np.ndarray]:
    """Nucleotide Transformer tokens of one sequence (no special tokens) and where each one lies.

    Parameters
    ----------
    sequence : str
        Upper-case A/C/G/T/N.
    k : int, default 6

    Returns
    -------
    tokens : list of str
    starts, ends : ndarray of int
        0-based start and exclusive end of each token in ``sequence``.

    Examples
    --------
    >>> tokens, starts, ends = kmer_tokens("ACGTACNGTACGTAAC")
    >>> tokens, starts.tolist(), ends.tolist()
    (['ACGTAC', 'N', 'GTACGT', 'A', 'A', 'C'], [0, 6, 7, 13, 14, 15], [6, 7, 13, 14, 15, 16])
    """
    tokens: list[str] = []
    starts: list[int] = []
    i, n = 0, len(sequence)
    while i < n:
        piece = sequence[i:i + k]
        if len(piece) == k and "N" not in piece:
            tokens.append(piece)
            starts.append(i)
            i += k
        else:
            tokens.append(sequence[i])
            starts.append(i)
            i += 1
    starts_a = np.asarray(starts, dtype=np.int64)
    ends = starts_a + np.array([len(t) for t in tokens], dtype=np.int64)
    return tokens, starts_a, ends


@dataclass
class LocalLM:
    """A masked LM and its token -> ID map, loaded from disk.

    Attributes
    ----------
    model : transformers.PreTrainedModel
        In eval mode, on CPU unless moved.
    vocab : dict of str to int
    path : Path
    k : int
        k-mer size of the vocabulary.
    """

    model: object
    vocab: dict
    path: Path
    k: int = 6

    @property
    def n_layers(self) -> int:
        """Transformer layers (``hidden_states`` has n_layers + 1 entries: embeddings first)."""
        return int(self.model.config.num_hidden_layers)

    @property
    def hidden_size(self) -> int:
        return int(self.model.config.hidden_size)

    @property
    def max_tokens(self) -> int:
        """Longest input in tokens, ``<cls>`` included."""
        return int(getattr(self.model.config, "max_position_embeddings", 1000)) - 2

    def ids(self, tokens: list[str]) -> list[int]:
        """Token IDs (``<unk>`` for tokens the vocabulary lacks)."""
        unk = self.vocab["<unk>"]
        return [self.vocab.get(t, unk) for t in tokens]

    def special_id(self, token: str) -> int:
        return self.vocab[token]

    def kmer_ids(self) -> np.ndarray:
        """IDs of the k-mer tokens (every k-mer over A, C, G, T; not ``<mask>``, which also has 6 characters), sorted."""
        return np.array(sorted(i for tok, i in self.vocab.items() if len(tok) == self.k and set(tok) <= set("ACGT")))


def load_masked_lm(path: str | os.PathLike, *, device: str = "cpu") -> LocalLM:
    """Load a masked LM from a local directory (``config.json``, weights, ``vocab.txt``), never downloading.

    Parameters
    ----------
    path : path or str
    device : str, default "cpu"

    ``path`` may also be a Hugging Face model name (e.g. ``InstaDeepAI/nucleotide-transformer-500m-human-ref``)
    that is already in the local hub cache.

    Raises
    ------
    InputError
        No such directory/cached model, or no ``vocab.txt`` next to the weights.
    """
    from safetensors import SafetensorError
    from transformers import AutoModelForMaskedLM
    from transformers.utils import cached_file, logging

    logging.disable_progress_bar()

    local = Path(path)
    try:
        if local.is_dir():
            vocab_file = local / "vocab.txt"
        else:
            vocab_file = Path(cached_file(str(path), "vocab.txt", local_files_only=True))
        model = AutoModelForMaskedLM.from_pretrained(str(path), local_files_only=True)
    except (OSError, ValueError, RuntimeError, SafetensorError) as exc:  # missing, truncated or mismatched weights
        raise InputError(f"cannot load a masked language model from {path}: it must be a local directory with"
                         f" config.json, weights and vocab.txt, or a model already in the Hugging Face cache"
                         f" (nothing is downloaded) ({str(exc).splitlines()[0]})") from None
    if not vocab_file.exists():
        raise InputError(f"{path}: no vocab.txt; the tokens of the model are needed")
    vocab = {tok: i for i, tok in enumerate(vocab_file.read_text().split())}
    kmers = [t for t in vocab if t not in SPECIAL_TOKENS and len(t) > 1]
    k = len(kmers[0]) if kmers else 6
    model.eval()
    return LocalLM(model=model.to(device), vocab=vocab, path=local, k=k)


def make_esm_lm(out_dir: str | os.PathLike, *, hidden_size: int = 64, n_layers: int = 4, n_heads: int = 4,
                intermediate_size: int | None = None, max_tokens: int = 512, seed: int = 0,
                dropout: float = 0.0) -> Path:
    """Write a randomly initialised ESM masked LM with the Nucleotide Transformer's 6-mer vocabulary.

    Parameters
    ----------
    out_dir : path
    hidden_size, n_layers, n_heads, intermediate_size : int
        Architecture (intermediate size defaults to 4 x hidden).
    max_tokens : int, default 512
        Longest input without the two special positions.
    seed : int, default 0
    dropout : float, default 0.0
        Hidden and attention dropout while training (the saved model runs in eval mode: no dropout).

    The same architecture as ``InstaDeepAI/nucleotide-transformer-*`` (``EsmForMaskedLM``, absolute
    positions), only smaller. Tests build tiny ones; ``isograph sae train-lm`` trains one.

    Returns
    -------
    Path
        ``out_dir`` (config.json, model.safetensors, vocab.txt, tokenizer files).
    """
    import torch
    from transformers import EsmConfig, EsmForMaskedLM
    from transformers.utils import logging

    logging.disable_progress_bar()

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    vocab = nt_vocabulary()
    config = EsmConfig(
        vocab_size=len(vocab), hidden_size=hidden_size, num_hidden_layers=n_layers, num_attention_heads=n_heads,
        intermediate_size=intermediate_size or 4 * hidden_size, max_position_embeddings=max_tokens + 2,
        position_embedding_type="absolute", pad_token_id=vocab.index("<pad>"), mask_token_id=vocab.index("<mask>"),
        emb_layer_norm_before=False, token_dropout=False, hidden_dropout_prob=dropout, attention_probs_dropout_prob=dropout,
    )
    torch.manual_seed(seed)
    model = EsmForMaskedLM(config)
    model.save_pretrained(out)
    (out / "vocab.txt").write_text("\n".join(vocab) + "\n")
    (out / "tokenizer_config.json").write_text(json.dumps({
        "tokenizer_class": "EsmTokenizer", "model_max_length": max_tokens + 2, "unk_token": "<unk>",
        "pad_token": "<pad>", "mask_token": "<mask>", "cls_token": "<cls>",
        "eos_token": None}))  # inputs are <cls> + tokens (as embed feeds them): a tokenizer must add no <eos>
    return out

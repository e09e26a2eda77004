"""6-mer tokens, local model loading and batched hidden states against a per-sequence forward pass."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from isograph.errors import InputError
from isograph.sae.embed import embed_sequences, load_activations
from isograph.sae.lm import kmer_tokens, load_masked_lm, nt_vocabulary

from .conftest import random_sequences


def test_tokens_follow_the_nucleotide_transformer():
    tokens, starts, ends = kmer_tokens("AAAAAACCCCCCNGGGGGGTT")
    assert tokens == ["AAAAAA", "CCCCCC", "N", "GGGGGG", "T", "T"]
    assert starts.tolist() == [0, 6, 12, 13, 19, 20] and ends.tolist() == [6, 12, 13, 19, 20, 21]


def test_the_models_own_tokenizer_agrees_on_ids(tiny_lm_dir, tiny_lm):
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(str(tiny_lm_dir), local_files_only=True)
    tokens = ["<cls>", "ACGTAC", "N", "T", "GGGGGG"]
    assert tiny_lm.ids(tokens) == tokenizer.convert_tokens_to_ids(tokens)
    assert len(nt_vocabulary()) == tokenizer.vocab_size == 4107


def test_the_models_tokenizer_feeds_what_embed_feeds_no_eos(tiny_lm_dir, tiny_lm):
    """A Hugging Face tokenizer of the folder (as HSG loads it) gives <cls> + tokens and the same hidden states."""
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(str(tiny_lm_dir), local_files_only=True)
    sequence = "ACGTACGGGTTTACNTTAGGCA"
    tokens, _, _ = kmer_tokens(sequence)
    ids = tokenizer(" ".join(tokens))["input_ids"]
    assert ids == [tiny_lm.special_id("<cls>"), *tiny_lm.ids(tokens)] and tiny_lm.special_id("<eos>") not in ids
    with torch.no_grad():
        theirs = tiny_lm.model(input_ids=torch.tensor([ids]), output_hidden_states=True).hidden_states[2][0, 1:].numpy()
    acts = embed_sequences(tiny_lm, random_sequences(1, [1]).assign(sequence=sequence), [2])
    np.testing.assert_allclose(acts.layer(2), theirs, atol=1e-5)


def _one_by_one(lm, sequence: str, layer: int) -> np.ndarray:
    tokens, _, _ = kmer_tokens(sequence)
    ids = torch.tensor([[lm.special_id("<cls>"), *lm.ids(tokens)]])
    with torch.no_grad():
        return lm.model(input_ids=ids, output_hidden_states=True).hidden_states[layer][0, 1:].numpy()


def test_batched_dynamic_padding_equals_one_sequence_at_a_time(tiny_lm):
    seqs = random_sequences(9, [30, 7, 200, 61, 120], seed=3)
    acts = embed_sequences(tiny_lm, seqs, [0, 2, 3], batch_size=4)
    padded = embed_sequences(tiny_lm, seqs, [2], batch_size=4, dynamic_padding=False)
    for layer in (0, 2, 3):
        for seq_id, sequence in zip(seqs["seq_id"], seqs["sequence"]):
            rows = (acts.tokens["seq_id"] == seq_id).to_numpy()
            np.testing.assert_allclose(acts.layer(layer)[rows], _one_by_one(tiny_lm, sequence, layer), atol=1e-5)
    np.testing.assert_allclose(padded.layer(2), acts.layer(2), atol=1e-5)
    first = acts.tokens[acts.tokens["seq_id"] == "x0"]
    assert first["genomic_start"].iloc[1] == 1000 + 6 and first["genomic_end"].iloc[1] == 1000 + 11


def test_minus_strand_coordinates(tiny_lm):
    seqs = random_sequences(1, [12])
    seqs["strand"] = "-"
    tokens = embed_sequences(tiny_lm, seqs, [1]).tokens
    assert tokens["genomic_end"].tolist() == [1011, 1005] and tokens["genomic_start"].tolist() == [1006, 1000]


def test_cache_is_reused(tiny_lm, tmp_path, monkeypatch):
    seqs = random_sequences(4, [40])
    first = embed_sequences(tiny_lm, seqs, [2], cache_dir=tmp_path)
    monkeypatch.setattr(tiny_lm.model, "forward", lambda *a, **k: pytest.fail("recomputed"))
    again = embed_sequences(tiny_lm, seqs, [2], cache_dir=tmp_path)
    np.testing.assert_array_equal(again.layer(2), first.layer(2))
    assert load_activations(next(tmp_path.iterdir())).tokens.equals(first.tokens)


def test_clear_errors(tiny_lm, tmp_path):
    with pytest.raises(InputError, match="layer 9 is out of range: the model has layers 0..3"):
        embed_sequences(tiny_lm, random_sequences(1, [10]), [9])
    with pytest.raises(InputError, match="has 100 tokens but the model takes at most 63; tile long sequences"):
        embed_sequences(tiny_lm, random_sequences(1, [600]), [1])
    with pytest.raises(InputError, match="nothing is downloaded"):
        load_masked_lm(tmp_path / "no-model-here")

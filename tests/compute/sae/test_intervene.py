"""Interventions: the hook patches the right hidden state; alpha = 1, delta = 0 changes nothing; ablation does."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from isograph.errors import InputError
from isograph.sae.embed import embed_sequences
from isograph.sae.intervene import edit_features, hidden_state_module, intervene
from isograph.sae.lm import kmer_tokens
from isograph.sae.model import SAEConfig, train_sae

from .conftest import random_sequences


@pytest.fixture(scope="module")
def sae(tiny_lm):
    acts = embed_sequences(tiny_lm, random_sequences(40, [150], seed=5), [2])
    return train_sae(acts.layer(2), SAEConfig(expansion_factor=8, epochs=8, batch_size=128)).model


@pytest.mark.parametrize("layer", [0, 1, 2, 3])
def test_hooked_module_outputs_hidden_states_of_that_layer(tiny_lm, layer):
    tokens, _, _ = kmer_tokens("ACGTACGGATTACAGGCATTAGCAT")
    ids = torch.tensor([[tiny_lm.special_id("<cls>"), *tiny_lm.ids(tokens)]])
    seen = {}
    handle = hidden_state_module(tiny_lm.model, layer).register_forward_hook(
        lambda _m, _i, out: seen.setdefault("h", out[0] if isinstance(out, tuple) else out))
    with torch.no_grad():
        hidden = tiny_lm.model(input_ids=ids, output_hidden_states=True).hidden_states[layer]
    handle.remove()
    torch.testing.assert_close(seen["h"], hidden)


def test_edit_semantics_by_hand():
    z = torch.tensor([[0.0, 2.0, 4.0]])
    assert edit_features(z, 0, delta=0.5, alpha=10)[0].tolist() == pytest.approx([5.0, 0.2, 0.4])
    assert edit_features(z, 1, delta=0.0, alpha=1).tolist() == z.tolist()
    assert edit_features(z, 0, delta=0.5, alpha=0).tolist() == [[0.5, 0.0, 0.0]]  # alpha = 0 ablates the others
    with pytest.raises(InputError, match="alpha must be >= 0"):
        edit_features(z, 0, delta=0, alpha=-1)


def test_identity_edit_leaves_the_output_unchanged(tiny_lm, sae):
    sequence = random_sequences(1, [200], seed=9)["sequence"].iloc[0]
    for feature in (0, 17, 100):
        result = intervene(tiny_lm, sae, sequence, layer_idx=2, feature=feature, delta=0.0, alpha=1.0)
        assert result.max_abs_logit_change <= 1e-4
        assert not result.effects["top_changed"].any() and result.effects["kl"].max() <= 1e-6


def test_ablation_and_boost_change_the_output(tiny_lm, sae):
    sequence = random_sequences(1, [200], seed=9)["sequence"].iloc[0]
    ablated = intervene(tiny_lm, sae, sequence, layer_idx=2, feature=3, delta=0.0, alpha=0.0)
    assert ablated.max_abs_logit_change > 1e-2 and ablated.effects["kl"].mean() > 0
    boosted = intervene(tiny_lm, sae, sequence, layer_idx=2, feature=3, delta=0.1, alpha=10.0)
    # oracle for p(token): a softmax of the returned logits at the ID of the token that is there
    ids = np.array(tiny_lm.ids(boosted.effects["token"].tolist()))
    for logits, column in ((boosted.base_logits, "p_token_before"), (boosted.edited_logits, "p_token_after")):
        soft = np.exp(logits - logits.max(axis=1, keepdims=True))
        soft /= soft.sum(axis=1, keepdims=True)
        np.testing.assert_allclose(boosted.effects[column], soft[np.arange(len(ids)), ids], rtol=1e-4, atol=1e-7)
    assert (boosted.effects["z_after"] >= 1.0 - 1e-6).all()  # max(z, 0.1) x 10
    np.testing.assert_allclose(boosted.effects["z_after"], np.maximum(boosted.effects["z_before"], 0.1) * 10, rtol=1e-5)
    assert boosted.effects["kl"].mean() > 0


def test_bad_feature_and_too_long(tiny_lm, sae):
    with pytest.raises(InputError, match="feature 999 is out of range"):
        intervene(tiny_lm, sae, "ACGTACGT", layer_idx=2, feature=999)
    with pytest.raises(InputError, match="the model takes at most 63"):
        intervene(tiny_lm, sae, "ACGTAC" * 100, layer_idx=2, feature=1)

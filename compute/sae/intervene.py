"""Feature interventions: edit one SAE feature in a layer's hidden state and measure the masked-LM output.

For every real token position of a sequence, at layer ``L`` (``hidden_states[L]``):

    z      = SAE.encode(h)
    z'_f   = max(z_f, delta) * alpha            the edited feature
    z'_j   = z_j / alpha   (j != f)             every other feature (alpha = 0: z'_j = 0 and z'_f = max(z_f, delta))
    h'     = SAE.decode(z') + (h - SAE.decode(z))    decoded with the input bias, plus the reconstruction error

so alpha = 1, delta = 0 leaves ``h`` unchanged. ``h'`` replaces the model's hidden state through a
forward hook on the module that produces ``hidden_states[L]`` (the embeddings for L = 0, block L-1
otherwise, the final layer norm for the last entry when the model has one), and the rest of the
model runs on it. The effect is measured against the unedited run, per position: KL(p_base || p_edit)
of the output distributions, the largest |logit change|, and the top token before and after.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from isograph.errors import InputError
from isograph.sae.lm import LocalLM, kmer_tokens
from isograph.sae.model import check_width

if TYPE_CHECKING:  # torch is imported where it is used
    import torch

__all__ = ["InterventionResult", "edit_features", "hidden_state_module", "intervene"]


def edit_features(z: torch.Tensor, feature: int, *, delta: float, alpha: float) -> torch.Tensor:
    """The edited code ``z'`` (torch tensor ``(..., d_sae)``), as in the module docstring.

    Parameters
    ----------
    z : Tensor
        SAE codes ``(..., d_sae)``.
    feature : int
    delta : float
        Floor of the edited feature.
    alpha : float
        Factor of the edited feature (others get 1/alpha; 0 ablates them).
    """
    import torch

    if alpha < 0:
        raise InputError(f"the activation factor alpha must be >= 0, got {alpha}")
    edited = z * (1.0 / alpha) if alpha > 0 else torch.zeros_like(z)
    target = torch.clamp(z[..., feature], min=delta) * (alpha if alpha > 0 else 1.0)
    edited[..., feature] = target
    return edited


def hidden_state_module(model: torch.nn.Module, layer_idx: int) -> torch.nn.Module:
    """The submodule whose output is ``hidden_states[layer_idx]`` of an ESM masked LM.

    Parameters
    ----------
    model : transformers.EsmForMaskedLM
    layer_idx : int
    """
    base = getattr(model, "esm", None)
    if base is None:
        raise InputError(f"interventions support ESM-style masked LMs (the Nucleotide Transformer); got"
                         f" {type(model).__name__}")
    n = len(base.encoder.layer)
    if layer_idx == 0:
        return base.embeddings
    if 1 <= layer_idx < n:
        return base.encoder.layer[layer_idx - 1]
    if layer_idx == n:
        norm = getattr(base.encoder, "emb_layer_norm_after", None)
        return norm if norm is not None else base.encoder.layer[n - 1]
    raise InputError(f"layer {layer_idx} is out of range: the model has layers 0..{n}")


@dataclass
class InterventionResult:
    """Per-position effects and the raw logits."""

    effects: pd.DataFrame
    base_logits: np.ndarray
    edited_logits: np.ndarray

    @property
    def max_abs_logit_change(self) -> float:
        return float(np.abs(self.edited_logits - self.base_logits).max())


def _replace_output(output, new_hidden):
    if isinstance(output, tuple):
        return (new_hidden, *output[1:])
    if hasattr(output, "last_hidden_state"):
        output.last_hidden_state = new_hidden
        return output
    return new_hidden


def _hidden_of(output):
    if isinstance(output, tuple):
        return output[0]
    return getattr(output, "last_hidden_state", output)


def intervene(lm: LocalLM, sae: torch.nn.Module, sequence: str, *, layer_idx: int, feature: int, delta: float = 0.0,
              alpha: float = 1.0, seq_id: str = "sequence") -> InterventionResult:
    """Run ``sequence`` through the model with and without the feature edit at ``layer_idx``.

    Parameters
    ----------
    lm : LocalLM
    sae : SparseAutoencoder
        Trained on ``hidden_states[layer_idx]`` of ``lm``.
    sequence : str
    layer_idx : int
    feature : int
    delta : float, default 0
    alpha : float, default 1
    seq_id : str, default "sequence"
        Label of the rows.

    Returns
    -------
    InterventionResult
        ``effects``: ``seq_id, token_index, token, start, end, z_before, z_after, kl, max_abs_logit_change,
        top_token_before, top_token_after, top_changed, p_token_before, p_token_after`` per real token
        position (``p_token_*``: the model's probability of the token that is there).
    """
    import torch

    check_width(sae, lm.hidden_size)
    if not 0 <= feature < sae.W_enc.shape[0]:
        raise InputError(f"feature {feature} is out of range: the SAE has features 0..{sae.W_enc.shape[0] - 1}")
    tokens, starts, ends = kmer_tokens(sequence.upper(), lm.k)
    if len(tokens) + 1 > lm.max_tokens:
        raise InputError(f"sequence {seq_id!r} has {len(tokens)} tokens; the model takes at most {lm.max_tokens - 1}")
    ids = torch.tensor([[lm.special_id("<cls>"), *lm.ids(tokens)]])
    module = hidden_state_module(lm.model, layer_idx)
    captured: dict = {}

    def hook(_module, _inputs, output):
        h = _hidden_of(output)
        real = h[:, 1:, :]
        z = sae.encode(real)
        z_edit = edit_features(z, feature, delta=delta, alpha=alpha)
        h_new = sae.decode(z_edit) + (real - sae.decode(z))
        captured["z_before"] = z[0, :, feature].detach().clone()
        captured["z_after"] = z_edit[0, :, feature].detach().clone()
        patched = torch.cat([h[:, :1, :], h_new.to(h.dtype)], dim=1)
        return _replace_output(output, patched)

    with torch.inference_mode():
        base = lm.model(input_ids=ids).logits[0, 1:].float()
        handle = module.register_forward_hook(hook)
        try:
            edited = lm.model(input_ids=ids).logits[0, 1:].float()
        finally:
            handle.remove()
    log_p, log_q = torch.log_softmax(base, -1), torch.log_softmax(edited, -1)
    kl = (log_p.exp() * (log_p - log_q)).sum(-1)
    inverse = {i: t for t, i in lm.vocab.items()}
    top_b, top_e = base.argmax(-1).numpy(), edited.argmax(-1).numpy()
    effects = pd.DataFrame({
        "seq_id": seq_id, "token_index": np.arange(len(tokens)), "token": tokens, "start": starts, "end": ends,
        "z_before": captured["z_before"].numpy(), "z_after": captured["z_after"].numpy(),
        "kl": kl.clamp_min(0).numpy(), "max_abs_logit_change": (edited - base).abs().max(-1).values.numpy(),
        "top_token_before": [inverse.get(int(i), "?") for i in top_b],
        "top_token_after": [inverse.get(int(i), "?") for i in top_e],
    })
    effects["top_changed"] = effects["top_token_before"] != effects["top_token_after"]
    here = ids[0, 1:].unsqueeze(-1)
    effects["p_token_before"] = log_p.gather(-1, here).exp().squeeze(-1).numpy().astype(np.float64)
    effects["p_token_after"] = log_q.gather(-1, here).exp().squeeze(-1).numpy().astype(np.float64)
    return InterventionResult(effects=effects, base_logits=base.numpy(), edited_logits=edited.numpy())

"""Sparse autoencoder on hidden states: model, training, checkpoints.

The model (Bricken et al. 2023, "Towards monosemanticity"; the Hidden-State-Genomics ``AutoEncoder``):

    z     = ReLU(W_enc (x - b) + b_enc)            (or keep the k largest, TopK variant)
    x_hat = W_dec z + b                            W_dec columns of unit L2 norm, no decoder bias

with ``b`` the input bias (subtracted before encoding, added back after decoding). Loss: mean squared
error + lambda * mean L1(z), lambda warmed up linearly over the first ``l1_warmup`` fraction of steps.
After every Adam step the decoder columns are set back to unit norm (the gradient component along
each column is removed first). Metrics per epoch: training MSE, L0 (mean active latents per token),
dead-latent fraction (never active in the epoch), and the validation fraction of variance unexplained
FVU = sum ||x - x_hat||^2 / sum ||x - mean(x)||^2; of the epochs after the L1 warm-up, the one with the
lowest validation FVU is kept. Inputs are divided by a fixed scale (mean token norm / sqrt(d)) so that
one L1 coefficient suits models of any hidden size.

Checkpoints: ``{sae_dir}/ef{N}/layer_{idx}/`` holding ``sae.pt`` (a state_dict of plain tensors,
loaded with ``weights_only=True``), ``config.json`` and ``metrics.json``.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from isograph.dataset.io import atomic_write, write_json
from isograph.errors import InputError

__all__ = ["SAEConfig", "SAETrainResult", "check_width", "checkpoint_dir", "encode", "load_sae", "save_sae", "train_sae"]


@dataclass
class SAEConfig:
    """Training options (all saved in ``config.json``).

    Attributes
    ----------
    expansion_factor : {8, 16, 32}, default 8
        Latents per hidden dimension (the checkpoint folder is ``ef{N}``).
    l1_coefficient : float, default 1.0
        Weight of the mean L1 norm of the latents in the loss (inputs normalised; ignored with ``top_k``).
    l1_warmup : float, default 0.1
        Fraction of the training steps over which the L1 weight rises linearly from 0.
    top_k : int or None, default None
        TopK SAE: keep the K largest latents per token and no L1 penalty.
    learning_rate : float, default 1e-3
        Adam learning rate.
    batch_size : int, default 1024
        Tokens per step.
    epochs : int, default 20
        Passes over the training tokens.
    validation_fraction : float, default 0.1
        Tokens held out to choose the best epoch (lowest validation FVU).
    seed : int, default 0
        Seeds the split, the initialisation and the batches.
    normalize : bool, default True
        Divide inputs by the mean token norm / sqrt(d), so one L1 coefficient suits any hidden size.
    """

    expansion_factor: int = 8
    l1_coefficient: float = 1.0
    l1_warmup: float = 0.1
    top_k: int | None = None
    learning_rate: float = 1e-3
    batch_size: int = 1024
    epochs: int = 20
    validation_fraction: float = 0.1
    seed: int = 0
    normalize: bool = True

    def check(self) -> None:
        if self.expansion_factor < 1 or self.epochs < 1 or self.batch_size < 1:
            raise InputError("expansion factor, epochs and batch size must be >= 1")
        if not 0 < self.validation_fraction < 0.5:
            raise InputError(f"validation fraction must be in (0, 0.5), got {self.validation_fraction}")
        if self.top_k is not None and self.top_k < 1:
            raise InputError(f"top_k must be >= 1, got {self.top_k}")
        if self.l1_coefficient < 0:
            raise InputError(f"the L1 coefficient must be >= 0, got {self.l1_coefficient}")


def _module():
    import torch
    from torch import nn

    class SparseAutoencoder(nn.Module):
        """See the module docstring. ``scale`` divides inputs (mean token norm / sqrt(d)) when normalising."""

        def __init__(self, d_in: int, d_sae: int, top_k: int | None = None):
            super().__init__()
            self.top_k = top_k
            self.b_pre = nn.Parameter(torch.zeros(d_in))
            self.W_enc = nn.Parameter(torch.empty(d_sae, d_in))
            self.b_enc = nn.Parameter(torch.zeros(d_sae))
            self.W_dec = nn.Parameter(torch.empty(d_in, d_sae))
            self.register_buffer("scale", torch.ones(()))
            nn.init.kaiming_uniform_(self.W_dec)
            with torch.no_grad():
                self.W_dec /= self.W_dec.norm(dim=0, keepdim=True)
                self.W_enc.copy_(self.W_dec.T)

        def encode(self, x):
            z = torch.relu((x / self.scale - self.b_pre) @ self.W_enc.T + self.b_enc)
            if self.top_k is not None and self.top_k < z.shape[-1]:
                values, idx = z.topk(self.top_k, dim=-1)
                z = torch.zeros_like(z).scatter_(-1, idx, values)
            return z

        def decode(self, z):
            return (z @ self.W_dec.T + self.b_pre) * self.scale

        def forward(self, x):
            z = self.encode(x)
            return self.decode(z), z

        @torch.no_grad()
        def normalise_decoder(self):
            self.W_dec /= self.W_dec.norm(dim=0, keepdim=True).clamp_min(1e-8)

        @torch.no_grad()
        def remove_parallel_gradient(self):
            if self.W_dec.grad is not None:
                parallel = (self.W_dec.grad * self.W_dec).sum(dim=0, keepdim=True)
                self.W_dec.grad -= parallel * self.W_dec

    return SparseAutoencoder


def new_sae(d_in: int, d_sae: int, top_k: int | None = None):
    """An untrained :class:`SparseAutoencoder` (torch module)."""
    return _module()(d_in, d_sae, top_k)


@dataclass
class SAETrainResult:
    """The best model (by validation FVU), its config, per-epoch metrics and where it was saved."""

    model: object
    config: SAEConfig
    metrics: list[dict]
    best_epoch: int
    path: Path | None
    seconds: float
    tokens_per_second: float


def checkpoint_dir(sae_dir: str | os.PathLike, expansion_factor: int, layer_idx: int) -> Path:
    """``{sae_dir}/ef{N}/layer_{idx}``.

    Parameters
    ----------
    sae_dir : path
    expansion_factor : int
    layer_idx : int
    """
    return Path(sae_dir) / f"ef{expansion_factor}" / f"layer_{layer_idx}"


def _fvu(model, x, batch: int = 8192) -> float:
    import torch

    with torch.no_grad():
        err = total = 0.0
        mean = x.mean(dim=0)
        for i in range(0, len(x), batch):
            xb = x[i:i + batch]
            err += float(((model(xb)[0] - xb) ** 2).sum())
            total += float(((xb - mean) ** 2).sum())
    return err / total if total > 0 else float("nan")


def train_sae(activations: np.ndarray, config: SAEConfig | None = None, *, layer_idx: int = 0,
              sae_dir: str | os.PathLike | None = None, progress: Callable[[float, str, dict], None] | None = None,
              should_stop: Callable[[], bool] | None = None) -> SAETrainResult:
    """Train a sparse autoencoder on ``activations`` (n_tokens, d) and keep the best epoch.

    Parameters
    ----------
    activations : ndarray
        Hidden states, one row per token.
    config : SAEConfig
    layer_idx : int
        Recorded in the config and the checkpoint path.
    sae_dir : path, optional
        Save the best model to ``checkpoint_dir(sae_dir, ef, layer_idx)``.
    progress : callable, optional
        ``progress(fraction, message, epoch_metrics)`` after every epoch.
    should_stop : callable, optional
        Returns True to stop after the current epoch (the best model so far is kept).

    Returns
    -------
    SAETrainResult
    """
    import torch

    config = config or SAEConfig()
    config.check()
    x_all = np.asarray(activations, dtype=np.float32)
    if x_all.ndim != 2 or len(x_all) < 20:
        raise InputError(f"SAE training needs a (tokens, hidden) matrix with at least 20 rows, got {x_all.shape}")
    if not np.isfinite(x_all).all():
        raise InputError("the activations contain NaN or infinite values")
    torch.manual_seed(config.seed)
    rng = np.random.default_rng(config.seed)
    perm = rng.permutation(len(x_all))
    n_val = max(1, int(round(config.validation_fraction * len(x_all))))
    x_val = torch.from_numpy(x_all[perm[:n_val]])
    x_train = torch.from_numpy(x_all[perm[n_val:]])
    d = x_all.shape[1]
    model = new_sae(d, d * config.expansion_factor, config.top_k)
    with torch.no_grad():
        scale = float(np.linalg.norm(x_all[perm[n_val:]], axis=1).mean() / np.sqrt(d)) if config.normalize else 1.0
        model.scale.fill_(max(scale, 1e-8))
        model.b_pre.copy_(x_train.mean(dim=0) / model.scale)
    optimizer = torch.optim.Adam(model.parameters(), lr=config.learning_rate)
    steps_per_epoch = int(np.ceil(len(x_train) / config.batch_size))
    warmup = max(1, int(config.l1_warmup * steps_per_epoch * config.epochs))
    metrics, best, best_state, step = [], (np.inf, -1), None, 0
    t0 = time.perf_counter()
    for epoch in range(config.epochs):
        order = torch.from_numpy(rng.permutation(len(x_train)))
        fired = torch.zeros(model.W_enc.shape[0], dtype=torch.bool)
        mse_sum = l0_sum = seen = 0.0
        model.train()
        for b in range(0, len(x_train), config.batch_size):
            xb = x_train[order[b:b + config.batch_size]]
            x_hat, z = model(xb)
            mse = ((x_hat - xb) / model.scale).pow(2).sum(dim=1).mean()
            l1_weight = config.l1_coefficient * min(1.0, (step + 1) / warmup) if config.top_k is None else 0.0
            loss = mse + l1_weight * z.abs().sum(dim=1).mean()
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            model.remove_parallel_gradient()
            optimizer.step()
            model.normalise_decoder()
            step += 1
            with torch.no_grad():
                active = z > 0
                fired |= active.any(dim=0)
                mse_sum += float(mse) * len(xb)
                l0_sum += float(active.sum())
                seen += len(xb)
        model.eval()
        fvu = _fvu(model, x_val)
        row = {"epoch": epoch + 1, "mse": mse_sum / seen, "l0": l0_sum / seen,
               "dead_fraction": float((~fired).float().mean()), "val_fvu": fvu,
               "seconds": time.perf_counter() - t0}
        metrics.append(row)
        if fvu < best[0] or step < warmup:  # the L1 penalty reaches full weight before an epoch can win
            best = (fvu, epoch + 1)
            best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
        if progress is not None:
            progress((epoch + 1) / config.epochs, f"epoch {epoch + 1}/{config.epochs}: FVU {fvu:.3f},"
                     f" L0 {row['l0']:.1f}, dead {row['dead_fraction']:.0%}", row)
        if should_stop is not None and should_stop():
            break
    seconds = time.perf_counter() - t0
    if best_state is not None:
        model.load_state_dict(best_state)
    model.eval()
    tokens_per_second = len(x_train) * len(metrics) / seconds if seconds > 0 else float("inf")
    result = SAETrainResult(model=model, config=config, metrics=metrics, best_epoch=best[1], path=None,
                            seconds=seconds, tokens_per_second=tokens_per_second)
    if sae_dir is not None:
        result.path = save_sae(result, checkpoint_dir(sae_dir, config.expansion_factor, layer_idx), layer_idx=layer_idx)
    return result


def save_sae(result: SAETrainResult, directory: str | os.PathLike, *, layer_idx: int) -> Path:
    """Write ``sae.pt`` (state_dict), ``config.json`` and ``metrics.json`` atomically.

    Parameters
    ----------
    result : SAETrainResult
    directory : path
    layer_idx : int
    """
    import torch

    directory = Path(directory)
    state = {k: v.detach().cpu() for k, v in result.model.state_dict().items()}
    atomic_write(directory / "sae.pt", lambda tmp: torch.save(state, tmp))
    d_sae, d_in = state["W_enc"].shape
    write_json({**asdict(result.config), "layer_idx": layer_idx, "d_in": int(d_in), "d_sae": int(d_sae),
                "best_epoch": result.best_epoch}, directory / "config.json")
    write_json({"epochs": result.metrics, "best_epoch": result.best_epoch, "seconds": result.seconds,
                "tokens_per_second": result.tokens_per_second}, directory / "metrics.json")
    return directory


def load_sae(directory: str | os.PathLike) -> tuple[object, dict]:
    """The SAE saved in ``directory`` (eval mode) and its config dict.

    Raises
    ------
    InputError
        Missing or unreadable files.
    """
    import pickle

    import torch

    directory = Path(directory)
    try:
        config = json.loads((directory / "config.json").read_text())
        state = torch.load(directory / "sae.pt", map_location="cpu", weights_only=True)
    except pickle.UnpicklingError:
        raise InputError(f"{directory / 'sae.pt'}: holds pickled Python objects, which are never loaded (only plain"
                         " tensors are, weights_only=True); use a checkpoint written by `isograph sae train`") from None
    except (OSError, ValueError, RuntimeError, EOFError) as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise InputError(f"{directory}: not an SAE checkpoint (sae.pt + config.json): {first[:160]}") from None
    try:
        model = new_sae(int(config["d_in"]), int(config["d_sae"]), config.get("top_k"))
        model.load_state_dict(state)
    except (KeyError, TypeError, ValueError, RuntimeError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise InputError(f"{directory}: sae.pt does not match config.json (d_in {config.get('d_in')}, d_sae"
                         f" {config.get('d_sae')}): {first[:160]}") from None
    model.eval()
    return model, config


def check_width(model: object, d_in: int) -> None:
    """Refuse hidden states of another width than the SAE reads (another model or layer).

    Parameters
    ----------
    model : SparseAutoencoder
    d_in : int
        The width of the hidden states.

    Raises
    ------
    InputError
    """
    if int(model.W_enc.shape[1]) != int(d_in):
        raise InputError(f"the SAE reads hidden states of {int(model.W_enc.shape[1])} dimensions, these have {d_in}:"
                         " use an SAE trained on this language model (and layer)")


def encode(model: object, activations: np.ndarray, *, batch: int = 8192) -> np.ndarray:
    """Feature activations ``(n_tokens, d_sae)`` float32 of hidden states ``(n_tokens, d_in)``.

    Parameters
    ----------
    model : SparseAutoencoder
    activations : ndarray
    batch : int, default 8192
        Rows per forward pass.
    """
    import torch

    x = np.asarray(activations, dtype=np.float32)
    check_width(model, x.shape[1])
    out = np.empty((len(x), model.W_enc.shape[0]), dtype=np.float32)
    with torch.inference_mode():
        for i in range(0, len(x), batch):
            out[i:i + batch] = model.encode(torch.from_numpy(np.array(x[i:i + batch]))).numpy()  # a copy: memmaps are read-only
    return out

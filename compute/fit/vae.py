"""Variational autoencoder over a fit's feature scores, and its checkpoint.

Architecture (the data contracts' ``vae_checkpoint.pt``): an ELU MLP encoder with ``mu``/``logvar``
heads and an ELU MLP decoder, both with ``n_hidden_layers`` hidden layers of ``hidden_dim`` units.
Training: Gaussian reconstruction loss (sum of squared errors per sample) + ``kl_weight`` x KL with a
linear warm-up, Adam with gradient-norm clipping (log-variances clamped to [-8, 8]), a validation split, early stopping on the validation loss (the best epoch's
weights are kept), a fixed seed. CPU by default; ``device="auto"`` uses a GPU when one is present,
and CUDA is touched only inside :func:`train_vae`, never at import (so a parent process that forks
workers never initialises it).

The checkpoint is a dict of plain tensors, strings and numbers, loaded with
``torch.load(..., weights_only=True)``; a checkpoint that carries pickled objects is refused.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch
from torch import nn

from isograph.dataset.io import atomic_write
from isograph.errors import InputError
from isograph.fit.vae_config import VAEConfig

__all__ = [
    "VAE",
    "VAEConfig",
    "encode_mean",
    "load_checkpoint",
    "reconstruct",
    "save_checkpoint",
    "train_vae",
]

LOGVAR_MIN, LOGVAR_MAX = -8.0, 8.0
CHECKPOINT_KEYS = ("encoder", "decoder", "feature_ids", "gene_ids", "feature_types", "latent_dim",
                   "hidden_dim", "n_hidden_layers")


def _mlp(sizes: list[int]) -> nn.Sequential:
    layers: list[nn.Module] = []
    for a, b in zip(sizes[:-1], sizes[1:]):
        layers += [nn.Linear(a, b), nn.ELU()]
    return nn.Sequential(*layers)


class Encoder(nn.Module):
    """ELU MLP -> (mu, logvar)."""

    def __init__(self, n_features: int, hidden_dim: int, n_hidden_layers: int, latent_dim: int) -> None:
        super().__init__()
        self.body = _mlp([n_features] + [hidden_dim] * n_hidden_layers)
        self.mu = nn.Linear(hidden_dim, latent_dim)
        self.logvar = nn.Linear(hidden_dim, latent_dim)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        h = self.body(x)
        # clamped so exp(logvar) cannot overflow: with tens of thousands of inputs an unclamped head
        # can diverge in the first epoch
        return self.mu(h), self.logvar(h).clamp(LOGVAR_MIN, LOGVAR_MAX)


class Decoder(nn.Module):
    """ELU MLP latent -> features (linear output)."""

    def __init__(self, n_features: int, hidden_dim: int, n_hidden_layers: int, latent_dim: int) -> None:
        super().__init__()
        self.body = _mlp([latent_dim] + [hidden_dim] * n_hidden_layers)
        self.out = nn.Linear(hidden_dim, n_features)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.out(self.body(z))


class VAE(nn.Module):
    """Encoder + decoder; ``forward`` returns (reconstruction, mu, logvar)."""

    def __init__(self, n_features: int, hidden_dim: int, n_hidden_layers: int, latent_dim: int) -> None:
        super().__init__()
        self.n_features, self.hidden_dim = n_features, hidden_dim
        self.n_hidden_layers, self.latent_dim = n_hidden_layers, latent_dim
        self.encoder = Encoder(n_features, hidden_dim, n_hidden_layers, latent_dim)
        self.decoder = Decoder(n_features, hidden_dim, n_hidden_layers, latent_dim)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        mu, logvar = self.encoder(x)
        z = mu + torch.randn_like(mu) * torch.exp(0.5 * logvar) if self.training else mu
        return self.decoder(z), mu, logvar


@dataclass
class TrainingHistory:
    """Per-epoch losses (per sample) and the epoch whose weights were kept."""

    train_loss: list[float] = field(default_factory=list)
    validation_loss: list[float] = field(default_factory=list)
    best_epoch: int = -1
    device: str = "cpu"


def _device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise InputError("device 'cuda' was asked for but no CUDA GPU is available; use --device cpu")
    return torch.device(name)


def _loss(model: VAE, x: torch.Tensor, kl_weight: float) -> torch.Tensor:
    recon, mu, logvar = model(x)
    rec = 0.5 * ((recon - x) ** 2).sum(dim=1)
    kl = -0.5 * (1 + logvar - mu**2 - logvar.exp()).sum(dim=1)
    return (rec + kl_weight * kl).mean()


def train_vae(
    x: np.ndarray,
    config: VAEConfig | None = None,
    *,
    progress: Callable[[int, int, float], None] | None = None,
) -> tuple[VAE, TrainingHistory]:
    """Train a VAE on a samples x features matrix.

    Parameters
    ----------
    x : ndarray, shape (n_samples, n_features)
        Standardised feature scores, no NaN.
    config : VAEConfig, optional
    progress : callable, optional
        Called after every epoch as ``progress(epoch, max_epochs, validation_loss)``.

    Returns
    -------
    (VAE, TrainingHistory)
        The model in eval mode on the CPU with the best validation epoch's weights.

    Raises
    ------
    InputError
        NaN in ``x``, or fewer samples than latent dimensions (or too few for a validation split).
    """
    config = config or VAEConfig()
    x = np.asarray(x, dtype=np.float32)
    n_samples, n_features = x.shape
    if not np.isfinite(x).all():
        raise InputError("VAE input has missing values; impute or drop them first")
    if n_samples < config.latent_dim:
        raise InputError(f"only {n_samples} samples for {config.latent_dim} latent dimensions; use"
                         f" --latent-dim {max(2, n_samples // 4)} or fewer, or more samples")
    n_val = max(1, int(round(config.validation_fraction * n_samples)))
    if n_samples - n_val < 2:
        raise InputError(f"only {n_samples} samples: too few for a training/validation split")
    device = _device(config.device)
    torch.manual_seed(config.seed)
    rng = np.random.default_rng(config.seed)
    order = rng.permutation(n_samples)
    val_idx, train_idx = order[:n_val], order[n_val:]
    xt = torch.from_numpy(x).to(device)
    model = VAE(n_features, config.hidden_dim, config.n_hidden_layers, config.latent_dim).to(device)
    optimiser = torch.optim.Adam(model.parameters(), lr=config.learning_rate)
    history = TrainingHistory(device=str(device))
    best_state, best_loss, stale = None, float("inf"), 0
    generator = torch.Generator().manual_seed(config.seed)
    for epoch in range(config.max_epochs):
        warm = min(1.0, (epoch + 1) / max(1, config.kl_warmup_epochs))
        kl_weight = config.kl_weight * warm
        model.train()
        perm = torch.from_numpy(train_idx)[torch.randperm(len(train_idx), generator=generator)]
        total = 0.0
        for start in range(0, len(perm), config.batch_size):
            batch = xt[perm[start:start + config.batch_size].to(device)]
            optimiser.zero_grad()
            loss = _loss(model, batch, kl_weight)
            loss.backward()
            if config.grad_clip > 0:
                nn.utils.clip_grad_norm_(model.parameters(), config.grad_clip)
            optimiser.step()
            total += loss.item() * len(batch)
        model.eval()
        with torch.no_grad():
            val = float(_loss(model, xt[torch.from_numpy(val_idx).to(device)], config.kl_weight))
        history.train_loss.append(total / len(train_idx))
        history.validation_loss.append(val)
        if progress is not None:
            progress(epoch + 1, config.max_epochs, val)
        # the validation loss always uses the full KL weight, so epochs compare; stopping waits for the
        # end of the warm-up
        if val < best_loss:
            best_loss, history.best_epoch, stale = val, epoch, 0
            best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
        else:
            stale += 1
            if stale >= config.patience and warm >= 1.0:
                break
    model.load_state_dict(best_state)
    return model.to("cpu").eval(), history


def encode_mean(model: VAE, x: np.ndarray) -> np.ndarray:
    """Posterior means ``mu`` of every sample.

    Parameters
    ----------
    model : VAE
    x : ndarray, shape (n_samples, n_features)

    Returns
    -------
    ndarray, shape (n_samples, latent_dim)
    """
    with torch.no_grad():
        mu, _ = model.encoder(torch.as_tensor(np.asarray(x, dtype=np.float32)))
    return mu.numpy().astype(np.float64)


def reconstruct(model: VAE, x: np.ndarray) -> np.ndarray:
    """Decoder output at the posterior means: the denoised reconstruction.

    Parameters
    ----------
    model : VAE
    x : ndarray, shape (n_samples, n_features)

    Returns
    -------
    ndarray, shape (n_samples, n_features)
    """
    mu = torch.as_tensor(encode_mean(model, x), dtype=torch.float32)  # exact: mu was float32
    with torch.no_grad():
        return model.decoder(mu).numpy().astype(np.float64)


def save_checkpoint(path: str | os.PathLike, model: VAE, *, feature_ids: list[str], gene_ids: list[str],
                    feature_types: list[str], config: VAEConfig | None = None) -> Path:
    """Write ``vae_checkpoint.pt`` (plain tensors and values only) atomically.

    Parameters
    ----------
    path : path-like
    model : VAE
    feature_ids, gene_ids, feature_types : list of str
        One per input feature, in column order.
    config : VAEConfig, optional
        Stored as a plain dict under ``"config"``.

    Returns
    -------
    Path
    """
    state = {
        "encoder": {k: v.detach().cpu() for k, v in model.encoder.state_dict().items()},
        "decoder": {k: v.detach().cpu() for k, v in model.decoder.state_dict().items()},
        "feature_ids": [str(f) for f in feature_ids],
        "gene_ids": [str(g) for g in gene_ids],
        "feature_types": [str(t) for t in feature_types],
        "latent_dim": int(model.latent_dim),
        "hidden_dim": int(model.hidden_dim),
        "n_hidden_layers": int(model.n_hidden_layers),
        "config": asdict(config) if config is not None else {},
    }
    return atomic_write(path, lambda tmp: torch.save(state, tmp))


def load_checkpoint(path: str | os.PathLike) -> tuple[VAE, dict]:
    """Load ``vae_checkpoint.pt`` with ``weights_only=True`` and rebuild the model.

    Parameters
    ----------
    path : path-like

    Returns
    -------
    (VAE, dict)
        The model in eval mode and the checkpoint's non-weight entries.

    Raises
    ------
    InputError
        Missing file, a checkpoint that needs pickled objects (refused), missing keys or wrong shapes.
    """
    path = Path(path)
    if not path.exists():
        raise InputError(f"VAE checkpoint not found: {path}")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # torch raises UnpicklingError/RuntimeError for unsafe or corrupt files
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise InputError(f"{path}: refused or unreadable checkpoint (only plain tensors and values are"
                         f" loaded, weights_only=True): {first}") from None
    if not isinstance(state, dict):
        raise InputError(f"{path}: a checkpoint must be a dict; got {type(state).__name__}")
    missing = [k for k in CHECKPOINT_KEYS if k not in state]
    if missing:
        raise InputError(f"{path}: checkpoint lacks {', '.join(missing)}")
    n_features = len(state["feature_ids"])
    model = VAE(n_features, int(state["hidden_dim"]), int(state["n_hidden_layers"]), int(state["latent_dim"]))
    try:
        model.encoder.load_state_dict(state["encoder"])
        model.decoder.load_state_dict(state["decoder"])
    except RuntimeError as exc:
        raise InputError(f"{path}: weights do not fit the stated shapes ({str(exc).splitlines()[0]})") from None
    meta = {k: v for k, v in state.items() if k not in ("encoder", "decoder")}
    return model.eval(), meta

"""Options of the VAE (:mod:`isograph.fit.vae`), kept free of torch so that command-line start-up stays fast."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["VAEConfig"]


@dataclass(frozen=True)
class VAEConfig:
    """VAE architecture and training options.

    Attributes
    ----------
    latent_dim : int, default 32
        Should exceed the number of modules you expect: each module needs its own latent direction.
    hidden_dim : int, default 128
        Width of the encoder's and decoder's hidden layers.
    n_hidden_layers : int, default 1
        Hidden layers of the encoder (and of the decoder).
    max_epochs : int, default 300
        Upper limit on training epochs (early stopping usually ends sooner).
    patience : int, default 30
        Stop after this many epochs without a better validation loss.
    batch_size : int, default 64
        Samples per training step.
    learning_rate : float, default 1e-3
        Adam learning rate.
    kl_weight : float, default 1.0
        Weight of the KL term after warm-up.
    kl_warmup_epochs : int, default 50
        The KL weight rises linearly from 0 over these epochs.
    validation_fraction : float, default 0.15
        Samples held out for early stopping, in (0, 0.5).
    grad_clip : float, default 5.0
        Gradient-norm clipping (0 = off); keeps training stable with many input features.
    seed : int, default 0
        Seeds the split, the initialisation and the batches.
    device : {"cpu", "cuda", "auto"}, default "cpu"
        Where to train ("auto": CUDA when available).
    """

    latent_dim: int = 32
    hidden_dim: int = 128
    n_hidden_layers: int = 1
    max_epochs: int = 300
    patience: int = 30
    batch_size: int = 64
    learning_rate: float = 1e-3
    kl_weight: float = 1.0
    kl_warmup_epochs: int = 50
    validation_fraction: float = 0.15
    grad_clip: float = 5.0
    seed: int = 0
    device: str = "cpu"

"""The sparse autoencoder recovers a planted sparse dictionary; constraints, metrics and checkpoints."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from isograph.errors import InputError
from isograph.sae.model import SAEConfig, checkpoint_dir, encode, load_sae, train_sae


def planted(n: int = 20000, d: int = 32, m: int = 64, active: int = 3, seed: int = 0):
    """x = codes @ atoms + noise with unit-norm atoms and ``active`` positive codes per row."""
    rng = np.random.default_rng(seed)
    atoms = rng.normal(size=(m, d))
    atoms /= np.linalg.norm(atoms, axis=1, keepdims=True)
    codes = np.zeros((n, m))
    rows = np.repeat(np.arange(n), active)
    cols = np.argsort(rng.random((n, m)), axis=1)[:, :active].ravel()
    codes[rows, cols] = rng.exponential(1.0, n * active) + 0.5
    return (codes @ atoms + 0.01 * rng.normal(size=(n, d))).astype(np.float32), atoms


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    x, atoms = planted()
    sae_dir = tmp_path_factory.mktemp("sae")
    result = train_sae(x, SAEConfig(expansion_factor=2, l1_coefficient=1.0, epochs=20, batch_size=256,
                                    learning_rate=3e-3), layer_idx=5, sae_dir=sae_dir)
    return result, x, atoms, sae_dir


def test_recovers_the_planted_atoms(trained):
    result, _, atoms, _ = trained
    decoder = result.model.W_dec.detach().numpy()  # (d, d_sae), unit columns
    recovery = (atoms @ decoder).max(axis=1).mean()
    print(f"mean max cosine similarity of the 64 planted atoms: {recovery:.3f}")
    assert recovery >= 0.9


def test_decoder_columns_stay_unit_norm_and_codes_are_sparse(trained):
    result, x, _, _ = trained
    norms = result.model.W_dec.detach().norm(dim=0).numpy()
    np.testing.assert_allclose(norms, 1.0, atol=1e-5)
    z = encode(result.model, x[:2000])
    assert (z >= 0).all() and (z > 0).sum(axis=1).mean() < 10  # 3 planted per row
    last = result.metrics[-1]
    assert set(last) >= {"epoch", "mse", "l0", "dead_fraction", "val_fvu"} and last["val_fvu"] < 0.2


def test_best_epoch_is_the_lowest_validation_fvu_after_warm_up(trained):
    result = trained[0]
    warm = [m for m in result.metrics if m["epoch"] >= 3]  # warm-up: 10% of 20 epochs
    assert result.best_epoch == min(warm, key=lambda m: m["val_fvu"])["epoch"]


def test_checkpoint_round_trip_with_weights_only(trained):
    result, x, _, sae_dir = trained
    folder = checkpoint_dir(sae_dir, 2, 5)
    assert result.path == folder and (folder / "sae.pt").exists()
    state = torch.load(folder / "sae.pt", weights_only=True)
    assert set(state) == {"b_pre", "W_enc", "b_enc", "W_dec", "scale"}
    model, config = load_sae(folder)
    assert config["layer_idx"] == 5 and config["d_sae"] == 64 and config["expansion_factor"] == 2
    np.testing.assert_allclose(encode(model, x[:100]), encode(result.model, x[:100]), atol=1e-6)
    metrics = json.loads((folder / "metrics.json").read_text())
    assert metrics["best_epoch"] == result.best_epoch and len(metrics["epochs"]) == 20


def test_topk_variant_keeps_k_latents():
    x, _ = planted(n=3000, seed=1)
    result = train_sae(x, SAEConfig(expansion_factor=2, top_k=4, epochs=3, batch_size=256))
    assert ((encode(result.model, x) > 0).sum(axis=1) <= 4).all()


def test_bad_inputs():
    with pytest.raises(InputError, match="NaN or infinite"):
        train_sae(np.full((50, 4), np.nan), SAEConfig(epochs=1))
    with pytest.raises(InputError, match="at least 20 rows"):
        train_sae(np.zeros((5, 4)), SAEConfig(epochs=1))
    with pytest.raises(InputError, match="not an SAE checkpoint"):
        load_sae("/nonexistent")

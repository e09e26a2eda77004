"""VAE training determinism and checkpoint safety (weights_only=True)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from isograph.errors import InputError
from isograph.fit.vae import VAEConfig, load_checkpoint, reconstruct, save_checkpoint, train_vae

SMALL = VAEConfig(latent_dim=2, hidden_dim=16, max_epochs=400, kl_warmup_epochs=20, patience=40, learning_rate=1e-2)


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    z = rng.normal(size=(80, 2))
    x = z @ rng.normal(size=(2, 12)) + 0.3 * rng.normal(size=(80, 12))
    return (x - x.mean(0)) / x.std(0)


def test_same_seed_same_model_and_learning_happens(data):
    a, hist = train_vae(data, SMALL)
    b, _ = train_vae(data, SMALL)
    for (k, va), vb in zip(a.state_dict().items(), b.state_dict().values()):
        assert torch.equal(va, vb), k
    assert hist.validation_loss[hist.best_epoch] < hist.validation_loss[0]
    r2 = [np.corrcoef(data[:, j], reconstruct(a, data)[:, j])[0, 1] ** 2 for j in range(12)]
    assert np.median(r2) > 0.6  # two latent factors explain most of each feature


def test_checkpoint_round_trip(data, tmp_path):
    model, _ = train_vae(data, SMALL)
    path = save_checkpoint(tmp_path / "vae_checkpoint.pt", model, feature_ids=[f"f{i}" for i in range(12)],
                           gene_ids=[f"g{i}" for i in range(12)], feature_types=["switch"] * 12, config=SMALL)
    loaded, meta = load_checkpoint(path)
    np.testing.assert_allclose(reconstruct(loaded, data), reconstruct(model, data), atol=1e-6)
    assert meta["feature_ids"][3] == "f3" and meta["latent_dim"] == 2 and meta["config"]["hidden_dim"] == 16
    raw = torch.load(path, weights_only=True)  # plain tensors and values only
    assert set(raw) >= {"encoder", "decoder", "feature_ids", "gene_ids", "feature_types", "latent_dim",
                        "hidden_dim", "n_hidden_layers"}


class Payload:
    """Any class: unpickling it needs code execution, which weights_only=True refuses."""

    def __reduce__(self):
        return (print, ("this must never run",))


def test_checkpoint_with_pickled_object_is_refused(tmp_path):
    path = tmp_path / "evil.pt"
    torch.save({"encoder": {}, "decoder": {}, "payload": Payload()}, path)
    with pytest.raises(InputError, match="refused or unreadable checkpoint .*weights_only=True"):
        load_checkpoint(path)


def test_checkpoint_with_wrong_shapes(data, tmp_path):
    model, _ = train_vae(data, SMALL)
    path = save_checkpoint(tmp_path / "v.pt", model, feature_ids=["f"] * 5, gene_ids=["g"] * 5,
                           feature_types=["switch"] * 5)
    with pytest.raises(InputError, match="weights do not fit the stated shapes"):
        load_checkpoint(path)


def test_fewer_samples_than_latent_dims(data):
    with pytest.raises(InputError, match="only 8 samples for 32 latent dimensions"):
        train_vae(data[:8], VAEConfig())


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the message shown where there is no GPU")
def test_cuda_without_gpu_is_a_clear_error(data):
    with pytest.raises(InputError, match="device 'cuda' was asked for but no CUDA GPU is available; use --device cpu"):
        train_vae(data, VAEConfig(latent_dim=2, device="cuda"))
    _, history = train_vae(data, VAEConfig(latent_dim=2, max_epochs=3, device="auto"))
    assert history.device == "cpu"

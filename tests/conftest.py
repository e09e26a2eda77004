"""Shared fixtures: simulated data sets and the demo, built once per test run; tests copy what they change.

Markers are set here from the fixtures a test uses, so that ``pytest -m "not slow and not browser"`` is a
quick loop: ``browser`` for tests that drive headless Chromium (``dash_duo``), ``slow`` for tests that need
the demo or a fitted data set.
"""

from __future__ import annotations

import os

# Two pytest-xdist workers share CI's 2 cores. With every BLAS, OpenMP and torch pool as wide as the machine,
# the two workers' threads spin against each other: two demo builds side by side took 210 s each with 2
# threads per process against 80 s with 1. Set before numpy and torch are loaded here and in every
# subprocess a test starts (the CLI, the app's job processes, Celery, gunicorn); pytest_configure limits
# whatever pools a plugin loaded earlier.
for _variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_variable, "1")

import functools  # noqa: E402
import shutil  # noqa: E402
from pathlib import Path  # noqa: E402

import pytest  # noqa: E402

from isograph.simulate import SimulationConfig, SimulationResult, simulate, write_simulation  # noqa: E402

STANDARD = SimulationConfig()  # 200 samples, 6 modules, real gene models, half of module genes switching
SMALL = SimulationConfig(n_samples=40, n_modules=2, seed=11)


@functools.cache
def _simulated(config: SimulationConfig) -> SimulationResult:
    return simulate(config)


@pytest.fixture(scope="session")
def _written(tmp_path_factory) -> dict:
    root = tmp_path_factory.mktemp("sim")
    out = {}
    for name, config in (("standard", STANDARD), ("small", SMALL)):
        write_simulation(_simulated(config), root / name, feature_layout="parquet")  # the manual's input layout
        out[name] = root / name
    return out


def _copy(src: Path, dst: Path) -> Path:
    shutil.copytree(src, dst)
    return dst


def pytest_configure(config):
    """One thread per pool in this process (see the top of this file)."""
    import torch
    from threadpoolctl import threadpool_limits

    threadpool_limits(limits=int(os.environ["OMP_NUM_THREADS"]))
    torch.set_num_threads(int(os.environ["OMP_NUM_THREADS"]))


SLOW_FIXTURES = {"demo_root", "_fitted", "fitted_dir"}


#: Test files on the demo that form the second demo group: the demo's tests are two groups of about equal time
#: (each worker builds the demo once, 50-60 s) instead of one that kept one worker busy about 200 s after the
#: other had finished.
SECOND_DEMO_GROUP = {"test_app_browser.py", "test_production.py", "test_module_biology_browser.py",
                     "test_samples_browser.py"}


@pytest.hookimpl(tryfirst=True)  # before xdist's own hook reads the groups
def pytest_collection_modifyitems(items):
    """Markers from the fixtures a test uses; and, for pytest-xdist's ``--dist loadgroup`` (pyproject's
    addopts), groups per expensive session fixture, so that each is built once per worker that needs it
    (``--loadscope-reorder``, xdist's default, hands the two demo groups to the two workers first)."""
    for item in items:
        names = set(getattr(item, "fixturenames", ()))
        if "dash_duo" in names:
            item.add_marker(pytest.mark.browser)
        if names & SLOW_FIXTURES or "dash_duo" in names:
            item.add_marker(pytest.mark.slow)
        if "umap" in item.name:  # one worker: umap-learn's numba code compiles once (~20 s), and the app's
            item.add_marker(pytest.mark.xdist_group("demo-2"))  # job processes fork from a process that has it
        elif "demo_root" in names or "dash_duo" in names:
            second = Path(str(item.fspath)).name in SECOND_DEMO_GROUP
            item.add_marker(pytest.mark.xdist_group("demo-2" if second else "demo"))
        elif names & {"_fitted", "fitted_dir"}:
            item.add_marker(pytest.mark.xdist_group("fitted"))


@pytest.fixture(scope="session")
def demo_root(tmp_path_factory) -> Path:
    """A data root holding the demo data set, built once per test run (tests that change it take a copy)."""
    from isograph.demo import build_demo

    root = tmp_path_factory.mktemp("data_root")
    build_demo(root / "demo")
    return root


@pytest.fixture(scope="session")
def standard_sim() -> SimulationResult:
    """The standard simulated set (frames are shared: do not modify them in place)."""
    return _simulated(STANDARD)


@pytest.fixture
def standard_dir(_written, tmp_path) -> Path:
    """A private copy of the standard simulated set on disk."""
    return _copy(_written["standard"], tmp_path / "standard")


@pytest.fixture(scope="session")
def small_sim() -> SimulationResult:
    return _simulated(SMALL)


@pytest.fixture
def small_dir(_written, tmp_path) -> Path:
    """A private copy of the small simulated set (40 samples, 2 modules) on disk."""
    return _copy(_written["small"], tmp_path / "small")


@pytest.fixture(scope="session")
def _fitted(_written, tmp_path_factory) -> Path:
    """The standard set fitted once (fit/ with vae_checkpoint.pt) next to its simulated files."""
    from isograph.fit.importers import match_annotation
    from isograph.fit.pipeline import FitConfig, run_fit

    root = tmp_path_factory.mktemp("fitted") / "standard"
    shutil.copytree(_written["standard"], root)
    sim = _simulated(STANDARD)
    run_fit(match_annotation(sim.counts.astype(float), sim.tx2gene), FitConfig(), output_dir=root / "fit")
    return root


@pytest.fixture
def fitted_dir(_fitted, tmp_path) -> Path:
    """A private copy of the fitted standard set (simulation files + fit/)."""
    return _copy(_fitted, tmp_path / "fitted")


def _files_of(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder`` (relative path -> bytes), the writers' lock file aside."""
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*")
            if p.is_file() and p.name != ".isograph.lock"}


@pytest.fixture
def snapshot():
    """``snapshot(folder)``: every file's bytes, to assert that a refused input left earlier outputs untouched."""
    return _files_of


@pytest.fixture(scope="session")
def tiny_intervention(tmp_path_factory) -> dict:
    """A tiny masked LM (hidden 16, 2 layers), an SAE on its layer 2 and a FASTA of 4 sequences (absolute paths)."""
    import numpy as np

    from isograph.sae.lm import make_esm_lm
    from isograph.sae.model import SAEConfig, train_sae

    root = tmp_path_factory.mktemp("tiny_intervention")
    make_esm_lm(root / "lm", hidden_size=16, n_layers=2, n_heads=2, max_tokens=64)
    rng = np.random.default_rng(0)
    train_sae(rng.standard_normal((512, 16)).astype(np.float32), SAEConfig(expansion_factor=8, epochs=2),
              layer_idx=2, sae_dir=root / "checkpoints")
    with open(root / "seqs.fa", "w") as handle:
        for i in range(4):
            handle.write(f">s{i}\n" + "".join(rng.choice(list("ACGT"), 90)) + "\n")
    return {"model": root / "lm", "sae": root / "checkpoints" / "ef8" / "layer_2", "fasta": root / "seqs.fa"}

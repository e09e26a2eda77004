"""Conventions of the ``isograph`` package (as scanpy's tests/test_package_structure.py): documented, typed,
one import name, installable, and free of the web stack.

Every public function of ``isograph`` has a docstring; those that take parameters document them in a
``Parameters`` section (numpydoc) unless the summary points at the function that holds them, and every
public callable has return/parameter type hints.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

import isograph

ROOT = Path(__file__).resolve().parent.parent
MODULES = [importlib.import_module(m.name) for m in pkgutil.walk_packages(isograph.__path__, prefix="isograph.")]
#: The science packages: usable from a notebook with no web stack (dash) and no plotting stack (plotly).
SCIENCE = ("isograph.explain", "isograph.fit", "isograph.structure", "isograph.sae", "isograph.dataset",
           "isograph.errors", "isograph.simulate", "isograph.demo", "isograph.reference")


def _public_functions():
    for module in MODULES:
        for name in getattr(module, "__all__", []):
            obj = getattr(module, name)
            if inspect.isfunction(obj) and obj.__module__ == module.__name__:
                yield f"{module.__name__}.{name}", obj


@pytest.mark.parametrize(("name", "func"), list(_public_functions()), ids=lambda v: v if isinstance(v, str) else "")
def test_public_function_is_documented_and_typed(name, func):
    doc = inspect.getdoc(func) or ""
    assert doc, f"{name} has no docstring"
    params = [p for p in inspect.signature(func).parameters.values() if p.name not in ("self", "cls")]
    if len(params) > 1 or (params and params[0].default is not inspect.Parameter.empty):
        assert "Parameters" in doc, f"{name}: no Parameters section"
    hints = func.__annotations__
    assert "return" in hints, f"{name}: no return type hint"
    assert all(p.name in hints for p in params), f"{name}: parameters without type hints"


def test_statistics_have_scipy_style_sections():
    from isograph.explain import stats

    for func in (stats.pearson_rows, stats.welch_ttest_rows):
        doc = inspect.getdoc(func)
        positions = [doc.index(section) for section in ("Parameters", "Returns", "Notes", "References", "Examples")]
        assert positions == sorted(positions)


def test_the_manuals_api_imports():
    from isograph.explain import ExplainConfig, ExplainResult, explain_module

    assert explain_module.__module__ == "isograph.explain.run"
    assert ExplainConfig.__module__ == ExplainResult.__module__ == "isograph.explain.contracts"


@pytest.mark.parametrize("package", ["isograph.explain", "isograph.fit", "isograph.structure", "isograph.sae"])
def test_each_domain_has_a_curated_facade(package):
    """``from isograph.<domain> import ...`` works for what its ``__all__`` names; nothing is defined twice."""
    module = importlib.import_module(package)
    assert module.__all__
    for name in module.__all__:
        obj = getattr(module, name)
        if inspect.isclass(obj) or inspect.isfunction(obj):
            home = importlib.import_module(obj.__module__)
            assert obj.__module__.startswith(package) and getattr(home, name) is obj


def test_science_does_not_import_the_web_or_plotting_stack():
    names = ", ".join(m.__name__ for m in MODULES if m.__name__.startswith(SCIENCE))
    code = f"import sys, {names}; print(sorted(m for m in ('dash', 'plotly', 'kaleido') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_nothing_in_isograph_imports_dash_or_the_app():
    names = ", ".join(m.__name__ for m in MODULES)
    code = f"import sys, {names}; print(sorted(m for m in ('dash', 'components', 'pages', 'app') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd="/")
    assert out.stdout.strip() == "[]"


def test_one_module_object_per_class_from_any_directory(tmp_path):
    """An InputError raised deep inside is the class the CLI and the app catch, whatever the working folder."""
    code = ("import isograph.errors as e, isograph.dataset.io as io\n"
            "try:\n    io.table_format('x.bad')\nexcept e.InputError as exc:\n    print('caught', type(exc).__module__)\n")
    for cwd in (ROOT, tmp_path, Path("/")):
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=cwd)
        assert out.stdout.strip() == "caught isograph.errors", cwd


def test_the_compute_folder_cannot_be_imported_under_its_own_name():
    out = subprocess.run([sys.executable, "-c", "import compute"], capture_output=True, text=True, cwd=ROOT)
    assert out.returncode == 1 and "this package is `isograph`" in out.stderr


def test_every_subpackage_is_installed():
    """pyproject lists the packages by hand (package-dir maps compute/ to isograph): none may be forgotten."""
    listed = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    found = {"isograph"} | {m.name for m in pkgutil.walk_packages(isograph.__path__, prefix="isograph.") if m.ispkg}
    assert found | {"isograph.reference"} == listed  # reference is mapped from data/reference, outside compute/
    for name in listed:
        importlib.import_module(name)


def test_reference_data_are_found_through_the_package():
    from isograph.reference import reference_path

    assert reference_path("isar_example", "example.gtf.gz").stat().st_size > 100_000
    with pytest.raises(FileNotFoundError, match="not_shipped.txt"):
        reference_path("not_shipped.txt")

"""Conventions of the public API (as scanpy's tests/test_package_structure.py): documented, typed.

Every public function of ``compute`` has a docstring; those that take parameters document them in a
``Parameters`` section (numpydoc) unless the summary points at the function that holds them, and every
public callable has return/parameter type hints. ``compute`` never imports the web stack.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import subprocess
import sys

import pytest

import compute

MODULES = [importlib.import_module(m.name) for m in pkgutil.walk_packages(compute.__path__, prefix="compute.")]


def _public_functions():
    for module in MODULES:
        for name in getattr(module, "__all__", []):
            obj = getattr(module, name)
            if inspect.isfunction(obj):
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
    from compute import stats

    for func in (stats.pearson_rows, stats.welch_ttest_rows):
        doc = inspect.getdoc(func)
        positions = [doc.index(section) for section in ("Parameters", "Returns", "Notes", "References", "Examples")]
        assert positions == sorted(positions)


def test_compute_does_not_import_the_web_stack():
    names = ", ".join(module.__name__ for module in MODULES)
    code = f"import sys, {names}; print(sorted(m for m in ('dash', 'plotly') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"

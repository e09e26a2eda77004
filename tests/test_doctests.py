"""The examples in the docstrings of the ``isograph`` package run and print what they say.

They are collected here rather than with ``--doctest-modules``, which would import the ``compute/`` folder
under its own name next to the installed ``isograph`` package.
"""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import isograph

MODULES = sorted(m.name for m in pkgutil.walk_packages(isograph.__path__, prefix="isograph."))


def _with_examples() -> list[str]:
    finder = doctest.DocTestFinder()
    return [name for name in MODULES if any(t.examples for t in finder.find(importlib.import_module(name)))]


@pytest.mark.parametrize("name", _with_examples())
def test_docstring_examples(name):
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE, verbose=False)
    assert result.failed == 0, f"{result.failed} of {result.attempted} examples failed in {name} (run pytest -s to see)"

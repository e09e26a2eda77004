"""requirements.txt lists every third-party package the product imports (at module level or inside a
function), so that a fresh environment made from it alone runs the app, the CLI and the demo.

This holds on a machine where the packages happen to be installed by hand: it reads the imports from the
source and the names from requirements.txt. The dependencies of dash's own extras (psutil and multiprocess
for ``DiskcacheManager``) are checked by .ci/run, which starts the app in a brand-new environment.
"""

from __future__ import annotations

import ast
import re
import sys
from importlib.metadata import packages_distributions
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PRODUCT = ["app.py", "celery_worker.py", "wsgi.py", "compute", "components", "pages", "data/reference"]
FIRST_PARTY = {"isograph", "components", "pages", "app"}
#: Imported only in production mode (gunicorn, Celery + Redis) or by batch commands: pinned in requirements-serve.txt.
OPTIONAL = {"celery", "gunicorn", "redis", "tqdm"}


def _requirement_names(path: Path) -> set[str]:
    names = set()
    for line in path.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line and not line.startswith("-"):
            names.add(re.split(r"[\[<>=!~; ]", line, maxsplit=1)[0].lower().replace("_", "-"))
    return names


def _product_imports() -> dict[str, str]:
    """Top-level module -> the first file that imports it."""
    found: dict[str, str] = {}
    files = [p for entry in PRODUCT for p in ((ROOT / entry).rglob("*.py") if (ROOT / entry).is_dir() else [ROOT / entry])]
    for path in files:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                found.setdefault(name.split(".")[0], str(path.relative_to(ROOT)))
    return {m: f for m, f in found.items() if m not in sys.stdlib_module_names and m not in FIRST_PARTY}


def test_every_product_import_is_a_pinned_requirement():
    required = _requirement_names(ROOT / "requirements.txt")
    dists = packages_distributions()
    missing = []
    serve = _requirement_names(ROOT / "requirements-serve.txt")
    for module, where in sorted(_product_imports().items()):
        if module in OPTIONAL:
            if module not in serve:
                missing.append(f"{module} (imported by {where}) is not pinned in requirements-serve.txt")
            continue
        candidates = {d.lower().replace("_", "-") for d in dists.get(module, [module])}
        if not candidates & required:
            missing.append(f"{module} (imported by {where}; distribution {', '.join(sorted(candidates))})")
    assert not missing, "not in requirements.txt: " + "; ".join(missing)


def test_requirements_are_pinned():
    for name in ("requirements.txt", "requirements-serve.txt", "requirements-test.txt"):
        for line in (ROOT / name).read_text().splitlines():
            line = line.split("#", 1)[0].strip()
            if line and not line.startswith("-"):
                assert "==" in line, f"{name}: {line!r} is not pinned (use ==)"


def test_dash_extras_for_background_jobs_are_listed():
    """dash[diskcache] needs diskcache, psutil and multiprocess at run time (dash imports them lazily)."""
    assert {"diskcache", "psutil", "multiprocess"} <= _requirement_names(ROOT / "requirements.txt")

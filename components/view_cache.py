"""Views built once per data-set version and served from a cache that every server process shares.

A page's layout (its figures and tables) depends only on the page, its URL parameters and the data set's
files, so :func:`cached_view` keys it by those and by :meth:`~isograph.dataset.datasets.Dataset.version`
(which changes whenever a writer commits a new explain, structure or SAE output, or a file the views read
is rewritten) and stores the rendered JSON. Repeated views cost one cache read; a new version is a new key,
so nothing stale is ever shown and nothing needs to be invalidated. The key also holds the code's identity
(the package version and every source file's size and mtime), so an upgraded server builds its views anew.

The cache is :func:`components.shared_store.shared_store` "views": diskcache in the app's cache folder
(``{cache_dir}/views``), shared by the processes of one machine, or Redis when one is configured, shared by
every machine. A stored view whose tables (:mod:`components.data_grid`, which fetch their rows from the
table store) are no longer all stored is built again. Pages that show an error (an alert) are not cached.
The setting ``view_cache: False`` (``python app.py --no-view-cache``) builds every view afresh.
"""

from __future__ import annotations

import functools
import hashlib
import inspect
import json
import re
from collections.abc import Callable
from pathlib import Path

import plotly.io.json as pio_json

from components.shared_store import shared_store

__all__ = ["cached_view", "view_cache"]

_ERROR_MARK = '"page-error"'  # the id of components.layout.alert's message
_TABLE_TOKEN = re.compile(r'"grid_token":\s*"([0-9a-f]{32})"')  # components.data_grid's stored tables


@functools.lru_cache(maxsize=1)
def _code_version() -> str:
    """The package version and the stamps of the app's and the package's Python files, hashed (once per process)."""
    import isograph

    app_dir = Path(__file__).resolve().parent.parent
    files = sorted({*app_dir.glob("*.py"), *app_dir.glob("pages/*.py"), *app_dir.glob("components/*.py"),
                    *Path(isograph.__file__).resolve().parent.rglob("*.py")})
    stamps = [(str(f), f.stat().st_size, f.stat().st_mtime_ns) for f in files]
    return hashlib.sha256(repr((isograph.__version__, stamps)).encode()).hexdigest()[:16]


def view_cache(settings: dict) -> object:
    """The view cache of these app settings (:func:`components.shared_store.shared_store` "views").

    Parameters
    ----------
    settings : dict
        The app settings.

    Returns
    -------
    object
        ``get(key) -> bytes | None``, ``set(key, bytes)``, ``has(key)``.
    """
    return shared_store(settings, "views", prefix="view")


def cached_view(layout: Callable[..., object]) -> Callable[..., object]:
    """Decorate a page's ``layout(**url_parameters)`` (after :func:`components.layout.page_errors`): build it
    once per page, parameters and data-set version, then serve the stored JSON.

    The data set is the one the ``dataset`` parameter names (the first under the data root when none); when
    it cannot be opened the layout is built as usual (and shows the error).
    """
    page = f"{layout.__module__}.{layout.__qualname__}"

    signature = inspect.signature(layout)

    @functools.wraps(layout)
    def cached(*args, **kwargs):
        if args:  # called as a function with positional parameters (tests, other pages)
            kwargs = {**signature.bind_partial(*args).arguments, **kwargs}
        from components.layout import current_dataset, settings
        from isograph.errors import InputError

        app_settings = settings()
        if not app_settings.get("view_cache", True):
            return layout(**kwargs)
        try:
            ds = current_dataset(kwargs.get("dataset"))
            version = ds.version()
        except InputError:
            return layout(**kwargs)
        params = json.dumps(sorted((str(k), str(v)) for k, v in kwargs.items()))
        key = hashlib.sha256(f"{page}\0{_code_version()}\0{ds.root}\0{ds.name}\0{version}\0{params}".encode()).hexdigest()
        cache = view_cache(app_settings)
        hit = cache.get(key)
        if hit is not None and _tables_kept(hit.decode(), app_settings):
            return json.loads(hit)
        view = layout(**kwargs)
        text = pio_json.to_json_plotly(view)
        if _ERROR_MARK not in text:
            cache.set(key, text.encode())
        return view

    return cached


def _tables_kept(text: str, settings: dict) -> bool:
    """Whether every table a stored view's grids fetch their rows from is still stored (else rebuild the view)."""
    from components.data_grid import table_store

    store = table_store(settings)
    return all(store.has(token) for token in set(_TABLE_TOKEN.findall(text)))

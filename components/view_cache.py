"""Views built once per data-set version and served from a cache that every server process shares.

A page's layout (its figures and tables) depends only on the page, its URL parameters and the data set's
files, so :func:`cached_view` keys it by those and by :meth:`~isograph.dataset.datasets.Dataset.version`
(which changes whenever a writer commits a new explain, structure or SAE output, or a file the views read
is rewritten) and stores the rendered JSON. Repeated views cost one cache read; a new version is a new key,
so nothing stale is ever shown and nothing needs to be invalidated. The key also holds the code's identity
(the package version and every source file's size and mtime), so an upgraded server builds its views anew.

The cache is diskcache in the app's cache folder (``{cache_dir}/views``, least-recently-used eviction at
:data:`DISKCACHE_BYTES`), shared by the processes of one machine; with Redis configured (``redis_url`` in
the settings, or ``REDIS_URL``) it is Redis, shared by every machine, each entry expiring after
:data:`REDIS_SECONDS`. Pages that show an error (an alert) are not cached. The setting ``view_cache: False``
(``python app.py --no-view-cache``) builds every view afresh, as before.
"""

from __future__ import annotations

import functools
import hashlib
import inspect
import json
from collections.abc import Callable
from pathlib import Path

import plotly.io.json as pio_json

__all__ = ["DISKCACHE_BYTES", "REDIS_SECONDS", "cached_view", "view_cache"]

#: Size limit of the local view cache (bytes); least recently used views are evicted first.
DISKCACHE_BYTES = 2 * 2**30
#: How long a view stays in Redis (seconds) after it was last built.
REDIS_SECONDS = 7 * 24 * 3600
_ERROR_MARK = '"page-error"'  # the id of components.layout.alert's message


class _RedisViews:
    """get/set over Redis with a key prefix and an expiry."""

    def __init__(self, url: str) -> None:
        import redis

        self._client = redis.Redis.from_url(url)

    def get(self, key: str) -> bytes | None:
        return self._client.get(f"isograph:view:{key}")

    def set(self, key: str, value: bytes) -> None:
        self._client.set(f"isograph:view:{key}", value, ex=REDIS_SECONDS)


@functools.lru_cache(maxsize=1)
def _code_version() -> str:
    """The package version and the stamps of the app's and the package's Python files, hashed (once per process)."""
    import isograph

    app_dir = Path(__file__).resolve().parent.parent
    files = sorted({*app_dir.glob("*.py"), *app_dir.glob("pages/*.py"), *app_dir.glob("components/*.py"),
                    *Path(isograph.__file__).resolve().parent.rglob("*.py")})
    stamps = [(str(f), f.stat().st_size, f.stat().st_mtime_ns) for f in files]
    return hashlib.sha256(repr((isograph.__version__, stamps)).encode()).hexdigest()[:16]


@functools.lru_cache(maxsize=8)
def _backend(redis_url: str | None, folder: str) -> object:
    if redis_url:
        return _RedisViews(redis_url)
    import diskcache

    return diskcache.Cache(folder, size_limit=DISKCACHE_BYTES, eviction_policy="least-recently-used")


def view_cache(settings: dict) -> object:
    """The view cache of these app settings: an object with ``get(key) -> bytes | None`` and ``set(key, bytes)``.

    Parameters
    ----------
    settings : dict
        Redis as :func:`components.background.redis_url` finds it, else ``cache_dir``.

    Returns
    -------
    diskcache.Cache or a Redis wrapper
    """
    from components.background import default_cache_dir, redis_url

    return _backend(redis_url(settings), str(Path(settings.get("cache_dir") or default_cache_dir()) / "views"))


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
        if hit is not None:
            return json.loads(hit)
        view = layout(**kwargs)
        text = pio_json.to_json_plotly(view)
        if _ERROR_MARK not in text:
            cache.set(key, text.encode())
        return view

    return cached

"""Byte stores that every server process shares: diskcache on one machine, Redis across machines.

The view cache (:mod:`components.view_cache`) and the table store (:mod:`components.data_grid`) keep what
they build here, each under its own name: diskcache in ``{cache_dir}/{name}`` (least-recently-used eviction
at :data:`DISKCACHE_BYTES`), shared by the processes of one machine; or, with Redis configured (``redis_url``
in the settings, or ``REDIS_URL``), Redis keys ``isograph:{prefix}:{key}`` that expire :data:`REDIS_SECONDS`
after they were last written.
"""

from __future__ import annotations

import functools
from pathlib import Path

__all__ = ["DISKCACHE_BYTES", "REDIS_SECONDS", "shared_store"]

#: Size limit of each local store (bytes); least recently used entries are evicted first.
DISKCACHE_BYTES = 2 * 2**30
#: How long an entry stays in Redis (seconds) after it was last written.
REDIS_SECONDS = 7 * 24 * 3600


class _RedisStore:
    """get/set/has over Redis with a key prefix and an expiry."""

    def __init__(self, url: str, prefix: str) -> None:
        import redis

        self._client = redis.Redis.from_url(url)
        self._prefix = f"isograph:{prefix}:"

    def get(self, key: str) -> bytes | None:
        return self._client.get(self._prefix + key)

    def set(self, key: str, value: bytes) -> None:
        self._client.set(self._prefix + key, value, ex=REDIS_SECONDS)

    def has(self, key: str) -> bool:
        return bool(self._client.exists(self._prefix + key))


class _DiskStore:
    """get/set/has over a diskcache folder."""

    def __init__(self, folder: str) -> None:
        import diskcache

        self._cache = diskcache.Cache(folder, size_limit=DISKCACHE_BYTES, eviction_policy="least-recently-used")

    def get(self, key: str) -> bytes | None:
        return self._cache.get(key)

    def set(self, key: str, value: bytes) -> None:
        self._cache.set(key, value)

    def has(self, key: str) -> bool:
        return key in self._cache


@functools.lru_cache(maxsize=16)
def _backend(redis_url: str | None, folder: str, prefix: str) -> _RedisStore | _DiskStore:
    return _RedisStore(redis_url, prefix) if redis_url else _DiskStore(folder)


def shared_store(settings: dict, name: str, *, prefix: str | None = None) -> _RedisStore | _DiskStore:
    """The store ``name`` of these app settings: ``get(key) -> bytes | None``, ``set(key, bytes)``, ``has(key)``.

    Parameters
    ----------
    settings : dict
        Redis as :func:`components.background.redis_url` finds it, else ``cache_dir``.
    name : str
        The local folder's name under ``cache_dir`` ("views", "tables").
    prefix : str, optional
        The Redis key prefix after ``isograph:`` (default ``name``).

    Returns
    -------
    object
        One object per (Redis URL or folder, prefix) in this process.
    """
    from components.background import default_cache_dir, redis_url

    folder = str(Path(settings.get("cache_dir") or default_cache_dir()) / name)
    return _backend(redis_url(settings), folder, prefix or name)

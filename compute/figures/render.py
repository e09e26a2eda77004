"""Figure rendering: PDF/PNG/SVG through kaleido and Debian's chromium, one warm exporter per process.

The exporter is one headless Chromium (``kaleido.Kaleido``) driven by an asyncio loop in a daemon thread, so
after the first figure (about 2 s) each export takes a fraction of a second. Every request gets its own
future (``asyncio.run_coroutine_threadsafe``): an answer can only ever reach the request that asked for it,
whatever other thread exports at the same time or gives up. A render that does not finish in
:data:`EXPORT_TIMEOUT_S` is cancelled, the exporter and its Chromium are closed, and the render is retried
once on a fresh one (a watchdog). MathJax is off: nothing is fetched from the network. Where no
Chrome/Chromium is installed the exporter says so; HTML export needs no browser. The web app shares this
process's warm exporter with its background jobs through ``components.export_service``.
"""

from __future__ import annotations

import asyncio
import atexit
import concurrent.futures
import os
import shutil
import threading
from collections.abc import Sequence
from pathlib import Path

import plotly.graph_objects as go

from isograph.errors import InputError

__all__ = ["EXPORT_FORMATS", "check_formats", "chrome_path", "figure_bytes", "reset_exporter", "write_figure"]

EXPORT_FORMATS = ("pdf", "png", "svg", "html")
_CHROME_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome")
_lock = threading.Lock()  # guards _exporter
_render_lock = threading.Lock()  # one render at a time, so a render's time is its own (the watchdog)
_exporter: _Exporter | None = None
#: Seconds an export may take before the exporter is declared stuck and restarted (once).
EXPORT_TIMEOUT_S = 60.0
#: Seconds Chromium may take to open.
STARTUP_TIMEOUT_S = 60.0
#: Seconds a closing exporter gets to stop its Chromium before it is left to the watchdog thread.
CLOSE_TIMEOUT_S = 10.0


def chrome_path() -> str | None:
    """The Chrome/Chromium kaleido will use (``BROWSER_PATH`` first), or None."""
    explicit = os.environ.get("BROWSER_PATH")
    if explicit and Path(explicit).exists():
        return explicit
    for name in _CHROME_NAMES:
        found = shutil.which(name)
        if found:
            return found
    return None


class _Exporter:
    """One headless Chromium (``kaleido.Kaleido``, one tab, no MathJax) served by an event loop in a thread.

    Raises ``TimeoutError`` when Chromium does not open within :data:`STARTUP_TIMEOUT_S` (it is closed when
    it does open later).
    """

    def __init__(self):
        self._loop = asyncio.new_event_loop()
        self._kaleido = None
        opened: concurrent.futures.Future = concurrent.futures.Future()
        self._thread = threading.Thread(target=self._serve, args=(opened,), name="isograph-exporter", daemon=True)
        self._thread.start()
        try:
            self._kaleido = opened.result(timeout=STARTUP_TIMEOUT_S)
        except concurrent.futures.TimeoutError:
            if opened.cancel():  # the thread closes Chromium if it still opens
                raise
            self._kaleido = opened.result()  # it opened just now
        self.pid = self._kaleido.subprocess.pid  # Chromium's launcher process (tests check that it is closed)

    def _serve(self, opened: concurrent.futures.Future) -> None:
        import kaleido

        asyncio.set_event_loop(self._loop)
        try:
            browser = kaleido.Kaleido(n=1, timeout=None, mathjax=False)
            self._loop.run_until_complete(browser.open())
        except BaseException as exc:  # noqa: BLE001 - the caller's thread raises it
            if not opened.cancelled():
                opened.set_exception(exc)
            self._loop.close()
            return
        try:
            opened.set_result(browser)
        except concurrent.futures.InvalidStateError:  # the caller stopped waiting
            self._loop.run_until_complete(browser.close())
            self._loop.close()
            return
        self._loop.run_forever()
        self._loop.close()

    def render(self, spec: dict, options: dict, timeout: float) -> bytes:
        """The figure ``spec`` (a plotly figure dict) as bytes; ``TimeoutError`` after ``timeout`` seconds (the
        render is then cancelled)."""
        future = asyncio.run_coroutine_threadsafe(self._kaleido.calc_fig(spec, opts=options), self._loop)
        try:
            return future.result(timeout=timeout)
        except concurrent.futures.TimeoutError:
            future.cancel()
            raise

    def close(self) -> None:
        """Close Chromium and stop the loop; a Chromium that does not close in time is left to its thread."""
        if self._loop.is_closed():
            return
        try:
            asyncio.run_coroutine_threadsafe(self._kaleido.close(), self._loop).result(timeout=CLOSE_TIMEOUT_S)
        except Exception:  # noqa: BLE001 - a wedged Chromium: choreographer's own kill is all that is left
            pass
        if not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._loop.stop)


def _forget_parent_exporter() -> None:
    """In a forked child the parent's exporter thread does not exist: start afresh when needed.

    The child gets new locks (a parent thread may have held one at the fork) and no exporter; the parent's
    Chromium stays the parent's.
    """
    global _lock, _render_lock, _exporter
    _lock, _render_lock, _exporter = threading.Lock(), threading.Lock(), None


os.register_at_fork(after_in_child=_forget_parent_exporter)


def reset_exporter() -> None:
    """Close the warm exporter (and its Chromium), so that the next export starts a new one."""
    global _exporter
    with _lock:
        old, _exporter = _exporter, None
    if old is not None:
        old.close()


atexit.register(reset_exporter)


def _warm() -> _Exporter:
    global _exporter
    with _lock:
        if _exporter is None:
            _exporter = _Exporter()
        return _exporter


def check_formats(formats: Sequence[str], *, option: str | None = None) -> None:
    """Refuse a figure format that is not one of :data:`EXPORT_FORMATS`, before any work is done.

    Parameters
    ----------
    formats : sequence of str
        Formats asked for (``pdf``, ``png``, ``svg``, ``html``).
    option : str, optional
        The command-line option they came from (e.g. ``"--output-format"``), named in the message.

    Raises
    ------
    InputError
        ``unknown figure format 'gif'; use one of ...``, or with ``option``, ``--output-format gif: unknown;
        use one of ...``.
    """
    for fmt in formats:
        if fmt not in EXPORT_FORMATS:
            what = f"{option} {fmt}: unknown" if option else f"unknown figure format {fmt!r}"
            raise InputError(f"{what}; use one of {', '.join(EXPORT_FORMATS)}")


def figure_bytes(fig: go.Figure, fmt: str, *, width: int = 1000, height: int | None = None, scale: float = 2.0) -> bytes:
    """One figure as PDF, PNG, SVG or standalone HTML bytes.

    Parameters
    ----------
    fig : Figure
    fmt : {"pdf", "png", "svg", "html"}
    width, height : int
        Pixels (height defaults to the figure's own).
    scale : float, default 2.0
        Raster scale for PNG (pixels per CSS pixel); PDF and SVG pages are always ``width`` x ``height`` CSS
        pixels (96 per inch).

    Returns
    -------
    bytes

    Raises
    ------
    InputError
        Unknown format, or a format that needs Chrome where none is installed (HTML always works).
    """
    check_formats([fmt])
    if fmt == "html":
        return fig.to_html(include_plotlyjs=True, full_html=True).encode()  # self-contained, works offline
    if chrome_path() is None:
        raise InputError(f"{fmt.upper()} export needs Chrome or Chromium (Debian: apt-get install chromium), or"
                         " set BROWSER_PATH; HTML export works without it")
    # the scale is a raster's: the exporter would multiply a PDF's or SVG's page size by it too
    options = {"format": fmt, "width": width, "height": height or fig.layout.height or 500,
               "scale": scale if fmt == "png" else 1.0}
    spec = fig.to_dict()
    for _attempt in range(2):
        with _render_lock:
            try:
                data = _warm().render(spec, options, EXPORT_TIMEOUT_S)
            except concurrent.futures.TimeoutError:
                reset_exporter()  # its Chromium stopped answering: closed, and the next attempt starts a fresh one
                continue
            except Exception as exc:  # noqa: BLE001 - kaleido's and Chromium's errors, said in one line
                raise InputError(f"the figure exporter (Chromium) failed: {type(exc).__name__}: {exc}") from exc
        if not _is_format(data, fmt):
            raise InputError(f"the figure exporter returned something other than {fmt.upper()}; try again")
        return data
    raise InputError(f"the figure exporter (Chromium) did not answer within {EXPORT_TIMEOUT_S:g} s, twice;"
                     " try again, or use the figure toolbar's SVG")


def write_figure(fig: go.Figure, path: str | os.PathLike, *, width: int = 1000, height: int | None = None,
                 scale: float = 2.0) -> Path:
    """Render ``fig`` in the format its file name ends with (:func:`figure_bytes`) and write it atomically.

    Parameters
    ----------
    fig : Figure
    path : path-like
        Ends with ``.pdf``, ``.png``, ``.svg`` or ``.html``; its folder is created if needed.
    width, height, scale
        As for :func:`figure_bytes` (pixels; the raster scale for PNG).

    Returns
    -------
    Path
        The file written.
    """
    from isograph.dataset.io import atomic_write

    data = figure_bytes(fig, Path(path).suffix.lstrip("."), width=width, height=height, scale=scale)
    return atomic_write(path, lambda tmp: tmp.write_bytes(data))


def _is_format(data: bytes, fmt: str) -> bool:
    """Whether ``data`` starts as a ``fmt`` file does (PDF, PNG or SVG)."""
    head = bytes(data[:400]).lstrip()
    return {"pdf": head.startswith(b"%PDF-"), "png": head.startswith(b"\x89PNG\r\n\x1a\n"),
            "svg": b"<svg" in head}.get(fmt, True)

"""Figure rendering: PDF/PNG/SVG through kaleido and Debian's chromium, one warm exporter per process.

``kaleido.start_sync_server()`` keeps one headless Chromium running, so after the first figure (about
2 s) each export takes a fraction of a second. Where no Chrome/Chromium is installed the exporter says
so; HTML export needs no browser. A render that does not finish in :data:`EXPORT_TIMEOUT_S` abandons the
warm exporter and retries once on a fresh Chromium (a watchdog). The web app shares this process's warm
exporter with its background jobs through ``components.export_service``.
"""

from __future__ import annotations

import os
import shutil
import threading
import warnings
from pathlib import Path

import plotly.graph_objects as go

from isograph.errors import InputError

__all__ = ["EXPORT_FORMATS", "chrome_path", "figure_bytes", "reset_exporter"]

EXPORT_FORMATS = ("pdf", "png", "svg", "html")
_CHROME_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome")
_lock = threading.Lock()
_render_lock = threading.Lock()
_server_started = False
#: Seconds an export may take before the exporter is declared stuck and restarted (once).
EXPORT_TIMEOUT_S = 60.0
#: Extra seconds the retry gets, as it starts a new Chromium first.
STARTUP_ALLOWANCE_S = 30.0


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


def _forget_parent_exporter() -> None:
    """In a forked child the parent's exporter thread does not exist: start afresh when needed.

    kaleido's sync server is a singleton flagged ``_initialized``; a fork copies the flag but not the thread
    that serves it, so a child that used it would wait forever.
    """
    global _lock, _render_lock
    _lock, _render_lock = threading.Lock(), threading.Lock()  # a parent thread may have held them at the fork
    reset_exporter()  # the parent's Chromium stays its own


def reset_exporter() -> None:
    """Forget the warm exporter, so that the next export starts a new one (its Chromium is left running).

    kaleido's sync server is a singleton whose thread reads its queues from the object at run time: flagging
    it stopped and reopening it would give a render still running in the old thread the new return queue, and
    every later export would receive the one before's result. A new server object is made instead, so the old
    thread keeps its own queues.
    """
    global _server_started
    if _server_started:
        import kaleido
        from kaleido._sync_server import GlobalKaleidoServer

        GlobalKaleidoServer._instance = None
        kaleido._global_server = GlobalKaleidoServer()
        _server_started = False


os.register_at_fork(after_in_child=_forget_parent_exporter)


def _warm() -> None:
    global _server_started
    with _lock:
        if not _server_started:
            import kaleido

            kaleido.start_sync_server(silence_warnings=True)
            _server_started = True


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
    if fmt not in EXPORT_FORMATS:
        raise InputError(f"unknown figure format {fmt!r}; use one of {', '.join(EXPORT_FORMATS)}")
    if fmt == "html":
        return fig.to_html(include_plotlyjs=True, full_html=True).encode()  # self-contained, works offline
    if chrome_path() is None:
        raise InputError(f"{fmt.upper()} export needs Chrome or Chromium (Debian: apt-get install chromium), or"
                         " set BROWSER_PATH; HTML export works without it")
    # the scale is a raster's: the exporter would multiply a PDF's or SVG's page size by it too
    options = {"format": fmt, "width": width, "height": height or fig.layout.height or 500,
               "scale": scale if fmt == "png" else 1.0}
    for attempt in range(2):
        with _render_lock:  # kaleido's server answers in completion order: one render at a time per process
            _warm()
            done: dict = {}
            worker = threading.Thread(target=_render, args=(fig, options, done), name="isograph-render", daemon=True)
            worker.start()
            worker.join(EXPORT_TIMEOUT_S + (STARTUP_ALLOWANCE_S if attempt else 0))  # a retry starts a new Chromium
            if not worker.is_alive():
                if "error" in done:
                    raise done["error"]
                if not _is_format(done["data"], fmt):
                    raise InputError(f"the figure exporter returned something other than {fmt.upper()}; try again")
                return done["data"]
            _abandon_exporter()  # its Chromium stopped answering: the next attempt starts a fresh one
    raise InputError(f"the figure exporter (Chromium) did not answer within {EXPORT_TIMEOUT_S:g} s, twice;"
                     " try again, or use the figure toolbar's SVG")


def _is_format(data: bytes, fmt: str) -> bool:
    """Whether ``data`` starts as a ``fmt`` file does (PDF, PNG or SVG)."""
    head = bytes(data[:400]).lstrip()
    return {"pdf": head.startswith(b"%PDF-"), "png": head.startswith(b"\x89PNG\r\n\x1a\n"),
            "svg": b"<svg" in head}.get(fmt, True)


def _render(fig: go.Figure, options: dict, done: dict) -> None:
    try:
        with warnings.catch_warnings():  # plotly passes kaleido options that a warm server ignores
            warnings.filterwarnings("ignore", message="The kopts argument is ignored")
            done["data"] = fig.to_image(**options)
    except Exception as exc:  # noqa: BLE001 - passed on to the caller's thread
        done["error"] = exc


def _abandon_exporter() -> None:
    """Forget a warm exporter that hangs (its thread is a daemon and is left behind) so a new one starts."""
    with _lock:
        reset_exporter()

"""Figure export: PDF/PNG/SVG through kaleido and Debian's chromium, one warm exporter per process.

``kaleido.start_sync_server()`` keeps one headless Chromium running, so after the first figure (about
2 s) each export takes a fraction of a second. Where no Chrome/Chromium is installed the exporter says
so; HTML export needs no browser.

The app's exports run as background jobs, each in a fresh process that would otherwise start its own
Chromium. :class:`ExportService` lets them share the server's warm exporter instead: a thread of the
server process listens on a Unix socket (HMAC-authenticated, JSON in and bytes out, no pickle) and
:func:`export_via` sends a figure there, falling back to a local exporter when no service answers
(e.g. a Celery worker on another machine).
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import threading
import warnings
from collections.abc import Iterable
from multiprocessing import AuthenticationError
from pathlib import Path

import pandas as pd
import plotly.graph_objects as go

from compute.errors import InputError
from compute.io import atomic_write

__all__ = ["EXPORT_FORMATS", "ExportService", "chrome_path", "export_via", "figure_bytes", "module_figures",
           "write_module_figures"]

EXPORT_FORMATS = ("pdf", "png", "svg", "html")
_CHROME_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome")
_lock = threading.Lock()
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
    _reset_exporter()  # no lock: a parent thread may have held it at the fork; the parent's Chromium stays its own


def _reset_exporter() -> None:
    """Forget the warm exporter, so that the next export starts a new one."""
    global _server_started
    if _server_started:
        import kaleido

        kaleido._global_server._initialized = False
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
        Raster scale for PNG.

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
    options = {"format": fmt, "width": width, "height": height or fig.layout.height or 500, "scale": scale}
    for attempt in range(2):
        _warm()
        done: dict = {}
        worker = threading.Thread(target=_render, args=(fig, options, done), name="isograph-render", daemon=True)
        worker.start()
        worker.join(EXPORT_TIMEOUT_S + (STARTUP_ALLOWANCE_S if attempt else 0))  # a retry starts a new Chromium
        if not worker.is_alive():
            if "error" in done:
                raise done["error"]
            return done["data"]
        _abandon_exporter()  # its Chromium stopped answering: the next attempt starts a fresh one
    raise InputError(f"the figure exporter (Chromium) did not answer within {EXPORT_TIMEOUT_S:g} s, twice;"
                     " try again, or use the figure toolbar's SVG")


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
        _reset_exporter()


class ExportService:
    """The process's warm exporter, served to other processes of the same user over a Unix socket.

    Parameters
    ----------
    folder : path
        Where the socket file goes (the app's job cache folder, private to the user).

    Attributes
    ----------
    address : dict
        ``{"socket": path, "key": hex}``: what :func:`export_via` needs; put it in the app settings.
    """

    def __init__(self, folder: str | os.PathLike):
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        self._path = folder / f"exporter-{os.getpid()}-{secrets.token_hex(4)}.sock"
        self._key = secrets.token_bytes(32)
        self.address = {"socket": str(self._path), "key": self._key.hex()}
        self._listener = None

    def start(self) -> ExportService:
        """Listen in a daemon thread (one request at a time: the exporter is one Chromium)."""
        from multiprocessing.connection import Listener

        self._listener = Listener(str(self._path), family="AF_UNIX", authkey=self._key)
        os.chmod(self._path, 0o600)
        threading.Thread(target=self._serve, name="isograph-exporter", daemon=True).start()
        return self

    def close(self) -> None:
        """Stop listening and remove the socket file."""
        if self._listener is not None:
            self._listener.close()
            self._listener = None
        self._path.unlink(missing_ok=True)

    def _serve(self) -> None:
        while self._listener is not None:
            try:
                conn = self._listener.accept()
            except (OSError, EOFError, AuthenticationError):  # closed, or a client without the key
                if self._listener is None:
                    return
                continue
            with conn:
                try:
                    options = json.loads(conn.recv_bytes(maxlength=4096))
                    fig = go.Figure(json.loads(conn.recv_bytes(maxlength=_MAX_FIGURE)))
                    data = figure_bytes(fig, options["format"], width=int(options["width"]),
                                        height=int(options["height"]), scale=float(options["scale"]))
                    conn.send_bytes(b"ok" + data)
                except InputError as exc:
                    conn.send_bytes(b"er" + str(exc).encode())
                except Exception as exc:  # noqa: BLE001 - the client shows it; the service keeps serving
                    try:
                        conn.send_bytes(b"er" + f"export failed: {type(exc).__name__}: {exc}".encode())
                    except OSError:
                        pass


_MAX_FIGURE = 256 * 1024 * 1024  # bytes of figure JSON


def export_via(address: dict | None, figure: dict | go.Figure, fmt: str, *, width: int = 1000,
               height: int | None = None, scale: float = 2.0) -> bytes:
    """:func:`figure_bytes` through an :class:`ExportService` at ``address``, else in this process.

    Parameters
    ----------
    address : dict or None
        ``ExportService.address``; None (or a service that does not answer) exports locally.
    figure : dict or Figure
    fmt, width, height, scale
        As for :func:`figure_bytes`.

    Returns
    -------
    bytes

    Raises
    ------
    InputError
        As :func:`figure_bytes` (the service's message is passed on).
    """
    fig = figure if isinstance(figure, go.Figure) else go.Figure(figure)
    if fmt == "html" or not address:
        return figure_bytes(fig, fmt, width=width, height=height, scale=scale)
    from multiprocessing.connection import Client

    try:
        conn = Client(address["socket"], family="AF_UNIX", authkey=bytes.fromhex(address["key"]))
    except (OSError, EOFError, ValueError, AuthenticationError):  # no service here: export in this process
        return figure_bytes(fig, fmt, width=width, height=height, scale=scale)
    with conn:
        options = {"format": fmt, "width": width, "height": height or fig.layout.height or 500, "scale": scale}
        conn.send_bytes(json.dumps(options).encode())
        conn.send_bytes(fig.to_json().encode())
        reply = conn.recv_bytes()
    if reply[:2] != b"ok":
        raise InputError(reply[2:].decode())
    return reply[2:]


def module_figures(result, usage: pd.DataFrame, *, top_n: int = 30) -> dict[str, go.Figure]:
    """The manual's three per-module figures for an ``ExplainResult``.

    Parameters
    ----------
    result : compute.explain.ExplainResult
    usage : DataFrame
        The samples x features table explain used.
    top_n : int, default 30
        Genes in the barplot.

    Returns
    -------
    dict
        ``driver_barplot``, ``usage_gradient``, ``driver_heatmap``.
    """
    from components.figures import driver_barplot, driver_heatmap, usage_gradient

    mid = result.module_id
    return {
        "driver_barplot": driver_barplot(result.gene_driver_table, top_n=top_n, title=f"{mid}: top driver genes"),
        "usage_gradient": usage_gradient(result.transcript_polarity_table, usage, result.eigengene),
        "driver_heatmap": driver_heatmap(result.transcript_polarity_table, usage, result.eigengene),
    }


def write_module_figures(results: dict, usage: pd.DataFrame, output_dir: str | os.PathLike,
                         formats: Iterable[str] = ("pdf",)) -> list[Path]:
    """Write every module's figures to ``{output_dir}/{module_id}/figures/{name}.{fmt}`` (atomically).

    Parameters
    ----------
    results : dict of str to ExplainResult
    usage : DataFrame
        The samples x features table explain used.
    output_dir : path
    formats : iterable of str, default ("pdf",)

    Returns
    -------
    list of Path
    """
    formats = list(dict.fromkeys(formats))
    for fmt in formats:
        if fmt not in EXPORT_FORMATS:
            raise InputError(f"unknown figure format {fmt!r}; use one of {', '.join(EXPORT_FORMATS)}")
    written = []
    for mid, result in results.items():
        for name, fig in module_figures(result, usage).items():
            for fmt in formats:
                data = figure_bytes(fig, fmt)
                path = Path(output_dir) / mid / "figures" / f"{name}.{fmt}"
                written.append(atomic_write(path, lambda tmp, data=data: tmp.write_bytes(data)))
    return written

"""The app's export service: background jobs share the server process's warm figure exporter.

The app's exports run as background jobs, each in a fresh process that would otherwise start its own
Chromium. :class:`ExportService` lets them share the server's warm exporter instead: a thread of the
server process listens on a Unix socket (HMAC-authenticated, JSON in and bytes out, no pickle) and
:func:`export_via` sends a figure there, falling back to a local exporter when no service answers
(e.g. a Celery worker on another machine).
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import threading
from multiprocessing import AuthenticationError
from pathlib import Path

import plotly.graph_objects as go

from isograph.errors import InputError
from isograph.figures.render import figure_bytes

__all__ = ["ExportService", "export_via"]

_MAX_FIGURE = 256 * 1024 * 1024  # bytes of figure JSON

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
            listener, self._listener = self._listener, None
            with contextlib.suppress(FileNotFoundError):  # its folder already removed (a temporary cache folder)
                listener.close()
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

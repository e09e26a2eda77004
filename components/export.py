"""Figure export: PDF/PNG/SVG through kaleido and Debian's chromium, one warm exporter per process.

``kaleido.start_sync_server()`` keeps one headless Chromium running, so after the first figure (about
2 s) each export takes a fraction of a second. Where no Chrome/Chromium is installed the exporter says
so; HTML export needs no browser.
"""

from __future__ import annotations

import os
import shutil
import threading
import warnings
from collections.abc import Iterable
from pathlib import Path

import pandas as pd
import plotly.graph_objects as go

from compute.errors import InputError
from compute.io import atomic_write

__all__ = ["EXPORT_FORMATS", "chrome_path", "figure_bytes", "module_figures", "write_module_figures"]

EXPORT_FORMATS = ("pdf", "png", "svg", "html")
_CHROME_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome")
_lock = threading.Lock()
_server_started = False


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
    _warm()
    with warnings.catch_warnings():  # plotly passes kaleido options that a warm server ignores
        warnings.filterwarnings("ignore", message="The kopts argument is ignored")
        return fig.to_image(format=fmt, width=width, height=height or fig.layout.height or 500, scale=scale)


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

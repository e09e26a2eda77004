"""The manual's per-module figure files (``explain-module --plot``): built and written atomically."""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

import pandas as pd
import plotly.graph_objects as go

from isograph.errors import InputError
from isograph.explain.contracts import ExplainResult
from isograph.figures.render import check_formats, write_figure

__all__ = ["module_figures", "write_module_figures"]


def module_figures(result: ExplainResult, usage: pd.DataFrame, *, top_n: int = 30) -> dict[str, go.Figure]:
    """The manual's three per-module figures for an ``ExplainResult``.

    Parameters
    ----------
    result : isograph.explain.ExplainResult
    usage : DataFrame
        The samples x features table explain used.
    top_n : int, default 30
        Genes in the barplot.

    Returns
    -------
    dict
        ``driver_barplot``, ``usage_gradient``, ``driver_heatmap``.
    """
    from isograph.figures.explain import driver_barplot, driver_heatmap, usage_gradient

    mid = result.module_id
    return {
        "driver_barplot": driver_barplot(result.gene_driver_table, top_n=top_n, title=f"{mid}: top driver genes"),
        "usage_gradient": usage_gradient(result.transcript_polarity_table, usage, result.eigengene),
        "driver_heatmap": driver_heatmap(result.transcript_polarity_table, usage, result.eigengene),
    }


def write_module_figures(results: dict, usage: pd.DataFrame, output_dir: str | os.PathLike,
                         formats: Iterable[str] = ("pdf",), *, column: str | None = None) -> list[Path]:
    """Write every module's figures to ``{output_dir}/{module_id}/figures/{name}.{fmt}`` (atomically).

    Parameters
    ----------
    results : dict of str to ExplainResult
    usage : DataFrame
        The samples x features table explain used.
    output_dir : path
    formats : iterable of str, default ("pdf",)
    column : {"single", "double"}, optional
        Lay the figures out for a journal column (89 or 183 mm wide, print fonts, PNG at 300 dpi;
        :func:`~isograph.figures.publication.publication_figure`) and name the files ``{name}_89mm.{fmt}``
        (``_183mm``); default the on-screen size and the manual's names.

    Returns
    -------
    list of Path
    """
    from isograph.figures.publication import JOURNAL_WIDTHS_MM, export_scale, publication_figure

    formats = list(dict.fromkeys(formats))
    check_formats(formats)
    if column is not None and column not in JOURNAL_WIDTHS_MM:
        raise InputError(f"unknown figure width {column!r}; use one of {', '.join(JOURNAL_WIDTHS_MM)}")
    suffix = f"_{JOURNAL_WIDTHS_MM[column]:.0f}mm" if column else ""
    written = []
    for mid, result in results.items():
        for name, fig in module_figures(result, usage).items():
            size = {}
            if column:
                fig, width, height = publication_figure(fig, column)
                size = {"width": width, "height": height}
            for fmt in formats:
                path = Path(output_dir) / mid / "figures" / f"{name}{suffix}.{fmt}"
                written.append(write_figure(fig, path, scale=export_scale(fmt, column), **size))
    return written

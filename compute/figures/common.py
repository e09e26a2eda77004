"""What every figure shares: colours, the template, the empty placeholder and gene labels."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

__all__ = ["HIGH_WORDS", "LOW_WORDS", "NEGATIVE", "OTHER_REGION", "POSITIVE", "REGION_COLOURS", "TEMPLATE", "empty_figure", "gene_labels",
           "lighter"]


POSITIVE, NEGATIVE = "#c0392b", "#2c6fbb"
HIGH_WORDS, LOW_WORDS = "used more in high-module samples", "used more in low-module samples"
TEMPLATE = "simple_white"


#: Colours of transcript regions in annotation strips (distinct hues: the legend must be readable in print).
REGION_COLOURS = {"5'UTR": "#e67e22", "CDS": "#2c3e50", "3'UTR": "#16a085", "exon": "#95a5a6"}
OTHER_REGION = "#7f8c8d"


def empty_figure(message: str = "") -> go.Figure:
    """A blank, axis-less figure with an optional centred message (placeholder before data arrive).

    Parameters
    ----------
    message : str, default ""
        Text in the middle of the figure.

    Returns
    -------
    go.Figure
    """
    fig = go.Figure(layout={"template": TEMPLATE, "xaxis": {"visible": False}, "yaxis": {"visible": False}})
    if message:
        fig.add_annotation(text=message, showarrow=False, font={"size": 14, "color": "#666"})
    return fig


def gene_labels(table: pd.DataFrame) -> pd.Series:
    """Gene names where known and different from the ID, else gene IDs (str, aligned with ``table``)."""
    names = table["gene_name"] if "gene_name" in table else pd.Series(index=table.index, dtype=object)
    return names.where(names.notna() & (names != table["gene_id"]), table["gene_id"]).astype(str)


def lighter(colour: str, amount: float = 0.55) -> str:
    """``colour`` (``#rrggbb``) blended with white: 0 keeps it, 1 gives white (legends show it as drawn).

    Parameters
    ----------
    colour : str
    amount : float, default 0.55

    Returns
    -------
    str
    """
    r, g, b = (int(colour[i:i + 2], 16) for i in (1, 3, 5))
    return "#" + "".join(f"{int(v + (255 - v) * amount):02x}" for v in (r, g, b))

"""The samples map: each sample placed by the PCA of the module eigengenes, coloured by what the user
chooses, with the two groups chosen for a comparison outlined."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.express as px
import plotly.graph_objects as go

from isograph.figures.common import TEMPLATE

__all__ = ["GROUP_COLOURS", "sample_map_figure"]

GROUP_COLOURS = {"A": "#d62728", "B": "#1f77b4"}  #: outline of each comparison group's samples
NO_VALUE = "#c8c8c8"


def sample_map_figure(coordinates: pd.DataFrame, explained: np.ndarray, colour: pd.Series | None = None, *,
                      colour_label: str = "", categorical: bool = False,
                      groups: dict[str, list[str]] | None = None) -> go.Figure:
    """Samples on their first two principal components, in lasso-selection mode.

    Parameters
    ----------
    coordinates : DataFrame
        Index ``sample_id``; columns ``PC1``, ``PC2`` (:func:`~isograph.samples.embedding.eigengene_pca`).
    explained : ndarray, shape (2,)
        Fraction of variance of each component (named on the axes).
    colour : Series, optional
        Per-sample values (index ``sample_id``): numbers drawn on a colour scale, or (``categorical``) one
        colour per level with its sample count in the legend. Samples without a value are grey.
    colour_label : str
        What the colour shows, with its source (the colour bar's or legend's title).
    categorical : bool
    groups : dict, optional
        ``{"A": [sample IDs], "B": [...]}``: outlined in :data:`GROUP_COLOURS`, named with their size.

    Returns
    -------
    go.Figure
        Every point's ``customdata`` is its sample ID (what a lasso selection reports).
    """
    fig = go.Figure()
    ids = coordinates.index.astype(str)
    values = colour.reindex(ids) if colour is not None else pd.Series(np.nan, index=ids)
    missing = values.isna().to_numpy()
    hover = "sample %{customdata}<br>PC1 %{x:.3g}, PC2 %{y:.3g}"
    if categorical:
        palette = px.colors.qualitative.Safe
        levels = sorted(values.dropna().astype(str).unique())
        for i, level in enumerate(levels):
            mask = (values.astype(str) == level).to_numpy() & ~missing
            fig.add_scatter(x=coordinates["PC1"][mask], y=coordinates["PC2"][mask], mode="markers",
                            name=f"{level} (n={int(mask.sum())})", customdata=ids[mask],
                            marker={"color": palette[i % len(palette)], "size": 8},
                            legendgrouptitle_text=colour_label if i == 0 else None, legendgroup="colour",
                            hovertemplate=hover + f"<br>{colour_label}: {level}<extra></extra>")
    elif colour is not None:
        mask = ~missing
        fig.add_scatter(x=coordinates["PC1"][mask], y=coordinates["PC2"][mask], mode="markers", name=colour_label,
                        customdata=ids[mask], showlegend=False,
                        marker={"color": values[mask], "colorscale": "Viridis", "size": 8,
                                "colorbar": {"title": {"text": colour_label, "side": "right"}, "thickness": 12}},
                        hovertemplate=hover + f"<br>{colour_label}: %{{marker.color:.3g}}<extra></extra>")
    if missing.any():
        fig.add_scatter(x=coordinates["PC1"][missing], y=coordinates["PC2"][missing], mode="markers",
                        name=f"no value (n={int(missing.sum())})" if colour is not None else "sample",
                        customdata=ids[missing], marker={"color": NO_VALUE, "size": 8},
                        hovertemplate=hover + "<extra></extra>", showlegend=colour is not None)
    for name, members in (groups or {}).items():
        mask = ids.isin(list(members))
        if mask.any():
            fig.add_scatter(x=coordinates["PC1"][mask], y=coordinates["PC2"][mask], mode="markers",
                            name=f"group {name} (n={int(mask.sum())})", customdata=ids[mask], hoverinfo="skip",
                            marker={"symbol": "circle-open", "size": 14, "line": {"width": 2},
                                    "color": GROUP_COLOURS.get(name, "black")})
    fig.update_layout(template=TEMPLATE, dragmode="lasso", height=520, margin={"l": 60, "r": 20, "t": 20, "b": 50},
                      uirevision="samples-map", legend={"itemsizing": "constant"},
                      xaxis_title=f"PC1 ({explained[0]:.0%} of the eigengenes' variance)",
                      yaxis_title=f"PC2 ({explained[1]:.0%})")
    return fig

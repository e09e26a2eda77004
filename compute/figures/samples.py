"""The samples map: each sample placed by the PCA (or UMAP) of the module eigengenes, coloured by what the
user chooses, with the two groups chosen for a comparison outlined."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.express as px
import plotly.graph_objects as go

from isograph.figures.common import TEMPLATE

__all__ = ["GROUP_COLOURS", "sample_map_figure"]

GROUP_COLOURS = {"A": "#d62728", "B": "#1f77b4"}  #: outline of each comparison group's samples
NO_VALUE = "#c8c8c8"


def sample_map_figure(coordinates: pd.DataFrame, explained: np.ndarray | None, colour: pd.Series | None = None, *,
                      colour_label: str = "", categorical: bool = False,
                      groups: dict[str, list[str]] | None = None) -> go.Figure:
    """Samples on a 2-D map (the first two principal components, or a UMAP), in lasso-selection mode.

    Parameters
    ----------
    coordinates : DataFrame
        Index ``sample_id``; two columns, the axes: ``PC1``, ``PC2``
        (:func:`~isograph.samples.embedding.eigengene_pca`) or ``UMAP1``, ``UMAP2``
        (:func:`~isograph.samples.embedding.eigengene_umap`).
    explained : ndarray, shape (2,), or None
        Fraction of variance of each principal component (named on the axes); None for a UMAP (its axes
        have no units and explain no stated variance).
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
        Every point's ``customdata`` is its sample ID (what a lasso selection reports). Zoom and pan are kept
        while the colour or groups change, not across maps (``uirevision`` names the map's axes).
    """
    fig = go.Figure()
    ids = coordinates.index.astype(str)
    values = colour.reindex(ids) if colour is not None else pd.Series(np.nan, index=ids)
    missing = values.isna().to_numpy()
    x_name, y_name = (str(c) for c in coordinates.columns[:2])
    xs, ys = coordinates[x_name], coordinates[y_name]
    hover = f"sample %{{customdata}}<br>{x_name} %{{x:.3g}}, {y_name} %{{y:.3g}}"
    if categorical:
        palette = px.colors.qualitative.Safe
        levels = sorted(values.dropna().astype(str).unique())
        for i, level in enumerate(levels):
            mask = (values.astype(str) == level).to_numpy() & ~missing
            fig.add_scatter(x=xs[mask], y=ys[mask], mode="markers",
                            name=f"{level} (n={int(mask.sum())})", customdata=ids[mask],
                            marker={"color": palette[i % len(palette)], "size": 8},
                            legendgrouptitle_text=colour_label if i == 0 else None, legendgroup="colour",
                            hovertemplate=hover + f"<br>{colour_label}: {level}<extra></extra>")
    elif colour is not None:
        mask = ~missing
        fig.add_scatter(x=xs[mask], y=ys[mask], mode="markers", name=colour_label,
                        customdata=ids[mask], showlegend=False,
                        marker={"color": values[mask], "colorscale": "Viridis", "size": 8,
                                "colorbar": {"title": {"text": colour_label, "side": "right"}, "thickness": 12}},
                        hovertemplate=hover + f"<br>{colour_label}: %{{marker.color:.3g}}<extra></extra>")
    if missing.any():
        fig.add_scatter(x=xs[missing], y=ys[missing], mode="markers",
                        name=f"no value (n={int(missing.sum())})" if colour is not None else "sample",
                        customdata=ids[missing], marker={"color": NO_VALUE, "size": 8},
                        hovertemplate=hover + "<extra></extra>", showlegend=colour is not None)
    for name, members in (groups or {}).items():
        mask = ids.isin(list(members))
        if mask.any():
            fig.add_scatter(x=xs[mask], y=ys[mask], mode="markers",
                            name=f"group {name} (n={int(mask.sum())})", customdata=ids[mask], hoverinfo="skip",
                            marker={"symbol": "circle-open", "size": 14, "line": {"width": 2},
                                    "color": GROUP_COLOURS.get(name, "black")})
    fig.update_layout(template=TEMPLATE, dragmode="lasso", height=520, margin={"l": 60, "r": 20, "t": 20, "b": 50},
                      uirevision=f"samples-map-{x_name}", legend={"itemsizing": "constant"},
                      xaxis_title=(f"{x_name} ({explained[0]:.0%} of the eigengenes' variance)" if explained is not None
                                   else f"{x_name} (no units)"),
                      yaxis_title=f"{y_name} ({explained[1]:.0%})" if explained is not None else y_name)
    return fig

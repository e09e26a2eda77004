"""Figures of the SAE part: activation histogram, per-token activation heat, training curves, interventions."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from isograph.figures.common import NEGATIVE, OTHER_REGION, POSITIVE, REGION_COLOURS, TEMPLATE, empty_figure

__all__ = ["activation_histogram", "intervention_effects", "intervention_side_by_side", "sequence_heat", "training_curves"]


def intervention_effects(effects: pd.DataFrame, *, title: str | None = None) -> go.Figure:
    """Per-token effect of a feature intervention: KL(base || edited) along each sequence.

    Parameters
    ----------
    effects
        ``isograph.sae.intervene`` effects (``seq_id, token_index, token, kl, z_before, z_after,
        top_token_before, top_token_after, top_changed``).
    title
        figure title.

    Returns
    -------
    go.Figure
        One line per sequence (x = token index, y = KL in nats); tokens whose top prediction changed are
        marked with an open circle.
    """
    fig = go.Figure()
    for seq_id, part in effects.groupby("seq_id", sort=False):
        fig.add_scatter(x=part["token_index"], y=part["kl"], mode="lines", name=str(seq_id),
                        customdata=np.c_[part["token"], part["z_before"], part["z_after"], part["top_token_before"],
                                         part["top_token_after"]],
                        hovertemplate="%{customdata[0]}<br>KL %{y:.3g}<br>z %{customdata[1]:.2f} → %{customdata[2]:.2f}"
                                      "<br>top %{customdata[3]} → %{customdata[4]}<extra>%{fullData.name}</extra>")
    changed = effects[effects["top_changed"]]
    if len(changed):
        fig.add_scatter(x=changed["token_index"], y=changed["kl"], mode="markers", name="top token changed",
                        marker={"symbol": "circle-open", "size": 9, "color": "#333"}, hoverinfo="skip")
    fig.update_layout(template=TEMPLATE, title=title, xaxis_title="token (6-mer) along the sequence",
                      yaxis_title="KL(base ‖ edited), nats", showlegend=len(effects["seq_id"].unique()) <= 10)
    return fig


def activation_histogram(histogram: pd.DataFrame, *, title: str | None = None) -> go.Figure:
    """Histogram of a feature's non-zero activations on a log count axis.

    Parameters
    ----------
    histogram
        Bins: ``left, right, count`` (``isograph.sae.features``).
    title
        figure title.

    Returns
    -------
    go.Figure
    """
    if histogram.empty or histogram["count"].sum() == 0:
        return empty_figure("the feature is never active on these tokens")
    fig = go.Figure(go.Bar(x=(histogram["left"] + histogram["right"]) / 2, y=histogram["count"],
                           width=histogram["right"] - histogram["left"], marker_color=POSITIVE,
                           hovertemplate="%{x:.3g}: %{y} tokens<extra></extra>"))
    fig.update_layout(template=TEMPLATE, title=title, height=300, bargap=0.02,
                      xaxis_title="activation (tokens with z > 0)", yaxis={"title": "tokens", "type": "log"})
    return fig


def sequence_heat(heat: pd.DataFrame, tracks: dict[str, pd.DataFrame] | None = None, *,
                  labels: dict[str, str] | None = None, title: str | None = None) -> go.Figure:
    """Per-token activation heat of several sequences with an annotation strip under each.

    Parameters
    ----------
    heat
        ``seq_id, token_index, token, start, end, activation`` (``isograph.sae.features.token_activations``).
    tracks
        per seq_id, ``start, end, kind`` in bases (``isograph.sae.features.sequence_track``): 5'UTR/CDS/
        3'UTR/exon strips under the row and a black tick at each exon junction.
    labels
        row label per seq_id (default the seq_id).
    title
        figure title.

    Returns
    -------
    go.Figure
        One row per sequence (top row first); x = position in bases (each token spans its bases), colour = the
        feature's activation; hover shows the token.
    """
    if heat.empty:
        return empty_figure("no sequences")
    order = list(dict.fromkeys(heat["seq_id"]))
    labels = labels or {}
    fig = go.Figure()
    vmax = float(heat["activation"].max()) or 1.0
    for row, seq_id in enumerate(order):
        part = heat[heat["seq_id"] == seq_id]
        fig.add_bar(x=(part["end"] - part["start"]).to_numpy(), base=part["start"].to_numpy(),
                    y=[-row + 0.1] * len(part), width=0.55, orientation="h", showlegend=False,
                    marker={"color": part["activation"], "colorscale": "Reds", "cmin": 0, "cmax": vmax,
                            "line": {"width": 0}, "showscale": row == 0,
                            "colorbar": {"title": "activation", "thickness": 12}},
                    customdata=np.c_[part["token"], part["activation"]],
                    hovertemplate="%{customdata[0]} at %{base}: %{customdata[1]:.3g}<extra>" + str(seq_id) + "</extra>")
        track = (tracks or {}).get(seq_id)
        if track is not None:
            for item in track.itertuples(index=False):
                if item.kind == "junction":
                    fig.add_shape(type="line", x0=item.start, x1=item.start, y0=-row - 0.42, y1=-row - 0.12,
                                  line={"color": "#000", "width": 2}, opacity=1)
                else:
                    fig.add_shape(type="rect", x0=item.start, x1=item.end, y0=-row - 0.36, y1=-row - 0.2,
                                  fillcolor=REGION_COLOURS.get(item.kind, OTHER_REGION), line={"width": 0},
                                  opacity=1)  # the template's shapes are translucent: the legend's colour exactly
    present = {k for t in (tracks or {}).values() for k in t["kind"]}
    kinds = [k for k in REGION_COLOURS if k in present] + sorted(present - set(REGION_COLOURS) - {"junction"})
    for kind in kinds:  # legend entries drawn with the strips' own colours (no data: legend only)
        fig.add_scatter(x=[None], y=[None], mode="markers", name=kind, showlegend=True, hoverinfo="skip",
                        marker={"symbol": "square", "size": 12, "color": REGION_COLOURS.get(kind, OTHER_REGION)})
    if "junction" in present:
        fig.add_scatter(x=[None], y=[None], mode="markers", name="exon junction", showlegend=True, hoverinfo="skip",
                        marker={"symbol": "line-ns", "size": 12, "line": {"width": 2, "color": "#000"}})
    fig.update_layout(
        template=TEMPLATE, title=title, height=max(220, 46 * len(order) + 110), barmode="overlay",
        yaxis={"tickvals": [-i for i in range(len(order))], "ticktext": [labels.get(s, s) for s in order],
               "range": [-len(order) + 0.4, 0.6], "showgrid": False, "zeroline": False, "automargin": True},
        xaxis={"title": "position in the sequence (bases)" + ("; strips under each row: annotation (legend)"
                                                               if kinds else ""), "showgrid": False},
        legend={"title": {"text": "annotation"}, "orientation": "h", "x": 0, "y": 1.0, "yanchor": "bottom"},
    )
    return fig


def training_curves(metrics: pd.DataFrame, *, title: str | None = None) -> go.Figure:
    """SAE training by epoch: MSE, L0 (active features per token) and validation FVU, three panels.

    Parameters
    ----------
    metrics
        One row per epoch: ``epoch, mse, l0, val_fvu`` (``SAETrainResult.metrics``).
    title
        figure title.

    Returns
    -------
    go.Figure
    """
    if metrics is None or len(metrics) == 0:
        return empty_figure("training has not reported an epoch yet")
    fig = make_subplots(rows=1, cols=3, subplot_titles=("training MSE", "L0 (active features / token)",
                                                        "validation FVU"))
    for col, name in enumerate(("mse", "l0", "val_fvu"), start=1):
        fig.add_scatter(x=metrics["epoch"], y=metrics[name], mode="lines+markers", row=1, col=col, showlegend=False,
                        marker_color=POSITIVE if col == 2 else NEGATIVE)
        fig.update_xaxes(title_text="epoch", row=1, col=col)
    fig.update_layout(template=TEMPLATE, title=title, height=280, margin={"t": 50})
    return fig


def intervention_side_by_side(effects: pd.DataFrame, *, title: str | None = None) -> go.Figure:
    """Baseline vs intervened model output per token, side by side.

    Parameters
    ----------
    effects
        ``isograph.sae.intervene`` effects with ``p_token_before, p_token_after, z_before, z_after``.
    title
        figure title.

    Returns
    -------
    go.Figure
        Two heatmaps with shared rows (one per sequence): the model's probability of the token that is
        there, without (left) and with (right) the feature edit; hover shows the feature's activation
        and the top prediction in each case.
    """
    if effects.empty:
        return empty_figure("no intervention results")
    fig = make_subplots(rows=1, cols=2, shared_yaxes=True, horizontal_spacing=0.04,
                        subplot_titles=("baseline: p(token)", "intervened: p(token)"))
    for col, (p, z, top) in enumerate((("p_token_before", "z_before", "top_token_before"),
                                       ("p_token_after", "z_after", "top_token_after")), start=1):
        grid = effects.pivot(index="seq_id", columns="token_index", values=p)
        zs = effects.pivot(index="seq_id", columns="token_index", values=z).reindex_like(grid)
        tops = effects.pivot(index="seq_id", columns="token_index", values=top).reindex_like(grid)
        fig.add_heatmap(z=grid.to_numpy(), x=grid.columns, y=[str(s) for s in grid.index], zmin=0, zmax=1,
                        colorscale="Viridis", showscale=col == 2, colorbar={"title": "p", "thickness": 12},
                        customdata=np.dstack([zs.to_numpy(), tops.to_numpy()]), row=1, col=col,
                        hovertemplate="token %{x}: p %{z:.3f}<br>feature z %{customdata[0]:.3g}<br>top"
                                      " prediction %{customdata[1]}<extra></extra>")
        fig.update_xaxes(title_text="token (6-mer) along the sequence", row=1, col=col)
    fig.update_layout(template=TEMPLATE, title=title, height=max(260, 40 * effects["seq_id"].nunique() + 150))
    return fig

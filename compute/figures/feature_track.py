"""The gene view's feature track: one SAE feature's activation along each isoform, on the switchPlot's axis.

Top: the transcript structures as in :func:`isograph.figures.switch_plot.switch_plot` (same colours, same
5'->3' axis, introns compressed the same way); below, one panel per isoform with the feature's activation on
each of its tokens at the token's genomic position (all panels on one y scale; the line breaks between
exons).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from isograph.figures.common import TEMPLATE, empty_figure, lighter
from isograph.figures.switch_plot import draw_structures, drawing_axis

__all__ = ["isoform_feature_track"]


def isoform_feature_track(models: pd.DataFrame, tokens: pd.DataFrame, colours: dict[str, str], *, feature: int,
                          compress: bool = True, title: str | None = None) -> go.Figure:
    """One feature along each isoform of a gene.

    Parameters
    ----------
    models : DataFrame
        Transcript models of the gene (:func:`isograph.structure.models.transcript_models` rows).
    tokens : DataFrame
        :func:`isograph.sae.transcript_track.transcript_activations` output (``transcript_id, token,
        tx_start, tx_end, genomic, region, activation``).
    colours : dict of str to str
        Transcript ID -> colour, in drawing order (the switchPlot's isoforms and colours).
    feature : int
        The feature (named in the panels' axis titles).
    compress : bool, default True
        Draw introns short.
    title : str, optional

    Returns
    -------
    go.Figure
        Row 1: structures; rows 2..n+1: the activation of ``feature`` along each isoform (shared y scale).
    """
    drawn = models.set_index("transcript_id").reindex(list(colours)).dropna(subset=["exon_starts"])
    drawn = drawn[drawn.index.isin(tokens["transcript_id"])]
    if drawn.empty:
        return empty_figure("none of these isoforms has a transcript model and a sequence")
    colours = {t: colours[t] for t in drawn.index}
    n = len(drawn)
    top = float(tokens["activation"].max()) if len(tokens) else 0.0
    fig = make_subplots(rows=n + 1, cols=1, shared_xaxes=True, vertical_spacing=0.03,
                        row_heights=[0.3 * n] + [1.0] * n,
                        subplot_titles=["Transcript structures (drawn 5′→3′; CDS dark, UTR light"
                                        + (", introns compressed)" if compress else ")")])
    x_of, minus = drawing_axis(drawn, compress=compress)
    draw_structures(fig, drawn, colours, x_of)
    fig.update_yaxes(visible=False, range=[-n + 0.4, 0.6], row=1, col=1)
    for i, (tid, model) in enumerate(drawn.iterrows(), start=2):
        mine = tokens[tokens["transcript_id"] == tid].sort_values("tx_start")
        exon = np.searchsorted(np.asarray(model["exon_starts"]), mine["genomic"].to_numpy(), side="right")
        text = (mine["token"] + " · bases " + (mine["tx_start"] + 1).astype(str) + "–" + mine["tx_end"].astype(str)
                + " · " + str(model["seqname"]) + ":" + mine["genomic"].astype(str) + " · " + mine["region"])
        xs, ys, hover = [], [], []
        for part in np.split(np.arange(len(mine)), np.flatnonzero(np.diff(exon) != 0) + 1):  # one piece per exon
            x = x_of(mine["genomic"].to_numpy()[part]).tolist()
            xs += [x[0], *x, x[-1], None]  # closed at 0 on both ends, so the fill never spans an intron
            ys += [0.0, *mine["activation"].to_numpy()[part].tolist(), 0.0, None]
            hover += [None, *text.to_numpy()[part].tolist(), None, None]
        fig.add_scatter(x=xs, y=ys, mode="lines", line={"color": colours[tid], "width": 1.3}, fill="tozeroy",
                        fillcolor=lighter(colours[tid]), name=tid, legendgroup=tid, showlegend=False, hovertext=hover,
                        hovertemplate=f"{tid}<br>%{{hovertext}}<br>feature {feature}: %{{y:.3g}}<extra></extra>",
                        row=i, col=1)
        fig.update_yaxes(range=[0, max(top, 1e-6) * 1.08], title_text=f"{tid}<br>f{feature} (max {mine['activation'].max():.3g})",
                         title_font={"size": 10, "color": colours[tid]}, row=i, col=1)
    fig.update_xaxes(showticklabels=not compress, row=n + 1, col=1,
                     title_text=f"{drawn['seqname'].iloc[0]}, {'−' if minus else '+'} strand"
                                + (" (introns compressed)" if compress else ""))
    fig.update_layout(template=TEMPLATE, title=title, height=160 + 28 * n + 110 * n, hovermode="closest",
                      legend={"title": "isoform", "orientation": "h", "y": -0.06, "yanchor": "top"},
                      margin={"t": 60, "b": 90})
    return fig

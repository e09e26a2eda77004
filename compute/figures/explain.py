"""Figures of explain-module results: driver barplot, usage gradients, driver heatmap, eigengene, contrast.

Colours: r > 0 (used more in high-module samples) red, r < 0 (used more in low-module samples) blue.
A click can open the gene view: bars carry the gene ID in ``customdata``, heatmap rows are feature IDs (the
labels with gene names are tick text), so no ID is repeated for every point or cell of a figure.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots
from statsmodels.nonparametric.smoothers_lowess import lowess

from isograph.figures.common import (
    HIGH_WORDS,
    LOW_WORDS,
    NEGATIVE,
    POSITIVE,
    TEMPLATE,
    empty_figure,
    gene_labels,
    lighter,
)
from isograph.figures.switch_plot import isoform_colours

__all__ = ["CHANNEL_WORDS", "driver_barplot", "driver_heatmap", "eigengene_overview", "high_low_contrast", "usage_gradient"]


CHANNEL_WORDS = {"switch": "switch score (within-gene transcript usage)", "abundance": "abundance score (expression)"}


def driver_barplot(drivers: pd.DataFrame, *, top_n: int = 30, title: str | None = None, channel: str = "switch",
                   alpha: float = 0.05) -> go.Figure:
    """Top driver genes of one channel: |r| of the channel's score with the eigengene, its 95% CI.

    Parameters
    ----------
    drivers
        a ``gene_driver_table`` (``gene_id, {channel}_r, {channel}_qvalue, {channel}_ci_low,
        {channel}_ci_high, n_samples, switch_called`` [, ``gene_name``]). A table written before switch
        calls (no ``{channel}_r``) is drawn from ``r, qvalue, ci_low, ci_high``.
    top_n
        genes shown, by |r|.
    title
        figure title.
    channel
        ``"switch"``: bars solid for called switches, faded otherwise; ``"abundance"``: solid where the
        abundance q <= ``alpha``.
    alpha
        the significance level of the solid bars (the run's ``switch_alpha``).

    Returns
    -------
    go.Figure
        A horizontal bar chart, strongest driver on top; one trace per sign and status ("r > 0, called
        switch", "r > 0, not called", ...), bar ``customdata`` = ``[gene_id, r, qvalue, n_samples]``, error
        bars = the CI of |r|.
    """
    prefix = f"{channel}_" if f"{channel}_r" in drivers else ""
    table = drivers
    if prefix:  # the channel's columns under the generic names
        stats = ("r", "qvalue", "ci_low", "ci_high")
        table = drivers.drop(columns=list(stats)).rename(columns={f"{prefix}{c}": c for c in stats})
    table = table.dropna(subset=["r"]).copy()
    table = table.iloc[np.argsort(-table["r"].abs().to_numpy(), kind="stable")].head(top_n)
    table["label"] = gene_labels(table)
    table["abs_r"] = table["r"].abs()
    # CI of |r|: for r < 0 the interval [lo, hi] of r maps to [-hi, -lo]
    upper = np.where(table["r"] >= 0, table["ci_high"], -table["ci_low"])
    lower = np.where(table["r"] >= 0, table["ci_low"], -table["ci_high"])
    table["err_plus"], table["err_minus"] = upper - table["abs_r"], table["abs_r"] - lower
    if not prefix:
        solid, status = np.ones(len(table), dtype=bool), ("", "")
        what = "driver channel score"
    elif channel == "switch":
        solid = table["switch_called"].astype(bool).to_numpy() if "switch_called" in table else np.zeros(len(table), bool)
        status, what = ("called switch", "not called"), CHANNEL_WORDS["switch"]
    else:
        solid = (table["qvalue"] <= alpha).to_numpy()
        status, what = (f"q ≤ {alpha:g}", f"q > {alpha:g}"), CHANNEL_WORDS["abundance"]
    fig = go.Figure()
    for sign, is_positive, colour, words in (("r > 0", True, POSITIVE, HIGH_WORDS), ("r < 0", False, NEGATIVE, LOW_WORDS)):
        for is_solid, state in ((True, status[0]), (False, status[1])):
            part = table[((table["r"] > 0) == is_positive) & (table["r"] != 0) & (solid == is_solid)]
            if part.empty:
                continue
            fig.add_bar(
                name=f"{sign}, {state}" if state else sign, orientation="h", x=part["abs_r"], y=part["label"],
                marker={"color": colour if is_solid else lighter(colour, 0.65)},  # the legend shows it as drawn
                error_x={"type": "data", "array": part["err_plus"], "arrayminus": part["err_minus"], "color": "#444"},
                customdata=np.column_stack([part["gene_id"], part["r"], part["qvalue"], part["n_samples"]]),
                hovertemplate=(f"<b>%{{y}}</b><br>{what}: r = %{{customdata[1]:.3f}}, q = %{{customdata[2]:.2e}}"
                               " (Pearson with the eigengene, BH)<br>n = %{customdata[3]} samples<br>"
                               f"{words.replace('used more', 'score higher')}"
                               + (f"<br>{state}" if state else "") + "<extra></extra>"),
            )
    fig.update_layout(
        template=TEMPLATE, title=title, barmode="overlay", xaxis_title=f"|r| of the {what} with the module eigengene"
        " (95% CI)", yaxis={"categoryorder": "array", "categoryarray": table["label"].tolist()[::-1], "title": None},
        height=max(300, 22 * len(table) + 120), legend={"title": None}, clickmode="event",
    )
    return fig


def _lowess(x: np.ndarray, y: np.ndarray, frac: float) -> tuple[np.ndarray, np.ndarray]:
    ok = np.isfinite(x) & np.isfinite(y)
    if ok.sum() < 5:
        return np.array([]), np.array([])
    fit = lowess(y[ok], x[ok], frac=frac, return_sorted=True)
    return fit[:, 0], fit[:, 1]


def usage_gradient(
    polarity: pd.DataFrame,
    usage: pd.DataFrame,
    eigengene: pd.Series,
    *,
    genes: Sequence[str] | None = None,
    top_n: int = 6,
    lowess_frac: float = 0.6,
    columns: int = 3,
) -> go.Figure:
    """Transcript usage against the module eigengene, one panel per gene, with a LOWESS trend per transcript.

    Parameters
    ----------
    polarity
        the module's ``transcript_polarity_table`` (``feature_id, gene_id, r, feature_type``).
    usage
        samples x features table (transcript usage fractions).
    eigengene
        eigengene per sample (index sample_id).
    genes
        genes to draw (default: the ``top_n`` by switch strength, the table's order).
    top_n
        number of genes without ``genes``.
    lowess_frac
        LOWESS span (statsmodels ``frac``).
    columns
        panels per row.

    Returns
    -------
    go.Figure
        Subplots; per transcript a marker trace (``name`` = feature ID) and a LOWESS line trace (``name``
        "{feature} (r > 0)" or "(r < 0)"), both in the transcript's own colour
        (:func:`isograph.figures.switch_plot.isoform_colours`, as the gene view draws it); the legend lists
        every transcript's trend under its gene's name (a click hides one trend).
    """
    tu = polarity[polarity["feature_type"] == "transcript_usage"] if "feature_type" in polarity else polarity
    if genes is None:
        genes = list(dict.fromkeys(tu["gene_id"]))[:top_n]
    genes = [g for g in genes if g in set(tu["gene_id"])]
    if not genes:
        return empty_figure("no transcript-usage features for these genes")
    rows = math.ceil(len(genes) / columns)
    cols = min(columns, len(genes))
    labels = {g: str(n) for g, n in zip(tu["gene_id"], tu.get("gene_name", tu["gene_id"])) if isinstance(n, str)}
    fig = make_subplots(rows=rows, cols=cols, subplot_titles=[labels.get(g, g) for g in genes],
                        shared_xaxes=True, horizontal_spacing=0.06, vertical_spacing=0.12)
    samples = eigengene.dropna().index.intersection(usage.index)
    x = eigengene.loc[samples].to_numpy(dtype=float)
    n_entries = 0
    for i, gene in enumerate(genes):
        row, col = i // cols + 1, i % cols + 1
        part = tu[tu["gene_id"] == gene].sort_values("r", ascending=False)
        colours = isoform_colours([str(f) for f in part["feature_id"]])  # one hue per transcript, as the gene view
        for j, (feature, r) in enumerate(part[["feature_id", "r"]].itertuples(index=False)):
            colour = colours[str(feature)]
            y = usage.loc[samples, feature].to_numpy(dtype=float)
            fig.add_scatter(x=x, y=y, mode="markers", name=str(feature), legendgroup=str(gene),
                            marker={"size": 4, "color": colour, "opacity": 0.45}, row=row, col=col,
                            showlegend=False,
                            hovertemplate=f"{feature}<br>eigengene %{{x:.2f}}<br>usage %{{y:.2f}}<extra>r = {r:.2f}</extra>")
            tx, ty = _lowess(x, y, lowess_frac)
            # every transcript is a legend entry of its own, under its gene, with the sign of its r in words
            fig.add_scatter(x=tx, y=ty, mode="lines", name=f"{feature} ({_direction(r)})",
                            legendgroup=str(gene), line={"color": colour, "width": 2.5}, row=row, col=col,
                            showlegend=True, hoverinfo="skip",
                            legendgrouptitle_text=labels.get(gene, gene) if j == 0 else None)
            n_entries += 1
    # the legend (right) lists every transcript under its gene; the figure is tall enough to hold it whole
    legend_px = 22 * n_entries + 34 * len(genes) + 140
    fig.update_layout(template=TEMPLATE, height=max(260 * rows + 80, legend_px),
                      legend={"tracegroupgap": 10, "groupclick": "toggleitem", "font": {"size": 10}})
    fig.update_xaxes(title_text="module eigengene", row=rows)
    fig.update_yaxes(title_text="usage", col=1, range=[-0.02, 1.02])
    return fig


def _direction(r: float) -> str:
    return "r > 0" if r > 0 else "r < 0" if r < 0 else "r = 0" if np.isfinite(r) else "no r"


def driver_heatmap(polarity: pd.DataFrame, usage: pd.DataFrame, eigengene: pd.Series, *, top_n: int = 15) -> go.Figure:
    """Z-scored usage of the top positive and top negative driver transcripts, samples ordered by eigengene.

    Parameters
    ----------
    polarity
        ``transcript_polarity_table``.
    usage
        samples x features table.
    eigengene
        eigengene per sample.
    top_n
        transcripts per sign (largest r first, then the most negative).

    Returns
    -------
    go.Figure
        A heatmap whose rows are the positive drivers (largest r at the top) then the negative ones,
        columns the samples by increasing eigengene, values z-scored per row (NaN kept); ``y`` holds each
        row's feature ID (what a click reports), the tick labels add the gene name.
    """
    tu = polarity[polarity["feature_type"] == "transcript_usage"] if "feature_type" in polarity else polarity
    tu = tu.dropna(subset=["r"])
    pos = tu[tu["r"] > 0].sort_values("r", ascending=False).head(top_n)
    neg = tu[tu["r"] < 0].sort_values("r").head(top_n)
    rows = pd.concat([pos, neg.iloc[::-1]])
    if rows.empty:
        return empty_figure("no correlated transcripts")
    samples = eigengene.dropna().sort_values().index.intersection(usage.index, sort=False)
    values = usage.loc[samples, rows["feature_id"]].to_numpy(dtype=float).T
    with np.errstate(invalid="ignore"):
        z = (values - np.nanmean(values, axis=1, keepdims=True)) / np.nanstd(values, axis=1, ddof=1, keepdims=True)
    labels = [f"{f} ({n})" if isinstance(n, str) and n != g else str(f)
              for f, g, n in zip(rows["feature_id"], rows["gene_id"], rows.get("gene_name", rows["gene_id"]))]
    features = [str(f) for f in rows["feature_id"]][::-1]
    fig = go.Figure(go.Heatmap(
        z=z[::-1], y=features, x=list(samples), colorscale="RdBu_r", zmid=0, zmin=-3, zmax=3,
        colorbar={"title": "z usage"}, hovertemplate="%{y}<br>%{x}<br>z = %{z:.2f}<extra></extra>",
    ))
    fig.update_layout(template=TEMPLATE, xaxis={"title": "samples, by increasing module eigengene", "showticklabels": False},
                      yaxis={"tickmode": "array", "tickvals": features, "ticktext": labels[::-1]},
                      height=max(320, 18 * len(rows) + 140))
    return fig


def eigengene_overview(eigengene: pd.DataFrame, *, title: str | None = None) -> go.Figure:
    """The eigengene of every sample in increasing order, coloured by high/low group.

    Parameters
    ----------
    eigengene
        ``module_eigengene.parquet`` (``sample_id, eigengene, group``).
    title
        figure title.

    Returns
    -------
    go.Figure
        One marker trace per group (``high``, ``low``, ``both``, ``middle``), x = rank.
    """
    table = eigengene.dropna(subset=["eigengene"]).sort_values("eigengene").reset_index(drop=True)
    colours = {"high": POSITIVE, "low": NEGATIVE, "both": "#8e44ad", "middle": "#999999"}
    fig = go.Figure()
    for group, part in table.groupby("group", sort=False):
        fig.add_scatter(x=part.index, y=part["eigengene"], mode="markers", name=str(group),
                        marker={"color": colours.get(str(group), "#333"), "size": 6}, text=part["sample_id"],
                        hovertemplate="%{text}<br>eigengene %{y:.2f}<extra></extra>")
    fig.update_layout(template=TEMPLATE, title=title, xaxis_title="samples, ranked", yaxis_title="module eigengene")
    return fig


def high_low_contrast(contrast: pd.DataFrame, *, title: str | None = None) -> go.Figure:
    """Difference in mean usage between high- and low-module samples per transcript, with 95% CI.

    Parameters
    ----------
    contrast
        ``high_vs_low_table`` rows (``feature_id, delta, se, df, pvalue`` ...), e.g. of one gene.
    title
        figure title.

    Returns
    -------
    go.Figure
        One marker per transcript at ``delta`` with a Welch 95% interval (t quantile with the row's df),
        red when used more in high-module samples.
    """
    from scipy import stats

    table = contrast.dropna(subset=["delta"]).sort_values("delta", ascending=False)
    half = stats.t.ppf(0.975, table["df"].fillna(np.inf)) * table["se"].fillna(0.0)
    colours = np.where(table["delta"] > 0, POSITIVE, NEGATIVE)
    fig = go.Figure(go.Scatter(
        x=table["delta"], y=table["feature_id"].astype(str), mode="markers",
        marker={"color": colours, "size": 11}, error_x={"type": "data", "array": half, "color": "#444"},
        customdata=np.column_stack([table["mean_high"], table["mean_low"], table["pvalue"]]),
        hovertemplate="%{y}<br>high − low = %{x:.3f}<br>high %{customdata[0]:.3f}, low %{customdata[1]:.3f}"
                      "<br>p = %{customdata[2]:.2e}<extra></extra>",
    ))
    fig.add_vline(x=0, line_color="#999")
    fig.update_layout(template=TEMPLATE, title=title, xaxis_title="mean usage, high − low module samples (95% CI)",
                      yaxis={"categoryorder": "array", "categoryarray": table["feature_id"].astype(str).tolist()[::-1]},
                      height=max(260, 40 * len(table) + 120), showlegend=False)
    return fig

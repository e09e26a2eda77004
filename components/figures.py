"""Figures: pure functions from compute tables to plotly Figures, shared by the app and ``--plot``.

Every function takes its data first and options keyword-only, reads only the tables that
``compute.explain`` / ``compute.structure`` produce, and returns one ``go.Figure``. Traces carry the
gene ID in ``customdata`` so that a click can open the gene view. Colours: r > 0 (used more in
high-module samples) red, r < 0 (used more in low-module samples) blue.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots
from statsmodels.nonparametric.smoothers_lowess import lowess

__all__ = [
    "NEGATIVE",
    "POSITIVE",
    "activation_histogram",
    "consequence_summary",
    "driver_barplot",
    "driver_heatmap",
    "eigengene_overview",
    "empty_figure",
    "high_low_contrast",
    "intervention_effects",
    "intervention_side_by_side",
    "sequence_heat",
    "switch_pair",
    "training_curves",
    "transcript_structures",
    "usage_gradient",
]

POSITIVE, NEGATIVE = "#c0392b", "#2c6fbb"
HIGH_WORDS, LOW_WORDS = "used more in high-module samples", "used more in low-module samples"
TEMPLATE = "simple_white"


def empty_figure(message: str = "") -> go.Figure:
    """A blank, axis-less figure with an optional centred message (placeholder before data arrive)."""
    fig = go.Figure(layout={"template": TEMPLATE, "xaxis": {"visible": False}, "yaxis": {"visible": False}})
    if message:
        fig.add_annotation(text=message, showarrow=False, font={"size": 14, "color": "#666"})
    return fig


def _label(table: pd.DataFrame) -> pd.Series:
    names = table["gene_name"] if "gene_name" in table else pd.Series(index=table.index, dtype=object)
    return names.where(names.notna() & (names != table["gene_id"]), table["gene_id"]).astype(str)


def driver_barplot(drivers: pd.DataFrame, *, top_n: int = 30, title: str | None = None) -> go.Figure:
    """Top driver genes: |r| with its 95% CI, coloured by the sign of r.

    Args:
        drivers: a ``gene_driver_table`` (``gene_id, r, qvalue, n_samples, ci_low, ci_high`` [,
            ``gene_name``]).
        top_n: genes shown, by |r|.
        title: figure title.

    Returns:
        A horizontal bar chart, strongest driver on top; one trace per sign ("r > 0", "r < 0"), bar
        ``customdata`` = ``[gene_id, r, qvalue, n_samples]``, error bars = the CI of |r|.
    """
    table = drivers.dropna(subset=["r"]).copy()
    table = table.iloc[np.argsort(-table["r"].abs().to_numpy(), kind="stable")].head(top_n)
    table["label"] = _label(table)
    table["abs_r"] = table["r"].abs()
    # CI of |r|: for r < 0 the interval [lo, hi] of r maps to [-hi, -lo]
    upper = np.where(table["r"] >= 0, table["ci_high"], -table["ci_low"])
    lower = np.where(table["r"] >= 0, table["ci_low"], -table["ci_high"])
    table["err_plus"], table["err_minus"] = upper - table["abs_r"], table["abs_r"] - lower
    fig = go.Figure()
    for name, mask, colour, words in (("r > 0", table["r"] > 0, POSITIVE, HIGH_WORDS),
                                      ("r < 0", table["r"] < 0, NEGATIVE, LOW_WORDS)):
        part = table[mask]
        fig.add_bar(
            name=name, orientation="h", x=part["abs_r"], y=part["label"], marker_color=colour,
            error_x={"type": "data", "array": part["err_plus"], "arrayminus": part["err_minus"], "color": "#444"},
            customdata=np.column_stack([part["gene_id"], part["r"], part["qvalue"], part["n_samples"]]),
            hovertemplate=("<b>%{y}</b><br>r = %{customdata[1]:.3f}<br>q = %{customdata[2]:.2e}<br>"
                           f"n = %{{customdata[3]}}<br>switch score {words.replace('used more', 'higher')}"
                           "<extra></extra>"),
        )
    fig.update_layout(
        template=TEMPLATE, title=title, barmode="overlay", xaxis_title="|r| with module eigengene (95% CI)",
        yaxis={"categoryorder": "array", "categoryarray": table["label"].tolist()[::-1], "title": None},
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

    Args:
        polarity: the module's ``transcript_polarity_table`` (``feature_id, gene_id, r, feature_type``).
        usage: samples x features table (transcript usage fractions).
        eigengene: eigengene per sample (index sample_id).
        genes: genes to draw (default: the ``top_n`` by switch strength, the table's order).
        top_n: number of genes without ``genes``.
        lowess_frac: LOWESS span (statsmodels ``frac``).
        columns: panels per row.

    Returns:
        Subplots; per transcript a marker trace (``name`` = feature ID, ``customdata`` = gene ID) and a
        LOWESS line trace (``name`` ends with " trend"); transcripts with r > 0 drawn in red shades.
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
    for i, gene in enumerate(genes):
        row, col = i // cols + 1, i % cols + 1
        part = tu[tu["gene_id"] == gene].sort_values("r", ascending=False)
        shades = _shades(part["r"].to_numpy())
        for (feature, r), colour in zip(part[["feature_id", "r"]].itertuples(index=False), shades):
            y = usage.loc[samples, feature].to_numpy(dtype=float)
            fig.add_scatter(x=x, y=y, mode="markers", name=str(feature), legendgroup=str(feature),
                            marker={"size": 4, "color": colour, "opacity": 0.45}, row=row, col=col,
                            customdata=[gene] * len(x), showlegend=False,
                            hovertemplate=f"{feature}<br>eigengene %{{x:.2f}}<br>usage %{{y:.2f}}<extra>r = {r:.2f}</extra>")
            tx, ty = _lowess(x, y, lowess_frac)
            fig.add_scatter(x=tx, y=ty, mode="lines", name=f"{feature} trend", legendgroup=str(feature),
                            line={"color": colour, "width": 2.5}, row=row, col=col, showlegend=True,
                            hoverinfo="skip")
    fig.update_layout(template=TEMPLATE, height=260 * rows + 80, legend={"title": "transcript"})
    fig.update_xaxes(title_text="module eigengene", row=rows)
    fig.update_yaxes(title_text="usage", col=1, range=[-0.02, 1.02])
    return fig


def _shades(r: np.ndarray) -> list[str]:
    """Red for r > 0, blue for r < 0, paler with smaller |r|."""
    out = []
    for value in r:
        base = (192, 57, 43) if value > 0 else (44, 111, 187)
        weight = 0.35 + 0.65 * min(abs(value) if np.isfinite(value) else 0.0, 1.0)
        rgb = [int(255 - (255 - c) * weight) for c in base]
        out.append(f"rgb({rgb[0]},{rgb[1]},{rgb[2]})")
    return out


def driver_heatmap(polarity: pd.DataFrame, usage: pd.DataFrame, eigengene: pd.Series, *, top_n: int = 15) -> go.Figure:
    """Z-scored usage of the top positive and top negative driver transcripts, samples ordered by eigengene.

    Args:
        polarity: ``transcript_polarity_table``.
        usage: samples x features table.
        eigengene: eigengene per sample.
        top_n: transcripts per sign (largest r first, then the most negative).

    Returns:
        A heatmap whose rows are the positive drivers (largest r at the top) then the negative ones,
        columns the samples by increasing eigengene, values z-scored per row (NaN kept); ``customdata``
        holds each row's gene ID.
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
    fig = go.Figure(go.Heatmap(
        z=z[::-1], y=labels[::-1], x=list(samples), colorscale="RdBu_r", zmid=0, zmin=-3, zmax=3,
        colorbar={"title": "z usage"}, customdata=np.repeat(rows["gene_id"].to_numpy()[::-1, None], len(samples), axis=1),
        hovertemplate="%{y}<br>%{x}<br>z = %{z:.2f}<extra></extra>",
    ))
    fig.update_layout(template=TEMPLATE, xaxis={"title": "samples, by increasing module eigengene", "showticklabels": False},
                      height=max(320, 18 * len(rows) + 140))
    return fig


def eigengene_overview(eigengene: pd.DataFrame, *, title: str | None = None) -> go.Figure:
    """The eigengene of every sample in increasing order, coloured by high/low group.

    Args:
        eigengene: ``module_eigengene.parquet`` (``sample_id, eigengene, group``).
        title: figure title.

    Returns:
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

    Args:
        contrast: ``high_vs_low_table`` rows (``feature_id, delta, se, df, pvalue`` ...), e.g. of one gene.
        title: figure title.

    Returns:
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


def transcript_structures(models: pd.DataFrame, *, r: pd.Series | None = None, title: str | None = None) -> go.Figure:
    """UCSC-style transcript glyphs: tall CDS, short UTR boxes, intron lines with strand arrows.

    Args:
        models: rows of ``compute.structure.transcript_models`` for one gene.
        r: optional r per transcript_id, shown in the labels and used for the colour.
        title: figure title.

    Returns:
        One row per transcript (ordered by r when given). Exon parts are filled rectangles in
        ``layout.shapes`` (CDS height 0.5, UTR 0.25), introns a line trace with arrow markers pointing
        5'→3'. A minus-strand gene is drawn 5'→3' left to right (x axis reversed).
    """
    if models.empty:
        return empty_figure("no transcript models for this gene (is the GTF in the dataset?)")
    table = models.copy()
    if r is not None:
        table["r"] = table["transcript_id"].map(r)
        table = table.sort_values("r", ascending=False, na_position="last")
    minus = (table["strand"] == "-").all()
    fig = go.Figure()
    labels = []
    for row_index, model in enumerate(table.itertuples(index=False)):
        y = -row_index
        rv = getattr(model, "r", np.nan)
        colour = POSITIVE if rv > 0 else NEGATIVE if rv < 0 else "#555555"
        labels.append(f"{model.transcript_id}" + (f" (r = {rv:+.2f})" if np.isfinite(rv) else ""))
        starts, ends = np.asarray(model.exon_starts), np.asarray(model.exon_ends)
        _exon_shapes(fig, starts, ends, y, (int(model.cds_start), int(model.cds_end)), bool(model.coding),
                     [colour] * len(starts))
        if len(starts) > 1:
            _intron_lines(fig, starts, ends, y, colour)
            arrows = [x for e, s in zip(ends[:-1], starts[1:]) for x in np.linspace(e, s, 4)[1:-1]]
            fig.add_scatter(x=arrows, y=[y] * len(arrows), mode="markers", hoverinfo="skip", showlegend=False,
                            marker={"symbol": "triangle-left" if model.strand == "-" else "triangle-right",
                                    "size": 7, "color": colour})
        fig.add_scatter(x=[(starts.min() + ends.max()) / 2], y=[y], mode="markers", marker={"opacity": 0},
                        showlegend=False, name=str(model.transcript_id),
                        hovertemplate=(f"{model.transcript_id}<br>{model.biotype}, {model.length} nt, ORF"
                                       f" {model.orf_length} nt{', NMD sensitive' if model.nmd else ''}<extra></extra>"))
    fig.update_layout(
        template=TEMPLATE, title=title, height=max(260, 60 * len(table) + 140), showlegend=False,
        yaxis={"tickvals": [-i for i in range(len(table))], "ticktext": labels, "range": [-len(table) + 0.4, 0.6],
               "showgrid": False, "zeroline": False},
        xaxis={"title": f"{table['seqname'].iloc[0]} ({'−' if minus else '+'} strand, drawn 5′→3′)",
               "autorange": "reversed" if minus else True, "showgrid": False, "tickformat": ","},
    )
    return fig


def _exon_shapes(fig: go.Figure, starts: np.ndarray, ends: np.ndarray, y: float, cds: tuple[int, int], coding: bool,
                 fills: list[str]) -> None:
    """One transcript's exons as rectangles at height ``y`` (CDS tall, UTR short), exon i filled ``fills[i]``."""
    for s, e, fill in zip(starts, ends, fills):
        for lo, hi, height in _exon_parts(int(s), int(e), cds[0], cds[1], coding):
            fig.add_shape(type="rect", x0=lo - 0.5, x1=hi + 0.5, y0=y - height / 2, y1=y + height / 2,
                          fillcolor=fill, line={"width": 0})


def _intron_lines(fig: go.Figure, starts: np.ndarray, ends: np.ndarray, y: float, colour: str) -> None:
    """One line trace joining consecutive exons (genomic, ascending) at height ``y``."""
    xs, ys = [], []
    for e, s in zip(ends[:-1], starts[1:]):
        xs += [e + 0.5, s - 0.5, None]
        ys += [y, y, None]
    fig.add_scatter(x=xs, y=ys, mode="lines", line={"color": colour, "width": 1.2}, hoverinfo="skip", showlegend=False)


def _exon_parts(start: int, end: int, cds_start: int, cds_end: int, coding: bool) -> list[tuple[int, int, float]]:
    """Split an exon into UTR (height 0.25) and CDS (0.5) pieces, genomic coordinates."""
    if not coding or end < cds_start or start > cds_end:
        return [(start, end, 0.25)]
    parts = []
    if start < cds_start:
        parts.append((start, cds_start - 1, 0.25))
    parts.append((max(start, cds_start), min(end, cds_end), 0.5))
    if end > cds_end:
        parts.append((cds_end + 1, end, 0.25))
    return parts


def intervention_effects(effects: pd.DataFrame, *, title: str | None = None) -> go.Figure:
    """Per-token effect of a feature intervention: KL(base || edited) along each sequence.

    Args:
        effects: ``compute.sae.intervene`` effects (``seq_id, token_index, token, kl, z_before, z_after,
            top_token_before, top_token_after, top_changed``).
        title: figure title.

    Returns:
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


UNIQUE_EXON = "#e67e22"
REGION_COLOURS = {"5'UTR": "#95a5a6", "CDS": "#2c3e50", "3'UTR": "#bdc3c7", "exon": "#7f8c8d"}


def switch_pair(model_1: pd.Series, model_2: pd.Series, *, consequences: str | None = None,
                title: str | None = None) -> go.Figure:
    """Both transcripts of a switch pair on one genomic axis, with their differences highlighted.

    Args:
        model_1, model_2: ``compute.structure.transcript_models`` rows (transcript 1 = used more in
            low-module samples, drawn blue on top; transcript 2 = used more in high-module samples, red).
        consequences: the pair's words ("; "-joined), written under the title.
        title: figure title (default "T1 → T2").

    Returns:
        Exons as rectangles (CDS tall, UTR short); an exon that the other transcript does not overlap at
        all is orange (exon gained or lost); the CDS span of each coding transcript is outlined; a stop
        codon that makes a transcript NMD sensitive is a black "PTC" marker. A minus-strand gene is drawn
        5'→3' left to right.
    """
    fig = go.Figure()
    models = [model_1, model_2]
    colours = [NEGATIVE, POSITIVE]
    for row, (model, other) in enumerate(zip(models, models[::-1])):
        y = -row
        starts, ends = np.asarray(model["exon_starts"]), np.asarray(model["exon_ends"])
        o_starts, o_ends = np.asarray(other["exon_starts"]), np.asarray(other["exon_ends"])
        unique = [not ((o_starts <= e) & (o_ends >= s)).any() for s, e in zip(starts, ends)]
        _exon_shapes(fig, starts, ends, y, (int(model["cds_start"]), int(model["cds_end"])), bool(model["coding"]),
                     [UNIQUE_EXON if u else colours[row] for u in unique])
        if len(starts) > 1:
            _intron_lines(fig, starts, ends, y, colours[row])
        if bool(model["coding"]):
            fig.add_shape(type="rect", x0=int(model["cds_start"]) - 0.5, x1=int(model["cds_end"]) + 0.5,
                          y0=y - 0.32, y1=y + 0.32, line={"color": "#333", "width": 1, "dash": "dot"})
        if bool(model["nmd"]):
            stop = int(model["cds_start"]) if model["strand"] == "-" else int(model["cds_end"])
            fig.add_scatter(x=[stop], y=[y + 0.42], mode="markers+text", text=["PTC"], textposition="top center",
                            marker={"symbol": "triangle-down", "size": 11, "color": "#000"}, showlegend=False,
                            hovertemplate=f"premature termination codon: stop {model['stop_to_last_junction']:.0f} nt"
                                          " before the last exon junction (NMD sensitive)<extra></extra>")
        fig.add_scatter(x=[(starts.min() + ends.max()) / 2], y=[y], mode="markers", marker={"opacity": 0},
                        showlegend=False, hovertemplate=(f"{model['transcript_id']}<br>{model['biotype']},"
                                                         f" {model['length']} nt, ORF {model['orf_length']} nt"
                                                         "<extra></extra>"))
    labels = [f"1: {model_1['transcript_id']}<br>(low-module)", f"2: {model_2['transcript_id']}<br>(high-module)"]
    minus = model_1["strand"] == "-"
    heading = title or f"{model_1['transcript_id']} → {model_2['transcript_id']}"
    if consequences:
        heading += "<br><sup>" + _wrap(consequences, 110) + "</sup>"
    fig.update_layout(
        template=TEMPLATE, title=heading, height=330, showlegend=False, margin={"t": 90},
        yaxis={"tickvals": [0, -1], "ticktext": labels, "range": [-1.7, 0.9], "showgrid": False, "zeroline": False},
        xaxis={"title": f"{model_1['seqname']} ({'−' if minus else '+'} strand, drawn 5′→3′); orange: exon only in"
                        " this transcript; dotted: CDS span",
               "autorange": "reversed" if minus else True, "showgrid": False, "tickformat": ","},
    )
    return fig


def _wrap(text: str, width: int) -> str:
    lines, line = [], ""
    for word in text.split(" "):
        if len(line) + len(word) + 1 > width and line:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}".strip()
    return "<br>".join(lines + [line])


def consequence_summary(enrichment: pd.DataFrame, *, q_threshold: float = 0.05, title: str | None = None) -> go.Figure:
    """IsoformSwitchAnalyzeR's consequence-enrichment plot: fraction of switches with the first form.

    Args:
        enrichment: ``compute.consequence_enrichment.consequence_enrichment`` rows.
        q_threshold: rows with q below it are drawn filled red, others grey.
        title: figure title.

    Returns:
        One row per consequence type (y = "gain (paired with loss)"), x = fraction with 95% Clopper-Pearson
        interval, a dashed line at 0.5 and the counts ``n_gain/n_total`` as text.
    """
    if enrichment is None or enrichment.empty:
        return empty_figure("no annotated switch shows a paired consequence")
    table = enrichment.iloc[::-1]
    significant = table["qvalue"] < q_threshold
    fig = go.Figure(go.Scatter(
        x=table["fraction_gain"], y=table["comparison"], mode="markers+text",
        text=[f"{g}/{n}" for g, n in zip(table["n_gain"], table["n_total"])], textposition="middle right",
        error_x={"type": "data", "symmetric": False, "array": table["ci_high"] - table["fraction_gain"],
                 "arrayminus": table["fraction_gain"] - table["ci_low"], "color": "#555"},
        marker={"size": 10, "color": np.where(significant, POSITIVE, "#999999")},
        customdata=np.c_[table["pvalue"], table["qvalue"]],
        hovertemplate="%{y}<br>fraction %{x:.2f} (%{text})<br>p %{customdata[0]:.3g}, q %{customdata[1]:.3g}<extra></extra>",
    ))
    fig.add_vline(x=0.5, line_dash="dash", line_color="#888")
    fig.update_layout(template=TEMPLATE, title=title, height=max(260, 34 * len(table) + 120),
                      xaxis={"title": f"fraction of switches with the first consequence (95% CI); red: q < {q_threshold}",
                             "range": [-0.02, 1.12]}, yaxis={"automargin": True})
    return fig


def activation_histogram(histogram: pd.DataFrame, *, title: str | None = None) -> go.Figure:
    """Histogram of a feature's non-zero activations (``left, right, count`` bins, log count axis)."""
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

    Args:
        heat: ``seq_id, token_index, token, start, end, activation`` (``compute.sae.features.token_activations``).
        tracks: per seq_id, ``start, end, kind`` in bases (``compute.sae.features.sequence_track``): 5'UTR/CDS/
            3'UTR/exon strips under the row and a black tick at each exon junction.
        labels: row label per seq_id (default the seq_id).
        title: figure title.

    Returns:
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
                                  line={"color": "#000", "width": 2})
                else:
                    fig.add_shape(type="rect", x0=item.start, x1=item.end, y0=-row - 0.36, y1=-row - 0.2,
                                  fillcolor=REGION_COLOURS.get(item.kind, "#7f8c8d"), line={"width": 0})
    kinds = sorted({k for t in (tracks or {}).values() for k in t["kind"]} - {"junction"})
    legend = "  ".join(f"<span style='color:{REGION_COLOURS.get(k, '#7f8c8d')}'>■</span> {k}" for k in kinds)
    fig.update_layout(
        template=TEMPLATE, title=title, height=max(220, 46 * len(order) + 110), barmode="overlay",
        yaxis={"tickvals": [-i for i in range(len(order))], "ticktext": [labels.get(s, s) for s in order],
               "range": [-len(order) + 0.4, 0.6], "showgrid": False, "zeroline": False, "automargin": True},
        xaxis={"title": "position in the sequence (bases)" + (f"; strips: {legend}, ticks: exon junctions"
                                                               if kinds else ""), "showgrid": False},
    )
    return fig


def training_curves(metrics: pd.DataFrame, *, title: str | None = None) -> go.Figure:
    """SAE training by epoch: MSE, L0 (active features per token) and validation FVU, three panels."""
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

    Args:
        effects: ``compute.sae.intervene`` effects with ``p_token_before, p_token_after, z_before, z_after``.
        title: figure title.

    Returns:
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

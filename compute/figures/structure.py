"""Figures of transcript structure: UCSC-style transcript models, a switch pair on one axis, consequence summary."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from isograph.figures.common import NEGATIVE, POSITIVE, TEMPLATE, empty_figure

__all__ = ["UNIQUE_EXON", "consequence_summary", "switch_pair", "transcript_structures"]


def transcript_structures(models: pd.DataFrame, *, r: pd.Series | None = None, title: str | None = None) -> go.Figure:
    """UCSC-style transcript glyphs: tall CDS, short UTR boxes, intron lines with strand arrows.

    Parameters
    ----------
    models
        rows of ``isograph.structure.models.transcript_models`` for one gene.
    r
        optional r per transcript_id, shown in the labels and used for the colour.
    title
        figure title.

    Returns
    -------
    go.Figure
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
                          fillcolor=fill, line={"width": 0}, opacity=1)  # not the template's translucent shapes


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


UNIQUE_EXON = "#e67e22"
def switch_pair(model_1: pd.Series, model_2: pd.Series, *, consequences: str | None = None,
                title: str | None = None) -> go.Figure:
    """Both transcripts of a switch pair on one genomic axis, with their differences highlighted.

    Parameters
    ----------
        model_1, model_2: ``isograph.structure.models.transcript_models`` rows (transcript 1 = used more in
        low-module samples, drawn blue on top; transcript 2 = used more in high-module samples, red).
    consequences
        the pair's words ("; "-joined), written under the title.
    title
        figure title (default "T1 → T2").

    Returns
    -------
    go.Figure
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

    Parameters
    ----------
    enrichment
        ``isograph.structure.enrichment.consequence_enrichment`` rows.
    q_threshold
        rows with q below it are drawn filled red, others grey.
    title
        figure title.

    Returns
    -------
    go.Figure
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

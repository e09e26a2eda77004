"""The gene view as IsoformSwitchAnalyzeR's switchPlot: aligned panels, one colour per isoform in all of them.

Top: the transcript structures (CDS tall and dark, UTR short and light, introns with arrows pointing 5'→3',
drawn 5'→3' left to right; introns compressed by default). Below, for the module's low- and high-module
samples: the gene's expression against the eigengene (log2 CPM of the summed transcript counts), each
isoform's expression (log2 CPM) and each isoform's usage, with the stars of its q (the switch call's test)
and its Δ usage (high − low). Isoforms below a minimum mean usage are left out, with a note saying how
many and why.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from isograph.figures.common import TEMPLATE, empty_figure, lighter

__all__ = ["ISOFORM_COLOURS", "compress_introns", "draw_structures", "drawing_axis", "isoform_colours", "q_stars",
           "shown_isoforms", "switch_plot"]

#: Okabe-Ito colours (colour-blind safe), then more distinct ones; isoform i gets colour i.
ISOFORM_COLOURS = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#7F7F7F", "#000000",
                   "#8C564B", "#BCBD22", "#17BECF", "#9467BD")


def isoform_colours(transcript_ids: list[str]) -> dict[str, str]:
    """One colour per isoform, in the order given (the palette repeats after 12).

    Parameters
    ----------
    transcript_ids : list of str

    Returns
    -------
    dict of str to str
    """
    return {t: ISOFORM_COLOURS[i % len(ISOFORM_COLOURS)] for i, t in enumerate(transcript_ids)}


def q_stars(q: float) -> str:
    """``***`` (q < 0.001), ``**`` (< 0.01), ``*`` (< 0.05) or ``ns``.

    Parameters
    ----------
    q : float

    Returns
    -------
    str
    """
    if not np.isfinite(q):
        return "ns"
    return "***" if q < 0.001 else "**" if q < 0.01 else "*" if q < 0.05 else "ns"


def compress_introns(models: pd.DataFrame, *, intron_fraction: float = 0.04) -> Callable[[Sequence[float]], np.ndarray]:
    """A map from genomic positions to drawing positions in which every intron is short.

    Exonic sequence (the union of all exons of ``models``) keeps its length; each gap between exonic
    blocks is drawn ``intron_fraction`` of the total exonic length long (or its own length, if shorter).

    Parameters
    ----------
    models : DataFrame
        Transcript models (``exon_starts, exon_ends``) of one gene.
    intron_fraction : float, default 0.04

    Returns
    -------
    callable
        ``f(positions) -> ndarray`` (float), monotonic increasing.
    """
    blocks = sorted((int(s), int(e)) for starts, ends in zip(models["exon_starts"], models["exon_ends"])
                    for s, e in zip(starts, ends))
    merged: list[list[int]] = []
    for s, e in blocks:
        if merged and s <= merged[-1][1] + 1:
            merged[-1][1] = max(merged[-1][1], e)
        else:
            merged.append([s, e])
    exonic = sum(e - s + 1 for s, e in merged)
    gap_length = max(1.0, intron_fraction * exonic)
    starts = np.array([s for s, _ in merged], dtype=float)
    ends = np.array([e for _, e in merged], dtype=float)
    # drawn start of each block: previous drawn end + the compressed gap
    drawn = np.zeros(len(merged))
    for i in range(1, len(merged)):
        gap = starts[i] - ends[i - 1] - 1
        drawn[i] = drawn[i - 1] + (ends[i - 1] - starts[i - 1] + 1) + min(gap, gap_length)
    knots_x = np.ravel(np.column_stack([starts - 0.5, ends + 0.5]))
    knots_y = np.ravel(np.column_stack([drawn, drawn + ends - starts + 1]))

    def to_drawing(positions):
        return np.interp(np.asarray(positions, dtype=float), knots_x, knots_y)

    return to_drawing


def _exon_pieces(start: int, end: int, cds_start: int, cds_end: int, coding: bool) -> list[tuple[int, int, str]]:
    if not coding or end < cds_start or start > cds_end:
        return [(start, end, "UTR")]
    pieces = [(start, cds_start - 1, "UTR")] if start < cds_start else []
    pieces.append((max(start, cds_start), min(end, cds_end), "CDS"))
    if end > cds_end:
        pieces.append((cds_end + 1, end, "UTR"))
    return pieces


def drawing_axis(models: pd.DataFrame, *, compress: bool) -> tuple[Callable[[Sequence[float]], np.ndarray], bool]:
    """The x of genomic positions in the gene views: 5'->3' left to right, introns short when ``compress``.

    Parameters
    ----------
    models : DataFrame
        Transcript models of one gene (``strand, exon_starts, exon_ends``).
    compress : bool

    Returns
    -------
    x_of : callable
        ``x_of(positions) -> ndarray`` of drawing positions.
    minus : bool
        The gene is on the minus strand (drawn right to left on the genome).
    """
    minus = bool((models["strand"] == "-").all())
    to_drawing = compress_introns(models) if compress else (lambda p: np.asarray(p, dtype=float))
    span = to_drawing([min(min(s) for s in models["exon_starts"]), max(max(e) for e in models["exon_ends"])])
    return ((lambda p: span[0] + span[1] - to_drawing(p)) if minus else to_drawing), minus


def shown_isoforms(transcripts: pd.DataFrame, usage: pd.DataFrame, *, min_mean_usage: float = 0.05
                   ) -> tuple[pd.DataFrame, list[str]]:
    """The isoforms the gene views draw, in their order (Δ usage, high to low; colour i goes to row i).

    Parameters
    ----------
    transcripts : DataFrame
        The gene's rows of ``transcript_polarity_table``.
    usage : DataFrame
        Samples x features (at least the gene's transcript-usage features).
    min_mean_usage : float, default 0.05
        Isoforms with a lower mean usage over all samples are left out.

    Returns
    -------
    shown : DataFrame
        The drawn rows, with ``tid`` (transcript ID, else feature ID), sorted.
    hidden : list of str
        The left-out transcript IDs, sorted.
    """
    rows = transcripts[transcripts.get("feature_type", "transcript_usage") == "transcript_usage"].copy()
    rows["tid"] = rows["transcript_id"].astype("string").fillna(rows["feature_id"]).astype(str)
    mean_usage = usage.reindex(columns=rows["feature_id"]).mean().to_numpy()
    shown = rows[mean_usage >= min_mean_usage].sort_values("delta_usage", ascending=False, na_position="last")
    return shown, sorted(set(rows["tid"]) - set(shown["tid"]))


def draw_structures(fig: go.Figure, models: pd.DataFrame, colours: dict[str, str],
                    x_of: Callable[[Sequence[float]], np.ndarray], *, row: int = 1,
                    col: int = 1) -> None:
    """Draw transcript structures (CDS tall and dark, UTR short and light, introns with 5'->3' arrows).

    Parameters
    ----------
    fig : go.Figure
        Made with :func:`plotly.subplots.make_subplots`; drawn into subplot (``row``, ``col``).
    models : DataFrame
        Transcript models indexed by transcript ID (``exon_starts, exon_ends, cds_start, cds_end, coding,
        biotype, length, orf_length, nmd``).
    colours : dict of str to str
        Transcript ID -> colour; one transcript per line (y = 0, -1, ...), top to bottom in this order, each
        with a legend entry.
    x_of : callable
        Genomic position -> drawing x (:func:`drawing_axis`).
    row, col : int, default 1
    """
    for row_index, tid in enumerate(colours):
        model = models.loc[tid]
        y, colour = -row_index, colours[tid]
        starts, ends = np.asarray(model["exon_starts"]), np.asarray(model["exon_ends"])
        for s, e in zip(starts, ends):
            for lo, hi, kind in _exon_pieces(int(s), int(e), int(model["cds_start"]), int(model["cds_end"]),
                                             bool(model["coding"])):
                height = 0.5 if kind == "CDS" else 0.26
                x0, x1 = x_of([lo - 0.5, hi + 0.5])
                fig.add_shape(type="rect", x0=x0, x1=x1, y0=y - height / 2, y1=y + height / 2, line={"width": 0}, opacity=1,
                              fillcolor=colour if kind == "CDS" else lighter(colour), row=row, col=col)
        if len(starts) > 1:
            xs, arrows = [], []
            for e, s in zip(ends[:-1], starts[1:]):
                a, b = x_of([e + 0.5, s - 0.5])
                xs += [a, b, None]
                arrows.append((a + b) / 2)
            fig.add_scatter(x=xs, y=[y if x is not None else None for x in xs], mode="lines", hoverinfo="skip",
                            line={"color": colour, "width": 1.2}, showlegend=False, row=row, col=col)
            fig.add_scatter(x=arrows, y=[y] * len(arrows), mode="markers", hoverinfo="skip", showlegend=False,
                            marker={"symbol": "triangle-right", "size": 7, "color": colour}, row=row, col=col)
        fig.add_scatter(x=[None], y=[None], mode="markers", name=tid, legendgroup=tid, row=row, col=col,
                        marker={"color": colour, "size": 11, "symbol": "square"})  # the legend entry
        fig.add_scatter(x=[float(np.mean(x_of([starts.min(), ends.max()])))], y=[y], mode="markers",
                        marker={"opacity": 0, "color": colour}, name=tid, legendgroup=tid, showlegend=False,
                        hovertemplate=(f"{tid}<br>{model['biotype']}, {model['length']} nt, ORF {model['orf_length']}"
                                       f" nt{', NMD sensitive' if model['nmd'] else ''}<extra></extra>"), row=row, col=col)


def _group_bars(fig: go.Figure, values: pd.DataFrame, low: list[str], high: list[str], colours: dict[str, str],
                col: int, what: str) -> None:
    """Mean ± SE in low- (light) and high-module (full colour) samples per isoform, grouped by isoform."""
    for group, samples, light in (("low", low, True), ("high", high, False)):
        part = values.loc[values.index.intersection(samples)]
        mean, se = part.mean(), part.std(ddof=1) / np.sqrt(part.notna().sum())
        fig.add_bar(x=list(colours), y=mean.reindex(list(colours)), name=f"{group}-module samples",
                    error_y={"type": "data", "array": se.reindex(list(colours)), "color": "#444"},
                    marker={"color": [lighter(c) if light else c for c in colours.values()],
                            "line": {"color": list(colours.values()), "width": 1}},
                    offsetgroup=group, showlegend=False,
                    hovertemplate=f"%{{x}}<br>{what}, {group}-module samples: %{{y:.3g}} (mean ± SE)<extra></extra>",
                    row=2, col=col)


def switch_plot(models: pd.DataFrame, transcripts: pd.DataFrame, usage: pd.DataFrame, eigengene: pd.Series,
                low_samples: list[str], high_samples: list[str], *, expression: pd.DataFrame | None = None,
                compress: bool = True, min_mean_usage: float = 0.05, title: str | None = None) -> go.Figure:
    """One gene's isoforms along a module, as IsoformSwitchAnalyzeR's switchPlot.

    Parameters
    ----------
    models
        Transcript models of the gene (``isograph.structure.models.transcript_models`` rows).
    transcripts
        The gene's rows of ``transcript_polarity_table`` (``feature_id, transcript_id, r, qvalue,
        delta_usage``).
    usage
        Samples x features: at least the gene's transcript-usage features (fractions in [0, 1]).
    eigengene
        The module eigengene (index ``sample_id``).
    low_samples, high_samples
        The module's low- and high-module samples (explain's split).
    expression
        Samples x transcript IDs, log2 CPM of each transcript (None: the two expression panels say
        that the data set has no counts).
    compress
        Draw introns short (exonic sequence keeps its length).
    min_mean_usage
        Isoforms with a lower mean usage over all samples are left out (said in a note).
    title
        figure title.

    Returns
    -------
    go.Figure
        Row 1: structures; row 2: gene expression vs eigengene, isoform expression, isoform usage (low
        vs high samples; usage bars annotated with q stars and Δ usage). Legend: one entry per isoform.
    """
    shown, hidden = shown_isoforms(transcripts, usage, min_mean_usage=min_mean_usage)
    if shown.empty and not hidden:
        return empty_figure("no transcript-usage features for this gene")
    if shown.empty:
        return empty_figure(f"every isoform of this gene has a mean usage below {min_mean_usage:.0%}")
    values = usage.reindex(columns=shown["feature_id"]).set_axis(shown["tid"].tolist(), axis=1)
    colours = isoform_colours(shown["tid"].tolist())
    fig = make_subplots(rows=2, cols=3, specs=[[{"colspan": 3}, None, None], [{}, {}, {}]], row_heights=[0.5, 0.5],
                        vertical_spacing=0.16, horizontal_spacing=0.08,
                        subplot_titles=("Transcript structures (drawn 5′→3′; CDS dark, UTR light"
                                        + (", introns compressed)" if compress else ")"),
                                        "Gene expression vs eigengene", "Isoform expression",
                                        "Isoform usage (q of the switch call's test)"))
    drawn = models.set_index("transcript_id").reindex(list(colours)).dropna(subset=["exon_starts"])
    if len(drawn):
        x_of, minus = drawing_axis(drawn, compress=compress)
        draw_structures(fig, drawn, {t: colours[t] for t in drawn.index}, x_of)
        fig.update_yaxes(visible=False, range=[-len(drawn) + 0.4, 0.6], row=1, col=1)
        fig.update_xaxes(showticklabels=not compress, title_text=f"{drawn['seqname'].iloc[0]}, "
                         f"{'−' if minus else '+'} strand" + (" (introns compressed)" if compress else ""),
                         row=1, col=1)
    else:
        fig.add_annotation(text="no transcript models for these isoforms: the data set has no GTF, or its GTF lacks them",
                           showarrow=False, row=1, col=1)
    low, high = list(low_samples), list(high_samples)
    if expression is not None and not expression.empty:
        gene = np.log2(np.exp2(expression).sum(axis=1))  # log2 of the summed CPM: the gene's log2 CPM
        eig = eigengene.reindex(gene.index)
        fig.add_scatter(x=eig, y=gene, mode="markers", marker={"color": "#555", "size": 5, "opacity": 0.7},
                        showlegend=False, hovertemplate="eigengene %{x:.2f}<br>gene log2 CPM %{y:.2f}<extra></extra>",
                        row=2, col=1)
        _group_bars(fig, expression.reindex(columns=list(colours)), low, high, colours, 2, "log2 CPM")
    else:
        for col in (1, 2):
            fig.add_annotation(text="no counts in this data set", showarrow=False, row=2, col=col)
    _group_bars(fig, values[list(colours)], low, high, colours, 3, "usage")
    shown_values = values[list(colours)]
    top = max(shown_values.reindex(low).mean().max(), shown_values.reindex(high).mean().max())
    for _, row in shown.iterrows():
        fig.add_annotation(x=row["tid"], y=min(1.0, top * 1.25 + 0.05), showarrow=False, font={"size": 11},
                           text=f"{q_stars(row['qvalue'])}<br>Δ {row['delta_usage']:+.2f}", row=2, col=3)
    fig.update_xaxes(title_text="module eigengene", row=2, col=1)
    fig.update_yaxes(title_text="gene log2 CPM", row=2, col=1)
    fig.update_yaxes(title_text="log2 CPM (light: low, full: high)", row=2, col=2)
    fig.update_yaxes(title_text="usage (light: low, full: high)", range=[0, min(1.1, top * 1.25 + 0.15)], row=2, col=3)
    fig.update_xaxes(showticklabels=False, row=2, col=2)
    fig.update_xaxes(showticklabels=False, row=2, col=3)
    note = ""
    if hidden:
        note = (f"{len(hidden)} isoform(s) with mean usage below {min_mean_usage:.0%} not shown: {', '.join(hidden[:6])}"
                + (" …" if len(hidden) > 6 else ""))
    fig.update_layout(template=TEMPLATE, title=title, barmode="group", height=330 + 34 * len(drawn) + 300,
                      legend={"title": "isoform", "orientation": "h", "y": -0.13, "yanchor": "top"},
                      margin={"t": 60, "b": 170})
    if note:  # added, not the whole list set again: re-validating every annotation cost more than the figure
        fig.add_annotation(text=note, xref="paper", yref="paper", x=0, y=-0.21, showarrow=False,
                           font={"size": 12, "color": "#555"}, xanchor="left", yanchor="top")
    return fig

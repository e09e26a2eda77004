"""Multi-panel figures for a paper: existing figures placed side by side on one page, each keeping its axes,
titles, colour bars and legend, labelled A, B, C…; and the two a paper needs, a module's and a gene's."""

from __future__ import annotations

import re

import pandas as pd
import plotly.graph_objects as go

from isograph.figures.common import TEMPLATE

__all__ = ["PAGE_HEIGHT", "compose_panels", "gene_paper_figure", "module_paper_figure"]

#: the page height the paper figures are laid out for, in on-screen CSS pixels: at double-column width
#: (183 mm) :func:`~isograph.figures.publication.publication_figure` makes it 240 mm, within a journal page
PAGE_HEIGHT = 1050
_AXIS = re.compile(r"^([xy])axis(\d*)$")
_REF = re.compile(r"^([xy])(\d*)( domain)?$")


def _scaled(value: float, low: float, high: float) -> float:
    return low + float(value) * (high - low)


def compose_panels(panels: list[tuple[go.Figure, tuple[float, float, float, float]]], *,
                   labels: list[str] | None = None, height: int = 900, title: str | None = None) -> go.Figure:
    """Place figures in boxes of one page.

    Every axis of every panel gets its own axis on the page, with its domain, anchors and position moved into
    the panel's box; traces, annotations (subplot titles included, at print size), shapes and colour bars
    follow their axes; each panel's legend becomes a legend of its own (plotly's ``legend2``, …), where the
    panel had it relative to its plot, so every trace keeps its name and colour; each panel's title is written
    above it after its letter.

    Parameters
    ----------
    panels : list of (go.Figure, (x0, x1, y0, y1))
        Each figure and its box in page fractions (0–1, y upwards).
    labels : list of str, optional
        Panel letters (default A, B, C, …).
    height : int, default 900
        Page height in CSS pixels (the exporter's width sets the page width).
    title : str, optional
        The page's title.

    Returns
    -------
    go.Figure
    """
    labels = labels or [chr(ord("A") + i) for i in range(len(panels))]
    out = go.Figure()
    layout: dict = {}
    annotations, shapes = [], []
    counters = {"x": 0, "y": 0}
    for index, ((fig, (x0, x1, y0, y1)), label) in enumerate(zip(panels, labels)):
        source = fig.layout.to_plotly_json()
        names = {key for key in source if _AXIS.match(key)}
        for trace in fig.data:
            names.add("xaxis" + (trace.xaxis or "x")[1:] if "xaxis" in trace else "xaxis")
            names.add("yaxis" + (trace.yaxis or "y")[1:] if "yaxis" in trace else "yaxis")
        mapping = {}
        for name in sorted(names, key=lambda n: (n[0], int(_AXIS.match(n).group(2) or 1))):
            letter = name[0]
            counters[letter] += 1
            mapping[letter + (_AXIS.match(name).group(2) or "")] = f"{letter}{counters[letter] if counters[letter] > 1 else ''}"

        def ref(value, mapping=mapping):
            found = _REF.match(str(value)) if value is not None else None
            if not found:
                return value
            new = mapping.get(found.group(1) + found.group(2))
            return (new + (found.group(3) or "")) if new else value

        legend = "legend" if index == 0 else f"legend{index + 1}"
        for old, new in mapping.items():
            axis = dict(source.get(f"{old[0]}axis{old[1:]}", {}))
            low, high = (x0, x1) if old[0] == "x" else (y0, y1)
            domain = axis.get("domain", [0, 1])
            axis["domain"] = [_scaled(domain[0], low, high), _scaled(domain[1], low, high)]
            for key in ("anchor", "overlaying", "matches", "scaleanchor"):
                if key in axis and axis[key] not in ("free", None):
                    axis[key] = ref(axis[key])
            if "anchor" not in axis:
                axis["anchor"] = mapping.get(("y" if old[0] == "x" else "x") + old[1:], "free")
            if "position" in axis:
                other = (x0, x1) if old[0] == "y" else (y0, y1)
                axis["position"] = _scaled(axis["position"], *other)
            layout[f"{new[0]}axis{new[1:]}"] = axis
        for trace in fig.data:
            data = trace.to_plotly_json()
            data["xaxis"], data["yaxis"] = ref(data.get("xaxis", "x")), ref(data.get("yaxis", "y"))
            data["legend"] = legend
            place = {"x": x1 + 0.005, "xanchor": "left", "y": (y0 + y1) / 2, "len": 0.9 * (y1 - y0), "thickness": 8}
            if data.get("type") in ("heatmap", "contour", "histogram2d"):  # the colour bar beside its panel
                data["colorbar"] = {**(data.get("colorbar") or {}), **place}
            marker = data.get("marker")
            if isinstance(marker, dict) and ("colorbar" in marker or marker.get("showscale")):
                marker["colorbar"] = {**(marker.get("colorbar") or {}), **place}
            out.add_trace(data)
        for note in source.get("annotations", []):
            note = dict(note)
            if (note.get("font") or {}).get("size", 0) > 11 or "font" not in note:  # subplot titles: print size
                note["font"] = {**(note.get("font") or {}), "size": 10}
            for axis_letter, (low, high) in (("x", (x0, x1)), ("y", (y0, y1))):
                key = f"{axis_letter}ref"
                if note.get(key, "paper") == "paper":
                    note[axis_letter] = _scaled(note.get(axis_letter, 0.5), low, high)
                else:
                    note[key] = ref(note[key])
            annotations.append(note)
        for shape in source.get("shapes", []):
            shape = dict(shape)
            for axis_letter, (low, high) in (("x", (x0, x1)), ("y", (y0, y1))):
                key = f"{axis_letter}ref"
                if shape.get(key, "paper") == "paper":
                    for end in ("0", "1"):
                        if axis_letter + end in shape:
                            shape[axis_letter + end] = _scaled(shape[axis_letter + end], low, high)
                else:
                    shape[key] = ref(shape[key])
            shapes.append(shape)
        own = dict(source.get("legend") or {})  # the panel's legend where the panel had it, moved with the box
        own.update(x=_scaled(own.get("x", 1.02), x0, x1), y=_scaled(own.get("y", 1.0), y0, y1),
                   font={**(own.get("font") or {}), "size": 8}, tracegroupgap=0, bgcolor="rgba(255,255,255,0.8)",
                   grouptitlefont={"size": 8})
        layout[legend] = own
        heading = (source.get("title") or {}).get("text") or ""
        annotations.append({"text": f"<b>{label}</b>  {heading}".rstrip(), "x": x0, "y": y1, "xref": "paper",
                            "yref": "paper", "xanchor": "left", "yanchor": "bottom", "yshift": 16, "showarrow": False,
                            "font": {"size": 11}, "align": "left"})
    out.update_layout(template=TEMPLATE, height=height, annotations=annotations, shapes=shapes,
                      margin={"l": 50, "r": 50, "t": 90 if title else 50, "b": 40},
                      title={"text": title, "x": 0.01, "y": 0.995, "yanchor": "top"} if title else None, **layout)
    return out


def module_paper_figure(genes: pd.DataFrame, polarity: pd.DataFrame, usage: pd.DataFrame, eigengene: pd.Series, *,
                        module_id: str, channel: str = "switch", alpha: float = 0.05) -> go.Figure:
    """A module's figure for a paper: A the top driver genes (barplot), B transcript usage along the module
    (gradients, one colour per transcript), C the top positive and negative driver transcripts (heatmap).

    Parameters
    ----------
    genes : DataFrame
        The module's ``gene_driver_table``.
    polarity : DataFrame
        Its ``transcript_polarity_table``.
    usage : DataFrame
        Samples x features: the module's features (transcript usage, 0–1).
    eigengene : Series
        The module eigengene by ``sample_id``.
    module_id : str
    channel : {"switch", "abundance"}, default "switch"
        The barplot's channel.
    alpha : float, default 0.05
        q threshold of the barplot's solid bars.

    Returns
    -------
    go.Figure
        :data:`PAGE_HEIGHT` high; export at double-column width (183 mm, 240 mm high).
    """
    from isograph.figures.explain import driver_barplot, driver_heatmap, usage_gradient

    bar = driver_barplot(genes, top_n=10, title=None, channel=channel, alpha=alpha)
    bar.update_layout(title_text=f"top driver genes: |r| of the {channel} score with the eigengene (95% CI)",
                      legend={"orientation": "h", "x": 0, "xanchor": "left", "y": -0.1, "yanchor": "top"})
    gradient = usage_gradient(polarity, usage, eigengene, top_n=4, columns=4)
    gradient.update_layout(title_text="transcript usage along the module (LOWESS), the 4 strongest switches")
    heat = driver_heatmap(polarity, usage, eigengene, top_n=8)
    heat.update_layout(title_text="top positive and negative driver transcripts")
    return compose_panels([(bar, (0.0, 0.36, 0.6, 0.94)), (heat, (0.62, 0.92, 0.6, 0.94)),
                           (gradient, (0.0, 0.78, 0.0, 0.42))], labels=["A", "C", "B"], height=PAGE_HEIGHT,
                          title=f"Module {module_id}")


def gene_paper_figure(switch_plot: go.Figure, gradient: go.Figure, *, title: str) -> go.Figure:
    """A gene's figure for a paper: A the switchPlot (structures, expression, usage by group), B each
    transcript's usage along the module.

    Parameters
    ----------
    switch_plot : go.Figure
        :func:`~isograph.figures.switch_plot.switch_plot`'s figure.
    gradient : go.Figure
        The gene's :func:`~isograph.figures.explain.usage_gradient`.
    title : str

    Returns
    -------
    go.Figure
        :data:`PAGE_HEIGHT` high; export at double-column width (183 mm, 240 mm high).
    """
    return compose_panels([(switch_plot, (0.0, 0.84, 0.36, 0.94)), (gradient, (0.0, 0.5, 0.0, 0.26))],
                          height=PAGE_HEIGHT, title=title)

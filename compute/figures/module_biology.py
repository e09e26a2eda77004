"""Figures of what a module is about: hub genes by kME, module–trait heatmap, eigengene by sample group, GO
terms; and the one-page report that puts the four together (the app and ``isograph module-report`` share
them)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from isograph.figures.common import NEGATIVE, POSITIVE, TEMPLATE, empty_figure, gene_labels

if TYPE_CHECKING:  # the report module imports this one
    from isograph.modules.report import ModuleBiology

__all__ = ["eigengene_by_group", "eigengene_group_figure", "go_enrichment_bar", "kme_hub_plot", "module_figures", "module_report_figure",
           "module_trait_heatmap"]

CALLED, NOT_CALLED = POSITIVE, "#7f8c8d"
Q_THRESHOLD = 0.05


def kme_hub_plot(membership: pd.DataFrame, *, top_n: int = 30) -> go.Figure:
    """The module's genes of largest |kME|, with 95% CIs; called switch genes in red, hub genes labelled ★.

    Parameters
    ----------
    membership : DataFrame
        :func:`isograph.modules.membership.module_membership`'s table (sorted by kME).
    top_n : int, default 30

    Returns
    -------
    go.Figure
    """
    ranked = membership.dropna(subset=["kME"])
    top = ranked.iloc[np.argsort(-ranked["kME"].abs().to_numpy(), kind="stable")].head(top_n).iloc[::-1]
    if top.empty:
        return empty_figure("no gene of this module has a kME (no fit score row over the eigengene's samples)")
    labels = (gene_labels(top) + np.where(top["hub"], " ★", "")).to_numpy()
    fig = go.Figure(layout={"template": TEMPLATE})
    for called, name, colour in ((True, "called switch (explain)", CALLED), (False, "no called switch", NOT_CALLED)):
        part = top[top["switch_called"] == called]
        fig.add_trace(go.Scatter(
            x=part["kME"], y=labels[(top["switch_called"] == called).to_numpy()], mode="markers", name=name,
            marker={"color": colour, "size": 9},
            error_x={"type": "data", "symmetric": False, "array": part["ci_high"] - part["kME"],
                     "arrayminus": part["kME"] - part["ci_low"], "color": colour, "thickness": 1.2},
            customdata=np.column_stack([part["gene_id"], part["feature_type"], part["qvalue"], part["n_samples"]]),
            hovertemplate="%{y}<br>kME %{x:.3f} (95% CI, Fisher z)<br>fit score: %{customdata[1]}<br>"
                          "q (BH over the module's genes) %{customdata[2]:.3g}<br>n = %{customdata[3]} samples"
                          "<extra>%{customdata[0]}</extra>"))
    fig.add_vline(x=0, line={"color": "#999", "width": 1})
    fig.update_yaxes(categoryorder="array", categoryarray=list(labels))  # |kME| order whatever the colour
    fig.update_layout(height=max(320, 18 * len(top) + 120), margin={"l": 10, "r": 10, "t": 10, "b": 40},
                      xaxis={"title": "kME: r of the gene's fit score with the eigengene (95% CI)", "range": [-1.05, 1.05]},
                      legend={"orientation": "h", "y": -0.12, "title": {"text": "★ hub: top 10 |kME|, q ≤ 0.05"}})
    return fig


def module_trait_heatmap(traits: pd.DataFrame, *, module_id: str | None = None) -> go.Figure:
    """Module eigengene vs trait correlations: r in colour, r and p written in each cell.

    Parameters
    ----------
    traits : DataFrame
        :func:`isograph.modules.traits.module_trait_table`'s long table.
    module_id : str, optional
        This module's row is marked with ▶.

    Returns
    -------
    go.Figure
    """
    if traits.empty:
        return empty_figure("no covariates: add covariates.tsv (sample_id + one column per trait) to the data set")
    r = traits.pivot(index="module_id", columns="trait", values="r")
    p = traits.pivot(index="module_id", columns="trait", values="pvalue").reindex_like(r)
    q = traits.pivot(index="module_id", columns="trait", values="qvalue").reindex_like(r)
    rows = [f"▶ {m}" if m == module_id else m for m in r.index]
    text = np.vectorize(lambda a, b: "" if np.isnan(a) else f"{a:.2f}<br>({b:.1e})")(r.to_numpy(), p.to_numpy())
    fig = go.Figure(go.Heatmap(
        z=r.to_numpy(), x=list(r.columns), y=rows, zmin=-1, zmax=1, colorscale="RdBu_r", text=text,
        texttemplate="%{text}", customdata=q.to_numpy(), colorbar={"title": {"text": "r"}, "thickness": 12},
        hovertemplate="%{y} × %{x}<br>r %{z:.3f}<br>q (BH over all cells) %{customdata:.3g}<extra></extra>"))
    fig.update_layout(template=TEMPLATE, height=max(300, 40 * len(rows) + 120),
                      margin={"l": 10, "r": 10, "t": 10, "b": 10},
                      yaxis={"autorange": "reversed", "title": "module eigengene"},
                      xaxis={"title": "trait (r, Student's p on n − 2 df)", "side": "top"})
    return fig


def eigengene_by_group(eigengene: pd.Series, groups: pd.Series, *, covariate: str, test: dict) -> go.Figure:
    """The eigengene per sample group (box + every sample), with the test of a difference in the title.

    Parameters
    ----------
    eigengene : Series
        Indexed by sample ID.
    groups : Series
        Each sample's group, indexed by sample ID.
    covariate : str
        The covariate's name.
    test : dict
        :func:`isograph.modules.traits.eigengene_group_test`'s result.

    Returns
    -------
    go.Figure
    """
    joined = pd.DataFrame({"e": eigengene, "g": groups}).dropna()
    if joined.empty:
        return empty_figure(f"no sample has both an eigengene and a {covariate} value")
    fig = go.Figure(layout={"template": TEMPLATE})
    for group, part in joined.groupby("g", sort=True):
        fig.add_trace(go.Box(y=part["e"], name=f"{group} (n={len(part)})", boxpoints="all", jitter=0.4, showlegend=False,
                             pointpos=0, marker={"size": 4, "opacity": 0.6}, line={"color": "#34495e"},
                             fillcolor="rgba(0,0,0,0)", hovertext=part.index.astype(str),
                             hovertemplate="%{hovertext}: eigengene %{y:.3f}<extra></extra>"))
    verdict = ("" if np.isnan(test["pvalue"]) else f": {test['test']}, p = {test['pvalue']:.2g}")
    fig.update_layout(height=380, showlegend=False, margin={"l": 10, "r": 10, "t": 40, "b": 40},
                      title={"text": f"eigengene by {covariate}{verdict or ' (' + test['test'] + ')'}",
                             "font": {"size": 13}},
                      yaxis={"title": "module eigengene (standardised)"}, xaxis={"title": covariate})
    return fig


def go_enrichment_bar(go_table: pd.DataFrame | None, *, top_n: int = 12, q_threshold: float = Q_THRESHOLD) -> go.Figure:
    """The GO terms at q <= ``q_threshold`` of each gene set (−log10 q), or a line saying there are none.

    Parameters
    ----------
    go_table : DataFrame or None
        :func:`isograph.modules.go_terms.module_go`'s table.
    top_n : int, default 12
        Terms per gene set.
    q_threshold : float, default 0.05

    Returns
    -------
    go.Figure
    """
    if go_table is None or go_table.empty:
        return empty_figure("no gene of this module has a GO annotation in the shipped ontology")
    significant = go_table[go_table["qvalue"] <= q_threshold]
    if significant.empty:
        best = go_table.sort_values("pvalue").iloc[0]
        return empty_figure(f"no significant GO term: no term at q ≤ {q_threshold:g} (hypergeometric, BH) in either"
                            f" gene set; smallest q {best['qvalue']:.2g} ({best['term']})")
    fig = go.Figure(layout={"template": TEMPLATE})
    colours = {"called switch genes": POSITIVE, "all module genes": NEGATIVE}
    for gene_set, part in significant.groupby("gene_set", sort=False):
        part = part.sort_values("qvalue").head(top_n).iloc[::-1]
        fig.add_trace(go.Bar(
            x=-np.log10(part["qvalue"].clip(lower=1e-300)), y=part["term"].str.slice(0, 60), orientation="h",
            name=f"{gene_set} ({int(part['n'].iloc[0])} annotated)", marker={"color": colours.get(gene_set, "#555")},
            customdata=np.column_stack([part["go_id"], part["k"], part["K"], part["fold_enrichment"], part["genes"]]),
            hovertemplate="%{customdata[0]} %{y}<br>%{customdata[1]} of %{customdata[2]} background genes; fold "
                          "%{customdata[3]:.1f}<br>−log10 q %{x:.2f}<br>%{customdata[4]}<extra></extra>"))
    n_bars = sum(min(len(part), top_n) for _, part in significant.groupby("gene_set"))
    fig.update_layout(height=max(300, 24 * n_bars + 120), barmode="group", margin={"l": 10, "r": 10, "t": 10, "b": 40},
        xaxis={"title": f"−log10 q (hypergeometric, BH; terms at q ≤ {q_threshold:g})"},
        legend={"orientation": "h", "y": -0.15})
    return fig


def _wrap(text: str, width: int) -> str:
    """``text`` broken into lines of at most about ``width`` characters (plotly's <br>)."""
    lines, line = [], ""
    for word in text.split():
        if line and len(line) + 1 + len(word) > width:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}".strip()
    return "<br>".join([*lines, line])


def module_figures(bio: ModuleBiology, *, covariate: str | None = None) -> dict[str, go.Figure]:
    """The four module-biology figures by file name.

    Parameters
    ----------
    bio : isograph.modules.report.ModuleBiology
    covariate : str, optional
        Grouping covariate (default the first categorical one).

    Returns
    -------
    dict
        ``hub_genes``, ``module_traits``, ``eigengene_by_group``, ``go_enrichment``.
    """
    from isograph.modules.report import categorical_covariates

    groups = categorical_covariates(bio.covariates)
    covariate = covariate if covariate in groups else (groups[0] if groups else None)
    return {"hub_genes": kme_hub_plot(bio.membership), "module_traits": module_trait_heatmap(bio.traits,
                                                                                            module_id=bio.module_id),
            "eigengene_by_group": eigengene_group_figure(bio, covariate), "go_enrichment": go_enrichment_bar(bio.go)}


def eigengene_group_figure(bio: ModuleBiology, covariate: str | None) -> go.Figure:
    """:func:`eigengene_by_group` of the module by one covariate, with its test; a placeholder saying why when
    there is no such covariate.

    Parameters
    ----------
    bio : isograph.modules.report.ModuleBiology
    covariate : str or None

    Returns
    -------
    go.Figure
    """
    from isograph.modules.traits import eigengene_group_test

    if covariate is None or bio.covariates is None or covariate not in bio.covariates.columns:
        return empty_figure("no categorical covariate (2–20 levels) to group samples by")
    eigengene = bio.eigengenes[bio.module_id].dropna()
    values = bio.covariates[covariate].astype("string")
    return eigengene_by_group(eigengene, values, covariate=covariate, test=eigengene_group_test(eigengene, values))


def module_report_figure(bio: ModuleBiology, *, covariate: str | None = None) -> go.Figure:
    """The one-page report: the four figures as panels A–D of one figure (sized for an A4 page).

    Parameters
    ----------
    bio : isograph.modules.report.ModuleBiology
    covariate : str, optional

    Returns
    -------
    go.Figure
    """
    panels = module_figures(bio, covariate=covariate)
    titles = ["A  hub genes: kME with 95% CI", "B  module–trait correlations (r, p)",
              "C  " + (panels["eigengene_by_group"].layout.title.text or "eigengene by group"),
              "D  GO terms at q ≤ 0.05 (−log10 q)"]
    fig = make_subplots(rows=2, cols=2, subplot_titles=titles, horizontal_spacing=0.28, vertical_spacing=0.12)
    for i, name in enumerate(panels):
        row, col = divmod(i, 2)
        source = panels[name]
        for trace in source.data:
            if isinstance(trace, go.Heatmap):
                trace = go.Heatmap(trace, colorbar={"len": 0.4, "y": 0.78, "x": 1.02, "thickness": 10})
            fig.add_trace(trace, row=row + 1, col=col + 1)
        for annotation in source.layout.annotations or ():  # an empty panel's message, wrapped to the panel
            axis = i + 1 if i else ""  # placed on the page: an axis without data has no domain to refer to
            x_domain, y_domain = fig.layout[f"xaxis{axis}"].domain, fig.layout[f"yaxis{axis}"].domain
            fig.add_annotation(text=_wrap(annotation.text, 48), showarrow=False, font={"size": 10, "color": "#666"},
                               x=sum(x_domain) / 2, y=sum(y_domain) / 2, xref="paper", yref="paper")
            fig.update_xaxes(visible=False, row=row + 1, col=col + 1)
            fig.update_yaxes(visible=False, row=row + 1, col=col + 1)
    fig.update_yaxes(autorange="reversed", row=1, col=2)
    fig.update_layout(template=TEMPLATE, title={"text": f"Module {bio.module_id}", "x": 0.02},
                      font={"size": 9}, showlegend=True, legend={"orientation": "h", "y": -0.04},
                      margin={"l": 20, "r": 40, "t": 80, "b": 40})
    return fig

"""``/``: the data sets under the data root and an overview of their modules."""

from __future__ import annotations

import dash
import dash_bootstrap_components as dbc
from dash import dcc, html

from components.layout import alert, current_dataset, href, module_href, page_errors
from components.search import gene_search
from isograph.dataset.datasets import DatasetError, find_datasets

dash.register_page(__name__, path="/", name="Modules", title="IsoGraph Explorer — modules",
                   redirect_from=["/modules", "/modules/"])


def _module_rows(dataset) -> list:
    manifest = dataset.explain.manifest()
    rows = []
    for mid in dataset.module_ids:
        entry = manifest["modules"][mid]
        try:
            genes = dataset.explain.table(mid, "gene_driver_table")
        except DatasetError as exc:  # one damaged module: its row says so, the others are shown
            rows.append(html.Tr([html.Td(mid), html.Td(html.Span(str(exc), className="text-danger small"),
                                                       colSpan=5, id=f"home-error-{mid}")]))
            continue
        if "switch_called" in genes:
            called = genes[genes["switch_called"]].sort_values("switch_qvalue")
            top = called.head(3)
            names = ", ".join(top["gene_name"].fillna(top["gene_id"]).astype(str)) or "no called switch"
            n_called = str(len(called))
        else:  # an explain output written before switch calls
            names, n_called = "re-run explain for switch calls", "—"
        var = entry.get("variance_explained")
        rows.append(html.Tr([
            html.Td(dcc.Link(mid, href=module_href(mid, dataset=dataset.name), id=f"home-link-{mid}")),
            html.Td(entry.get("n_genes")), html.Td(entry.get("n_transcript_usage")),
            html.Td(f"{var:.2f}" if isinstance(var, (int, float)) else "—"), html.Td(n_called), html.Td(names),
        ]))
    return rows


@page_errors
def layout(dataset: str | None = None, **_query) -> html.Div:
    try:
        current = current_dataset(dataset)
    except DatasetError as exc:
        return alert(str(exc), title="No data set")
    others = find_datasets(current.root)
    picker = dbc.ButtonGroup([dbc.Button(d.title if d.name == "." else d.name, href=href("/", dataset=d.name), size="sm",
                                         outline=d.name != current.name, color="primary") for d in others])
    headers = ("module", "genes", "transcripts", "variance explained", "called switches",
               "top called switches (by switch q)")
    try:
        table = dbc.Table([html.Thead(html.Tr([html.Th(h) for h in headers])),
                           html.Tbody(_module_rows(current))], striped=True, hover=True, id="home-modules")
    except DatasetError as exc:  # this data set's manifest is damaged: say so, keep the picker of the others
        table = alert(str(exc), title=f"Cannot show the modules of {current.name}")
    return html.Div([
        dbc.Row([dbc.Col(html.H3(current.title), md=6),
                 dbc.Col(gene_search(current, placeholder="Find a gene in any module…"), md=6)],
                className="mb-2"),
        html.P(["Data sets under the data root: ", picker], className="text-muted"),
        html.P("Pick a module to see which genes drive it and which transcript each driver uses more as the"
               " module rises. A called switch: the gene's switch score follows the module (q ≤ 0.05, BH) and one of"
               " its transcripts is used significantly more in high-module samples and another in low-module samples"
               " (q ≤ 0.05, usage change ≥ 0.1 each; the thresholds of each module's explain run).",
               className="small"),
        table,
    ])

"""The gene search box: type part of a gene ID or name, pick a gene, open its isoform-switch view.

Options are computed on the server as the user types (:func:`isograph.dataset.datasets.search_genes`), so the
box stays fast on a 20,000-gene fit; each option's value is the gene view URL.
"""

from __future__ import annotations

import dash
from dash import ALL, MATCH, Input, Output, State, dcc

from components.layout import current_dataset, gene_href
from isograph.dataset.datasets import Dataset, DatasetError, search_genes

__all__ = ["gene_options", "gene_search", "register_callbacks"]


def gene_search(dataset: Dataset, module_id: str | None = None, *, placeholder: str = "Find a gene…") -> dcc.Dropdown:
    """A search-as-you-type dropdown over the genes of ``dataset`` (those of ``module_id`` first)."""
    return dcc.Dropdown(id={"type": "gene-search", "dataset": dataset.name, "module": module_id or ""},
                        options=gene_options(dataset, "", module_id), placeholder=placeholder,
                        className="gene-search")


def gene_options(dataset: Dataset | str, text: str | None, module_id: str | None = None, *,
                 limit: int = 25) -> list[dict]:
    """Dropdown options ``{"label": "NAME (GENE_ID) · M000", "value": gene view URL}`` for ``text``.

    ``dataset`` is an open data set, or its name (opened here; an unknown name gives no options). Genes of the
    feature table that no module holds follow as disabled options that say so.
    """
    if isinstance(dataset, str):
        try:
            dataset = current_dataset(dataset)
        except DatasetError:
            return []
    found = search_genes(dataset.gene_index(), text, module_id=module_id or None, limit=limit)
    options = []
    for gene, name, module in zip(found["gene_id"], found["gene_name"], found["module_id"]):
        options.append({"label": f"{_label(gene, name)} · {module}",
                        "value": gene_href(gene, module=module, dataset=dataset.name)})
    if text and len(options) < limit:  # genes of the data set that the fit put in no module: say so, not "no options"
        outside = search_genes(dataset.genes_outside_modules(), text, limit=limit - len(options))
        options += [{"label": f"{_label(gene, name)} · in no module (the fit assigned it to none, so it has no"
                              " switch view)", "value": f"no-module:{gene}", "disabled": True}
                    for gene, name in zip(outside["gene_id"], outside["gene_name"])]
    return options


def _label(gene: str, name: object) -> str:
    return f"{name} ({gene})" if isinstance(name, str) and name != gene else str(gene)


def update_options(text, selected, component_id):
    """Options for what has been typed; the selected option is kept so the box can show it."""
    if not text:
        raise dash.exceptions.PreventUpdate
    options = gene_options(component_id["dataset"], text, component_id["module"])
    if selected and all(o["value"] != selected for o in options):
        options.append({"label": selected.split("?")[0].rsplit("/", 1)[-1], "value": selected})
    return options


def open_selected(values):
    """Go to the picked gene's view."""
    picked = [v for v in values if v]
    return picked[0] if picked else dash.no_update


def register_callbacks(app: dash.Dash) -> None:
    """Attach the search callbacks to ``app``."""
    box = {"type": "gene-search", "dataset": MATCH, "module": MATCH}
    app.callback(Output(box, "options"), Input(box, "search_value"), State(box, "value"), State(box, "id"),
                 prevent_initial_call=True)(update_options)
    app.callback(Output("url", "href", allow_duplicate=True),
                 Input({"type": "gene-search", "dataset": ALL, "module": ALL}, "value"),
                 prevent_initial_call=True)(open_selected)

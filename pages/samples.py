"""``/samples``: the samples on a map of the module eigengenes (PCA, or a UMAP computed once by a background
job and kept in the data set), coloured by an eigengene, a covariate or a gene; a lasso picks two groups, and
their switch scores or transcript usage are compared (Welch, BH)."""

from __future__ import annotations

import dash
import dash_bootstrap_components as dbc
from dash import Input, Output, State, callback, dcc, html, no_update

from components.data_grid import clicked_row, data_grid, grid_id, grid_source
from components.jobs import job_options, on_cancel
from components.layout import alert, current_dataset, figure_card, gene_href, graph_ref, page_errors, settings
from components.url_state import choice, url_state
from isograph.errors import InputError
from isograph.figures.samples import sample_map_figure
from isograph.modules.report import categorical_covariates, dataset_covariates
from isograph.samples.compare import COMPARE_COLUMNS
from isograph.samples.dataset import (
    KINDS,
    MAP_METHODS,
    MapNotComputed,
    compare_sample_groups,
    compute_umap,
    sample_colour,
    sample_map,
    stored_umap,
)
from isograph.samples.embedding import UMAP_SETTINGS, umap_available

dash.register_page(__name__, path="/samples", name="Samples", title="Samples — IsoGraph Explorer")

RESULT_COLUMNS = ["feature_id", "gene_id", "gene_name", "module_id", *COMPARE_COLUMNS[1:]]
Q_THRESHOLD = 0.05
GENE_OPTIONS_MAX = 30  #: genes listed in the colour menu for what is typed (the menu searches all of them)
#: what the URL keeps of this page (components.url_state); the groups are not kept (lists of samples)
URL_STATE = url_state("samples", {"colour": ("samples-colour", "value"), "compare": ("samples-kind", "value"),
                                  "map": ("samples-method", "value")})
UMAP_WORDS = (f"UMAP (umap-learn; {UMAP_SETTINGS['n_neighbors']} neighbours, min_dist {UMAP_SETTINGS['min_dist']},"
              f" Euclidean, seed {UMAP_SETTINGS['random_state']})")


def colour_options(ds, search: str = "") -> list[dict]:
    """The colour menu: every eigengene and covariate, and the genes whose ID or name contains ``search``.

    Parameters
    ----------
    ds : Dataset
    search : str
        What the user typed; genes are listed only for a search (at most :data:`GENE_OPTIONS_MAX`).

    Returns
    -------
    list of dict
        Dropdown options; values ``eigengene:<module>``, ``covariate:<name>``, ``gene:<gene_id>``.
    """
    options = [{"label": f"{m} eigengene", "value": f"eigengene:{m}"} for m in ds.module_ids]
    covariates = dataset_covariates(ds)
    if covariates is not None:
        grouping = set(categorical_covariates(covariates))
        options += [{"label": f"{c} ({'groups' if c in grouping else 'covariate'})", "value": f"covariate:{c}"}
                    for c in covariates.columns]
    text = (search or "").strip().lower()
    if text:
        index = ds.gene_index()
        hits = index[index["gene_id"].str.lower().str.contains(text, regex=False)
                     | index["gene_name"].astype(str).str.lower().str.contains(text, regex=False)]
        options += [{"label": f"{row.gene_name} switch score ({row.module_id})", "value": f"gene:{row.gene_id}"}
                    for row in hits.head(GENE_OPTIONS_MAX).itertuples()]
    return options


def map_figure(ds, key: str | None, groups: dict | None, method: str = "pca"):
    """The map (``method`` of :data:`~isograph.samples.dataset.MAP_METHODS`) coloured by ``key`` (see
    :func:`colour_options`) with the groups outlined."""
    coordinates, explained = sample_map(ds, method)
    colour, label, categorical = sample_colour(ds, key) if key else (None, "", False)
    return sample_map_figure(coordinates, explained, colour, colour_label=label, categorical=categorical,
                             groups=groups)


def method_options(umap_ready: bool) -> list[dict]:
    """The map choices; UMAP can be chosen once it is computed for the current eigengenes (or when umap-learn
    is missing, never, and the label says why)."""
    umap_label = ("UMAP" if umap_ready else "UMAP (not computed yet: Compute UMAP)" if umap_available()
                  else "UMAP (umap-learn is not installed)")
    return [{"label": "PCA", "value": "pca"}, {"label": umap_label, "value": "umap", "disabled": not umap_ready}]


def map_file_name(ds, method: str) -> str:
    """The exported figure's file name (no suffix): the data set and the map, e.g. ``demo_samples_umap``."""
    return f"{ds.file_stem}_samples_{method}"


def map_note(method: str, n_modules: int) -> str:
    """What the map's axes are, for the sentence under it."""
    if method == "umap":
        return (f"Map: {UMAP_WORDS} of the {n_modules} explained modules' eigengenes, each z-scored over the"
                " samples. Distances between far-apart groups and the axes' values mean nothing in a UMAP; only"
                " who is near whom does.")
    return (f"Map: principal component analysis of the {n_modules} explained modules' eigengenes, each z-scored"
            " over the samples; the axes say how much of their variance each component explains.")


@page_errors
def layout(dataset: str | None = None, colour: str | None = None, compare: str | None = None, **query) -> html.Div:
    try:
        ds = current_dataset(dataset)
        options = colour_options(ds)
        default = options[0]["value"] if options else None
        key = colour if colour in {o["value"] for o in options} or str(colour).startswith("gene:") else default
        umap_ready = stored_umap(ds) is not None
        method = choice(query.get("map"), MAP_METHODS, "pca")
        asked_umap = method == "umap" and not umap_ready
        method = "pca" if asked_umap else method
        try:
            figure = map_figure(ds, key, None, method)
        except InputError:  # a hand-edited URL's gene that has no switch score: the default colour
            key = default
            figure = map_figure(ds, key, None, method)
    except InputError as exc:
        return alert(str(exc), title="Cannot draw the samples")
    if key and key.startswith("gene:") and key not in {o["value"] for o in options}:
        options.append({"label": key.split(":", 1)[1], "value": key})
    n_modules = len(ds.module_ids)
    return html.Div([
        dcc.Store(id="samples-context", data={"dataset": ds.name, "modules": n_modules}),
        dcc.Store(id="samples-groups", data={"A": [], "B": []}), URL_STATE,
        html.H3("Samples"),
        html.P("Each dot is a sample, placed by a map of the explained modules' eigengenes. Draw a lasso (or a box,"
               " from the toolbar) around samples, put them in group A or B, and compare the groups.",
               className="text-muted"),
        dbc.Row([dbc.Col(html.Label("Colour by", className="mt-1"), width="auto"),
                 dbc.Col(dcc.Dropdown(id="samples-colour", options=options, value=key, clearable=False,
                                      placeholder="an eigengene, a covariate, or type a gene"), md=5),
                 dbc.Col(html.Label("Map", className="mt-1"), width="auto"),
                 dbc.Col(dbc.RadioItems(id="samples-method", value=method, inline=True, className="mt-1",
                                        options=method_options(umap_ready)), width="auto")],
                className="mb-2"),
        umap_panel(umap_ready, asked_umap),
        figure_card("samples-map", figure, title="Samples: a map of the module eigengenes",
                    filename=map_file_name(ds, method)),
        html.P(map_note(method, n_modules), id="samples-map-note", className="small text-muted"),
        dbc.Card([
            dbc.CardHeader(html.Span("Compare two groups of samples", className="fw-semibold")),
            dbc.CardBody([
                dbc.Button("Selection → group A", id="samples-to-a", color="danger", outline=True, className="me-2"),
                dbc.Button("Selection → group B", id="samples-to-b", color="primary", outline=True, className="me-2"),
                dbc.Button("Clear groups", id="samples-clear", color="secondary", outline=True),
                html.Div(id="samples-groups-text", className="small my-2",
                         children=groups_text({"A": [], "B": []})),
                dbc.RadioItems(id="samples-kind", value=choice(compare, KINDS, "switch"), inline=True, className="mb-2",
                               options=[{"label": label, "value": kind} for kind, label in KINDS.items()]),
                dbc.Button("Compare A vs B", id="samples-compare", color="primary"),
                dcc.Loading(html.Div(id="samples-result", className="mt-3")),
            ]),
        ], className="mb-3"),
    ])


def umap_panel(umap_ready: bool, asked: bool) -> html.Div:
    """Compute UMAP / Cancel and a progress bar (hidden once the UMAP is kept), and the job's words."""
    words = ("This link asks for the UMAP, which has not been computed for these eigengenes yet; the PCA is"
             " shown. " if asked else "")
    if not umap_available():
        words += "UMAP needs umap-learn (python -m pip install -r requirements.txt); the PCA works without it."
    else:
        words += ("The UMAP is computed once per explain run and kept in the data set (samples/); the first"
                  " computation in a server process takes 10–20 s while umap-learn compiles its code.")
    return html.Div([
        html.Div([
            dbc.Button("Compute UMAP", id="samples-umap-run", color="primary", outline=True, size="sm",
                       className="me-2", disabled=not umap_available()),
            dbc.Button("Cancel", id="samples-umap-cancel", color="secondary", size="sm", disabled=True),
            dbc.Progress(id="samples-umap-progress", value=0, label="", className="my-2", style={"height": "1.1rem"}),
        ], id="samples-umap-panel", hidden=umap_ready),
        html.Div("" if umap_ready else words, id="samples-umap-status", className="small text-muted"),
    ], className="mb-2")


@callback(Output("samples-method", "options"), Output("samples-method", "value"),
          Output("samples-umap-status", "children"), Output("samples-umap-panel", "hidden"),
          Input("samples-umap-run", "n_clicks"), State("samples-context", "data"),
          **job_options("samples-umap"), interval=500)
def umap_job(set_progress, _clicks, context: dict) -> tuple:
    """The job body: compute (or find) the data set's UMAP; returns (map options, chosen map, words, panel
    hidden)."""
    import time

    from components.background import job_gate

    set_progress((5, "waiting to start"))
    with job_gate(settings()):
        start = time.perf_counter()
        set_progress((20, "computing the UMAP (the first time in a process, umap-learn compiles its code: 10–20 s)"))
        try:
            coordinates, computed = compute_umap(current_dataset(context["dataset"]))
        except InputError as exc:
            set_progress((100, "failed"))
            return no_update, no_update, dbc.Alert(str(exc), color="warning", id="samples-umap-error",
                                                   className="py-1 mb-0"), False
    set_progress((100, "done"))
    how = f"computed in {time.perf_counter() - start:.1f} s and kept in the data set" if computed else "already kept"
    words = f"{UMAP_WORDS} of {len(coordinates)} samples: {how}."
    return method_options(True), "umap", words, True


on_cancel("samples-umap", "samples-umap-status", "Cancelled; no map was kept.")


def groups_text(groups: dict) -> list:
    """What the two groups hold (their sizes and sample IDs)."""
    parts = []
    for name in ("A", "B"):
        members = groups.get(name) or []
        shown = ", ".join(members[:12]) + (f", … ({len(members) - 12} more)" if len(members) > 12 else "")
        parts.append(html.Div([html.B(f"Group {name}: {len(members)} samples"), f" {shown}" if members else ""],
                              id=f"samples-group-{name.lower()}"))
    return parts


def selected_samples(selection: dict | None) -> list[str]:
    """The sample IDs of a lasso or box selection on the map (each point's ``customdata``), in first-seen order."""
    seen: dict[str, None] = {}
    for point in (selection or {}).get("points") or []:
        sample = point.get("customdata")
        sample = sample[0] if isinstance(sample, (list, tuple)) else sample
        if sample is not None:
            seen[str(sample)] = None
    return list(seen)


@callback(Output("samples-groups", "data"), Output("samples-groups-text", "children"),
          Input("samples-to-a", "n_clicks"), Input("samples-to-b", "n_clicks"), Input("samples-clear", "n_clicks"),
          State(graph_ref("samples-map"), "selectedData"), State("samples-groups", "data"), prevent_initial_call=True)
def set_groups(_a, _b, _clear, selection, groups):
    trigger = dash.ctx.triggered_id
    groups = {"A": list((groups or {}).get("A") or []), "B": list((groups or {}).get("B") or [])}
    if trigger == "samples-clear":
        groups = {"A": [], "B": []}
        return groups, groups_text(groups)
    chosen = selected_samples(selection)
    name, other = ("A", "B") if trigger == "samples-to-a" else ("B", "A")
    if not chosen:
        return no_update, [*groups_text(groups), dbc.Alert(
            "Nothing is selected: draw a lasso (or a box) around samples on the map first.", color="warning",
            className="mt-2 mb-0 py-1", id="samples-groups-error")]
    groups[name] = chosen
    groups[other] = [s for s in groups[other] if s not in set(chosen)]  # a sample moves, it is never in both
    return groups, groups_text(groups)


@callback(Output(graph_ref("samples-map"), "figure"), Output("samples-map-note", "children"),
          Output({"type": "export-name", "graph": "samples-map"}, "data"),
          Input("samples-colour", "value"), Input("samples-groups", "data"), Input("samples-method", "value"),
          State("samples-context", "data"), prevent_initial_call=True)
def redraw(key, groups, method, context):
    method = choice(method, MAP_METHODS, "pca")
    ds = current_dataset(context["dataset"])
    try:
        figure = map_figure(ds, key, groups, method)
    except MapNotComputed as exc:
        return no_update, str(exc), no_update
    except InputError:
        return no_update, no_update, no_update
    return figure, map_note(method, context.get("modules", 0)), map_file_name(ds, method)


@callback(Output("samples-colour", "options"), Input("samples-colour", "search_value"),
          State("samples-colour", "value"), State("samples-context", "data"), prevent_initial_call=True)
def search_genes(search, value, context):
    if not search:
        return no_update
    options = colour_options(current_dataset(context["dataset"]), search)
    if value and value not in {o["value"] for o in options}:
        options.append({"label": value.split(":", 1)[-1], "value": value})  # keep what is shown selectable
    return options


@callback(Output("samples-result", "children"), Input("samples-compare", "n_clicks"),
          State("samples-groups", "data"), State("samples-kind", "value"), State("samples-context", "data"),
          prevent_initial_call=True)
def compare(_n, groups, kind, context):
    ds = current_dataset(context["dataset"])
    try:
        table = compare_sample_groups(ds, groups.get("A") or [], groups.get("B") or [], kind)
    except InputError as exc:
        return dbc.Alert(str(exc), color="warning", id="samples-compare-error")
    return result_view(ds, table, kind)


def result_view(ds, table, kind: str) -> list:
    """The comparison's words and table."""
    tested = table["pvalue"].notna()
    significant = tested & (table["qvalue"] <= Q_THRESHOLD)
    what = "genes' switch scores" if kind == "switch" else "transcripts' usage"
    n_a, n_b = int(table["n_a"].max()), int(table["n_b"].max())
    test = (f"Welch's two-sided t-test of each of {int(tested.sum())} {what}, group A (n ≤ {n_a}) vs group B"
            f" (n ≤ {n_b}); q by Benjamini–Hochberg over the {int(tested.sum())} tested;"
            f" delta = mean A − mean B.")
    if significant.any():
        top = table[significant].iloc[0]
        words = (f"{int(significant.sum())} {what} differ at q ≤ {Q_THRESHOLD}; smallest p: {top['gene_name']}"
                 f" ({top['feature_id']}), delta {top['delta']:+.3g} (A − B), q = {top['qvalue']:.2g}.")
    else:
        smallest = table.loc[tested, "qvalue"].min() if tested.any() else float("nan")
        words = (f"No significant difference: none of the {what} reaches q ≤ {Q_THRESHOLD}"
                 + (f" (smallest q = {smallest:.2g})." if tested.any() else "."))
    untested = int((~tested).sum())
    return [
        html.P(words, id="samples-result-words", className="fw-semibold mb-1"),
        html.P(test + (f" {untested} not tested (fewer than 2 values in a group, or no variance)." if untested
                       else ""), className="text-muted small"),
        data_grid("samples-compare-table", table, columns=RESULT_COLUMNS,
                  csv_name=f"{ds.file_stem}_samples_A_vs_B_{kind}"),
    ]


@callback(Output("url", "href", allow_duplicate=True), Input(grid_id("samples-compare-table"), "cellClicked"),
          State(grid_source("samples-compare-table"), "data"), State("samples-context", "data"),
          prevent_initial_call=True)
def open_gene(cell, rows, context):
    row = clicked_row(cell, rows)
    if not row or not row.get("gene_id") or not row.get("module_id"):
        return no_update
    return gene_href(row['gene_id'], module=row["module_id"], dataset=context["dataset"])

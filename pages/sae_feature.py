"""``/sae/features/<layer>/<idx>?ef=N``: one SAE feature (Neuronpedia/InterPLM style)."""

from __future__ import annotations

import functools

import dash
import dash_bootstrap_components as dbc
import pandas as pd
from dash import Input, Output, State, callback, dcc, html

from components.data_grid import data_grid
from components.jobs import job_options, on_cancel
from components.layout import (
    alert,
    control_value,
    current_dataset,
    figure_card,
    href,
    number_input,
    page_errors,
    settings,
)
from components.model_card import model_card
from components.variant_box import variant_card, variant_report
from components.view_cache import cached_view
from isograph.dataset.cache import read_parquet
from isograph.dataset.datasets import DatasetError
from isograph.errors import InputError
from isograph.figures.sae import activation_histogram, intervention_effects, intervention_side_by_side, sequence_heat

dash.register_page(__name__, path_template="/sae/features/<layer>/<idx>", path="/sae/features/2/0", name="SAE feature",
                   title=lambda layer=None, idx=None, **_: f"Feature {idx} (layer {layer}) — IsoGraph Explorer")

SEQUENCE_COLUMNS = ["seq_id", "set", "gene_name", "max_activation", "n_active", "argmax_token", "n_copies", "interval"]
GO_COLUMNS = ["go_id", "term", "ontology", "k", "n", "K", "N", "fold_enrichment", "pvalue", "qvalue", "genes"]


def _find_run(ds, layer, ef):
    for run in ds.sae.runs():
        if str(run.layer_idx) == str(layer) and (ef in (None, "") or str(run.expansion_factor) == str(ef)):
            return run
    raise DatasetError(f"no SAE run for layer {layer}" + (f" and expansion factor {ef}" if ef else "")
                       + f" in data set {ds.name!r}; runs: {', '.join(r.key for r in ds.sae.runs()) or 'none'}")


@cached_view
@page_errors
def layout(layer: str | None = None, idx: str | None = None, ef: str | None = None, dataset: str | None = None,
           **_query) -> html.Div:
    from isograph.sae.features import feature_profile, sequence_track, token_activations
    from isograph.sae.runs import load_run_data

    if layer is None or idx is None:
        return html.Div()
    try:
        ds = current_dataset(dataset)
        run = _find_run(ds, layer, ef)
        data = load_run_data(run)
        if not str(idx).isdigit() or int(idx) >= data.z.shape[1]:
            raise DatasetError(f"feature {idx!r} is not in run {run.key}; it has features 0..{data.z.shape[1] - 1}")
    except DatasetError as exc:
        return alert(str(exc), title="Unknown feature")
    feature = int(idx)
    values = data.z[:, feature]
    profile = feature_profile(data.tokens, values, feature=feature)
    shown = pd.concat([profile.top_sequences.assign(interval="top"), profile.quantile_samples], ignore_index=True)
    heat = token_activations(data.tokens, values, shown["seq_id"].tolist())
    models = ds.structure.models()
    info = data.sequences.drop_duplicates("seq_id").set_index("seq_id")
    tracks = {}
    for seq_id in shown["seq_id"] if models is not None else []:
        row = info.loc[seq_id]
        chrom = row["chrom"] if isinstance(row.get("chrom"), str) else None
        tracks[seq_id] = sequence_track(seq_id, len(row["sequence"]), models, chrom=chrom, start=int(row.get("start", -1)),
                                        strand=str(row.get("strand", "+")))
    labels = {r.seq_id: f"{r.interval}: {r.seq_id}" for r in shown.itertuples()}
    rank = data.centrality.set_index("node")
    node = f"f{feature}"
    stem = _csv_stem(ds.file_stem, run, feature)
    context = {"dataset": ds.name, "layer": run.layer_idx, "ef": run.expansion_factor, "feature": feature,
               "top": profile.top_sequences["seq_id"].head(3).tolist()}
    return html.Div([
        dcc.Store(id="feature-context", data=context),
        html.H3([f"Feature {feature} ", html.Small(f"layer {run.layer_idx}, expansion factor {run.expansion_factor}",
                                                   className="text-muted"), " ",
                 dcc.Link("back to the graph", href=href("/sae", dataset=ds.name, layer=run.layer_idx,
                                                         ef=run.expansion_factor), className="fs-6")]),
        model_card(ds),
        dbc.Row([_stat("activation frequency", f"{profile.frequency:.2%}", "feature-frequency"),
                 _stat("max activation", f"{profile.max_activation:.3g}", "feature-max"),
                 _stat("mean when active", f"{profile.mean_active:.3g}", "feature-mean"),
                 _stat("PageRank rank", f"{int(rank.loc[node, 'pagerank_rank'])} of"
                       f" {int((rank['kind'] == 'feature').sum())}" if node in rank.index else "not in the graph",
                       "feature-rank"),
                 _stat("set contrast", _contrast_text(data.contrast, feature), "feature-contrast"),
                 _stat("best GTF concept", _concept_text(run, feature), "feature-concept"),
                 _stat("CDS vs UTR (Fisher, BH)", _region_text(run, feature), "feature-region")], className="mb-3"),
        dbc.Row([
            dbc.Col(figure_card("feature-histogram", activation_histogram(profile.histogram),
                                title="Activation histogram", filename=f"feature_{feature}_histogram"), lg=5),
            dbc.Col(figure_card("feature-heat", sequence_heat(heat, tracks, labels=labels),
                                title="Top-activating sequences and samples from activation quantiles",
                                filename=f"feature_{feature}_sequences"), lg=7),
        ]),
        html.H5("Sequences shown"),
        data_grid("feature-sequences", shown, columns=SEQUENCE_COLUMNS, csv_name=f"{stem}_sequences"),
        html.H5("Isoform switches whose gained or lost exons activate it"),
        _switch_table(run, feature, stem),
        html.H5("GO enrichment of the genes whose tokens the feature leads"),
        _go_table(run, data, feature, stem),
        _paste_card(),
        variant_card("feature", title="A variant: reference vs alternate window (HGVS on a transcript of the data set)",
                     placeholder="e.g. TCONS_00000001:c.4G>A, c.10_12del, c.4_5insGG"),
        _intervention_card(),
    ])


def _stat(name: str, value: str, element_id: str) -> dbc.Col:
    return dbc.Col(dbc.Card(dbc.CardBody([html.Div(name, className="small text-muted"),
                                          html.Div(value, className="fs-5", id=element_id)])), md=2)


SWITCH_COLUMNS = ["gene_id", "module_id", "pair", "set", "transcript_id", "genomic_start", "genomic_end", "activation"]


def _csv_stem(dataset: str, run, feature: int) -> str:
    return f"{dataset}_sae_ef{run.expansion_factor}_layer{run.layer_idx}_feature_{feature}"


def _switch_table(run, feature: int, stem: str) -> html.Div:
    """The exonic stretches of called switches (isograph.sae.bridge) on which the feature is active, strongest first,
    with the run's gained-vs-lost test of the feature."""
    segments_path, tests_path = run.path("switch_segments"), run.path("switch_features")
    if not segments_path.exists():
        return html.P("This run has no switch bridge (it needs the data set's annotated switch pairs).",
                      className="small text-muted", id="feature-switches")
    segments = read_parquet(segments_path)
    column = f"f{feature}"
    if column not in segments:
        return html.P("–", id="feature-switches")
    active = segments[segments[column] > 0].assign(activation=lambda t: t[column]).sort_values("activation",
                                                                                               ascending=False)
    tests = read_parquet(tests_path).set_index("feature") if tests_path.exists() else pd.DataFrame()
    if feature in tests.index:
        row = tests.loc[feature]
        verdict = ("higher on gained exons" if row["auc"] > 0.5 else "higher on lost exons") \
            if row["qvalue"] < 0.05 else "no significant difference between gained and lost exons"
        words = (f"{verdict}: AUC {row['auc']:.2f}, Mann-Whitney p {row['pvalue']:.2g}, BH q {row['qvalue']:.2g}"
                 f" ({int(row['n_gained'])} gained and {int(row['n_lost'])} lost stretches of the called switches).")
    else:
        words = "Never active on a gained or lost exon of the called switches."
    return html.Div([html.P(words, className="small", id="feature-switch-test"),
                     data_grid("feature-switches", active, columns=SWITCH_COLUMNS, page_size=8,
                               csv_name=f"{stem}_switch_stretches")])


def _region_text(run, feature: int) -> str:
    """The run's CDS-vs-UTR test of the feature (isograph.sae.demo.region_enrichment), when the run has one."""
    path = run.path("regions")
    table = read_parquet(path) if path.exists() else None
    if table is None or feature not in set(table["feature"]):
        return "–"
    row = table.set_index("feature").loc[feature]
    side = "CDS" if row["odds_ratio"] > 1 else "UTR"
    words = f"odds ratio {row['odds_ratio']:.2f}, q {row['qvalue']:.2g}"
    return f"leads {side} tokens more often: {words}" if row["qvalue"] < 0.05 else f"no significant difference ({words})"


def _concept_text(run, feature: int) -> str:
    from isograph.sae.runs import load_run_concepts

    concepts = load_run_concepts(run)
    mine = concepts[concepts["feature"] == feature] if concepts is not None else None
    if mine is None or mine.empty:
        return "–"
    best = mine.sort_values(["f1", "concept"], ascending=[False, True]).iloc[0]
    if best["f1"] <= 0:
        return "none (F1 0 for every concept)"
    return (f"{best['concept']}: F1 {best['f1']:.2f} (precision {best['precision']:.2f}, recall {best['recall']:.2f};"
            " held-out genes)")


def _contrast_text(contrast: pd.DataFrame | None, feature: int) -> str:
    if contrast is None or feature not in set(contrast["feature"]):
        return "–"
    row = contrast.set_index("feature").loc[feature]
    a, b = row.get("set_a", "A"), row.get("set_b", "B")
    seen = row.get("seen_in", "both")
    if seen != "both":  # in one set's graph only: no ratio to report
        return f"only in {seen} ({int(row['n_tokens_a'] + row['n_tokens_b'])} tokens); no PageRank ratio"
    return f"log10 PR {a}/{b} = {row['log10_ratio']:+.2f}"


def _go_table(run, data, feature: int, stem: str) -> html.Div:
    from isograph.sae.go import edge_genes, enrich

    stored = run.path("go_enrichment")
    table = read_parquet(stored) if stored.exists() else pd.DataFrame()
    if "feature" in table and (table["feature"] == feature).any():
        table = table[table["feature"] == feature]
    else:
        pairs = edge_genes(data.edges)
        genes = sorted(set(pairs.loc[pairs["feature"] == feature, "gene"]))
        background = sorted(set(pairs["gene"]))
        if len(genes) < 3:
            return html.P("Too few genes (< 3) for an enrichment test.", className="text-muted", id="feature-go")
        try:
            table = enrich(genes, background, _ontology())
        except InputError as exc:
            return html.P(f"No GO enrichment: {exc}", className="text-muted", id="feature-go")
    if table.empty:
        return html.P("No GO term tested.", className="text-muted", id="feature-go")
    return html.Div(data_grid("feature-go-table", table, columns=GO_COLUMNS, csv_name=f"{stem}_go_enrichment"),
                    id="feature-go")


@functools.lru_cache(maxsize=1)
def _ontology():
    from isograph.sae.go import load_gene_ontology

    return load_gene_ontology()


def _paste_card() -> dbc.Card:
    return dbc.Card([
        dbc.CardHeader(html.Span("Run on my sequence", className="fw-semibold")),
        dbc.CardBody([
            dbc.Textarea(id="feature-paste", placeholder="Paste DNA (A, C, G, T, N; a FASTA header line is fine)",
                         rows=3, className="mb-2 font-monospace"),
            dbc.Button("Show activations", id="feature-paste-run", color="primary", size="sm"),
            html.Div(id="feature-paste-result", className="mt-2"),
        ]),
    ], className="mb-3")


@callback(Output("feature-variant-result", "children"), Input("feature-variant-run", "n_clicks"),
          State("feature-variant", "value"), State("feature-context", "data"), prevent_initial_call=True)
def run_variant(_clicks, text, context):
    """This feature's largest activation on the reference and the alternate window, the model's KL and the
    features that change most (:func:`components.variant_box.variant_report`)."""
    try:
        ds = current_dataset(context["dataset"])
        run = _find_run(ds, context["layer"], context["ef"])
    except DatasetError as exc:
        return dbc.Alert(str(exc), color="danger", id="feature-variant-error")
    return variant_report("feature", ds, run, text, feature=context["feature"])


#: What α does (isograph.sae.intervene.edit_features): this feature × α, every other ÷ α; 0 zeroes the others.
ALPHA_LABEL = "α (this feature × α, others ÷ α; 0 keeps only this feature)"


def _intervention_card() -> dbc.Card:
    return dbc.Card([
        dbc.CardHeader(html.Span("Intervene: set this feature to max(z, δ) × α and every other feature to z ÷ α"
                                 " (α = 0: the others to 0), then compare the model's output",
                                 className="fw-semibold")),
        dbc.CardBody([
            dbc.Row([
                dbc.Col([dbc.Label("δ (minimum activation)"), number_input("feature-delta", 0.0, hint="a number")],
                        md=3),
                dbc.Col([dbc.Label(ALPHA_LABEL), number_input("feature-alpha", 0.0, hint="≥ 0")], md=3),
                dbc.Col([dbc.Button("Run", id="feature-intervene-run", color="primary", className="me-2 mt-4"),
                         dbc.Button("Cancel", id="feature-intervene-cancel", color="secondary", className="mt-4",
                                    disabled=True)], md=6),
            ]),
            dbc.Progress(id="feature-intervene-progress", value=0, label="", className="my-2",
                         style={"height": "1.2rem"}),
            html.Div(id="feature-intervene-result"),
        ]),
    ], className="mb-3")


@callback(Output("feature-paste-result", "children"), Input("feature-paste-run", "n_clicks"),
          State("feature-paste", "value"), State("feature-context", "data"), prevent_initial_call=True)
def run_pasted(_clicks, text, context):
    from isograph.sae.features import sequence_activations
    from isograph.sae.runs import load_run_models

    try:
        ds = current_dataset(context["dataset"])
        run = _find_run(ds, context["layer"], context["ef"])
        lm, sae = load_run_models(run)
        tokens, top = sequence_activations(lm, sae, text or "", layer_idx=run.layer_idx, feature=context["feature"])
    except (InputError, DatasetError) as exc:
        return dbc.Alert(str(exc), color="danger", id="feature-paste-error")
    vmax = max(float(tokens["activation"].max()), 1e-9)
    spans = [html.Span(t, title=f"{t}: {a:.3g}", style={"backgroundColor": f"rgba(192, 57, 43, {a / vmax:.2f})"})
             for t, a in zip(tokens["token"], tokens["activation"])]
    others = ", ".join(f"f{f} ({m:.2g})" for f, m in zip(top["feature"], top["max_activation"]))
    return html.Div([
        html.P(f"Feature {context['feature']}: max {tokens['activation'].max():.3g} over {len(tokens)} tokens,"
               f" active on {int((tokens['activation'] > 0).sum())}.", id="feature-paste-summary"),
        html.Div(spans, className="token-heat mb-2", id="feature-paste-tokens"),
        html.P(f"Strongest features on this sequence: {others}.", className="small text-muted"),
    ])


@callback(
    Output("feature-intervene-result", "children"),
    Input("feature-intervene-run", "n_clicks"),
    State("feature-context", "data"), State("feature-delta", "value"), State("feature-alpha", "value"),
    **job_options("feature-intervene"), interval=400,
)
def intervene_job(set_progress, _clicks, context, delta, alpha):
    return intervention_job(set_progress, context, delta, alpha)


def intervention_job(set_progress, context, delta, alpha):
    """Background job: the feature edit on the top sequences, baseline vs intervened side by side."""
    from components.background import job_gate
    from isograph.sae.intervene import intervene
    from isograph.sae.runs import load_run_data, load_run_models

    set_progress((2, "waiting to start"))
    with job_gate(settings()):
        try:
            ds = current_dataset(context["dataset"])
            run = _find_run(ds, context["layer"], context["ef"])
            set_progress((10, "loading the models"))
            lm, sae = load_run_models(run)
            sequences = load_run_data(run).sequences.set_index("seq_id")["sequence"]
            delta = control_value(delta, "δ (minimum activation)", default=0)
            alpha = control_value(alpha, ALPHA_LABEL, default=1, low=0)
            parts = []
            for i, seq_id in enumerate(context["top"]):
                set_progress((int(20 + 75 * i / len(context["top"])), f"sequence {i + 1} of {len(context['top'])}"))
                result = intervene(lm, sae, sequences[seq_id], layer_idx=run.layer_idx, feature=context["feature"],
                                   delta=delta, alpha=alpha, seq_id=seq_id)
                parts.append(result.effects)
        except (InputError, DatasetError) as exc:
            set_progress((100, "failed"))
            return dbc.Alert(f"Could not intervene: {exc}", color="danger")
    set_progress((100, "done"))
    effects = pd.concat(parts, ignore_index=True)
    changed = int(effects["top_changed"].sum())
    words = (f"δ = {delta:g}, α = {alpha:g}: mean KL"
             f" {effects['kl'].mean():.3g} nats; top prediction changed at {changed} of {len(effects)} tokens;"
             f" mean p(token) {effects['p_token_before'].mean():.3f} → {effects['p_token_after'].mean():.3f}.")
    name = f"feature_{context['feature']}_intervention"
    return html.Div([
        dbc.Alert(words, color="light", id="feature-intervene-summary"),
        figure_card("feature-intervention", intervention_side_by_side(effects), title="Baseline vs intervened",
                    filename=name),
        figure_card("feature-intervention-kl", intervention_effects(effects), title="Per-token KL(baseline ‖ intervened)",
                    filename=f"{name}_kl"),
        data_grid("feature-intervention-table", effects,
                  columns=["seq_id", "token_index", "token", "z_before", "z_after", "p_token_before", "p_token_after",
                           "top_token_before", "top_token_after", "top_changed", "kl"],
                  csv_name=f"{ds.file_stem}_{name}_delta{delta:g}_alpha{alpha:g}"),
    ])


on_cancel("feature-intervene", "feature-intervene-result")

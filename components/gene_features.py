"""The gene view's language-model part: a chosen SAE feature along each isoform (a background job with a
progress bar and a cancel button) and a variant box for the gene's transcripts.

Component IDs: ``gene-track-sae`` (the SAE run), ``gene-track-feature`` (the feature; empty = the one that
differs most between the isoforms), ``gene-track-run`` / ``gene-track-cancel`` / ``gene-track-progress``
(the job), ``gene-track-status`` (its words), ``gene-track-result`` (the figure); the variant box uses the
prefix ``gene`` (:mod:`components.variant_box`).
"""

from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import dcc, html

from components.layout import control_value, current_dataset, figure_card, href, number_input, settings
from components.variant_box import variant_card
from isograph.dataset.datasets import DatasetError
from isograph.errors import InputError

__all__ = ["MAX_TRACK_BASES", "feature_track_job", "gene_sae_section"]

#: The most transcript bases one feature-track job embeds (all isoforms of the gene together).
MAX_TRACK_BASES = 60_000


def gene_sae_section(ds, gene_id: str, transcript_ids: list[str]) -> html.Div:
    """The section, or one line saying what the data set lacks for it (an SAE run, the GTF, the transcript
    FASTA)."""
    try:
        runs = ds.sae.runs()
        missing = ("an SAE run (build one on /sae)" if not runs else
                   "a GTF" if ds.structure.models() is None else
                   "a transcript FASTA (transcripts.fa.gz)" if not ds.paths.get("transcripts", None) or
                   not ds.paths["transcripts"].exists() else None)
    except (InputError, DatasetError) as exc:  # a damaged GTF or SAE folder degrades only this part
        return html.Div(f"Language-model features along these isoforms are not available: {exc}",
                        className="small text-muted mb-3", id="gene-track-missing")
    if missing is not None:
        return html.Div(f"Language-model features along these isoforms need {missing}; this data set has none.",
                        className="small text-muted mb-3", id="gene-track-missing")
    return html.Div([
        html.H5("What the language model's SAE features see along each isoform"),
        dbc.Card([
            dbc.CardHeader(html.Span("One SAE feature along each isoform (run the transcripts through the language"
                                     " model and the SAE)", className="fw-semibold")),
            dbc.CardBody([
                dbc.Row([
                    dbc.Col([dbc.Label("SAE run"), dbc.Select(id="gene-track-sae", value=runs[0].key,
                                                              options=[{"label": r.key, "value": r.key} for r in runs])],
                            md=3),
                    dbc.Col([dbc.Label("feature (empty: the one whose largest activation differs most between the"
                                       " isoforms)"),
                             number_input("gene-track-feature", hint="empty, or 0 to the SAE's features − 1")], md=5),
                    dbc.Col([dbc.Button("Draw", id="gene-track-run", color="primary", className="me-2 mt-4"),
                             dbc.Button("Cancel", id="gene-track-cancel", color="secondary", className="mt-4",
                                        disabled=True)], md=4),
                ]),
                dbc.Progress(id="gene-track-progress", value=0, label="", className="my-2", style={"height": "1.2rem"}),
                html.Div(id="gene-track-status", className="small"),
                html.Div(id="gene-track-result"),
            ]),
        ], className="mb-3"),
        variant_card("gene", title="A variant on one of these isoforms: reference vs alternate window (HGVS)",
                     placeholder=f"e.g. {transcript_ids[0] if transcript_ids else 'TRANSCRIPT'}:c.4G>A, c.10_12del,"
                                 " c.4_5insGG"),
    ])


def feature_track_job(set_progress, context: dict, run_key: str | None, feature, compress: bool) -> tuple:
    """The job body: the chosen feature's activation along each drawn isoform of the gene.

    Parameters
    ----------
    set_progress : callable
        Takes (percent, label).
    context : dict
        ``dataset, module, gene`` of the page.
    run_key : str
        ``ef{N}/layer_{L}``.
    feature : object
        What the feature input holds (empty: :func:`isograph.sae.transcript_track.most_different_feature`).
    compress : bool
        Draw introns short (as the switchPlot above).

    Returns
    -------
    tuple
        (status words, the figure card or None); on bad input the words are a red alert.
    """
    from components.background import budgeted, job_gate
    from isograph.figures.feature_track import isoform_feature_track
    from isograph.figures.switch_plot import isoform_colours, shown_isoforms
    from isograph.sae.runs import load_run_models
    from isograph.sae.transcript_track import transcript_activations

    set_progress((2, "waiting to start"))
    with job_gate(settings()):
        checked = budgeted(set_progress, settings(), "The feature track",
                           instead="run `isograph sae embed` on the transcript FASTA from the command line")
        try:
            ds = current_dataset(context["dataset"])
            run = ds.sae.run_by_key(run_key)
            checked((8, "loading the language model and the SAE"))
            lm, sae = load_run_models(run)
            n_features = int(sae.W_enc.shape[0])
            chosen = None if feature in (None, "") else control_value(
                feature, f"feature (0..{n_features - 1})", default=0, kind=int, low=0, high=n_features - 1)
            polarity = ds.explain.table(context["module"], "transcript_polarity_table")
            mine = polarity[polarity["gene_id"] == context["gene"]]
            shown, hidden = shown_isoforms(mine, ds.feature_columns(mine["feature_id"].astype(str).tolist()))
            colours = isoform_colours(shown["tid"].tolist())
            models = ds.transcript_models(context["gene"])
            models = models[models["transcript_id"].isin(list(colours))]
            checked((15, f"embedding {len(models)} isoforms"))
            tokens, chosen_feature = transcript_activations(
                lm, sae, ds.sae.transcripts(), models, layer_idx=run.layer_idx, feature=chosen,
                max_bases=MAX_TRACK_BASES, progress=lambda f, m: checked((int(15 + 75 * f), m)))
            checked((95, "drawing"))
        except (InputError, DatasetError) as exc:
            set_progress((100, "failed"))
            return dbc.Alert(str(exc), color="danger", id="gene-track-error"), None
    set_progress((100, "done"))
    peaks = tokens.groupby("transcript_id", sort=False)["activation"].max()
    how = ("as entered" if chosen is not None else
           "the feature whose largest activation differs most between these isoforms")
    words = html.Div([
        html.P([f"Feature {chosen_feature} of run {run.key} ({how}; ",
                dcc.Link("its page", href=href(f"/sae/features/{run.layer_idx}/{chosen_feature}",
                                               ef=run.expansion_factor, dataset=ds.name)),
                "): largest activation " + ", ".join(f"{t} {v:.3g}" for t, v in peaks.items()) + "."],
               id="gene-track-summary"),
        html.P("Activations of the model's features, not a test: each transcript is read 5′→3′ as the model's"
               f" 6-mers from its own first base (so an exon two isoforms share can be cut into different 6-mers),"
               f" in tiles of at most {lm.max_tokens - 1} tokens embedded separately."
               + (f" Isoforms with mean usage below 5% are not drawn: {', '.join(hidden)}." if hidden else ""),
               className="small text-muted"),
    ])
    figure = isoform_feature_track(models, tokens, colours, feature=chosen_feature, compress=compress,
                                   title=f"Feature {chosen_feature} ({run.key}) along each isoform of {context['gene']}")
    return words, figure_card("gene-track", figure, title="Activation along each isoform (one panel per isoform, same"
                                                          " scale; colours as in the switch plot)",
                              filename=f"{context['gene']}_feature_{chosen_feature}_track")

"""The "variant" box of the feature page and the gene view: one HGVS change on a transcript of the data set,
run through the language model and an SAE run (:mod:`isograph.sae.variants`).

Component IDs, for a page prefix P: ``P-variant`` (the HGVS input), ``P-variant-run`` (the button),
``P-variant-result`` (what it found: ``P-variant-summary``, or ``P-variant-error`` with the one-line reason).
"""

from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import html

from isograph.errors import InputError

__all__ = ["FLANK", "variant_card", "variant_report"]

#: Bases of the transcript kept on each side of the change in the reference and the alternate window.
FLANK = 150


def variant_card(prefix: str, *, title: str, placeholder: str) -> dbc.Card:
    """The box: an HGVS input, a Compare button and the result area."""
    return dbc.Card([
        dbc.CardHeader(html.Span(title, className="fw-semibold")),
        dbc.CardBody([
            dbc.Input(id=f"{prefix}-variant", placeholder=placeholder, className="mb-2 font-monospace", maxLength=200),
            dbc.Button("Compare", id=f"{prefix}-variant-run", color="primary", size="sm"),
            html.Div(id=f"{prefix}-variant-result", className="mt-2"),
        ]),
    ], className="mb-3")


def variant_report(prefix: str, ds, run, text: str | None, *, feature: int | None = None,
                   transcripts: list[str] | None = None, owner: str = "") -> html.Div:
    """What one variant does: the model's KL(reference ‖ alternate) on the aligned tokens, the features whose
    largest activation changes most between the two windows (``FLANK`` bases each side of the change), and
    ``feature``'s own change when one is given.

    Parameters
    ----------
    prefix : str
        The page's component-ID prefix.
    ds : isograph.dataset.datasets.Dataset
    run : isograph.sae.runs.SAERun
    text : str or None
        The HGVS description as typed.
    feature : int, optional
    transcripts : list of str, optional
        The transcripts the box accepts (the gene view: the gene's); None accepts any of the data set.
    owner : str, default ""
        What ``transcripts`` belong to, for the message (e.g. "gene TP53").

    Returns
    -------
    html.Div
        The result, or a red alert with the one-line reason (an unreadable description, an unknown
        transcript, a reference mismatch, a data set without a GTF or transcript FASTA).
    """
    from isograph.dataset.datasets import DatasetError
    from isograph.sae.runs import load_run_models
    from isograph.sae.variants import hgvs_to_variant, parse_hgvs, variant_effects, variant_windows

    try:
        models = ds.structure.models()
        if models is None:
            raise InputError(f"data set {ds.name!r} has no GTF; variants need the transcript models")
        sequences = ds.sae.transcripts()
        named = parse_hgvs(str(text or "").strip())["transcript"]
        if transcripts is not None and named not in transcripts:
            raise InputError(f"variant {str(text).strip()!r}: {named} is not a transcript of {owner}; this box takes"
                             f" one of {', '.join(transcripts)}")
        variant = hgvs_to_variant(str(text or "").strip(), sequences, models)
        lm, sae = load_run_models(run)
        if feature is not None and not 0 <= int(feature) < int(sae.W_enc.shape[0]):
            raise InputError(f"feature {feature} is out of range: the SAE of run {run.key} has features"
                             f" 0..{int(sae.W_enc.shape[0]) - 1}")
        windows = variant_windows([variant], sequences, flank=FLANK)
        features, tokens = variant_effects(lm, sae, windows, layer=run.layer_idx, top=int(sae.W_enc.shape[0]))
    except (InputError, DatasetError) as exc:
        return dbc.Alert(str(exc), color="danger", id=f"{prefix}-variant-error")
    top = features.reindex(features["delta"].abs().sort_values(ascending=False).index).head(5)
    others = ", ".join(f"f{int(r.feature)} ({r.delta:+.2g})" for r in top.itertuples())
    aligned = "all tokens" if len(variant.ref) == len(variant.alt) else "the tokens before the change"
    change = (f"{variant.name} ({variant.transcript_id} {variant.start + 1}-{variant.end}: {variant.ref or '-'} →"
              f" {variant.alt or '-'})")
    if feature is not None:
        mine = features.set_index("feature").loc[int(feature)]
        summary = (f"{change}: feature {feature} max activation {mine['max_ref']:.3g} (reference) →"
                   f" {mine['max_alt']:.3g} (alternate), Δ {mine['delta']:+.3g}.")
    else:
        summary = f"{change}: windows of {FLANK} bases each side of the change, run {run.key}."
    return html.Div([
        html.P(summary, id=f"{prefix}-variant-summary"),
        html.P(f"Language model: KL(reference ‖ alternate) of its predictions, mean {tokens['kl'].mean():.3g} and max"
               f" {tokens['kl'].max():.3g} nats over {len(tokens)} aligned tokens ({aligned}). Features whose largest"
               f" activation changed most (Δ = alternate − reference): {others}.", className="small text-muted"),
    ])

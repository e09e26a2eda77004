"""The SAE pages show the model card, each feature's best GTF concept, and "features for a concept"."""

from __future__ import annotations

import json

import numpy as np
from dash import html

from tests.integration.conftest import grid_table


def _text(component) -> str:
    return str(html.Div(component).to_plotly_json())


def test_the_sae_page_has_the_model_card_and_the_concept_search(app, demo_root):
    from pages.sae import layout, show_concept

    report = json.loads((demo_root / "demo" / "sae" / "lm" / "training.json").read_text())
    with app.server.app_context():
        page = _text(layout(dataset="demo"))
        assert "sae-model-card" in page and f"{report['held_out']['loss']:.2f} nats" in page
        assert "Features for a concept" in page and "best_concept_f1" in page and "sae-concept-features" in page
        table = grid_table(show_concept("3'UTR", "2", "8", {"dataset": "demo"}), "sae-concept-features")
        assert set(table["concept"]) == {"3'UTR"} and table["f1"].is_monotonic_decreasing
        refused = _text(show_concept("<script>", "2", "8", {"dataset": "demo"}))
        assert "sae-concept-error" in refused and "no concept" in refused


def test_a_feature_page_names_its_best_concept(app, demo_root):
    import pandas as pd

    from pages.sae_feature import layout

    scores = pd.read_parquet(demo_root / "demo" / "sae" / "ef8" / "layer_2" / "concept_scores.parquet")
    top = scores.sort_values("f1", ascending=False).iloc[0]
    with app.server.app_context():
        page = _text(layout(layer="2", idx=str(int(top["feature"])), dataset="demo", ef="8"))
    assert f"{top['concept']}: F1 {top['f1']:.2f}" in page and "sae-model-card" in page


def test_the_graph_has_a_legend_of_its_set_colours(app, demo_root):
    from components.sae_graph import legend_items
    from isograph.sae.runs import find_runs
    from pages.sae import graph_view

    run = next(r for r in find_runs(demo_root / "demo" / "sae") if r.key == "ef8/layer_2")
    elements, note, _ = graph_view(run, list(run.sets), 25, 0, 4)
    items = dict(legend_items(elements))
    colours = {e["data"]["set"]: e["data"]["colour"] for e in elements if e["data"].get("kind") == "sequence"}
    assert items["feature"] == "#c0392b" and {f"sequence in {s}": c for s, c in colours.items()}.items() <= items.items()
    assert "sae-graph-legend" in _text(note) and "sequence in CDS" in _text(note)


def test_a_feature_page_shows_its_cds_utr_test_and_each_window_once(app, demo_root):
    import pandas as pd

    from pages.sae_feature import layout

    regions = pd.read_parquet(demo_root / "demo" / "sae" / "ef8" / "layer_2" / "feature_region_enrichment.parquet")
    best = regions.iloc[0]
    with app.server.app_context():
        page = _text(layout(layer="2", idx=str(int(best["feature"])), dataset="demo", ef="8"))
    assert f"odds ratio {best['odds_ratio']:.2f}, q {best['qvalue']:.2g}" in page and "n_copies" in page


def test_a_feature_page_lists_the_switch_exons_that_activate_it(app, demo_root):
    import pandas as pd

    from pages.sae_feature import layout

    run = demo_root / "demo" / "sae" / "ef8" / "layer_2"
    best = pd.read_parquet(run / "switch_features.parquet").iloc[0]
    with app.server.app_context():
        page = _text(layout(layer="2", idx=str(int(best["feature"])), dataset="demo", ef="8"))
    assert "feature-switch-test" in page and f"AUC {best['auc']:.2f}, Mann-Whitney p {best['pvalue']:.2g}" in page
    assert "feature-switches" in page


def test_the_variant_box_compares_reference_and_alternate_windows(app, demo_root):
    """A substitution on a shipped transcript gives this feature's activation before and after and the model's KL;
    a reference mismatch and an unknown transcript are alerts naming the variant."""
    from isograph.sae.sequences import read_fasta
    from pages.sae_feature import run_variant

    sequence = read_fasta(demo_root / "demo" / "transcripts.fa.gz").set_index("seq_id")["sequence"]["TCONS_00000001"]
    base = sequence[1404]
    alt = "A" if base != "A" else "C"
    context = {"dataset": "demo", "layer": 2, "ef": 8, "feature": 5}
    with app.server.app_context():
        result = _text(run_variant(1, f"TCONS_00000001:c.4{base}>{alt}", context))
        assert "feature-variant-summary" in result and f"{base} → {alt}" in result and "feature 5 max activation" in result
        assert "aligned tokens (all tokens)" in result
        wrong = _text(run_variant(1, "TCONS_00000001:c.1G>A", context))
        assert "feature-variant-error" in wrong and "reference mismatch: TCONS_00000001 has A at c.1, not G" in wrong
        assert "not in the FASTA" in _text(run_variant(1, "NOPE:c.1A>G", context))
        assert "not an HGVS description" in _text(run_variant(1, None, context))


def test_selects_naming_no_run_draw_nothing_and_say_which_runs_there_are(app):
    """A layer × expansion factor with no run clears the graph and the table and names the runs (it used to draw
    the last run under selects that named another)."""
    from pages.sae import draw_graph, show_concept

    with app.server.app_context():
        elements, note, table = draw_graph("2", "8", None, 25, 0, 4, {"dataset": "demo"})
        assert elements and "Run ef8/layer_2" in _text(note) and grid_table(table, "sae-features") is not None
        elements, note, table = draw_graph("4", "8", None, 25, 0, 4, {"dataset": "demo"})
        assert elements == [] and _text(table) == _text(html.Div())
        assert "no SAE run has layer 4 and expansion factor 8; the runs are: layer 2 with expansion factor 8" \
            in _text(note)
        refused = _text(show_concept("CDS", "4", "8", {"dataset": "demo"}))
    assert "sae-concept-error" in refused and "no SAE run has layer 4" in refused


def test_the_graph_controls_bound_what_the_server_draws(app):
    """The top-N and links boxes send what is typed and say the server's bounds; beyond them the page says the range and draws
    nothing; at the largest allowed, every node comes placed (the browser does not lay the graph out)."""
    from components.sae_graph import LAYOUT, PER_FEATURE_MAX, TOP_N_MAX
    from pages.sae import draw_graph, layout

    with app.server.app_context():
        page = layout(dataset="demo")
        # the boxes send whatever is typed (no HTML max: the browser would send an out-of-range number as empty)
        # and say the server's bounds
        top, links = _component(page, "sae-top-n"), _component(page, "sae-per-feature")
        assert (getattr(top, "max", None), getattr(links, "max", None), top.step) == (None, None, "any")
        assert (top.placeholder, links.placeholder) == (f"1–{TOP_N_MAX}", f"1–{PER_FEATURE_MAX}")
        elements, note, _ = draw_graph("2", "8", None, TOP_N_MAX + 1, 0, 4, {"dataset": "demo"})
        assert elements == [] and f"features shown: {TOP_N_MAX + 1} is out of range; type a whole number between 1" \
            f" and {TOP_N_MAX}" in _text(note)
        elements, note, _ = draw_graph("2", "8", None, 5, 0, PER_FEATURE_MAX + 1, {"dataset": "demo"})
        assert elements == [] and f"and {PER_FEATURE_MAX}" in _text(note)
        elements, _, _ = draw_graph("2", "8", None, TOP_N_MAX, 0, PER_FEATURE_MAX, {"dataset": "demo"})
    nodes = [e for e in elements if "id" in e["data"]]
    assert len(nodes) > 1000 and all(np.isfinite([e["position"]["x"], e["position"]["y"]]).all() for e in nodes)
    assert LAYOUT["name"] == "preset"


def _component(node, component_id):
    """The component with this ID in a layout tree (None when there is none)."""
    if getattr(node, "id", None) == component_id:
        return node
    children = getattr(node, "children", None)
    for child in children if isinstance(children, (list, tuple)) else [children]:
        if child is not None and hasattr(child, "to_plotly_json"):
            found = _component(child, component_id)
            if found is not None:
                return found
    return None

"""Every app job keeps to its time budget, and every number a user types is checked and named.

The jobs are called as plain functions on a copy of the demo (as in test_app_jobs_sae_structure.py); a
budget of 0 s stops a job at its first progress report after the clock started.
"""

from __future__ import annotations

import re
import shutil

import dash
import pytest
from dash import html

from components.layout import control_value
from isograph.errors import InputError


@pytest.fixture(scope="module")
def root_copy(demo_root, tmp_path_factory):
    root = tmp_path_factory.mktemp("budget_root")
    shutil.copytree(demo_root / "demo", root / "demo")
    return root


def _text(component) -> str:
    return str(html.Div(component).to_plotly_json())


def _tree(folder):
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_control_values_are_checked_and_named():
    assert control_value(None, "epochs", default=8, kind=int) == 8 and control_value(" ", "x", default=2.5) == 2.5
    assert control_value("12", "epochs", default=8, kind=int, low=1) == 12 and control_value(0.25, "l1", default=1) == 0.25
    cases = [("abc", "'abc' is not a whole number of at least 1"), ("nan", "'nan' is not a whole number"),
             ("1e400", "'1e400' is not a whole number"), (2.5, "'2.5' is not a whole number"),
             (True, "'True' is not a whole number"), (0, "0 is out of range; type a whole number of at least 1"),
             ([1], "'[1]' is not a whole number")]
    for value, words in cases:
        with pytest.raises(InputError) as info:
            control_value(value, "epochs", default=8, kind=int, low=1)
        assert str(info.value) == f"epochs: {words}" or str(info.value).startswith(f"epochs: {words}"), info.value
    with pytest.raises(InputError, match="P: 75 is out of range; type a number between 1 and 50"):
        control_value(75, "P", default=25, low=1, high=50)


def test_a_training_job_over_its_time_budget_stops_and_saves_nothing(make_app, root_copy):
    app = make_app(root_copy, job_seconds=0)
    from pages.sae import training_job

    before = _tree(root_copy / "demo" / "sae")
    with app.server.app_context():
        status, chart = training_job(lambda _: None, {"dataset": "demo"}, 1, 2, 3, 1.0)
    assert chart is dash.no_update
    # (the job stops at its first progress report: 0 s after the start, or 1 s on a slow machine)
    assert re.search(r"SAE training stopped after \d+ s", _text(status)) and "over the 0 s an app job may run" \
        in _text(status)
    assert "isograph sae train" in _text(status) and "sae-job-error" in _text(status)
    after = _tree(root_copy / "demo" / "sae")
    assert {k: v for k, v in after.items() if not k.startswith("activations/")} == \
        {k: v for k, v in before.items() if not k.startswith("activations/")}  # no run; the embedding cache may grow


def test_an_annotation_job_over_its_time_budget_keeps_the_earlier_tables(make_app, root_copy):
    make_app(root_copy, job_seconds=0)
    from pages.structure import annotation_job

    before = _tree(root_copy / "demo" / "structure")
    status, results = annotation_job(lambda _: None, {"dataset": "demo"}, "demo/annotation.gtf.gz", "module", "M000",
                                     0.5, None, None)
    assert "The annotation stopped after" in _text(status) and "isograph annotate-structure" in _text(status)
    assert results is dash.no_update and _tree(root_copy / "demo" / "structure") == before


def test_an_explain_job_over_its_time_budget_says_so(make_app, root_copy):
    from components.jobs import run_explain_job

    make_app(root_copy, job_seconds=0)
    status, table = run_explain_job(lambda _: None, {"module": "M001", "dataset": "demo"}, 25, 3, "pc1")
    assert status.startswith("Could not run: The explain job stopped after") and table is None


@pytest.mark.parametrize(("job", "args", "words"), [
    ("explain", ("abc", 3, "pc1"), "split percentile P: 'abc' is not a number between 1 and 50"),
    ("explain", (25, 1.5, "pc1"), "min complete pairs: '1.5' is not a whole number between 2 and 200"),
    ("explain", (25, 3, "'; rm -rf"), "Done"),  # an unknown method falls back to the default, PC1
    ("explain", (25, 500, "pc1"), "min complete pairs: 500 is out of range; type a whole number between 2 and 200"),
    ("training", (1, "x", 3, 1.0), "expansion factor: 'x' is not a whole number between 1 and 64"),
    ("training", (1, 2, 10_000, 1.0), "epochs: 10000 is out of range"),
    ("training", (1, 2, 3, "inf"), "L1 coefficient: 'inf' is not a number of at least 0"),
    ("training", (-1, 2, 3, 1.0), "layer: -1 is out of range"),
    ("annotation", ("demo/annotation.gtf.gz", "module", "M000", "strong", None, None),
     "minimum switch strength: 'strong' is not a number between 0 and 2"),
    ("annotation", ("demo/annotation.gtf.gz", "module", "M000", 3, None, None), "minimum switch strength: 3 is out of range"),
    ("intervention", ("big", 1), "δ (minimum activation): 'big' is not a number"),
    ("intervention", (0, "nan"), "α (this feature × α, others ÷ α; 0 keeps only this feature): 'nan' is not a number"),
    ("intervention", (0, -1), "0 keeps only this feature): -1 is out of range"),
])
def test_bad_numbers_in_each_job_give_an_alert_naming_the_control(make_app, root_copy, job, args, words):
    app = make_app(root_copy)
    from components.jobs import run_explain_job
    from pages.sae import training_job
    from pages.sae_feature import intervention_job
    from pages.structure import annotation_job

    context = {"dataset": "demo", "module": "M001", "layer": 2, "ef": 8, "feature": 0, "top": []}
    body = {"explain": run_explain_job, "training": training_job, "annotation": annotation_job,
            "intervention": intervention_job}[job]
    before = _tree(root_copy / "demo" / "structure"), _tree(root_copy / "demo" / "explain")
    with app.server.app_context():
        result = body(lambda _: None, context, *args)
    assert words in _text(result[0] if job == "training" else result)
    assert (_tree(root_copy / "demo" / "structure"), _tree(root_copy / "demo" / "explain")) == before


def test_the_alpha_label_says_what_alpha_zero_does(make_app, root_copy):
    """α = 0 keeps the chosen feature (at max(z, δ)) and zeroes every other one; the label must say so."""
    import torch

    make_app(root_copy)
    from isograph.sae.intervene import edit_features
    from pages.sae_feature import ALPHA_LABEL, _intervention_card

    z = torch.tensor([[0.5, 2.0, 1.0]])
    edited = edit_features(z, 1, delta=0.0, alpha=0.0)
    assert edited.tolist() == [[0.0, 2.0, 0.0]]  # the feature kept, the others zeroed
    assert "0 keeps only this feature" in ALPHA_LABEL and "ablat" not in ALPHA_LABEL
    card = _text(_intervention_card())
    assert ALPHA_LABEL in card and "every other feature to z ÷ α" in card and "ablates" not in card

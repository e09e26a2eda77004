"""The /structure and /sae jobs called as plain functions on a copy of the demo (they write into it)."""

from __future__ import annotations

import base64
import json
import shutil

import dash
import pandas as pd
import plotly.graph_objects as go
import pytest
from dash import html

from tests.integration.conftest import grid_table


@pytest.fixture(scope="module")
def root_copy(demo_root, tmp_path_factory):
    root = tmp_path_factory.mktemp("root_copy")
    shutil.copytree(demo_root / "demo", root / "demo")
    return root


@pytest.fixture
def app(make_app, root_copy):
    return make_app(root_copy)


def _text(component) -> str:
    """Everything a component (or a list of them) would send to the browser, as text."""
    return str(html.Div(component).to_plotly_json())


def test_annotation_job_with_an_uploaded_table(app, root_copy):
    from pages.structure import annotation_job

    models = pd.read_parquet(root_copy / "demo" / "annotation.gtf.gz.isograph-cache.parquet")
    gene = models.groupby("gene_id").filter(lambda g: len(g) >= 2).iloc[:2]
    tsv = ("gene_id\ttranscript_id_1\ttranscript_id_2\n"
           f"{gene['gene_id'].iloc[0]}\t{gene['transcript_id'].iloc[0]}\t{gene['transcript_id'].iloc[1]}\n"
           f"{gene['gene_id'].iloc[0]}\t{gene['transcript_id'].iloc[0]}\tNOT_A_TRANSCRIPT\n")
    upload = "data:text/tab-separated-values;base64," + base64.b64encode(tsv.encode()).decode()
    calls = []
    status, results = annotation_job(calls.append, {"dataset": "demo"}, "demo/annotation.gtf.gz", "upload", None, 0.5,
                                     upload, "pairs.tsv")
    assert "1 of 2 pairs annotated" in _text(status) and "GTF cache used" in _text(status)
    assert calls[-1][0] == 100 and any("from the cache" in c[1] for c in calls)
    written = pd.read_parquet(root_copy / "demo" / "structure" / "switch_pairs_annotated.parquet")
    mine = written[written["pair_source"] == "upload pairs.tsv"]  # added to the demo's called switches
    assert mine["status"].tolist() == ["ok", "not in GTF: NOT_A_TRANSCRIPT"]
    assert (written["pair_source"] == "called switches").sum() > 0 and "now holds" in _text(status)
    assert "structure-pairs-table" in _text(results)


@pytest.mark.parametrize(("payload", "words"), [
    ("not a data url", "did not arrive as a file"),
    ("data:text/plain;base64,@@@not-base64@@@", "not valid base64"),
    ("data:text/plain,gene_id", "did not arrive as a file"),
    (12345, "did not arrive as a file"),
])
def test_malformed_upload_payloads_give_a_message(app, root_copy, payload, words):
    from pages.structure import annotation_job

    before = (root_copy / "demo" / "structure" / "switch_pairs_annotated.parquet").read_bytes()
    status, results = annotation_job(lambda _: None, {"dataset": "demo"}, "demo/annotation.gtf.gz", "upload", None,
                                     0, payload, "odd.tsv")
    assert words in _text(status) and "odd.tsv" in _text(status) and results is dash.no_update
    assert (root_copy / "demo" / "structure" / "switch_pairs_annotated.parquet").read_bytes() == before


@pytest.mark.parametrize(("gtf", "source", "content", "words"), [
    ("../../etc/passwd.gtf", "module", None, "outside the data root"),
    ("demo/annotation.gtf.gz", "upload", "gene_id\tx\nG\tT\n", "missing column(s) transcript_id_1"),
    ("demo/annotation.gtf.gz", "upload", None, "choose a switch-pair TSV"),
])
def test_annotation_job_says_what_is_wrong(app, root_copy, gtf, source, content, words):
    from pages.structure import annotation_job

    before = (root_copy / "demo" / "structure" / "switch_pairs_annotated.parquet").read_bytes()
    upload = None if content is None else "data:;base64," + base64.b64encode(content.encode()).decode()
    status, results = annotation_job(lambda _: None, {"dataset": "demo"}, gtf, source, "M000", 0.5, upload, "bad.tsv")
    assert words in _text(status) and results is dash.no_update
    assert (root_copy / "demo" / "structure" / "switch_pairs_annotated.parquet").read_bytes() == before


def test_annotation_of_one_module_flows_into_the_driver_tables(app, root_copy):
    from pages.module import layout as module_layout
    from pages.structure import annotation_job

    status, _ = annotation_job(lambda _: None, {"dataset": "demo"}, "demo/annotation.gtf.gz", "module", "M000", 0.5,
                               None, None)
    pairs = pd.read_parquet(root_copy / "demo" / "structure" / "switch_pairs_annotated.parquet")
    run = json.loads((root_copy / "demo" / "structure" / "structure.json").read_text())["run"]
    assert set(pairs.loc[pairs["annotation_run"] == run, "module_id"]) == {"M000"} and "annotated" in _text(status)
    pairs = pairs[pairs["annotation_run"] == run]
    with app.server.app_context():
        view = module_layout("M000", dataset="demo")
        genes, transcripts = grid_table(view, "module-gene-table"), grid_table(view, "module-tx-table")
    ok = pairs[pairs["status"] == "ok"].iloc[0]
    assert "switch_consequences" in genes and "structure_consequences" in transcripts
    assert transcripts["structure_consequences"].str.contains(ok["consequences"].split("; ")[0], regex=False).any()


def test_training_job_reports_every_epoch_and_saves_a_run(app, root_copy):
    from isograph.sae.runs import find_runs
    from pages.sae import training_job

    calls = []
    with app.server.app_context():
        status, chart = training_job(calls.append, {"dataset": "demo"}, 1, 2, 3, 1.0)
    assert "Trained ef2/layer_1" in _text(status)
    assert list(chart.data[0].x) == [1, 2, 3]  # the result carries the chart of every epoch
    figures = [c[2] for c in calls if isinstance(c[2], go.Figure)]
    assert len(figures) == 3 and list(figures[-1].data[0].x) == [1, 2, 3]  # the chart grows by one epoch each time
    run = next(r for r in find_runs(root_copy / "demo" / "sae") if r.key == "ef2/layer_1")
    assert run.path("edges").exists() and run.path("graph").exists()


def test_intervention_job_ablates_the_feature(app, root_copy):
    from isograph.sae.runs import find_runs, load_run_data
    from pages.sae_feature import intervention_job

    run = next(r for r in find_runs(root_copy / "demo" / "sae") if r.key == "ef8/layer_2")
    data = load_run_data(run)
    feature = int(data.z.max(axis=0).argmax())
    top = data.tokens.assign(v=data.z[:, feature]).groupby("seq_id")["v"].max().nlargest(2).index.tolist()
    calls = []
    with app.server.app_context():
        result = intervention_job(calls.append, {"dataset": "demo", "layer": 2, "ef": 8, "feature": feature, "top": top},
                                  0.0, 0.0)
    text = _text(result)
    assert "δ = 0, α = 0" in text and "feature-intervention" in text and calls[-1][0] == 100

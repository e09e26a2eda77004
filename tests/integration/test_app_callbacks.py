"""The app's callbacks and pages called as plain functions (no browser), as vizro tests its Dash app."""

from __future__ import annotations

import base64
import re

import dash
import pandas as pd
import plotly.graph_objects as go
import plotly.io.json
import pytest


@pytest.fixture
def app(make_app, demo_root):
    return make_app(demo_root)


@pytest.fixture
def genes(demo_root) -> pd.DataFrame:
    return pd.read_parquet(demo_root / "demo" / "explain" / "M000" / "gene_driver_table.parquet")


def _progress():
    calls = []
    return calls, calls.append


def test_search_options_are_gene_view_urls(app, genes):
    from components.search import gene_options, open_selected, update_options

    target = genes.iloc[3]
    options = gene_options("demo", target["gene_name"].lower())
    assert options[0]["value"] == f"/genes/{target['gene_id']}?module=M000&dataset=demo"
    assert options[0]["label"] == f"{target['gene_name']} ({target['gene_id']}) · M000"
    kept = update_options("zzz-no-such-gene", options[0]["value"], {"dataset": "demo", "module": ""})
    assert [o["value"] for o in kept] == [options[0]["value"]]  # nothing matches; the selection stays
    assert gene_options("no-such-dataset", "a") == []
    assert open_selected([None, options[0]["value"]]) == options[0]["value"]
    assert open_selected([None]) is dash.no_update


def test_module_scope_puts_its_genes_first(app, demo_root):
    from components.search import gene_options

    options = gene_options("demo", "", "M001")
    assert options and all(o["label"].endswith("· M001") for o in options[:5])


def test_export_job_returns_the_file(app):
    from components.jobs import run_export_job

    calls, set_progress = _progress()
    figure = go.Figure(go.Bar(x=["GENE_A"], y=[1.0])).to_plotly_json()
    download, message = run_export_job(set_progress, {"figure": figure, "format": "svg", "filename": "drivers"})
    assert download is not dash.no_update, message
    assert download["filename"] == "drivers.svg" and download["base64"]
    svg = base64.b64decode(download["content"])
    assert svg.lstrip().startswith(b"<svg") and b"GENE_A" in svg
    assert message.startswith("Exported drivers.svg")
    assert [c[0] for c in calls] == [5, 30, 100]


def test_export_job_says_what_is_wrong(app):
    from components.jobs import run_export_job

    _, set_progress = _progress()
    download, message = run_export_job(set_progress, {"figure": {}, "format": "jpg", "filename": "x"})
    assert download is dash.no_update and message == "Could not export: unknown export 'jpg'; use one of" \
        " pdf-single, pdf-double, png-single, png-double, svg"


def test_journal_exports_have_the_column_width_and_300_dpi(app):
    """A double-column PDF is 183 mm wide (within 1 mm); a single-column PNG is 89 mm at 300 dpi (1,051 px);
    the width is in the file name; the legend names every trace."""
    import struct
    import subprocess

    from components.jobs import run_export_job

    _, set_progress = _progress()
    figure = go.Figure([go.Scatter(x=[0, 1], y=[0, 1], name="TCONS_up"),
                        go.Scatter(x=[0, 1], y=[1, 0], name="TCONS_down")], layout={"height": 400}).to_plotly_json()
    download, message = run_export_job(set_progress, {"figure": figure, "format": "png-single", "filename": "g"})
    assert download is not dash.no_update, message
    png = base64.b64decode(download["content"])
    width, height = struct.unpack(">II", png[16:24])  # the IHDR chunk
    assert download["filename"] == "g_89mm.png" and abs(width - 89 / 25.4 * 300) <= 2 and height < width
    download, _ = run_export_job(set_progress, {"figure": figure, "format": "pdf-double", "filename": "g"})
    pdf = base64.b64decode(download["content"])
    info = subprocess.run(["pdfinfo", "-"], input=pdf, capture_output=True, check=True).stdout.decode()
    width_pt = float(re.search(r"Page size:\s+([\d.]+) x", info).group(1))
    assert download["filename"] == "g_183mm.pdf" and abs(width_pt * 25.4 / 72 - 183) <= 1
    text = subprocess.run(["pdftotext", "-", "-"], input=pdf, capture_output=True, check=True).stdout.decode()
    assert "TCONS_up" in text and "TCONS_down" in text


def test_the_figure_for_a_paper_buttons_export_one_journal_page(app, demo_root):
    """The module page's and the gene view's "Figure for a paper": the export job builds the multi-panel figure
    on the server; one PDF page 183 mm wide and at most 247 mm high, named after the module or gene; every
    transcript of the gene is named in it."""
    import subprocess

    from components.jobs import run_export_job
    from pages import gene, module

    _, set_progress = _progress()
    polarity = pd.read_parquet(demo_root / "demo" / "explain" / "M000" / "transcript_polarity_table.parquet")
    special = polarity.loc[polarity["gene_id"].str.contains(":"), "gene_id"].iloc[0]
    requests = [module.request_paper_figure(1, "abundance", {"dataset": "demo", "module": "M000"}),
                gene.request_paper_figure(1, True, {"dataset": "demo", "module": "M000", "gene": special})]
    for request, name in zip(requests, ("M000_abundance_paper_figure_183mm.pdf",
                                        f"{special.replace(':', '_')}_M000_paper_figure_183mm.pdf")):
        download, message = run_export_job(set_progress, request)
        assert download is not dash.no_update, message
        assert download["filename"] == name, message
        pdf = base64.b64decode(download["content"])
        info = subprocess.run(["pdfinfo", "-"], input=pdf, capture_output=True, check=True).stdout.decode()
        size = re.search(r"Page size:\s+([\d.]+) x ([\d.]+)", info)
        assert re.search(r"^Pages:\s+1$", info, re.MULTILINE)
        assert abs(float(size.group(1)) * 25.4 / 72 - 183) <= 1 and float(size.group(2)) * 25.4 / 72 <= 247
    text = subprocess.run(["pdftotext", "-", "-"], input=pdf, capture_output=True, check=True).stdout.decode()
    transcripts = polarity.loc[polarity["gene_id"] == special, "feature_id"]
    assert all(t in text for t in transcripts) and "A" in text and "B" in text


def test_export_job_without_a_browser(app, monkeypatch):
    import isograph.figures.render
    from components.jobs import run_export_job

    monkeypatch.setattr(isograph.figures.render, "chrome_path", lambda: None)
    _, set_progress = _progress()
    download, message = run_export_job(set_progress, {"figure": {}, "format": "pdf", "filename": "x"})
    assert download is dash.no_update and "No Chrome/Chromium on the server" in message and "camera" in message


def test_explain_job_uses_the_chosen_options(app, demo_root):
    from components.jobs import run_explain_job

    stored = demo_root / "demo" / "explain" / "M001"
    before = {p.name: p.read_bytes() for p in stored.iterdir()}
    calls, set_progress = _progress()
    status, table = run_explain_job(set_progress, {"module": "M001", "dataset": "demo"}, 10, 3, "aligned_mean")
    assert status.startswith("Done: M001 with P = 10, min pairs 3, aligned_mean; 20 high and 20 low samples")
    assert "stored tables are unchanged" in status  # and they are: the re-run is shown, never written
    assert {p.name: p.read_bytes() for p in stored.iterdir()} == before
    assert calls[-1] == (100, "done") and table.id == "job-table"
    cells = plotly.io.json.to_json_plotly(table)
    tiny = re.findall(r'"children":"(\d(?:\.\d+)?e-\d{2,})"', cells)
    assert tiny and all(float(q) > 0 for q in tiny)  # q of 1e-95 in significant digits, never rounded to 0
    status, table = run_explain_job(set_progress, {"module": "M999", "dataset": "demo"}, 25, 3, "pc1")
    assert status.startswith("Could not run:") and "M999" in status and table is None


def test_job_indicator():
    from components.jobs import job_indicator

    assert job_indicator(None) == "" and job_indicator({}) == "" and job_indicator({"a": {"running": False}}) == ""
    assert "job running" in job_indicator({"a": {"running": True, "at": 1}})
    assert "jobs running in 2 tabs" in job_indicator({"a": {"running": True, "at": 1}, "b": {"running": True, "at": 2}})


def test_click_data_to_gene_url(make_app, tmp_path):
    make_app(tmp_path)  # pages register themselves with an app
    from pages.module import gene_href_from_click

    context = {"module": "M000", "dataset": "demo"}
    assert gene_href_from_click({"points": [{"customdata": ["G1", 0.5]}]}, context) == \
        "/genes/G1?module=M000&dataset=demo"
    assert gene_href_from_click({"points": [{"customdata": "G2"}]}, context) == "/genes/G2?module=M000&dataset=demo"
    assert gene_href_from_click(None, context) is None
    assert gene_href_from_click({"points": [{}]}, context) is None


def test_request_bodies_are_capped(make_app, tmp_path):
    """A body over the cap is refused with HTTP 413 before any callback runs; a normal one is served."""
    server = make_app(tmp_path, max_request_bytes=1024 * 1024).server
    with server.test_client() as client:
        too_big = client.post("/_dash-update-component", data=b"x" * (2 * 1024 * 1024),
                              headers={"Content-Type": "application/json"})
        assert too_big.status_code == 413
        assert client.get("/").status_code == 200



def test_the_gene_search_explains_a_gene_in_no_module(app, demo_root):
    """A gene of the feature table that the fit put in no module is listed, disabled, saying so — not "No options"."""
    from components.layout import current_dataset
    from components.search import gene_options

    meta = pd.read_parquet(demo_root / "demo" / "feature_metadata.parquet")
    with app.server.app_context():
        ds = current_dataset("demo")
        in_modules = set(ds.gene_index()["gene_id"])
        outside = sorted(set(meta["gene_id"]) - in_modules)
        assert set(ds.genes_outside_modules()["gene_id"]) == set(outside) and outside
        options = gene_options("demo", outside[0])
        inside = gene_options("demo", sorted(in_modules)[0])
    assert options == [{"label": options[0]["label"], "value": f"no-module:{outside[0]}", "disabled": True}]
    assert outside[0] in options[0]["label"] and "in no module" in options[0]["label"]
    assert not inside[0].get("disabled") and inside[0]["value"].startswith(f"/genes/{sorted(in_modules)[0]}?")

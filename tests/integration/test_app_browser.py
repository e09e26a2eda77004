"""A biologist's path through the app, in real headless Chromium."""

from __future__ import annotations

import json
import re
import time
from urllib.parse import parse_qs, quote, urlencode, urlparse

import pandas as pd
import pytest
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By


def test_module_to_gene_view_and_pdf_export(dash_duo, ui, app, demo_root, tmp_path):
    """Open /, open a module, export its driver barplot as PDF, click the top driver bar, land on the gene
    view with its transcripts drawn, export those as PDF too."""
    top_driver = pd.read_parquet(demo_root / "demo" / "explain" / "M000" / "gene_driver_table.parquet").iloc[0]
    dash_duo.start_server(app)
    dash_duo.wait_for_element("#home-modules", timeout=20)
    dash_duo.find_element("#home-link-M000").click()
    paths = ui.wait(lambda: ui.graph("module-driver-bar").find_elements(By.CSS_SELECTOR, ".barlayer .point path"))
    _no_export_started(dash_duo)
    text = ui.export_pdf("module-driver-bar", tmp_path)
    assert top_driver["gene_name"] in text  # the strongest driver is named in the PDF
    paths = ui.wait(lambda: ui.graph("module-driver-bar").find_elements(By.CSS_SELECTOR, ".barlayer .point path"))
    top = min(paths, key=lambda p: p.rect["y"])  # the strongest driver is drawn at the top
    dash_duo.driver.execute_script("arguments[0].scrollIntoView({block: 'center'});", top)
    ActionChains(dash_duo.driver).move_to_element(top).click().perform()
    ui.wait(lambda: "/genes/" in dash_duo.driver.current_url)
    gene_id = re.search(r"/genes/([^?]+)", dash_duo.driver.current_url).group(1)
    assert "module=M000" in dash_duo.driver.current_url
    assert gene_id == top_driver["gene_id"]  # the bar drawn at the top is the strongest driver
    sentence = dash_duo.wait_for_element("#gene-direction", timeout=20).text
    assert "used more in high-module samples" in sentence and "M000" in sentence
    assert ui.wait(lambda: ui.graph("gene-switchplot").find_elements(By.CSS_SELECTOR, ".shapelayer path"))
    _no_export_started(dash_duo)
    text = ui.export_pdf("gene-switchplot", tmp_path)
    assert re.search(r"TCONS_\d+", text)  # the transcripts are labelled in the PDF
    assert dash_duo.get_logs() == []


def _no_export_started(dash_duo) -> None:
    """Opening a page exports nothing: Dash calls a button's callback when the button appears, and the "Figure
    for a paper" buttons once took that for a click and downloaded a PDF on every module and gene page."""
    time.sleep(2)  # a job started by the page's drawing is running or done by now
    for cancel in dash_duo.driver.find_elements(By.CSS_SELECTOR, "#export-cancel"):  # drawn while the toast is open
        assert not cancel.is_enabled()
    for message in dash_duo.driver.find_elements(By.CSS_SELECTOR, "#export-message"):
        assert "paper_figure" not in message.text


def _tables(demo_root):
    explain = demo_root / "demo" / "explain" / "M000"
    return (pd.read_parquet(explain / "gene_driver_table.parquet"),
            pd.read_parquet(explain / "transcript_polarity_table.parquet"))


def _landed_on(ui, gene_id: str, module: str = "M000") -> None:
    dash_duo = ui.duo
    try:
        ui.wait(lambda: f"/genes/{quote(gene_id, safe='')}?" in dash_duo.driver.current_url)
    except AssertionError:
        raise AssertionError(f"expected the view of {gene_id}, the browser is at {dash_duo.driver.current_url}") from None
    assert f"module={module}" in dash_duo.driver.current_url
    assert dash_duo.wait_for_element("#gene-direction", timeout=20).text


def test_heatmap_row_opens_its_gene(dash_duo, ui, app, demo_root):
    """Clicking the top heatmap row opens the gene of the strongest positive driver transcript."""
    _, polarity = _tables(demo_root)
    usage = polarity[polarity["feature_type"] == "transcript_usage"]
    expected = usage.loc[usage["r"].idxmax(), "gene_id"]
    top_label = usage.loc[usage["r"].idxmax(), "feature_id"]
    dash_duo.start_server(app)
    dash_duo.driver.get(dash_duo.server_url + "/modules/M000")
    ui.wait(lambda: ui.graph("module-heatmap").find_element(By.CSS_SELECTOR, ".nsewdrag"))
    for _ in range(3):  # the graph may still be redrawn once after it first appears
        plot = ui.settled(lambda: ui.graph("module-heatmap").find_element(By.CSS_SELECTOR, ".js-plotly-plot"))
        dash_duo.driver.execute_script("arguments[0].scrollIntoView({block: 'center'});", plot)
        dx, dy = dash_duo.driver.execute_script(  # from the plot's centre to the middle of the top row
            "const gd = arguments[0], xa = gd._fullLayout.xaxis, ya = gd._fullLayout.yaxis;"
            "const box = gd.getBoundingClientRect();"
            "return [xa._offset + xa._length / 2 - box.width / 2,"
            "        ya._offset + ya.l2p(gd.data[0].y.length - 1) - box.height / 2];", plot)
        ActionChains(dash_duo.driver).move_to_element(plot).pause(0.2).move_by_offset(int(dx), int(dy)).perform()
        try:  # plotly reports the click of the point it hovers: wait until the top row is hovered
            ui.wait(lambda: top_label in dash_duo.driver.find_element(By.CSS_SELECTOR, ".hoverlayer .hovertext").text,
                  timeout=5)
        except AssertionError:
            continue
        ActionChains(dash_duo.driver).click().perform()
        try:
            ui.wait(lambda: "/genes/" in dash_duo.driver.current_url, timeout=5)
            break
        except AssertionError:
            continue
    _landed_on(ui, expected)


def test_table_row_opens_its_gene(dash_duo, ui, app, demo_root):
    """Clicking a cell of the third row of the gene-driver table opens that gene."""
    genes, _ = _tables(demo_root)
    dash_duo.start_server(app)
    dash_duo.driver.get(dash_duo.server_url + "/modules/M000")
    ui.click(ui.grid_cell("module-gene-table", 2, "gene_name"))
    _landed_on(ui, genes.iloc[2]["gene_id"])


def test_gene_search_on_the_home_page(dash_duo, ui, app, demo_root):
    """Type part of a gene name on /, pick the suggestion, land on that gene's view."""
    genes, _ = _tables(demo_root)
    target = genes.iloc[4]
    dash_duo.start_server(app)
    dash_duo.wait_for_element("#home-modules", timeout=20)
    ui.click(dash_duo.find_element(".gene-search .dash-dropdown-trigger, .gene-search"))
    box = ui.wait(lambda: dash_duo.find_element(".dash-dropdown-search"))
    box.send_keys(target["gene_name"][1:])  # a part of the name, not its start
    option = ui.wait(lambda: next(o for o in dash_duo.driver.find_elements(By.CSS_SELECTOR, ".dash-dropdown-option")
                                if target["gene_id"] in o.text))
    assert option.text.endswith("M000")
    ui.click(option)
    _landed_on(ui, target["gene_id"])


@pytest.mark.parametrize(("path", "words"), [
    ("/modules/M999", "module 'M999' is not in data set"),
    ("/genes/NOPE?module=M000", "gene 'NOPE' is not in module M000"),
    ("/?dataset=../../etc", "no data set '../../etc' under the data root"),
    ("/sae/features/2/99999?ef=8", "feature '99999' is not in run ef8/layer_2"),
    ("/sae/features/7/0", "no SAE run for layer 7"),
])
def test_bad_urls_show_a_friendly_message(dash_duo, app, path, words):
    """An unknown module, gene or data set gives a message, not a traceback."""
    dash_duo.start_server(app)
    dash_duo.driver.get(dash_duo.server_url + path)
    message = dash_duo.wait_for_element("#page-error", timeout=20).text
    assert words in message
    assert "Traceback" not in dash_duo.driver.page_source


@pytest.fixture
def gated_app(make_app, demo_root):
    """An app whose jobs wait on a lock the test holds (deterministic running/cancel states)."""
    return make_app(demo_root, job_gate=True)


def test_explain_job_runs_and_cancels(dash_duo, ui, gated_app, tmp_path):
    """Start an explain job, see it running with a progress bar, cancel it; then run one to the end."""
    import diskcache

    gate = diskcache.Lock(diskcache.Cache(str(tmp_path / "jobs")), "isograph-job-gate")
    dash_duo.start_server(gated_app)
    dash_duo.driver.get(dash_duo.server_url + "/modules/M001")
    run = dash_duo.wait_for_element("#job-run", timeout=20)
    with gate:
        ui.click(run)
        ui.wait(lambda: dash_duo.find_element("#job-cancel").is_enabled())  # running
        assert not dash_duo.find_element("#job-run").is_enabled()
        ui.wait(lambda: "waiting to start" in dash_duo.find_element("#job-progress").text)
        ui.click(dash_duo.find_element("#job-cancel"))
        ui.wait(lambda: dash_duo.find_element("#job-status").text == "Cancelled.")
        ui.wait(lambda: dash_duo.find_element("#job-run").is_enabled())
    # a number out of range is refused with the range, never silently replaced (80 once ran as 50)
    dash_duo.find_element("#job-percentile").clear()
    dash_duo.find_element("#job-percentile").send_keys("80")
    ui.click(dash_duo.find_element("#job-run"))
    refused = ui.wait(lambda: "out of range" in (text := dash_duo.find_element("#job-status").text) and text, timeout=60)
    assert "split percentile P: 80 is out of range; type a number between 1 and 50" in refused
    assert not dash_duo.driver.find_elements(By.ID, "job-table")
    ui.wait(lambda: dash_duo.find_element("#job-run").is_enabled())
    dash_duo.find_element("#job-percentile").clear()
    dash_duo.find_element("#job-percentile").send_keys("20")
    ui.click(dash_duo.find_element("#job-run"))
    status = ui.wait(lambda: dash_duo.find_element("#job-status").text.startswith("Done") and
                   dash_duo.find_element("#job-status").text, timeout=60)
    assert "M001 with P = 20" in status and "40 high and 40 low samples" in status
    assert dash_duo.find_element("#job-table").text


def test_export_job_runs_and_cancels(dash_duo, ui, gated_app, tmp_path):
    """An export is a background job: the toast shows its progress and it can be cancelled."""
    import diskcache

    gate = diskcache.Lock(diskcache.Cache(str(tmp_path / "jobs")), "isograph-job-gate")
    dash_duo.start_server(gated_app)
    dash_duo.driver.get(dash_duo.server_url + "/modules/M001")
    card = ui.figure_card("module-driver-bar")
    with gate:
        ui.click(card.find_element(By.CSS_SELECTOR, ".dropdown-toggle"))
        ui.click(ui.wait(lambda: card.find_element(By.XPATH, ".//*[text()='PNG 300 dpi, single column (89 mm)']")))
        ui.wait(lambda: dash_duo.find_element("#export-cancel").is_enabled())
        ui.wait(lambda: "waiting to start" in dash_duo.find_element("#export-progress").text)
        ui.wait(lambda: "job running" in dash_duo.find_element("#job-indicator").text)  # the navbar, on every page
        driver = dash_duo.driver
        first = driver.current_window_handle
        driver.switch_to.new_window("tab")  # another tab of the same browser shows it too
        driver.get(dash_duo.server_url + "/")
        ui.wait(lambda: "job running" in dash_duo.find_element("#job-indicator").text)
        driver.switch_to.window(first)
        ui.click(dash_duo.find_element("#export-cancel"))
        ui.wait(lambda: dash_duo.find_element("#export-message").text == "Cancelled.")
        ui.wait(lambda: not dash_duo.find_element("#export-cancel").is_enabled())
    ui.wait(lambda: dash_duo.find_element("#job-indicator").text == "")
    second = next(h for h in driver.window_handles if h != first)
    driver.switch_to.window(second)
    ui.wait(lambda: dash_duo.find_element("#job-indicator").text == "")  # and clears there when the job ends
    driver.close()
    driver.switch_to.window(first)


def test_gene_words_state_a_switch_only_when_called(dash_duo, app, demo_root):
    """An abundance-only driver (PRKCZ in the demo) gets no 'shifts from' sentence but its abundance numbers;
    a called switch's sentence names both transcripts and quotes the switch channel's q."""
    genes = pd.read_parquet(demo_root / "demo" / "explain" / "M000" / "gene_driver_table.parquet")
    abundance = genes[genes["driver_kind"] == "abundance"]
    follower = abundance[abundance["gene_name"] == "PRKCZ"].iloc[0] if (abundance["gene_name"] == "PRKCZ").any() \
        else abundance.iloc[0]
    called = genes[genes["switch_called"]].iloc[0]
    dash_duo.start_server(app)
    dash_duo.driver.get(f"{dash_duo.server_url}/genes/{follower['gene_id']}?module=M000")
    words = dash_duo.wait_for_element("#gene-direction", timeout=20).text
    assert "shifts from" not in words and "follows M000 in expression, not through an isoform switch" in words
    assert f"abundance score r = {follower['abundance_r']:.2f}" in words and "No significant switch" in words
    dash_duo.driver.get(f"{dash_duo.server_url}/genes/{called['gene_id']}?module=M000")
    words = dash_duo.wait_for_element("#gene-direction", timeout=20).text
    assert f"shifts from {called['switch_down_feature']} to {called['switch_up_feature']}" in words
    assert f"switch score r = {called['switch_r']:.2f}, q = {called['switch_qvalue']:.2g}" in words


def test_a_truncated_module_table_degrades_only_its_module(dash_duo, make_app, demo_root, tmp_path):
    """One module's gene table cut in half: / lists every module (that one with the file and what to do),
    another module's page works, the damaged module's page says which file, and nothing is an HTTP 500."""
    import shutil

    root = tmp_path / "root"
    shutil.copytree(demo_root / "demo", root / "demo", ignore=shutil.ignore_patterns("sae"))
    damaged = root / "demo" / "explain" / "M001" / "gene_driver_table.parquet"
    damaged.write_bytes(damaged.read_bytes()[: damaged.stat().st_size // 2])
    dash_duo.start_server(make_app(root))
    dash_duo.wait_for_element("#home-link-M000", timeout=20)
    error = dash_duo.wait_for_element("#home-error-M001", timeout=10).text
    assert "gene_driver_table.parquet cannot be read" in error and "re-run" in error
    assert dash_duo.find_element("#home-link-M002").text == "M002"
    dash_duo.driver.get(dash_duo.server_url + "/modules/M000")
    assert dash_duo.wait_for_element("#module-channel", timeout=20)
    dash_duo.driver.get(dash_duo.server_url + "/modules/M001")
    message = dash_duo.wait_for_element("#page-error", timeout=20).text
    assert "M001/gene_driver_table.parquet cannot be read" in message
    assert "Traceback" not in dash_duo.driver.page_source


def test_tables_sort_page_and_filter_on_the_server(dash_duo, ui, app, demo_root):
    """The gene-driver table's rows come from the server a page at a time: a header click sorts all 37 rows (not
    only the page drawn), the next page shows rows 16-30 of that order, a typed filter counts every match; a row
    of the transcript table opens its gene."""
    genes, polarity = _tables(demo_root)
    dash_duo.start_server(app)
    dash_duo.driver.get(dash_duo.server_url + "/modules/M000")
    table = "#module-gene-table"
    ui.grid_cell("module-gene-table", 0, "gene_id")
    assert ui.grid_text("module-gene-table", 0, "gene_id") == genes["gene_id"].iloc[0]
    assert len(dash_duo.driver.find_elements(By.CSS_SELECTOR, f"{table} .ag-center-cols-container .ag-row")) == 15

    def cell(row: int) -> str:
        return ui.grid_text("module-gene-table", row, "gene_id")

    def note() -> str:
        return dash_duo.driver.find_element(By.XPATH, "//*[contains(@id, 'isograph-grid-note') and contains(@id,"
                                                      " '\"module-gene-table\"')]").get_attribute("textContent")

    ui.click(dash_duo.find_element(f"{table} .ag-header-cell[col-id='switch_r'] .ag-header-cell-label"))
    ordered = genes.sort_values("switch_r", kind="stable", na_position="last")["gene_id"].tolist()
    ui.wait(lambda: cell(0) == ordered[0])
    ui.click(dash_duo.find_element(f"{table} .ag-paging-button[aria-label='Next Page']"))
    ui.wait(lambda: cell(15) == ordered[15])
    assert ui.wait(lambda: "Showing rows 16–30 of 37" in note())
    word = genes["gene_name"].iloc[5][1:4]
    box = dash_duo.find_element(f"{table} .ag-floating-filter[col-id='gene_name'] input")
    box.send_keys(word.lower())
    matches = genes["gene_name"].str.lower().str.contains(word.lower(), regex=False).sum()
    ui.wait(lambda: f"of {matches} (filtered from 37)" in note(), timeout=20)
    summary = dash_duo.find_element(f"{table} .ag-paging-row-summary-panel").get_attribute("textContent").strip()
    assert summary.endswith(f"of {matches}")

    # the URL keeps the filter, the channel toggle and the open tab; the same URL rebuilds the same view
    ui.click(dash_duo.find_element("label[for='_dbcprivate_radioitems_module-channel_input_abundance']"))
    ui.click(ui.wait(lambda: dash_duo.driver.find_element(By.LINK_TEXT, "Module–trait")))
    ui.wait(lambda: all(k in dash_duo.driver.current_url for k in ("channel=abundance", "tab=traits", "genes.filter")))
    query = parse_qs(urlparse(dash_duo.driver.current_url).query)
    assert json.loads(query["genes.filter"][0])["gene_name"]["filter"] == word.lower()
    dash_duo.driver.get(dash_duo.server_url + "/")  # elsewhere first, then the shared URL
    dash_duo.driver.get(dash_duo.server_url + "/modules/M000?" + urlencode({k: v[0] for k, v in query.items()}))
    ui.wait(lambda: f"of {matches} (filtered from 37)" in note(), timeout=30)
    assert dash_duo.find_element(f"{table} .ag-floating-filter[col-id='gene_name'] input").get_attribute("value") \
        == word.lower()
    assert dash_duo.find_element("#_dbcprivate_radioitems_module-channel_input_abundance").is_selected()
    assert ui.wait(lambda: ui.graph("module-traits").find_elements(By.CSS_SELECTOR, ".hm, .heatmaplayer image"))
    bar = ui.wait(lambda: ui.graph("module-driver-bar").get_attribute("textContent"))
    assert "abundance" in bar.lower()

    # an ID with a character that must be escaped in a path (the demo's "XLOC_000145:CLCNKB") round-trips
    dash_duo.find_element("#module-tx-table .ag-floating-filter[col-id='gene_id'] input").send_keys(":")
    ui.wait(lambda: ":" in ui.grid_text("module-tx-table", 0, "gene_id"))
    special = polarity.set_index("gene_id").loc[ui.grid_text("module-tx-table", 0, "gene_id")]
    special = special.iloc[0] if isinstance(special, pd.DataFrame) else special
    ui.click(ui.grid_cell("module-tx-table", 0, "feature_id"))
    _landed_on(ui, special.name)
    assert special["gene_name"] in dash_duo.find_element("#gene-direction").text


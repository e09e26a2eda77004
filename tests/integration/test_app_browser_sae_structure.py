"""/structure and /sae in real headless Chromium: annotation job, pair view, knowledge graph, feature page."""

from __future__ import annotations

import time

import pandas as pd
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

# The number of graph nodes once cytoscape has positioned every one of them (0 before).
NODES_DRAWN_JS = """
const cy = document.getElementById('sae-graph')._cyreg.cy;
return cy.nodes().every(n => n.renderedPosition().x !== undefined) ? cy.nodes().length : 0;
"""


def test_structure_job_then_click_a_pair(dash_duo, ui, app, demo_root):
    """Run the annotation job on the demo GTF (switches of every module), then click a pair to draw it."""
    dash_duo.start_server(app)
    dash_duo.driver.get(dash_duo.server_url + "/structure")
    ui.click(ui.settled(lambda: dash_duo.find_element("#structure-run")))
    done = dash_duo.wait_for_element("#structure-done", timeout=60).text
    assert "pairs annotated" in done and ("GTF cache used" in done or "GTF parsed" in done)
    pairs = pd.read_parquet(demo_root / "demo" / "structure" / "switch_pairs_annotated.parquet")
    assert (pairs["status"] == "ok").sum() >= 5
    ui.click(ui.grid_cell("structure-pairs-table", 0, "gene_id"))
    words = dash_duo.wait_for_element("#structure-words", timeout=20).text
    first = pairs.iloc[0]
    assert first["transcript_id_1"] in words and first["transcript_id_2"] in words
    graph = ui.graph("structure-pair")
    ticks = ui.wait(lambda: " ".join(t.text for t in graph.find_elements(By.CSS_SELECTOR, ".ytick text")))
    assert first["transcript_id_1"] in ticks and first["transcript_id_2"] in ticks
    summary = ui.graph("structure-summary")
    assert ui.wait(lambda: summary.find_elements(By.CSS_SELECTOR, ".scatterlayer .point"))

    # a consequence filter clears the drawn pair (it may no longer be listed) and goes into the URL; a row of
    # the filtered table then draws that row's pair, never the earlier one
    ui.click(dash_duo.find_element("#structure-filter .dash-dropdown-trigger, #structure-filter"))
    option = ui.wait(lambda: dash_duo.driver.find_elements(By.CSS_SELECTOR, ".dash-dropdown-option")[-1])
    word = option.text.strip()
    ui.click(option)
    ui.wait(lambda: not dash_duo.driver.find_elements(By.ID, "structure-words"))
    ui.wait(lambda: "consequence=" in dash_duo.driver.current_url)
    listed = pairs[pairs["consequences"].map(lambda cell: isinstance(cell, str) and word in cell)]
    assert len(listed) > 0
    ui.wait(lambda: ui.grid_text("structure-pairs-table", 0, "transcript_id_1") == listed.iloc[0]["transcript_id_1"])
    ui.click(ui.grid_cell("structure-pairs-table", 0, "gene_id"))
    words = ui.wait(lambda: dash_duo.find_element("#structure-words").text)
    assert listed.iloc[0]["transcript_id_1"] in words and listed.iloc[0]["transcript_id_2"] in words


def test_structure_upload_without_a_file_says_so(dash_duo, ui, app):
    dash_duo.start_server(app)
    dash_duo.driver.get(dash_duo.server_url + "/structure")
    ui.click(ui.settled(lambda: dash_duo.driver.find_element(By.XPATH, "//label[text()='uploaded TSV']")))
    ui.click(dash_duo.find_element("#structure-run"))
    assert "choose a switch-pair TSV" in dash_duo.wait_for_element("#structure-error", timeout=30).text


def test_sae_graph_draws_and_a_node_opens_its_feature(dash_duo, ui, app):
    """The demo graph draws every node; clicking a feature node opens its page (histogram, top sequences).

    How fast it draws is measured by bench/sae_graph_draw.py, not here."""
    dash_duo.start_server(app)
    dash_duo.wait_for_element("#home-modules", timeout=30)  # the server is up and the app has loaded once
    dash_duo.driver.get(dash_duo.server_url + "/sae")
    assert ui.wait(lambda: dash_duo.driver.execute_script(NODES_DRAWN_JS), timeout=20) > 50
    time.sleep(0.5)  # the layout has run; nodes are where they will stay
    container = dash_duo.find_element("#sae-graph")
    dash_duo.driver.execute_script("arguments[0].scrollIntoView({block: 'center'});", container)
    feature = dash_duo.driver.execute_script("""
        const cy = document.getElementById('sae-graph')._cyreg.cy;
        const node = cy.nodes("[kind = 'feature']").max(n => n.data('pagerank')).ele;
        cy.center(node);  // the node is now under the middle of the graph's box
        return {id: node.id()};""")
    time.sleep(0.3)
    ActionChains(dash_duo.driver).move_to_element(container).click().perform()  # a real click at the node
    ui.wait(lambda: f"/sae/features/2/{feature['id'][1:]}" in dash_duo.driver.current_url, timeout=20)
    frequency = dash_duo.wait_for_element("#feature-frequency", timeout=30).text
    assert frequency.endswith("%")
    histogram = ui.graph("feature-histogram")
    assert ui.wait(lambda: histogram.find_elements(By.CSS_SELECTOR, ".barlayer .point"))
    rows = ui.wait(lambda: dash_duo.driver.find_elements(By.CSS_SELECTOR, "#feature-sequences .ag-cell[col-id='seq_id']"))
    heat = ui.graph("feature-heat")
    labels = ui.wait(lambda: " ".join(t.text for t in heat.find_elements(By.CSS_SELECTOR, ".ytick text")))
    assert rows[0].text in labels and labels.startswith("top")


def test_paste_a_sequence_and_bad_dna(dash_duo, ui, app):
    dash_duo.start_server(app)
    dash_duo.driver.get(dash_duo.server_url + "/sae/features/2/0?ef=8")
    box = ui.settled(lambda: dash_duo.find_element("#feature-paste"), timeout=30)
    box.send_keys(">mine\nATGGCCAAGCTGACCGAGTACAAGCCCACGGTGCGCCTCGCCACCCGCGACGACGTCCCC")
    ui.click(dash_duo.find_element("#feature-paste-run"))
    summary = dash_duo.wait_for_element("#feature-paste-summary", timeout=30).text
    assert "over 10 tokens" in summary
    assert len(dash_duo.driver.find_elements(By.CSS_SELECTOR, "#feature-paste-tokens span")) == 10
    box.send_keys(Keys.CONTROL, "a")  # replace the text as a user does (clear() bypasses React)
    box.send_keys(Keys.DELETE)
    box.send_keys("ACGTZZACGT")
    ui.click(dash_duo.find_element("#feature-paste-run"))
    error = dash_duo.wait_for_element("#feature-paste-error", timeout=20).text
    assert "invalid DNA: 'Z' at position 5" in error


def test_training_job_leaves_the_chart_of_every_epoch(dash_duo, ui, make_app, demo_root, tmp_path):
    """Train a small SAE on the demo's cached layer-2 states from the page; after the job the chart still has
    one point per epoch (the final progress report may never reach the browser; the result carries it)."""
    import shutil

    root = tmp_path / "root"
    shutil.copytree(demo_root / "demo", root / "demo")
    dash_duo.start_server(make_app(root))
    dash_duo.driver.get(dash_duo.server_url + "/sae")
    for element_id, value in (("#sae-job-layer", "2"), ("#sae-job-ef", "2"), ("#sae-job-epochs", "3")):
        box = ui.settled(lambda element_id=element_id: dash_duo.find_element(element_id))
        box.send_keys(Keys.CONTROL, "a")
        box.send_keys(value)
    ui.click(dash_duo.find_element("#sae-job-run"))
    assert "Trained ef2/layer_2" in dash_duo.wait_for_element("#sae-job-done", timeout=120).text
    graph = ui.graph("sae-job-curves")
    points = ui.wait(lambda: dash_duo.driver.execute_script(
        "const p = arguments[0].querySelector('.js-plotly-plot');"
        " return p && p._fullData && p._fullData[0] ? Array.from(p._fullData[0].x) : null;",
        graph))
    assert list(points) == [1, 2, 3]

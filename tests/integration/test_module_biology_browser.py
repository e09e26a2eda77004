"""The module page's "What is this module about?" tabs, in real headless Chromium: hub genes, module–trait,
eigengene by group and GO (with its term → genes drill-down), each checked against an independent source."""

from __future__ import annotations

import pandas as pd
from scipy import stats
from selenium.webdriver.common.by import By


def test_module_biology_tabs(dash_duo, ui, app, demo_root):
    demo = demo_root / "demo"
    membership = pd.read_parquet(demo / "fit" / "module_membership.parquet")
    own = membership[membership["module_id"] == "M001"]
    strongest = own.loc[own["kME"].abs().idxmax(), "gene_id"]  # the fit's own kME (an independent computation)
    dash_duo.start_server(app)
    dash_duo.wait_for_page(f"{dash_duo.server_url}/modules/M001?dataset=demo")
    assert ui.wait(lambda: ui.graph("module-kme").find_elements(By.CSS_SELECTOR, ".scatterlayer .point"), timeout=30)
    assert ui.grid_cell("module-hub-table", 0, "gene_id").text == strongest

    # module–trait: the demo's condition was planted on M001's activity; r as scipy computes it
    ui.click(ui.wait(lambda: dash_duo.driver.find_element(By.LINK_TEXT, "Module–trait")))
    assert ui.wait(lambda: ui.graph("module-traits").find_elements(By.CSS_SELECTOR, ".hm, .heatmaplayer image"))
    eigengene = pd.read_parquet(demo / "explain" / "M001" / "module_eigengene.parquet").set_index("sample_id")
    covariates = pd.read_csv(demo / "covariates.tsv", sep="\t").set_index("sample_id")
    treated = (covariates.loc[eigengene.index, "condition"] == "treated").astype(float)
    expected = stats.pearsonr(eigengene["eigengene"], treated).statistic
    text = ui.graph("module-traits").get_attribute("textContent")
    assert f"{expected:.2f}" in text and expected > 0.5

    # eigengene by group: one box per condition, named with its size
    ui.click(ui.wait(lambda: dash_duo.driver.find_element(By.LINK_TEXT, "Eigengene by group")))
    sizes = covariates["condition"].value_counts()
    legend = ui.wait(lambda: ui.graph("module-by-group").get_attribute("textContent"))
    assert f"treated (n={sizes['treated']})" in legend and f"control (n={sizes['control']})" in legend
    assert "Welch's t-test" in legend

    # GO: computed when the tab opens; a row click lists that term's genes
    ui.click(ui.wait(lambda: dash_duo.driver.find_element(By.LINK_TEXT, "GO enrichment")))
    term = ui.grid_cell("module-go-table", 0, "term").text
    genes = ui.grid_text("module-go-table", 0, "genes")
    ui.click(ui.grid_cell("module-go-table", 0, "term"))
    listing = ui.wait(lambda: dash_duo.find_element("#module-go-gene-list").text)
    assert term in listing and all(g in listing for g in genes.split(",") if g)
    assert "no significant GO term" in ui.graph("module-go").get_attribute("textContent") or \
        ui.graph("module-go").find_elements(By.CSS_SELECTOR, ".barlayer .point")
    assert dash_duo.get_logs() == []

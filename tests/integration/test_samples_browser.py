"""The /samples view in real headless Chromium: a lasso picks group A and group B on the map, and the
comparison's top gene and its numbers are those of scipy's Welch test on the same samples."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
from scipy import stats
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By

POINTS_JS = """
const gd = arguments[0], xa = gd._fullLayout.xaxis, ya = gd._fullLayout.yaxis, box = gd.getBoundingClientRect();
const out = [];
gd.calcdata.forEach(cd => { const t = cd[0].trace; if (String(t.name).startsWith('group ')) return;
  cd.forEach((pt, i) => out.push([String(t.customdata[i]), xa._offset + xa.c2p(pt.x), ya._offset + ya.c2p(pt.y)])); });
return {points: out, width: box.width, height: box.height,
        area: [xa._offset, ya._offset, xa._offset + xa._length, ya._offset + ya._length]};
"""


def _lasso(driver, plot, left: float, right: float, area) -> None:
    """Draw a lasso around the plot area's columns from ``left`` to ``right`` (pixels from the plot's corner)."""
    info = driver.execute_script("const b = arguments[0].getBoundingClientRect(); return [b.width, b.height];", plot)
    cx, cy = info[0] / 2, info[1] / 2
    top, bottom = area[1] + 3, area[3] - 3
    corners = [(left, top), (right, top), (right, bottom), (left, bottom), (left, top + 1)]
    chain = ActionChains(driver).move_to_element(plot).move_by_offset(int(corners[0][0] - cx), int(corners[0][1] - cy))
    chain.click_and_hold()
    here = corners[0]
    for corner in corners[1:]:
        for step in range(1, 5):  # several moves per side: plotly's lasso is the path the pointer takes
            x = here[0] + (corner[0] - here[0]) * step / 4
            y = here[1] + (corner[1] - here[1]) * step / 4
            prev_x = here[0] + (corner[0] - here[0]) * (step - 1) / 4
            prev_y = here[1] + (corner[1] - here[1]) * (step - 1) / 4
            chain.move_by_offset(int(round(x)) - int(round(prev_x)), int(round(y)) - int(round(prev_y)))
        here = corner
    chain.release().perform()


def _split(xs: np.ndarray, quantile: float) -> float:
    """A pixel column between two samples near the quantile, in the widest gap there (no sample on the line)."""
    order = np.sort(xs)
    k = int(len(order) * quantile)
    window = range(max(1, k - 8), min(len(order) - 1, k + 8))
    best = max(window, key=lambda i: order[i] - order[i - 1])
    return float((order[best] + order[best - 1]) / 2)


def test_lasso_two_groups_and_compare_them(dash_duo, ui, app, demo_root):
    from isograph.dataset.artifacts import load_fit_artifacts

    dash_duo.start_server(app)
    dash_duo.driver.get(f"{dash_duo.server_url}/samples?dataset=demo&colour=covariate:condition")
    ui.figure_card("samples-map")
    ui.click(dash_duo.find_element("#samples-to-a"))  # nothing selected yet: says so, keeps the groups
    assert "Nothing is selected" in ui.wait(lambda: dash_duo.find_element("#samples-groups-error").text)

    plot = ui.graph("samples-map").find_element(By.CSS_SELECTOR, ".js-plotly-plot")
    dash_duo.driver.execute_script("arguments[0].scrollIntoView({block: 'center'});", plot)
    drawn = dash_duo.driver.execute_script(POINTS_JS, plot)
    points = pd.DataFrame(drawn["points"], columns=["sample_id", "x", "y"]).drop_duplicates("sample_id")
    area = drawn["area"]
    cut_a, cut_b = _split(points["x"].to_numpy(), 0.3), _split(points["x"].to_numpy(), 0.7)
    expected = {"A": sorted(points.loc[points["x"] < cut_a, "sample_id"]),
                "B": sorted(points.loc[points["x"] > cut_b, "sample_id"])}
    for name, (left, right) in (("A", (area[0] + 2, cut_a)), ("B", (cut_b, area[2] - 2))):
        _lasso(dash_duo.driver, plot, left, right, area)
        ui.click(dash_duo.find_element(f"#samples-to-{name.lower()}"))
        ui.wait(lambda n=name: f"Group {n}: {len(expected[n])} samples" in
                dash_duo.find_element(f"#samples-group-{n.lower()}").text)
    legend = ui.wait(lambda: "group B" in (text := ui.graph("samples-map").get_attribute("textContent")) and text)
    assert f"group A (n={len(expected['A'])})" in legend and f"group B (n={len(expected['B'])})" in legend

    ui.click(dash_duo.find_element("#samples-compare"))  # switch scores (the default)
    words = ui.wait(lambda: dash_duo.find_element("#samples-result-words").text)
    fit = load_fit_artifacts(demo_root / "demo" / "fit")
    rows = np.flatnonzero(fit.score_meta["feature_type"].to_numpy() == "switch")
    scores = pd.DataFrame(fit.score_rows(rows).T, index=fit.sample_ids,
                          columns=fit.score_meta["gene_id"].to_numpy()[rows])
    res = stats.ttest_ind(scores.loc[expected["A"]], scores.loc[expected["B"]], equal_var=False, nan_policy="omit")
    p = pd.Series(np.asarray(res.pvalue), index=scores.columns).dropna()
    q = pd.Series(stats.false_discovery_control(p.to_numpy()), index=p.index)
    top = p.idxmin()
    assert ui.grid_cell("samples-compare-table", 0, "gene_id").text == top
    if q[top] <= 0.05:
        assert f"{int((q <= 0.05).sum())} genes' switch scores differ at q ≤ 0.05" in words
        assert re.search(rf"q = {q[top]:.2g}".replace("e-0", "e-"), words.replace("e-0", "e-"))
    else:
        assert words.startswith("No significant difference")
    # an empty result says so: a filter no gene passes
    dash_duo.find_element("#samples-compare-table .ag-floating-filter[col-id='gene_name'] input").send_keys("zzzz")
    ui.wait(lambda: "no row passes the filters" in dash_duo.find_element("#samples-compare-table").text)
    assert dash_duo.get_logs() == []


def test_umap_job_computes_keeps_and_draws_the_map(dash_duo, ui, make_app, demo_root, tmp_path):
    """Compute UMAP: a background job computes the map once and keeps it in the data set; the map, its note,
    the Map choice and the URL follow, and a later visit draws it at once."""
    import shutil

    root = tmp_path / "root"
    shutil.copytree(demo_root / "demo", root / "demo", ignore=shutil.ignore_patterns("sae"))
    dash_duo.start_server(make_app(root))
    dash_duo.driver.get(f"{dash_duo.server_url}/samples?dataset=demo&map=umap")
    ui.figure_card("samples-map")  # not computed yet: the PCA, and the choice says so
    assert "asks for the UMAP, which has not been computed" in dash_duo.find_element("#samples-umap-status").text
    radios = {r.get_attribute("value"): r for r in dash_duo.find_elements("#samples-method input")}
    assert radios["pca"].is_selected() and not radios["umap"].is_enabled()
    assert "PC1 (" in ui.graph("samples-map").get_attribute("textContent")
    ui.click(dash_duo.find_element("#samples-umap-run"))
    try:
        words = ui.wait(lambda: "samples: computed in" in (t := dash_duo.find_element("#samples-umap-status").text)
                        and t, timeout=120)
    except AssertionError as exc:
        raise AssertionError(f"{exc}; the job's progress "
                             f"{dash_duo.find_element('#samples-umap-progress').get_attribute('textContent')!r}, words"
                             f" {dash_duo.find_element('#samples-umap-status').text!r}; kept:"
                             f" {sorted(p.name for p in (root / 'demo').glob('samples/*'))}") from None
    assert "UMAP (umap-learn; 15 neighbours, min_dist 0.1, Euclidean, seed 0) of 200 samples: computed in" in words
    ui.wait(lambda: "UMAP1 (no units)" in ui.graph("samples-map").get_attribute("textContent"))
    assert dash_duo.find_element("#samples-map-note").text.startswith("Map: UMAP (umap-learn")
    assert "map=umap" in ui.wait(lambda: "map=umap" in dash_duo.driver.current_url and dash_duo.driver.current_url)
    assert len(list((root / "demo" / "samples").glob("umap_*.parquet"))) == 1
    dash_duo.driver.get(f"{dash_duo.server_url}/samples?dataset=demo&map=umap")  # kept: drawn at once
    ui.wait(lambda: "UMAP1 (no units)" in ui.graph("samples-map").get_attribute("textContent"))
    assert not dash_duo.find_element("#samples-umap-panel").is_displayed()
    assert dash_duo.get_logs() == []

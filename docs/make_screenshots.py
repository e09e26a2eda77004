"""Regenerate docs/*.png: the views of the app on the demo (headless Debian chromium).

Run from the repository root: ``python docs/make_screenshots.py`` (builds a demo in a temp folder, serves it
on 127.0.0.1:8073, saves full-page screenshots, the module page's "What is this module about?" tabs and the
samples view with two lasso-chosen groups compared, then its UMAP map, computed and kept in the data set as
``isograph sample-map --method umap`` does). ``python docs/make_screenshots.py DATA_ROOT samples`` serves an
existing data root and takes only the named shots (``views``, ``biology``, ``samples``, ``umap``).
"""

import shutil
import sys
import tempfile
import threading
import time
from pathlib import Path

import pandas as pd
from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By

from isograph.demo import build_demo

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # app.py, pages/, components/ of the checkout
from app import create_app  # noqa: E402

VIEWS = ("/", "home_view"), ("/modules/M000", "module_view"), ("/structure", "structure_view"), ("/sae", "sae_view")


def main(argv: list[str]) -> None:
    if argv:
        root, shots = Path(argv[0]), set(argv[1:]) or {"views", "biology", "samples", "umap"}
    else:
        root, shots = Path(tempfile.mkdtemp()), {"views", "biology", "samples", "umap"}
        build_demo(root / "demo")
    app = create_app({"data_root": root})
    threading.Thread(target=lambda: app.run(host="127.0.0.1", port=8073), daemon=True).start()
    time.sleep(3)
    options = Options()
    options.binary_location = "/usr/bin/chromium"
    for flag in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1400,1100",
                 "--hide-scrollbars"):
        options.add_argument(flag)
    driver = webdriver.Chrome(options=options, service=Service(shutil.which("chromedriver")))
    if "views" in shots:
        view_shots(driver, root)
    if "biology" in shots:
        biology_shots(driver)
    if "samples" in shots:
        samples_shot(driver)
    if "umap" in shots:
        umap_shot(driver, root)
    driver.quit()


def view_shots(driver, root: Path) -> None:
    """Full-page screenshots of every page."""
    gene = pd.read_parquet(root / "demo/explain/M000/gene_driver_table.parquet").iloc[0]["gene_id"]
    central = pd.read_parquet(root / "demo/sae/ef8/layer_2/centrality.parquet")
    feature = central.loc[central["kind"] == "feature", "node"].iloc[0][1:]
    views = [*VIEWS, (f"/genes/{gene}?module=M000", "gene_view"), (f"/sae/features/2/{feature}?ef=8", "feature_view")]
    for url, name in views:
        driver.set_window_size(1400, 1100)
        driver.get("http://127.0.0.1:8073" + url)
        time.sleep(6)
        height = max(900, driver.execute_script(
            "return Math.max(document.body.scrollHeight, document.documentElement.scrollHeight)"))
        driver.set_window_size(1400, min(height + 40, 3200))
        time.sleep(2)
        driver.save_screenshot(str(Path(__file__).parent / f"{name}.png"))


def biology_shots(driver) -> None:
    """The module page's "What is this module about?" card, one screenshot per tab (module M001)."""
    driver.set_window_size(1400, 1800)
    driver.get("http://127.0.0.1:8073/modules/M001")
    time.sleep(8)
    card = driver.find_element(By.XPATH, "//*[text()='What is this module about?']"
                                         "/ancestor::div[contains(concat(' ', @class, ' '), ' card ')][1]")
    for label, name, wait in (("Hub genes (kME)", "hubs", 1), ("Module–trait", "traits", 3),
                              ("Eigengene by group", "groups", 3), ("GO enrichment", "go", 10)):
        driver.execute_script("arguments[0].click();", driver.find_element(By.LINK_TEXT, label))
        time.sleep(wait)
        driver.execute_script("arguments[0].scrollIntoView();", card)
        time.sleep(1)
        card.screenshot(str(Path(__file__).parent / f"module_biology_{name}.png"))


def samples_shot(driver) -> None:
    """/samples coloured by the demo's condition, the leftmost third lassoed as group A and the rightmost as B,
    compared on switch scores."""
    driver.set_window_size(1400, 1700)
    driver.get("http://127.0.0.1:8073/samples?colour=covariate:condition")
    time.sleep(8)
    plot = driver.find_element(By.CSS_SELECTOR, ".js-plotly-plot")
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'});", plot)
    area = driver.execute_script("const l = arguments[0]._fullLayout; return [l.xaxis._offset, l.yaxis._offset,"
                                 " l.xaxis._length, l.yaxis._length, arguments[0].getBoundingClientRect().width,"
                                 " arguments[0].getBoundingClientRect().height];", plot)
    left, top, width, height, box_w, box_h = area
    for button, (x0, x1) in (("samples-to-a", (0.01, 0.3)), ("samples-to-b", (0.7, 0.99))):
        corners = [(left + width * x0, top + 3), (left + width * x1, top + 3), (left + width * x1, top + height - 3),
                   (left + width * x0, top + height - 3), (left + width * x0, top + 4)]
        chain = ActionChains(driver).move_to_element(plot).move_by_offset(int(corners[0][0] - box_w / 2),
                                                                          int(corners[0][1] - box_h / 2))
        chain.click_and_hold()
        for (ax, ay), (bx, by) in zip(corners, corners[1:]):
            chain.move_by_offset(int(bx - ax), int(by - ay))
        chain.release().perform()
        time.sleep(1)
        driver.find_element(By.ID, button).click()
        time.sleep(2)
    driver.find_element(By.ID, "samples-compare").click()
    time.sleep(5)
    driver.execute_script("window.scrollTo(0, 0);")
    height = driver.execute_script("return document.documentElement.scrollHeight")
    driver.set_window_size(1400, min(height + 40, 2600))
    time.sleep(2)
    driver.save_screenshot(str(Path(__file__).parent / "samples_view.png"))


def umap_shot(driver, root: Path) -> None:
    """/samples?map=umap coloured by the demo's condition: the map card and its note, after the UMAP is computed
    and kept (what the page's "Compute UMAP" job and ``isograph sample-map --method umap`` do)."""
    from isograph.dataset.datasets import open_dataset
    from isograph.samples.dataset import compute_umap

    compute_umap(open_dataset(root, "demo"))
    driver.set_window_size(1400, 1100)
    driver.get("http://127.0.0.1:8073/samples?map=umap&colour=covariate:condition")
    time.sleep(8)
    card = driver.find_element(By.ID, "samples-map-note").find_element(By.XPATH, "./ancestor::div[1]")
    driver.execute_script("arguments[0].scrollIntoView();", card)
    time.sleep(1)
    card.screenshot(str(Path(__file__).parent / "samples_umap_view.png"))


if __name__ == "__main__":
    main(sys.argv[1:])

"""Regenerate docs/*.png: the views of the app on the demo (headless Debian chromium).

Run from the repository root: ``python docs/make_screenshots.py`` (builds a demo in a temp folder, serves it
on 127.0.0.1:8073, saves full-page screenshots and the module page's "What is this module about?" tabs).
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
from selenium.webdriver.common.by import By

from isograph.demo import build_demo

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # app.py, pages/, components/ of the checkout
from app import create_app  # noqa: E402

VIEWS = ("/", "home_view"), ("/modules/M000", "module_view"), ("/structure", "structure_view"), ("/sae", "sae_view")


def main() -> None:
    root = Path(tempfile.mkdtemp())
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
    biology_shots(driver)
    driver.quit()


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


if __name__ == "__main__":
    main()

"""Regenerate docs/*.png: the views of the app on the demo (headless Debian chromium).

Run from the repository root: ``python docs/make_screenshots.py`` (builds a demo, its DNA model trained for
15 s, in a temp folder, serves it on 127.0.0.1:8073, saves full-page screenshots).
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

from isograph.demo import build_demo

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # app.py, pages/, components/ of the checkout
from app import create_app  # noqa: E402

VIEWS = ("/", "home_view"), ("/modules/M000", "module_view"), ("/structure", "structure_view"), ("/sae", "sae_view")


def main() -> None:
    root = Path(tempfile.mkdtemp())
    build_demo(root / "demo", sae_lm_seconds=15)
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
    driver.quit()


if __name__ == "__main__":
    main()

"""Regenerate docs/*.png: the views of the app on the demo (headless Debian chromium).

Run from the repository root: ``python docs/make_screenshots.py`` (builds a demo, its DNA model trained for
15 s, in a temp folder, serves it on 127.0.0.1:8073, saves full-page screenshots).
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import shutil
import tempfile
import threading
import time

from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service

from compute.demo import build_demo

root = Path(tempfile.mkdtemp())
build_demo(root / "demo", sae_lm_seconds=15)
from app import create_app

app = create_app({"data_root": root})
threading.Thread(target=lambda: app.run(host="127.0.0.1", port=8073), daemon=True).start()
time.sleep(3)
o = Options(); o.binary_location = "/usr/bin/chromium"
for f in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1400,1100", "--hide-scrollbars"):
    o.add_argument(f)
d = webdriver.Chrome(options=o, service=Service(shutil.which("chromedriver")))
import pandas as pd

gene = pd.read_parquet(root / "demo/explain/M000/gene_driver_table.parquet").iloc[0]["gene_id"]
central = pd.read_parquet(root / "demo/sae/ef8/layer_2/centrality.parquet")
feature = central.loc[central["kind"] == "feature", "node"].iloc[0][1:]
for url, name in (("/", "home_view"), ("/modules/M000", "module_view"), (f"/genes/{gene}?module=M000", "gene_view"),
                  ("/structure", "structure_view"), ("/sae", "sae_view"), (f"/sae/features/2/{feature}?ef=8", "feature_view")):
    d.set_window_size(1400, 1100)
    d.get("http://127.0.0.1:8073" + url); time.sleep(6)
    height = max(900, d.execute_script("return Math.max(document.body.scrollHeight, document.documentElement.scrollHeight)"))
    d.set_window_size(1400, min(height + 40, 3200)); time.sleep(2)
    d.save_screenshot(str(Path(__file__).parent / f"{name}.png"))
d.quit()

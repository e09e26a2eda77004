"""How fast the /sae knowledge graph draws in headless Chromium: first visit against a second visit.

``python bench/sae_graph_draw.py [--data-root DIR] [--repeats 3]``: serves the app on 127.0.0.1 (a demo is
built in a temp folder unless a data root is given), opens /sae in Debian's chromium, and reports the time
from navigation start until cytoscape has positioned every node (the page's own clock): on the very first
visit (which also fetches the cytoscape bundle: the baseline) and on later visits, with their ratio.
Needs chromium, chromium-driver and selenium (requirements-test.txt). Stops by itself.
"""

from __future__ import annotations

import argparse
import shutil
import socket
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # app.py, pages/, components/ of the checkout

from selenium import webdriver  # noqa: E402
from selenium.webdriver.chrome.service import Service  # noqa: E402

from app import create_app  # noqa: E402
from isograph.demo import build_demo  # noqa: E402
from tests.integration.conftest import pytest_setup_options  # noqa: E402

DRAWN_JS = """
const done = arguments[arguments.length - 1];
const started = Date.now();
(function poll() {
  const el = document.getElementById('sae-graph');
  const cy = el && el._cyreg && el._cyreg.cy;
  if (cy && cy.nodes().length > 0 && cy.nodes().every(n => n.renderedPosition().x !== undefined)) {
    requestAnimationFrame(() => done({ms: performance.now(), nodes: cy.nodes().length}));
  } else if (Date.now() - started > 20000) { done({ms: -1, nodes: 0}); } else { setTimeout(poll, 10); }
})();
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _driver() -> webdriver.Chrome:
    """Debian's chromium, headless, with the options the browser tests use."""
    return webdriver.Chrome(options=pytest_setup_options(), service=Service(shutil.which("chromedriver")))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-root", help="a data root with an SAE run (default: build the demo)")
    parser.add_argument("--repeats", type=int, default=3, help="fresh browsers (each: a first and a second visit)")
    args = parser.parse_args()
    root = Path(args.data_root) if args.data_root else Path(tempfile.mkdtemp()) / "root"
    if not args.data_root:
        print("building the demo ...", file=sys.stderr)
        build_demo(root / "demo")
    port = _free_port()
    app = create_app({"data_root": root, "port": port})
    threading.Thread(target=lambda: app.run(host="127.0.0.1", port=port), daemon=True).start()
    time.sleep(2)
    first, later, nodes = [], [], 0
    for _ in range(args.repeats):
        driver = _driver()
        try:
            for visit in range(3):
                driver.get(f"http://127.0.0.1:{port}/sae")
                drawn = driver.execute_async_script(DRAWN_JS)
                nodes = drawn["nodes"]
                (first if visit == 0 else later).append(drawn["ms"])
        finally:
            driver.quit()
    print(f"/sae graph ({nodes} nodes), navigation start -> every node positioned, headless Chromium:")
    print(f"  first visit (fetches the cytoscape bundle; baseline): median {statistics.median(first):.0f} ms"
          f" (range {min(first):.0f}-{max(first):.0f}, n={len(first)})")
    print(f"  later visits: median {statistics.median(later):.0f} ms (range {min(later):.0f}-{max(later):.0f},"
          f" n={len(later)}); ratio later / first = {statistics.median(later) / statistics.median(first):.2f}")


if __name__ == "__main__":
    main()

"""How fast the /sae knowledge graph draws in headless Chromium: first visit against a second visit.

``python bench/sae_graph_draw.py [--data-root DIR] [--repeats 3]``: serves the app on 127.0.0.1 (a demo is
built in a temp folder unless a data root is given), opens /sae in Debian's chromium, and reports the time
from navigation start until cytoscape has positioned every node (the page's own clock): on the very first
visit (which also fetches the cytoscape bundle: the baseline) and on later visits, with their ratio.

Then the largest graphs the controls allow (top-N = ``TOP_N_MAX`` features with the default 4 links each, and
with ``PER_FEATURE_MAX``): the time the browser's main thread is blocked laying the graph out, with the
positions the server sends (the app's ``preset`` layout) against cytoscape's own force layout (``cose``, what
the page used before: the baseline; only at 4 links, where it finishes), on the same elements in the same
page, and the server's time to compute the positions of the largest.
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
from selenium.webdriver.common.by import By  # noqa: E402

from app import create_app  # noqa: E402
from components.sae_graph import LAYOUT, PER_FEATURE_MAX, TOP_N_MAX, graph_elements  # noqa: E402
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


BLOCKED_JS = """
const done = arguments[arguments.length - 1];
const cy = document.getElementById('sae-graph')._cyreg.cy;
const options = arguments[0];
const started = performance.now();
const layout = cy.layout(options);
layout.one('layoutstop', () => done({ms: performance.now() - started, nodes: cy.nodes().length,
                                     edges: cy.edges().length}));
layout.run();
"""
COSE = {"name": "cose", "animate": False, "randomize": False, "numIter": 400, "nodeRepulsion": 9000,
        "idealEdgeLength": 40}


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
    worst = worst_case(port, args.repeats)
    server = server_positions(root)
    print(f"/sae graph ({nodes} nodes), navigation start -> every node positioned, headless Chromium:")
    print(f"  first visit (fetches the cytoscape bundle; baseline): median {statistics.median(first):.0f} ms"
          f" (range {min(first):.0f}-{max(first):.0f}, n={len(first)})")
    print(f"  later visits: median {statistics.median(later):.0f} ms (range {min(later):.0f}-{max(later):.0f},"
          f" n={len(later)}); ratio later / first = {statistics.median(later) / statistics.median(first):.2f}")
    for case in worst:
        preset = statistics.median(case["preset"])
        print(f"top-N {case['top_n']}, {case['per_feature']} links per feature ({case['nodes']} nodes, {case['edges']}"
              f" links), main thread blocked by the layout:")
        if case["cose"]:
            cose = statistics.median(case["cose"])
            print(f"  cose in the browser (before; baseline): median {cose:.0f} ms (range {min(case['cose']):.0f}-"
                  f"{max(case['cose']):.0f})")
        else:
            print("  cose in the browser (before): not run (over 5 minutes: 400 iterations of all-pairs repulsion)")
        print(f"  positions from the server (preset; the app): median {preset:.0f} ms (range"
              f" {min(case['preset']):.0f}-{max(case['preset']):.0f})"
              + (f"; ratio {preset / cose:.4f}" if case["cose"] else ""))
    print(f"the server's positions for the largest graph (igraph Fruchterman-Reingold): {server:.2f} s")


def worst_case(port: int, repeats: int) -> list[dict]:
    """Blocked main-thread ms of the preset and cose layouts at the largest top-N: with the default links per
    feature (both layouts) and with the most the control allows (preset only: cose would run for minutes)."""
    cases = []
    driver = _driver()
    driver.set_script_timeout(300)
    try:
        driver.get(f"http://127.0.0.1:{port}/sae")
        driver.execute_async_script(DRAWN_JS)
        for per_feature, with_cose in ((4, True), (PER_FEATURE_MAX, False)):
            before = driver.execute_script("return document.getElementById('sae-graph')._cyreg.cy.nodes().length")
            for control, value in (("sae-per-feature", per_feature), ("sae-top-n", TOP_N_MAX)):
                box = driver.find_element(By.ID, control)
                box.clear()
                box.send_keys(str(value))
            end = time.time() + 60
            while driver.execute_script("return document.getElementById('sae-graph')._cyreg.cy.nodes().length") <= before:
                if time.time() > end:
                    raise RuntimeError("the larger graph did not arrive within 60 s")
                time.sleep(0.2)
            time.sleep(1)
            case = {"top_n": TOP_N_MAX, "per_feature": per_feature, "preset": [], "cose": []}
            for _ in range(repeats):  # interleaved
                for name, options in (("preset", LAYOUT), ("cose", COSE)) if with_cose else (("preset", LAYOUT),):
                    drawn = driver.execute_async_script(BLOCKED_JS, options)
                    case[name].append(drawn["ms"])
                    case["nodes"], case["edges"] = drawn["nodes"], drawn["edges"]
            cases.append(case)
    finally:
        driver.quit()
    return cases


def server_positions(root: Path) -> float:
    """Seconds for graph_elements (positions included) of the worst-case subgraph of the first SAE run."""
    from isograph.dataset.datasets import find_datasets
    from isograph.sae.runs import load_run_graph, top_subgraph

    run = find_datasets(root)[0].sae.runs()[0]
    edges, centrality, _ = load_run_graph(run)
    nodes, links = top_subgraph(edges, centrality, top_n=TOP_N_MAX, per_feature=PER_FEATURE_MAX)
    start = time.perf_counter()
    graph_elements(nodes, links)
    return time.perf_counter() - start


if __name__ == "__main__":
    main()

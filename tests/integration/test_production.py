"""Production mode for real: Debian's redis-server, a Celery worker (``celery --app celery_worker worker``)
and the app under gunicorn (``python app.py --workers 2 --redis-url ...``), each its own process.

- a background job end to end through the browser on the gunicorn server: progress, cancel (the Celery task
  is terminated, no "Done" follows), then a run to its result;
- two app processes see the same job: one starts it, the other reports its progress and its result;
- views come from the shared Redis view cache (the second process serves what the first built).

Without redis-server (or celery/gunicorn) these tests are skipped on a developer's machine and fail in CI
(``CI`` set), where .ci/run installs them.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from contextlib import contextmanager
from pathlib import Path

import pandas as pd
import pytest

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / ".ci"))

from smoke_client import route_payload, routing_callback  # noqa: E402


def _needs(what: str, ok: bool) -> None:
    if not ok:
        if os.environ.get("CI"):
            pytest.fail(f"production-mode tests need {what} (.ci/run installs it)")
        pytest.skip(f"needs {what}")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def _process(command: list[str], log: Path, env: dict):
    with open(log, "w") as out:
        proc = subprocess.Popen(command, cwd=REPO, stdout=out, stderr=subprocess.STDOUT, env={**os.environ, **env},
                                start_new_session=True)
    try:
        yield proc
    finally:
        for sig, wait in ((signal.SIGTERM, 15), (signal.SIGKILL, 5)):
            try:
                os.killpg(proc.pid, sig)
                proc.wait(timeout=wait)
                break
            except (ProcessLookupError, subprocess.TimeoutExpired):
                continue


def _wait_for(predicate, timeout: float, what: str, log: Path | None = None):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            result = predicate()
            if result:
                return result
        except OSError:
            pass
        time.sleep(0.3)
    raise AssertionError(f"timed out waiting for {what}" + (f": {log.read_text()[-3000:]}" if log else ""))


def _get(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=30) as response:
        return response.read()


def _post(url: str, body: bytes) -> tuple[int, bytes]:
    request = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=60) as response:
        return response.status, response.read()


@pytest.fixture(scope="module")
def production(demo_root, tmp_path_factory):
    """redis-server, one Celery worker, the app under gunicorn (2 workers) and a second app process."""
    _needs("Debian's redis-server", shutil.which("redis-server") is not None)
    for module in ("celery", "gunicorn", "redis"):
        try:
            __import__(module)
        except ImportError:
            _needs(f"the {module} package (requirements-serve.txt)", False)
    tmp = tmp_path_factory.mktemp("production")
    redis_port, web_port, second_port = _free_port(), _free_port(), _free_port()
    redis_url = f"redis://127.0.0.1:{redis_port}/0"
    env = {"REDIS_URL": redis_url, "ISOGRAPH_DATA_ROOT": str(demo_root), "ISOGRAPH_CACHE_DIR": str(tmp / "jobs"),
           "ISOGRAPH_JOB_GATE": "1", "DASH_DEBUG": "false"}
    logs = {name: tmp / f"{name}.log" for name in ("redis", "celery", "web", "second")}
    with _process(["redis-server", "--port", str(redis_port), "--bind", "127.0.0.1", "--save", "", "--appendonly",
                   "no", "--dir", str(tmp)], logs["redis"], env), \
            _process([sys.executable, "-m", "celery", "--app", "celery_worker", "worker", "--concurrency", "1",
                      "--loglevel", "INFO"], logs["celery"], env), \
            _process([sys.executable, "app.py", "--data-root", str(demo_root), "--port", str(web_port), "--workers",
                      "2", "--redis-url", redis_url], logs["web"], env), \
            _process([sys.executable, "app.py", "--data-root", str(demo_root), "--port", str(second_port),
                      "--redis-url", redis_url], logs["second"], env):
        web, second = f"http://127.0.0.1:{web_port}", f"http://127.0.0.1:{second_port}"
        _wait_for(lambda: "ready" in logs["celery"].read_text(), 120, "the Celery worker", logs["celery"])
        for base, log in ((web, logs["web"]), (second, logs["second"])):
            _wait_for(lambda base=base: _get(base + "/"), 120, f"the app at {base}", log)
        yield {"web": web, "second": second, "gate": tmp / "jobs", "logs": logs, "redis_url": redis_url}


def _logs(production: dict, *names: str) -> str:
    """The ends of the named processes' logs, for a failure message."""
    return "".join(f"\n--- {name} log:\n{production['logs'][name].read_text()[-3000:]}" for name in names)


def _gate(folder: Path):
    import diskcache

    return diskcache.Lock(diskcache.Cache(str(folder)), "isograph-job-gate")


def test_explain_job_on_celery_through_the_browser(dash_duo, production):
    """On the gunicorn server, with jobs on Celery: the job shows progress, Cancel stops the Celery task (no
    "Done" follows), and a new run gives its result."""
    from tests.integration.conftest import Browser

    ui = Browser(dash_duo)
    dash_duo.server_url = production["web"]
    dash_duo.driver.get(production["web"] + "/modules/M001")
    run = dash_duo.wait_for_element("#job-run", timeout=30)
    with _gate(production["gate"]):
        ui.click(run)
        ui.wait(lambda: dash_duo.find_element("#job-cancel").is_enabled(), timeout=30)  # running, on the worker
        try:
            ui.wait(lambda: "waiting to start" in dash_duo.find_element("#job-progress").text, timeout=30)
        except AssertionError:
            pytest.fail(f"the job never showed 'waiting to start'; progress "
                        f"{dash_duo.find_element('#job-progress').get_attribute('outerHTML')[:400]!r}, status "
                        f"{dash_duo.find_element('#job-status').text!r}" + _logs(production, "celery", "web"))
        ui.click(dash_duo.find_element("#job-cancel"))
        ui.wait(lambda: dash_duo.find_element("#job-status").text == "Cancelled.")
        ui.wait(lambda: dash_duo.find_element("#job-run").is_enabled())
    time.sleep(3)  # a task that was not really stopped would now pass the gate and report "Done"
    assert dash_duo.find_element("#job-status").text == "Cancelled."
    _wait_for(lambda: re.search(r"Terminating|revoked", production["logs"]["celery"].read_text()), 20,
              "the worker to terminate the task", production["logs"]["celery"])
    dash_duo.find_element("#job-percentile").clear()
    dash_duo.find_element("#job-percentile").send_keys("20")
    ui.click(dash_duo.find_element("#job-run"))
    status = ui.wait(lambda: dash_duo.find_element("#job-status").text.startswith("Done") and
                     dash_duo.find_element("#job-status").text, timeout=90)
    assert "M001 with P = 20" in status and "40 high and 40 low samples" in status
    assert dash_duo.find_element("#job-table").text
    assert "succeeded" in production["logs"]["celery"].read_text()  # it ran on the Celery worker


def test_export_job_on_celery(dash_duo, production, tmp_path):
    """A figure export is a Celery task too: the worker renders it with its own exporter and the browser gets
    the file."""
    from selenium.webdriver.common.by import By

    from tests.integration.conftest import Browser

    if shutil.which("chromium") is None:
        pytest.skip("needs Debian's chromium for kaleido")
    ui = Browser(dash_duo)
    dash_duo.server_url = production["web"]
    dash_duo.driver.execute_cdp_cmd("Page.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(tmp_path)})
    dash_duo.driver.get(production["web"] + "/modules/M000")
    card = ui.figure_card("module-driver-bar")
    ui.click(card.find_element(By.CSS_SELECTOR, ".dropdown-toggle"))
    ui.click(ui.wait(lambda: card.find_element(By.XPATH, ".//*[text()='PNG 300 dpi, single column (89 mm)']")))
    png = ui.exported(tmp_path, "png", timeout=120, context=lambda: _logs(production, "celery", "web"))
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "Exported" in dash_duo.find_element("#export-message").text


def _job_callback(base: str) -> dict:
    for callback in json.loads(_get(base + "/_dash-dependencies")):
        if any(i["id"] == "job-run" for i in callback["inputs"]) and "job-status.children" in callback["output"]:
            return callback
    raise AssertionError("no explain-job callback")


def test_two_app_processes_see_the_same_job(production):
    """A job started through one app process (gunicorn) is followed to its result through another: progress
    while it waits, then the same result the browser would get."""
    web, second = production["web"], production["second"]
    page = _get(web + "/modules/M002").decode()
    end_id = json.loads(re.search(r'<script id="_dash-config" type="application/json">(.+?)</script>', page,
                                  re.DOTALL).group(1))["end_id"]
    callback = _job_callback(web)
    values = {("job-run", "n_clicks"): 1, ("job-context", "data"): {"module": "M002", "dataset": "demo"},
              ("job-percentile", "value"): 25, ("job-min-pairs", "value"): 3, ("job-method", "value"): "pc1"}
    body = json.dumps({
        "output": callback["output"],
        "outputs": [{"id": o.split(".")[0], "property": o.split(".")[1]} for o in callback["output"].strip(".").split("...")],
        "inputs": [{**i, "value": values.get((i["id"], i["property"]))} for i in callback["inputs"]],
        "state": [{**s, "value": values.get((s["id"], s["property"]))} for s in callback["state"]],
        "changedPropIds": ["job-run.n_clicks"],
    }).encode()
    query = urllib.parse.urlencode({"endId": end_id})
    with _gate(production["gate"]):
        status, started = _post(f"{web}/_dash-update-component?{query}", body)
        handles = json.loads(started)
        assert {"cacheKey", "job"} <= set(handles), started[:300]
        poll = urllib.parse.urlencode({"endId": end_id, "cacheKey": handles["cacheKey"], "job": handles["job"]})

        def progress():
            _, answer = _post(f"{second}/_dash-update-component?{poll}", body)
            return "waiting to start" in answer.decode() and answer

        _wait_for(progress, 30, "the other process to report the job's progress")
    def done():
        _, answer = _post(f"{second}/_dash-update-component?{poll}", body)
        return "Done: M002" in answer.decode() and answer

    answer = _wait_for(done, 90, "the other process to return the job's result", production["logs"]["celery"])
    assert "job-table" in answer.decode()


def test_views_are_shared_through_redis(production, demo_root):
    """A view built by one app process is served by the other from Redis (same bytes, a cache entry per view), and
    the other answers requests for its table's rows from the table Redis holds."""
    import redis

    client = redis.Redis.from_url(production["redis_url"])
    path = "/modules/M003"
    before = set(client.scan_iter("isograph:view:*"))
    first = json.loads(_post(production["web"] + "/_dash-update-component",
                             route_payload(production["web"], routing_callback(production["web"]), path))[1])
    added = set(client.scan_iter("isograph:view:*")) - before
    assert len(added) == 1  # the module page, stored once
    second = json.loads(_post(production["second"] + "/_dash-update-component",
                              route_payload(production["second"], routing_callback(production["second"]), path))[1])
    assert set(client.scan_iter("isograph:view:*")) - before == added  # served from it, not built again
    assert json.dumps(first["response"], sort_keys=True) == json.dumps(second["response"], sort_keys=True)
    # its tables are in Redis too: the other process answers a page of rows of the view the first one built
    source = _find_props(first["response"], {"type": "isograph-grid-source", "name": "module-gene-table"})["data"]
    assert client.exists(f"isograph:table:{source['grid_token']}")
    rows_callback = next(c for c in json.loads(_get(production["second"] + "/_dash-dependencies"))
                         if c["inputs"][0]["property"] == "getRowsRequest")
    grid = {"type": "isograph-grid", "name": "module-gene-table"}
    request = {"startRow": 15, "endRow": 30, "sortModel": [{"colId": "switch_qvalue", "sort": "asc"}], "filterModel": {}}
    body = json.dumps({
        "output": rows_callback["output"],
        "outputs": [{"id": grid, "property": "getRowsResponse"},
                    {"id": {**grid, "type": "isograph-grid-note"}, "property": "children"}],
        "inputs": [{"id": grid, "property": "getRowsRequest", "value": request}],
        "state": [{"id": {**grid, "type": "isograph-grid-source"}, "property": "data", "value": source}],
        "changedPropIds": [json.dumps(grid, sort_keys=True, separators=(",", ":")) + ".getRowsRequest"],
    }).encode()
    answer = json.loads(_post(production["second"] + "/_dash-update-component", body)[1])["response"]
    rows = answer[json.dumps(grid, sort_keys=True, separators=(",", ":"))]["getRowsResponse"]
    genes = pd.read_parquet(demo_root / "demo" / "explain" / "M003" / "gene_driver_table.parquet")
    expected = genes.sort_values("switch_qvalue", kind="stable", na_position="last").iloc[15:30]
    assert rows["rowCount"] == len(genes)
    assert [r["gene_id"] for r in rows["rowData"]] == expected["gene_id"].tolist()
    assert [r["switch_qvalue"] for r in rows["rowData"]] == expected["switch_qvalue"].tolist()  # every digit


def _find_props(node, component_id: dict) -> dict | None:
    """The props of the component with ``component_id`` in a Dash JSON tree."""
    if isinstance(node, dict):
        if node.get("props", {}).get("id") == component_id:
            return node["props"]
        node = list(node.values())
    if isinstance(node, list):
        for child in node:
            if (found := _find_props(child, component_id)) is not None:
                return found
    return None

def test_intervention_grid_on_the_celery_worker(production, tiny_intervention, tmp_path):
    """`isograph sae intervene --grid` with Redis configured: one Celery task per cell, run by the worker."""
    out = tmp_path / "grid"
    command = [sys.executable, "-m", "isograph.cli", "sae", "intervene", "--grid", "--input",
               str(tiny_intervention["fasta"]), "--model-name", str(tiny_intervention["model"]), "--layer-idx", "2",
               "--sae", str(tiny_intervention["sae"]), "--feature", "1", "2", "--min-act", "0.5", "--act-factor", "3",
               "--max-sequences", "2", "--output-dir", str(out), "--redis-url", production["redis_url"]]
    run = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=180)
    assert run.returncode == 0, run.stderr[-2000:]
    assert f"2 task(s) run, 0 skipped (finished by an earlier run), 0 failed; celery ({production['redis_url']})" in run.stderr
    import pandas as pd

    for feature in (1, 2):
        effects = pd.read_parquet(out / f"feature_{feature}" / "delta_0.5_alpha_3" / "effects.parquet")
        assert (effects["z_after"] >= 1.5 - 1e-5).all()
    assert run.stderr.count("done") >= 2
    assert "isograph.batch.run_task" in production["logs"]["celery"].read_text()  # the worker ran them

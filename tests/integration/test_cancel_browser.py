"""Cancel cancels, for every background job of the pages (issue 19): the job's process never runs, no "Done"
follows once it could have, nothing is written, and a new run can start at once. The explain re-run and the
export are tested the same way in test_app_browser.py."""

from __future__ import annotations

import time

import diskcache
import pandas as pd


def _files(folder) -> dict:
    return {p.relative_to(folder).as_posix(): p.stat().st_mtime_ns for p in folder.rglob("*") if p.is_file()}


def test_every_job_cancels_and_leaves_the_data_set_as_it_was(dash_duo, ui, make_app, demo_root, tmp_path):
    demo = demo_root / "demo"
    gene = pd.read_parquet(demo / "explain" / "M000" / "gene_driver_table.parquet").iloc[0]["gene_id"]
    central = pd.read_parquet(demo / "sae" / "ef8" / "layer_2" / "centrality.parquet")
    feature = central.loc[central["kind"] == "feature", "node"].iloc[0][1:]
    jobs = [("/structure", "structure", "structure-status",
             "Cancelled; the tables of the previous annotation are unchanged."),
            ("/sae", "sae-job", "sae-job-status", "Cancelled; runs already saved are unchanged."),
            (f"/sae/features/2/{feature}?ef=8", "feature-intervene", "feature-intervene-result", "Cancelled."),
            (f"/genes/{gene}?module=M000", "gene-track", "gene-track-status", "Cancelled; nothing was drawn."),
            ("/samples", "samples-umap", "samples-umap-status", "Cancelled; no map was kept.")]
    before = {name: _files(demo / name) for name in ("structure", "sae", "explain", "samples")}
    gate = diskcache.Lock(diskcache.Cache(str(tmp_path / "jobs")), "isograph-job-gate")
    dash_duo.start_server(make_app(demo_root, job_gate=True))
    for path, prefix, status, message in jobs:
        dash_duo.driver.get(dash_duo.server_url + path)
        with gate:  # the job waits for the gate: it is running but has not started its work
            ui.click(ui.settled(lambda p=prefix: dash_duo.find_element(f"#{p}-run")))
            ui.wait(lambda p=prefix: dash_duo.find_element(f"#{p}-cancel").is_enabled())
            ui.wait(lambda p=prefix: "waiting to start" in dash_duo.find_element(f"#{p}-progress").text)
            ui.click(dash_duo.find_element(f"#{prefix}-cancel"))
            ui.wait(lambda s=status, m=message: dash_duo.find_element(f"#{s}").text == m)
            ui.wait(lambda p=prefix: dash_duo.find_element(f"#{p}-run").is_enabled())  # a new run can start
        time.sleep(3)  # the gate is open: a job that was not really cancelled would finish now
        assert dash_duo.find_element(f"#{status}").text == message, path
        assert "cancelled" in dash_duo.find_element(f"#{prefix}-progress").text, path
    assert {name: _files(demo / name) for name in before} == before  # nothing was written
    assert dash_duo.get_logs() == []

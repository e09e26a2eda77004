"""The figure exporter and the service that lets job processes share the server's warm Chromium."""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import shutil
import threading
from pathlib import Path

import plotly.graph_objects as go
import pytest

from components.export_service import ExportService, export_via
from isograph.errors import InputError
from isograph.figures.render import figure_bytes

needs_chrome = pytest.mark.skipif(shutil.which("chromium") is None, reason="needs Debian's chromium (installed by .ci/run)")


def _figure() -> go.Figure:
    return go.Figure(go.Bar(x=["GENE_A", "GENE_B"], y=[1.0, -0.5]), layout={"title": "drivers"})


def _export_in_child(address: dict, queue) -> None:
    try:
        queue.put(export_via(address, _figure().to_plotly_json(), "svg")[:200])
    except Exception as exc:  # noqa: BLE001 - sent to the parent to fail the test there
        queue.put(repr(exc))


def test_html_needs_no_browser():
    html = figure_bytes(_figure(), "html")
    assert html.lower().startswith(b"<!doctype html>") and b"GENE_A" in html


def test_unknown_format():
    with pytest.raises(InputError, match="unknown figure format 'gif'"):
        figure_bytes(_figure(), "gif")


@needs_chrome
def test_service_serves_a_forked_job_process(tmp_path):
    service = ExportService(tmp_path).start()
    try:
        assert os.stat(service.address["socket"]).st_mode & 0o777 == 0o600  # this user only
        assert export_via(service.address, _figure(), "pdf")[:5] == b"%PDF-"
        queue = multiprocessing.get_context("fork").Queue()
        child = multiprocessing.get_context("fork").Process(target=_export_in_child, args=(service.address, queue))
        child.start()
        svg = queue.get(timeout=60)
        child.join(timeout=10)
        assert isinstance(svg, bytes) and b"<svg" in svg
        with pytest.raises(InputError, match="unknown figure format 'gif'"):  # the service's message comes back
            export_via(service.address, _figure(), "gif")
        wrong_key = {**service.address, "key": "00" * 32}  # refused by the service: exported locally instead
        assert export_via(wrong_key, _figure(), "svg").lstrip().startswith(b"<svg")
        assert export_via(service.address, _figure(), "svg").lstrip().startswith(b"<svg")  # still serving
    finally:
        service.close()
    assert not os.path.exists(service.address["socket"])
    assert export_via(service.address, _figure(), "svg").lstrip().startswith(b"<svg")  # no service: local


def test_service_closes_quietly_when_its_folder_is_already_gone(tmp_path):
    """A server whose cache folder was a temporary one removed before exit (its atexit close): no traceback."""
    folder = tmp_path / "cache"
    service = ExportService(folder).start()
    shutil.rmtree(folder)
    service.close()  # was: FileNotFoundError from the listener's own unlink
    service.close()  # twice is fine too


@needs_chrome
def test_forked_child_of_a_warm_process_exports_on_its_own(tmp_path):
    """A fork copies kaleido's 'server running' flag but not its thread; the child must not hang."""
    figure_bytes(_figure(), "svg")  # warm in this process
    queue = multiprocessing.get_context("fork").Queue()
    child = multiprocessing.get_context("fork").Process(target=_export_in_child, args=(None, queue))
    child.start()
    svg = queue.get(timeout=60)
    child.join(timeout=10)
    assert isinstance(svg, bytes) and b"<svg" in svg


def _alive(pid: int) -> bool:
    """Whether process ``pid`` still runs (a zombie counts as gone)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(") ")[1][0] != "Z"
    except (FileNotFoundError, IndexError):
        return False


@needs_chrome
def test_a_stuck_exporter_is_replaced_and_its_chromium_closed(monkeypatch):
    """An export that hangs inside Chromium is cancelled after EXPORT_TIMEOUT_S, the exporter's Chromium is
    closed, and the export is retried on a new one; two hangs in a row give a one-line error."""
    import kaleido

    import isograph.figures.render as export

    figure_bytes(go.Figure(go.Bar(x=["A"], y=[1])), "svg")  # a warm exporter
    first = export._exporter
    real, calls = kaleido.Kaleido.calc_fig, []

    async def hang_once(self, *args, **kwargs):
        calls.append(kwargs["opts"]["format"])
        if len(calls) == 1:
            export.EXPORT_TIMEOUT_S = 60.0  # read per attempt: the retry on a fresh Chromium gets the usual time
            await asyncio.sleep(30)  # a wedged Chromium
        return await real(self, *args, **kwargs)

    monkeypatch.setattr(export, "EXPORT_TIMEOUT_S", 0.5)
    monkeypatch.setattr(kaleido.Kaleido, "calc_fig", hang_once)
    svg = figure_bytes(go.Figure(go.Bar(x=["AFTER_HANG"], y=[1])), "svg")
    assert b"AFTER_HANG" in svg and calls == ["svg", "svg"]
    assert export._exporter is not first and not _alive(first.pid)  # no Chromium left behind

    async def hang_always(self, *args, **kwargs):
        await asyncio.sleep(30)

    monkeypatch.setattr(export, "EXPORT_TIMEOUT_S", 0.5)
    monkeypatch.setattr(kaleido.Kaleido, "calc_fig", hang_always)
    with pytest.raises(InputError, match="did not answer within 0.5 s, twice"):
        figure_bytes(go.Figure(), "svg")
    monkeypatch.undo()
    assert b"BACK" in figure_bytes(go.Figure(go.Bar(x=["BACK"], y=[1])), "svg")  # a fresh exporter answers


@needs_chrome
def test_a_late_answer_never_reaches_a_later_request(monkeypatch):
    """A render that answers after the watchdog gave up on it must not hand its file to any later export: on CI
    an SVG request once got the PDF of an earlier one, and every later export the one before's."""
    import kaleido

    import isograph.figures.render as export

    real, calls = kaleido.Kaleido.calc_fig, []

    async def late_once(self, *args, **kwargs):
        calls.append(kwargs["opts"]["format"])
        if len(calls) == 1:
            export.EXPORT_TIMEOUT_S = 60.0  # read per attempt: the retry on a fresh Chromium gets the usual time
            try:
                await asyncio.sleep(1.0)
            except asyncio.CancelledError:
                pass  # a render that does not stop when cancelled, and answers anyway
            return b"%PDF-1.4 the late answer"
        return await real(self, *args, **kwargs)

    monkeypatch.setattr(export, "EXPORT_TIMEOUT_S", 0.5)
    monkeypatch.setattr(kaleido.Kaleido, "calc_fig", late_once)
    svg = figure_bytes(go.Figure(go.Bar(x=["RETRIED"], y=[1])), "svg")
    assert b"RETRIED" in svg and calls == ["svg", "svg"]
    threading.Event().wait(1.5)  # the late answer has come by now
    for fmt, head in (("svg", b"<svg"), ("png", b"\x89PNG"), ("pdf", b"%PDF-1.4\n")):
        data = figure_bytes(go.Figure(go.Bar(x=[f"LATER_{fmt}"], y=[1])), fmt)
        assert data.lstrip().startswith(head) and b"the late answer" not in data, (fmt, data[:30])


@needs_chrome
def test_exports_from_many_threads_each_get_their_own_file():
    """Renders from several threads of one process (the app's export service and a job, say) never cross."""
    results: dict = {}

    def export(i: int) -> None:
        fmt = ("svg", "pdf", "png")[i % 3]
        results[i] = (fmt, figure_bytes(go.Figure(go.Bar(x=[f"LABEL{i}"], y=[i + 1])), fmt, width=300, height=200))

    threads = [threading.Thread(target=export, args=(i,)) for i in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert sorted(results) == list(range(6))
    for i, (fmt, data) in results.items():
        assert {"svg": data.lstrip().startswith(b"<svg") and f"LABEL{i}".encode() in data,
                "pdf": data.startswith(b"%PDF-"), "png": data.startswith(b"\x89PNG")}[fmt], (i, fmt, data[:20])


def test_an_unknown_format_is_refused_before_anything_is_written(tmp_path):
    """One check (render.check_formats) for every writer of figure files; nothing is written before it."""
    from isograph.figures.module_files import write_module_figures
    from isograph.figures.render import check_formats
    from isograph.modules.report import write_module_report

    check_formats(["pdf", "png", "svg", "html"])
    with pytest.raises(InputError, match=r"^--output-format bmp: unknown; use one of pdf, png, svg, html$"):
        check_formats(["pdf", "bmp"], option="--output-format")
    with pytest.raises(InputError, match=r"^unknown figure format 'gif'; use one of pdf, png, svg, html$"):
        write_module_figures({}, None, tmp_path / "figures", formats=("png", "gif"))
    with pytest.raises(InputError, match=r"^unknown figure format 'gif'; use one of pdf, png, svg, html$"):
        write_module_report(None, tmp_path / "report", formats=("gif",))
    assert not any(tmp_path.iterdir())

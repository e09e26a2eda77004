"""App tests: the real app on the shared demo, in headless Debian chromium (dash[testing]'s dash_duo) or
called as plain functions. ``ui`` holds the browser helpers every browser test uses."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import time
from pathlib import Path

import pytest
from selenium.common.exceptions import ElementClickInterceptedException
from selenium.webdriver.common.by import By

from components.layout import EXPORT_LABELS
from isograph.figures.publication import JOURNAL_WIDTHS_MM

os.environ.setdefault("DASH_DEBUG", "false")
os.environ.setdefault("SE_OFFLINE", "true")  # never let Selenium look for a driver on the network


def _worker_ports() -> None:
    """dash_duo's servers take ports 58050, 58051, ... in every process: each pytest-xdist worker (both run
    browser tests) starts 1,000 ports further on, so two workers never serve on the same port."""
    from dash.testing.application_runners import BaseDashRunner

    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
    BaseDashRunner._next_port = 58050 + 1000 * int(worker.removeprefix("gw") or 0)


_worker_ports()


def pytest_setup_options():
    """ChromeOptions for dash_duo: Debian's chromium, headless, in a container."""
    from selenium.webdriver.chrome.options import Options

    options = Options()
    options.binary_location = shutil.which("chromium") or "/usr/bin/chromium"
    for flag in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--window-size=1400,1800"):
        options.add_argument(flag)
    return options


@pytest.fixture(autouse=True)
def _needs_browser(request):
    if "dash_duo" in request.fixturenames and (shutil.which("chromium") is None or shutil.which("chromedriver") is None):
        pytest.skip("needs Debian's chromium and chromium-driver (installed by .ci/run)")


@pytest.fixture(scope="session", autouse=True)
def _warm_exporter():
    """Start this process's figure exporter (kaleido's Chromium and its threads) before any test server.

    dash[testing]'s threaded server stops by raising SystemExit in every thread started after it was
    (``KillerThread.kill``). An exporter first started during a browser test would lose its threads that
    way, and the next export in this process would wait on a dead event loop until the render watchdog
    gives up (60 s). Started here, its threads predate every test server and are left alone.
    """
    from isograph.figures.common import empty_figure
    from isograph.figures.render import chrome_path, figure_bytes

    if chrome_path() is not None:
        figure_bytes(empty_figure(), "svg")


@pytest.fixture
def make_app(tmp_path):
    """``make_app(data_root, **settings)``: a fresh app with its own job cache folder."""
    from app import create_app

    def make(data_root: Path, **settings):
        return create_app({"data_root": data_root, "cache_dir": str(tmp_path / "jobs"), **settings})

    return make


@pytest.fixture
def app(make_app, demo_root):
    """The app on the shared demo data root."""
    return make_app(demo_root)


class Browser:
    """What the browser tests do to a page: find figure cards, click, wait, export."""

    def __init__(self, dash_duo) -> None:
        self.duo = dash_duo

    def graph(self, name: str):
        """The dcc.Graph of a figure card (Dash serialises dict IDs with sorted keys)."""
        component_id = json.dumps({"graph": name, "type": "figure"}, separators=(",", ":"))
        return self.duo.driver.find_element(By.XPATH, f"//div[@id='{component_id}']")

    def figure_card(self, name: str, timeout: float = 30.0):
        """The card around a figure once its plot is drawn and the page has stopped moving (dcc.Graph first
        renders a placeholder with the same ID, which a later lookup finds stale)."""
        self.settled(lambda: self.graph(name).find_element(By.CSS_SELECTOR, ".main-svg"), timeout=timeout)
        return self.graph(name).find_element(By.XPATH, "./ancestor::div[contains(@class,'card')]")

    def click(self, element) -> None:
        """Scroll an element to the middle of the window, then click it."""
        self.duo.driver.execute_script("arguments[0].scrollIntoView({block: 'center'});", element)
        try:
            element.click()
        except ElementClickInterceptedException:  # a loading overlay still covers the page: click the button itself
            self.duo.driver.execute_script("arguments[0].click();", element)

    def wait(self, predicate, timeout: float = 30.0):
        """The first truthy ``predicate()`` within ``timeout`` seconds (exceptions count as not yet); a timeout
        says where the browser was and the predicate's last exception, so a CI log shows what was missing."""
        end, last = time.time() + timeout, None
        while time.time() < end:
            try:
                result = predicate()
                if result:
                    return result
            except Exception as exc:  # noqa: BLE001 - element not there yet
                last = exc
            time.sleep(0.2)
        try:
            where = self.duo.driver.current_url
        except Exception:  # noqa: BLE001 - the browser itself is gone
            where = "(no browser)"
        raise AssertionError(f"timed out after {timeout:g} s at {where}"
                             + (f"; last error: {type(last).__name__}: {str(last)[:300]}" if last else ""))

    def grid_cell(self, table: str, row: int, column: str):
        """A cell of a table (components.data_grid) once its row has come and the page has stopped moving."""
        def find():
            cell = self.duo.driver.find_element(
                By.CSS_SELECTOR, f"#{table} .ag-row[row-index='{row}'] .ag-cell[col-id='{column}']")
            assert cell.get_attribute("textContent").strip(), "the row has not come yet"
            return cell
        return self.settled(find, timeout=30)

    def grid_text(self, table: str, row: int, column: str) -> str:
        """The text of a table's cell (empty while its row is still on its way)."""
        cells = self.duo.driver.find_elements(
            By.CSS_SELECTOR, f"#{table} .ag-row[row-index='{row}'] .ag-cell[col-id='{column}']")
        return cells[0].get_attribute("textContent").strip() if cells else ""

    @staticmethod
    def settled(find, timeout: float = 30.0):
        """The element ``find()`` returns once its position and size have stopped changing (the page has loaded)."""
        end, last = time.time() + timeout, None
        while time.time() < end:
            try:
                element = find()
                rect = element.rect
            except Exception:  # not there yet, or replaced while we looked
                rect = None
            if rect is not None and rect == last:
                return element
            last = rect
            time.sleep(0.5)
        raise AssertionError("the element did not settle")

    def export_state(self) -> str:
        """What the export toast shows now: its message and its progress bar's label (for failure messages)."""
        parts = []
        for element_id in ("export-message", "export-progress"):
            found = self.duo.driver.find_elements(By.ID, element_id)
            parts.append(f"{element_id}: {found[0].get_attribute('textContent').strip()!r}" if found
                         else f"{element_id}: (not shown)")
        return "; ".join(parts)

    def exported(self, folder: Path, suffix: str, *, timeout: float, context=lambda: ""):
        """The file an export job downloads into ``folder`` (once complete); fails at once when the job says it
        could not export, and on a timeout says the job's state and ``context()`` (e.g. a worker's log)."""
        def done():
            found = [path for path in folder.glob(f"*.{suffix}") if path.stat().st_size]
            if found and not list(folder.glob("*.crdownload")):
                return found[0]
            messages = self.duo.driver.find_elements(By.ID, "export-message")
            if messages and "Could not" in messages[0].text:
                return messages[0].text
            return None

        try:
            result = self.wait(done, timeout=timeout)
        except AssertionError as exc:
            raise AssertionError(f"no .{suffix} export: {exc}; {self.export_state()}{context()}") from None
        assert isinstance(result, Path), f"the export failed: {result}{context()}"
        return result

    def export_pdf(self, graph_name: str, folder: Path, *, column: str = "single") -> str:
        """Export one figure card as a journal-column PDF through the app's export job; check the file (one page,
        the column's width within 1 mm, the width in its name); return its text."""
        for old in folder.glob("*.pdf"):
            old.unlink()
        driver = self.duo.driver
        driver.execute_cdp_cmd("Page.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(folder)})
        card = self.figure_card(graph_name)
        self.click(card.find_element(By.CSS_SELECTOR, ".dropdown-toggle"))
        label = EXPORT_LABELS[f"pdf-{column}"]
        self.click(self.wait(lambda: card.find_element(By.XPATH, f".//*[text()='{label}']")))
        pdf = self.exported(folder, "pdf", timeout=30)
        assert self.wait(lambda: "Exported" in self.duo.find_element("#export-message").text)  # the job's toast
        assert not self.duo.find_element("#export-cancel").is_enabled()  # finished
        assert pdf.read_bytes()[:5] == b"%PDF-"
        info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
        assert re.search(r"^Pages:\s+1$", info, re.MULTILINE)
        width_pt = float(re.search(r"Page size:\s+([\d.]+) x", info).group(1))
        assert abs(width_pt * 25.4 / 72 - JOURNAL_WIDTHS_MM[column]) <= 1.0, info  # the journal's column width
        assert pdf.name.endswith(f"_{JOURNAL_WIDTHS_MM[column]:.0f}mm.pdf")
        return subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout


@pytest.fixture
def ui(dash_duo) -> Browser:
    """Browser helpers bound to this test's ``dash_duo``."""
    return Browser(dash_duo)



def grid_source_data(component, name: str) -> dict:
    """The data of grid ``name``'s source store in a page or component (its table's key and CSV name)."""
    found = []

    def walk(node):
        if isinstance(node, (list, tuple)):
            for child in node:
                walk(child)
            return
        if hasattr(node, "to_plotly_json"):
            if getattr(node, "id", None) == {"type": "isograph-grid-source", "name": name}:
                found.append(node.data)
            walk(getattr(node, "children", None))
    walk(component)
    assert found, f"no table {name!r} on this page"
    return found[0]


def grid_table(component, name: str):
    """The whole table behind grid ``name`` in a page or component (components.data_grid stores it on the
    server; the layout holds only its key). Call inside the app's context."""
    import dash

    from components.data_grid import load_table

    token = grid_source_data(component, name)["grid_token"]
    return load_table(token, dash.get_app().server.config["ISOGRAPH"]).drop(columns="_row")

"""Browser tests: the real app in headless Debian chromium driven by dash[testing] (dash_duo)."""

from __future__ import annotations

import os
import shutil

import pytest

os.environ.setdefault("DASH_DEBUG", "false")
os.environ.setdefault("SE_OFFLINE", "true")  # never let Selenium look for a driver on the network


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


@pytest.fixture(scope="session")
def demo_root(tmp_path_factory):
    """A data root holding the demo data set (built once per run)."""
    from isograph.demo import build_demo

    root = tmp_path_factory.mktemp("data_root")
    build_demo(root / "demo", sae_lm_seconds=8)  # a briefly trained DNA model: the pages, not the science
    return root


@pytest.fixture(autouse=True)
def _needs_browser(request):
    if "dash_duo" in request.fixturenames and (shutil.which("chromium") is None or shutil.which("chromedriver") is None):
        pytest.skip("needs Debian's chromium and chromium-driver (installed by .ci/run)")


@pytest.fixture
def app(demo_root):
    """The app on the demo data root (test modules that call jobs directly override it)."""
    import dash

    from app import create_app

    dash._pages.PAGE_REGISTRY.clear()  # a fresh page registry per app (as vizro's tests reset it)
    yield create_app({"data_root": demo_root})
    dash._pages.PAGE_REGISTRY.clear()

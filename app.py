"""IsoGraph Explorer web app: ``create_app(settings)`` and ``python app.py`` (127.0.0.1:8050 on the demo).

The app opens only data sets under its data root (default ``./demo_data``, built with ``isograph demo``
on first start when missing) and binds 127.0.0.1 unless told otherwise.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import dash
import dash_bootstrap_components as dbc
from dash import dcc, html

from components.jobs import register_callbacks as register_job_callbacks
from components.layout import navbar
from components.layout import register_callbacks as register_export_callbacks
from compute.jobs import default_cache_dir, make_manager

DEFAULT_DATA_ROOT = Path("demo_data")


def create_app(settings: dict | None = None) -> dash.Dash:
    """Build the Dash app.

    Parameters
    ----------
    settings : dict, optional
        ``data_root`` (folder of data sets, default ``demo_data``), ``cache_dir`` (background jobs,
        default a temp folder), ``celery_broker`` (use Celery instead of diskcache), ``host``, ``port``.

    Returns
    -------
    dash.Dash
    """
    settings = {"data_root": DEFAULT_DATA_ROOT, "host": "127.0.0.1", "port": 8050, **(settings or {})}
    settings["data_root"] = Path(settings["data_root"]).resolve()
    settings.setdefault("cache_dir", str(default_cache_dir()))
    app = dash.Dash(
        __name__, use_pages=True, pages_folder=str(Path(__file__).parent / "pages"),
        assets_folder=str(Path(__file__).parent / "assets"),  # Bootstrap CSS served locally, no CDN
        suppress_callback_exceptions=True,
        background_callback_manager=make_manager(settings),
        title="IsoGraph Explorer",
    )
    app.server.config["ISOGRAPH"] = settings
    register_export_callbacks(app)
    register_job_callbacks(app)
    app.layout = html.Div([
        dcc.Location(id="url", refresh="callback-nav"),
        dcc.Store(id="job-running", data=False),  # app level: a job outlives the page that started it
        navbar(),
        dbc.Container(dash.page_container, fluid=True),
    ])
    return app


def main(argv: list[str] | None = None) -> int:
    """``python app.py [--data-root DIR] [--host 127.0.0.1] [--port 8050]``."""
    parser = argparse.ArgumentParser(description="Serve IsoGraph Explorer.")
    parser.add_argument("--data-root", default=str(DEFAULT_DATA_ROOT), help="folder of data sets (default demo_data)")
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1: this machine only)")
    parser.add_argument("--port", type=int, default=8050)
    parser.add_argument("--debug", action="store_true")
    args = parser.parse_args(argv)
    root = Path(args.data_root)
    from compute.datasets import find_datasets

    if not find_datasets(root):
        if root != DEFAULT_DATA_ROOT:
            print(f"app: no data set under {root}; build one with `isograph demo --out {root}`", file=sys.stderr)
            return 2
        from compute.demo import build_demo

        print(f"app: building the demo data set in {root} (first start, about 10 s)", file=sys.stderr)
        build_demo(root)
    app = create_app({"data_root": root, "host": args.host, "port": args.port})
    app.run(host=args.host, port=args.port, debug=args.debug)
    return 0


if __name__ == "__main__":
    sys.exit(main())

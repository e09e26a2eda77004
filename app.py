"""IsoGraph Explorer web app: ``create_app(settings)`` and ``python app.py`` (127.0.0.1:8050 on the demo).

The app opens only data sets under its data root (default ``./demo_data``, built with ``isograph demo``
on first start when missing) and binds 127.0.0.1 unless told otherwise.
"""

from __future__ import annotations

import argparse
import atexit
import os
import sys
import threading
from pathlib import Path

import dash
import dash_bootstrap_components as dbc
from dash import dcc, html

from components.background import JOB_SECONDS, default_cache_dir, make_manager
from components.data_grid import register_callbacks as register_grid_callbacks
from components.export_service import ExportService
from components.jobs import export_panel
from components.jobs import register_callbacks as register_job_callbacks
from components.layout import navbar
from components.search import register_callbacks as register_search_callbacks

DEFAULT_DATA_ROOT = Path("demo_data")
#: The largest request body the server accepts: a 20 MiB upload is about 27 MiB once base64-encoded.
MAX_REQUEST_BYTES = 32 * 1024 * 1024


def create_app(settings: dict | None = None) -> dash.Dash:
    """Build the Dash app.

    Parameters
    ----------
    settings : dict, optional
        ``data_root`` (folder of data sets, default ``demo_data``), ``cache_dir`` (background jobs and the
        view cache, default a temp folder), ``redis_url`` (jobs on Celery and views cached in Redis instead of
        diskcache; also read from ``REDIS_URL``), ``host``, ``port``,
        ``max_request_bytes`` (default 32 MiB; larger request bodies get HTTP 413), ``view_cache`` (default
        True: views built once per data-set version, :mod:`components.view_cache`), ``job_seconds`` (how long
        one background job may run, default 600), ``exporter`` (the
        address of an :class:`~components.export_service.ExportService`; by default one is
        started in this process).

    Returns
    -------
    dash.Dash
    """
    settings = {"data_root": DEFAULT_DATA_ROOT, "host": "127.0.0.1", "port": 8050, **(settings or {})}
    settings["data_root"] = Path(settings["data_root"]).resolve()
    settings.setdefault("cache_dir", str(default_cache_dir()))
    manager = make_manager(settings)
    app = dash.Dash(
        __name__, use_pages=True, pages_folder=str(Path(__file__).parent / "pages"),
        assets_folder=str(Path(__file__).parent / "assets"),  # Bootstrap CSS served locally, no CDN
        suppress_callback_exceptions=True,
        background_callback_manager=manager,
        title="IsoGraph Explorer",
    )
    app.server.config["ISOGRAPH_JOBS"] = manager  # a Celery worker takes its Celery app from here
    if "exporter" not in settings:  # export jobs share this process's warm Chromium
        service = ExportService(settings["cache_dir"]).start()
        atexit.register(service.close)
        settings["exporter"] = service.address
    # request bodies are capped (HTTP 413 beyond): an upload of the largest allowed table, base64-encoded, fits
    app.server.config["MAX_CONTENT_LENGTH"] = int(settings.get("max_request_bytes", MAX_REQUEST_BYTES))
    app.server.config["ISOGRAPH"] = settings
    register_grid_callbacks(app)
    register_job_callbacks(app)
    register_search_callbacks(app)
    app.layout = html.Div([
        dcc.Location(id="url", refresh="callback-nav"),
        dcc.Store(id="job-running", data=False),  # app level: a job outlives the page that started it
        # every tab's running job, in the browser's localStorage: all tabs of a browser show the indicator
        dcc.Store(id="job-running-shared", storage_type="local"),
        dcc.Store(id="job-budget", data=float(settings.get("job_seconds", JOB_SECONDS))),
        navbar(),
        dbc.Container(dash.page_container, fluid=True),
        export_panel(),
    ])
    return app


def warm_up(settings: dict, *, chromium: bool = True) -> threading.Thread:
    """Load what the first requests need in a background thread, so the first click is not the slow one.

    Reads every data set's gene index and SAE graphs and, with ``chromium``, starts the figure exporter's
    Chromium when one is installed (production web workers leave it to the first export). The feature table
    is not read: pages read only the features they draw (a ``.matrix`` folder reads just those rows). The
    server answers requests meanwhile.
    """
    def work() -> None:
        from isograph.dataset.datasets import find_datasets
        from isograph.figures.common import empty_figure
        from isograph.figures.render import chrome_path, figure_bytes
        from isograph.sae.runs import load_run_graph

        for dataset in find_datasets(settings["data_root"]):
            try:
                dataset.gene_index()
                for run in dataset.sae.runs():
                    load_run_graph(run)
            except Exception as exc:  # noqa: BLE001 - the page that needs it will say what is wrong
                print(f"app: could not preload data set {dataset.name}: {exc}", file=sys.stderr)
        if chromium and chrome_path() is not None:
            figure_bytes(empty_figure(), "svg")

    thread = threading.Thread(target=work, name="isograph-warm-up", daemon=True)
    thread.start()
    return thread


def main(argv: list[str] | None = None) -> int:
    """``python app.py [--data-root DIR] [--host 127.0.0.1] [--port 8050] [--job-seconds 600] [--workers N
    [--threads 2] [--redis-url URL]]``."""
    parser = argparse.ArgumentParser(description="Serve IsoGraph Explorer.")
    parser.add_argument("--data-root", default=str(DEFAULT_DATA_ROOT), help="folder of data sets (default demo_data)")
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1: this machine only)")
    parser.add_argument("--port", type=int, default=8050)
    parser.add_argument("--job-seconds", type=float, default=None,
                        help="how long one background job (explain re-run, annotation, SAE training) may run (default 600)")
    parser.add_argument("--workers", type=int, default=0,
                        help="production mode: serve from N gunicorn worker processes (default 0: the embedded server)")
    parser.add_argument("--threads", type=int, default=2, help="production mode: threads per worker (default 2)")
    parser.add_argument("--redis-url", default=os.environ.get("REDIS_URL"),
                        help="Redis for jobs (Celery) and the view cache, e.g. redis://127.0.0.1:6379/0 (default"
                             " $REDIS_URL; none: diskcache); start `celery --app celery_worker worker` beside it")
    parser.add_argument("--no-view-cache", action="store_true",
                        help="build every module, gene and feature view afresh (default: once per data-set version)")
    parser.add_argument("--debug", action="store_true")
    args = parser.parse_args(argv)
    if args.workers < 0 or args.threads < 1:
        print(f"app: --workers must be >= 0 and --threads >= 1; got {args.workers} and {args.threads}", file=sys.stderr)
        return 2
    root = Path(args.data_root)
    from isograph.dataset.datasets import find_datasets

    if not find_datasets(root):
        if root != DEFAULT_DATA_ROOT:
            print(f"app: no data set under {root}; build one with `isograph demo --out {root}`", file=sys.stderr)
            return 2
        from isograph.demo import build_demo

        print(f"app: building the demo data set in {root} (first start, about a minute)", file=sys.stderr)
        build_demo(root)
    from components.production import settings_from_env

    settings = {**settings_from_env(), "data_root": root.resolve(), "host": args.host, "port": args.port,
                "redis_url": args.redis_url or None, "view_cache": not args.no_view_cache}
    if args.job_seconds is not None:
        settings["job_seconds"] = args.job_seconds
    if args.workers:
        from components.production import serve

        serve(settings, workers=args.workers, threads=args.threads)
        return 0
    app = create_app(settings)
    warm_up(app.server.config["ISOGRAPH"])
    app.run(host=args.host, port=args.port, debug=args.debug)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Production mode: the app under gunicorn with several worker processes, its jobs on Celery with Redis.

``python app.py --workers 4 --redis-url redis://127.0.0.1:6379/0`` serves the app from four gunicorn
worker processes (each builds the app itself, after the fork); views come from the shared view cache
(:mod:`components.view_cache`, in Redis), and every background job (explain re-run, annotation, SAE
training, intervention, export) is a Celery task that ``celery --app celery_worker worker`` processes run,
on this machine or any other that sees the same data root. Job state, progress and results live in Redis,
so any web worker can answer for any job, a cancel reaches the task wherever it runs, and a job outlives a
restart of the web server. Without ``--redis-url`` (and no ``REDIS_URL``) the workers run jobs as the
embedded server does: diskcache in the cache folder, in processes forked from the worker that started them.

The web workers and the Celery workers read one set of settings from the environment
(:func:`settings_from_env`; :data:`ENVIRONMENT` names the variables), which ``python app.py`` sets for the
gunicorn workers it starts and which a Celery worker's shell must set the same way.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

__all__ = ["ENVIRONMENT", "celery_app", "serve", "settings_from_env", "settings_to_env", "web_server"]

#: The settings that production processes share, and the environment variable of each.
ENVIRONMENT = {
    "data_root": "ISOGRAPH_DATA_ROOT",
    "redis_url": "REDIS_URL",
    "cache_dir": "ISOGRAPH_CACHE_DIR",
    "job_seconds": "ISOGRAPH_JOB_SECONDS",
    "view_cache": "ISOGRAPH_VIEW_CACHE",
    "job_gate": "ISOGRAPH_JOB_GATE",  # tests: every job first waits on a lock the test holds
}
_FLAGS = ("view_cache", "job_gate")


def settings_from_env(environ: Mapping[str, str] | None = None) -> dict:
    """App settings from the environment (only the variables that are set; ``job_seconds`` as a number).

    Parameters
    ----------
    environ : mapping, optional
        Default ``os.environ``.

    Returns
    -------
    dict
    """
    environ = os.environ if environ is None else environ
    settings: dict = {key: environ[name] for key, name in ENVIRONMENT.items() if environ.get(name)}
    if "job_seconds" in settings:
        settings["job_seconds"] = float(settings["job_seconds"])
    for flag in _FLAGS:
        if flag in settings:
            settings[flag] = settings[flag].lower() not in ("0", "false", "no")
    return settings


def settings_to_env(settings: dict) -> dict[str, str]:
    """The environment variables that give :func:`settings_from_env` these settings back."""
    return {name: str(settings[key]) for key, name in ENVIRONMENT.items() if settings.get(key) not in (None, "")}


def celery_app(settings: dict) -> object:
    """The Celery application of the app built with ``settings`` (every background callback registered as a
    task), for ``celery --app celery_worker worker``.

    Raises
    ------
    InputError
        No Redis URL in the settings or the environment.
    """
    from app import create_app
    from components.background import redis_url
    from isograph.errors import InputError

    if not redis_url(settings):
        raise InputError("a Celery worker needs Redis: set REDIS_URL (e.g. redis://127.0.0.1:6379/0), the same as"
                         " the web server's --redis-url")
    app = create_app(settings)
    return app.server.config["ISOGRAPH_JOBS"].handle


def web_server(settings: dict) -> object:
    """The WSGI application of one production web worker: the app built from ``settings``, its data sets'
    indexes preloaded in the background (Chromium is left to the first export).

    Parameters
    ----------
    settings : dict
        As for :func:`app.create_app`.

    Returns
    -------
    flask.Flask
    """
    from app import create_app, warm_up

    app = create_app(dict(settings))
    warm_up(app.server.config["ISOGRAPH"], chromium=False)
    return app.server


def serve(settings: dict, *, workers: int, threads: int = 2, timeout: int = 120) -> None:
    """Serve the app under gunicorn until stopped (SIGINT/SIGTERM).

    Parameters
    ----------
    settings : dict
        As for :func:`app.create_app`; ``host`` and ``port`` are the address to bind.
    workers : int
        Worker processes (each a full app).
    threads : int, default 2
        Threads per worker (gunicorn's ``gthread`` worker).
    timeout : int, default 120
        Seconds a request may take before gunicorn restarts its worker (a view's first build takes seconds).
    """
    from gunicorn.app.base import BaseApplication

    from components.background import redis_url

    os.environ.update(settings_to_env(settings))
    broker = redis_url(settings)

    class Application(BaseApplication):
        def load_config(self) -> None:
            options = {"bind": f"{settings['host']}:{settings['port']}", "workers": workers, "threads": threads,
                       "worker_class": "gthread", "timeout": timeout, "graceful_timeout": 10,
                       "accesslog": None, "errorlog": "-", "loglevel": "warning",
                       "proc_name": "isograph-explorer"}
            for key, value in options.items():
                self.cfg.set(key, value)

        def load(self):
            return web_server(settings)

    print(f"app: production mode, {workers} gunicorn workers x {threads} threads on"
          f" http://{settings['host']}:{settings['port']}; jobs on "
          + (f"Celery ({broker})" if broker else "diskcache in this machine's workers"),
          flush=True)
    Application().run()

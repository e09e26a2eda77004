"""WSGI entry point of production mode for a gunicorn command line of your own:
``gunicorn --workers 4 --threads 2 --worker-class gthread --bind 127.0.0.1:8050 wsgi:server``.

Settings come from the environment (``ISOGRAPH_DATA_ROOT``, ``REDIS_URL``, ``ISOGRAPH_CACHE_DIR``,
``ISOGRAPH_JOB_SECONDS``; see :mod:`components.production`); ``python app.py --workers N`` does the same.
"""

from components.production import settings_from_env, web_server

server = web_server(settings_from_env())

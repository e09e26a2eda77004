"""The Celery worker of production mode: ``celery --app celery_worker worker --concurrency 2``.

It builds the same app as the web server (so every background callback is a registered task) from the same
settings, read from the environment: ``REDIS_URL`` (required), ``ISOGRAPH_DATA_ROOT``,
``ISOGRAPH_CACHE_DIR``, ``ISOGRAPH_JOB_SECONDS`` (see :mod:`components.production`). Run it on any machine
that sees the data root at the same path.
"""

from components.production import celery_app, settings_from_env
from isograph.batch.registry import register as register_batch_tasks

celery = celery_app(settings_from_env())
register_batch_tasks(celery)  # `isograph sae intervene --grid` and the other batch commands, when REDIS_URL is set

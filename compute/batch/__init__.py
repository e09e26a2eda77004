"""Batch pipelines: many independent tasks (intervention grid cells, FASTA files, data sets) run as a group
of Celery tasks when Redis is configured, a local process pool otherwise; resumable through a task manifest.

- :mod:`isograph.batch.manifest`: the task manifest (``tasks.tsv``): one row per task, rewritten atomically
  after every finished task, so a killed run loses at most the tasks that were running.
- :mod:`isograph.batch.registry`: the task kinds (a name -> function table; tasks take and return JSON).
- :mod:`isograph.batch.runner`: :func:`run_batch` runs what the manifest does not record as done.
"""

from isograph.batch.manifest import Task
from isograph.batch.runner import BatchResult, run_batch

__all__ = ["BatchResult", "Task", "run_batch"]

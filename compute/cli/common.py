"""What every ``isograph`` subcommand shares: the one-line-error parser, the progress printer, and the flags,
run and summary table of a batch command."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

__all__ = ["EXIT_INPUT_ERROR", "Parser", "ProgressPrinter", "add_batch_arguments", "print_batch_summary",
           "run_batch_command"]

EXIT_INPUT_ERROR = 2


class Parser(argparse.ArgumentParser):
    """An ArgumentParser whose usage errors are one line and exit status 2."""

    def error(self, message: str) -> None:  # noqa: D401 - argparse API
        self.exit(EXIT_INPUT_ERROR, f"{self.prog}: error: {message} (see `{self.prog} --help`)\n")


class ProgressPrinter:
    """Prints ``progress(stage, fraction, message)`` to stderr when the stage or 5% of progress changes."""

    def __init__(self, prog: str) -> None:
        self.prog, self.last = prog, ("", -1.0)

    def __call__(self, stage: str, fraction: float, message: str) -> None:
        if stage != self.last[0] or fraction - self.last[1] >= 0.05 or fraction >= 1.0:
            print(f"{self.prog}: [{fraction:4.0%}] {stage}: {message}", file=sys.stderr, flush=True)
            self.last = (stage, fraction)


def add_batch_arguments(parser: argparse.ArgumentParser | argparse._ArgumentGroup, *, when: str = "") -> None:
    """``--workers`` and ``--redis-url`` of a batch command.

    Parameters
    ----------
    parser : ArgumentParser or argument group
    when : str
        Prefix of the help texts when the flags apply only with another flag (``"--grid: "``).
    """
    parser.add_argument("--workers", type=int, default=1, metavar="N",
                        help=f"{when}local processes (default 1; 0: in this process, one after the other)")
    parser.add_argument("--redis-url", default=os.environ.get("REDIS_URL"), metavar="URL",
                        help=f"{when}run the tasks on Celery workers through this Redis (default $REDIS_URL)")


def run_batch_command(command: str, tasks: list, manifest: Path, args: argparse.Namespace, *, what: str,
                      columns: list[str]) -> int:
    """Run a batch command's tasks (:func:`isograph.batch.run_batch` with ``args.workers`` and
    ``args.redis_url``), print its summary table and the manifest's path; the exit status.

    Parameters
    ----------
    command : str
        How the summary names the command.
    tasks : list of Task
    manifest : Path
        The task manifest (``tasks.tsv``).
    args : Namespace
        With ``workers`` and ``redis_url`` (:func:`add_batch_arguments`).
    what : str
        The progress bar's label.
    columns : list of str
        Keys of the tasks' result summaries to show.

    Returns
    -------
    int
        0, or 1 when a task failed.
    """
    from isograph.batch import run_batch

    result = run_batch(tasks, manifest, workers=args.workers, redis_url=args.redis_url, what=what)
    print_batch_summary(command, result, columns)
    print(manifest)
    return 1 if result.failed else 0


def print_batch_summary(command: str, result: object, columns: list[str]) -> None:
    """The batch's table (one line per task: status, seconds, the named result columns) and its counts, on stderr.

    Parameters
    ----------
    command : str
        How the last line names the command.
    result : isograph.batch.BatchResult
    columns : list of str
        Keys of the tasks' result summaries to show.
    """
    rows = []
    for row in result.manifest.itertuples(index=False):
        values = json.loads(row.result) if row.result else {}
        cells = [f"{values[c]:.4g}" if isinstance(values.get(c), float) else str(values.get(c, "")) for c in columns]
        rows.append([row.task_id, row.status, row.seconds, *cells, row.error])
    header = ["task", "status", "seconds", *columns, "error"]
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    for line in [header, *rows]:
        print("  ".join(str(c).ljust(w) for c, w in zip(line, widths)).rstrip(), file=sys.stderr)
    print(f"{command}: {result.ran} task(s) run, {result.skipped} skipped (finished by an earlier run),"
          f" {result.failed} failed; {result.engine}", file=sys.stderr)

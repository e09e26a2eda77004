"""Multi-file writes that commit as a unit: staged, journalled, swapped in, recovered after a crash.

A writer holds the folder's lock (:func:`isograph.dataset.io.folder_lock`), writes everything into a
hidden staging folder, then commits: it writes a journal naming the staged entries, moves each entry into
place (an earlier entry of the same name goes to a backup folder first), and removes the journal, backup
and staging. A process killed before the journal leaves the earlier state untouched (the staging folder
is garbage, removed by the next writer); killed after it, the next writer or reader rolls the commit
forward from the journal, so the folder never mixes a half of one run with a half of another for longer
than that.

Failpoints for tests: with ``ISOGRAPH_FAILPOINT=<name>`` in the environment the process kills itself
(SIGKILL) at that point: ``staged`` (everything staged, no journal yet), ``journal`` (journal written,
nothing moved), ``moved-one`` (the first entry moved), ``moved-all`` (every entry moved, journal still
there).
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from isograph.dataset.io import folder_lock, write_json

__all__ = ["JOURNAL_NAME", "finish_interrupted_commit", "has_pending_commit", "recover", "staged_commit"]

JOURNAL_NAME = ".isograph-commit.json"
_STAGING_PREFIX = ".isograph-staging-"
_BACKUP_PREFIX = ".isograph-backup-"


def _failpoint(name: str) -> None:
    if os.environ.get("ISOGRAPH_FAILPOINT") == name:
        os.kill(os.getpid(), signal.SIGKILL)


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)


def has_pending_commit(folder: str | os.PathLike) -> bool:
    """True when a commit in ``folder`` was interrupted (its journal is still there).

    Parameters
    ----------
    folder : path-like

    Returns
    -------
    bool
    """
    return (Path(folder) / JOURNAL_NAME).exists()


def recover(folder: str | os.PathLike) -> bool:
    """Finish an interrupted commit from its journal and remove stale staging folders (caller holds the lock).

    Parameters
    ----------
    folder : path-like

    Returns
    -------
    bool
        True when an interrupted commit was rolled forward.
    """
    folder = Path(folder)
    journal = folder / JOURNAL_NAME
    rolled = False
    if journal.exists():
        try:
            plan = json.loads(journal.read_text())
            _move_into_place(folder, folder / plan["staging"], folder / plan["backup"], plan["entries"])
            rolled = True
        except (OSError, ValueError, KeyError, TypeError):
            pass  # an unreadable journal (crash while writing it): nothing was moved yet
        journal.unlink(missing_ok=True)
    for stale in folder.glob(f"{_STAGING_PREFIX}*"):
        _remove(stale)
    for stale in folder.glob(f"{_BACKUP_PREFIX}*"):
        _remove(stale)
    return rolled


def finish_interrupted_commit(folder: str | os.PathLike) -> bool:
    """For readers: roll forward a commit a killed writer left in ``folder``, under the lock, if there is one.

    A read-only folder is left as it is (the writer's next run finishes the commit).

    Parameters
    ----------
    folder : path-like

    Returns
    -------
    bool
        True when a commit was rolled forward.
    """
    if not has_pending_commit(folder):
        return False
    try:
        with folder_lock(folder):
            return recover(folder)
    except OSError:
        return False


def _move_into_place(folder: Path, staging: Path, backup: Path, entries: list[str]) -> None:
    """Move each staged entry onto ``folder/entry`` (the earlier one to ``backup``); idempotent."""
    backup.mkdir(exist_ok=True)
    for index, name in enumerate(entries):
        staged, target = staging / name, folder / name
        if not staged.exists() and not staged.is_symlink():
            continue  # moved by an earlier attempt
        if target.exists() or target.is_symlink():
            if (backup / name).exists():
                _remove(target)  # a half-finished earlier attempt: the backup is already the old one
            else:
                os.replace(target, backup / name)
        os.replace(staged, target)
        if index == 0:
            _failpoint("moved-one")
    _failpoint("moved-all")


@contextmanager
def staged_commit(folder: str | os.PathLike) -> Iterator[Path]:
    """Stage writes for ``folder``; when the block ends without an exception, commit them as a unit.

    Everything written into the yielded staging folder replaces, on commit, the entry of the same name
    in ``folder`` (a file or a whole sub-folder); other entries of ``folder`` are kept. On an exception
    nothing of ``folder`` changes and the staging folder is removed. The folder's writers' lock is held for
    the whole block, after an interrupted earlier commit has been finished, so the block may read what is
    there (a manifest to merge) and rely on it.

    Parameters
    ----------
    folder : path-like
        Created if needed.

    Yields
    ------
    Path
        The staging folder (inside ``folder``, so the moves are renames on one file system).
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    with folder_lock(folder):
        recover(folder)
        token = secrets.token_hex(6)
        staging, backup = folder / f"{_STAGING_PREFIX}{token}", folder / f"{_BACKUP_PREFIX}{token}"
        staging.mkdir()
        try:
            yield staging
        except BaseException:
            _remove(staging)
            raise
        # folders first, JSON (manifests, summaries) last: readers see the tables before what describes them
        entries = [p.name for p in sorted(staging.iterdir(), key=lambda p: (p.is_file(), p.suffix == ".json", p.name))]
        _failpoint("staged")
        write_json({"staging": staging.name, "backup": backup.name, "entries": entries}, folder / JOURNAL_NAME)
        _failpoint("journal")
        _move_into_place(folder, staging, backup, entries)
        (folder / JOURNAL_NAME).unlink()
        _remove(backup)
        _remove(staging)

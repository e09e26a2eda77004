"""An explain output folder: its file names, its manifest, its tables, and the one way to write them.

``{folder}/module_explanation_manifest.json`` lists the explained modules; each module's tables are
``{folder}/{module_id}/{gene_driver_table, transcript_polarity_table, high_vs_low_table,
module_eigengene, vae_drivers, ig_attributions}.parquet``. A write is staged and committed as a unit under
the folder's lock (:mod:`isograph.dataset.commit`): the new modules' folders and the merged manifest
replace the old ones together, and the modules of earlier runs stay listed. Every path read is resolved and
must stay inside the folder (and the data root, when there is one).
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pandas as pd

from isograph.dataset.cache import read_parquet, stamp
from isograph.dataset.commit import finish_interrupted_commit, staged_commit
from isograph.dataset.io import require_inside, write_json, write_parquet
from isograph.errors import DatasetError, InputError

__all__ = ["MANIFEST_NAME", "TABLE_FILES", "ExplainStore", "StagedModules", "check_module_id"]

MANIFEST_NAME = "module_explanation_manifest.json"
TABLE_FILES = {
    "gene_driver_table": "gene_driver_table.parquet",
    "transcript_polarity_table": "transcript_polarity_table.parquet",
    "high_vs_low_table": "high_vs_low_table.parquet",
    "eigengene": "module_eigengene.parquet",
    "vae_drivers": "vae_drivers.parquet",
    "ig_attributions": "ig_attributions.parquet",
}


def check_module_id(module_id: object) -> str:
    """``module_id`` if it can name a folder of its own (no separators, not ``.``/``..``, no leading dot).

    Raises
    ------
    InputError
        It cannot: a module ID such as ``../x`` would write outside the output folder.
    """
    text = str(module_id)
    if not text or text.startswith(".") or any(c in text for c in "/\\\0") or text != text.strip():
        raise InputError(f"module ID {text!r} cannot name a folder (no '/', '\\', leading '.', or surrounding"
                         " spaces); rename the module in modules.parquet")
    return text


class ExplainStore:
    """The explain output in ``folder`` (``root``: the data root its paths must stay under; default the folder).

    Parameters
    ----------
    folder : path-like
    root : path-like, optional
    label : str, optional
        How messages name it (default the folder), e.g. ``"data set 'demo'"``.

    Examples
    --------
    >>> store = ExplainStore("/nonexistent/explain")
    >>> store.exists()
    False
    """

    def __init__(self, folder: str | os.PathLike, root: str | os.PathLike | None = None, *,
                 label: str | None = None) -> None:
        self.folder = Path(folder)
        self._root = Path(root).resolve() if root is not None else None
        self._label = label or str(self.folder)

    @property
    def manifest_path(self) -> Path:
        """``{folder}/module_explanation_manifest.json``."""
        return self.folder / MANIFEST_NAME

    def exists(self) -> bool:
        """True when the folder has a manifest."""
        return self.manifest_path.exists()

    def manifest(self) -> dict:
        """The manifest (finishing a commit a killed writer left), re-read when the file changes.

        Raises
        ------
        DatasetError
            Missing, not JSON, not a manifest, or outside the data root.
        """
        self._confined(self.manifest_path)
        finish_interrupted_commit(self.folder)
        return _manifest(str(self.folder), *stamp(self.manifest_path))

    @property
    def module_ids(self) -> list[str]:
        """The explained modules, sorted."""
        return sorted(self.manifest().get("modules", {}))

    def path(self, module_id: str, name: str) -> Path:
        """Where a module's table is (resolved, checked to stay inside the folder and the root).

        Raises
        ------
        DatasetError
            Unknown module or table, or a manifest entry that points outside the folder.
        """
        modules = self.manifest().get("modules", {})
        if module_id not in modules:
            raise DatasetError(f"module {module_id!r} is not in {self._label}; it has"
                               f" {', '.join(sorted(modules)) or 'no explained modules'}")
        files = modules[module_id].get("files", {}) if isinstance(modules[module_id], dict) else {}
        rel = files.get(name) if isinstance(files, dict) else None
        if rel is None:
            raise DatasetError(f"module {module_id} of {self._label} has no {name.replace('_', ' ')}")
        path = self._confined(self.folder / str(rel), inside=self.folder)
        return path

    def table(self, module_id: str, name: str) -> pd.DataFrame:
        """A module's table (``gene_driver_table``, ``transcript_polarity_table``, ``high_vs_low_table``,
        ``eigengene``, ``vae_drivers``, ``ig_attributions``; columns in :class:`~isograph.explain.ExplainResult`),
        cached until the file changes. Do not modify it in place.

        Raises
        ------
        DatasetError
            Unknown module or table, or a damaged file.
        """
        return read_parquet(self.path(module_id, name))

    def config(self, module_id: str) -> dict:
        """The options the module was explained with (every ``ExplainConfig`` field; defaults where not recorded)."""
        from isograph.explain.writers import module_config

        return module_config(self.manifest(), module_id)

    def result(self, module_id: str) -> object:
        """A module as :func:`~isograph.explain.explain_module` returned it, rebuilt from the stored tables.

        Returns
        -------
        ExplainResult
        """
        from isograph.explain.contracts import ExplainConfig, ExplainResult

        entry = self.manifest()["modules"].get(module_id, {})
        groups = self.table(module_id, "eigengene")
        eigengene = pd.Series(groups["eigengene"].to_numpy(), index=pd.Index(groups["sample_id"], name="sample_id"),
                              name="eigengene")
        known = set(ExplainConfig.__dataclass_fields__)
        optional = {name: self.table(module_id, name) if name in entry.get("files", {}) else None
                    for name in ("vae_drivers", "ig_attributions")}
        return ExplainResult(
            module_id=module_id,
            gene_driver_table=self.table(module_id, "gene_driver_table"),
            transcript_polarity_table=self.table(module_id, "transcript_polarity_table"),
            high_vs_low_table=self.table(module_id, "high_vs_low_table"),
            eigengene=eigengene, sample_ids=list(eigengene.index),
            eigengene_source=str(entry.get("eigengene_source", "pc1")),
            variance_explained=entry.get("variance_explained"),
            high_samples=groups.loc[groups["group"].isin(["high", "both"]), "sample_id"].tolist(),
            low_samples=groups.loc[groups["group"].isin(["low", "both"]), "sample_id"].tolist(),
            config=ExplainConfig(**{k: v for k, v in self.config(module_id).items() if k in known}),
            files={name: str(self.path(module_id, name)) for name in entry.get("files", {})},
            **optional,
        )

    def write(self, tables: dict[str, dict[str, pd.DataFrame]], entries: dict[str, dict], run: dict) -> dict:
        """Write modules' tables and the merged manifest, committed as a unit under the folder's lock.

        Parameters
        ----------
        tables : dict
            ``{module_id: {table name: DataFrame}}`` (names of ``TABLE_FILES``).
        entries : dict
            ``{module_id: manifest entry}`` (counts, options; ``files`` is added here).
        run : dict
            The run-level manifest fields (inputs, options, ...); ``modules`` is added here: these modules
            plus every module of an earlier manifest that this run did not redo.

        Returns
        -------
        dict
            ``{module_id: {table name: absolute path}}``.

        Raises
        ------
        InputError
            The folder is a file, a module ID cannot name a folder, or the earlier manifest is damaged (then
            nothing is written).
        """
        for module_id in tables:
            check_module_id(module_id)
        with self.writer() as staged:
            with ThreadPoolExecutor(max_workers=min(8, max(1, len(tables)))) as pool:  # pyarrow releases the GIL
                files = dict(zip(tables, pool.map(lambda item: staged.add(*item), tables.items())))
            staged.finish(entries, run)
        return files

    @contextlib.contextmanager
    def writer(self) -> Iterator[StagedModules]:
        """Stage modules one at a time (from any thread), then commit them with the merged manifest.

        The folder's lock is held from the start of the block to the commit, so modules can be written as
        they are computed. The block must end with :meth:`StagedModules.finish`; on an exception nothing of
        the folder changes.

        Yields
        ------
        StagedModules

        Raises
        ------
        InputError
            The folder is a file, or the earlier manifest is damaged (nothing is written).
        """
        if self.folder.exists() and not self.folder.is_dir():
            raise InputError(f"--output-dir {self.folder} exists and is not a folder")
        with staged_commit(self.folder) as stage:
            staged = StagedModules(self.folder, stage, _previous_modules(self.manifest_path))
            yield staged
            if not staged.finished:
                raise RuntimeError("ExplainStore.writer: the block ended without finish(); nothing was committed")

    def _confined(self, path: Path, *, inside: Path | None = None) -> Path:
        """``path`` resolved, refused unless it stays under the data root and ``inside``."""
        resolved = path.resolve()
        for boundary in (self._root, inside.resolve() if inside is not None else None):
            if boundary is not None:
                require_inside(boundary, path, advice="a data set's files must stay inside it (a symlink or '..'"
                                                          " in the manifest?)")
        return resolved


class StagedModules:
    """Modules staged for one commit of an explain folder (from :meth:`ExplainStore.writer`).

    Parameters
    ----------
    folder : Path
        The explain folder.
    stage : Path
        Its staging folder.
    previous : dict
        The module entries of the folder's earlier manifest.
    """

    def __init__(self, folder: Path, stage: Path, previous: dict) -> None:
        self.folder, self.stage, self.previous = folder, stage, previous
        self.written: dict[str, dict[str, str]] = {}
        self.finished = False
        self._lock = threading.Lock()

    def add(self, module_id: str, frames: dict[str, pd.DataFrame]) -> dict[str, str]:
        """Write one module's tables into the stage (safe to call from several threads).

        Parameters
        ----------
        module_id : str
        frames : dict of str to DataFrame
            ``{table name: DataFrame}`` (names of ``TABLE_FILES``).

        Returns
        -------
        dict of str to str
            ``{table name: absolute path once committed}``.

        Raises
        ------
        InputError
            The module ID cannot name a folder.
        """
        check_module_id(module_id)
        for name, frame in frames.items():
            write_parquet(frame, self.stage / module_id / TABLE_FILES[name])
        with self._lock:
            self.written[module_id] = {name: f"{module_id}/{TABLE_FILES[name]}" for name in frames}
        return {name: str(self.folder / rel) for name, rel in self.written[module_id].items()}

    def finish(self, entries: dict[str, dict], run: dict) -> None:
        """Stage the manifest: ``run`` plus ``modules`` (the staged modules' ``entries`` with their files,
        and every module of the earlier manifest not redone).

        Parameters
        ----------
        entries : dict
            ``{module_id: manifest entry}`` of the staged modules.
        run : dict
            The run-level manifest fields.
        """
        modules = {mid: entry for mid, entry in self.previous.items() if mid not in self.written}
        for module_id, files in self.written.items():
            modules[module_id] = {"files": files, **entries.get(module_id, {})}
        write_json({**run, "modules": dict(sorted(modules.items()))}, self.stage / MANIFEST_NAME)
        self.finished = True


def _previous_modules(manifest_path: Path) -> dict:
    """The module entries of an earlier run's manifest ({} when there is none); a damaged one is an error."""
    if not manifest_path.exists():
        return {}
    try:
        previous = json.loads(manifest_path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InputError(f"{manifest_path}: the manifest of an earlier run is damaged ({type(exc).__name__});"
                         " it lists that run's modules, so nothing was written: repair it, move it away to start"
                         " a new manifest, or choose another --output-dir") from None
    if not isinstance(previous, dict) or not isinstance(previous.get("modules", {}), dict):
        raise InputError(f"{manifest_path}: not an explain-module manifest (no 'modules' object); nothing was written:"
                         " move it away, or choose another --output-dir")
    return previous.get("modules", {})


@functools.lru_cache(maxsize=64)
def _manifest(folder: str, _size: int, _mtime_ns: int) -> dict:
    path = Path(folder) / MANIFEST_NAME
    rerun = f"re-run `isograph explain-module --output-dir {folder}`"
    if _size < 0:
        raise DatasetError(f"{path} not found; {rerun} first")
    try:
        manifest = json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise DatasetError(f"{path}: not valid JSON ({exc.msg} at line {exc.lineno}); {rerun}") from None
    except UnicodeDecodeError:
        raise DatasetError(f"{path}: not a text file; an explain-module manifest is JSON; {rerun}") from None
    except OSError as exc:
        raise DatasetError(f"{path} cannot be read ({exc.strerror}); check its permissions") from None
    if not isinstance(manifest, dict) or not isinstance(manifest.get("modules", {}), dict):
        raise DatasetError(f"{path}: not an explain-module manifest (a JSON object with 'modules'); {rerun}")
    return manifest

"""Data sets under a data root: discovery, safe paths, and cached loading for the app.

A *data set* is a folder below the data root holding a fit (``fit/modules.parquet``), its feature table
and feature meta, and an explain output (``explain/module_explanation_manifest.json``); ``dataset.json``
(as ``isograph demo`` writes it) names the paths, otherwise the demo layout is assumed. Nothing outside
the data root is ever opened: every path is resolved and checked against the root.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from isograph.dataset.cache import cached, read_parquet_columns, stamp
from isograph.dataset.explain_store import MANIFEST_NAME, ExplainStore
from isograph.dataset.io import require_inside, resolve_inside
from isograph.dataset.sample_map_store import SAMPLES_FOLDER, SampleMapStore
from isograph.dataset.structure_store import StructureStore
from isograph.errors import DatasetError

__all__ = ["Dataset", "DatasetError", "find_datasets", "open_dataset", "search_genes"]

DEFAULT_PATHS = {"fit": "fit", "explain": "explain", "feature_table": "features.matrix",
                 "feature_meta": "feature_metadata.parquet", "gtf": "annotation.gtf.gz", "structure": "structure",
                 "sae": "sae", "transcripts": "transcripts.fa.gz", "covariates": "covariates.tsv"}


def _inside(root: Path, path: Path) -> Path:
    return require_inside(root, path, name="the data root", advice="only data under it can be opened")


@dataclass(frozen=True)
class Dataset:
    """One data set: its name (folder relative to the root) and resolved paths."""

    name: str
    root: Path
    paths: dict[str, Path] = field(hash=False, compare=False)
    title: str = ""

    @property
    def file_stem(self) -> str:
        """The data set's folder name, to start the names of files made from it (``demo`` for ``root/demo``; the
        root's own name when the root is the data set)."""
        return (self.root / self.name).resolve().name

    @property
    def explain(self) -> DatasetExplain:
        """The explain output: ``ds.explain.table(module, name)``, ``.result(module)``, ``.config(module)``,
        ``.switch_pairs()``, ``.rerun(module, config)``, ``.write(...)``."""
        return DatasetExplain(self)

    @property
    def structure(self) -> DatasetStructure:
        """The structural annotation: ``ds.structure.table(name)``, ``.annotate(gtf, pairs, source=...)``."""
        return DatasetStructure(self)

    @property
    def sae(self) -> SaeStore:
        """The SAE folder: ``ds.sae.runs()``, ``.run(layer, ef)``, ``.train(layer, config)``."""
        return SaeStore(self)

    @property
    def sample_maps(self) -> SampleMapStore:
        """The stored UMAP maps of the samples (``{dataset}/samples``): ``.load(key)``, ``.save(key, coordinates)``."""
        return SampleMapStore(self.root / self.name / SAMPLES_FOLDER)

    @property
    def module_ids(self) -> list[str]:
        """Explained modules, sorted."""
        return self.explain.module_ids

    def feature_table(self) -> pd.DataFrame:
        """The samples x features table (cached by file identity; do not modify it in place)."""
        from isograph.dataset.artifacts import load_feature_table

        return cached(load_feature_table, self.paths["feature_table"])

    def feature_columns(self, feature_ids: list[str]) -> pd.DataFrame:
        """Only the given features, samples x features float64 (unknown IDs left out): a ``.matrix`` folder
        reads only their rows of its memory map (the gene view needs a gene's few transcripts, not the
        table); other layouts are cut from the cached whole table."""
        from isograph.dataset.matrix import is_matrix, open_matrix

        path = self.paths["feature_table"]
        if is_matrix(path):
            return cached(open_matrix, self.inside(path)).columns(feature_ids)
        table = self.feature_table()
        return table[[f for f in feature_ids if f in table.columns]]

    def version(self) -> str:
        """An identity of the data set's current content, for caches of what the app shows (16 hex digits).

        It changes whenever a writer commits anything the views read: every output is committed by renames
        into its folder (explain, structure, SAE runs), which changes the folder's modification time, and the
        feature table, meta, counts, GTF and ``dataset.json`` are stamped themselves (size, mtime_ns). A
        few ``stat`` calls, no reads.

        Returns
        -------
        str
        """
        watched = [self.paths[key] for key in sorted(self.paths)]
        watched.append(self.paths["explain"] / MANIFEST_NAME)
        sae = self.paths["sae"]
        watched += sorted(sae.glob("ef*")) + sorted(sae.glob("ef*/layer_*")) if sae.is_dir() else []
        watched.append(self.root / self.name / "dataset.json")
        parts = [(str(path), *stamp(path)) for path in watched]
        return hashlib.sha256(repr((self.name, parts)).encode()).hexdigest()[:16]

    def gene_index(self) -> pd.DataFrame:
        """``gene_id, gene_name, module_id, abs_r`` of every explained gene (module order, strongest
        driver first within a module), cached; for search and for finding a gene's module."""
        return _gene_index(self, *stamp(self.explain.manifest_path))

    def genes_outside_modules(self) -> pd.DataFrame:
        """``gene_id, gene_name, module_id`` ("") of the feature table's genes that no module holds, cached; so
        the gene search can say that such a gene exists but the fit put it in no module."""
        path = self.paths["feature_meta"]
        return _genes_outside_modules(self, str(path), *stamp(path), *stamp(self.explain.manifest_path))

    def module_of(self, gene_id: str) -> str | None:
        """The module a gene belongs to (None if it is in none)."""
        index = self.gene_index()
        hits = index["module_id"].to_numpy(dtype=object)[index["gene_id"].to_numpy(dtype=object) == gene_id]
        return str(hits[0]) if len(hits) else None

    def gtf_files(self) -> list[Path]:
        """GTF files (``.gtf``, ``.gtf.gz``) under the data root, the data set's own first; a symlink (of the file or a
        folder above it) is listed only when it resolves inside the root."""
        found = sorted(p for pattern in ("*.gtf", "*.gtf.gz", "*/*.gtf", "*/*.gtf.gz", "*/*/*.gtf", "*/*/*.gtf.gz")
                       for p in self.root.glob(pattern)
                       if p.is_file() and resolve_inside(self.root, p) is not None)  # symlinks only if they stay inside
        own = self.paths.get("gtf")
        return sorted(found, key=lambda p: (p != own, str(p)))

    def inside(self, path: str | os.PathLike) -> Path:
        """``path`` resolved, if it lies under the data root.

        Raises
        ------
        DatasetError
            It does not (``..``, absolute paths elsewhere, symlinks out).
        """
        return _inside(self.root, Path(path))

    def transcript_expression(self, transcript_ids: list[str]) -> pd.DataFrame | None:
        """log2 CPM of some transcripts (samples x transcripts), from the data set's counts; None without counts.

        ``log2((count + 0.5) / (library size + 1) * 1e6)`` (limma-voom's log-CPM), library size = the
        sample's total count over all transcripts (computed once per counts file). Only the asked-for
        columns are read.
        """
        path = self.paths.get("counts")
        if path is None or not path.exists():
            return None
        counts = read_parquet_columns(path, tuple(transcript_ids))
        library = cached(_library_sizes, path).reindex(counts.index)
        return np.log2((counts.astype(float) + 0.5).div(library + 1.0, axis=0) * 1e6)

    def transcript_models(self, gene_id: str) -> pd.DataFrame:
        """Transcript models of one gene from the data set's GTF (no rows, with the models' columns, without a GTF)."""
        from isograph.structure.models import MODEL_COLUMNS

        models = self.structure.models()
        return pd.DataFrame(columns=list(MODEL_COLUMNS)) if models is None else models[models["gene_id"] == gene_id]


#: The hidden states an SAE training job in the app may hold (tokens x hidden size x float32).
MAX_ACTIVATION_BYTES = 2 * 2**30


def _human_size(n_bytes: int) -> str:
    return f"{n_bytes / 2**30:.1f} GiB" if n_bytes >= 2**30 else f"{n_bytes / 2**20:.2f} MiB"


class DatasetExplain(ExplainStore):
    """``ds.explain``: the data set's explain output (:class:`ExplainStore` of ``explain/``, confined to the
    data root), plus what needs the rest of the data set: switch pairs and an in-memory re-run."""

    def __init__(self, dataset: Dataset) -> None:
        super().__init__(dataset.paths["explain"], root=dataset.root, label=f"data set {dataset.name!r}")
        self._ds = dataset

    def switch_pairs(self, module_ids: list[str] | None = None, *, min_switch_strength: float = 0.0) -> pd.DataFrame:
        """The called switches' pairs (:func:`isograph.structure.consequences.switch_pairs_from_explain`)."""
        from isograph.structure.consequences import switch_pairs_from_explain

        return switch_pairs_from_explain(self, module_ids=module_ids, min_switch_strength=min_switch_strength)

    def rerun(self, module_id: str, config: object) -> object:
        """Explain one module again with other options, in memory (nothing is written); its ExplainResult. A
        ``.matrix`` feature table is streamed (only the module's features are read), other layouts come from the
        cached whole table."""
        from isograph.dataset.matrix import is_matrix
        from isograph.explain import explain_module

        path = self._ds.paths["feature_table"]
        table = path if is_matrix(path) else self._ds.feature_table()
        return explain_module(self._ds.paths["fit"], table, self._ds.paths["feature_meta"],
                              module_ids=[module_id], config=config)[module_id]


class DatasetStructure(StructureStore):
    """``ds.structure``: the data set's structural annotation (:class:`StructureStore` of ``structure/``,
    confined to the data root) and the GTFs under the root it can use."""

    def __init__(self, dataset: Dataset) -> None:
        super().__init__(dataset.paths["structure"], root=dataset.root)
        self._ds = dataset

    def gtf(self, relative: str | os.PathLike) -> Path:
        """A GTF named relative to the data root, resolved and checked to lie inside it."""
        return self._ds.inside(self._ds.root / relative)

    def models(self, relative: str | os.PathLike | None = None) -> pd.DataFrame | None:
        """Transcript models of a GTF under the root (default: the data set's own; None when it has none), cached."""
        if relative is not None:
            return cached(_models, self.gtf(relative))
        own = self._ds.paths.get("gtf")
        return cached(_models, self._ds.inside(own)) if own is not None and own.exists() else None

    def annotate(self, gtf: str | os.PathLike, pairs: pd.DataFrame, *, source: str, progress=None) -> dict:
        """Annotate ``pairs`` with a GTF under the root and add them to ``structure/`` (committed as a unit)."""
        from isograph.structure.annotate import annotate_switches

        self.path("pairs")  # refuses a structure folder that resolves outside the root
        return annotate_switches(self.gtf(gtf), pairs, self.folder, source=source, progress=progress)


class SaeStore:
    """``ds.sae``: the data set's SAE folder (``sae/``): its language model, sequences and runs."""

    def __init__(self, dataset: Dataset) -> None:
        self._ds = dataset

    @property
    def folder(self) -> Path:
        """``sae/`` of the data set (inside the data root)."""
        return self._ds.paths["sae"]

    @property
    def lm(self) -> Path:
        """The data set's DNA language model folder (``sae/lm``), resolved.

        Raises
        ------
        DatasetError
            It resolves outside the data root (a symlink out).
        """
        return self._ds.inside(self.folder / "lm")

    def has_lm(self) -> bool:
        """True when ``sae/lm`` holds a model."""
        return (self.lm / "config.json").exists()

    def runs(self) -> list:
        """The SAE runs of ``sae/`` (:func:`isograph.sae.runs.find_runs`; a run behind a symlink out of ``sae/``
        is not one), listed afresh each call."""
        from isograph.sae.runs import find_runs

        return find_runs(self.folder) if self.folder.is_dir() else []

    def run(self, layer_idx: int, expansion_factor: int) -> object:
        """One run.

        Raises
        ------
        DatasetError
            No such run.
        """
        for run in self.runs():
            if (run.layer_idx, run.expansion_factor) == (int(layer_idx), int(expansion_factor)):
                return run
        raise DatasetError(f"no SAE run ef{expansion_factor}/layer_{layer_idx} in {self._ds.name!r}")

    def run_by_key(self, key: str | None) -> object:
        """The run called ``key`` (``ef{N}/layer_{L}``, as a run select offers it).

        Raises
        ------
        DatasetError
            No such run (the message lists the runs there are).
        """
        runs = {run.key: run for run in self.runs()}
        if key not in runs:
            raise DatasetError(f"no SAE run {key!r} in data set {self._ds.name!r}; runs: {', '.join(runs) or 'none'}")
        return runs[key]

    def transcripts(self) -> dict[str, str]:
        """The data set's transcript sequences by ``transcript_id`` (its FASTA, ``transcripts.fa.gz`` by default;
        read once per file version).

        Raises
        ------
        DatasetError
            The data set has no transcript FASTA.
        """
        path = self._ds.paths.get("transcripts")
        if path is None or not path.exists():
            raise DatasetError(f"data set {self._ds.name!r} has no transcript FASTA (transcripts.fa.gz, or 'transcripts'"
                               " in dataset.json); variants need the transcripts' sequences")
        return cached(_transcript_sequences, self._ds.inside(path))

    def sequences(self) -> Path:
        """The sequence table the runs are built from (of the first run, else ``sae/sequences.parquet``).

        Raises
        ------
        DatasetError
            There is none.
        """
        runs = self.runs()
        path = runs[0].path("sequences") if runs else self._ds.inside(self.folder / "sequences.parquet")
        if not path.exists():
            raise DatasetError(f"no sequence table in {self.folder.name}/ (sequences.parquet)")
        return path

    def train(self, layer_idx: int, config: object, *, progress=None,
              max_activation_bytes: int = MAX_ACTIVATION_BYTES) -> dict:
        """Embed the sequences with the data set's model, train an SAE and build its graph (a new run).

        Refuses, before any work, sequences whose hidden states would exceed ``max_activation_bytes``
        (tokens x hidden size x 4 bytes; tokens counted as 6-mers plus one per sequence).
        """
        from isograph.sae.runs import build_run

        sequences = self.sequences()
        table = pd.read_parquet(sequences)
        hidden = int(json.loads((self.lm / "config.json").read_text()).get("hidden_size", 0)) if self.has_lm() else 0
        n_tokens = int(table["sequence"].str.len().sum()) // 6 + len(table)
        needed = n_tokens * hidden * 4
        if needed > max_activation_bytes:
            raise DatasetError(f"{sequences.name}: {n_tokens:,} tokens x {hidden} dimensions need {_human_size(needed)} of"
                               f" hidden states, more than the {_human_size(max_activation_bytes)} a training job may use;"
                               " use fewer or shorter"
                               " sequences, or `isograph sae embed` + `isograph sae train` on a bigger machine")
        return build_run(self.folder, self.lm, table, layer_idx=int(layer_idx), config=config, sequences_path=sequences,
                         gene_column="gene_name" if "gene_name" in table else "gene_id", progress=progress)


def search_genes(index: pd.DataFrame, text: str | None, *, module_id: str | None = None,
                 limit: int = 25) -> pd.DataFrame:
    """Genes whose ID or name contains ``text`` (case-insensitive), best matches first.

    Parameters
    ----------
    index : DataFrame
        As :meth:`Dataset.gene_index` (``gene_id, gene_name, module_id, abs_r``).
    text : str or None
        What the user typed; empty gives the strongest drivers.
    module_id : str, optional
        Genes of this module come first.
    limit : int, default 25

    Returns
    -------
    DataFrame
        Up to ``limit`` rows of ``index``, ordered by: exact match, prefix match, in ``module_id``,
        then |r| (descending).

    Examples
    --------
    >>> index = pd.DataFrame({"gene_id": ["G1", "G2", "G3"], "gene_name": ["ABC1", "XABC", "ABC"],
    ...                       "module_id": ["M000", "M000", "M001"], "abs_r": [0.9, 0.8, 0.5]})
    >>> search_genes(index, "abc")["gene_name"].tolist()
    ['ABC', 'ABC1', 'XABC']
    >>> search_genes(index, "abc", module_id="M000")["gene_name"].tolist()
    ['ABC', 'ABC1', 'XABC']
    >>> search_genes(index, "zz").empty
    True
    """
    text = (text or "").strip().lower()
    ids = index["gene_id"].to_numpy(dtype=object).astype(str)
    names = index["gene_name"].to_numpy(dtype=object)
    names = np.where(pd.isna(names), ids, names).astype(str)
    ids_l, names_l = np.char.lower(ids), np.char.lower(names)
    if text:
        hit = (np.char.find(ids_l, text) >= 0) | (np.char.find(names_l, text) >= 0)
        exact = (ids_l == text) | (names_l == text)
        prefix = np.char.startswith(ids_l, text) | np.char.startswith(names_l, text)
    else:
        hit = exact = prefix = np.ones(len(index), dtype=bool)
    in_module = index["module_id"].to_numpy(dtype=object) == module_id if module_id else np.zeros(len(index), bool)
    rows = np.flatnonzero(hit)
    order = np.lexsort((-index["abs_r"].to_numpy(dtype=float)[rows], ~in_module[rows], ~prefix[rows], ~exact[rows]))
    return index.iloc[rows[order[:limit]]].reset_index(drop=True)


@functools.lru_cache(maxsize=16)
def _genes_outside_modules(dataset: Dataset, path: str, *_stamps: int) -> pd.DataFrame:
    meta = read_parquet_columns(path, ["gene_id", "gene_name"]) if Path(path).exists() else pd.DataFrame()
    if "gene_id" not in meta:
        return pd.DataFrame(columns=["gene_id", "gene_name", "module_id", "abs_r"])
    genes = meta.drop_duplicates("gene_id")
    genes = genes[~genes["gene_id"].isin(set(dataset.gene_index()["gene_id"]))]
    return pd.DataFrame({"gene_id": genes["gene_id"].to_numpy(), "module_id": "", "abs_r": np.nan,
                         "gene_name": genes["gene_name"].to_numpy() if "gene_name" in genes else genes["gene_id"]})


def _transcript_sequences(path: str) -> dict[str, str]:
    """Sequences of a FASTA by ID."""
    from isograph.sae.sequences import read_fasta

    table = read_fasta(path)
    return dict(zip(table["seq_id"], table["sequence"]))


def _library_sizes(path: str) -> pd.Series:
    """Each sample's total count over all transcripts of a counts table."""
    counts = pd.read_parquet(path)
    counts = counts.set_index("sample_id") if "sample_id" in counts.columns else counts
    return counts.sum(axis=1, numeric_only=True)


@functools.lru_cache(maxsize=16)
def _gene_index(dataset: Dataset, _size: int, _mtime_ns: int) -> pd.DataFrame:
    parts = []
    for mid in dataset.module_ids:
        try:
            table = dataset.explain.table(mid, "gene_driver_table")
        except DatasetError:  # a damaged module is left out of the search; its page says what is wrong
            continue
        parts.append(pd.DataFrame({"gene_id": table["gene_id"], "gene_name": table["gene_name"], "module_id": mid,
                                   "abs_r": table["r"].abs()}))
    if not parts:
        return pd.DataFrame(columns=["gene_id", "gene_name", "module_id", "abs_r"])
    return pd.concat(parts, ignore_index=True).drop_duplicates("gene_id")


def _models(gtf: str) -> pd.DataFrame:
    from isograph.structure.cache import load_transcript_models

    return load_transcript_models(gtf).models


def _dataset(root: Path, folder: Path) -> Dataset | None:
    spec_file = folder / "dataset.json"
    spec = {}
    if spec_file.exists():
        try:
            spec = json.loads(spec_file.read_text())
        except json.JSONDecodeError:
            return None
    rel = {**DEFAULT_PATHS, **{k: v for k, v in spec.get("paths", {}).items() if isinstance(v, str)}}
    if "feature_table" not in spec.get("paths", {}) and not (folder / rel["feature_table"]).exists():
        rel["feature_table"] = "features.parquet"  # the manual's layout, when there is no .matrix folder
    if not (folder / rel["explain"] / MANIFEST_NAME).exists():  # not a data set: skip resolving its paths
        return None
    try:
        paths = {k: _inside(root, folder / v) for k, v in rel.items()}
    except DatasetError:
        return None
    if not (paths["explain"] / MANIFEST_NAME).exists() or not paths["feature_table"].exists():
        return None
    name = folder.relative_to(root).as_posix() if folder != root else "."
    return Dataset(name=name, root=root, paths=paths, title=str(spec.get("name", name)))


def find_datasets(data_root: str | os.PathLike, *, max_depth: int = 3) -> list[Dataset]:
    """Data sets below ``data_root`` (the root itself included), sorted by name.

    Parameters
    ----------
    data_root : path
    max_depth : int, default 3
        How deep to look.

    Returns
    -------
    list of Dataset
    """
    root = Path(data_root).resolve()
    if not root.is_dir():
        return []
    found = []
    for depth in range(max_depth + 1):
        for folder in ([root] if depth == 0 else root.glob("/".join(["*"] * depth))):
            if folder.is_dir() and not folder.is_symlink():
                dataset = _dataset(root, folder)
                if dataset is not None:
                    found.append(dataset)
    return sorted({d.name: d for d in found}.values(), key=lambda d: d.name)


def open_dataset(data_root: str | os.PathLike, name: str | None) -> Dataset:
    """The data set called ``name`` (a folder relative to the root); the first one when None.

    Parameters
    ----------
    data_root : path
    name : str or None
        As listed by :func:`find_datasets` (``.`` for the root itself).

    Returns
    -------
    Dataset

    Raises
    ------
    DatasetError
        No data set of that name under the root (names with ``..`` or absolute paths are refused).
    """
    datasets = find_datasets(data_root)
    if not datasets:
        raise DatasetError(f"no data set under {Path(data_root).resolve()}; run `isograph demo --out` there")
    if name in (None, ""):
        return datasets[0]
    for dataset in datasets:
        if dataset.name == name:
            return dataset
    raise DatasetError(f"no data set {name!r} under the data root; available: {', '.join(d.name for d in datasets)}")

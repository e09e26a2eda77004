"""Load and validate fit artifacts, feature tables and feature metadata (the data contracts).

Every contract violation raises :class:`~isograph.errors.InputError` with one line naming the file and
the column or row at fault; recoverable oddities are reported with :class:`~isograph.errors.InputWarning`.
Row numbers in messages are 1-based data rows; for text files the line number (header = line 1) is
given too.

Fit artifact directory
    ``modules.parquet`` (``gene_id``, ``module_id``) and ``feature_scores.parquet`` (``feature_id,
    gene_id, feature_type, n_transcripts`` then one float column per sample); a legacy
    ``feature_scores.parquet`` with only ``gene_id`` + sample columns is read as switch rows. The same
    scores may be a ``feature_scores.matrix`` folder (:mod:`isograph.dataset.matrix`, the meta columns in its
    ``features.parquet``), which is never read whole.
Feature table
    samples x features (index or ``sample_id`` column), parquet, TSV or CSV.
Feature meta
    ``feature_id, gene_id, feature_type`` required; ``gene_name, transcript_id, exon_id, event_id,
    source_coordinate`` optional. ``feature_type == "transcript_usage"`` marks transcript usage fractions.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from isograph.dataset.feature_formats import H5AD_SUFFIX, feature_table_format, read_feature_frame, read_h5ad_var
from isograph.dataset.io import read_table
from isograph.dataset.matrix import FeatureMatrix, is_matrix, open_matrix
from isograph.errors import InputError, warn

__all__ = [
    "FEATURE_META_OPTIONAL",
    "FEATURE_META_REQUIRED",
    "FitArtifacts",
    "fit_scores_file",
    "TRANSCRIPT_USAGE",
    "load_annotation_table",
    "load_feature_meta",
    "load_feature_table",
    "load_fit_artifacts",
    "load_module_score_table",
    "resolve_module_ids",
    "shared_samples",
]

SCORE_META_COLUMNS = ("feature_id", "gene_id", "feature_type", "n_transcripts")
SCORE_FEATURE_TYPES = ("switch", "abundance")
FEATURE_META_REQUIRED = ("feature_id", "gene_id", "feature_type")
FEATURE_META_OPTIONAL = ("gene_name", "transcript_id", "exon_id", "event_id", "source_coordinate")
TRANSCRIPT_USAGE = "transcript_usage"
MIN_SHARED_SAMPLES = 10
TableSource = pd.DataFrame | str | os.PathLike


@dataclass
class FitArtifacts:
    """A validated IsoGraph fit directory.

    Attributes
    ----------
    artifact_dir : Path
    modules : DataFrame
        ``gene_id`` (str), ``module_id`` (str); one row per gene.
    score_meta : DataFrame
        ``feature_id, gene_id, feature_type, n_transcripts``; one row per feature-score row.
    scores : ndarray, shape (n_score_rows, n_fit_samples)
        Feature scores, rows aligned with ``score_meta``, NaN for missing values: float64 read from
        ``feature_scores.parquet``, or the memory map of ``feature_scores.matrix`` (float64 or float32; read
        rows with :meth:`score_rows`, which touches only them).
    sample_ids : list of str
        Fit sample IDs (the sample columns of the feature scores, in file order).
    legacy : bool
        True when ``feature_scores.parquet`` had only ``gene_id`` + sample columns.
    fit_config : dict or None
        ``fit_config.json`` when present.
    checkpoint_path : Path or None
        ``vae_checkpoint.pt`` when present.
    scores_path : Path or None
        The feature-score file read (``feature_scores.parquet`` or ``feature_scores.matrix``).
    """

    artifact_dir: Path
    modules: pd.DataFrame
    score_meta: pd.DataFrame
    scores: np.ndarray
    sample_ids: list[str]
    legacy: bool = False
    fit_config: dict | None = None
    checkpoint_path: Path | None = None
    scores_path: Path | None = None
    score_matrix: FeatureMatrix | None = field(default=None, repr=False)
    _module_genes: dict[str, list[str]] | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if self.scores_path is None:
            self.scores_path = Path(self.artifact_dir) / "feature_scores.parquet"

    @property
    def module_ids(self) -> list[str]:
        """All module IDs, sorted (``M000`` is the largest module)."""
        return sorted(self.modules["module_id"].unique().tolist())

    def score_rows(self, rows: np.ndarray) -> np.ndarray:
        """The given feature-score rows over all fit samples, float64, read in file order (a ``.matrix`` fit
        touches only these rows on disk).

        Parameters
        ----------
        rows : ndarray of int
            Positions in ``score_meta``.

        Returns
        -------
        ndarray, shape (len(rows), n_fit_samples)
        """
        if self.score_matrix is not None:
            return self.score_matrix.read_rows(rows)
        return np.asarray(self.scores[np.asarray(rows, dtype=np.int64)], dtype=np.float64)

    def module_genes(self, module_id: str) -> list[str]:
        """Gene IDs of one module, in file order."""
        if self._module_genes is None:  # built whole, then assigned: safe when threads call this at once
            self._module_genes = {str(mid): genes.tolist()
                                  for mid, genes in self.modules.groupby("module_id", sort=False)["gene_id"]}
        return self._module_genes.get(module_id, [])


def _where(source: TableSource | None, row: int) -> str:
    """'row N' (1-based) plus the line number for text files; 'column N' when ``source`` is None (headers)."""
    if source is None:
        return f"column {row + 1}"
    if isinstance(source, (str, os.PathLike)) and _is_text(source):
        return f"row {row + 1} (line {row + 2})"
    return f"row {row + 1}"


def _is_text(path: str | os.PathLike) -> bool:
    try:
        return feature_table_format(path) in ("tsv", "csv")
    except InputError:
        return False


def _frame(source: TableSource, what: str) -> tuple[pd.DataFrame, str]:
    if isinstance(source, pd.DataFrame):
        return source, f"{what} (DataFrame)"
    if isinstance(source, (str, os.PathLike)):
        if what == "feature table":  # any layout: .matrix folder, .h5ad, parquet, text
            return read_feature_frame(source, what=what), str(source)
        if what == "feature meta" and Path(source).suffix.lower() == H5AD_SUFFIX:
            return read_h5ad_var(source), str(source)
        return read_table(source, what=what), str(source)
    raise InputError(f"{what} must be a pandas DataFrame or a file path; got {type(source).__name__}")


def _require_columns(df: pd.DataFrame, required: tuple[str, ...], name: str, hint: str = "") -> None:
    missing = [c for c in required if c not in df.columns]
    if missing:
        have = ", ".join(map(str, list(df.columns)[:8])) + (" ..." if df.shape[1] > 8 else "")
        raise InputError(
            f"{name}: missing required column(s) {', '.join(missing)} (found: {have or 'no columns'})"
            + (f"; {hint}" if hint else "")
        )


def _require_no_missing(df: pd.DataFrame, columns: tuple[str, ...], name: str, source: TableSource) -> None:
    for col in columns:
        bad = np.flatnonzero(df[col].isna().to_numpy())
        if bad.size:
            raise InputError(
                f"{name}: column {col!r} is empty at {_where(source, int(bad[0]))}"
                f" ({bad.size} empty value(s) in all); fill it in or drop the row"
            )


def _require_unique(values: pd.Series | pd.Index, name: str, label: str, source: TableSource | None) -> None:
    values = pd.Series(np.asarray(values))
    dup = values.duplicated(keep=False).to_numpy()
    if dup.any():
        first = values[dup].iloc[0]
        rows = np.flatnonzero((values == first).to_numpy())[:3]
        where = ", ".join(_where(source, int(r)) for r in rows)
        raise InputError(
            f"{name}: duplicate {label} {first!r} at {where} ({int(dup.sum())} duplicated entries);"
            f" each {label} must appear once"
        )


def _require_numeric(df: pd.DataFrame, name: str, source: TableSource, what: str = "column") -> None:
    """Every column numeric (int/uint/float); names the first bad column, row and value."""
    kinds = np.array([dt.kind for dt in df.dtypes])
    bad = np.flatnonzero(~np.isin(kinds, list("iuf")))
    if bad.size == 0:
        return
    col = df.columns[int(bad[0])]
    values = df[col]
    coerced = pd.to_numeric(values, errors="coerce")
    offending = np.flatnonzero((coerced.isna() & values.notna()).to_numpy())
    if offending.size:
        r = int(offending[0])
        detail = f" at {_where(source, r)}: {values.iloc[r]!r}"
    else:
        detail = f" (dtype {values.dtype})"
    raise InputError(
        f"{name}: {what} {col!r} is not numeric{detail}; values must be numbers (leave a cell empty or NaN"
        f" for a missing value); {bad.size} non-numeric {what}(s) in all"
    )


def _sample_indexed(df: pd.DataFrame, name: str) -> pd.DataFrame:
    """Samples as the index: the ``sample_id`` column, else a named/non-range index, else column 1."""
    if "sample_id" in df.columns:
        df = df.set_index("sample_id")
    elif not isinstance(df.index, pd.RangeIndex):
        pass
    elif df.shape[1] and not pd.api.types.is_numeric_dtype(df.iloc[:, 0]):
        df = df.set_index(df.columns[0])
    else:
        raise InputError(
            f"{name}: no sample IDs; add a 'sample_id' column (or store sample IDs as the index or the"
            " first column)"
        )
    if df.index.hasnans:
        raise InputError(f"{name}: a sample ID is empty at row {int(np.flatnonzero(df.index.isna())[0]) + 1}")
    df.index = df.index.astype(str)
    df.index.name = "sample_id"
    df.columns = df.columns.astype(str)
    return df


def _samples_by_features(source: TableSource, what: str, label: str) -> pd.DataFrame:
    df, name = _frame(source, what)
    df = _sample_indexed(df, name)
    if df.shape[1] == 0:
        raise InputError(f"{name}: no {label} columns besides the sample IDs")
    _require_unique(df.index, name, "sample ID", source)
    _require_unique(df.columns, name, f"{label} column", None)
    _require_numeric(df, name, source, what=f"{label} column")
    values = df.astype(np.float64)
    infinite = np.isinf(values.to_numpy())
    if infinite.any():
        row, col = np.argwhere(infinite)[0]
        warn(f"{name}: {int(infinite.sum())} infinite value(s) treated as missing (e.g. sample {values.index[row]!r},"
             f" {label} {values.columns[col]!r})")
        values = values.mask(infinite)
    if np.isnan(values.to_numpy()).all():
        raise InputError(f"{name}: every value is missing; the {label} columns hold no numbers")
    return values


def load_feature_table(source: TableSource) -> pd.DataFrame:
    """Load and validate the feature table.

    Parameters
    ----------
    source : DataFrame or path
        Samples x features: one row per sample (``sample_id`` column or the index), one numeric column
        per feature (column name = ``feature_id``). Parquet, TSV or CSV (text may be gzipped), an AnnData
        ``.h5ad`` file (samples as observations) or a ``.matrix`` folder (the fast layout,
        :mod:`isograph.dataset.matrix`); see :mod:`isograph.dataset.feature_formats`.

    Returns
    -------
    DataFrame
        float64, index ``sample_id`` (str), columns = feature IDs (str). NaN marks a missing value; an
        infinite value is made NaN with a warning.

    Raises
    ------
    InputError
        No sample IDs, duplicate sample or feature IDs, a non-numeric value, every value missing, unreadable
        file.
    """
    return _samples_by_features(source, "feature table", "feature")


def load_module_score_table(source: TableSource) -> pd.DataFrame:
    """Load a precomputed eigengene table: samples x modules (column name = ``module_id``), numeric.

    Returns a float64 DataFrame indexed by ``sample_id``. Raises :class:`InputError` as
    :func:`load_feature_table` does.
    """
    return _samples_by_features(source, "module score table", "module")


def load_feature_meta(source: TableSource) -> pd.DataFrame:
    """Load and validate feature metadata.

    Parameters
    ----------
    source : DataFrame or path
        One row per feature: ``feature_id, gene_id, feature_type`` (required), ``gene_name,
        transcript_id, exon_id, event_id, source_coordinate`` (optional), any further columns; or an
        AnnData ``.h5ad`` file, whose ``.var`` holds them (``feature_id`` = its ``var_names``).

    Returns
    -------
    DataFrame
        Required columns as str, optional columns present (missing ones added as empty), RangeIndex.

    Raises
    ------
    InputError
        Missing required column, empty required value, duplicate ``feature_id``.

    Warns
    -----
    InputWarning
        Optional columns are missing.
    """
    df, name = _frame(source, "feature meta")
    if "feature_id" not in df.columns and df.index.name == "feature_id":
        df = df.reset_index()
    _require_columns(df, FEATURE_META_REQUIRED, name, "feature meta needs feature_id, gene_id, feature_type")
    df = df.reset_index(drop=True)
    _require_no_missing(df, FEATURE_META_REQUIRED, name, source)
    _require_unique(df["feature_id"], name, "feature_id", source)
    df = df.copy()
    for col in FEATURE_META_REQUIRED:
        df[col] = df[col].astype(str)
    missing_optional = [c for c in FEATURE_META_OPTIONAL if c not in df.columns]
    if missing_optional:
        warn(f"{name}: optional column(s) {', '.join(missing_optional)} absent; tables will leave them empty")
        for col in missing_optional:
            df[col] = pd.Series(pd.NA, index=df.index, dtype="string")
    return df


def _scores_from_parquet(path: Path) -> tuple[pd.DataFrame, np.ndarray, list[str], bool, None]:
    """(meta, scores, sample IDs, legacy, None) of a ``feature_scores.parquet`` (read whole)."""
    raw = read_table(path, what="feature scores")
    sname = str(path)
    raw = raw.reset_index(drop=True)
    raw.columns = raw.columns.astype(str)
    legacy = "feature_id" not in raw.columns
    if legacy:
        _require_columns(raw, ("gene_id",), sname, "need feature_id, gene_id, feature_type, n_transcripts")
        _require_no_missing(raw, ("gene_id",), sname, path)
        gene = raw["gene_id"].astype(str)
        meta = pd.DataFrame({"feature_id": gene + "::switch", "gene_id": gene, "feature_type": "switch",
                             "n_transcripts": np.nan})
        sample_cols = [c for c in raw.columns if c != "gene_id"]
    else:
        _require_columns(raw, ("feature_id", "gene_id", "feature_type"), sname)
        _require_no_missing(raw, ("feature_id", "gene_id", "feature_type"), sname, path)
        meta = pd.DataFrame({c: raw[c].astype(str) for c in ("feature_id", "gene_id", "feature_type")})
        meta["n_transcripts"] = raw["n_transcripts"].astype(float) if "n_transcripts" in raw else np.nan
        sample_cols = [c for c in raw.columns if c not in SCORE_META_COLUMNS]
    if not sample_cols:
        raise InputError(f"{sname}: no sample columns; expected one float column per sample")
    _require_unique(pd.Index(sample_cols), sname, "sample column", None)
    values = raw[sample_cols]
    _require_numeric(values, sname, path, what="sample column")
    return meta, values.to_numpy(dtype=np.float64), sample_cols, legacy, None


def _scores_from_matrix(path: Path) -> tuple[pd.DataFrame, np.ndarray, list[str], bool, FeatureMatrix]:
    """(meta, scores as the memory map, sample IDs, False, the matrix) of a ``feature_scores.matrix`` folder:
    only the IDs and the meta columns are read."""
    matrix = open_matrix(path)
    info = matrix.feature_info(["gene_id", "feature_type", "n_transcripts"])
    _require_no_missing(info, ("gene_id", "feature_type"), str(path / "features.parquet"), path)
    meta = pd.DataFrame({"feature_id": matrix.feature_ids.astype(str), "gene_id": info["gene_id"].astype(str),
                         "feature_type": info["feature_type"].astype(str),
                         "n_transcripts": info["n_transcripts"].astype(float)})
    return meta, matrix.values, [str(s) for s in matrix.sample_ids], False, matrix


def fit_scores_file(artifact_dir: str | os.PathLike) -> Path | None:
    """The feature-score file a fit folder is read from: ``feature_scores.matrix`` or ``feature_scores.parquet``,
    whichever was written last when both are there (``isograph fit`` writes both, the matrix last; a
    parquet rewritten afterwards wins); None when neither is."""
    root = Path(artifact_dir)
    parquet, matrix = root / "feature_scores.parquet", root / "feature_scores.matrix"
    values = matrix / "values.npy"
    if not values.exists():
        return parquet if parquet.exists() else None
    if parquet.exists() and parquet.stat().st_mtime_ns > values.stat().st_mtime_ns:
        return parquet
    return matrix


def load_fit_artifacts(artifact_dir: str | os.PathLike) -> FitArtifacts:
    """Load and validate an IsoGraph fit artifact directory.

    Parameters
    ----------
    artifact_dir : path
        Folder with ``modules.parquet`` and ``feature_scores.parquet`` and/or ``feature_scores.matrix``
        (see :func:`fit_scores_file` for which is read), and optionally ``fit_config.json``,
        ``vae_checkpoint.pt``. A ``.matrix`` is not read whole: ``FitArtifacts.scores`` is its memory map.

    Returns
    -------
    FitArtifacts

    Raises
    ------
    InputError
        Missing folder/file/column, empty IDs, a gene in two modules, duplicate feature IDs or sample
        columns, an unknown ``feature_type``, non-numeric scores.

    Warns
    -----
    InputWarning
        Module genes without any feature-score row.
    """
    root = Path(artifact_dir)
    if not root.is_dir():
        raise InputError(
            f"artifact directory not found: {root}; it must contain modules.parquet and feature_scores.parquet"
        )
    modules_path, scores_file = root / "modules.parquet", fit_scores_file(root)
    for path in (modules_path, scores_file or root / "feature_scores.parquet"):
        if not path.exists():
            raise InputError(
                f"{path} not found; an IsoGraph fit directory must contain modules.parquet and"
                " feature_scores.parquet (run `isograph fit` to make one)"
            )

    modules = read_table(modules_path, what="modules table")
    mname = str(modules_path)
    _require_columns(modules, ("gene_id", "module_id"), mname)
    modules = modules.reset_index(drop=True)
    _require_no_missing(modules, ("gene_id", "module_id"), mname, modules_path)
    modules = pd.DataFrame(
        {"gene_id": modules["gene_id"].astype(str), "module_id": modules["module_id"].astype(str)}
    )
    _require_unique(modules["gene_id"], mname, "gene_id", modules_path)
    if modules.empty:
        raise InputError(f"{mname}: no rows; the fit found no modules")

    read = _scores_from_matrix if is_matrix(scores_file) else _scores_from_parquet
    meta, scores, sample_ids, legacy, score_matrix = read(scores_file)
    sname = str(scores_file)
    bad = np.flatnonzero(~meta["feature_type"].isin(SCORE_FEATURE_TYPES).to_numpy())
    if bad.size:
        r = int(bad[0])
        raise InputError(
            f"{sname}: feature_type {meta['feature_type'].iloc[r]!r} at row {r + 1} is not one of"
            f" {', '.join(SCORE_FEATURE_TYPES)}"
        )
    _require_unique(meta["feature_id"], sname, "feature_id", scores_file)

    scored = pd.Index(np.asarray(meta["gene_id"], dtype=object)).unique()
    unscored = modules.loc[scored.get_indexer(np.asarray(modules["gene_id"], dtype=object)) < 0, "gene_id"]
    if len(unscored):
        warn(
            f"{sname}: {len(unscored)} module gene(s) have no feature-score row and do not enter the"
            f" eigengene (e.g. {unscored.iloc[0]})"
        )

    fit_config = None
    config_path = root / "fit_config.json"
    if config_path.exists():
        try:
            fit_config = json.loads(config_path.read_text())
        except json.JSONDecodeError as exc:
            raise InputError(f"{config_path}: not valid JSON ({exc.msg} at line {exc.lineno})") from None
    checkpoint = root / "vae_checkpoint.pt"
    return FitArtifacts(
        artifact_dir=root,
        modules=modules,
        score_meta=meta,
        scores=scores,
        sample_ids=sample_ids,
        legacy=legacy,
        fit_config=fit_config,
        checkpoint_path=checkpoint if checkpoint.exists() else None,
        scores_path=scores_file,
        score_matrix=score_matrix,
    )


def resolve_module_ids(fit: FitArtifacts, module_ids: list[str] | tuple[str, ...] | None) -> list[str]:
    """The requested module IDs (default: all, sorted), checked against the fit.

    Parameters
    ----------
    fit : FitArtifacts
    module_ids : list of str or None
        Requested IDs; None or empty means all modules of the fit. Duplicates are dropped.

    Returns
    -------
    list of str

    Raises
    ------
    InputError
        An ID that is not a module of the fit, listing the available ones.
    """
    available = fit.module_ids
    if module_ids is None or len(module_ids) == 0:
        return available
    if isinstance(module_ids, str):
        module_ids = [module_ids]
    requested = list(dict.fromkeys(str(m) for m in module_ids))
    unknown = [m for m in requested if m not in set(available)]
    if unknown:
        shown = ", ".join(available[:10]) + (" ..." if len(available) > 10 else "")
        raise InputError(
            f"unknown module ID(s) {', '.join(unknown)} for fit {fit.artifact_dir}; available: {shown}"
        )
    return requested


def shared_samples(fit_samples: list[str], table_samples: list[str], *, table_name: str = "feature table",
                   min_shared: int = MIN_SHARED_SAMPLES) -> list[str]:
    """Sorted intersection of fit and table sample IDs.

    Parameters
    ----------
    fit_samples, table_samples : list of str
        Sample IDs of the fit (feature-score columns) and of the table.
    table_name : str
        Name of the table in messages.
    min_shared : int, default 10
        Fewest shared samples accepted.

    Returns
    -------
    list of str

    Raises
    ------
    InputError
        Fewer than ``min_shared`` shared samples.

    Warns
    -----
    InputWarning
        Samples of either side that the other lacks (they are dropped).
    """
    fit_set, table_set = set(fit_samples), set(table_samples)
    shared = sorted(fit_set & table_set)
    if len(shared) < min_shared:
        example = next(iter(sorted(table_set - fit_set)), None)
        raise InputError(
            f"only {len(shared)} sample(s) shared by the fit ({len(fit_set)} samples) and the {table_name}"
            f" ({len(table_set)} samples); at least {min_shared} are needed"
            + (f" (e.g. table sample {example!r} is not in the fit; do the sample IDs match?)" if example else "")
        )
    only_fit, only_table = len(fit_set - table_set), len(table_set - fit_set)
    if only_fit or only_table:
        warn(
            f"using {len(shared)} shared samples: dropped {only_fit} fit sample(s) missing from the"
            f" {table_name} and {only_table} {table_name} sample(s) missing from the fit"
        )
    return shared


def load_annotation_table(source: TableSource) -> tuple[pd.DataFrame, str]:
    """Load an annotation table (e.g. from ``isograph annotate-structure``) and find its join key.

    The key is the first of ``feature_id``, ``transcript_id``, ``gene_id`` that the table has;
    ``feature_id``/``transcript_id`` annotations join the per-feature tables, ``gene_id`` annotations
    join all tables.

    Returns
    -------
    (DataFrame, key)
        Key column as str and unique.

    Raises
    ------
    InputError
        No key column, an empty or duplicate key.
    """
    df, name = _frame(source, "annotation table")
    df = df.reset_index(drop=df.index.name not in ("feature_id", "transcript_id", "gene_id"))
    for key in ("feature_id", "transcript_id", "gene_id"):
        if key in df.columns:
            break
    else:
        raise InputError(f"{name}: needs a feature_id, transcript_id or gene_id column to join on")
    _require_no_missing(df, (key,), name, source)
    df = df.copy()
    df[key] = df[key].astype(str)
    _require_unique(df[key], name, key, source)
    return df, key


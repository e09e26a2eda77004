"""Import transcript counts for a fit: a counts matrix or a folder of salmon ``quant.sf`` files, plus a
transcript -> gene map from a table or a GTF, checked against each other.

As in IsoformSwitchAnalyzeR's ``importRdata``, the quantified transcripts must match the annotation:
the number matched is reported, and too small an overlap is refused with the counts (a common cause is
a different annotation version; version suffixes such as ``ENST0001.3`` are reconciled automatically
when that helps).
"""

from __future__ import annotations

import gzip
import os
import re
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from isograph.dataset.artifacts import TableSource
from isograph.dataset.io import read_table
from isograph.errors import InputError, warn
from isograph.structure.cache import load_transcript_models

__all__ = [
    "CountsImport",
    "load_counts",
    "load_salmon_dir",
    "load_tx2gene",
    "match_annotation",
]

MIN_MATCHED_FRACTION = 0.5
_VERSION = re.compile(r"\.\d+$")


def _is_gtf(path: str | os.PathLike) -> bool:
    name = str(path).lower()
    return name.endswith((".gtf", ".gtf.gz", ".gff", ".gff.gz"))


def load_tx2gene(source: TableSource) -> pd.DataFrame:
    """Transcript -> gene map from a table (``transcript_id, gene_id`` [, ``gene_name``]) or a GTF.

    Parameters
    ----------
    source : DataFrame or path
        A table (parquet/TSV/CSV) or a GTF (``.gtf``/``.gtf.gz``, read from its exon rows).

    Returns
    -------
    DataFrame
        ``transcript_id, gene_id, gene_name`` (str; gene_name falls back to gene_id), one row per
        transcript.

    Raises
    ------
    InputError
        Missing columns, empty IDs, a transcript mapped to two genes.
    """
    if isinstance(source, (str, os.PathLike)) and _is_gtf(source):
        df = load_transcript_models(source, use_cache=False).models[["transcript_id", "gene_id", "gene_name"]]
        name = str(source)
    elif isinstance(source, pd.DataFrame):
        df, name = source, "transcript-to-gene map (DataFrame)"
    else:
        df, name = read_table(source, what="transcript-to-gene map"), str(source)
    missing = [c for c in ("transcript_id", "gene_id") if c not in df.columns]
    if missing:
        raise InputError(f"{name}: missing required column(s) {', '.join(missing)}; the map needs"
                         " transcript_id and gene_id (or pass a GTF)")
    df = df.reset_index(drop=True)
    empty = df["transcript_id"].isna() | df["gene_id"].isna()
    if empty.any():
        raise InputError(f"{name}: empty transcript_id or gene_id at row {int(np.flatnonzero(empty)[0]) + 1}")
    out = pd.DataFrame({"transcript_id": df["transcript_id"].astype(str), "gene_id": df["gene_id"].astype(str)})
    names = df["gene_name"] if "gene_name" in df.columns else pd.Series(np.nan, index=df.index)
    out["gene_name"] = names.where(names.notna(), out["gene_id"]).astype(str)
    out = out.drop_duplicates(["transcript_id", "gene_id"])
    dup = out["transcript_id"].duplicated(keep=False)
    if dup.any():
        tx = out.loc[dup, "transcript_id"].iloc[0]
        genes = ", ".join(out.loc[out["transcript_id"] == tx, "gene_id"])
        raise InputError(f"{name}: transcript {tx!r} maps to several genes ({genes}); each transcript needs one gene")
    return out.reset_index(drop=True)


def load_counts(source: TableSource, tx2gene: pd.DataFrame | None = None) -> pd.DataFrame:
    """A transcript counts matrix as samples x transcripts.

    Parameters
    ----------
    source : DataFrame or path
        Parquet/TSV/CSV, either samples x transcripts (``sample_id`` column or index) or transcripts x
        samples (``transcript_id`` column or index). Without either column the orientation is the one
        whose labels match more transcripts of ``tx2gene``.
    tx2gene : DataFrame, optional
        Output of :func:`load_tx2gene`, used to decide the orientation.

    Returns
    -------
    DataFrame
        float64 counts, index ``sample_id``, columns transcript IDs.

    Raises
    ------
    InputError
        Duplicate IDs, non-numeric, missing or negative counts, all-zero samples.

    Warns
    -----
    InputWarning
        Non-integer counts (fine for estimated counts from salmon/kallisto/RSEM; TPM or CPM are not
        counts).
    """
    if isinstance(source, pd.DataFrame):
        df, name = source.copy(), "counts (DataFrame)"
    else:
        df, name = read_table(source, what="counts table"), str(source)
    if "transcript_id" in df.columns:
        df = df.set_index("transcript_id").T
    elif "sample_id" in df.columns:
        df = df.set_index("sample_id")
    else:
        if isinstance(df.index, pd.RangeIndex) and df.shape[1] and not pd.api.types.is_numeric_dtype(df.iloc[:, 0]):
            df = df.set_index(df.columns[0])
        if tx2gene is not None:
            known = set(tx2gene["transcript_id"])
            rows = pd.Index(df.index.astype(str)).isin(known).sum()
            cols = pd.Index(df.columns.astype(str)).isin(known).sum()
            if rows > cols:
                df = df.T
    df.index = df.index.astype(str)
    df.columns = df.columns.astype(str)
    df.index.name = "sample_id"
    return _validate_counts(df, name)


def _validate_counts(df: pd.DataFrame, name: str, *, integer_expected: bool = True) -> pd.DataFrame:
    for what, labels in (("sample ID", df.index), ("transcript ID", df.columns)):
        dup = labels.duplicated()
        if dup.any():
            raise InputError(f"{name}: duplicate {what} {labels[dup][0]!r}; each must appear once")
    kinds = np.array([dt.kind for dt in df.dtypes])
    bad = np.flatnonzero(~np.isin(kinds, list("iuf")))
    if bad.size:
        col = df.columns[int(bad[0])]
        raise InputError(f"{name}: transcript {col!r} has non-numeric counts (dtype {df[col].dtype})")
    values = df.to_numpy(dtype=np.float64)
    nan = ~np.isfinite(values)
    if nan.any():
        s, t = np.argwhere(nan)[0]
        raise InputError(f"{name}: missing or infinite count for transcript {df.columns[t]!r} in sample"
                         f" {df.index[s]!r}; counts must be complete (use 0 for no reads)")
    neg = values < 0
    if neg.any():
        s, t = np.argwhere(neg)[0]
        raise InputError(f"{name}: negative count {values[s, t]:g} for transcript {df.columns[t]!r} in sample"
                         f" {df.index[s]!r} ({int(neg.sum())} negative values); counts must be >= 0")
    zero = values.sum(axis=1) == 0
    if zero.any():
        raise InputError(f"{name}: sample(s) {', '.join(df.index[zero][:5])} have no counts at all; remove them")
    if integer_expected and not np.all(values == np.round(values)):
        warn(f"{name}: counts are not integers; that is expected for estimated counts (salmon NumReads,"
             " kallisto est_counts, RSEM expected_count) but TPM, FPKM or CPM are not counts")
    return pd.DataFrame(values, index=df.index, columns=df.columns)


def load_salmon_dir(directory: str | os.PathLike) -> pd.DataFrame:
    """Estimated counts (``NumReads``) from a folder of salmon quantifications.

    Parameters
    ----------
    directory : path
        Holds ``<sample>.quant.sf[.gz]`` files, or ``<sample>/quant.sf[.gz]`` sub-folders (salmon's own
        layout). The sample ID is ``<sample>``.

    Returns
    -------
    DataFrame
        samples x transcripts estimated counts (float64), samples sorted.

    Raises
    ------
    InputError
        No quant.sf files, a file without ``Name``/``NumReads``, files quantifying different
        transcripts, a corrupt file.
    """
    root = Path(directory)
    if not root.is_dir():
        raise InputError(f"salmon folder not found: {root}")
    files: dict[str, Path] = {}
    for path in sorted(root.glob("*quant.sf")) + sorted(root.glob("*quant.sf.gz")):
        sample = re.sub(r"[._]?quant\.sf(\.gz)?$", "", path.name)
        files[sample or path.name] = path
    for path in sorted(root.glob("*/quant.sf")) + sorted(root.glob("*/quant.sf.gz")):
        files[path.parent.name] = path
    if not files:
        raise InputError(f"{root}: no salmon quant.sf or quant.sf.gz files (expected <sample>.quant.sf[.gz]"
                         " or <sample>/quant.sf)")
    columns = {}
    reference: pd.Index | None = None
    for sample, path in sorted(files.items()):
        table = _read_quant(path)
        if reference is None:
            reference = pd.Index(table["Name"])
        elif not reference.equals(pd.Index(table["Name"])):
            raise InputError(f"{path}: quantifies different transcripts from {files[next(iter(sorted(files)))]};"
                             " all samples must be quantified against the same index")
        columns[sample] = table["NumReads"].to_numpy(dtype=np.float64)
    counts = pd.DataFrame(columns, index=reference).T
    counts.index.name = "sample_id"
    return _validate_counts(counts, str(root), integer_expected=False)


def _read_quant(path: Path) -> pd.DataFrame:
    try:
        table = pd.read_csv(path, sep="\t", compression="infer")
    except (gzip.BadGzipFile, zlib.error, EOFError, OSError) as exc:
        raise InputError(f"{path}: corrupt or truncated salmon file ({exc})") from None
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise InputError(f"{path}: not a salmon quant.sf table ({str(exc).strip().splitlines()[-1]})") from None
    except UnicodeDecodeError:
        raise InputError(f"{path}: not a text file (binary content); a salmon quant.sf is a tab-separated table") from None
    missing = [c for c in ("Name", "NumReads") if c not in table.columns]
    if missing:
        raise InputError(f"{path}: missing column(s) {', '.join(missing)}; is this a salmon quant.sf file?")
    table["Name"] = table["Name"].astype(str)
    return table


@dataclass(frozen=True)
class CountsImport:
    """Counts matched to an annotation (output of :func:`match_annotation`).

    Attributes
    ----------
    counts : DataFrame
        samples x matched transcripts, columns grouped by gene.
    tx2gene : DataFrame
        ``transcript_id, gene_id, gene_name`` of the matched transcripts, in column order.
    n_quantified, n_matched : int
        Transcripts in the counts, and of those found in the annotation.
    versions_stripped : bool
        True when version suffixes were removed to match.
    n_single_transcript_genes : int
        Matched genes with one transcript (abundance score only).
    """

    counts: pd.DataFrame
    tx2gene: pd.DataFrame
    n_quantified: int
    n_matched: int
    versions_stripped: bool
    n_single_transcript_genes: int

    def summary(self) -> str:
        """One line for logs: how many transcripts matched."""
        return (f"{self.n_matched} of {self.n_quantified} quantified transcripts"
                f" ({self.n_matched / max(self.n_quantified, 1):.0%}) matched the annotation"
                + (" after removing version suffixes" if self.versions_stripped else ""))


def match_annotation(
    counts: pd.DataFrame,
    tx2gene: pd.DataFrame,
    *,
    min_matched_fraction: float = MIN_MATCHED_FRACTION,
) -> CountsImport:
    """Keep the quantified transcripts that the annotation knows, and check the overlap.

    Parameters
    ----------
    counts : DataFrame
        samples x transcripts (from :func:`load_counts` or :func:`load_salmon_dir`).
    tx2gene : DataFrame
        ``transcript_id, gene_id`` [, ``gene_name``] (e.g. from :func:`load_tx2gene`).
    min_matched_fraction : float, default 0.5
        Refuse when fewer than this fraction of the quantified transcripts are in the annotation.

    Returns
    -------
    CountsImport

    Raises
    ------
    InputError
        Too small an overlap (with the counts and examples from both sides).

    Warns
    -----
    InputWarning
        Quantified transcripts missing from the annotation (dropped); version suffixes stripped;
        genes with a single transcript (they get an abundance score but no switch score).
    """
    tx2gene = load_tx2gene(tx2gene)  # validates and adds gene_name where missing
    quantified = pd.Index(counts.columns.astype(str))
    known = pd.Index(tx2gene["transcript_id"])
    matched = quantified.isin(known)
    stripped = False
    if matched.mean() < 1.0:
        q_plain = quantified.str.replace(_VERSION, "", regex=True)
        k_plain = known.str.replace(_VERSION, "", regex=True)
        if q_plain.isin(k_plain).sum() > matched.sum() and k_plain.is_unique and q_plain.is_unique:
            counts = counts.set_axis(q_plain, axis=1)
            tx2gene = tx2gene.assign(transcript_id=k_plain)
            quantified, known, stripped = q_plain, pd.Index(k_plain), True
            matched = quantified.isin(known)
            warn("transcript IDs matched the annotation only after removing version suffixes (e.g. .1)")
    n_matched = int(matched.sum())
    if n_matched < min_matched_fraction * len(quantified) or n_matched == 0:
        raise InputError(
            f"only {n_matched} of {len(quantified)} quantified transcripts ({n_matched / max(len(quantified), 1):.0%})"
            f" are in the annotation (need {min_matched_fraction:.0%}); e.g. quantified {quantified[0]!r} vs"
            f" annotated {known[0]!r}: are the quantification and the annotation from the same source and version?"
        )
    if n_matched < len(quantified):
        warn(f"{len(quantified) - n_matched} of {len(quantified)} quantified transcripts are not in the annotation"
             f" and are dropped (e.g. {quantified[~matched][0]!r})")
    m = tx2gene.set_index("transcript_id").loc[quantified[matched]].reset_index()
    order = np.lexsort((m["transcript_id"].to_numpy(), m["gene_id"].to_numpy()))
    m = m.iloc[order].reset_index(drop=True)
    kept = counts.loc[:, m["transcript_id"].to_numpy()]
    sizes = m.groupby("gene_id").size()
    n_single = int((sizes == 1).sum())
    if n_single:
        warn(f"{n_single} of {len(sizes)} genes have a single quantified transcript: they get an abundance"
             " score but no switch score")
    return CountsImport(counts=kept, tx2gene=m[["transcript_id", "gene_id", "gene_name"]],
                        n_quantified=len(quantified), n_matched=n_matched, versions_stripped=stripped,
                        n_single_transcript_genes=n_single)

"""Importers: real salmon files, counts orientation, annotation overlap, bad counts."""

from __future__ import annotations

import gzip
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from isograph.errors import InputError, InputWarning
from isograph.fit.importers import load_counts, load_salmon_dir, load_tx2gene, match_annotation
from isograph.simulate import REFERENCE_GTF

QUANT = Path(__file__).resolve().parents[2] / "data" / "reference" / "isar_example" / "quant"


def test_real_salmon_folder():
    counts = load_salmon_dir(QUANT)
    assert list(counts.index) == ["Fibroblasts_0", "Fibroblasts_1", "hESC_0", "hESC_1", "iPS_0", "iPS_1"]
    assert counts.shape == (6, 1092)
    raw = pd.read_csv(QUANT / "hESC_1.quant.sf.gz", sep="\t").set_index("Name")["NumReads"]
    np.testing.assert_array_equal(counts.loc["hESC_1", raw.index].to_numpy(), raw.to_numpy())
    with pytest.warns(InputWarning, match="141 of 375 genes have a single quantified transcript"):
        data = match_annotation(counts, load_tx2gene(REFERENCE_GTF))
    assert (data.n_quantified, data.n_matched) == (1092, 1092)
    assert data.summary() == "1092 of 1092 quantified transcripts (100%) matched the annotation"


def test_salmon_nested_layout_and_errors(tmp_path):
    for sample in ("a", "b"):
        (tmp_path / sample).mkdir()
        shutil.copy(QUANT / "iPS_0.quant.sf.gz", tmp_path / sample / "quant.sf.gz")
    assert list(load_salmon_dir(tmp_path).index) == ["a", "b"]
    with pytest.raises(InputError, match="salmon folder not found: .*missing"):
        load_salmon_dir(tmp_path / "missing")
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(InputError, match="no salmon quant.sf or quant.sf.gz files"):
        load_salmon_dir(empty)
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "x.quant.sf").write_text("Name\tTPM\nT1\t3\n")
    with pytest.raises(InputError, match=r"x.quant.sf: missing column\(s\) NumReads"):
        load_salmon_dir(bad)
    (bad / "x.quant.sf").unlink()
    (bad / "y.quant.sf.gz").write_bytes(gzip.compress(b"Name\tNumReads\n" + b"T1\t3\n" * 999)[:50])
    with pytest.raises(InputError, match="y.quant.sf.gz: corrupt or truncated"):
        load_salmon_dir(bad)


def test_salmon_files_must_share_transcripts(tmp_path):
    (tmp_path / "a.quant.sf").write_text("Name\tNumReads\nT1\t1\nT2\t2\n")
    (tmp_path / "b.quant.sf").write_text("Name\tNumReads\nT1\t1\nT3\t2\n")
    with pytest.raises(InputError, match="quantifies different transcripts"):
        load_salmon_dir(tmp_path)


@pytest.fixture
def tx2gene():
    return pd.DataFrame({"transcript_id": ["T1", "T2", "T3", "T4"], "gene_id": ["G1", "G1", "G2", "G2"]})


def test_counts_orientation(tmp_path, tx2gene):
    samples_by_tx = pd.DataFrame({"T1": [1, 2], "T2": [3, 4], "T3": [5, 6], "T4": [0, 1]}, index=["s1", "s2"])
    samples_by_tx.index.name = "sample_id"
    samples_by_tx.reset_index().to_csv(tmp_path / "a.tsv", sep="\t", index=False)
    samples_by_tx.T.rename_axis("transcript_id").reset_index().to_csv(tmp_path / "b.tsv", sep="\t", index=False)
    samples_by_tx.T.to_csv(tmp_path / "c.csv")  # no ID column names: orientation from the overlap
    for name in ("a.tsv", "b.tsv", "c.csv"):
        got = load_counts(tmp_path / name, tx2gene)
        pd.testing.assert_frame_equal(got, samples_by_tx.astype(float), check_names=False)


@pytest.mark.parametrize(("values", "message"), [
    ({"T1": [1.0, -2.0]}, r"negative count -2 for transcript 'T1' in sample 's2'"),
    ({"T1": [1.0, np.nan]}, r"missing or infinite count for transcript 'T1' in sample 's2'"),
    ({"T1": [0.0, 3.0], "T2": [0.0, 1.0]}, r"sample\(s\) s1 have no counts at all"),
])
def test_bad_counts(values, message):
    with pytest.raises(InputError, match=message):
        load_counts(pd.DataFrame(values, index=pd.Index(["s1", "s2"], name="sample_id")))


def test_non_integer_counts_warn():
    with pytest.warns(InputWarning, match="counts are not integers; that is expected for estimated counts"):
        load_counts(pd.DataFrame({"T1": [1.5, 2.0]}, index=pd.Index(["s1", "s2"], name="sample_id")))


def test_tx2gene_from_gtf_and_errors(tmp_path):
    from_gtf = load_tx2gene(REFERENCE_GTF)
    assert len(from_gtf) == 1092 and from_gtf["gene_id"].nunique() == 375
    assert (from_gtf.loc[from_gtf["gene_id"] == "XLOC_000001", "gene_name"] == "XLOC_000001").all()
    with pytest.raises(InputError, match=r"transcript 'T1' maps to several genes \(G1, G2\)"):
        load_tx2gene(pd.DataFrame({"transcript_id": ["T1", "T1"], "gene_id": ["G1", "G2"]}))
    with pytest.raises(InputError, match=r"missing required column\(s\) gene_id"):
        load_tx2gene(pd.DataFrame({"transcript_id": ["T1"]}))


def test_annotation_overlap(tx2gene):
    counts = pd.DataFrame(np.ones((3, 5)), columns=["T1", "T2", "T3", "T4", "X9"], index=["a", "b", "c"])
    with pytest.warns(InputWarning, match=r"1 of 5 quantified transcripts are not in the annotation and are dropped"):
        data = match_annotation(counts, tx2gene)
    assert list(data.counts.columns) == ["T1", "T2", "T3", "T4"] and data.n_matched == 4
    far = pd.DataFrame(np.ones((3, 4)), columns=["T1", "X1", "X2", "X3"], index=["a", "b", "c"])
    with pytest.raises(InputError, match=r"only 1 of 4 quantified transcripts \(25%\) are in the annotation"):
        match_annotation(far, tx2gene)


def test_version_suffixes_are_reconciled(tx2gene):
    versioned = tx2gene.assign(transcript_id=tx2gene["transcript_id"] + ".2")
    counts = pd.DataFrame(np.ones((3, 4)), columns=["T1.1", "T2.1", "T3.1", "T4.1"], index=["a", "b", "c"])
    with pytest.warns(InputWarning, match="after removing version suffixes"):
        data = match_annotation(counts, versioned)
    assert data.versions_stripped and data.n_matched == 4

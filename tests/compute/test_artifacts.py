"""Every data-contract violation gives a one-line error naming the file and the column or row."""

from __future__ import annotations

import gzip
import warnings

import numpy as np
import pandas as pd
import pytest

from isograph.dataset.artifacts import (
    load_feature_meta,
    load_feature_table,
    load_fit_artifacts,
    resolve_module_ids,
    shared_samples,
)
from isograph.errors import InputError, InputWarning
from isograph.explain import explain_module


def _one_line(exc_info) -> str:
    message = str(exc_info.value)
    assert "\n" not in message
    return message


def test_valid_fit_loads(small_dir):
    fit = load_fit_artifacts(small_dir / "oracle_fit")
    assert fit.module_ids == ["M000", "M001"]
    assert fit.scores.shape == (len(fit.score_meta), 40)
    assert not fit.legacy and fit.fit_config["kind"] == "oracle"


def test_module_genes_from_many_threads_at_once(small_dir):
    """Regression: explain_module runs modules in threads; a half-built gene index returned [] to one of them."""
    import sys

    expected = load_fit_artifacts(small_dir / "oracle_fit").modules.groupby("module_id")["gene_id"].apply(list)
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # switch threads often so that a race shows up
    try:
        _module_genes_race(small_dir, expected)
    finally:
        sys.setswitchinterval(interval)


def _module_genes_race(small_dir, expected) -> None:
    from concurrent.futures import ThreadPoolExecutor
    from threading import Barrier

    fit = load_fit_artifacts(small_dir / "oracle_fit")
    for _ in range(300):
        fit._module_genes = None  # as freshly loaded
        barrier = Barrier(8)

        def genes(i: int) -> list[str]:
            barrier.wait()
            return fit.module_genes(f"M00{i % 2}")

        with ThreadPoolExecutor(8) as pool:
            got = list(pool.map(genes, range(8)))
        assert all(g == expected[f"M00{i % 2}"] for i, g in enumerate(got))


def test_legacy_feature_scores_are_switch_rows(small_dir):
    fs_path = small_dir / "oracle_fit" / "feature_scores.parquet"
    fs = pd.read_parquet(fs_path)
    fs.drop(columns=["feature_id", "feature_type", "n_transcripts"]).to_parquet(fs_path)
    fit = load_fit_artifacts(small_dir / "oracle_fit")
    assert fit.legacy
    assert (fit.score_meta["feature_type"] == "switch").all()
    assert fit.score_meta["feature_id"].iloc[0] == fs["gene_id"].iloc[0] + "::switch"


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda d: (d / "modules.parquet").unlink(), r"modules.parquet not found"),
        (lambda d: (d / "feature_scores.parquet").unlink(), r"feature_scores.parquet not found"),
        (lambda d: pd.read_parquet(d / "modules.parquet").rename(columns={"module_id": "mod"})
         .to_parquet(d / "modules.parquet"), r"modules.parquet: missing required column\(s\) module_id"),
        (lambda d: pd.concat([pd.read_parquet(d / "modules.parquet")] * 2).to_parquet(d / "modules.parquet"),
         r"modules.parquet: duplicate gene_id '.+' at row 1, row \d+"),
        (lambda d: pd.read_parquet(d / "modules.parquet").assign(module_id=lambda m: m.module_id.where(
            m.index != 2)).to_parquet(d / "modules.parquet"), r"column 'module_id' is empty at row 3"),
        (lambda d: pd.concat([pd.read_parquet(d / "feature_scores.parquet")] * 2)
         .to_parquet(d / "feature_scores.parquet"), r"feature_scores.parquet: duplicate feature_id"),
        (lambda d: pd.read_parquet(d / "feature_scores.parquet").assign(S005="x")
         .to_parquet(d / "feature_scores.parquet"), r"sample column 'S005' is not numeric at row 1: 'x'"),
        (lambda d: pd.read_parquet(d / "feature_scores.parquet").assign(feature_type="splice")
         .to_parquet(d / "feature_scores.parquet"), r"feature_type 'splice' at row 1 is not one of switch"),
        (lambda d: pd.read_parquet(d / "feature_scores.parquet")[["feature_id", "gene_id", "feature_type"]]
         .to_parquet(d / "feature_scores.parquet"), r"no sample columns"),
    ],
    ids=["no-modules", "no-scores", "missing-column", "duplicate-gene", "empty-module-id",
         "duplicate-feature", "non-numeric", "bad-feature-type", "no-samples"],
)
def test_bad_fit_directory(small_dir, mutate, message):
    fit_dir = small_dir / "oracle_fit"
    mutate(fit_dir)
    with pytest.raises(InputError, match=message) as exc:
        load_fit_artifacts(fit_dir)
    _one_line(exc)


def test_missing_fit_directory(tmp_path):
    with pytest.raises(InputError, match="artifact directory not found: .*nowhere"):
        load_fit_artifacts(tmp_path / "nowhere")


def test_feature_table_formats_agree(small_dir, small_sim, tmp_path):
    parquet = load_feature_table(small_dir / "features.parquet")
    small_sim.feature_table.to_csv(tmp_path / "f.csv")
    small_sim.feature_table.reset_index().to_csv(tmp_path / "f.tsv.gz", sep="\t", index=False)
    for other in (load_feature_table(tmp_path / "f.csv"), load_feature_table(tmp_path / "f.tsv.gz"),
                  load_feature_table(small_sim.feature_table)):
        pd.testing.assert_frame_equal(parquet, other, check_dtype=False, check_index_type=False)
    assert parquet.index.name == "sample_id" and parquet.dtypes.eq(np.float64).all()


def _text(path, content):
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content)
    return path


def _write(df, path, **kw):
    df.to_csv(path, sep="\t" if ".tsv" in path.name else ",", **kw)
    return path


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda t, p: _write(pd.concat([t, t.iloc[:1]]), p / "dup.csv"),
         r"dup.csv: duplicate sample ID 'S000' at row 1 \(line 2\), row 41 \(line 42\)"),
        (lambda t, p: _text(p / "dupcol.tsv", "sample_id\tA\tA\nS1\t1\t2\n"),
         r"dupcol.tsv: duplicate column name 'A' in the header \(column 3\)"),
        (lambda t, p: _write(t.astype(object).where(
            ~((t.index == "S003")[:, None] & (t.columns == t.columns[4])[None, :]), "abc"), p / "text.csv"),
         r"text.csv: feature column '\w+' is not numeric at row 4 \(line 5\): 'abc'"),
        (lambda t, p: _write(t.reset_index(drop=True), p / "noids.csv", index=False),
         r"noids.csv: no sample IDs; add a 'sample_id' column"),
        (lambda t, p: _text(p / "broken.tsv.gz", gzip.compress(b"sample_id\tA\n" + b"S1\t0.5\n" * 5000)[:60]),
         r"broken.tsv.gz: corrupt or truncated gzip"),
        (lambda t, p: _text(p / "table.xlsx", "x"),
         r"table.xlsx: unsupported file type '.xlsx'"),
        (lambda t, p: p / "absent.parquet", r"feature table not found: .*absent.parquet"),
        (lambda t, p: _text(p / "fake.parquet", "sample_id,A\nS1,1\n"),
         r"fake.parquet: cannot read the feature table as parquet"),
        (lambda t, p: _text(p / "empty.csv", ""), r"empty.csv: the feature table is empty"),
    ],
    ids=["duplicate-sample", "duplicate-feature", "non-numeric", "no-sample-ids", "corrupt-gzip",
         "bad-suffix", "missing-file", "not-parquet", "empty-file"],
)
def test_bad_feature_table(small_sim, tmp_path, make, message):
    path = make(small_sim.feature_table.copy(), tmp_path)
    with pytest.raises(InputError, match=message) as exc:
        load_feature_table(path)
    _one_line(exc)


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda m: m.drop(columns=["feature_type"]), r"missing required column\(s\) feature_type"),
        (lambda m: pd.concat([m, m.iloc[[5]]]), r"duplicate feature_id '\w+' at row 6, row \d+"),
        (lambda m: m.assign(gene_id=m.gene_id.where(m.index != 9)), r"column 'gene_id' is empty at row 10"),
    ],
    ids=["missing-column", "duplicate-feature", "empty-gene"],
)
def test_bad_feature_meta(small_sim, tmp_path, mutate, message):
    path = tmp_path / "meta.parquet"
    mutate(small_sim.feature_meta.copy()).to_parquet(path)
    with pytest.raises(InputError, match=message) as exc:
        load_feature_meta(path)
    assert str(path) in _one_line(exc)


def test_missing_optional_meta_columns_warn(small_sim):
    meta = small_sim.feature_meta[["feature_id", "gene_id", "feature_type"]]
    with pytest.warns(InputWarning, match="optional column\\(s\\) gene_name, transcript_id"):
        out = load_feature_meta(meta)
    assert out["gene_name"].isna().all()


def test_unknown_module_ids(small_dir):
    fit = load_fit_artifacts(small_dir / "oracle_fit")
    with pytest.raises(InputError, match=r"unknown module ID\(s\) M009, X for fit .*; available: M000, M001"):
        resolve_module_ids(fit, ["M000", "M009", "X"])
    assert resolve_module_ids(fit, None) == ["M000", "M001"]


def test_shared_samples_warn_and_error():
    fit = [f"S{i:02d}" for i in range(20)]
    with pytest.warns(InputWarning, match="dropped 8 fit sample\\(s\\).* and 1 feature table sample"):
        assert shared_samples(fit, fit[:12] + ["other"]) == fit[:12]
    with pytest.raises(InputError, match=r"only 9 sample\(s\) shared .* at least 10 are needed"):
        shared_samples(fit, fit[:9])
    with pytest.raises(InputError, match="do the sample IDs match"):
        shared_samples(fit, [s.lower() for s in fit])


def test_module_without_transcript_usage_features(small_dir, small_sim):
    meta = small_sim.feature_meta.copy()
    fit = load_fit_artifacts(small_dir / "oracle_fit")
    genes = fit.module_genes("M001")
    meta.loc[meta["gene_id"].isin(genes), "feature_type"] = "exon"
    with pytest.raises(InputError, match=r"module M001: none of its \d+ genes has a transcript_usage feature"):
        explain_module(fit, small_sim.feature_table, meta)


def test_too_few_shared_samples_through_explain(small_dir, small_sim):
    with pytest.raises(InputError, match=r"only 8 sample\(s\) shared"):
        explain_module(small_dir / "oracle_fit", small_sim.feature_table.iloc[:8], small_sim.feature_meta)


def test_dropped_samples_warn_through_explain(small_dir, small_sim):
    with pytest.warns(InputWarning, match="using 30 shared samples"):
        res = explain_module(small_dir / "oracle_fit", small_sim.feature_table.iloc[:30], small_sim.feature_meta)
    assert len(res["M000"].sample_ids) == 30


def test_unmatched_feature_columns_warn(small_dir, small_sim):
    table = small_sim.feature_table.assign(EXTRA=1.0)
    with pytest.warns(InputWarning, match="1 feature-table column\\(s\\) have no row in feature meta"):
        explain_module(small_dir / "oracle_fit", table, small_sim.feature_meta)


def test_no_warnings_on_clean_input(small_dir):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        explain_module(small_dir / "oracle_fit", small_dir / "features.parquet", small_dir / "feature_metadata.parquet")


def test_infinite_values_become_missing_with_a_warning_and_all_missing_is_refused(small_sim):
    table = small_sim.feature_table.copy()
    table.iloc[2, 3] = np.inf
    table.iloc[5, 0] = -np.inf
    with pytest.warns(InputWarning, match="2 infinite value\\(s\\) treated as missing"):
        loaded = load_feature_table(table)
    assert np.isnan(loaded.iloc[2, 3]) and np.isnan(loaded.iloc[5, 0]) and np.isfinite(loaded.iloc[2, 2])
    with pytest.raises(InputError, match="every value is missing"):
        load_feature_table(table * np.nan)


@pytest.mark.parametrize(("option", "value", "words"), [("fdr", 1.5, "--fdr must be in (0, 1]"),
                                                         ("fdr", 0, "--fdr must be in (0, 1]"),
                                                         ("min_switch_strength", 2.5, "must be in [0, 2]")])
def test_senseless_pair_options_are_refused(tmp_path, option, value, words):
    from isograph.structure.consequences import switch_pairs_from_explain

    with pytest.raises(InputError, match=words.replace("(", "\\(").replace("[", "\\[").replace("]", "\\]")):
        switch_pairs_from_explain(tmp_path, called_only=False, **{option: value})

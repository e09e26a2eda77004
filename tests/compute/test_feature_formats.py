"""Every feature-table layout reads the same numbers; convert-features round-trips; explain gives identical
results from the .matrix folder and from the manual's parquet; an .h5ad brings its feature meta in .var."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from isograph.cli.main import main
from isograph.dataset.artifacts import load_feature_meta, load_feature_table
from isograph.dataset.feature_formats import convert_features, read_feature_columns
from isograph.errors import InputError
from isograph.explain import explain_module


def _h5ad(table: pd.DataFrame, meta: pd.DataFrame, path):
    import anndata

    var = meta.set_index("feature_id").reindex(table.columns)
    var.index = pd.Index(var.index, dtype=object)
    var = var.astype({c: object for c in var.columns if var[c].dtype != float}).fillna("")
    adata = anndata.AnnData(X=table.to_numpy(), obs=pd.DataFrame(index=pd.Index(table.index, dtype=object)), var=var)
    adata.write_h5ad(path, convert_strings_to_categoricals=False)  # anndata 0.12 + pandas 3 strings
    return path


def test_every_layout_reads_the_same_table(small_dir, tmp_path):
    parquet = load_feature_table(small_dir / "features.parquet")
    assert main(["convert-features", str(small_dir / "features.parquet"), str(tmp_path / "f.matrix")]) == 0
    assert main(["convert-features", str(tmp_path / "f.matrix"), str(tmp_path / "f.h5ad")]) == 0
    assert main(["convert-features", str(tmp_path / "f.h5ad"), str(tmp_path / "g.matrix"), "--dtype", "float32"]) == 0
    assert main(["convert-features", str(tmp_path / "f.h5ad"), str(tmp_path / "back.tsv.gz")]) == 0
    for path in ("f.matrix", "f.h5ad", "back.tsv.gz"):
        pd.testing.assert_frame_equal(load_feature_table(tmp_path / path), parquet, check_column_type=False,
                                      check_index_type=False)
    small = load_feature_table(tmp_path / "g.matrix")
    np.testing.assert_allclose(small.to_numpy(), parquet.to_numpy(), rtol=6e-8)
    assert np.array_equal(np.isnan(small.to_numpy()), np.isnan(parquet.to_numpy()))
    some = list(parquet.columns[[7, 2, 40]]) + ["nope"]
    for path in (small_dir / "features.parquet", tmp_path / "f.matrix", tmp_path / "f.h5ad", tmp_path / "back.tsv.gz"):
        got = read_feature_columns(path, some)
        pd.testing.assert_frame_equal(got, parquet[some[:3]], check_column_type=False, check_index_type=False)


def test_explain_is_identical_from_the_matrix_and_from_parquet(small_dir, tmp_path):
    convert_features(small_dir / "features.parquet", tmp_path / "f.matrix")
    fit, meta = small_dir / "oracle_fit", small_dir / "feature_metadata.parquet"
    a = explain_module(fit, small_dir / "features.parquet", meta)
    b = explain_module(fit, tmp_path / "f.matrix", meta)
    for module in a:
        for name in ("gene_driver_table", "transcript_polarity_table", "high_vs_low_table"):
            pd.testing.assert_frame_equal(getattr(a[module], name), getattr(b[module], name))


def test_an_h5ad_brings_its_feature_meta(small_dir, small_sim, tmp_path):
    meta = load_feature_meta(small_dir / "feature_metadata.parquet")
    path = _h5ad(small_sim.feature_table, meta, tmp_path / "study.h5ad")
    from_var = load_feature_meta(path)
    assert from_var["feature_id"].tolist() == small_sim.feature_table.columns.tolist()
    expected = meta.set_index("feature_id").loc[from_var["feature_id"]]
    assert from_var["gene_id"].tolist() == expected["gene_id"].tolist()
    assert from_var["feature_type"].tolist() == expected["feature_type"].tolist()
    a = explain_module(small_dir / "oracle_fit", small_dir / "features.parquet", meta, module_ids=["M000"])
    b = explain_module(small_dir / "oracle_fit", path, path, module_ids=["M000"])
    pd.testing.assert_frame_equal(a["M000"].gene_driver_table, b["M000"].gene_driver_table)


def test_bad_layouts_are_one_line(small_dir, tmp_path):
    with pytest.raises(InputError, match=r"unsupported file type '.xlsx' for a feature table; use a .matrix folder"):
        convert_features(small_dir / "features.parquet", tmp_path / "f.xlsx")
    with pytest.raises(InputError, match="the output must be another file than the input"):
        convert_features(small_dir / "features.parquet", small_dir / "features.parquet")
    (tmp_path / "bad.h5ad").write_bytes(b"not hdf5")
    with pytest.raises(InputError, match="bad.h5ad: cannot read it as AnnData .h5ad"):
        load_feature_table(tmp_path / "bad.h5ad")


def test_an_h5ad_var_with_its_own_feature_id_column_takes_the_var_names(small_sim, tmp_path):
    import anndata

    table = small_sim.feature_table.iloc[:, :4]
    var = pd.DataFrame({"feature_id": ["stale"] * 4, "gene_id": ["G"] * 4, "feature_type": ["transcript_usage"] * 4},
                       index=pd.Index(table.columns, dtype=object)).astype(object)
    anndata.AnnData(X=table.to_numpy(), obs=pd.DataFrame(index=pd.Index(table.index, dtype=object)), var=var
                    ).write_h5ad(tmp_path / "v.h5ad", convert_strings_to_categoricals=False)
    meta = load_feature_meta(tmp_path / "v.h5ad")
    assert meta["feature_id"].tolist() == table.columns.tolist() and meta.columns.tolist()[:3] == [
        "feature_id", "gene_id", "feature_type"]

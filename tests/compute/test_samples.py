"""The samples view's statistics: the eigengene PCA against an eigendecomposition, Welch's comparison against
scipy, and the demo's planted condition found among M001's genes."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from isograph.errors import InputError
from isograph.figures.samples import sample_map_figure
from isograph.samples import eigengene_pca, eigengene_umap, welch_compare


def test_pca_equals_the_eigenvectors_of_the_eigengenes_correlation_matrix():
    rng = np.random.default_rng(5)
    latent = rng.normal(size=(80, 2))
    x = latent @ rng.normal(size=(2, 5)) + 0.3 * rng.normal(size=(80, 5))
    x[:, 3] *= 40.0  # a module on another scale weighs the same once z-scored
    frame = pd.DataFrame(x, index=[f"S{i:02d}" for i in range(80)], columns=[f"M{i:03d}" for i in range(5)])
    frame.iloc[4, 2] = np.nan  # a sample without every eigengene is left out
    coords, explained = eigengene_pca(frame)
    complete = frame.dropna()
    assert list(coords.index) == list(complete.index) and list(coords.columns) == ["PC1", "PC2"]
    z = (complete - complete.mean()) / complete.std(ddof=1)
    values, vectors = np.linalg.eigh(np.corrcoef(complete.to_numpy(), rowvar=False))
    order = np.argsort(values)[::-1]
    for k in range(2):
        oracle = z.to_numpy() @ vectors[:, order[k]]
        assert abs(np.corrcoef(oracle, coords[f"PC{k + 1}"])[0, 1]) == pytest.approx(1.0, abs=1e-10)
        assert np.allclose(np.abs(oracle), np.abs(coords[f"PC{k + 1}"]), atol=1e-9)
        assert explained[k] == pytest.approx(values[order[k]] / values.sum(), rel=1e-9)
        loading = vectors[:, order[k]] * np.sign(np.dot(oracle, coords[f"PC{k + 1}"]))
        assert loading[np.abs(loading).argmax()] > 0  # the sign rule: the largest loading is positive
    with pytest.raises(ValueError, match="at least 2 explained modules"):
        eigengene_pca(frame[["M000"]])


def test_welch_comparison_is_scipy_per_feature_with_bh_over_the_tested():
    rng = np.random.default_rng(9)
    samples = [f"S{i:02d}" for i in range(30)]
    x = rng.normal(size=(30, 40))
    x[:12, :5] += 3.0  # five features planted higher in group A
    x[rng.random(x.shape) < 0.1] = np.nan
    x[:, 6] = 2.0  # no variance in either group: not tested
    x[:11, 7] = np.nan  # one value left in group A: not tested
    frame = pd.DataFrame(x, index=samples, columns=[f"F{j:02d}" for j in range(40)])
    a, b = samples[:12], samples[12:]
    table = welch_compare(frame, a + ["unknown"], b).set_index("feature_id")
    for feature in frame.columns:
        row = table.loc[feature]
        if feature in ("F06", "F07"):
            assert np.isnan(row["pvalue"]) and np.isnan(row["qvalue"]) and np.isnan(row["t"])
            continue
        res = stats.ttest_ind(frame.loc[a, feature], frame.loc[b, feature], equal_var=False, nan_policy="omit")
        assert row["t"] == pytest.approx(res.statistic, rel=1e-10)
        assert row["pvalue"] == pytest.approx(res.pvalue, rel=1e-9)
        assert row["df"] == pytest.approx(res.df, rel=1e-9)
        assert row["delta"] == pytest.approx(frame.loc[a, feature].mean() - frame.loc[b, feature].mean(), rel=1e-12)
        assert row["n_a"] == frame.loc[a, feature].notna().sum()
    tested = table["pvalue"].notna()
    assert tested.sum() == 38
    assert np.allclose(table.loc[tested, "qvalue"], stats.false_discovery_control(table.loc[tested, "pvalue"]))
    assert set(table.index[:5]) == {f"F{j:02d}" for j in range(5)} and (table["delta"].iloc[:5] > 0).all()
    with pytest.raises(ValueError, match="in both groups"):
        welch_compare(frame, a, b + [a[0]])
    with pytest.raises(ValueError, match="group B has 1 sample"):
        welch_compare(frame, a, b[:1])


def test_the_map_names_every_group_and_keeps_every_sample_selectable():
    coords = pd.DataFrame({"PC1": [0.0, 1, 2, 3], "PC2": [1.0, 0, 1, 0]}, index=["s1", "s2", "s3", "s4"])
    colour = pd.Series(["x", "y", "x", None], index=["s1", "s2", "s3", "s4"])
    fig = sample_map_figure(coords, np.array([0.6, 0.3]), colour, colour_label="batch", categorical=True,
                            groups={"A": ["s1", "s2"], "B": ["s4"]})
    names = [t.name for t in fig.data]
    assert names == ["x (n=2)", "y (n=1)", "no value (n=1)", "group A (n=2)", "group B (n=1)"]
    drawn = [s for t in fig.data[:3] for s in t.customdata]
    assert sorted(drawn) == ["s1", "s2", "s3", "s4"] and fig.layout.dragmode == "lasso"
    assert fig.layout.xaxis.title.text.startswith("PC1 (60%")


def test_the_demo_condition_separates_m001_switch_genes(demo_root):
    from isograph.dataset.datasets import open_dataset
    from isograph.samples.dataset import compare_sample_groups, sample_colour, sample_map

    ds = open_dataset(demo_root, "demo")
    condition, label, categorical = sample_colour(ds, "covariate:condition")
    assert categorical and label == "condition (covariates.tsv)"
    treated = condition.index[condition == "treated"].tolist()
    control = condition.index[condition == "control"].tolist()
    table = compare_sample_groups(ds, treated, control, "switch")
    significant = table[table["qvalue"] <= 0.05]
    # condition was planted on M001's activity: its genes lead the switch-score differences
    assert len(significant) > 0 and (significant.head(10)["module_id"] == "M001").mean() >= 0.8
    usage = compare_sample_groups(ds, treated, control, "usage")
    assert usage["feature_id"].str.startswith("TCONS").all() and usage["gene_name"].notna().all()
    coords, explained = sample_map(ds)
    assert len(coords) == len(condition) and explained.sum() <= 1.0
    values, label, _ = sample_colour(ds, f"gene:{significant['gene_id'].iloc[0]}")
    assert label.endswith("switch score (fit)") and values.notna().sum() > 100
    for bad in ("gene:NOPE", "eigengene:M999", "covariate:nope", "colour"):
        with pytest.raises(InputError):
            sample_colour(ds, bad)
    with pytest.raises(InputError, match="both groups"):
        compare_sample_groups(ds, treated, treated[:3], "usage")


def _planted_eigengenes(n: int = 60, modules: int = 6, seed: int = 0) -> tuple[pd.DataFrame, np.ndarray]:
    """Two planted groups of samples: the second is 4 SD higher on the first three modules."""
    rng = np.random.default_rng(seed)
    groups = np.repeat([0, 1], n // 2)
    x = rng.normal(size=(n, modules))
    x[groups == 1, :3] += 4.0
    return pd.DataFrame(x, index=[f"s{i:02d}" for i in range(n)], columns=[f"M{j:03d}" for j in range(modules)]), groups


def test_umap_is_umap_learn_on_the_zscored_eigengenes_and_keeps_planted_groups_apart():
    import umap

    eigengenes, groups = _planted_eigengenes()
    eigengenes.iloc[3, 2] = np.nan  # a sample missing a module's value is left out
    coords = eigengene_umap(eigengenes)
    complete = eigengenes.drop(index="s03")
    z = stats.zscore(complete.to_numpy(), ddof=1, axis=0)
    expected = umap.UMAP(n_components=2, n_neighbors=15, min_dist=0.1, random_state=0, n_jobs=1).fit_transform(z)
    assert list(coords.index) == list(complete.index) and list(coords.columns) == ["UMAP1", "UMAP2"]
    np.testing.assert_allclose(coords.to_numpy(), expected, atol=1e-5)
    np.testing.assert_array_equal(eigengene_umap(eigengenes).to_numpy(), coords.to_numpy())  # the seed: same map
    # planted truth: every sample's 5 nearest neighbours on the map are of its own group
    kept = np.delete(groups, 3)
    xy = coords.to_numpy()
    distances = np.linalg.norm(xy[:, None, :] - xy[None, :, :], axis=2)
    neighbours = np.argsort(distances, axis=1)[:, 1:6]
    assert (kept[neighbours] == kept[:, None]).mean() >= 0.95
    with pytest.raises(ValueError, match="at least 10"):
        eigengene_umap(eigengenes.iloc[:9])
    with pytest.raises(ValueError, match="at least 2 explained modules"):
        eigengene_umap(eigengenes.iloc[:, :1])
    fig = sample_map_figure(coords, None)
    assert fig.layout.xaxis.title.text == "UMAP1 (no units)" and fig.layout.yaxis.title.text == "UMAP2"
    assert "UMAP1 %{x:.3g}" in fig.data[0].hovertemplate


def test_the_umap_is_computed_once_and_kept_with_what_it_was_made_from(demo_root, tmp_path, capsys):
    import shutil

    from isograph.dataset.datasets import open_dataset
    from isograph.modules.report import dataset_eigengenes
    from isograph.samples.dataset import MapNotComputed, compute_umap, sample_map

    root = tmp_path / "root"
    shutil.copytree(demo_root / "demo", root / "demo", ignore=shutil.ignore_patterns("sae"))
    ds = open_dataset(root, "demo")
    with pytest.raises(MapNotComputed, match="not been computed yet"):
        sample_map(ds, "umap")
    coords, computed = compute_umap(ds)
    kept = sorted((root / "demo" / "samples").glob("umap_*.parquet"))
    assert computed and len(kept) == 1 and len(coords) == 200
    np.testing.assert_allclose(coords.to_numpy(), eigengene_umap(dataset_eigengenes(ds)).to_numpy(), atol=1e-9)
    again, computed = compute_umap(ds)
    assert not computed
    pd.testing.assert_frame_equal(again, coords)
    shown, explained = sample_map(ds, "umap")
    assert explained is None
    pd.testing.assert_frame_equal(shown, coords)
    # the command line draws the kept map (and would compute it if there were none)
    from isograph.cli.main import main

    out = tmp_path / "map"
    assert main(["sample-map", "--dataset", str(root / "demo"), "--method", "umap", "--colour", "covariate:condition",
                 "--output-dir", str(out), "--output-format", "html"]) == 0
    assert "UMAP map of 200 samples (the one kept in the data set)" in capsys.readouterr().err
    written = pd.read_csv(out / "demo_samples_umap.tsv", sep="\t", index_col="sample_id")
    np.testing.assert_allclose(written.to_numpy(), coords.to_numpy(), rtol=1e-12)
    assert "UMAP1 (no units)" in (out / "demo_samples_umap.html").read_text()
    assert main(["sample-map", "--dataset", str(root / "demo"), "--output-format", "bmp"]) == 2
    assert "--output-format bmp: unknown" in capsys.readouterr().err
    assert main(["sample-map", "--dataset", str(root / "nowhere")]) == 2
    assert capsys.readouterr().err.strip() == (f"isograph: error: --dataset {root / 'nowhere'}: not a folder; give a"
                                               " data set folder (fit/, explain/ ...)")
    assert main(["sample-map", "--dataset", str(root / "demo"), "--colour", "covariate:nope",
                 "--output-dir", str(out), "--output-format", "html"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "no covariate 'nope'" in err
    # another explain run gives other eigengenes: the kept map does not stand for them
    path = root / "demo" / "explain" / "M000" / "module_eigengene.parquet"
    table = pd.read_parquet(path)
    table["eigengene"] = table["eigengene"].to_numpy()[::-1]
    table.to_parquet(path, index=False)
    with pytest.raises(MapNotComputed):
        sample_map(ds, "umap")
    compute_umap(ds)
    now = sorted((root / "demo" / "samples").glob("umap_*.parquet"))
    assert len(now) == 1 and now != kept  # the earlier inputs' map is removed
    with pytest.raises(InputError, match="unknown map"):
        sample_map(ds, "tsne")


def test_a_process_that_made_a_umap_can_still_fork_one():
    """The app forks its job processes: after a UMAP in this process, a forked child makes the same map
    (numba's OpenMP layer would kill it: "fork() called from a process already using GNU OpenMP")."""
    import multiprocess

    eigengenes, _ = _planted_eigengenes(seed=3)
    here = eigengene_umap(eigengenes).to_numpy()
    context = multiprocess.get_context("fork")
    with context.Pool(1) as pool:
        there = pool.apply_async(lambda: eigengene_umap(eigengenes).to_numpy()).get(timeout=120)
    np.testing.assert_array_equal(there, here)

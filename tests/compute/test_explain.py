"""explain_module on simulated data with planted truth, and against scipy on its own outputs."""

from __future__ import annotations

import json
from dataclasses import asdict

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from isograph.dataset import io as cio
from isograph.dataset.artifacts import load_fit_artifacts
from isograph.explain import (
    GENE_DRIVER_COLUMNS,
    HIGH_VS_LOW_COLUMNS,
    MANIFEST_NAME,
    TRANSCRIPT_POLARITY_COLUMNS,
    ExplainConfig,
    explain_module,
    read_manifest,
)
from isograph.explain.eigengene import module_eigengene


def _auc(pos: np.ndarray, neg: np.ndarray) -> float:
    """AUC = Mann-Whitney U / (n_pos n_neg)."""
    return stats.mannwhitneyu(pos, neg).statistic / (len(pos) * len(neg))


@pytest.fixture
def standard_results(standard_dir):
    return explain_module(standard_dir / "oracle_fit", standard_dir / "features.parquet",
                          standard_dir / "feature_metadata.parquet", output_dir=standard_dir / "explain")


def test_switching_genes_rank_above_non_switching(standard_results, standard_sim):
    """Planted truth: AUC(|r|, switching vs non-switching module genes) >= 0.95."""
    truth = standard_sim.truth_genes.set_index("gene_id")
    pos, neg, aucs = [], [], {}
    for mid, res in standard_results.items():
        g = res.gene_driver_table.set_index("gene_id")
        switching = truth.loc[g.index, "is_switching"].to_numpy()
        a = g["r"].abs().to_numpy()
        aucs[mid] = _auc(a[switching], a[~switching])
        pos.append(a[switching])
        neg.append(a[~switching])
    overall = _auc(np.concatenate(pos), np.concatenate(neg))
    print(f"\nAUC(|r| switching vs non-switching): overall {overall:.3f}; per module "
          + ", ".join(f"{m} {v:.3f}" for m, v in aucs.items()))
    assert overall >= 0.95
    assert min(aucs.values()) >= 0.9


def test_planted_driver_transcript_has_largest_abs_r(standard_results, standard_sim):
    """Planted truth: the driver has the largest |r| in its gene in >= 95% of switching genes."""
    truth = standard_sim.truth_genes
    switching = truth[truth["is_switching"]].set_index("gene_id")
    polarity = pd.concat([r.transcript_polarity_table for r in standard_results.values()])
    polarity = polarity.assign(abs_r=polarity["r"].abs())
    best = polarity.groupby("gene_id")["abs_r"].max()
    driver_r = polarity.set_index("feature_id").loc[switching["driver_transcript_id"], "abs_r"].to_numpy()
    top = driver_r >= best.loc[switching.index].to_numpy() - 1e-12
    multi = switching["n_transcripts"].to_numpy() >= 3  # two transcripts tie exactly (usage sums to 1)
    print(f"\nplanted driver has the largest |r|: {top.mean():.3f} of {len(top)} switching genes;"
          f" {top[multi].mean():.3f} of {multi.sum()} genes with >= 3 transcripts")
    assert top.mean() >= 0.95
    assert top[multi].mean() >= 0.95


def test_table_columns_follow_the_manual(standard_results):
    res = standard_results["M000"]
    assert tuple(res.gene_driver_table.columns[:6]) == GENE_DRIVER_COLUMNS
    assert {"ci_low", "ci_high"} <= set(res.gene_driver_table.columns)
    assert tuple(res.transcript_polarity_table.columns[:8]) == TRANSCRIPT_POLARITY_COLUMNS
    assert tuple(res.high_vs_low_table.columns[:11]) == HIGH_VS_LOW_COLUMNS
    abs_r = res.gene_driver_table["r"].abs().to_numpy()
    assert np.all(np.diff(abs_r[np.isfinite(abs_r)]) <= 0)  # sorted by |r|
    p = res.high_vs_low_table["pvalue"].to_numpy()
    assert np.all(np.diff(p[np.isfinite(p)]) >= 0)
    strength = res.transcript_polarity_table["switch_strength"].to_numpy()
    assert np.all(np.diff(strength) <= 0)


def test_statistics_match_scipy_on_the_outputs(standard_dir, standard_results):
    # oracle: scipy.stats.pearsonr / ttest_ind(equal_var=False) on the same vectors, per feature
    res = standard_results["M002"]
    eig = res.eigengene
    fit = load_fit_artifacts(standard_dir / "oracle_fit")
    scores = pd.DataFrame(fit.scores, index=fit.score_meta["gene_id"], columns=fit.sample_ids)
    for _, row in res.gene_driver_table.head(5).iterrows():
        ref = stats.pearsonr(scores.loc[row.gene_id, eig.index], eig)
        assert row.r == pytest.approx(ref.statistic, abs=1e-10)
        assert row.pvalue == pytest.approx(ref.pvalue, abs=1e-10)
        assert row.ci_low == pytest.approx(ref.confidence_interval().low, abs=1e-10)
    gq = res.gene_driver_table["qvalue"].to_numpy()
    np.testing.assert_allclose(gq, stats.false_discovery_control(res.gene_driver_table["pvalue"]), rtol=1e-12)
    table = pd.read_parquet(standard_dir / "features.parquet")
    for _, row in res.transcript_polarity_table.sample(8, random_state=0).iterrows():
        x = table.loc[eig.index, row.feature_id]
        ok = x.notna()
        ref = stats.pearsonr(x[ok], eig[ok])
        assert row.r == pytest.approx(ref.statistic, abs=1e-10)
        assert row.n_samples == ok.sum()
    high = eig >= np.percentile(eig, 50)
    low = eig <= np.percentile(eig, 50)
    for _, row in res.high_vs_low_table.head(5).iterrows():
        x = table.loc[eig.index, row.feature_id]
        ref = stats.ttest_ind(x[high].dropna(), x[low].dropna(), equal_var=False)
        assert row.tstat == pytest.approx(ref.statistic, abs=1e-10)
        assert row.pvalue == pytest.approx(ref.pvalue, abs=1e-10)
        assert row.delta == pytest.approx(x[high].mean() - x[low].mean())


def test_direction_is_stated_in_words(standard_results):
    res = standard_results["M000"]
    pol = res.transcript_polarity_table
    assert (pol.loc[pol["r"] > 0, "direction"] == "used more in high-module samples").all()
    assert (pol.loc[pol["r"] < 0, "direction"] == "used more in low-module samples").all()
    top = res.gene_driver_table.iloc[0]
    assert top["switch_description"] == (f"{top['top_positive_feature']} used more in high-module samples,"
                                         f" {top['top_negative_feature']} in low-module samples")
    gene_rows = pol[pol["gene_id"] == top["gene_id"]]
    assert gene_rows["r"].idxmax() == gene_rows.index[gene_rows["feature_id"] == top["top_positive_feature"]][0]


def test_switch_strength_is_max_minus_min_r(standard_results):
    pol = standard_results["M001"].transcript_polarity_table
    for gene, rows in pol.groupby("gene_id"):
        r = rows["r"].dropna()
        expected = r.max() - r.min() if len(r) >= 2 else 0.0
        assert rows["switch_strength"].iloc[0] == pytest.approx(expected)


def test_eigengene_is_pc1_of_module_scores(standard_dir, standard_results):
    fit = load_fit_artifacts(standard_dir / "oracle_fit")
    genes = fit.module_genes("M003")
    rows = fit.score_meta["gene_id"].isin(genes).to_numpy()
    expected = module_eigengene(fit.scores[rows]).values
    np.testing.assert_allclose(standard_results["M003"].eigengene.to_numpy(), expected, atol=1e-12)
    assert standard_results["M003"].variance_explained == pytest.approx(module_eigengene(fit.scores[rows]).variance_explained)


def test_eigengene_tracks_planted_activity(standard_results, standard_sim):
    for mid, res in standard_results.items():
        activity = standard_sim.module_activity.loc[res.eigengene.index, mid]
        assert abs(np.corrcoef(res.eigengene, activity)[0, 1]) > 0.9


def _with_abundance_rows(small_dir, small_sim) -> tuple[list[str], pd.DataFrame, pd.DataFrame]:
    """Give two M000 genes an abundance row: noise for the first, the module's activity for the second."""
    fs_path = small_dir / "oracle_fit" / "feature_scores.parquet"
    fs = pd.read_parquet(fs_path)
    samples = [c for c in fs.columns if c.startswith("S")]
    genes = load_fit_artifacts(small_dir / "oracle_fit").module_genes("M000")[:2]
    rng = np.random.default_rng(0)
    extra = fs.set_index("gene_id").loc[genes].reset_index()[fs.columns]  # in the order of `genes`
    extra["feature_id"] = extra["gene_id"] + "::abundance"
    extra["feature_type"] = "abundance"
    activity = small_sim.module_activity.loc[samples, "M000"].to_numpy()
    extra[samples] = np.vstack([rng.normal(size=len(samples)),  # noise: the switch row is stronger
                                activity + 0.01 * rng.normal(size=len(samples))])  # the module: abundance is stronger
    pd.concat([fs, extra], ignore_index=True).to_parquet(fs_path)
    return genes, fs, extra


@pytest.mark.parametrize("channel", ["switch", "abundance", "strongest"])
def test_both_channels_are_kept_and_the_driver_channel_gives_r(small_dir, small_sim, channel):
    genes, fs, extra = _with_abundance_rows(small_dir, small_sim)
    res = explain_module(small_dir / "oracle_fit", small_sim.feature_table, small_sim.feature_meta,
                         config=ExplainConfig(driver_channel=channel))["M000"]
    eig = res.eigengene
    table = res.gene_driver_table.set_index("gene_id")
    kept = []
    for gene, (_, abundance) in zip(genes, extra.iterrows()):
        switch = stats.pearsonr(fs.set_index("gene_id").loc[gene, eig.index].astype(float), eig)
        abund = stats.pearsonr(abundance[eig.index].astype(float), eig)
        assert table.loc[gene, "switch_r"] == pytest.approx(switch.statistic, abs=1e-12)
        assert table.loc[gene, "switch_pvalue"] == pytest.approx(switch.pvalue, rel=1e-9)
        assert table.loc[gene, "abundance_r"] == pytest.approx(abund.statistic, abs=1e-12)
        expected = {"switch": switch.statistic, "abundance": abund.statistic,
                    "strongest": max(switch.statistic, abund.statistic, key=abs)}[channel]
        assert table.loc[gene, "r"] == pytest.approx(expected, abs=1e-12)
        kept.append(table.loc[gene, "score_feature_type"])
    assert kept == {"switch": ["switch", "switch"], "abundance": ["abundance", "abundance"],
                    "strongest": ["switch", "abundance"]}[channel]
    others = table.drop(index=genes)  # genes without an abundance row: NaN abundance, r from the switch row
    assert others["abundance_r"].isna().all() and (others["r"] == others["switch_r"]).all()
    # each channel's q: BH over the module's rows of that channel
    assert np.allclose(table["switch_qvalue"], stats.false_discovery_control(table["switch_pvalue"]), rtol=1e-12)
    present = table["abundance_pvalue"].notna()
    assert np.allclose(table.loc[present, "abundance_qvalue"],
                       stats.false_discovery_control(table.loc[present, "abundance_pvalue"]), rtol=1e-12)


def test_split_percentile_sets_group_sizes(small_dir, small_sim):
    res = explain_module(small_dir / "oracle_fit", small_sim.feature_table, small_sim.feature_meta,
                         module_ids=["M000"], config=ExplainConfig(split_percentile=25))["M000"]
    assert len(res.high_samples) == len(res.low_samples) == 10  # 40 samples, continuous eigengene
    eig = res.eigengene
    assert eig[res.high_samples].min() > eig[res.low_samples].max()
    assert res.high_vs_low_table["n_high"].max() == 10


def test_module_score_table_overrides_eigengene(small_dir, small_sim):
    scores = small_sim.module_activity.copy()
    res = explain_module(small_dir / "oracle_fit", small_sim.feature_table, small_sim.feature_meta,
                         module_score_table=scores)
    pd.testing.assert_series_equal(res["M001"].eigengene, scores["M001"], check_names=False)
    assert res["M001"].eigengene_source == "module_score_table"
    from isograph.errors import InputError

    with pytest.raises(InputError, match="module score table \\(DataFrame\\): no column for module\\(s\\) M001"):
        explain_module(small_dir / "oracle_fit", small_sim.feature_table, small_sim.feature_meta,
                       module_score_table=scores[["M000"]])


def test_aligned_mean_option(small_dir, small_sim):
    res = explain_module(small_dir / "oracle_fit", small_sim.feature_table, small_sim.feature_meta,
                         config=ExplainConfig(eigengene_method="aligned_mean"))
    assert res["M000"].eigengene_source == "aligned_mean"
    pc1 = explain_module(small_dir / "oracle_fit", small_sim.feature_table, small_sim.feature_meta)
    assert np.corrcoef(res["M000"].eigengene, pc1["M000"].eigengene)[0, 1] > 0.9


def test_missing_values_reduce_n_samples(small_dir, small_sim):
    table = small_sim.feature_table.copy()
    rng = np.random.default_rng(3)
    table = table.mask(rng.random(table.shape) < 0.3)
    res = explain_module(small_dir / "oracle_fit", table, small_sim.feature_meta)["M000"]
    pol = res.transcript_polarity_table.set_index("feature_id")
    counts = table.notna().sum()
    np.testing.assert_array_equal(pol["n_samples"], counts[pol.index])
    np.testing.assert_allclose(pol["missing_fraction"], 1 - counts[pol.index] / 40)


def test_outputs_and_manifest(standard_dir, standard_results):
    out = standard_dir / "explain"
    manifest = read_manifest(out)
    assert manifest["module_ids"] == [f"M00{i}" for i in range(6)]
    assert manifest["config"] == asdict(ExplainConfig())
    assert manifest["package_version"]
    assert manifest["optional_features"] == {"annotation_table": False, "module_score_table": False,
                                             "vae_checkpoint_present": False, "vae_attribution": False,
                                             "integrated_gradients": False}
    for mid, res in standard_results.items():
        entry = manifest["modules"][mid]
        for name, rel in entry["files"].items():
            assert (out / rel).exists(), rel
        pd.testing.assert_frame_equal(pd.read_parquet(out / entry["files"]["gene_driver_table"]),
                                      res.gene_driver_table, check_dtype=False)
        assert entry["variance_explained"] == pytest.approx(res.variance_explained)
    assert not list(out.rglob("*.tmp"))


def test_second_run_keeps_other_modules_in_manifest(small_dir, small_sim):
    out = small_dir / "explain"
    explain_module(small_dir / "oracle_fit", small_sim.feature_table, small_sim.feature_meta,
                   module_ids=["M000"], output_dir=out)
    explain_module(small_dir / "oracle_fit", small_sim.feature_table, small_sim.feature_meta,
                   module_ids=["M001"], output_dir=out)
    manifest = json.loads((out / MANIFEST_NAME).read_text())
    assert manifest["module_ids"] == ["M001"] and set(manifest["modules"]) == {"M000", "M001"}


def test_failed_write_leaves_existing_outputs_intact(small_dir, small_sim, monkeypatch, snapshot):
    out = small_dir / "explain"
    explain_module(small_dir / "oracle_fit", small_sim.feature_table, small_sim.feature_meta, output_dir=out)
    before = snapshot(out)
    import pyarrow.parquet as pq

    original = pq.write_table

    def half_write_then_fail(table, where, *args, **kwargs):
        original(table.slice(0, table.num_rows // 2), where, *args, **kwargs)
        raise OSError("disk full")

    monkeypatch.setattr(pq, "write_table", half_write_then_fail)
    with pytest.raises(OSError, match="disk full"):
        explain_module(small_dir / "oracle_fit", small_sim.feature_table, small_sim.feature_meta,
                       output_dir=out, config=ExplainConfig(split_percentile=20))
    assert snapshot(out) == before  # nothing replaced, no temporary or staging files left


def test_atomic_write_replaces_whole_file(tmp_path):
    target = tmp_path / "x.json"
    cio.write_json({"a": 1}, target)
    with pytest.raises(RuntimeError):
        cio.atomic_write(target, lambda tmp: (tmp.write_text("partial"), (_ for _ in ()).throw(RuntimeError())))
    assert json.loads(target.read_text()) == {"a": 1}
    assert [p.name for p in tmp_path.iterdir()] == ["x.json"]


def test_annotation_table_merges_by_transcript_and_gene(small_dir, small_sim):
    pol_features = small_sim.feature_meta["feature_id"].iloc[:50]
    by_tx = pd.DataFrame({"transcript_id": pol_features, "consequence": "NMD sensitive", "r": 9.0})
    res = explain_module(small_dir / "oracle_fit", small_sim.feature_table, small_sim.feature_meta,
                         annotation_table=by_tx)
    pol = pd.concat([r.transcript_polarity_table for r in res.values()])
    annotated = pol[pol["feature_id"].isin(pol_features)]
    assert (annotated["consequence"] == "NMD sensitive").all()
    assert pol.loc[~pol["feature_id"].isin(pol_features), "consequence"].isna().all()
    assert (annotated["annotation_r"] == 9.0).all() and (annotated["r"] != 9.0).all()  # no clobbering
    assert "consequence" in res["M000"].high_vs_low_table and "consequence" not in res["M000"].gene_driver_table

    gene = res["M000"].gene_driver_table["gene_id"].iloc[0]
    path = small_dir / "genes.tsv"
    pd.DataFrame({"gene_id": [gene], "pathway": ["splicing"]}).to_csv(path, sep="\t", index=False)
    res = explain_module(small_dir / "oracle_fit", small_sim.feature_table, small_sim.feature_meta,
                         module_ids=["M000"], annotation_table=path, output_dir=small_dir / "ex")
    table = res["M000"].gene_driver_table.set_index("gene_id")
    assert table.loc[gene, "pathway"] == "splicing" and table["pathway"].notna().sum() == 1
    assert read_manifest(small_dir / "ex")["optional_features"]["annotation_table"] is True


def test_annotation_table_without_key_is_an_error(small_dir, small_sim):
    from isograph.errors import InputError

    with pytest.raises(InputError, match="needs a feature_id, transcript_id or gene_id column"):
        explain_module(small_dir / "oracle_fit", small_sim.feature_table, small_sim.feature_meta,
                       annotation_table=pd.DataFrame({"label": ["x"]}))


@pytest.mark.parametrize(("field", "value", "message"), [
    ("split_percentile", 60, "split_percentile must be in \\(0, 50\\]"),
    ("min_complete_pairs", 1, "min_complete_pairs must be an integer >= 2"),
    ("eigengene_method", "mean", "eigengene_method must be one of pc1, aligned_mean"),
])
def test_bad_config(small_dir, small_sim, field, value, message):
    from isograph.errors import InputError

    with pytest.raises(InputError, match=message):
        explain_module(small_dir / "oracle_fit", small_sim.feature_table, small_sim.feature_meta,
                       config=ExplainConfig(**{field: value}))

"""Module biology: kME with CIs, module–trait correlations (WGCNA's definition), the eigengene-by-group test
and GO enrichment, each against scipy or a hand-built case; the demo's planted traits; ``module-report``."""

from __future__ import annotations

import re
import shutil
import subprocess

import numpy as np
import pandas as pd
import pytest
from scipy import special, stats

from isograph.cli import main
from isograph.modules import eigengene_group_test, module_go, module_membership, module_trait_table, trait_matrix
from isograph.sae.go import GeneOntology


def test_kme_is_scipy_pearson_with_a_fisher_interval_and_hubs_by_abs_kme():
    rng = np.random.default_rng(3)
    eig = rng.normal(size=60)
    scores = np.vstack([eig * w + rng.normal(size=60) for w in (3.0, -2.5, 0.2, 1.0)])
    scores[3, :7] = np.nan
    genes = pd.DataFrame({"gene_id": list("ABCD"), "gene_name": list("abcd"), "feature_type": "switch",
                          "switch_called": [True, False, None, False]})
    table = module_membership(scores, eig, genes, n_hubs=2).set_index("gene_id")
    for i, gene in enumerate("ABCD"):
        ok = np.isfinite(scores[i])
        res = stats.pearsonr(scores[i, ok], eig[ok])
        ci = res.confidence_interval(0.95)
        assert table.loc[gene, "kME"] == pytest.approx(res.statistic, abs=1e-12)
        assert table.loc[gene, "pvalue"] == pytest.approx(res.pvalue, rel=1e-9)
        assert (table.loc[gene, "ci_low"], table.loc[gene, "ci_high"]) == pytest.approx((ci.low, ci.high), abs=1e-12)
        assert table.loc[gene, "n_samples"] == ok.sum()
    assert table["kME"].abs().is_monotonic_decreasing and set(table.index[:2]) == {"A", "B"}  # B's negative kME counts
    assert table["hub"].tolist() == [True, True, False, False] and not table.loc["C", "switch_called"]


def test_traits_are_one_hot_like_wgcna_and_correlated_like_scipy():
    covariates = pd.DataFrame({"sample_id": [f"s{i}" for i in range(8)],
                               "tissue": ["liver", "brain", "lung", "brain", None, "liver", "lung", "brain"],
                               "age": [30, 41, 52, 63, 24, 35, 46, 57], "smoker": [True, False] * 4,
                               "donor": [f"d{i}" for i in range(8)], "site": ["x"] * 8})
    traits = trait_matrix(covariates)
    # the first level (brain) dropped; a missing level stays missing; an ID-like or one-level column is no trait
    assert list(traits.columns) == ["tissue: liver vs rest", "tissue: lung vs rest", "age", "smoker"]
    np.testing.assert_array_equal(traits["tissue: liver vs rest"], [1, 0, 0, 0, np.nan, 1, 0, 0])
    covariates = pd.concat([covariates.drop(columns="donor")] * 3, ignore_index=True)
    covariates["sample_id"] = [f"s{i}" for i in range(24)]
    traits = trait_matrix(covariates)
    rng = np.random.default_rng(0)
    eig = pd.DataFrame(rng.normal(size=(24, 2)), index=traits.index, columns=["M000", "M001"])
    eig.iloc[2, 1] = np.nan
    table = module_trait_table(eig, traits)
    assert len(table) == 2 * 4
    for row in table.itertuples():
        x, y = eig[row.module_id].to_numpy(), traits[row.trait].to_numpy()
        ok = np.isfinite(x) & np.isfinite(y)
        res = stats.pearsonr(x[ok], y[ok])
        assert (row.r, row.pvalue, row.n_samples) == (pytest.approx(res.statistic, abs=1e-12),
                                                      pytest.approx(res.pvalue, rel=1e-9), ok.sum())
    np.testing.assert_allclose(table["qvalue"], stats.false_discovery_control(table["pvalue"]), rtol=1e-12)


def test_the_group_test_is_welch_for_two_groups_and_kruskal_wallis_for_more():
    rng = np.random.default_rng(1)
    eig = pd.Series(rng.normal(size=30), index=[f"s{i}" for i in range(30)])
    two = pd.Series(["a", "b"] * 15, index=eig.index)
    res = eigengene_group_test(eig, two)
    expected = stats.ttest_ind(eig[two == "a"], eig[two == "b"], equal_var=False)
    assert res["test"] == "Welch's t-test" and res["pvalue"] == pytest.approx(expected.pvalue, rel=1e-12)
    three = pd.Series(["a", "b", "c"] * 10, index=eig.index)
    res = eigengene_group_test(eig, three)
    expected = stats.kruskal(*(eig[three == g] for g in "abc"))
    assert res["test"] == "Kruskal–Wallis test" and res["pvalue"] == pytest.approx(expected.pvalue, rel=1e-12)
    assert np.isnan(eigengene_group_test(eig, pd.Series("a", index=eig.index))["pvalue"])


def test_go_enrichment_finds_a_planted_term_with_scipys_hypergeometric_p():
    """60 background genes; a planted term holds 8 of them, 6 of which are among the module's 7 called-switch
    genes; decoy terms are spread at random. p = hypergeom.sf(k - 1, N, K, n), q = BH over the terms tested."""
    rng = np.random.default_rng(7)
    background = [f"G{i:02d}" for i in range(60)]
    module = background[:20]
    called = module[:7]
    planted = called[:6] + background[40:42]
    pairs = [(g, "GO:PLANT") for g in planted]
    for t in range(12):
        pairs += [(g, f"GO:D{t:02d}") for g in rng.choice(background, size=8, replace=False)]
    ontology = GeneOntology(
        terms=pd.DataFrame({"go_id": ["GO:PLANT", *[f"GO:D{t:02d}" for t in range(12)]],
                            "term": ["planted process", *[f"decoy {t}" for t in range(12)]], "ontology": "BP"}),
        annotations=pd.DataFrame(pairs, columns=["gene", "go_id"]).drop_duplicates())
    genes = pd.DataFrame({"gene_name": module, "switch_called": [g in called for g in module]})
    table = module_go(genes, background, ontology)
    switch = table[table["gene_set"] == "called switch genes"].reset_index(drop=True)
    top = switch.iloc[0]
    annotated = set(ontology.annotations["gene"]) & set(background)
    big_n, n = len(annotated), len(set(called) & annotated)
    assert (top["go_id"], top["k"], top["K"], top["N"], top["n"]) == ("GO:PLANT", 6, 8, big_n, n)
    assert top["pvalue"] == pytest.approx(stats.hypergeom.sf(5, big_n, 8, n), rel=1e-12)
    assert top["pvalue"] == pytest.approx(sum(special.comb(8, k) * special.comb(big_n - 8, n - k)
                                              for k in range(6, min(8, n) + 1)) / special.comb(big_n, n), rel=1e-9)
    np.testing.assert_allclose(switch["qvalue"], stats.false_discovery_control(switch["pvalue"]), rtol=1e-12)
    assert top["qvalue"] < 0.05 and top["genes"] == ",".join(sorted(called[:6]))
    assert set(table["gene_set"]) == {"called switch genes", "all module genes"}


def test_the_demo_recovers_its_planted_traits_and_the_fits_kme(demo_root):
    from isograph.dataset.datasets import open_dataset
    from isograph.demo import PLANTED_TRAITS
    from isograph.modules.report import module_biology

    ds = open_dataset(demo_root, "demo")
    bio = module_biology(ds, "M001")
    fit_kme = pd.read_parquet(demo_root / "demo" / "fit" / "module_membership.parquet").set_index("gene_id")["kME"]
    ours = bio.membership.set_index("gene_id")["kME"]
    np.testing.assert_allclose(ours, fit_kme.reindex(ours.index), atol=1e-12)  # the fit's own computation
    traits = bio.traits.assign(abs_r=bio.traits["r"].abs())
    for trait, module in PLANTED_TRAITS.items():
        column = traits[traits["trait"].str.startswith(trait)]
        best = column.loc[column["abs_r"].idxmax()]
        assert best["module_id"] == module and best["abs_r"] > 0.5 and best["qvalue"] < 1e-10
        assert (column[column["module_id"] != module]["qvalue"] > 0.01).all()


def test_module_report_writes_tables_figures_and_a_one_page_a4_pdf(demo_root, tmp_path, capsys):
    out = tmp_path / "report"
    # (--no-go: the GO table is tested above and in the browser; reading the ontology would add 3 s here)
    assert main(["module-report", "--dataset", str(demo_root / "demo"), "--module", "M000", "--output-dir", str(out),
                 "--output-format", "svg", "--no-go"]) == 0
    names = sorted(p.name for p in out.iterdir())
    assert names == sorted(f"demo_M000_{n}" for n in (
        "hub_genes.tsv", "module_traits.tsv", "hub_genes.svg", "module_traits.svg",
        "eigengene_by_group.svg", "go_enrichment.svg", "report.pdf"))
    hubs = pd.read_csv(out / "demo_M000_hub_genes.tsv", sep="\t")
    assert hubs["kME"].abs().is_monotonic_decreasing and hubs["hub"].sum() == 10
    if shutil.which("pdfinfo"):
        info = subprocess.run(["pdfinfo", str(out / "demo_M000_report.pdf")], capture_output=True, text=True).stdout
        assert re.search(r"^Pages:\s+1$", info, re.MULTILINE)
        width, height = map(float, re.search(r"Page size:\s+([\d.]+) x ([\d.]+) pts", info).groups())
        assert (width * 25.4 / 72, height * 25.4 / 72) == (pytest.approx(210, abs=1), pytest.approx(297, abs=1))
        text = subprocess.run(["pdftotext", str(out / "demo_M000_report.pdf"), "-"], capture_output=True,
                              text=True).stdout
        assert "Module M000" in text and "condition" in text
    capsys.readouterr()
    assert main(["module-report", "--dataset", str(demo_root / "demo"), "--module", "M042", "--output-dir",
                 str(tmp_path / "x"), "--no-go"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "M042" in err and "M000" in err and "Traceback" not in err

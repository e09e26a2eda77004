"""Consequence enrichment: binomial p, Clopper-Pearson interval and BH q against statsmodels and hand sums."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.proportion import proportion_confint

from isograph.simulate import REFERENCE_GTF
from isograph.structure.cache import load_transcript_models
from isograph.structure.consequences import annotate_pairs
from isograph.structure.enrichment import CONSEQUENCE_TYPES, consequence_enrichment


def _two_sided_binomial(k: int, n: int) -> float:
    """Hand sum: probability of outcomes no more likely than k under Binomial(n, 1/2)."""
    pmf = [math.comb(n, i) / 2 ** n for i in range(n + 1)]
    return min(1.0, sum(p for p in pmf if p <= pmf[k] * (1 + 1e-7)))


def test_counts_p_ci_and_q_match_the_oracles():
    pairs = pd.DataFrame({
        "status": ["ok"] * 12 + ["not in GTF: T9"],
        "exon_number": ["Exon gain"] * 9 + ["Exon loss"] * 2 + [None, "Exon gain"],
        "nmd": ["NMD sensitive"] * 3 + ["NMD insensitive"] * 3 + [None] * 7,
        "intron_retention": ["Intron retention gain; Intron retention loss", "Intron retention loss"] + [None] * 11,
        "orf": ["ORF is longer", "Complete ORF gain", "Complete ORF gain", "ORF is shorter"] + [None] * 9,
    })
    table = consequence_enrichment(pairs).set_index("consequence_type")
    assert list(table.index) == ["Exon number", "Intron retention", "ORF length", "Coding potential", "NMD status"]
    exon = table.loc["Exon number"]
    assert (exon["n_gain"], exon["n_loss"]) == (9, 2)  # the failed pair is not counted
    assert table.loc["Intron retention", "n_total"] == 1  # a pair with both forms counts in neither
    assert table.loc["Coding potential", "n_gain"] == 2 and table.loc["ORF length", "n_total"] == 2
    for name, row in table.iterrows():
        assert row["pvalue"] == pytest.approx(_two_sided_binomial(row["n_gain"], row["n_total"]), rel=1e-9), name
        low, high = proportion_confint(row["n_gain"], row["n_total"], alpha=0.05, method="beta")
        assert (row["ci_low"], row["ci_high"]) == pytest.approx((low, high), abs=1e-9)
    assert exon["pvalue"] == pytest.approx(2 * (1 + 11 + 55) / 2 ** 11)
    q = multipletests(table["pvalue"], method="fdr_bh")[1]
    np.testing.assert_allclose(table["qvalue"], q, rtol=1e-12)
    assert exon["comparison"] == "Exon gain (paired with Exon loss)"


def test_groups_and_min_events():
    pairs = pd.DataFrame({"status": "ok", "module_id": ["M000"] * 6 + ["M001"] * 2,
                          "exon_number": ["Exon gain"] * 5 + ["Exon loss"] + ["Exon loss"] * 2})
    table = consequence_enrichment(pairs, by="module_id")
    assert table[["module_id", "n_gain", "n_loss"]].values.tolist() == [["M000", 5, 1], ["M001", 0, 2]]
    assert len(consequence_enrichment(pairs, by="module_id", min_events=3)) == 1
    assert consequence_enrichment(pairs.iloc[:0]).empty


def test_real_example_pairs():
    models = load_transcript_models(REFERENCE_GTF, use_cache=False).models
    first_last = models.groupby("gene_id")["transcript_id"].agg(["first", "last"])
    first_last = first_last[first_last["first"] != first_last["last"]]
    pairs = pd.DataFrame({"gene_id": first_last.index, "transcript_id_1": first_last["first"].to_numpy(),
                          "transcript_id_2": first_last["last"].to_numpy()})
    annotated = annotate_pairs(pairs, models)
    table = consequence_enrichment(annotated)
    assert set(table["consequence_type"]) <= {t[0] for t in CONSEQUENCE_TYPES} and len(table) >= 8
    ok = annotated[annotated["status"] == "ok"]
    exon = table.set_index("consequence_type").loc["Exon number"]
    assert exon["n_gain"] == (ok["exon_number"] == "Exon gain").sum()
    assert exon["n_loss"] == (ok["exon_number"] == "Exon loss").sum()

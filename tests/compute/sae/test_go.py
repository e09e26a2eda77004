"""GO propagation (true-path rule) on hand-picked genes, and enrichment p-values against scipy."""

from __future__ import annotations

from collections import deque

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from isograph.errors import InputError
from isograph.sae.go import GO_DIR, enrich, load_gene_ontology


@pytest.fixture(scope="module")
def go():
    return load_gene_ontology()


@pytest.fixture(scope="module")
def raw():
    direct = pd.read_csv(GO_DIR / "hs_gene2go.tsv.gz", sep="\t")
    direct = direct[direct["evidence"] != "ND"]
    parents = pd.read_csv(GO_DIR / "go_parents.tsv.gz", sep="\t")
    up = parents[parents["relationship"].isin(["isa", "part of"])].groupby("go_id")["parent_go_id"].apply(list).to_dict()
    return direct, parents, up


def _closure(terms, up: dict) -> set[str]:
    """The terms and all their is_a/part_of ancestors, by a breadth-first walk (the oracle)."""
    seen, queue = set(terms), deque(terms)
    while queue:
        for parent in up.get(queue.popleft(), []):
            if parent not in seen:
                seen.add(parent)
                queue.append(parent)
    return seen


def _direct(gene: str, direct: pd.DataFrame) -> list[str]:
    return sorted(set(direct.loc[direct["symbol"] == gene, "go_id"]))


def test_hand_picked_gene_inherits_ancestors(go):
    a1cf = set(go.annotations.loc[go.annotations["gene"] == "A1CF", "go_id"])
    assert "GO:0006397" in a1cf  # mRNA processing, annotated directly
    assert {"GO:0016071", "GO:0016070", "GO:0006396", "GO:0008150"} <= a1cf  # its is_a ancestors up to the root


@pytest.mark.parametrize("gene", ["A1CF", "TP53", "CDK1", "GAPDH"])
def test_propagation_equals_a_breadth_first_walk(go, raw, gene):
    direct, _, up = raw
    expected = _closure(_direct(gene, direct), up)
    assert set(go.annotations.loc[go.annotations["gene"] == gene, "go_id"]) == expected


def test_regulates_edges_are_not_followed(go, raw):
    direct, parents, up = raw
    regulates = parents[parents["relationship"].str.contains("regulates")]
    by_gene = direct.groupby("symbol")["go_id"].apply(list)
    checked = 0
    for child, parent in zip(regulates["go_id"], regulates["parent_go_id"]):
        for gene in direct.loc[direct["go_id"] == child, "symbol"].unique()[:3]:
            if parent not in _closure(by_gene[gene], up):
                assert parent not in set(go.annotations.loc[go.annotations["gene"] == gene, "go_id"])
                checked += 1
        if checked >= 5:
            break
    assert checked >= 5


def test_enrichment_p_values_equal_scipy(go):
    background = sorted(go.annotations["gene"].unique())[:4000]
    rng = np.random.default_rng(0)
    gene_set = list(rng.choice(background, 60, replace=False)) + ["NOT_A_GENE"]
    table = enrich(gene_set, background, go, min_genes=3)
    universe = set(go.annotations.loc[go.annotations["gene"].isin(background), "gene"])
    genes = set(gene_set) & universe
    assert (table["N"] == len(universe)).all() and (table["n"] == len(genes)).all()
    for row in table.head(15).itertuples():
        members = go.genes_of(row.go_id) & universe
        k = len(members & genes)
        assert (row.k, row.K) == (k, len(members))
        assert row.pvalue == pytest.approx(stats.hypergeom.sf(k - 1, len(universe), len(members), len(genes)))
        fisher = stats.fisher_exact([[k, len(genes) - k], [len(members) - k, len(universe) - len(members) - len(genes) + k]],
                                    alternative="greater")
        assert row.pvalue == pytest.approx(fisher.pvalue, rel=1e-9)
        assert set(row.genes.split(",")) - {""} == members & genes
    np.testing.assert_allclose(table.sort_index()["qvalue"], stats.false_discovery_control(table.sort_index()["pvalue"]))


def test_enrichment_needs_symbols(go):
    with pytest.raises(InputError, match="no background gene has a GO annotation"):
        enrich(["XLOC_1"], ["XLOC_1", "XLOC_2"], go)


def test_edge_genes_splits_and_drops_empty_names():
    from isograph.sae.go import edge_genes

    edges = pd.DataFrame({"feature": [1, 2, 3, 1], "genes": ["A,B", "", None, "C"]})
    assert edge_genes(edges).values.tolist() == [[1, "A"], [1, "B"], [1, "C"]]

"""GO over-representation of a module's genes against the data set's genes.

Two gene sets per module: its called-switch genes (explain's ``switch_called``) and all its genes; both
against the same background, every gene of the data set with a name that the shipped ontology annotates.
The test is :func:`isograph.sae.go.enrich`: one-sided hypergeometric (``scipy.stats.hypergeom.sf``) with
Benjamini–Hochberg q over the terms tested, after propagating annotations to ancestor terms along
``is_a``/``part_of``.
"""

from __future__ import annotations

import functools

import pandas as pd

from isograph.sae.go import GeneOntology, enrich, load_gene_ontology

__all__ = ["GENE_SETS", "module_go", "shipped_ontology"]

GENE_SETS = ("called switch genes", "all module genes")


@functools.lru_cache(maxsize=1)
def shipped_ontology() -> GeneOntology:
    """The shipped Gene Ontology, propagated (read once per process: about 3 s)."""
    return load_gene_ontology()


def module_go(genes: pd.DataFrame, background: list[str], ontology: GeneOntology | None = None, *,
              min_genes: int = 3, max_genes: int = 2000) -> pd.DataFrame:
    """GO enrichment of a module's called-switch genes and of all its genes.

    Parameters
    ----------
    genes : DataFrame
        The module's genes: ``gene_name`` (symbols, e.g. TP53) and ``switch_called`` (bool).
    background : list of str
        Gene symbols of the data set (the module's genes among them).
    ontology : GeneOntology, optional
        Default the shipped one (:func:`shipped_ontology`).
    min_genes, max_genes : int
        Terms with fewer or more annotated background genes are not tested.

    Returns
    -------
    DataFrame
        ``gene_set`` (one of :data:`GENE_SETS`) then :func:`isograph.sae.go.enrich`'s columns ``go_id, term,
        ontology, k, n, K, N, expected, fold_enrichment, pvalue, qvalue, genes``; q within each gene set. A
        gene set with no annotated gene has no rows.
    """
    ontology = ontology or shipped_ontology()
    names = genes["gene_name"].astype("string")
    called = genes["switch_called"].fillna(False).to_numpy(dtype=bool)
    sets = {GENE_SETS[0]: names[called].dropna().tolist(), GENE_SETS[1]: names.dropna().tolist()}
    annotated = set(ontology.annotations["gene"])
    parts = []
    for name, members in sets.items():
        if not set(members) & annotated & set(background):
            continue
        parts.append(enrich(members, background, ontology, min_genes=min_genes, max_genes=max_genes)
                     .assign(gene_set=name))
    if not parts:
        return pd.DataFrame(columns=["gene_set", "go_id", "term", "ontology", "k", "n", "K", "N", "expected",
                                     "fold_enrichment", "pvalue", "qvalue", "genes"])
    table = pd.concat(parts, ignore_index=True)
    return table[["gene_set", *[c for c in table.columns if c != "gene_set"]]]

"""What each column of the app's tables means: definition, test and direction, shown as the header's tooltip.

One dict per table (:data:`TABLE_HELP`), because the same name can mean different things in different tables
(``pvalue`` is a Pearson test of r in the driver tables, an exact binomial test in the consequence table and a
hypergeometric test in the GO table). The words follow the README's definitions.
"""

from __future__ import annotations

__all__ = ["TABLE_HELP", "column_help"]

_DIRECTION = "positive: higher in high-module samples (follows the eigengene); negative: higher in low-module samples"
_PEARSON = {
    "r": f"Pearson r with the module eigengene over pairwise-complete samples; {_DIRECTION}",
    "pvalue": "two-sided p of Pearson r (t = r·√((n−2)/(1−r²)), df n−2)",
    "qvalue": "Benjamini–Hochberg q of pvalue within this module's table",
    "ci_low": "lower end of the 95% confidence interval of r (Fisher z)",
    "ci_high": "upper end of the 95% confidence interval of r (Fisher z)",
    "n_samples": "samples with both the score and the eigengene (pairwise complete)",
    "missing_fraction": "fraction of samples without a value for this score",
}
_IDS = {
    "gene_id": "gene ID of the data set's feature table",
    "gene_name": "gene symbol from the annotation",
    "feature_id": "transcript-usage feature (transcript usage = its expression / the gene's expression)",
    "module_id": "co-regulated module (WGCNA-style) the switch belongs to",
    "transcript_id": "transcript ID",
}
_STRENGTH = "max(r) − min(r) over the gene's transcript-usage features with finite r (0 with fewer than 2); 0 to 2"
_DELTA_USAGE = ("mean transcript usage in high- minus low-module samples (IsoformSwitchAnalyzeR's dIF); positive:"
                " used more in high-module samples")

TABLE_HELP: dict[str, dict[str, str]] = {
    "module-gene-table": {
        **_IDS, **_PEARSON,
        "switch_called": "true when the switch score's q ≤ α and one transcript is significantly used more in high-"
                         "and another in low-module samples (q ≤ α, |delta_usage| ≥ 0.1)",
        "driver_kind": "how the gene drives the module: switch, abundance (abundance q ≤ α), switch+abundance or none",
        "switch_r": f"Pearson r of the gene's switch score with the eigengene; {_DIRECTION}",
        "switch_qvalue": "BH q of switch_r's Pearson test over the module's switch rows",
        "abundance_r": f"Pearson r of the gene's abundance (expression) with the eigengene; {_DIRECTION}",
        "abundance_qvalue": "BH q of abundance_r's Pearson test over the module's abundance rows",
        "switch_up_feature": "the significant transcript used more in high-module samples with the largest usage change",
        "switch_up_delta_usage": f"delta_usage of switch_up_feature: {_DELTA_USAGE}",
        "switch_down_feature": "the significant transcript used more in low-module samples with the largest usage change",
        "switch_down_delta_usage": f"delta_usage of switch_down_feature: {_DELTA_USAGE}",
        "n_samples": "samples with both the driver channel's score and the eigengene",
        "missing_fraction": "fraction of samples without the driver channel's score",
        "switch_strength": _STRENGTH,
        "switch_consequences": "structural consequences of switching from the down to the up transcript"
                               " (structure annotation, IsoformSwitchAnalyzeR's words)",
    },
    "module-tx-table": {
        **_IDS, **_PEARSON,
        "delta_usage": _DELTA_USAGE,
        "switch_strength": f"of the gene: {_STRENGTH}",
        "direction": "the sign of r in words",
        "structure_consequences": "consequences of switching to this transcript from its partner (structure annotation)",
        "structure_nmd": "true when the stop codon lies > 50 nt upstream of the last exon–exon junction (NMD-sensitive)",
        "structure_biotype": "transcript biotype from the GTF",
    },
    "structure-pairs-table": {
        **_IDS,
        "transcript_id_1": "the transcript switched from (used more in low-module samples)",
        "transcript_id_2": "the transcript switched to (used more in high-module samples)",
        "status": "ok, or why the pair could not be annotated (a transcript missing from the GTF)",
        "consequences": "how transcript 2 differs from transcript 1 (IsoformSwitchAnalyzeR's words, transcript"
                        " orientation)",
        "switch_strength": _STRENGTH,
        "qvalue_1": "BH q of transcript 1's Pearson r with the eigengene",
        "qvalue_2": "BH q of transcript 2's Pearson r with the eigengene",
        "delta_usage_1": f"of transcript 1: {_DELTA_USAGE}",
        "delta_usage_2": f"of transcript 2: {_DELTA_USAGE}",
        "delta_length": "transcript length of 2 minus 1 (nt)",
        "delta_orf_length": "ORF length of 2 minus 1 (nt)",
        "shared_exon_fraction": "exonic bases shared by the two transcripts / bases in either",
        "pair_source": "which pairs were annotated: called switches, or pairs uploaded or from an earlier run",
        "annotation_run": "the annotation run that produced this row",
    },
    "structure-enrichment-table": {
        "consequence_type": "a consequence with two opposite forms (gain and loss)",
        "comparison": "the form counted as a gain, and its opposite",
        "n_gain": "switches showing the gain form", "n_loss": "switches showing the loss form",
        "n_total": "n_gain + n_loss",
        "fraction_gain": "n_gain / n_total; above 0.5: the gain form is more common",
        "ci_low": "lower end of the Clopper-Pearson 95% interval of fraction_gain",
        "ci_high": "upper end of the Clopper-Pearson 95% interval of fraction_gain",
        "pvalue": "exact two-sided binomial test of fraction_gain against ½ (scipy.stats.binomtest)",
        "qvalue": "Benjamini–Hochberg q over all consequence types",
    },
    "sae-features": {
        "feature": "SAE feature index",
        "pagerank_rank": "rank by PageRank among the graph's features (1 = highest); a ranking, not a test",
        "pagerank": "weighted PageRank on the collapsed knowledge graph (networkx)",
        "degree_centrality": "degree centrality on the collapsed knowledge graph",
        "n_tokens": "tokens whose strongest feature this is (edges token → feature)",
        "log10_ratio": "log10 of PageRank in the first set / the second set; empty unless in both graphs",
        "seen_in": "which set's graph has the feature (both, or only one: then no ratio)",
        "best_concept": "the annotation concept with the highest validation F1 for this feature",
        "best_concept_f1": "that concept's F1 on tokens of held-out genes",
    },
    "sae-concept-features": {
        "feature": "SAE feature index", "concept": "annotation concept (CDS, UTR, ...) of the tokens",
        "f1": "F1 of 'feature active' against 'token in the concept' on tokens of held-out genes",
        "precision": "of the held-out tokens where the feature is active, the fraction in the concept",
        "recall": "of the held-out tokens in the concept, the fraction where the feature is active",
        "threshold": "activation threshold as a fraction of the feature's largest activation (chosen on training"
                     " genes)",
        "n_active": "held-out tokens where the feature is active",
        "n_concept_tokens": "held-out tokens in the concept",
    },
    "feature-sequences": {
        "seq_id": "sequence ID", "set": "which input set the sequence comes from", "gene_name": "gene of the sequence",
        "max_activation": "the feature's largest activation on the sequence",
        "n_active": "tokens of the sequence where the feature is active (> 0)",
        "argmax_token": "the token with the largest activation",
        "n_copies": "sequences with the identical token string, shown once under the first ID",
        "interval": "top sequences, or the quantile interval of the per-sequence maximum the sequence was sampled"
                    " from",
    },
    "feature-switches": {
        **_IDS, "pair": "switch pair T1>T2 (a called switch)",
        "set": "gained (only transcript 2 has the stretch) or lost (only transcript 1 has it)",
        "genomic_start": "start of the exonic stretch (genomic coordinate)",
        "genomic_end": "end of the exonic stretch (genomic coordinate)",
        "activation": "the feature's largest activation on the stretch",
    },
    "feature-go-table": {
        "go_id": "Gene Ontology term", "term": "term name", "ontology": "BP, MF or CC",
        "k": "genes of the set annotated with the term (after propagation to ancestors)",
        "n": "genes of the set in the background", "K": "background genes annotated with the term",
        "N": "background genes", "fold_enrichment": "(k/n) / (K/N)",
        "pvalue": "one-sided hypergeometric test P(X ≥ k) (= Fisher's exact test, greater)",
        "qvalue": "Benjamini–Hochberg q over the tested terms", "genes": "the set's genes annotated with the term",
    },
    "feature-intervention-table": {
        "seq_id": "sequence ID", "token_index": "token position in the sequence", "token": "the token",
        "z_before": "the feature's activation before the intervention",
        "z_after": "the feature's activation after the intervention (max(z, δ)·α)",
        "p_token_before": "the model's probability of the actual token before",
        "p_token_after": "the model's probability of the actual token after",
        "top_token_before": "the model's most likely token before", "top_token_after": "the model's most likely token after",
        "top_changed": "true when the most likely token changed",
        "kl": "KL(before ‖ after) of the model's token distribution (nats)",
    },
}
TABLE_HELP["module-hub-table"] = {
    **_IDS, "kME": "module membership: Pearson r of the gene's fit feature score with the module eigengene (WGCNA);"
                   " positive: rises with the eigengene",
    "ci_low": "lower end of the 95% confidence interval of kME (Fisher z)",
    "ci_high": "upper end of the 95% confidence interval of kME (Fisher z)",
    "qvalue": "Benjamini–Hochberg q of kME's Pearson test over the module's genes",
    "n_samples": "samples with both the gene's score and the eigengene",
    "feature_type": "the fit score the fit chose for the gene (switch or abundance; module_membership.parquet)",
    "switch_called": "true when explain called an isoform switch in this gene (see the gene-driver table)",
    "hub": "one of the 10 genes of largest |kME| with q ≤ 0.05",
}
TABLE_HELP["module-trait-table"] = {
    "module_id": "the module whose eigengene is correlated",
    "trait": "a covariate; a text covariate becomes one 0/1 column per level after the first ('level vs rest')",
    "r": "Pearson r of the module eigengene with the trait over the samples with both (WGCNA's module–trait r)",
    "pvalue": "two-sided p of r: Student's t on n − 2 df (WGCNA's corPvalueStudent)",
    "qvalue": "Benjamini–Hochberg q over every module × trait cell",
    "n_samples": "samples with both the eigengene and the trait",
}
TABLE_HELP["module-go-table"] = {
    **TABLE_HELP["feature-go-table"],
    "gene_set": "the module's called-switch genes, or all its genes; the background is every data-set gene the"
                " ontology annotates",
}
TABLE_HELP["gene-tx-table"] = {**TABLE_HELP["module-tx-table"],
                               "structure_orf_length": "ORF length of the transcript (nt)",
                               "structure_partner": "the transcript this one is compared with (structure annotation)"}
TABLE_HELP["samples-compare-table"] = {
    "feature_id": "what was compared: a gene's switch score (the gene ID) or a transcript-usage feature",
    "gene_id": "gene ID of the data set's feature table",
    "gene_name": "gene symbol from the annotation",
    "module_id": "the module whose explain run holds the gene (empty: the gene is in no explained module)",
    "n_a": "samples of group A with a value for this feature",
    "n_b": "samples of group B with a value for this feature",
    "mean_a": "mean over group A (switch score: unitless; transcript usage: fraction of the gene's expression)",
    "mean_b": "mean over group B (same unit as mean_a)",
    "delta": "mean_a − mean_b: positive when the feature is higher in group A",
    "t": "Welch's t (unequal variances) of A vs B; its sign is delta's",
    "df": "Welch–Satterthwaite degrees of freedom of t",
    "pvalue": "two-sided p of Welch's t-test (scipy.stats.ttest_ind with equal_var=False)",
    "qvalue": "Benjamini–Hochberg q over the features tested in this comparison",
}


def column_help(table_id: str, column: str) -> str | None:
    """The header tooltip of ``column`` in table ``table_id`` (None when there is none).

    Parameters
    ----------
    table_id : str
        The table's name (``data_grid``'s ``table_id``).
    column : str
        The column name.

    Returns
    -------
    str or None
    """
    return TABLE_HELP.get(table_id, {}).get(column)

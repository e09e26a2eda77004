"""What a module is about: its hub genes (kME), its relation to sample traits, and its GO enrichment.

Modules
-------
membership  kME of every module gene (Pearson r of its fit feature score with the eigengene) with 95% CI.
traits      Module–trait correlations (WGCNA's definition; categorical covariates one-hot) and the eigengene
            by sample group (Welch's t or Kruskal–Wallis).
go_terms    GO over-representation of the module's called-switch genes and of all its genes against the
            data set's genes (hypergeometric, BH; the shipped ontology propagated along is_a/part_of).
report      All of the above for one module of a data set, and ``isograph module-report``'s files.
"""

from isograph.modules.go_terms import module_go
from isograph.modules.membership import module_membership
from isograph.modules.traits import eigengene_group_test, module_trait_table, trait_matrix

__all__ = ["eigengene_group_test", "module_go", "module_membership", "module_trait_table", "trait_matrix"]

"""Fit modules from transcript counts: ``from isograph.fit import run_fit, FitConfig``.

importers     counts matrices, salmon folders, tx2gene from a table or a GTF, the annotation-overlap check
scores        per-gene switch (within-gene CLR PC1) and abundance (z log2 CPM) scores, covariate regression
vae_config    VAEConfig (torch-free)
vae           the VAE, its training and checkpoint (weights_only=True); torch is imported here only
modules       reconstruction-similarity graph, communities (Leiden/Louvain/components), recovery score
pipeline      run_fit: scores -> VAE -> modules -> kME -> fit directory, with progress
"""

from isograph.fit.importers import CountsImport, load_counts, load_salmon_dir, load_tx2gene, match_annotation
from isograph.fit.modules import DiscoveryConfig, discover_modules, module_recovery
from isograph.fit.pipeline import FitConfig, FitResult, run_fit
from isograph.fit.scores import abundance_scores, regress_covariates, switch_scores
from isograph.fit.vae_config import VAEConfig

__all__ = [
    "CountsImport",
    "DiscoveryConfig",
    "FitConfig",
    "FitResult",
    "VAEConfig",
    "abundance_scores",
    "discover_modules",
    "load_counts",
    "load_salmon_dir",
    "load_tx2gene",
    "match_annotation",
    "module_recovery",
    "regress_covariates",
    "run_fit",
    "switch_scores",
]

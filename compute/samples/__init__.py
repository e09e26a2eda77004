"""Samples: where each sample sits among the modules, and what differs between two groups of samples.

Modules
-------
embedding  A 2-D map of the samples: PCA or UMAP of the module eigengenes (z-scored per module).
compare    Welch's t-test of every feature between two groups of samples, BH over the features tested.
dataset    Both for a data set: its eigengenes, covariates, switch scores and transcript usage.
"""

from isograph.samples.compare import welch_compare
from isograph.samples.embedding import eigengene_pca, eigengene_umap

__all__ = ["eigengene_pca", "eigengene_umap", "welch_compare"]

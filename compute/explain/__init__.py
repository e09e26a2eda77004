"""Explain modules: which genes and transcripts drive each module, and in which direction.

The manual's Python API: ``from isograph.explain import explain_module, ExplainConfig, ExplainResult``.

contracts     ExplainConfig, ExplainResult, file names and the manual's columns
kernel        the per-module statistics (inputs aligned once; vectorised over features)
run           explain_module: load, run the modules on threads, attribute, annotate, write
writers       per-module tables and the manifest, written atomically
stats         Pearson r / p / Fisher CI, Benjamini-Hochberg q, Welch t (vectorised, scipy-exact)
eigengene     WGCNA PC1 module eigengene (or the sign-aligned mean)
attribution   VAE decoder finite differences and Captum Integrated Gradients (torch, loaded on use)
"""

from isograph.explain.contracts import (
    GENE_DRIVER_COLUMNS,
    HIGH_VS_LOW_COLUMNS,
    MANIFEST_NAME,
    TRANSCRIPT_POLARITY_COLUMNS,
    ExplainConfig,
    ExplainResult,
)
from isograph.explain.run import explain_module
from isograph.explain.writers import module_config, read_manifest

__all__ = [
    "GENE_DRIVER_COLUMNS",
    "HIGH_VS_LOW_COLUMNS",
    "MANIFEST_NAME",
    "TRANSCRIPT_POLARITY_COLUMNS",
    "ExplainConfig",
    "ExplainResult",
    "explain_module",
    "module_config",
    "read_manifest",
]

"""IsoGraph Explorer compute layer: all the science, usable from a notebook with no web stack.

Modules
-------
artifacts   load and validate fit artifacts, feature tables and feature metadata
stats       vectorised Pearson r / p / Fisher-z CI, Benjamini-Hochberg q, Welch t
eigengene   module eigengene (WGCNA PC1, or IsoGraph's sign-aligned mean)
explain     explain_module, ExplainConfig, ExplainResult
fit         per-gene switch and abundance scores
simulate    counts with planted modules and isoform switches, plus an oracle fit
"""

from importlib import metadata as _metadata

try:
    __version__ = _metadata.version("isograph-explorer")
except _metadata.PackageNotFoundError:  # running from a checkout that was not pip-installed
    __version__ = "0.1.0"

__all__ = ["__version__"]

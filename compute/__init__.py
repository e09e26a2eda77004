"""IsoGraph Explorer's science, as the package ``isograph``: usable from a notebook with no web stack.

Sub-packages, one per domain:

explain     module eigengenes, driver statistics (Pearson r/p/CI, BH q, Welch t), ``explain_module``,
            VAE decoder attribution and Integrated Gradients
fit         count importers, per-gene switch/abundance scores, the VAE, module discovery, ``run_fit``
structure   GTF reader and cache, transcript models, switch consequences, consequence enrichment
sae         DNA language-model hidden states, sparse autoencoders, knowledge graph, GO, interventions
dataset     the data-set layer: file formats, fit artifacts, atomic writes, data sets under a root
figures     pure functions from the tables above to plotly figures, and their rendering (kaleido)
cli         the ``isograph`` command
reference   the small real public data shipped with the package

and the modules ``errors`` (InputError, InputWarning), ``simulate`` (planted-truth data sets) and
``demo`` (the embedded demo data set).
"""

from importlib import metadata as _metadata

if __name__ != "isograph":  # one module object per class: never import the folder under its own name
    raise ImportError(f"this package is `isograph`; it was imported as {__name__!r}. Install it with"
                      " `pip install --no-deps -e .` and import isograph")

try:
    __version__ = _metadata.version("isograph-explorer")
except _metadata.PackageNotFoundError:  # pragma: no cover - the package is always installed to be importable
    __version__ = "0.1.0"

__all__ = ["__version__"]

"""Hidden-State-Genomics pipeline (``from isograph.sae import embed_sequences, train_sae, ...``): DNA sequences -> language-model hidden states -> sparse-autoencoder
features -> knowledge graph -> centrality -> GO enrichment -> feature interventions.

Modules (torch and transformers are imported only where a model is used):

- :mod:`isograph.sae.sequences` FASTA reading, coordinates from headers, tiling;
- :mod:`isograph.sae.lm` 6-mer tokens with a token -> sequence position map, local masked-LM loading,
  a small DNA masked LM the project trains itself;
- :mod:`isograph.sae.embed` batched hidden states with dynamic padding, cached on disk;
- :mod:`isograph.sae.model` the sparse autoencoder, its training and checkpoints;
- :mod:`isograph.sae.graph` the token/sequence -> feature knowledge graph, PageRank, set contrast;
- :mod:`isograph.sae.go` Gene Ontology annotations, true-path propagation, hypergeometric enrichment;
- :mod:`isograph.sae.intervene` feature edits patched into the model with a forward hook.
"""

from isograph.sae.embed import Activations, embed_sequences, load_activations, save_activations
from isograph.sae.go import enrich, load_gene_ontology
from isograph.sae.graph import build_knowledge_graph, centrality, contrast_sets, strongest_features, token_edges
from isograph.sae.intervene import intervene
from isograph.sae.lm import load_masked_lm
from isograph.sae.model import SAEConfig, encode, load_sae, train_sae
from isograph.sae.runs import build_run, find_runs
from isograph.sae.sequences import read_fasta, read_sequence_sets, tile_sequences
from isograph.sae.train_lm import LMConfig, train_masked_lm

__all__ = [
    "Activations",
    "LMConfig",
    "SAEConfig",
    "build_knowledge_graph",
    "build_run",
    "centrality",
    "contrast_sets",
    "embed_sequences",
    "encode",
    "enrich",
    "find_runs",
    "intervene",
    "load_activations",
    "load_gene_ontology",
    "load_masked_lm",
    "load_sae",
    "read_fasta",
    "read_sequence_sets",
    "save_activations",
    "strongest_features",
    "tile_sequences",
    "token_edges",
    "train_masked_lm",
    "train_sae",
]

"""Hidden-State-Genomics pipeline: DNA sequences -> language-model hidden states -> sparse-autoencoder
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

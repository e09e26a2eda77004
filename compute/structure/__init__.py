"""Structural consequences of isoform switches: ``from isograph.structure import load_transcript_models,
annotate_pairs, consequence_enrichment``.

gtf            columnar GTF reader (pyarrow; GENCODE, Ensembl, RefSeq and cufflinks attribute styles)
models         transcript models: exons, CDS, UTRs, ORF, TSS/TTS, splice junctions, PTC/NMD call
cache          transcript models with a fingerprinted parquet cache (load_transcript_models)
consequences   what using transcript 2 instead of transcript 1 changes (IsoformSwitchAnalyzeR's types)
enrichment     gain vs loss per consequence type: binomial test, Clopper-Pearson CI, BH q
annotate       a data set's switches annotated into its structure/ folder; upload checks; table labels
"""

from isograph.structure.annotate import annotate_switches, read_pairs_upload, with_structure_labels
from isograph.structure.cache import GtfModels, load_transcript_models
from isograph.structure.consequences import (
    annotate_pairs,
    pair_consequences,
    switch_pairs_from_explain,
    transcript_annotation,
)
from isograph.structure.enrichment import consequence_enrichment
from isograph.structure.gtf import read_gtf
from isograph.structure.models import splice_junctions, transcript_models

__all__ = [
    "GtfModels",
    "annotate_pairs",
    "annotate_switches",
    "consequence_enrichment",
    "load_transcript_models",
    "pair_consequences",
    "read_gtf",
    "read_pairs_upload",
    "splice_junctions",
    "switch_pairs_from_explain",
    "transcript_annotation",
    "transcript_models",
    "with_structure_labels",
]

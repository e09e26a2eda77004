"""Storing a data set's switch annotation, uploads, and the labels merged into the driver tables."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from isograph.errors import InputError
from isograph.simulate import REFERENCE_GTF
from isograph.structure.annotate import annotate_switches, read_pairs_upload, with_structure_labels
from isograph.structure.cache import load_transcript_models
from isograph.structure.enrichment import consequence_enrichment


def test_annotate_switches_writes_every_table_and_says_if_the_cache_was_used(tmp_path):
    gtf = tmp_path / "a.gtf.gz"
    gtf.write_bytes(REFERENCE_GTF.read_bytes())
    pairs = pd.DataFrame({"gene_id": ["XLOC_000001", "XLOC_000001"], "transcript_id_1": ["TCONS_00000001", "X"],
                          "transcript_id_2": ["TCONS_00000002", "TCONS_00000001"], "module_id": ["M000", "M000"]})
    first = annotate_switches(gtf, pairs, tmp_path / "structure")
    second = annotate_switches(gtf, pairs, tmp_path / "structure")
    assert (first["cache_used"], second["cache_used"]) == (False, True)
    assert (second["n_pairs"], second["n_ok"]) == (2, 1)
    assert json.loads((tmp_path / "structure" / "structure.json").read_text()) == second
    per_tx = pd.read_parquet(tmp_path / "structure" / "transcript_annotation.parquet")
    assert set(per_tx["transcript_id"]) == {"TCONS_00000001", "TCONS_00000002"}
    with pytest.raises(InputError, match="missing required column"):
        annotate_switches(gtf, pairs.drop(columns="transcript_id_2"), tmp_path / "structure")


def test_uploads_are_checked():
    good = b"gene_id\ttranscript_id_1\ttranscript_id_2\tnote\nG1\tT1\tT2\tx\n"
    assert read_pairs_upload(good, "p.tsv")["transcript_id_2"].tolist() == ["T2"]
    assert len(read_pairs_upload(b"gene_id,transcript_id_1,transcript_id_2\nG,A,B\n", "p.csv")) == 1
    with pytest.raises(InputError, match=r"p.tsv: missing column\(s\) transcript_id_2"):
        read_pairs_upload(b"gene_id\ttranscript_id_1\nG\tT\n", "p.tsv")
    with pytest.raises(InputError, match="p.tsv: row 3 has an empty gene or transcript ID"):
        read_pairs_upload(good + b"G2\t\tT3\tx\n", "p.tsv")
    with pytest.raises(InputError, match="MiB an upload may have"):
        read_pairs_upload(b"x" * (21 * 1024 * 1024), "big.tsv")
    with pytest.raises(InputError, match="not a tab-separated table"):
        read_pairs_upload(b"\xff\xfe\x00bad", "p.tsv")


def test_labels_join_on_transcripts_and_genes():
    genes = pd.DataFrame({"gene_id": ["G1", "G2"], "r": [0.9, 0.5], "switch_down_feature": ["T1", None],
                          "switch_up_feature": ["T2", None]})
    polarity = pd.DataFrame({"feature_id": ["T1", "T2", "T3"], "transcript_id": ["T1", "T2", None],
                             "gene_id": ["G1", "G1", "G2"]})
    pairs = pd.DataFrame({"gene_id": ["G1", "G1", "G2", "G1"], "module_id": ["M000", "M000", "M000", "M001"],
                          "transcript_id_1": ["T4", "T1", "T3", "T1"], "transcript_id_2": ["T2", "T2", "T9", "T2"],
                          "status": ["ok", "ok", "not in GTF: T9", "ok"],
                          "consequences": ["Exon loss", "Exon gain", None, "Tss more upstream"]})
    per_tx = pd.DataFrame({"transcript_id": ["T2", "T3"], "structure_consequences": ["Exon gain", "NMD sensitive"],
                           "structure_nmd": [False, True]})
    g, p = with_structure_labels(genes, polarity, pairs, per_tx, module_id="M000")
    # the pair of the gene's reported down -> up transcripts is preferred, and the others are counted
    assert g["switch_consequences"].tolist()[0] == "T1 → T2: Exon gain (+1 more annotated pair)"
    assert pd.isna(g["switch_consequences"].iloc[1])
    assert p["structure_consequences"].tolist()[1:] == ["Exon gain", "NMD sensitive"]  # T3 found by its feature_id
    assert pd.isna(p["structure_consequences"].iloc[0])
    same_g, same_p = with_structure_labels(genes, polarity, None, None)
    assert same_g.equals(genes) and same_p.equals(polarity)


def test_a_run_adds_to_the_annotation_and_names_itself_per_row(tmp_path):
    """Annotating module A, then an upload, then A again: nothing of the others is dropped; the enrichment is
    over the called switches only; each row says which run produced it."""
    gtf = tmp_path / "a.gtf.gz"
    gtf.write_bytes(REFERENCE_GTF.read_bytes())
    models = load_transcript_models(gtf).models
    multi = models.groupby("gene_id").filter(lambda g: len(g) >= 2).groupby("gene_id").head(2)
    rows = [(g, part["transcript_id"].iloc[0], part["transcript_id"].iloc[1]) for g, part in multi.groupby("gene_id")]
    module_a = pd.DataFrame(rows[:6], columns=["gene_id", "transcript_id_1", "transcript_id_2"]).assign(module_id="M000")
    upload = pd.DataFrame(rows[6:9], columns=["gene_id", "transcript_id_1", "transcript_id_2"])
    out = tmp_path / "structure"
    annotate_switches(gtf, module_a, out)
    summary = annotate_switches(gtf, upload, out, source="upload pairs.tsv")
    pairs = pd.read_parquet(out / "switch_pairs_annotated.parquet")
    assert len(pairs) == 9 and summary["n_pairs_total"] == 9 and len(summary["runs"]) == 2
    assert pairs.groupby("pair_source").size().to_dict() == {"called switches": 6, "upload pairs.tsv": 3}
    enrichment = pd.read_parquet(out / "consequence_enrichment.parquet")
    only_called = consequence_enrichment(pairs[pairs["pair_source"] == "called switches"])
    pd.testing.assert_frame_equal(enrichment.reset_index(drop=True), only_called.reset_index(drop=True))
    again = annotate_switches(gtf, module_a.head(2), out)  # re-annotating two pairs replaces only those rows
    pairs = pd.read_parquet(out / "switch_pairs_annotated.parquet")
    assert len(pairs) == 9 and (pairs["annotation_run"] == again["run"]).sum() == 2


def test_an_upload_with_too_many_rows_is_refused_with_the_limit():
    from isograph.structure.annotate import MAX_UPLOAD_ROWS

    rows = "".join(f"G{i}\tT{i}a\tT{i}b\n" for i in range(MAX_UPLOAD_ROWS + 1))
    with pytest.raises(InputError, match=f"more than the {MAX_UPLOAD_ROWS:,} pairs an upload may have"):
        read_pairs_upload(("gene_id\ttranscript_id_1\ttranscript_id_2\n" + rows).encode(), "big.tsv")


def test_pairs_across_genes_or_with_a_foreign_gene_id_are_refused_per_row(tmp_path):
    from isograph.structure.consequences import annotate_pairs

    models = load_transcript_models(REFERENCE_GTF, use_cache=False).models
    two = models.groupby("gene_id").filter(lambda g: len(g) >= 2).drop_duplicates("gene_id").head(2)
    (g1, t1), (g2, t2) = zip(two["gene_id"], two["transcript_id"])
    sibling = models[(models["gene_id"] == g1) & (models["transcript_id"] != t1)]["transcript_id"].iloc[0]
    pairs = pd.DataFrame({"gene_id": [g1, g2], "transcript_id_1": [t1, t1], "transcript_id_2": [t2, sibling]})
    status = annotate_pairs(pairs, models)["status"].tolist()
    assert status[0].startswith(f"transcripts of two genes: {t1} is in {g1}, {t2} in {g2}")
    assert status[1].startswith(f"gene_id {g2} owns neither transcript")

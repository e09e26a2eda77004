"""Variants on the shipped transcripts: HGVS and VCF to reference/alternate windows, checked by hand."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from isograph.errors import InputError
from isograph.sae.variants import (
    Variant,
    hgvs_to_variant,
    parse_hgvs,
    read_vcf,
    variant_effects,
    variant_windows,
    vcf_to_variants,
)


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    from isograph.sae.demo import REFERENCE_FASTA
    from isograph.sae.sequences import read_fasta
    from isograph.simulate import REFERENCE_GTF
    from isograph.structure.cache import load_transcript_models

    models = load_transcript_models(REFERENCE_GTF, cache=tmp_path_factory.mktemp("gtf") / "m.parquet").models
    fasta = read_fasta(REFERENCE_FASTA)
    return dict(zip(fasta["seq_id"], fasta["sequence"])), models


# TCONS_00000001 (+ strand, XLOC_000001): 1,652 nt, 5' UTR 1,401 nt, so c.1 is index 1401 (the A of its ATG)
TX = "TCONS_00000001"


def test_a_substitution_gives_the_hand_cut_windows(reference):
    sequences, models = reference
    seq = sequences[TX]
    assert seq[1401:1404] == "ATG"
    base = seq[1404]  # c.4
    alt = "A" if base != "A" else "C"
    variant = hgvs_to_variant(f"{TX}:c.4{base}>{alt}", sequences, models)
    assert (variant.start, variant.end, variant.ref, variant.alt) == (1404, 1405, base, alt)
    row = variant_windows([variant], sequences, flank=20).iloc[0]
    assert row["ref_window"] == seq[1384:1425] and row["alt_window"] == seq[1384:1404] + alt + seq[1405:1425]
    assert row["offset"] == 20


def test_a_deletion_gives_the_hand_cut_windows(reference):
    sequences, models = reference
    seq = sequences[TX]
    deleted = seq[1410:1413]  # c.10_12
    variant = hgvs_to_variant(f"{TX}:c.10_12del{deleted}", sequences, models)
    assert (variant.start, variant.end, variant.ref, variant.alt) == (1410, 1413, deleted, "")
    row = variant_windows([variant], sequences, flank=15).iloc[0]
    assert row["ref_window"] == seq[1395:1428] and row["alt_window"] == seq[1395:1410] + seq[1413:1428]
    assert hgvs_to_variant(f"{TX}:c.10_12del", sequences, models) == Variant(f"{TX}:c.10_12del", TX, 1410, 1413,
                                                                             deleted, "")


def test_utr_positions_dup_ins_and_delins(reference):
    sequences, models = reference
    seq = sequences[TX]
    assert hgvs_to_variant(f"{TX}:c.-1{seq[1400]}>T" if seq[1400] != "T" else f"{TX}:c.-1T>A", sequences,
                           models).start == 1400
    star = hgvs_to_variant(f"{TX}:c.*1dup", sequences, models)  # the first base after the stop codon
    assert seq[1401 + 228:1401 + 231] in ("TAA", "TAG", "TGA") and star.start == 1401 + 231 + 1
    assert star.alt == seq[1632] and star.start == star.end
    ins = hgvs_to_variant(f"{TX}:c.4_5insGG", sequences, models)
    assert (ins.start, ins.end, ins.alt) == (1405, 1405, "GG")
    delins = hgvs_to_variant(f"{TX}:c.4_6delinsT", sequences, models)
    assert (delins.start, delins.end, delins.ref, delins.alt) == (1404, 1407, seq[1404:1407], "T")
    assert hgvs_to_variant(f"{TX}:n.1{seq[0]}>{'A' if seq[0] != 'A' else 'C'}", sequences, models).start == 0


@pytest.mark.parametrize(("text", "words"), [
    ("TCONS_00000001:c.1G>A", "reference mismatch: TCONS_00000001 has A at c.1, not G"),
    ("TCONS_00000001:c.1_3delTTT", "reference mismatch: TCONS_00000001 has ATG at c.1_3, not TTT"),
    ("TCONS_00000001:c.4+5G>A", "intronic positions"),
    ("TCONS_00000001:p.Val2Ala", "not an HGVS description"),
    ("NOPE_1:c.4A>G", "transcript NOPE_1 is not in the FASTA"),
    ("TCONS_00000001:c.99999A>G", "position outside TCONS_00000001"),
    ("TCONS_00000001:c.0A>G", "there is no position c.0"),
])
def test_bad_variants_are_one_line_naming_the_variant(reference, text, words):
    sequences, models = reference
    with pytest.raises(InputError) as info:
        hgvs_to_variant(text, sequences, models)
    assert words in str(info.value) and text in str(info.value) and "\n" not in str(info.value)


def _genomic(model, index: int) -> int:
    """The 1-based genomic position of transcript index ``index`` (walking the exons in transcript order)."""
    exons = sorted(zip(model["exon_starts"], model["exon_ends"]), reverse=model["strand"] == "-")
    for start, end in exons:
        length = end - start + 1
        if index < length:
            return start + index if model["strand"] == "+" else end - index
        index -= length
    raise AssertionError("index beyond the transcript")


def test_vcf_records_map_onto_both_strands(reference, tmp_path):
    sequences, models = reference
    minus = models.set_index("transcript_id").loc["TCONS_00003803"]  # - strand, 4 exons
    seq = sequences["TCONS_00003803"]
    pos = _genomic(minus, 300)  # transcript index 300 (second exon on the transcript's strand)
    genomic_ref = seq[300].translate(str.maketrans("ACGT", "TGCA"))
    alt = "A" if genomic_ref != "A" else "C"
    plus_pos = _genomic(models.set_index("transcript_id").loc[TX], 1404)
    (tmp_path / "v.vcf").write_text("##fileformat=VCFv4.2\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n"
                                    f"chr1\t{pos}\trs1\t{genomic_ref}\t{alt}\t.\t.\t.\n"
                                    f"chr1\t{plus_pos}\trs2\t{sequences[TX][1404]}\t{sequences[TX][1404]}GG\t.\t.\t.\n"
                                    f"chr1\t{pos}\trs3\tT{genomic_ref}\tT\t.\t.\t.\n")
    mapped = vcf_to_variants(read_vcf(tmp_path / "v.vcf"), sequences, models)
    snv = mapped[(mapped["name"].str.startswith(f"chr1:{pos}:{genomic_ref}>")) & (mapped["transcript_id"] == "TCONS_00003803")]
    assert snv[["start", "end", "ref", "alt", "status"]].values.tolist() == [
        [300, 301, seq[300], alt.translate(str.maketrans("ACGT", "TGCA")), "ok"]]
    ins = mapped[mapped["name"].str.contains("GG") & (mapped["transcript_id"] == TX)].iloc[0]
    assert (ins["start"], ins["end"], ins["ref"], ins["alt"], ins["status"]) == (1405, 1405, "", "GG", "ok")
    wrong = mapped[mapped["name"].str.startswith(f"chr1:{pos}:T")]
    assert all(s.startswith("reference mismatch") or s == "spans an exon boundary" or s == "ok"
               for s in wrong["status"])
    with pytest.raises(InputError, match="line 1 is not a VCF record .needs the #CHROM header"):
        (tmp_path / "bad.vcf").write_text("chr1\t5\t.\tA\tG\n")
        read_vcf(tmp_path / "bad.vcf")


def test_variant_effects_are_zero_for_a_no_op_edit_and_align_only_unshifted_tokens(tmp_path):
    """With a bidirectional model, every aligned token may change; the KL is 0 for an edit that changes nothing."""
    import torch

    from isograph.sae.lm import load_masked_lm, make_esm_lm
    from isograph.sae.model import new_sae

    lm = load_masked_lm(make_esm_lm(tmp_path / "lm", hidden_size=16, n_layers=2, n_heads=2, max_tokens=80, seed=1))
    torch.manual_seed(0)
    sae = new_sae(16, 32)
    seq = "".join(np.random.default_rng(0).choice(list("ACGT"), 200))
    same = variant_windows([Variant("same", "T", 50, 51, seq[50], seq[50])], {"T": seq}, flank=30)
    features, tokens = variant_effects(lm, sae, same, layer=1)
    assert np.allclose(features["delta"], 0) and np.allclose(tokens["kl"], 0, atol=1e-7)
    other = "A" if seq[50] != "A" else "C"
    changed = variant_windows([Variant("snv", "T", 50, 51, seq[50], other)], {"T": seq}, flank=30)
    _, tokens = variant_effects(lm, sae, changed, layer=1)
    assert len(tokens) == 11 and tokens["kl"].max() > 0  # 61 nt = 10 six-mers + 1 base, all aligned
    deletion = variant_windows([Variant("del", "T", 50, 53, seq[50:53], "")], {"T": seq}, flank=30)
    _, tokens = variant_effects(lm, sae, deletion, layer=1)
    assert len(tokens) == 5  # only the tokens wholly before the deletion align (30 nt = 5 six-mers)
    assert parse_hgvs("T:c.5_6insA")["edit"] == "insA" and pd.api.types.is_float_dtype(tokens["kl"])

"""Every consequence label on hand-built genes: the same words and numbers on a mirrored minus-strand
gene, the opposite words with the pair swapped."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from isograph.structure.cache import load_transcript_models
from isograph.structure.consequences import (
    CONSEQUENCE_COLUMNS,
    annotate_pairs,
    pair_consequences,
    transcript_annotation,
)
from isograph.structure.gtf import read_gtf
from isograph.structure.models import transcript_models

MIRROR = 10_000  # a minus-strand copy maps x -> MIRROR - x
A, B, C, D = (1000, 1199), (2000, 2099), (3000, 3149), (4000, 4299)

# name: (transcript 1, transcript 2, column, word for 1->2, word for 2->1)
# a transcript is (exons, CDS span or None, biotype or None), on the plus strand
CASES = {
    "tss": (([A, B], None, None), ([(800, 1199), B], None, None), "tss", "Tss more upstream", "Tss more downstream"),
    "tts": (([A, B], None, None), ([A, (2000, 2199)], None, None), "tts", "Tts more downstream", "Tts more upstream"),
    "first_exon": (([A, B, C], None, None), ([(300, 399), B, C], None, None), "first_exon",
                   "First exon more upstream", "First exon more downstream"),
    "last_exon": (([A, B, C], None, None), ([A, B, (5000, 5199)], None, None), "last_exon",
                  "Last exon more downstream", "Last exon more upstream"),
    "exon_number": (([A, B, C, D], None, None), ([A, C, D], None, None), "exon_number", "Exon loss", "Exon gain"),
    "exon_skipping": (([A, B, C, D], None, None), ([A, C, D], None, None), "exon_skipping",
                      "Exon skipping", "Exon inclusion"),
    "mutually_exclusive": (([A, B, D], None, None), ([A, C, D], None, None), "mutually_exclusive",
                           "Mutually exclusive exon more downstream", "Mutually exclusive exon more upstream"),
    "alt_5ss": (([A, B], None, None), ([(1000, 1249), B], None, None), "alt_5ss",
                "Alternative 5' splice site, longer exon", "Alternative 5' splice site, shorter exon"),
    "alt_3ss": (([A, B], None, None), ([A, (1950, 2099)], None, None), "alt_3ss",
                "Alternative 3' splice site, longer exon", "Alternative 3' splice site, shorter exon"),
    "intron_retention": (([A, B], None, None), ([(1000, 2099)], None, None), "intron_retention",
                         "Intron retention gain", "Intron retention loss"),
    "isoform_length": (([A, B], None, None), ([(800, 1199), B], None, None), "isoform_length",
                       "Length gain", "Length loss"),
    "orf_longer": (([A, B, C, D], (1100, 3100), None), ([A, B, C, D], (1100, 4200), None), "orf",
                   "ORF is longer", "ORF is shorter"),
    "complete_orf": (([A, B, C, D], (1100, 4200), None), ([A, B, C, D], None, None), "orf",
                     "Complete ORF loss", "Complete ORF gain"),
    "utr5": (([A, B, C, D], (1100, 4200), None), ([A, B, C, D], (2010, 4200), None), "utr5",
             "5'UTR is longer", "5'UTR is shorter"),
    "utr3": (([A, B, C, D], (1100, 4200), None), ([A, B, C, D], (1100, 3100), None), "utr3",
             "3'UTR is longer", "3'UTR is shorter"),
    "nmd": (([A, B, C, D], (1100, 4100), None), ([A, B, C, D], (1100, 2050), None), "nmd",
            "NMD sensitive", "NMD insensitive"),
    "biotype": (([A, B], None, "protein_coding"), ([A, B], None, "retained_intron"), "biotype",
                "Biotype switch: protein_coding -> retained_intron", "Biotype switch: retained_intron -> protein_coding"),
}


def _gtf_rows(name: str, tx: tuple, strand: str) -> list[str]:
    exons, cds, biotype = tx
    flip = (lambda s, e: (MIRROR - e, MIRROR - s)) if strand == "-" else (lambda s, e: (s, e))
    attrs = f'gene_id "G"; transcript_id "{name}";' + (f' transcript_type "{biotype}";' if biotype else "")
    lines = []
    for s, e in exons:
        s, e = flip(s, e)
        lines.append(f"chr1\ttest\texon\t{s}\t{e}\t.\t{strand}\t.\t{attrs}")
    if cds:
        for s, e in exons:  # CDS rows = exon parts inside the span
            lo, hi = max(s, cds[0]), min(e, cds[1])
            if lo <= hi:
                lo, hi = flip(lo, hi)
                lines.append(f"chr1\ttest\tCDS\t{lo}\t{hi}\t.\t{strand}\t0\t{attrs}")
    return lines


def _models(case: str, strand: str, tmp_path: Path) -> pd.DataFrame:
    t1, t2 = CASES[case][:2]
    path = tmp_path / f"{case}{strand}.gtf"
    path.write_text("\n".join(_gtf_rows("T1", t1, strand) + _gtf_rows("T2", t2, strand)) + "\n")
    return transcript_models(read_gtf(path)).set_index("transcript_id", drop=False)


NUMBERS = ("delta_length", "delta_orf_length", "delta_utr5_length", "delta_utr3_length", "tss_shift", "tts_shift",
           "shared_exon_fraction")


@pytest.mark.parametrize("case", list(CASES))
def test_label_same_on_both_strands_and_opposite_when_swapped(case, tmp_path):
    column, forward, backward = CASES[case][2:]
    plus, minus = _models(case, "+", tmp_path), _models(case, "-", tmp_path)
    p = pair_consequences(plus.loc["T1"], plus.loc["T2"])
    m = pair_consequences(minus.loc["T1"], minus.loc["T2"])
    assert forward in (p[column] or "").split("; "), p["consequences"]
    assert {c: p[c] for c in CONSEQUENCE_COLUMNS} == {c: m[c] for c in CONSEQUENCE_COLUMNS}  # same words
    assert {c: p[c] for c in NUMBERS} == pytest.approx({c: m[c] for c in NUMBERS})  # same numbers
    for models in (plus, minus):
        back = pair_consequences(models.loc["T2"], models.loc["T1"])
        assert backward in (back[column] or "").split("; "), back["consequences"]
        assert forward not in (back[column] or "").split("; ")


def test_numbers_hand_computed(tmp_path):
    # ORF case: T1 CDS 1100..3100 -> ORF 100 + 100 + 101 = 301; T2 CDS 1100..4200 -> 100+100+150+201 = 551
    models = _models("orf_longer", "-", tmp_path)
    res = pair_consequences(models.loc["T1"], models.loc["T2"])
    assert (res["delta_orf_length"], res["delta_utr3_length"], res["delta_length"]) == (250, -250, 0)
    assert res["shared_exon_fraction"] == 1.0
    models = _models("tss", "+", tmp_path)
    res = pair_consequences(models.loc["T1"], models.loc["T2"])
    # exonic nt: T1 200 + 100 = 300, T2 400 + 100 = 500, shared 300 -> 300 / 500
    assert (res["tss_shift"], res["delta_length"], res["shared_exon_fraction"]) == (-200, 200, 0.6)


def test_unchanged_pair_has_no_consequence(tmp_path):
    models = _models("tss", "+", tmp_path)
    res = pair_consequences(models.loc["T1"], models.loc["T1"])
    assert res["consequences"] == "" and all(res[c] is None for c in CONSEQUENCE_COLUMNS)


GTF = Path(__file__).resolve().parents[2] / "data" / "reference" / "isar_example" / "example.gtf.gz"


def test_real_pairs_annotate_and_missing_transcripts_are_reported():
    models = load_transcript_models(GTF, use_cache=False).models
    multi = models.groupby("gene_id").filter(lambda g: len(g) >= 2)
    pairs = multi.groupby("gene_id").agg(transcript_id_1=("transcript_id", "first"),
                                         transcript_id_2=("transcript_id", "last")).reset_index()
    pairs.loc[len(pairs)] = ["G?", "TCONS_00000001", "NOPE"]
    annotated = annotate_pairs(pairs, models)
    assert (annotated["status"] == "ok").sum() == 234
    assert annotated["status"].iloc[-1] == "not in GTF: NOPE"
    per_tx = transcript_annotation(annotated, models)
    assert per_tx["transcript_id"].is_unique and len(per_tx) == 2 * 234
    row = per_tx.set_index("transcript_id").loc[pairs["transcript_id_2"].iloc[0]]
    assert row["structure_consequences"] == annotated["consequences"].iloc[0]

"""GTF reader, transcript models (hand-checked NMD calls) and the fingerprinted cache."""

from __future__ import annotations

import gzip
import os
import shutil
import warnings
from pathlib import Path

import pytest

from isograph.errors import InputError, InputWarning
from isograph.structure.cache import load_transcript_models
from isograph.structure.gtf import read_gtf
from isograph.structure.models import MODEL_COLUMNS, splice_junctions, transcript_models

GTF = Path(__file__).resolve().parents[2] / "data" / "reference" / "isar_example" / "example.gtf.gz"


def test_real_gtf_parses_completely():
    rows = read_gtf(GTF)
    counts = rows["feature"].value_counts()
    assert (counts["exon"], counts["CDS"]) == (10929, 9612)
    models = transcript_models(rows)
    assert len(models) == 1092 and models["gene_id"].nunique() == 375
    assert models["n_exons"].sum() == 10929
    assert tuple(models.columns) == MODEL_COLUMNS  # what a data set without a GTF gives as its empty models


def test_nmd_calls_checked_by_hand():
    models = transcript_models(read_gtf(GTF)).set_index("transcript_id")
    # TCONS_00000009 (+): exons 169, 58, 2500, 1545 nt = 4272; CDS 324343..325602 -> 5'UTR 169 + 55 = 224,
    # ORF 3 + 1164 = 1167, stop ends at 1391; last junction at 4272 - 1545 = 2727; 2727 - 1391 = 1336 > 50
    plus = models.loc["TCONS_00000009"]
    assert (plus["length"], plus["utr5_length"], plus["orf_length"]) == (4272, 224, 1167)
    assert plus["stop_to_last_junction"] == 1336 and plus["nmd"]
    # TCONS_00003804 (-): 10 exons, 2411 nt; 5' end 19759, CDS 17368..19032 -> 5'UTR 727, ORF 120+99+147+137+1
    # = 504, stop ends at 1231; the 3'-most exon is 14363..14829 (467 nt): last junction 1944; 713 > 50
    minus = models.loc["TCONS_00003804"]
    assert (minus["length"], minus["utr5_length"], minus["orf_length"]) == (2411, 727, 504)
    assert minus["stop_to_last_junction"] == 713 and minus["nmd"]
    # TCONS_00000002 (+): stop codon inside the last exon -> not NMD (distance -234)
    assert models.loc["TCONS_00000002", "stop_to_last_junction"] == -234 and not models.loc["TCONS_00000002", "nmd"]


def _write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


ROW = 'chr1\tsrc\texon\t100\t200\t.\t+\t.\ttranscript_id "T1"; gene_id "G1";\n'


@pytest.mark.parametrize(("text", "message"), [
    ("#header\n" + ROW + "chr1\tsrc\texon\t300\n", r"line 3 has 4 tab-separated fields, a GTF line needs 9"),
    (ROW + ROW.replace("\t100\t", "\tabc\t"), r"line 2: start 'abc' is not an integer"),
    (ROW + ROW.replace("\t+\t", "\t*\t"), r"line 2: strand is not \+ or -"),
    (ROW + ROW.replace("\t100\t200\t", "\t300\t200\t"), r"line 2: start is greater than end"),
    ("#c\n#c\n" + ROW.replace('transcript_id "T1"; ', ""), r"line 3: row without transcript_id or gene_id"),
])
def test_malformed_lines_name_the_line(tmp_path, text, message):
    with pytest.raises(InputError, match=message):
        read_gtf(_write(tmp_path / "bad.gtf", text))


def test_attribute_styles(tmp_path):
    gencode = 'chr1\tHAVANA\texon\t1\t10\t.\t+\t.\tgene_id "ENSG1.5"; transcript_id "ENST1.2"; gene_type "protein_coding"; gene_name "ABC"; transcript_type "retained_intron";\n'
    ensembl = 'chr1\tensembl\texon\t1\t10\t.\t-\t.\tgene_id "ENSG2"; gene_version "1"; transcript_id "ENST2"; gene_name "DEF"; transcript_biotype "lncRNA";\n'
    refseq = 'chr1\tBestRefSeq\texon\t1\t10\t.\t+\t.\tgene_id "GHI"; transcript_id "NM_1.1"; gene "GHI"; transcript_biotype "mRNA";\n'
    path = _write(tmp_path / "styles.gtf", gencode + ensembl + refseq)
    models = transcript_models(read_gtf(path)).set_index("transcript_id")
    assert models.loc["ENST1.2", ["gene_name", "biotype"]].tolist() == ["ABC", "retained_intron"]
    assert models.loc["ENST2", ["gene_name", "biotype", "strand"]].tolist() == ["DEF", "lncRNA", "-"]
    assert models.loc["NM_1.1", ["gene_name", "biotype"]].tolist() == ["GHI", "mRNA"]
    stripped = transcript_models(read_gtf(path, strip_versions=True))
    assert set(stripped["transcript_id"]) == {"ENST1", "ENST2", "NM_1"} and "ENSG1" in set(stripped["gene_id"])


def test_attributes_equal_the_regex_reading_on_awkward_rows(tmp_path):
    """Oracle: Python's re with the word boundary, row by row (the reader uses substring searches)."""
    import re

    attrs = ['gene_id "G1"; transcript_id "T1"; havana_gene "OTTHUMG1"; gene "REAL";',  # tail of a longer key first
             'transcript_id "T2";gene_id "G2"; gene_name "";',  # no space after ';', an empty value
             'gene_id "G3"; transcript_id "T3"; gene "X";transcript_biotype "mRNA"',  # no ';' at the end
             'gene_id "G4"; transcript_id "T4"; gene_name "A B; C"; transcript_type "lncRNA";',  # ';' inside a value
             'transcript_id "T5"; gene_id "G5"; havana_gene "H";']  # only the longer key: no name
    rows = "".join(f"chr1\ts\texon\t{10 * i + 1}\t{10 * i + 5}\t.\t+\t.\t{a}\n" for i, a in enumerate(attrs))
    got = read_gtf(_write(tmp_path / "awkward.gtf", rows))

    def oracle(text: str, keys: tuple[str, ...]) -> str | None:
        for key in keys:
            match = re.search(rf'\b{key} "([^"]*)"', text)
            if match:
                return match.group(1)
        return None

    from isograph.structure.gtf import ATTRIBUTES
    for name, keys in ATTRIBUTES.items():
        expected = [oracle(a, keys) for a in attrs]
        assert [None if v is None or v != v else str(v) for v in got[name].tolist()] == expected, name


def test_transcript_attributes_follow_each_run_of_its_rows(tmp_path):
    """gene_name and transcript_type are read on the first row of each run of a transcript's rows."""
    rows = ("chr1\ts\texon\t1\t5\t.\t+\t.\tgene_id \"G\"; transcript_id \"A\"; gene_name \"NA\"; transcript_type \"x\";\n"
            "chr1\ts\texon\t11\t15\t.\t+\t.\tgene_id \"G\"; transcript_id \"A\"; gene_name \"NA\"; transcript_type \"x\";\n"
            "chr1\ts\texon\t1\t5\t.\t+\t.\tgene_id \"H\"; transcript_id \"B\"; gene_name \"NB\"; transcript_type \"y\";\n"
            "chr1\ts\tCDS\t2\t4\t.\t+\t0\tgene_id \"G\"; transcript_id \"A\"; gene_name \"NA\"; transcript_type \"x\";\n")
    got = read_gtf(_write(tmp_path / "runs.gtf", rows))
    assert got["transcript_id"].tolist() == ["A", "A", "B", "A"]
    assert got["gene_name"].astype(str).tolist() == ["NA", "NA", "NB", "NA"]
    assert got["transcript_type"].astype(str).tolist() == ["x", "x", "y", "x"]


def test_cache_is_reused_rebuilt_when_stale_and_never_trusted_when_corrupt(tmp_path):
    gtf = tmp_path / "a.gtf.gz"
    shutil.copy(GTF, gtf)
    first = load_transcript_models(gtf)
    assert not first.cache_used and first.cache_path == Path(f"{gtf}.isograph-cache.parquet")
    second = load_transcript_models(gtf)
    assert second.cache_used and second.n_rows == {"exon": 10929, "CDS": 9612}
    assert second.models.drop(columns=["exon_starts", "exon_ends"]).equals(
        first.models.drop(columns=["exon_starts", "exon_ends"]))
    assert [list(x) for x in second.models["exon_starts"]] == [list(x) for x in first.models["exon_starts"]]

    os.utime(gtf, ns=(1, 1))  # touched: the fingerprint changes
    with pytest.warns(InputWarning, match="stale or built from another GTF"):
        assert not load_transcript_models(gtf).cache_used
    assert load_transcript_models(gtf).cache_used

    first.cache_path.write_bytes(b"not parquet at all")
    with pytest.warns(InputWarning, match=r"unreadable \(.*\); rebuilding it"):
        assert not load_transcript_models(gtf).cache_used

    other = tmp_path / "b.gtf"
    _write(other, ROW)
    with pytest.warns(InputWarning, match="stale or built from another GTF"):
        result = load_transcript_models(other, cache=first.cache_path)  # a foreign cache
    assert len(result.models) == 1 and not result.cache_used

    with pytest.warns(InputWarning, match="stale"):  # another parse option is another key
        assert not load_transcript_models(gtf, strip_versions=True).cache_used


def test_explicit_cache_path_and_no_cache(tmp_path):
    cache = tmp_path / "sub" / "models.parquet"
    load_transcript_models(GTF, cache=cache)
    assert cache.exists() and load_transcript_models(GTF, cache=cache).cache_used
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert load_transcript_models(GTF, use_cache=False).cache_path is None


def test_corrupt_gzip_gtf(tmp_path):
    path = tmp_path / "x.gtf.gz"
    path.write_bytes(gzip.compress(ROW.encode() * 2000)[:100])
    with pytest.raises(InputError, match="x.gtf.gz: corrupt or truncated gzip"):
        read_gtf(path)


def test_splice_junctions_in_transcript_order():
    models = transcript_models(read_gtf(GTF)).set_index("transcript_id", drop=False)
    assert splice_junctions(models.loc["TCONS_00000002"]) == [(12228, 12594), (12722, 13402)]
    minus = splice_junctions(models.loc["TCONS_00003804"])
    assert minus[0] == (18367, 18912) and minus[-1] == (14830, 14969) and len(minus) == 9

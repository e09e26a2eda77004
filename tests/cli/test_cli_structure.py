"""`isograph make-switch-pairs` and `isograph annotate-structure`, ending in explain --annotation-table."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest

from isograph.cli import main

GTF = Path(__file__).resolve().parents[2] / "data" / "reference" / "isar_example" / "example.gtf.gz"


@pytest.fixture
def explained(small_dir, tmp_path, capsys):
    out = tmp_path / "explain"
    assert main(["explain-module", "--artifact-dir", str(small_dir / "oracle_fit"),
                 "--feature-table", str(small_dir / "features.parquet"),
                 "--feature-meta", str(small_dir / "feature_metadata.parquet"), "--output-dir", str(out)]) == 0
    capsys.readouterr()
    return out


def test_manual_structural_annotation_flow(explained, small_dir, small_sim, tmp_path, capsys):
    pairs = tmp_path / "switch_pairs.tsv"
    assert main(["make-switch-pairs", "--explain-dir", str(explained), "--min-switch-strength", "0.5",
                 "--output", str(pairs)]) == 0
    table = pd.read_csv(pairs, sep="\t")
    assert list(table.columns[:3]) == ["gene_id", "transcript_id_1", "transcript_id_2"]
    assert (table["r_1"] < table["r_2"]).all() and (table["switch_strength"] >= 0.5).all()
    truth = small_sim.truth_genes.set_index("gene_id")
    assert truth.loc[table["gene_id"], "is_switching"].mean() > 0.9  # strong switches are planted ones

    gtf = tmp_path / "annotation.gtf.gz"
    shutil.copy(GTF, gtf)
    cache = tmp_path / "models.parquet"
    out = tmp_path / "transcript_structure_annotations.tsv"
    argv = ["annotate-structure", "--gtf", str(gtf), "--switch-pairs", str(pairs), "--gtf-cache", str(cache),
            "--output", str(out)]
    assert main(argv) == 0
    assert "(parsed," in capsys.readouterr().err
    assert main(argv) == 0
    assert f"(cache {cache}," in capsys.readouterr().err
    per_pair = pd.read_csv(tmp_path / "transcript_structure_annotations.pairs.tsv", sep="\t")
    assert (per_pair["status"] == "ok").all() and len(per_pair) == len(table)
    annotation = pd.read_csv(out, sep="\t")
    assert set(annotation["transcript_id"]) == set(table["transcript_id_1"]) | set(table["transcript_id_2"])

    ex = tmp_path / "explain2"
    assert main(["explain-module", "--artifact-dir", str(small_dir / "oracle_fit"),
                 "--feature-table", str(small_dir / "features.parquet"),
                 "--feature-meta", str(small_dir / "feature_metadata.parquet"),
                 "--annotation-table", str(out), "--output-dir", str(ex)]) == 0
    polarity = pd.concat(pd.read_parquet(p) for p in ex.glob("M*/transcript_polarity_table.parquet"))
    merged = polarity.dropna(subset=["structure_consequences"])
    assert set(merged["feature_id"]) == set(annotation["transcript_id"])


def test_missing_transcripts_are_counted_and_listed(tmp_path, capsys):
    pairs = tmp_path / "pairs.tsv"
    pd.DataFrame({"gene_id": ["XLOC_000001", "G"], "transcript_id_1": ["TCONS_00000001", "NOPE1"],
                  "transcript_id_2": ["TCONS_00000002", "NOPE2"]}).to_csv(pairs, sep="\t", index=False)
    assert main(["annotate-structure", "--gtf", str(GTF), "--switch-pairs", str(pairs), "--no-cache",
                 "--output", str(tmp_path / "a.parquet")]) == 0
    err = capsys.readouterr().err
    assert "1 of 2 pairs name 2 transcript(s) missing from" in err and "NOPE1, NOPE2" in err
    assert (tmp_path / "a.pairs.parquet").exists()


@pytest.mark.parametrize(("gtf_text", "pairs_text", "message"), [
    ('chr1\tx\texon\t1\t10\t.\t+\t.\ttranscript_id "T"; gene_id "G";\nchr1\tx\texon\t20\n', None,
     r"line 2 has 4 tab-separated fields"),
    ('chr1\tx\texon\t1\t10\t.\t+\t.\ttranscript_id "T"; gene_id "G";\n', "gene_id\ttranscript_id_1\nG\tT\n",
     r"missing required column\(s\) transcript_id_2"),
])
def test_bad_inputs_exit_2(tmp_path, capsys, gtf_text, pairs_text, message):
    gtf = tmp_path / "x.gtf"
    gtf.write_text(gtf_text)
    pairs = tmp_path / "p.tsv"
    pairs.write_text(pairs_text or "gene_id\ttranscript_id_1\ttranscript_id_2\nG\tT\tT\n")
    assert main(["annotate-structure", "--gtf", str(gtf), "--switch-pairs", str(pairs), "--no-cache",
                 "--output", str(tmp_path / "o.tsv")]) == 2
    errors = [line for line in capsys.readouterr().err.splitlines() if line.startswith("isograph: error:")]
    assert len(errors) == 1 and pd.Series(errors).str.contains(message).all(), errors


def test_make_switch_pairs_unknown_module(explained, tmp_path, capsys):
    assert main(["make-switch-pairs", "--explain-dir", str(explained), "--module-ids", "M042",
                 "--output", str(tmp_path / "p.tsv")]) == 2
    assert "no explained module M042" in capsys.readouterr().err

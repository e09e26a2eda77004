"""Bad input to every `isograph` subcommand, against a folder that already holds a good run: each case ends
in one line naming the file, row, column or option and what to do, exit status 2, and every file of the
earlier run is byte-identical afterwards."""

from __future__ import annotations

import gzip
import json

import pandas as pd
import pytest

from isograph.cli import main
from isograph.explain import explain_module


@pytest.fixture(scope="module")
def work(tmp_path_factory, _written, small_sim):
    """The small simulated set, a good explain run in out/, and a gallery of bad files."""
    import shutil

    root = tmp_path_factory.mktemp("bad_cli")
    shutil.copytree(_written["small"], root / "sim")
    sim = root / "sim"
    explain_module(sim / "oracle_fit", sim / "features.parquet", sim / "feature_metadata.parquet",
                   output_dir=root / "out")
    bad = root / "bad"
    bad.mkdir()
    table = pd.read_parquet(sim / "features.parquet")
    table.iloc[:, :3].head(5).to_parquet(bad / "few_samples.parquet")  # fewer than 10 shared samples
    text = table.iloc[:, :4].reset_index()
    spoiled = text.astype(object)
    spoiled.iloc[2, 2] = "oops"
    spoiled.to_csv(bad / "non_numeric.tsv", sep="\t", index=False)
    dup = text.copy()
    dup.loc[1, "sample_id"] = dup.loc[0, "sample_id"]
    dup.to_csv(bad / "dup_samples.tsv", sep="\t", index=False)
    (bad / "not.parquet").write_text("this is not parquet")
    (bad / "table.xlsx").write_text("x")
    (bad / "corrupt.tsv.gz").write_bytes(gzip.compress(b"sample_id\tA\nS1\t1\n" * 100)[:40])
    meta = pd.read_parquet(sim / "feature_metadata.parquet")
    meta.drop(columns="feature_type").to_csv(bad / "meta_no_type.tsv", sep="\t", index=False)
    meta.assign(feature_type="banana").to_csv(bad / "meta_unknown_type.tsv", sep="\t", index=False)
    (bad / "manifest_dir").mkdir()
    (bad / "manifest_dir" / "module_explanation_manifest.json").write_text('{"modules": {')
    (bad / "pairs_missing_col.tsv").write_text("gene_id\ttranscript_id_1\nG\tT\n")
    (bad / "pairs_ok.tsv").write_text("gene_id\ttranscript_id_1\ttranscript_id_2\nG\tT1\tT2\n")
    (bad / "counts_negative.tsv").write_text("sample_id\tT1\tT2\nS1\t-3\t4\nS2\t1\t2\n")
    (bad / "tx2gene.tsv").write_text("transcript_id\tgene_id\nT1\tG1\nT2\tG1\n")
    (bad / "a_file").write_text("a file")
    shutil.copytree(sim / "oracle_fit", bad / "escape_fit")  # a module ID that would leave the output folder
    modules = pd.read_parquet(bad / "escape_fit" / "modules.parquet")
    modules.assign(module_id=modules["module_id"].replace({"M000": "../escape"})).to_parquet(
        bad / "escape_fit" / "modules.parquet")
    return root



E = ["explain-module", "--artifact-dir", "sim/oracle_fit", "--feature-meta", "sim/feature_metadata.parquet",
     "--output-dir", "out"]
CASES = [
    ("missing-artifacts", ["explain-module", "--artifact-dir", "nowhere", "--feature-table", "sim/features.parquet",
                           "--feature-meta", "sim/feature_metadata.parquet", "--output-dir", "out"],
     ["artifact directory not found: nowhere"]),
    ("missing-table", [*E, "--feature-table", "bad/none.parquet"], ["bad/none.parquet"]),
    ("few-samples", [*E, "--feature-table", "bad/few_samples.parquet"], ["shared"]),
    ("non-numeric", [*E, "--feature-table", "bad/non_numeric.tsv"], ["non_numeric.tsv", "oops"]),
    ("duplicate-samples", [*E, "--feature-table", "bad/dup_samples.tsv"], ["dup_samples.tsv", "duplicate sample ID"]),
    ("not-parquet", [*E, "--feature-table", "bad/not.parquet"], ["not.parquet"]),
    ("unsupported-suffix", [*E, "--feature-table", "bad/table.xlsx"], ["table.xlsx", "unsupported file type"]),
    ("corrupt-gzip", [*E, "--feature-table", "bad/corrupt.tsv.gz"], ["corrupt.tsv.gz"]),
    ("meta-without-type", ["explain-module", "--artifact-dir", "sim/oracle_fit", "--feature-table",
                           "sim/features.parquet", "--feature-meta", "bad/meta_no_type.tsv", "--output-dir", "out"],
     ["meta_no_type.tsv", "feature_type"]),
    ("meta-unknown-type", ["explain-module", "--artifact-dir", "sim/oracle_fit", "--feature-table",
                           "sim/features.parquet", "--feature-meta", "bad/meta_unknown_type.tsv", "--output-dir",
                           "out"], ["meta_unknown_type.tsv", "feature_type is 'transcript_usage'"]),
    ("unknown-module", [*E, "--feature-table", "sim/features.parquet", "--module-ids", "M077"], ["M077"]),
    ("module-id-leaves-the-folder", ["explain-module", "--artifact-dir", "bad/escape_fit", "--feature-table",
                                     "sim/features.parquet", "--feature-meta", "sim/feature_metadata.parquet",
                                     "--output-dir", "out"], ["module ID '../escape' cannot name a folder"]),
    ("split-out-of-range", [*E, "--feature-table", "sim/features.parquet", "--split-percentile", "80"],
     ["split_percentile must be in (0, 50]"]),
    ("alpha-out-of-range", [*E, "--feature-table", "sim/features.parquet", "--switch-alpha", "2"],
     ["switch_alpha must be in (0, 1]"]),
    ("usage-change-out-of-range", [*E, "--feature-table", "sim/features.parquet", "--min-usage-change", "5"],
     ["min_usage_change must be in [0, 1]"]),
    ("unknown-channel", [*E, "--feature-table", "sim/features.parquet", "--driver-channel", "both"],
     ["invalid choice: 'both'"]),
    ("non-numeric-option", [*E, "--feature-table", "sim/features.parquet", "--min-complete-pairs", "many"],
     ["invalid int value: 'many'"]),
    ("output-is-a-file", ["explain-module", "--artifact-dir", "sim/oracle_fit", "--feature-table",
                          "sim/features.parquet", "--feature-meta", "sim/feature_metadata.parquet", "--output-dir",
                          "bad/a_file"], ["bad/a_file", "not a folder"]),
    ("damaged-manifest", ["explain-module", "--artifact-dir", "sim/oracle_fit", "--feature-table",
                          "sim/features.parquet", "--feature-meta", "sim/feature_metadata.parquet", "--output-dir",
                          "bad/manifest_dir"], ["manifest of an earlier run is damaged", "nothing was written"]),
    ("pairs-from-damaged-manifest", ["make-switch-pairs", "--explain-dir", "bad/manifest_dir", "--output", "p.tsv"],
     ["module_explanation_manifest.json", "not valid JSON"]),
    ("pairs-fdr-above-1", ["make-switch-pairs", "--explain-dir", "out", "--all-drivers", "--fdr", "2",
                           "--output", "p.tsv"], ["--fdr must be in (0, 1]"]),
    ("pairs-unknown-module", ["make-switch-pairs", "--explain-dir", "out", "--module-ids", "M077", "--output",
                              "p.tsv"], ["M077"]),
    ("pairs-bad-suffix", ["make-switch-pairs", "--explain-dir", "out", "--output", "p.xlsx"], ["unsupported file type"]),
    ("annotate-missing-column", ["annotate-structure", "--gtf", "sim/annotation.gtf.gz", "--switch-pairs",
                                 "bad/pairs_missing_col.tsv", "--output", "o.tsv"], ["transcript_id_2"]),
    ("annotate-missing-gtf", ["annotate-structure", "--gtf", "bad/none.gtf", "--switch-pairs", "bad/pairs_ok.tsv",
                              "--output", "o.tsv"], ["GTF not found: bad/none.gtf"]),
    ("fit-negative-counts", ["fit", "--counts", "bad/counts_negative.tsv", "--tx2gene", "bad/tx2gene.tsv",
                             "--output-dir", "fit"], ["counts_negative.tsv", "negative"]),
    ("fit-no-source", ["fit", "--tx2gene", "bad/tx2gene.tsv", "--output-dir", "fit"],
     ["one of the arguments --counts --salmon-dir is required"]),
    ("simulate-too-few-samples", ["simulate", "--out", "simx", "--n-samples", "4"], ["n_samples must be >= 10"]),
    ("unknown-subcommand", ["explain-everything"], ["invalid choice"]),
]


@pytest.mark.parametrize(("args", "words"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_cli_input(work, monkeypatch, capsys, snapshot, args, words):
    monkeypatch.chdir(work)
    before = snapshot(work / "out")
    try:
        status = main(args)
    except SystemExit as exc:  # argparse usage errors
        status = exc.code
    err = capsys.readouterr().err
    errors = [line for line in err.splitlines() if "error:" in line]
    assert status == 2, err
    assert len(errors) == 1 and "Traceback" not in err, err
    for word in words:
        assert word in errors[0], errors[0]
    assert snapshot(work / "out") == before  # the earlier run is untouched
    assert json.loads((work / "out" / "module_explanation_manifest.json").read_text())["modules"]

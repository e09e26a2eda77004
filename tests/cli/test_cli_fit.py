"""`isograph fit` and `isograph demo` from the command line."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from isograph.cli import main
from isograph.dataset.artifacts import load_fit_artifacts

REFERENCE = Path(__file__).resolve().parents[2] / "data" / "reference" / "isar_example"


def test_fit_from_counts_and_tx2gene(small_dir, tmp_path, capsys):
    out = tmp_path / "fit"
    status = main(["fit", "--counts", str(small_dir / "counts.parquet"), "--tx2gene", str(small_dir / "tx2gene.tsv"),
                   "--output-dir", str(out), "--latent-dim", "4", "--seed", "2"])
    captured = capsys.readouterr()
    assert status == 0, captured.err
    assert captured.out.strip() == str(out)
    assert "matched the annotation" in captured.err and "[100%] write" in captured.err
    assert load_fit_artifacts(out).module_ids
    # explain's inputs come with the fit: each transcript's share of its gene's count (a groupby oracle)
    from isograph.dataset.artifacts import load_feature_table

    usage = load_feature_table(out / "transcript_usage.matrix")
    counts = pd.read_parquet(small_dir / "counts.parquet")
    gene_of = pd.read_csv(small_dir / "tx2gene.tsv", sep="\t").set_index("transcript_id")["gene_id"]
    multi = gene_of[gene_of.map(gene_of.value_counts()) >= 2].index
    kept = counts[[t for t in counts.columns if t in set(multi)]]
    totals = kept.T.groupby(gene_of.reindex(kept.columns).to_numpy()).transform("sum").T
    pd.testing.assert_frame_equal(usage, (kept / totals.where(totals > 0)), check_names=False,
                                  check_column_type=False, check_index_type=False)
    meta = pd.read_parquet(out / "feature_metadata.parquet")
    assert meta["feature_id"].tolist() == list(usage.columns) and set(meta["feature_type"]) == {"transcript_usage"}
    assert "next, `isograph explain-module --artifact-dir" in captured.err
    assert main(["explain-module", "--artifact-dir", str(out), "--feature-table", str(out / "transcript_usage.matrix"),
                 "--feature-meta", str(out / "feature_metadata.parquet"), "--output-dir", str(tmp_path / "ex")]) == 0


def test_fit_from_real_salmon_folder_and_gtf(tmp_path, capsys):
    out = tmp_path / "fit"
    status = main(["fit", "--salmon-dir", str(REFERENCE / "quant"), "--gtf", str(REFERENCE / "example.gtf.gz"),
                   "--output-dir", str(out), "--latent-dim", "1", "--min-module-size", "3"])
    err = capsys.readouterr().err
    assert status == 0, err
    assert "1092 of 1092 quantified transcripts (100%) matched the annotation" in err
    assert "isograph: warning: 141 of 375 genes have a single quantified transcript" in err
    config = json.loads((out / "fit_config.json").read_text())
    assert config["import"]["n_samples"] == 6


def _counts_file(tmp_path: Path, text: str) -> str:
    path = tmp_path / "counts.tsv"
    path.write_text(text)
    return str(path)


@pytest.mark.parametrize(("counts", "message"), [
    ("sample_id\tT1\tT2\ns1\t1\t-3\n", r"negative count -3 for transcript 'T2' in sample 's1'"),
    ("sample_id\tT1\tT2\ns1\t0\t0\ns2\t4\t5\n", r"sample\(s\) s1 have no counts at all"),
    ("sample_id\tX1\tX2\nS000\t1\t2\n", r"only 0 of 2 quantified transcripts \(0%\) are in the annotation"),
])
def test_fit_bad_counts_exit_2(small_dir, tmp_path, capsys, counts, message):
    status = main(["fit", "--counts", _counts_file(tmp_path, counts), "--tx2gene", str(small_dir / "tx2gene.tsv"),
                   "--output-dir", str(tmp_path / "o")])
    errors = [line for line in capsys.readouterr().err.splitlines() if line.startswith("isograph: error:")]
    assert status == 2 and len(errors) == 1
    assert pd.Series(errors).str.contains(message).all(), errors


def test_fit_needs_one_counts_source(capsys):
    with pytest.raises(SystemExit) as exc:  # argparse usage error: one line, status 2
        main(["fit", "--tx2gene", "x.tsv", "--output-dir", "o"])
    assert exc.value.code == 2
    assert "one of the arguments --counts --salmon-dir is required" in capsys.readouterr().err


def test_demo_builds_once(tmp_path, capsys):
    """The demo's build path without its SAE part (the whole demo is built once per run by ``demo_root``)."""
    out = tmp_path / "demo"
    assert main(["demo", "--out", str(out), "--no-sae"]) == 0
    err = capsys.readouterr().err
    assert "planted-module recovery (mean best Jaccard) 1.000" in err
    dataset = json.loads((out / "dataset.json").read_text())
    for rel in dataset["paths"].values():
        assert (out / rel).exists(), rel
    manifest = json.loads((out / "explain" / "module_explanation_manifest.json").read_text())
    assert manifest["module_ids"] == load_fit_artifacts(out / "fit").module_ids
    assert main(["demo", "--out", str(out)]) == 0
    assert "already holds the demo" in capsys.readouterr().err


def test_explain_with_attribution_flags(fitted_dir, capsys):
    out = fitted_dir / "explain"
    status = main(["explain-module", "--artifact-dir", str(fitted_dir / "fit"),
                   "--feature-table", str(fitted_dir / "features.parquet"),
                   "--feature-meta", str(fitted_dir / "feature_metadata.parquet"), "--module-ids", "M001",
                   "--output-dir", str(out), "--vae-attribution", "--vae-fdr-threshold", "0.01",
                   "--vae-percentile-threshold", "80", "--integrated-gradients", "--ig-n-steps", "20",
                   "--ig-baseline", "mean"])
    assert status == 0, capsys.readouterr().err
    manifest = json.loads((out / "module_explanation_manifest.json").read_text())
    assert manifest["optional_features"]["vae_attribution"] and manifest["optional_features"]["integrated_gradients"]
    assert manifest["config"]["ig_baseline"] == "mean" and manifest["config"]["vae_percentile_threshold"] == 80
    assert set(manifest["modules"]["M001"]["files"]) >= {"vae_drivers", "ig_attributions"}
    ig = pd.read_parquet(out / "M001" / "ig_attributions.parquet")
    assert list(ig.columns[:3]) == ["feature_id", "gene_id", "feature_type"] and ig["in_module"].any()


def test_attribution_flag_without_checkpoint_exits_2(small_dir, tmp_path, capsys):
    status = main(["explain-module", "--artifact-dir", str(small_dir / "oracle_fit"),
                   "--feature-table", str(small_dir / "features.parquet"),
                   "--feature-meta", str(small_dir / "feature_metadata.parquet"),
                   "--output-dir", str(tmp_path / "o"), "--vae-attribution"])
    err = capsys.readouterr().err
    assert status == 2 and "no vae_checkpoint.pt, which --vae-attribution and --integrated-gradients need" in err

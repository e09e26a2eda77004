"""`isograph sae embed | train | kg | enrich | intervene | train-lm` on a tiny model, as a user would chain them."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from isograph.cli import main
from isograph.sae.lm import make_esm_lm
from isograph.structure.gtf import read_gtf

GTF = Path(__file__).resolve().parents[2] / "data" / "reference" / "isar_example" / "example.gtf.gz"


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    """A tiny LM and two FASTA sets whose headers are real exon coordinates of named genes."""
    root = tmp_path_factory.mktemp("sae_cli")
    make_esm_lm(root / "lm", hidden_size=16, n_layers=2, n_heads=2, max_tokens=64)
    exons = read_gtf(GTF)
    exons = exons[(exons["feature"] == "exon") & exons["gene_name"].notna()].drop_duplicates("gene_name")
    exons = exons.drop_duplicates(["seqname", "start"]).head(40)
    rng = np.random.default_rng(0)
    for name, part in (("pos", exons.iloc[:20]), ("neg", exons.iloc[20:])):
        with open(root / f"{name}.fa", "w") as handle:
            for row in part.itertuples():
                n = 150
                handle.write(f">{row.seqname}:{row.start - 1}-{row.start - 1 + n}({row.strand})\n")
                handle.write("".join(rng.choice(list("ACGT"), n)) + "\n")
    return root


def test_the_seed_workflow(workdir, capsys, monkeypatch):
    monkeypatch.chdir(workdir)
    common = ["--model-name", "lm", "--layer-idx", "2"]
    assert main(["sae", "embed", "--input", "pos.fa", "--negative", "neg.fa", *common, "--output", "acts"]) == 0
    assert main(["sae", "train", "--activations", "acts", "--layer-idx", "2", "--expansion-factor", "8",
                 "--epochs", "4", "--batch-size", "64"]) == 0
    assert (workdir / "checkpoints" / "ef8" / "layer_2" / "sae.pt").exists()
    assert main(["sae", "kg", "--input", "pos.fa", "--negative", "neg.fa", *common, "--gtf", str(GTF),
                 "--output", "cis_kg.json"]) == 0
    edges = pd.read_parquet("cis_kg_edges.parquet")
    assert (edges["features"].str.contains("exon")).mean() > 0.3  # tokens at the start of real exons
    assert set(edges["set"]) == {"positive", "negative"}
    assert Path("cis_kg_centrality.parquet").exists() and Path("cis_kg_contrast.parquet").exists()
    assert main(["sae", "enrich", "--edges", "cis_kg_edges.parquet", "--top", "2", "--min-genes", "1"]) == 0
    folders = sorted(Path("cis_gene_sets").glob("enrich_*"))
    assert len(folders) == 2 and (folders[0] / "go_enrichment.tsv").exists()
    assert main(["sae", "intervene", "--input", "pos.fa", *common, "--feature", "5", "--min-act", "0.1",
                 "--act-factor", "10.0", "--max-sequences", "2"]) == 0
    report = Path("intervention_reports/feature_5")
    effects = pd.read_parquet(report / "effects.parquet")
    assert effects["seq_id"].nunique() == 2 and (effects["z_after"] >= 1.0 - 1e-6).all()
    assert "mean KL" in (report / "report.md").read_text() and (report / "effects.html").exists()
    capsys.readouterr()


def test_variants_from_hgvs_and_vcf(workdir, tmp_path, capsys, monkeypatch):
    """`sae variants` writes the windows, the feature deltas and the per-token KL; a bad HGVS is one line, exit 2."""
    import gzip

    from isograph.sae.demo import REFERENCE_FASTA
    from isograph.sae.model import SAEConfig, SAETrainResult, new_sae, save_sae

    monkeypatch.chdir(workdir)
    with gzip.open(REFERENCE_FASTA, "rt") as handle:
        record = next(r for r in handle.read().split(">")[1:] if r.startswith("TCONS_00000001"))
    (tmp_path / "tx.fa").write_text(">" + record)
    seq = "".join(record.splitlines()[1:])
    sae_dir = tmp_path / "sae"
    save_sae(SAETrainResult(model=new_sae(16, 32), config=SAEConfig(expansion_factor=2), metrics=[], best_epoch=1, path=None, seconds=0,
                            tokens_per_second=0), sae_dir, layer_idx=1)
    (tmp_path / "v.txt").write_text(f"# two variants\nTCONS_00000001:c.4{seq[1404]}>{'A' if seq[1404] != 'A' else 'C'}\n"
                                    f"TCONS_00000001:c.10_12del\n")
    common = ["--gtf", str(GTF), "--fasta", str(tmp_path / "tx.fa"), "--model-name", "lm", "--layer-idx", "1",
              "--sae", str(sae_dir), "--flank", "60", "--output-dir", str(tmp_path / "out")]
    assert main(["sae", "variants", "--hgvs", str(tmp_path / "v.txt"), *common]) == 0
    variants = pd.read_parquet(tmp_path / "out" / "variants.parquet")
    assert variants["status"].tolist() == ["ok", "ok"] and variants["ref_window"].str.len().tolist() == [121, 123]
    deltas = pd.read_parquet(tmp_path / "out" / "feature_deltas.parquet")
    assert set(deltas["name"]) == set(variants["name"]) and len(deltas) == 20
    assert (pd.read_parquet(tmp_path / "out" / "token_effects.parquet")["kl"] >= 0).all()
    (tmp_path / "bad.txt").write_text("TCONS_00000001:c.1G>A\n")
    assert main(["sae", "variants", "--hgvs", str(tmp_path / "bad.txt"), *common]) == 2
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert err.startswith("isograph: error:") and "reference mismatch: TCONS_00000001 has A at c.1, not G" in err
    long = [a if a != "60" else "300" for a in common]  # 300 + 1 + 247 nt (the 3' end) = 93 tokens
    assert main(["sae", "variants", "--hgvs", str(tmp_path / "v.txt"), *long]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "its window has 93 tokens but the model takes at most 63; use a smaller flank (at most about 182" in err[0]
    assert main(["sae", "variants", "--hgvs", str(tmp_path / "v.txt"), *[a if a != "60" else "-1" for a in common]]) == 2
    assert "--flank -1" in capsys.readouterr().err


def test_train_lm_then_embed_with_it(tmp_path, capsys):
    fasta = tmp_path / "tx.fa"
    rng = np.random.default_rng(1)
    fasta.write_text("".join(f">t{i}\n{''.join(rng.choice(list('ACGT'), 400))}\n" for i in range(30)))
    assert main(["sae", "train-lm", "--input", str(fasta), "--output", str(tmp_path / "mylm"), "--hidden-size", "16",
                 "--layers", "2", "--heads", "2", "--window-tokens", "32", "--epochs", "1"]) == 0
    training = json.loads((tmp_path / "mylm" / "training.json").read_text())
    assert training["history"][0]["loss"] > 0 and training["n_windows"] >= 30
    assert main(["sae", "embed", "--input", str(fasta), "--model-name", str(tmp_path / "mylm"), "--layer-idx", "1",
                 "--tile", "180", "--output", str(tmp_path / "acts")]) == 0
    capsys.readouterr()


def test_bad_fasta_from_the_shell(tmp_path, workdir):
    bad = tmp_path / "bad.fa"
    bad.write_text(">ok\nACGT\n>broken\nACGZ\n")
    proc = subprocess.run([sys.executable, "-m", "isograph.cli", "sae", "embed", "--input", str(bad), "--model-name",
                           str(workdir / "lm"), "--layer-idx", "1", "--output", str(tmp_path / "x")],
                          capture_output=True, text=True, cwd=Path(__file__).resolve().parents[2])
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert proc.stderr.strip().splitlines()[-1].startswith("isograph: error:")
    assert "record 'broken' has an invalid character 'Z' at position 4" in proc.stderr


def test_train_lm_on_transcripts_with_their_gtf_holds_out_genes_and_probes(tmp_path, capsys):
    """`train-lm --gtf` holds out whole genes, reports the held-out loss against both baselines and runs the
    CDS-vs-UTR probe; `probe-lm` re-runs the probe on the model's own split and records it."""
    import gzip

    from isograph.sae.demo import REFERENCE_FASTA
    from isograph.simulate import REFERENCE_GTF

    with gzip.open(REFERENCE_FASTA, "rt") as handle:
        records = handle.read().split(">")[1:41]
    fasta = tmp_path / "tx.fa"
    fasta.write_text("".join(">" + r for r in records))
    common = ["--input", str(fasta), "--gtf", str(REFERENCE_GTF)]
    assert main(["sae", "train-lm", *common, "--output", str(tmp_path / "lm"), "--hidden-size", "16", "--layers", "2",
                 "--heads", "2", "--window-tokens", "32", "--max-steps", "4", "--validation-fraction", "0.3",
                 "--probe-layers", "1", "--probe-tokens", "1500"]) == 0
    report = json.loads((tmp_path / "lm" / "training.json").read_text())
    held = report["held_out"]
    assert report["steps"] == 4 and report["n_held_out_sequences"] > 0
    assert held["loss_uniform"] == pytest.approx(np.log(4096)) and held["n_tokens"] > 0
    assert report["probe"][0]["layer"] == 1 and 0 <= report["probe"][0]["auc_kmer_bag"] <= 1
    err = capsys.readouterr().err
    assert "held-out masked-token loss" in err and "6-mer frequencies" in err and "CDS-vs-UTR probe AUC" in err
    assert main(["sae", "probe-lm", "--model", str(tmp_path / "lm"), *common, "--layers", "2", "--probe-tokens",
                 "1500"]) == 0
    assert json.loads((tmp_path / "lm" / "training.json").read_text())["probe"][0]["layer"] == 2
    capsys.readouterr()

"""`isograph` from the shell: the manual's Quick Start round trip and one-line errors with status 2."""

from __future__ import annotations

import gzip
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from isograph.cli import main
from isograph.explain import read_manifest


def _isograph() -> list[str]:
    script = Path(sys.executable).parent / "isograph"
    found = shutil.which("isograph")
    return [str(script)] if script.exists() else [found] if found else [sys.executable, "-m", "isograph.cli"]


def _run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([*_isograph(), *args], capture_output=True, text=True, timeout=300)


def test_quick_start_round_trip(tmp_path):
    """simulate, then the manual's Quick Start command (less --plot, which a later issue adds)."""
    sim = _run("simulate", "--out", str(tmp_path / "sim"), "--seed", "3", "--n-samples", "60")
    assert sim.returncode == 0, sim.stderr
    d = tmp_path / "sim"
    out = _run(
        "explain-module",
        "--artifact-dir", str(d / "oracle_fit"),
        "--feature-table", str(d / "features.matrix"),  # simulate writes the fast layout by default
        "--feature-meta", str(d / "feature_metadata.parquet"),
        "--module-ids", "M000", "M001",
        "--output-dir", str(tmp_path / "explain" / "run1"),
    )
    assert out.returncode == 0, out.stderr
    manifest_path = Path(out.stdout.strip())
    assert manifest_path == tmp_path / "explain" / "run1" / "module_explanation_manifest.json"
    manifest = read_manifest(manifest_path.parent)
    assert manifest["module_ids"] == ["M000", "M001"]
    table = pd.read_parquet(manifest_path.parent / "M001" / "gene_driver_table.parquet")
    assert list(table.columns[:6]) == ["gene_id", "r", "pvalue", "qvalue", "n_samples", "missing_fraction"]
    truth = pd.read_csv(d / "truth" / "genes.tsv", sep="\t").set_index("gene_id")
    top = table["gene_id"].head(5)
    assert truth.loc[top, "is_switching"].all()  # the strongest drivers are planted switches


def test_explain_module_loads_only_what_it_uses(small_dir, tmp_path):
    """The command's imports are part of its time (issue 16: the whole command <= 2 s): explain-module builds
    only its own subcommand, and its statistics need scipy.special and scipy.linalg, not scipy.stats (about
    0.3 s) nor the fit's, SAE's, structure's or figures' libraries."""
    argv = ["explain-module", "--artifact-dir", str(small_dir / "oracle_fit"), "--feature-table",
            str(small_dir / "features.parquet"), "--feature-meta", str(small_dir / "feature_metadata.parquet"),
            "--output-dir", str(tmp_path / "out")]
    code = ("import sys\nfrom isograph.cli import main\n"
            f"status = main({argv!r})\n"
            "heavy = ('scipy.stats', 'networkx', 'torch', 'plotly', 'sklearn', 'umap', 'isograph.fit', 'isograph.sae',"
            " 'isograph.structure', 'isograph.figures')\n"
            "print(status, sorted(m for m in heavy if m in sys.modules))\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "0 []"
    assert (tmp_path / "out" / "module_explanation_manifest.json").is_file()


def test_error_from_the_shell_is_one_line_without_traceback(tmp_path):
    out = _run("explain-module", "--artifact-dir", str(tmp_path / "missing"), "--feature-table", "x.parquet",
               "--feature-meta", "y.parquet", "--output-dir", str(tmp_path / "o"))
    assert out.returncode == 2
    assert out.stderr.count("\n") == 1 and "Traceback" not in out.stderr
    assert out.stderr.startswith("isograph: error: artifact directory not found")


def test_usage_error_is_one_line_with_status_2():
    out = _run("explain-module", "--split-percentile", "abc")
    assert out.returncode == 2 and out.stderr.count("\n") == 1
    assert "invalid float value: 'abc'" in out.stderr


@pytest.fixture
def args(small_dir, tmp_path):
    """A valid explain-module command line on the small simulated set, as a dict of flags."""
    return {
        "--artifact-dir": str(small_dir / "oracle_fit"),
        "--feature-table": str(small_dir / "features.parquet"),
        "--feature-meta": str(small_dir / "feature_metadata.parquet"),
        "--output-dir": str(tmp_path / "out"),
    }


def _argv(flags: dict) -> list[str]:
    argv = ["explain-module"]
    for k, v in flags.items():
        argv += [k, *v] if isinstance(v, list) else [k, v]
    return argv


def _bad_table(tmp_path: Path, name: str, text: str | bytes) -> str:
    path = tmp_path / name
    path.write_bytes(text if isinstance(text, bytes) else text.encode())
    return str(path)


BAD = {
    "unknown-module": (lambda d, t: {"--module-ids": ["M000", "M077"]}, r"unknown module ID\(s\) M077"),
    "missing-fit-file": (lambda d, t: (d / "oracle_fit" / "modules.parquet").unlink() or {},
                         r"modules.parquet not found"),
    "duplicate-sample": (lambda d, t: {"--feature-table": _bad_table(t, "f.tsv", "sample_id\tA\nS1\t0.1\nS1\t0.2\n")},
                         r"f.tsv: duplicate sample ID 'S1' at row 1 \(line 2\), row 2 \(line 3\)"),
    "duplicate-feature-column": (lambda d, t: {"--feature-table": _bad_table(t, "f.csv", "sample_id,A,B,A\nS1,1,2,3\n")},
                                 r"f.csv: duplicate column name 'A' in the header \(column 4\)"),
    "duplicate-meta-feature": (lambda d, t: {"--feature-meta": _bad_table(
        t, "m.tsv", "feature_id\tgene_id\tfeature_type\nT1\tG1\ttranscript_usage\nT1\tG2\ttranscript_usage\n")},
        r"m.tsv: duplicate feature_id 'T1' at row 1 \(line 2\), row 2 \(line 3\)"),
    "missing-fit-column": (lambda d, t: pd.read_parquet(d / "oracle_fit" / "modules.parquet")[["gene_id"]]
                           .to_parquet(d / "oracle_fit" / "modules.parquet") or {},
                           r"modules.parquet: missing required column\(s\) module_id"),
    "non-numeric": (lambda d, t: {"--feature-table": _bad_table(t, "f.csv", "sample_id,A\nS1,0.1\nS2,high\n")},
                    r"f.csv: feature column 'A' is not numeric at row 2 \(line 3\): 'high'"),
    "corrupt-gzip": (lambda d, t: {"--feature-meta": _bad_table(t, "m.tsv.gz", gzip.compress(b"feature_id\n" * 999)[:40])},
                     r"m.tsv.gz: corrupt or truncated gzip"),
    "meta-missing-column": (lambda d, t: {"--feature-meta": _bad_table(t, "m.tsv", "feature_id\tgene_id\nA\tG\n")},
                            r"m.tsv: missing required column\(s\) feature_type"),
    "few-samples": (lambda d, t: {"--feature-table": _bad_table(t, "f.csv", "sample_id,A\nS000,0.1\nS001,0.2\n")},
                    r"only 2 sample\(s\) shared by the fit \(40 samples\) and the feature table"),
    "no-usage": (lambda d, t: {"--feature-meta": _bad_table(
        t, "m.tsv", "feature_id\tgene_id\tfeature_type\n" + "".join(
            f"{f}\t{g}\texon\n" for f, g in pd.read_parquet(d / "feature_metadata.parquet")[["feature_id", "gene_id"]]
            .itertuples(index=False)))}, r"module M000: none of its \d+ genes has a transcript_usage feature"),
    "bad-percentile": (lambda d, t: {"--split-percentile": "75"}, r"split_percentile must be in \(0, 50\]"),
    "score-table-module": (lambda d, t: {"--module-score-table": _bad_table(
        t, "s.tsv", "sample_id\tM000\n" + "".join(f"S{i:03d}\t{i}\n" for i in range(40)))},
        r"s.tsv: no column for module\(s\) M001"),
    "output-is-file": (lambda d, t: {"--output-dir": _bad_table(t, "taken", "x")}, r"--output-dir .*taken exists and is not a folder"),
}


@pytest.mark.parametrize("case", list(BAD))
def test_bad_input_exits_2_with_one_line(case, args, small_dir, tmp_path, capsys):
    make, message = BAD[case]
    flags = {**args, **make(small_dir, tmp_path)}
    assert main(_argv(flags)) == 2
    err = capsys.readouterr().err.strip().splitlines()
    errors = [line for line in err if line.startswith("isograph: error:")]
    assert len(errors) == 1, err
    assert pd.Series(errors).str.contains(message).all(), errors[0]


def test_warnings_are_one_line_each(args, small_dir, tmp_path, capsys):
    table = pd.read_parquet(small_dir / "features.parquet").iloc[:30]
    path = tmp_path / "f30.parquet"
    table.to_parquet(path)
    assert main(_argv({**args, "--feature-table": str(path)})) == 0
    err = capsys.readouterr().err
    assert "isograph: warning: using 30 shared samples: dropped 10 fit sample(s)" in err


def test_simulate_bad_parameter(tmp_path, capsys):
    assert main(["simulate", "--out", str(tmp_path / "s"), "--n-samples", "4"]) == 2
    assert capsys.readouterr().err.strip() == "isograph: error: simulation parameter error: n_samples must be >= 10"


def test_plot_writes_valid_pdf_and_png(small_dir, tmp_path, capsys):
    from isograph.figures.render import chrome_path

    if chrome_path() is None or shutil.which("pdftotext") is None:
        pytest.skip("needs chromium and poppler-utils (installed by .ci/run)")
    out = tmp_path / "ex"
    assert main(["explain-module", "--artifact-dir", str(small_dir / "oracle_fit"),
                 "--feature-table", str(small_dir / "features.parquet"),
                 "--feature-meta", str(small_dir / "feature_metadata.parquet"), "--module-ids", "M000",
                 "--output-dir", str(out), "--plot", "--output-format", "png", "pdf"]) == 0
    assert "wrote 6 figure file(s)" in capsys.readouterr().err
    pdf = out / "M000" / "figures" / "driver_barplot.pdf"
    assert pdf.read_bytes()[:5] == b"%PDF-"
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True).stdout
    assert re.search(r"^Pages:\s+1$", info, re.MULTILINE), info
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True).stdout
    top = pd.read_parquet(out / "M000" / "gene_driver_table.parquet").iloc[0]
    assert (top["gene_name"] or top["gene_id"]) in text
    assert (out / "M000" / "figures" / "usage_gradient.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # a journal column: 89 mm pages, 300-dpi PNGs, the width in the file names
    assert main(["explain-module", "--artifact-dir", str(small_dir / "oracle_fit"),
                 "--feature-table", str(small_dir / "features.parquet"),
                 "--feature-meta", str(small_dir / "feature_metadata.parquet"), "--module-ids", "M000",
                 "--output-dir", str(out), "--plot", "--output-format", "png", "pdf", "--figure-width", "single"]) == 0
    pdf = out / "M000" / "figures" / "driver_heatmap_89mm.pdf"
    size = re.search(r"Page size:\s+([\d.]+) x ([\d.]+) pts", subprocess.run(["pdfinfo", str(pdf)], capture_output=True,
                                                                                text=True).stdout)
    assert abs(float(size.group(1)) / 72 * 25.4 - 89.0) < 1.0
    png = (out / "M000" / "figures" / "usage_gradient_89mm.png").read_bytes()
    assert abs(int.from_bytes(png[16:20], "big") - 89 / 25.4 * 300) < 3  # IHDR width: 89 mm at 300 dpi

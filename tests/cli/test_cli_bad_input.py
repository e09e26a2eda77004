"""Bad input at the command line: one line naming the file and what to do, exit status 2, no traceback —
binary and truncated files, header-only tables, output paths below a file, SAE checkpoints and language
models that do not fit."""

from __future__ import annotations

import json
import pickle
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from isograph.reference import reference_path

GTF = reference_path("isar_example", "example.gtf.gz")


def _isograph(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "isograph.cli", *args], capture_output=True, text=True, cwd=cwd,
                          timeout=300)


def _one_line_error(proc: subprocess.CompletedProcess, *words: str) -> None:
    errors = [line for line in proc.stderr.splitlines() if line.startswith("isograph: error:")]
    assert proc.returncode == 2, proc.stderr
    assert len(errors) == 1 and "Traceback" not in proc.stderr and "internal error" not in proc.stderr, proc.stderr
    for word in words:
        assert word in errors[0], errors[0]


class _Payload:
    def __reduce__(self):
        return (print, ("this would run on load",))


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    import torch

    from isograph.sae.lm import make_esm_lm
    from isograph.sae.model import new_sae

    root = tmp_path_factory.mktemp("bad")
    (root / "bin.gtf").write_bytes(bytes(range(256)) * 20)
    (root / "trunc.gtf.gz").write_bytes(GTF.read_bytes()[:100])
    shutil.copyfile(GTF, root / "g.gtf.gz")
    (root / "header.tsv").write_text("gene_id\ttranscript_id_1\ttranscript_id_2\n")
    (root / "pairs.tsv").write_text("gene_id\ttranscript_id_1\ttranscript_id_2\nXLOC_000001\tTCONS_00000001\tTCONS_00000002\n")
    (root / "afile").write_text("a file, not a folder")
    (root / "salmon").mkdir()
    (root / "salmon" / "s1.quant.sf").write_bytes(bytes(range(256)) * 10)
    make_esm_lm(root / "lm", hidden_size=16, n_layers=2, n_heads=2, max_tokens=64)
    shutil.copytree(root / "lm", root / "lm_truncated")
    weights = root / "lm_truncated" / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[: weights.stat().st_size // 3])
    (root / "seq.fa").write_text(">s1\n" + "ACGTTGCA" * 12 + "\n")
    for name, d_in, config_d_in in (("narrow", 8, 8), ("mismatch", 8, 16)):
        folder = root / f"sae_{name}"
        folder.mkdir()
        torch.save(new_sae(d_in, 32, None).state_dict(), folder / "sae.pt")
        (folder / "config.json").write_text(json.dumps({"d_in": config_d_in, "d_sae": 32, "top_k": None}))
    folder = root / "sae_pickled"
    folder.mkdir()
    with open(folder / "sae.pt", "wb") as handle:
        pickle.dump({"W_enc": _Payload()}, handle)
    (folder / "config.json").write_text(json.dumps({"d_in": 16, "d_sae": 32, "top_k": None}))
    return root


@pytest.mark.parametrize(("args", "words"), [
    (["annotate-structure", "--gtf", "bin.gtf", "--switch-pairs", "pairs.tsv", "--output", "o.tsv"],
     ["bin.gtf", "not a text GTF"]),
    (["annotate-structure", "--gtf", "trunc.gtf.gz", "--switch-pairs", "pairs.tsv", "--output", "o.tsv"],
     ["trunc.gtf.gz", "corrupt or truncated gzip"]),
    (["annotate-structure", "--gtf", "g.gtf.gz", "--switch-pairs", "header.tsv", "--output", "o.tsv"],
     ["header.tsv", "no switch pairs (only a header)"]),
    (["annotate-structure", "--gtf", "g.gtf.gz", "--switch-pairs", "pairs.tsv", "--output", "afile/o.tsv"],
     ["afile", "an output folder must be a folder"]),
    (["fit", "--salmon-dir", "salmon", "--gtf", "g.gtf.gz", "--output-dir", "fit"],
     ["s1.quant.sf", "not a text file"]),
    (["sae", "intervene", "--input", "seq.fa", "--model-name", "lm", "--sae", "sae_pickled", "--layer-idx", "1",
      "--feature", "0"], ["sae.pt", "pickled Python objects, which are never loaded"]),
    (["sae", "intervene", "--input", "seq.fa", "--model-name", "lm", "--sae", "sae_mismatch", "--layer-idx", "1",
      "--feature", "0"], ["sae_mismatch", "does not match config.json"]),
    (["sae", "intervene", "--input", "seq.fa", "--model-name", "lm", "--sae", "sae_narrow", "--layer-idx", "1",
      "--feature", "0"], ["reads hidden states of 8 dimensions, these have 16"]),
    (["sae", "embed", "--input", "seq.fa", "--model-name", "lm_truncated", "--layer-idx", "1", "--output", "acts"],
     ["lm_truncated", "cannot load a masked language model"]),
], ids=["binary-gtf", "truncated-gtf", "header-only-pairs", "output-below-a-file", "binary-salmon",
        "pickled-sae", "sae-shape-mismatch", "sae-width-mismatch", "truncated-safetensors"])
def test_bad_input_is_one_line_and_exit_2(files, args, words, monkeypatch, capsys):
    """In-process (the same ``main`` the console script runs; one case below also runs as a process)."""
    from isograph.cli.main import main

    monkeypatch.chdir(files)
    status = main(list(args))
    _one_line_error(subprocess.CompletedProcess(args, status, "", capsys.readouterr().err), *words)
    assert not (files / "o.tsv").exists()


def test_the_console_entry_point_says_the_same_in_a_process(files):
    _one_line_error(_isograph("sae", "embed", "--input", "seq.fa", "--model-name", "lm_truncated", "--layer-idx", "1",
                              "--output", "acts", cwd=files), "lm_truncated", "cannot load a masked language model")

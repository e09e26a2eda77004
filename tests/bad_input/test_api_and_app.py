"""Bad input through the Python API and the app's job functions: an InputError (or an alert) that names the
file, row, column or value and what to do, and the data set's files byte-identical afterwards."""

from __future__ import annotations

import dataclasses
import shutil

import pandas as pd
import pytest

from isograph.errors import InputError
from isograph.explain import ExplainConfig, explain_module
from isograph.structure.annotate import decode_upload, read_pairs_upload


@pytest.fixture(scope="module")
def explained(tmp_path_factory, _written):
    root = tmp_path_factory.mktemp("bad_api")
    shutil.copytree(_written["small"], root / "sim")
    explain_module(root / "sim" / "oracle_fit", root / "sim" / "features.parquet",
                   root / "sim" / "feature_metadata.parquet", output_dir=root / "out")
    return root


def _meta(root):
    return pd.read_parquet(root / "sim" / "feature_metadata.parquet")


def _table(root):
    return pd.read_parquet(root / "sim" / "features.parquet")


API_CASES = [
    ("config-split", lambda r: dict(config=ExplainConfig(split_percentile=0)), "split_percentile must be in (0, 50]"),
    ("config-pairs", lambda r: dict(config=ExplainConfig(min_complete_pairs=1)), "min_complete_pairs must be an integer >= 2"),
    ("config-method", lambda r: dict(config=ExplainConfig(eigengene_method="mean")), "eigengene_method must be one of"),
    ("config-confidence", lambda r: dict(config=ExplainConfig(confidence_level=1.5)), "confidence_level must be in (0, 1)"),
    ("config-channel", lambda r: dict(config=ExplainConfig(driver_channel="both")), "driver_channel must be one of"),
    ("config-ig-baseline", lambda r: dict(config=ExplainConfig(ig_baseline="median")), "ig_baseline must be zero or mean"),
    ("meta-missing-column", lambda r: dict(feature_meta=_meta(r).drop(columns="gene_id")), "gene_id"),
    ("meta-duplicate-feature", lambda r: dict(feature_meta=pd.concat([_meta(r), _meta(r).head(1)])), "duplicate"),
    ("table-duplicate-feature-column", lambda r: dict(feature_table=pd.concat([_table(r), _table(r).iloc[:, :1]], axis=1)),
     "duplicate"),
    ("table-non-numeric", lambda r: dict(feature_table=_table(r).astype(object).mask(
        (_table(r).index == _table(r).index[3])[:, None] & (pd.RangeIndex(_table(r).shape[1]) == 0)[None, :], "x")),
     "non-numeric"),
    ("table-all-missing", lambda r: dict(feature_table=_table(r) * float("nan")), "every value is missing"),
    ("unknown-module", lambda r: dict(module_ids=["M099"]), "M099"),
]


@pytest.mark.parametrize(("change", "words"), [c[1:] for c in API_CASES], ids=[c[0] for c in API_CASES])
def test_bad_api_input_leaves_the_earlier_run(explained, snapshot, change, words):
    root = explained
    before = snapshot(root / "out")
    kwargs = dict(artifact_dir=root / "sim" / "oracle_fit", feature_table=root / "sim" / "features.parquet",
                  feature_meta=root / "sim" / "feature_metadata.parquet", output_dir=root / "out")
    kwargs.update(change(root))
    with pytest.raises(InputError) as info:
        explain_module(**kwargs)
    assert words in str(info.value) and "\n" not in str(info.value)
    assert snapshot(root / "out") == before


UPLOAD_CASES = [
    ("binary", b"\x00\x01\x02\xff" * 50, "upload.tsv", "not a tab-separated table"),
    ("header-only", b"gene_id\ttranscript_id_1\ttranscript_id_2\n", "upload.tsv", "no rows"),
    ("missing-column", b"gene_id\ttranscript_id_1\nG\tT\n", "upload.tsv", "missing column(s) transcript_id_2"),
    ("empty-id", b"gene_id\ttranscript_id_1\ttranscript_id_2\nG\t\tT2\n", "upload.tsv", "row 2 has an empty"),
    ("csv-as-csv", b"gene_id;transcript_id_1;transcript_id_2\nG;T1;T2\n", "upload.csv", "missing column(s)"),
    ("empty-file", b"", "upload.tsv", "no rows (the file is empty)"),
    ("ragged-row", b"gene_id\ttranscript_id_1\ttranscript_id_2\nG\tT1\tT2\nG\tT1\n", "upload.tsv",
     "row 3 has 2 field(s), the header 3"),
    ("latin-1-row", b"gene_id\ttranscript_id_1\ttranscript_id_2\nG\tT1\tT2\nG\t\xe9\tT2\n", "upload.tsv",
     "line 3 is not UTF-8 text"),
    ("nul-bytes", b"gene_id\ttranscript_id_1\ttranscript_id_2\nG\0\tT1\tT2\n", "upload.tsv", "binary data"),
    ("repeated-column", b"gene_id\tgene_id\ttranscript_id_1\ttranscript_id_2\nG\tG\tT1\tT2\n", "upload.tsv",
     "column(s) gene_id appear more than once"),
    ("spaces-only-id", b"gene_id\ttranscript_id_1\ttranscript_id_2\nG\t  \tT2\n", "upload.tsv", "row 2 has an empty"),
]


@pytest.mark.parametrize(("content", "name", "words"), [c[1:] for c in UPLOAD_CASES], ids=[c[0] for c in UPLOAD_CASES])
def test_bad_uploads(content, name, words):
    with pytest.raises(InputError, match=None) as info:
        read_pairs_upload(content, name)
    assert words in str(info.value) and name in str(info.value)


@pytest.mark.parametrize("payload", ["plain text", "data:text/plain;base64,%%%", None, b"bytes"])
def test_bad_upload_payloads(payload):
    with pytest.raises(InputError, match="x.tsv: the upload"):
        decode_upload(payload, "x.tsv")


def test_an_oversized_payload_is_refused_from_its_length_without_decoding(monkeypatch):
    import base64

    from isograph.structure.annotate import MAX_UPLOAD_BYTES

    def no_decoding(*args, **kwargs):
        raise AssertionError("decoded an oversized upload")

    exact = base64.b64encode(b"a" * MAX_UPLOAD_BYTES).decode()
    assert len(decode_upload("data:text/tab-separated-values;base64," + exact, "x.tsv")) == MAX_UPLOAD_BYTES
    monkeypatch.setattr(base64, "b64decode", no_decoding)
    over = base64.b64encode(b"a" * (MAX_UPLOAD_BYTES + 1)).decode()
    with pytest.raises(InputError, match=r"x.tsv: 21.0 MB is more than the 20 MiB an upload may have"):
        decode_upload("data:text/tab-separated-values;base64," + over, "x.tsv")


def test_a_large_upload_stops_at_the_row_cap_and_names_the_row():
    """Rows are validated as they are read: a 19 MiB table is refused at row 50,002 without being parsed whole,
    and a broken row deep in a big table is named by its number."""
    from isograph.structure.annotate import MAX_UPLOAD_ROWS

    header = b"gene_id\ttranscript_id_1\ttranscript_id_2\n"
    row = b"ENSG00000000001\tENST00000000001\tENST00000000002\n"
    big = header + row * (19 * 2**20 // len(row))
    with pytest.raises(InputError, match=f"more than the {MAX_UPLOAD_ROWS:,} pairs an upload may have \\(row 50,002"):
        read_pairs_upload(big, "big.tsv")
    broken = header + row * 40_000 + b"G\tT1\n" + row * 100
    with pytest.raises(InputError, match="row 40,002 has 2 field"):
        read_pairs_upload(broken, "big.tsv")
    assert len(read_pairs_upload(header + row * MAX_UPLOAD_ROWS + b"\n", "ok.tsv")) == MAX_UPLOAD_ROWS


def test_every_explain_option_out_of_range_is_named():
    """Each numeric option of ExplainConfig refuses a value outside its range with the option's name."""
    bad = {"split_percentile": 75, "min_complete_pairs": 0, "confidence_level": 0, "vae_fdr_threshold": 2,
           "vae_percentile_threshold": 101, "vae_eps": 0, "ig_n_steps": 1, "switch_alpha": 0, "min_usage_change": -1}
    for field in dataclasses.fields(ExplainConfig):
        if field.name in bad:
            with pytest.raises(InputError, match=field.name):
                ExplainConfig(**{field.name: bad[field.name]}).validate()

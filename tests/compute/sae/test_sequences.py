"""FASTA reading, headers, validation and tiling."""

from __future__ import annotations

import gzip

import pytest

from isograph.errors import InputError
from isograph.sae.sequences import read_fasta, read_sequence_sets, tile_sequences


def _write(path, text: str, *, gz: bool = False):
    if gz:
        with gzip.open(path, "wt") as handle:
            handle.write(text)
    else:
        path.write_text(text)
    return path


def test_reads_plain_and_gzip_with_coordinates(tmp_path):
    text = ">chr12:65824760-65824860(+)\nacgt\nACGN\n>seq2 some description\nTTTT\n"
    for gz in (False, True):
        table = read_fasta(_write(tmp_path / ("a.fa.gz" if gz else "a.fa"), text, gz=gz), set_name="pos")
        assert table["seq_id"].tolist() == ["chr12:65824760-65824860(+)", "seq2"]
        assert table["sequence"].tolist() == ["ACGTACGN", "TTTT"]
        first = table.iloc[0]
        assert (first["chrom"], first["start"], first["end"], first["strand"]) == ("chr12", 65824761, 65824860, "+")
        assert table.iloc[1]["start"] == -1 and set(table["set"]) == {"pos"}


def test_real_transcript_fasta():
    from isograph.sae.demo import REFERENCE_FASTA

    table = read_fasta(REFERENCE_FASTA)
    assert len(table) == 1092 and table["seq_id"].is_unique
    assert table["seq_id"].iloc[0] == "TCONS_00000001" and table["sequence"].str.len().min() > 0


@pytest.mark.parametrize(("text", "words"), [
    (">a\nACGT\n>b\nACXT\n", "record 'b' has an invalid character 'X' at position 3"),
    (">a\nACGT\n>a\nAC\n", "line 3: duplicate sequence ID 'a' (first at line 1)"),
    ("ACGT\n>a\nAC\n", "line 1 has sequence text before the first '>' header"),
    (">a\n>b\nAC\n", "record 'a' (before line 2) has no sequence"),
    ("", "no FASTA records"),
    (">\nAC\n", "line 1 is a FASTA header without an ID"),
])
def test_bad_fasta_is_one_clear_line(tmp_path, text, words):
    path = _write(tmp_path / "bad.fa", text)
    with pytest.raises(InputError) as info:
        read_fasta(path)
    assert words in str(info.value) and str(path) in str(info.value) and "\n" not in str(info.value)


def test_iupac_codes_become_n_when_allowed(tmp_path):
    path = _write(tmp_path / "a.fa", ">a\nACRYGT\n")
    with pytest.raises(InputError, match="invalid character 'R' at position 3"):
        read_fasta(path)
    assert read_fasta(path, allow_iupac=True)["sequence"].iloc[0] == "ACNNGT"


def test_corrupt_gzip_and_missing_file(tmp_path):
    bad = tmp_path / "x.fa.gz"
    bad.write_bytes(b"\x1f\x8b\x08\x00garbage")
    with pytest.raises(InputError, match="cannot be read as gzip FASTA"):
        read_fasta(bad)
    with pytest.raises(InputError, match="no such FASTA file"):
        read_fasta(tmp_path / "missing.fa")


def test_sequence_sets_and_tiling(tmp_path):
    pos = _write(tmp_path / "p.fa", ">chr1:100-120(+)\n" + "ACGT" * 5 + "\n")
    neg = _write(tmp_path / "n.fa", ">n1\nAAAA\n")
    table = read_sequence_sets({"positive": pos, "negative": neg})
    assert table["set"].tolist() == ["positive", "negative"]
    tiles = tile_sequences(table, window=8, stride=8)
    plus = tiles[tiles["parent_id"] == "chr1:100-120(+)"]
    assert plus["offset"].tolist() == [0, 8, 12]  # the last window ends at the sequence end
    assert plus["start"].tolist() == [101, 109, 113] and plus["end"].tolist() == [108, 116, 120]
    assert tiles[tiles["parent_id"] == "n1"]["sequence"].tolist() == ["AAAA"]  # shorter: kept whole
    dup = _write(tmp_path / "d.fa", ">n1\nCC\n")
    with pytest.raises(InputError, match="'n1' is in more than one sequence set"):
        read_sequence_sets({"a": neg, "b": dup})


def test_token_tiles_never_exceed_the_model_and_keep_the_whole_sequence_tokens():
    """An N-rich sequence has more tokens than 6-mers: base-count tiles of 6 x 4 bases would hold up to 24
    tokens; token tiles hold at most 4, cut between tokens, so the tiles' tokens are the sequence's."""
    import numpy as np
    import pandas as pd

    from isograph.sae.lm import kmer_tokens
    from isograph.sae.sequences import tile_tokens

    rng = np.random.default_rng(3)
    sequence = "".join(rng.choice(list("ACGTNNN"), size=400))
    table = pd.DataFrame({"seq_id": ["s"], "sequence": [sequence], "chrom": ["chr2"], "start": [1001],
                          "end": [1400], "strand": ["-"], "set": ["x"]})
    whole, starts, _ = kmer_tokens(sequence, 6)
    tiles = tile_tokens(table, k=6, max_tokens=4)
    per_tile = [kmer_tokens(t, 6)[0] for t in tiles["sequence"]]
    assert max(map(len, per_tile)) == 4 and sum(per_tile, []) == whole
    assert "".join(tiles["sequence"]) == sequence
    assert tiles["offset"].tolist() == starts[::4].tolist()
    assert tiles["end"].iloc[0] == 1400 and tiles["start"].iloc[-1] == 1001  # minus strand: 5' end is the top
    with pytest.raises(InputError, match="max_tokens > 0"):
        tile_tokens(table, k=6, max_tokens=0)

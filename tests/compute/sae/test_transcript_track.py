"""A feature along whole transcripts: token activations equal a tile embedded on its own, tokens sit on the
genome where the exons put them (both strands), the default feature is the most different one."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from isograph.errors import InputError
from isograph.sae.transcript_track import most_different_feature, transcript_activations
from isograph.structure.models import genomic_positions, transcript_position


def _models() -> pd.DataFrame:
    # G1 (- strand): T1 exons 1001-1400, 1501-1900 (800 nt, 134 tokens: 3 tiles); T2 adds 1431-1460 (830 nt).
    # T1 is coding from base 20 for 450 nt.
    return pd.DataFrame({
        "transcript_id": ["T1", "T2"], "gene_id": "G1", "seqname": "chr1", "strand": "-",
        "exon_starts": [[1001, 1501], [1001, 1431, 1501]], "exon_ends": [[1400, 1900], [1400, 1460, 1900]],
        "length": [800, 830], "coding": [True, False], "utr5_length": [20, 0], "orf_length": [450, 0],
    })


def _sequences() -> dict[str, str]:
    rng = np.random.default_rng(5)
    t2 = "".join(rng.choice(list("ACGT"), 830))
    return {"T1": t2[:400] + t2[430:], "T2": t2}


@pytest.fixture(scope="module")
def tiny_sae(tiny_lm):
    import torch

    from isograph.sae.model import new_sae

    torch.manual_seed(0)
    return new_sae(tiny_lm.hidden_size, 40)


def test_genomic_positions_invert_transcript_position_on_both_strands():
    for strand in "+-":
        model = {"strand": strand, "exon_starts": [1001, 1431, 1501], "exon_ends": [1400, 1460, 1900]}
        genomic = genomic_positions(model, np.arange(830))
        assert [transcript_position(model, int(g)) for g in genomic] == list(range(830))
        assert genomic[0] == (1001 if strand == "+" else 1900) and len(set(genomic)) == 830
    with pytest.raises(ValueError, match="out of range 0..829"):
        genomic_positions(model, [830])


def test_token_activations_equal_each_tile_embedded_alone(tiny_lm, tiny_sae):
    from isograph.sae.features import sequence_activations
    from isograph.sae.lm import kmer_tokens

    sequences = _sequences()
    tokens, feature = transcript_activations(tiny_lm, tiny_sae, sequences, _models(), layer_idx=2, feature=7)
    assert feature == 7
    for tid in ("T1", "T2"):
        mine = tokens[tokens["transcript_id"] == tid]
        whole, starts, ends = kmer_tokens(sequences[tid], tiny_lm.k)
        assert mine["token"].tolist() == whole and mine["tx_start"].tolist() == starts.tolist()
        step = tiny_lm.max_tokens - 1  # 63 tokens per tile (the model takes 64 with <cls>)
        assert len(whole) > 2 * step
        for first in range(0, len(whole), step):
            piece = sequences[tid][starts[first]:ends[min(first + step, len(whole)) - 1]]
            alone, _ = sequence_activations(tiny_lm, tiny_sae, piece, layer_idx=2, feature=7)
            np.testing.assert_allclose(mine["activation"].to_numpy()[first:first + step], alone["activation"],
                                       rtol=1e-5, atol=1e-6)
    t1 = tokens[tokens["transcript_id"] == "T1"].iloc[0]
    assert t1["genomic"] == 1900 - 2 and t1["region"] == "5'UTR"  # middle base of bases 0..5: index 2, minus strand
    cds = tokens[(tokens["transcript_id"] == "T1") & (tokens["tx_start"] == 24)].iloc[0]
    assert cds["region"] == "CDS" and set(tokens.loc[tokens["transcript_id"] == "T2", "region"]) == {"exon"}
    assert tokens.loc[(tokens["transcript_id"] == "T1") & (tokens["tx_start"] == 468), "region"].item() == "3'UTR"
    gained = tokens[(tokens["transcript_id"] == "T2") & tokens["genomic"].between(1431, 1460)]
    assert len(gained) == 5 and gained["tx_start"].min() == 402  # the gained exon: T2 bases 400..429


def test_the_default_feature_differs_most_between_the_isoforms(tiny_lm, tiny_sae):
    from isograph.sae.embed import embed_sequences
    from isograph.sae.model import encode
    from isograph.sae.sequences import tile_tokens

    sequences = _sequences()
    _, chosen = transcript_activations(tiny_lm, tiny_sae, sequences, _models(), layer_idx=2)
    table = pd.DataFrame({"seq_id": ["T1", "T2"], "sequence": [sequences["T1"], sequences["T2"]], "chrom": None,
                          "start": -1, "end": -1, "strand": ".", "set": "x"})
    tiles = tile_tokens(table, k=6, max_tokens=tiny_lm.max_tokens - 1)
    acts = embed_sequences(tiny_lm, tiles, [2])
    z = encode(tiny_sae, acts.layer(2))
    parent = acts.tokens["seq_id"].str.split("|").str[0].to_numpy()
    spread = [abs(z[parent == "T1", f].max() - z[parent == "T2", f].max()) for f in range(z.shape[1])]
    assert spread[chosen] == pytest.approx(max(spread))
    assert most_different_feature(np.array([[1.0, 3.0]]), np.array(["a"])) == 1  # one isoform: the largest


def test_bad_requests_are_one_line_errors(tiny_lm, tiny_sae):
    sequences = _sequences()
    with pytest.raises(InputError, match="feature 40 is out of range: the SAE has features 0..39"):
        transcript_activations(tiny_lm, tiny_sae, sequences, _models(), layer_idx=2, feature=40)
    with pytest.raises(InputError, match="at most 1,000 are drawn at once"):
        transcript_activations(tiny_lm, tiny_sae, sequences, _models(), layer_idx=2, max_bases=1000)
    with pytest.raises(InputError, match="no sequence for transcript 'T2'"):
        transcript_activations(tiny_lm, tiny_sae, {"T1": sequences["T1"]}, _models(), layer_idx=2)
    with pytest.raises(InputError, match="the FASTA has 799 bases but its exons in the GTF 800"):
        transcript_activations(tiny_lm, tiny_sae, {**sequences, "T1": sequences["T1"][1:]}, _models(), layer_idx=2)

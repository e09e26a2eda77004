"""One SAE feature along whole transcripts: the gene view's activation track of each isoform.

Each transcript is cut into tiles of at most the model's length, between its tokens
(:func:`isograph.sae.sequences.tile_tokens`), so the tokens are those of the whole transcript; each tile is
embedded separately (a token near a tile edge sees less context than one in the middle). The SAE encodes
the hidden states at the run's layer, and every token is placed on the genome through the transcript's
exons (:func:`isograph.structure.models.genomic_positions`).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from isograph.errors import InputError
from isograph.structure.models import genomic_positions

__all__ = ["TRACK_COLUMNS", "most_different_feature", "transcript_activations"]

#: Columns of :func:`transcript_activations`' table.
TRACK_COLUMNS = ["transcript_id", "token_index", "token", "tx_start", "tx_end", "genomic", "region", "activation"]


def transcript_activations(lm: object, sae: object, sequences: dict[str, str], models: pd.DataFrame, *,
                           layer_idx: int, feature: int | None = None, max_bases: int | None = None,
                           progress: Callable[[float, str], None] | None = None) -> tuple[pd.DataFrame, int]:
    """One feature's activation on every token of some transcripts.

    Parameters
    ----------
    lm : isograph.sae.lm.LocalLM
    sae : the SAE module (:func:`isograph.sae.model.load_sae`), trained on ``hidden_states[layer_idx]``.
    sequences : dict of str to str
        Transcript sequences by ``transcript_id`` (5'->3', the spliced transcript).
    models : DataFrame
        :func:`isograph.structure.models.transcript_models` rows of the transcripts to draw (in order);
        a transcript whose sequence length disagrees with its exons is an error.
    layer_idx : int
    feature : int, optional
        The feature (default: :func:`most_different_feature` of these transcripts).
    max_bases : int, optional
        Refuse more bases than this in all (the app's bound on one request).
    progress : callable, optional
        ``progress(fraction, message)`` while embedding.

    Returns
    -------
    tokens : DataFrame
        :data:`TRACK_COLUMNS`: ``tx_start, tx_end`` (0-based, end exclusive) in the transcript; ``genomic``
        the 1-based genomic position of the token's middle base; ``region`` 5'UTR, CDS, 3'UTR or exon
        (non-coding) at that base; ``activation`` of ``feature`` (≥ 0).
    feature : int

    Raises
    ------
    InputError
        No transcripts, a transcript without a sequence, lengths that disagree, more than ``max_bases``
        bases, or ``feature`` outside the SAE.
    """
    from isograph.sae.embed import embed_tiled
    from isograph.sae.model import encode
    from isograph.sae.sequences import SEQUENCE_COLUMNS

    if models.empty:
        raise InputError("no transcript models to draw")
    missing = [t for t in models["transcript_id"] if t not in sequences]
    if missing:
        raise InputError(f"no sequence for transcript {missing[0]!r} in the data set's transcript FASTA"
                         + (f" (and {len(missing) - 1} more)" if len(missing) > 1 else ""))
    for model in models.itertuples(index=False):
        if len(sequences[model.transcript_id]) != int(model.length):
            raise InputError(f"transcript {model.transcript_id}: the FASTA has {len(sequences[model.transcript_id]):,}"
                             f" bases but its exons in the GTF {int(model.length):,}; the two must describe the same"
                             " transcript")
    total = int(models["length"].sum())
    if max_bases is not None and total > max_bases:
        raise InputError(f"these {len(models)} transcripts have {total:,} bases; at most {max_bases:,} are drawn at"
                         " once here (use `isograph sae embed` on the transcript FASTA for more)")
    n_features = int(sae.W_enc.shape[0])
    if feature is not None and not 0 <= int(feature) < n_features:
        raise InputError(f"feature {feature} is out of range: the SAE has features 0..{n_features - 1}")
    table = pd.DataFrame({"seq_id": models["transcript_id"].tolist(),
                          "sequence": [sequences[t] for t in models["transcript_id"]], "chrom": None, "start": -1,
                          "end": -1, "strand": ".", "set": "transcript"})[SEQUENCE_COLUMNS]
    tokens, states = embed_tiled(lm, table, layer_idx, progress=progress)
    z = encode(sae, states)
    chosen = most_different_feature(z, tokens["parent_id"].to_numpy()) if feature is None else int(feature)
    out = pd.DataFrame({"transcript_id": tokens["parent_id"].to_numpy(), "token": tokens["token"].to_numpy(),
                        "tx_start": tokens["parent_start"].to_numpy(), "tx_end": tokens["parent_end"].to_numpy(),
                        "activation": z[:, chosen].astype(np.float64)})
    out = out.sort_values(["transcript_id", "tx_start"], kind="stable")
    parts = []
    for model in models.itertuples(index=False):
        mine = out[out["transcript_id"] == model.transcript_id].reset_index(drop=True)
        middle = ((mine["tx_start"] + mine["tx_end"] - 1) // 2).to_numpy()
        parts.append(mine.assign(token_index=np.arange(len(mine)), genomic=genomic_positions(model._asdict(), middle),
                                 region=_regions(model, middle)))
    return pd.concat(parts, ignore_index=True)[TRACK_COLUMNS], chosen


def most_different_feature(z: np.ndarray, transcript_of_token: np.ndarray) -> int:
    """The feature whose largest activation differs most between transcripts.

    Parameters
    ----------
    z : ndarray, shape (n_tokens, n_features)
        Feature activations.
    transcript_of_token : ndarray, shape (n_tokens,)
        The transcript of each token.

    Returns
    -------
    int
        argmax over features of (max over transcripts − min over transcripts) of each transcript's largest
        activation; ties, and a single transcript, go to the largest activation overall.

    Examples
    --------
    >>> z = np.array([[5.0, 1.0, 0.0], [5.0, 0.0, 2.0], [6.0, 0.0, 0.0]])
    >>> most_different_feature(z, np.array(["a", "b", "b"]))  # feature 1: 1 vs 0; feature 2: 0 vs 2
    2
    """
    codes = pd.factorize(transcript_of_token)[0]
    per = np.full((codes.max() + 1, z.shape[1]), -np.inf)
    np.maximum.at(per, codes, z)
    spread = per.max(axis=0) - per.min(axis=0)
    return int(np.lexsort((-per.max(axis=0), -spread))[0])


def _regions(model, positions: np.ndarray) -> np.ndarray:
    """5'UTR / CDS / 3'UTR (coding transcripts) or exon (non-coding) at 0-based transcript positions."""
    if not model.coding:
        return np.full(len(positions), "exon", dtype=object)
    utr5, orf = int(model.utr5_length), int(model.orf_length)
    return np.where(positions < utr5, "5'UTR", np.where(positions < utr5 + orf, "CDS", "3'UTR")).astype(object)

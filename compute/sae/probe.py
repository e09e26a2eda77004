"""Linear probes of what a DNA language model's hidden states know: CDS vs UTR tokens of held-out transcripts.

For each token of a coding transcript, the label is 1 when the token's middle base lies in the ORF (start
to stop codon, transcript coordinates from the GTF models) and 0 when it lies in a UTR. A logistic
regression (L2, fitted by L-BFGS on standardised features; the penalty chosen from ``L2_GRID`` by AUC on a
fifth of the training transcripts) is trained on tokens of the training
transcripts and scored on tokens of held-out transcripts (whole genes held out) by the area under the ROC
curve (Mann-Whitney U / n1 n2). Two feature sets are compared on the same tokens:

- the hidden states of one layer of the model;
- a bag of 6-mers: counts of the 4,096 6-mers among the token and its ``context`` neighbours on each side
  (the same sequence the probe of the hidden states could lean on, without the model).
"""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
from scipy import stats

from isograph.errors import InputError
from isograph.sae.lm import LocalLM

__all__ = ["L2_GRID", "logistic_probe_auc", "region_labels", "region_probe", "roc_auc"]


def roc_auc(score: np.ndarray, label: np.ndarray) -> float:
    """Area under the ROC curve of ``score`` for ``label`` (1 = positive): Mann-Whitney U / (n1 n0).

    Parameters
    ----------
    score : ndarray
        Higher = more likely positive.
    label : ndarray of {0, 1}

    Returns
    -------
    float

    Examples
    --------
    >>> roc_auc(np.array([0.1, 0.4, 0.35, 0.8]), np.array([0, 0, 1, 1]))
    0.75
    """
    label = np.asarray(label).astype(bool)
    if label.all() or not label.any():
        raise InputError("an AUC needs tokens of both classes")
    u = stats.mannwhitneyu(score[label], score[~label], alternative="two-sided").statistic
    return float(u / (label.sum() * (~label).sum()))


#: The L2 penalties a probe chooses from (by AUC on a fifth of its training tokens).
L2_GRID = (1e-4, 1e-3, 1e-2, 1e-1, 1.0, 10.0)


def logistic_probe_auc(x_train: np.ndarray, y_train: np.ndarray, x_test: np.ndarray, y_test: np.ndarray, *,
                       l2: float | tuple[float, ...] = L2_GRID, groups: np.ndarray | None = None,
                       max_iter: int = 200) -> tuple[float, np.ndarray, float]:
    """Fit an L2 logistic regression on (x_train, y_train); its AUC on (x_test, y_test), its scores, its penalty.

    Parameters
    ----------
    x_train, x_test : ndarray, shape (n, d)
    y_train, y_test : ndarray of {0, 1}
    l2 : float or tuple of float, default ``L2_GRID``
        Penalty on the squared weights (not the intercept), per training token. Several: the one with the
        best AUC on a fifth of the training tokens (whole ``groups`` held out) is refitted on all of them.
    groups : ndarray, optional
        Group of each training token (e.g. its gene), kept whole when choosing the penalty.
    max_iter : int, default 200
        L-BFGS iterations.

    Returns
    -------
    auc : float
    scores : ndarray
        Test log-odds.
    l2 : float
        The penalty used.
    """
    grid = (l2,) if np.isscalar(l2) else tuple(l2)
    if len(grid) > 1:
        keys = np.asarray(groups if groups is not None else np.arange(len(y_train)))
        unique = np.unique(keys)
        inner = np.isin(keys, np.random.default_rng(0).permutation(unique)[:max(1, len(unique) // 5)])
        scores = [_fit_logistic(x_train[~inner], y_train[~inner], x_train[inner], penalty, max_iter)
                  for penalty in grid]
        grid = (grid[int(np.argmax([roc_auc(s, y_train[inner]) for s in scores]))],)
    scores = _fit_logistic(x_train, y_train, x_test, grid[0], max_iter)
    return roc_auc(scores, y_test), scores, float(grid[0])


def _fit_logistic(x_train: np.ndarray, y_train: np.ndarray, x_test: np.ndarray, l2: float, max_iter: int) -> np.ndarray:
    """Test log-odds of an L2 logistic regression fitted by L-BFGS on standardised features."""
    import torch

    mean, scale = x_train.mean(axis=0), x_train.std(axis=0)
    scale = np.where(scale > 0, scale, 1.0)
    xt = torch.from_numpy(((x_train - mean) / scale).astype(np.float64))
    yt = torch.from_numpy(np.asarray(y_train, dtype=np.float64))
    w = torch.zeros(xt.shape[1], dtype=torch.float64, requires_grad=True)
    b = torch.zeros(1, dtype=torch.float64, requires_grad=True)
    optimizer = torch.optim.LBFGS([w, b], max_iter=max_iter, line_search_fn="strong_wolfe")

    def closure():
        optimizer.zero_grad()
        loss = torch.nn.functional.binary_cross_entropy_with_logits(xt @ w + b, yt) + l2 * (w * w).sum()
        loss.backward()
        return loss

    optimizer.step(closure)
    with torch.no_grad():
        return (torch.from_numpy(((x_test - mean) / scale).astype(np.float64)) @ w + b).numpy()


def region_labels(tokens: pd.DataFrame, models: pd.DataFrame) -> np.ndarray:
    """1 for a token in the ORF, 0 in a UTR, -1 otherwise (a non-coding transcript, or an unknown one).

    Parameters
    ----------
    tokens : DataFrame
        ``transcript_id`` and ``tx_start, tx_end`` (the token's 0-based start and exclusive end in the
        transcript sequence).
    models : DataFrame
        Transcript models (``transcript_id, coding, utr5_length, orf_length``).

    Returns
    -------
    ndarray of int
    """
    by_id = models.set_index("transcript_id")
    coding = by_id["coding"].reindex(tokens["transcript_id"]).fillna(False).to_numpy(dtype=bool)
    utr5 = by_id["utr5_length"].reindex(tokens["transcript_id"]).to_numpy(dtype=float)
    orf = by_id["orf_length"].reindex(tokens["transcript_id"]).to_numpy(dtype=float)
    middle = (tokens["tx_start"].to_numpy() + tokens["tx_end"].to_numpy() - 1) / 2
    inside = (middle >= utr5) & (middle < utr5 + orf)
    return np.where(coding, inside.astype(int), -1)


def _tokens_and_states(lm: LocalLM, transcripts: pd.DataFrame, layer: int) -> tuple[pd.DataFrame, np.ndarray]:
    from isograph.sae.embed import embed_tiled

    tokens, states = embed_tiled(lm, transcripts, layer, max_tokens=lm.max_tokens - 2, batch_size=32)
    return tokens.assign(transcript_id=tokens["parent_id"], tx_start=tokens["parent_start"],
                         tx_end=tokens["parent_end"]), states


def _bag_of_kmers(tokens: pd.DataFrame, context: int, k: int) -> np.ndarray:
    """Counts of each k-mer among a token and its ``context`` neighbours on each side (same tile)."""
    from scipy import sparse

    kmers = {"".join(p): i for i, p in enumerate(itertools.product("ACGT", repeat=k))}
    code = tokens["token"].map(kmers).fillna(-1).to_numpy(dtype=np.int64)
    tile = pd.factorize(tokens["seq_id"])[0]
    rows, cols = [], []
    n = len(tokens)
    for shift in range(-context, context + 1):
        source = np.arange(n) + shift
        ok = (source >= 0) & (source < n)
        ok[ok] &= tile[source[ok]] == tile[ok]
        ok[ok] &= code[source[ok]] >= 0
        rows.append(np.flatnonzero(ok))
        cols.append(code[source[ok]])
    rows, cols = np.concatenate(rows), np.concatenate(cols)
    return sparse.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(n, len(kmers))).toarray()


def region_probe(lm: LocalLM, train: pd.DataFrame, held_out: pd.DataFrame, models: pd.DataFrame, *, layer: int,
                 context: int = 8, max_tokens: int = 20_000, seed: int = 0) -> dict:
    """CDS-vs-UTR probe AUC on held-out transcripts: hidden states of ``layer`` vs a bag of 6-mers.

    Parameters
    ----------
    lm : LocalLM
    train, held_out : DataFrame
        Transcript sequence tables (``seq_id`` = ``transcript_id``), the held-out ones never trained on.
    models : DataFrame
        Transcript models of both.
    layer : int
        Index into ``hidden_states``.
    context : int, default 8
        Neighbouring tokens on each side in the bag-of-6-mers baseline.
    max_tokens : int, default 20000
        Tokens sampled from each side (CDS and UTR equally where possible), for speed.
    seed : int, default 0

    Returns
    -------
    dict
        ``layer, auc_hidden, auc_kmer_bag, context, n_train_tokens, n_test_tokens, n_test_transcripts``.
    """
    rng = np.random.default_rng(seed)
    sides = {}
    for name, table in (("train", train), ("test", held_out)):
        coding = table[table["seq_id"].isin(models.loc[models["coding"], "transcript_id"])]
        tokens, states = _tokens_and_states(lm, coding, layer)
        labels = region_labels(tokens, models)
        bag = _bag_of_kmers(tokens, context, lm.k)
        keep = np.flatnonzero(labels >= 0)
        per_class = max_tokens // 2
        chosen = np.concatenate([rng.permutation(keep[labels[keep] == c])[:per_class] for c in (0, 1)])
        sides[name] = (states[chosen], bag[chosen], labels[chosen], tokens["transcript_id"].to_numpy()[chosen],
                       coding["seq_id"].nunique())
    (h_train, b_train, y_train, groups, _), (h_test, b_test, y_test, _, n_tx) = sides["train"], sides["test"]
    auc_hidden, _, l2_hidden = logistic_probe_auc(h_train, y_train, h_test, y_test, groups=groups)
    auc_bag, _, l2_bag = logistic_probe_auc(b_train, y_train, b_test, y_test, groups=groups)
    return {"layer": int(layer), "auc_hidden": auc_hidden, "auc_kmer_bag": auc_bag, "l2_hidden": l2_hidden,
            "l2_kmer_bag": l2_bag, "context": int(context), "n_train_tokens": int(len(y_train)),
            "n_test_tokens": int(len(y_test)), "n_test_transcripts": int(n_tx)}

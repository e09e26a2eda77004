"""kME (module membership) of every gene of a module, with its confidence interval, and the hub genes."""

from __future__ import annotations

import numpy as np
import pandas as pd

from isograph.explain.stats import bh_qvalues, pearson_rows

__all__ = ["HUB_Q", "module_membership"]

HUB_Q = 0.05  #: a hub gene's kME must have q at or below this


def module_membership(scores: np.ndarray, eigengene: np.ndarray, genes: pd.DataFrame, *, n_hubs: int = 10,
                      confidence_level: float = 0.95) -> pd.DataFrame:
    """kME of each module gene: Pearson r of its fit feature-score row with the module eigengene (WGCNA's
    module membership), with a Fisher-z confidence interval, p and BH q over the module's genes.

    Parameters
    ----------
    scores : ndarray, shape (n_genes, n_samples)
        Each gene's fit feature-score row (the feature the fit chose for it: ``feature_type`` in
        ``module_membership.parquet``) over the eigengene's samples; NaN for a missing value.
    eigengene : ndarray, shape (n_samples,)
    genes : DataFrame
        ``gene_id, gene_name, feature_type, switch_called``, aligned with ``scores``.
    n_hubs : int, default 10
        Hub genes: the ``n_hubs`` genes of largest |kME| among those with q <= :data:`HUB_Q` (a module
        holds genes that rise with its eigengene and genes that fall: WGCNA's unsigned modules).
    confidence_level : float, default 0.95

    Returns
    -------
    DataFrame
        ``gene_id, gene_name, feature_type, kME, ci_low, ci_high, pvalue, qvalue, n_samples, switch_called,
        hub`` (bool), sorted by |kME|, largest first (NaN last).
    """
    res = pearson_rows(np.asarray(scores, dtype=np.float64).reshape(len(genes), -1), eigengene,
                       confidence_level=confidence_level)
    table = pd.DataFrame({
        "gene_id": genes["gene_id"].to_numpy(dtype=object), "gene_name": genes["gene_name"].to_numpy(dtype=object),
        "feature_type": genes["feature_type"].to_numpy(dtype=object), "kME": res.r, "ci_low": res.ci_low,
        "ci_high": res.ci_high, "pvalue": res.pvalue, "qvalue": bh_qvalues(res.pvalue),
        "n_samples": res.n_complete.astype(np.int64), "switch_called": genes["switch_called"].fillna(False)
        .to_numpy(dtype=bool),
    })
    table = table.iloc[np.argsort(-np.nan_to_num(np.abs(res.r), nan=-1.0), kind="stable")].reset_index(drop=True)
    eligible = table["qvalue"] <= HUB_Q
    table["hub"] = eligible & (eligible.cumsum() <= n_hubs)
    return table

"""What a gene does in a module, in words a biologist can cite: backed by the tables, naming every number.

A switch is stated ("As M000 rises, G shifts from A to B") only when it is called (``switch_called``);
a gene that follows the module in expression without a called switch says exactly that; every number
names its channel (switch score, abundance score, transcript usage) and its test.
"""

from __future__ import annotations

import math

import pandas as pd

__all__ = ["gene_sentence"]


def _q(value: float) -> str:
    return "n/a" if value is None or not math.isfinite(value) else f"{value:.2g}"


def _signed(value: float) -> str:
    return "n/a" if value is None or not math.isfinite(value) else f"{value:+.2f}"


def gene_sentence(gene: pd.Series, transcripts: pd.DataFrame, module_id: str, *, label: str | None = None,
                  alpha: float = 0.05, min_usage_change: float = 0.1) -> str:
    """The gene's part in the module, in one or two sentences.

    Parameters
    ----------
    gene : Series
        The gene's row of ``gene_driver_table`` (with ``switch_called`` and both channels).
    transcripts : DataFrame
        The gene's rows of ``transcript_polarity_table`` (``feature_id, r, qvalue, delta_usage,
        feature_type``).
    module_id : str
    label : str, optional
        How to name the gene (default its ``gene_name``, else its ID).
    alpha, min_usage_change : float
        The switch call's thresholds (as in the run's ``ExplainConfig``), quoted in the words.

    Returns
    -------
    str
    """
    name = label or (gene["gene_name"] if isinstance(gene.get("gene_name"), str) else gene["gene_id"])
    if "switch_called" not in gene:
        return (f"{name}: this explain output predates switch calls, so no switch is stated; re-run"
                " `isograph explain-module` for this module.")
    rule = f"(called: switch q ≤ {alpha:g}, and transcripts up and down with q ≤ {alpha:g} and |Δ usage| ≥ {min_usage_change:g})"
    switch_numbers = (f"switch score r = {gene['switch_r']:.2f}, q = {_q(gene['switch_qvalue'])} (Pearson with the"
                      " eigengene, BH within the module)")
    if bool(gene["switch_called"]):
        up, down = gene["switch_up_feature"], gene["switch_down_feature"]
        words = (f"As {module_id} rises, {name} shifts from {down} to {up}: {up} is used more in high-module samples"
                 f" (q = {_q(gene['switch_up_qvalue'])}, Δ usage {_signed(gene['switch_up_delta_usage'])} high − low)"
                 f" and {down} in low-module samples (q = {_q(gene['switch_down_qvalue'])}, Δ usage"
                 f" {_signed(gene['switch_down_delta_usage'])}); {switch_numbers}.")
        more = int(gene["n_transcripts_up"]) + int(gene["n_transcripts_down"]) - 2
        if more > 0:
            words += f" {more} more transcript(s) change significantly (see the table)."
        return words
    usage = transcripts[transcripts.get("feature_type", "transcript_usage") == "transcript_usage"]
    best = usage.sort_values("qvalue", na_position="last").iloc[0] if len(usage) else None
    best_words = ("it has no transcript-usage feature" if best is None else
                  f"its most significant transcript, {best['feature_id']}, has q = {_q(best['qvalue'])} and Δ usage"
                  f" {_signed(best.get('delta_usage', float('nan')))} high − low")
    no_switch = f"No significant switch of {name} in {module_id} {rule}: {best_words}"
    if math.isfinite(gene["switch_qvalue"]):
        no_switch += f"; {switch_numbers}"
    abundance_q = gene.get("abundance_qvalue", float("nan"))
    if math.isfinite(abundance_q) and abundance_q <= alpha:
        return (f"{name} follows {module_id} in expression, not through an isoform switch: abundance score r ="
                f" {gene['abundance_r']:.2f}, q = {_q(abundance_q)} (Pearson with the eigengene, BH within the"
                f" module). {no_switch}.")
    expression = ("" if not math.isfinite(abundance_q) else
                  f" Its expression does not follow the module either (abundance score q = {_q(abundance_q)}).")
    return f"{no_switch}.{expression}"

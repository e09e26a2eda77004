"""What ``isograph sae intervene`` writes for one feature edit (δ, α) on a set of sequences, and the same as a
batch task (one cell of the ``--grid`` of features × δ × α).

A report folder holds ``effects.parquet`` (one row per token, :func:`isograph.sae.intervene.intervene`'s
columns), ``report.md`` (the edit, mean KL, largest logit change, per-sequence table) and, with
``figure=True``, ``effects.html`` (and ``effects.pdf`` where Chromium is installed). Every file is written
atomically, so a killed run leaves either the old file or the new one.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from isograph.dataset.io import atomic_write, write_parquet

__all__ = ["intervention_task", "write_intervention_report"]


def write_intervention_report(lm: object, sae: object, sequences: pd.DataFrame, *, layer_idx: int, feature: int, delta: float,
                              alpha: float, folder: str | Path, label: str = "", figure: bool = True) -> dict:
    """Edit ``feature`` on every sequence, write the report folder, return its summary.

    Parameters
    ----------
    lm : LocalLM
    sae : SparseAutoencoder
    sequences : DataFrame
        ``seq_id, sequence``.
    layer_idx, feature, delta, alpha
        As for :func:`isograph.sae.intervene.intervene`.
    folder : path
        The report folder (created).
    label : str
        How the report's title names the SAE (e.g. ``"ef8"``).
    figure : bool, default True
        Also draw the per-token effects.

    Returns
    -------
    dict
        ``sequences, tokens, mean_kl, max_kl, max_abs_logit_change, top_changed`` (KL in nats per token).
    """
    from isograph.sae.intervene import intervene

    folder = Path(folder)
    results = [intervene(lm, sae, s, layer_idx=layer_idx, feature=feature, delta=delta, alpha=alpha, seq_id=i)
               for i, s in zip(sequences["seq_id"], sequences["sequence"])]
    effects = pd.concat([r.effects for r in results], ignore_index=True)
    write_parquet(effects, folder / "effects.parquet")
    per_seq = effects.groupby("seq_id").agg(mean_kl=("kl", "mean"), max_kl=("kl", "max"),
                                            top_changed=("top_changed", "sum"), tokens=("kl", "size"))
    summary = {"sequences": len(results), "tokens": len(effects), "mean_kl": float(effects["kl"].mean()),
               "max_kl": float(effects["kl"].max()),
               "max_abs_logit_change": float(max(r.max_abs_logit_change for r in results)),
               "top_changed": int(effects["top_changed"].sum())}
    lines = [f"# Intervention on feature {feature} (layer {layer_idx}{', ' + label if label else ''})", "",
             f"z_f <- max(z_f, {delta}) x {alpha}; other features x 1/{alpha} (0: ablated); reconstruction error"
             " added back.", "",
             f"- sequences: {summary['sequences']}; tokens: {summary['tokens']}",
             f"- mean KL(base || edited) per token: {summary['mean_kl']:.4g}",
             f"- largest |logit change|: {summary['max_abs_logit_change']:.4g}",
             f"- tokens whose top prediction changed: {summary['top_changed']}", "",
             "| seq_id | tokens | mean KL | max KL | top changed |", "|---|---|---|---|---|"]
    lines += [f"| {i} | {r.tokens} | {r.mean_kl:.4g} | {r.max_kl:.4g} | {r.top_changed} |" for i, r in per_seq.iterrows()]
    atomic_write(folder / "report.md", lambda tmp: tmp.write_text("\n".join(lines) + "\n"))
    if figure:
        _figure(effects, folder, feature)
    return summary


def _figure(effects: pd.DataFrame, folder: Path, feature: int) -> None:
    from isograph.figures.render import chrome_path, write_figure
    from isograph.figures.sae import intervention_effects

    fig = intervention_effects(effects, title=f"feature {feature}: effect of the edit per token")
    for fmt in ("html", "pdf") if chrome_path() else ("html",):
        write_figure(fig, folder / f"effects.{fmt}")


def intervention_task(params: dict) -> dict:
    """One grid cell as a batch task (JSON in, JSON out; see :mod:`isograph.batch`).

    Parameters
    ----------
    params : dict
        ``model, sae, input, layer_idx, feature, delta, alpha, max_sequences, output`` (paths absolute),
        optional ``allow_iupac``, ``label``.

    Returns
    -------
    dict
        :func:`write_intervention_report`'s summary plus ``output``.
    """
    from isograph.sae.lm import load_masked_lm
    from isograph.sae.model import load_sae
    from isograph.sae.sequences import read_fasta

    lm = load_masked_lm(params["model"])
    sae, _config = load_sae(params["sae"])
    sequences = read_fasta(params["input"], allow_iupac=bool(params.get("allow_iupac"))).head(int(params["max_sequences"]))
    summary = write_intervention_report(lm, sae, sequences, layer_idx=int(params["layer_idx"]),
                                        feature=int(params["feature"]), delta=float(params["delta"]),
                                        alpha=float(params["alpha"]), folder=params["output"],
                                        label=str(params.get("label", "")), figure=False)
    return {**summary, "output": params["output"]}

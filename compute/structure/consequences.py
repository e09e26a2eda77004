"""Consequences of an isoform switch, from transcript structures alone.

A pair ``(gene_id, transcript_id_1, transcript_id_2)`` reads as a switch from transcript 1 to
transcript 2; every label describes transcript 2 relative to transcript 1, in IsoformSwitchAnalyzeR's
words where it has them ("Tss more upstream", "Exon loss", "NMD sensitive", ...). Positions are compared
in transcript orientation (a minus-strand coordinate x is read as -x), so "upstream" means towards the
5' end of the transcript and a minus-strand gene that mirrors a plus-strand gene gets the same words and
numbers. Swapping the two transcripts gives the opposite words.

Labels (column: words for 2 relative to 1; thresholds in nt)
    tss / tts               "Tss|Tts more upstream|downstream" when the end moved > 50 nt
    first_exon / last_exon  "First|Last exon more upstream|downstream" when the exons do not overlap
    exon_number             "Exon gain" / "Exon loss"
    exon_skipping           "Exon skipping" (2 splices out exon(s) of 1 between the same splice sites) /
                            "Exon inclusion"
    mutually_exclusive      "Mutually exclusive exon more upstream|downstream" (2 uses another exon
                            between the same flanking splice sites)
    alt_5ss / alt_3ss       "Alternative 5'|3' splice site, longer|shorter exon" (same other end of the
                            intron, this end moved)
    intron_retention        "Intron retention gain" (an exon of 2 covers an intron of 1) / "... loss"
    isoform_length          "Length gain" / "Length loss" (> 50 nt)
    orf                     "ORF is longer" / "ORF is shorter" (> 50 nt), "Complete ORF gain|loss"
    utr5 / utr3             "5'UTR is longer|shorter", "3'UTR is longer|shorter" (both coding, > 50 nt)
    nmd                     "NMD sensitive" / "NMD insensitive"
    biotype                 "Biotype switch: <1> -> <2>"
Numbers: ``delta_length, delta_orf_length, delta_utr5_length, delta_utr3_length`` (2 − 1),
``tss_shift, tts_shift`` (oriented, negative = upstream) and ``shared_exon_fraction`` (exonic nt in
both / exonic nt in either).
"""

from __future__ import annotations

import os

import numpy as np
import pandas as pd

from isograph.dataset.explain_store import ExplainStore
from isograph.errors import InputError

__all__ = [
    "CONSEQUENCE_COLUMNS",
    "annotate_pairs",
    "pair_consequences",
    "switch_pairs_from_explain",
    "transcript_annotation",
]

SHIFT_NT = 50
CONSEQUENCE_COLUMNS = (
    "tss", "tts", "first_exon", "last_exon", "exon_number", "exon_skipping", "mutually_exclusive",
    "alt_5ss", "alt_3ss", "intron_retention", "isoform_length", "orf", "utr5", "utr3", "nmd", "biotype",
)


def _oriented_exons(model: pd.Series) -> list[tuple[int, int]]:
    """Exons as (5' end, 3' end) in oriented coordinates, 5'->3' order."""
    starts, ends = np.asarray(model["exon_starts"]), np.asarray(model["exon_ends"])
    if model["strand"] == "-":
        return sorted(zip((-ends).tolist(), (-starts).tolist()))
    return list(zip(starts.tolist(), ends.tolist()))


def _introns(exons: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """(donor, acceptor) = (last exonic base before, first exonic base after) each intron."""
    return [(exons[i][1], exons[i + 1][0]) for i in range(len(exons) - 1)]


def _direction(shift: float, *, threshold: float = 0) -> str | None:
    if shift < -threshold:
        return "more upstream"
    if shift > threshold:
        return "more downstream"
    return None


def _change(delta: float, more: str, less: str) -> str | None:
    if delta > SHIFT_NT:
        return more
    if delta < -SHIFT_NT:
        return less
    return None


def _overlaps(a: tuple[int, int], b: tuple[int, int]) -> bool:
    return a[0] <= b[1] and b[0] <= a[1]


def _skipped(e1: list, e2: list) -> bool:
    """Does 2 splice out exon(s) of 1 with an intron whose donor and acceptor are both 1's?"""
    ends1 = {e for _, e in e1}
    starts1 = {s for s, _ in e1}
    for donor, acceptor in _introns(e2):
        inside = [x for x in e1[1:-1] if x[0] > donor and x[1] < acceptor]
        if inside and donor in ends1 and acceptor in starts1 and not any(
                _overlaps(x, y) for x in inside for y in e2):
            return True
    return False


def _mutually_exclusive(e1: list, e2: list) -> float | None:
    """Oriented shift of 2's exon relative to 1's when they swap between shared flanking exons."""
    for i in range(1, len(e1) - 1):
        for j in range(1, len(e2) - 1):
            a, b = e1[i], e2[j]
            if (e1[i - 1][1] == e2[j - 1][1] and e1[i + 1][0] == e2[j + 1][0] and not _overlaps(a, b)
                    and not any(_overlaps(a, y) for y in e2) and not any(_overlaps(b, x) for x in e1)):
                return float(b[0] - a[0])
    return None


def _retains(e_with: list, e_without: list) -> bool:
    """Does an exon of ``e_with`` cover an intron of ``e_without`` completely?"""
    return any(s <= d and e >= a for d, a in _introns(e_without) for s, e in e_with)


def _splice_site_shift(e1: list, e2: list, site: str) -> float | None:
    """Oriented shift of 2's donor (site "5") or acceptor ("3") for introns sharing the other end."""
    for d1, a1 in _introns(e1):
        for d2, a2 in _introns(e2):
            if not (d1 < a2 and d2 < a1):  # introns must overlap
                continue
            if site == "5" and a1 == a2 and d1 != d2:
                return float(d2 - d1)
            if site == "3" and d1 == d2 and a1 != a2:
                return float(a2 - a1)
    return None


def _exonic_overlap(e1: list, e2: list) -> int:
    return sum(max(0, min(x[1], y[1]) - max(x[0], y[0]) + 1) for x in e1 for y in e2)


def pair_consequences(model_1: pd.Series, model_2: pd.Series) -> dict:
    """Consequences of switching from transcript 1 to transcript 2 (see the module docstring).

    Parameters
    ----------
    model_1, model_2 : Series
        Rows of :func:`isograph.structure.models.transcript_models` (same gene, same strand).

    Returns
    -------
    dict
        One entry per :data:`CONSEQUENCE_COLUMNS` (words or None), ``consequences`` (the words joined
        by "; "), and the numeric deltas.
    """
    if model_1["strand"] != model_2["strand"] or model_1["seqname"] != model_2["seqname"]:
        raise InputError(f"{model_1['transcript_id']} and {model_2['transcript_id']} are on different strands or"
                         " chromosomes; a switch pair must be two transcripts of one gene")
    e1, e2 = _oriented_exons(model_1), _oriented_exons(model_2)
    out: dict[str, object] = dict.fromkeys(CONSEQUENCE_COLUMNS)
    tss_shift, tts_shift = float(e2[0][0] - e1[0][0]), float(e2[-1][1] - e1[-1][1])
    if (w := _direction(tss_shift, threshold=SHIFT_NT)) is not None:
        out["tss"] = f"Tss {w}"
    if (w := _direction(tts_shift, threshold=SHIFT_NT)) is not None:
        out["tts"] = f"Tts {w}"
    if not _overlaps(e1[0], e2[0]):
        out["first_exon"] = f"First exon {_direction(e2[0][0] - e1[0][0])}"
    if not _overlaps(e1[-1], e2[-1]):
        out["last_exon"] = f"Last exon {_direction(e2[-1][0] - e1[-1][0])}"
    if len(e2) != len(e1):
        out["exon_number"] = "Exon gain" if len(e2) > len(e1) else "Exon loss"
    if _skipped(e1, e2):
        out["exon_skipping"] = "Exon skipping"
    elif _skipped(e2, e1):
        out["exon_skipping"] = "Exon inclusion"
    if (shift := _mutually_exclusive(e1, e2)) is not None:
        out["mutually_exclusive"] = f"Mutually exclusive exon {_direction(shift)}"
    for site, column in (("5", "alt_5ss"), ("3", "alt_3ss")):
        shift = _splice_site_shift(e1, e2, site)
        if shift is not None:
            # a later donor lengthens the exon before the intron; an earlier acceptor the exon after it
            longer = shift > 0 if site == "5" else shift < 0
            out[column] = f"Alternative {site}' splice site, {'longer' if longer else 'shorter'} exon"
    gain, loss = _retains(e2, e1), _retains(e1, e2)
    if gain or loss:
        out["intron_retention"] = "; ".join(w for w, f in (("Intron retention gain", gain),
                                                           ("Intron retention loss", loss)) if f)
    d_len = int(model_2["length"] - model_1["length"])
    out["isoform_length"] = _change(d_len, "Length gain", "Length loss")
    c1, c2 = bool(model_1["coding"]), bool(model_2["coding"])
    d_orf = int(model_2["orf_length"] - model_1["orf_length"])
    d_utr5 = int(model_2["utr5_length"] - model_1["utr5_length"])
    d_utr3 = int(model_2["utr3_length"] - model_1["utr3_length"])
    if c1 and c2:
        out["orf"] = _change(d_orf, "ORF is longer", "ORF is shorter")
        out["utr5"] = _change(d_utr5, "5'UTR is longer", "5'UTR is shorter")
        out["utr3"] = _change(d_utr3, "3'UTR is longer", "3'UTR is shorter")
    elif c1 != c2:
        out["orf"] = "Complete ORF gain" if c2 else "Complete ORF loss"
    n1, n2 = bool(model_1["nmd"]), bool(model_2["nmd"])
    if n1 != n2:
        out["nmd"] = "NMD sensitive" if n2 else "NMD insensitive"
    if model_1["biotype"] != model_2["biotype"]:
        out["biotype"] = f"Biotype switch: {model_1['biotype']} -> {model_2['biotype']}"
    union = int(model_1["length"] + model_2["length"]) - _exonic_overlap(e1, e2)
    out["consequences"] = "; ".join(str(out[c]) for c in CONSEQUENCE_COLUMNS if out[c])
    out.update({
        "delta_length": d_len, "delta_orf_length": d_orf, "delta_utr5_length": d_utr5,
        "delta_utr3_length": d_utr3, "tss_shift": tss_shift, "tts_shift": tts_shift,
        "shared_exon_fraction": _exonic_overlap(e1, e2) / union if union else 1.0,
    })
    return out


def annotate_pairs(pairs: pd.DataFrame, models: pd.DataFrame) -> pd.DataFrame:
    """Consequences of every switch pair.

    Parameters
    ----------
    pairs : DataFrame
        ``gene_id, transcript_id_1, transcript_id_2`` (+ any columns, kept).
    models : DataFrame
        From :func:`isograph.structure.models.transcript_models`.

    Returns
    -------
    DataFrame
        The pair columns, ``status`` ("ok", or which transcript is missing from the GTF / why the pair
        cannot be read), the :data:`CONSEQUENCE_COLUMNS`, ``consequences`` and the numeric deltas.
    """
    by_id = models.set_index("transcript_id", drop=False)
    rows = []
    for pair in pairs.itertuples(index=False):
        t1, t2 = str(pair.transcript_id_1), str(pair.transcript_id_2)
        missing = [t for t in (t1, t2) if t not in by_id.index]
        row: dict[str, object] = {}
        if missing:
            row["status"] = "not in GTF: " + ", ".join(missing)
        elif t1 == t2:
            row["status"] = "transcript 1 and 2 are the same"
        elif by_id.at[t1, "gene_id"] != by_id.at[t2, "gene_id"]:
            row["status"] = (f"transcripts of two genes: {t1} is in {by_id.at[t1, 'gene_id']}, {t2} in"
                             f" {by_id.at[t2, 'gene_id']}; a switch pairs two isoforms of one gene")
        elif str(pair.gene_id) != str(by_id.at[t1, "gene_id"]):
            row["status"] = (f"gene_id {pair.gene_id} owns neither transcript ({t1} and {t2} are in"
                             f" {by_id.at[t1, 'gene_id']}); check the gene_id column")
        else:
            try:
                row = {"status": "ok", **pair_consequences(by_id.loc[t1], by_id.loc[t2])}
            except InputError as exc:
                row["status"] = str(exc)
        rows.append(row)
    table = pd.DataFrame(rows, index=pairs.index)
    for column in ("consequences", *CONSEQUENCE_COLUMNS):
        if column not in table:
            table[column] = None
    return pd.concat([pairs.reset_index(drop=True), table.reset_index(drop=True)], axis=1)


def transcript_annotation(annotated: pd.DataFrame, models: pd.DataFrame) -> pd.DataFrame:
    """Per-transcript aggregate of annotated pairs, for ``explain-module --annotation-table``.

    Each transcript of an ``ok`` pair gets the consequences of switching *to* it from its partner
    (transcript 2 as annotated; transcript 1 with the pair read the other way round).

    Parameters
    ----------
    annotated : DataFrame
        Output of :func:`annotate_pairs`.
    models : DataFrame
        From :func:`isograph.structure.models.transcript_models`.

    Returns
    -------
    DataFrame
        ``transcript_id, structure_partner, structure_consequences, structure_biotype, structure_nmd,
        structure_length, structure_orf_length, structure_n_exons``, one row per transcript.
    """
    ok = annotated[annotated["status"] == "ok"]
    by_id = models.set_index("transcript_id", drop=False)
    records = []
    for pair in ok.itertuples(index=False):
        for me, partner in ((pair.transcript_id_2, pair.transcript_id_1), (pair.transcript_id_1, pair.transcript_id_2)):
            if me == pair.transcript_id_2:
                words = pair.consequences
            else:
                words = pair_consequences(by_id.loc[pair.transcript_id_2], by_id.loc[me])["consequences"]
            records.append({"transcript_id": me, "structure_partner": partner, "structure_consequences": words})
    columns = ["transcript_id", "structure_partner", "structure_consequences"]
    table = pd.DataFrame(records, columns=columns)
    table = table.groupby("transcript_id", sort=True).agg(lambda v: "; ".join(dict.fromkeys(x for x in v if x)))
    facts = by_id.drop(columns="transcript_id").reindex(table.index)
    table["structure_biotype"] = facts["biotype"]
    table["structure_nmd"] = facts["nmd"].astype(bool)
    table["structure_length"] = facts["length"].astype(np.int64)
    table["structure_orf_length"] = facts["orf_length"].astype(np.int64)
    table["structure_n_exons"] = facts["n_exons"].astype(np.int64)
    return table.reset_index()


PAIR_TABLE_COLUMNS = ["gene_id", "transcript_id_1", "transcript_id_2", "module_id", "r_1", "r_2", "qvalue_1",
                      "qvalue_2", "delta_usage_1", "delta_usage_2", "switch_strength", "switch_qvalue"]


def switch_pairs_from_explain(output_dir: str | os.PathLike | ExplainStore, *, module_ids: list[str] | None = None,
                              called_only: bool = True, fdr: float = 0.05,
                              min_switch_strength: float = 0.0) -> pd.DataFrame:
    """The switch pairs of the explained modules: transcript 1 used more in low-, 2 in high-module samples.

    By default the called switches only (``switch_called`` in the gene table), and for each of them every
    significantly-down transcript paired with every significantly-up one, as IsoformSwitchAnalyzeR pairs
    the isoforms of a switch (significant: q <= the run's ``switch_alpha`` and |delta_usage| >= its
    ``min_usage_change``, with the sign of r). With ``called_only=False``, each gene with
    ``qvalue <= fdr`` gives one pair, its most negative and most positive transcript by r, significant or
    not (an exploratory ranking, not a set of switches).

    Parameters
    ----------
    output_dir : path or ExplainStore
        An ``explain-module`` output folder (with ``module_explanation_manifest.json``), or its store.
    module_ids : list of str, optional
        Default: every module of the manifest.
    called_only : bool, default True
        Only called switches (see above).
    fdr : float, default 0.05
        With ``called_only=False``: genes need ``qvalue`` at most this in ``gene_driver_table``.
    min_switch_strength : float, default 0.0
        Genes need at least this ``switch_strength`` (max r - min r of their transcripts).

    Returns
    -------
    DataFrame
        ``gene_id, transcript_id_1, transcript_id_2, module_id, r_1, r_2, qvalue_1, qvalue_2,
        delta_usage_1, delta_usage_2, switch_strength, switch_qvalue``, sorted by module then switch
        strength (descending).

    Raises
    ------
    InputError
        No manifest, an unknown module ID, or (with ``called_only``) an explain output written before
        switch calls existed.
    """
    if not 0.0 < float(fdr) <= 1.0:
        raise InputError(f"--fdr must be in (0, 1] (a false discovery rate); got {fdr}")
    if not 0.0 <= float(min_switch_strength) <= 2.0:
        raise InputError(f"--min-switch-strength must be in [0, 2] (max r - min r of a gene's transcripts); got"
                         f" {min_switch_strength}")
    store = output_dir if isinstance(output_dir, ExplainStore) else ExplainStore(output_dir)
    modules = store.manifest().get("modules", {})
    chosen = list(modules) if not module_ids else list(module_ids)
    unknown = [m for m in chosen if m not in modules]
    if unknown:
        raise InputError(f"{store.folder}: no explained module {', '.join(unknown)}; it has {', '.join(modules)}")
    parts = []
    for mid in chosen:
        genes = store.table(mid, "gene_driver_table")
        polarity = store.table(mid, "transcript_polarity_table")
        if called_only and "switch_called" not in genes:
            raise InputError(f"{store.path(mid, 'gene_driver_table')}: no switch calls (written by an older"
                             " version); re-run `isograph explain-module` for this module")
        config = store.config(mid)
        genes = genes[genes["switch_strength"] >= min_switch_strength]
        pairs = (_called_pairs(genes[genes["switch_called"]], polarity, config) if called_only
                 else _top_pairs(genes[genes["qvalue"] <= fdr], polarity))
        parts.append(pairs.assign(module_id=mid))
    pairs = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=PAIR_TABLE_COLUMNS)
    pairs = pairs.reindex(columns=PAIR_TABLE_COLUMNS)
    return pairs.sort_values(["module_id", "switch_strength", "gene_id"], ascending=[True, False, True],
                             ignore_index=True)


def _transcript_ids(polarity: pd.DataFrame) -> pd.Series:
    """transcript_id of each feature (its feature_id where the meta gave none)."""
    return polarity["transcript_id"].astype("string").fillna(polarity["feature_id"].astype("string"))


def _called_pairs(genes: pd.DataFrame, polarity: pd.DataFrame, config: dict) -> pd.DataFrame:
    """Every significantly-down x significantly-up transcript of each called switch."""
    usage = polarity[(polarity["feature_type"] == "transcript_usage") & polarity["gene_id"].isin(genes["gene_id"])]
    usage = usage.assign(transcript_id=_transcript_ids(usage))
    significant = usage["qvalue"] <= config["switch_alpha"]
    up = usage[significant & (usage["r"] > 0) & (usage["delta_usage"] >= config["min_usage_change"])]
    down = usage[significant & (usage["r"] < 0) & (usage["delta_usage"] <= -config["min_usage_change"])]
    keep = ["gene_id", "transcript_id", "r", "qvalue", "delta_usage"]
    pairs = down[keep].merge(up[keep], on="gene_id", suffixes=("_1", "_2"))
    return pairs.merge(genes[["gene_id", "switch_strength", "switch_qvalue"]], on="gene_id")


def _top_pairs(genes: pd.DataFrame, polarity: pd.DataFrame) -> pd.DataFrame:
    """The most negative -> most positive transcript of each gene (the first version's pairs)."""
    genes = genes[genes["top_positive_feature"].notna() & genes["top_negative_feature"].notna()
                  & (genes["top_positive_feature"] != genes["top_negative_feature"])]
    by_feature = polarity.set_index("feature_id")
    tx = _transcript_ids(polarity).set_axis(polarity["feature_id"])
    one, two = genes["top_negative_feature"], genes["top_positive_feature"]
    return pd.DataFrame({
        "gene_id": genes["gene_id"].to_numpy(),
        "transcript_id_1": tx.reindex(one).to_numpy(), "transcript_id_2": tx.reindex(two).to_numpy(),
        "r_1": by_feature["r"].reindex(one).to_numpy(), "r_2": by_feature["r"].reindex(two).to_numpy(),
        "qvalue_1": by_feature["qvalue"].reindex(one).to_numpy(),
        "qvalue_2": by_feature["qvalue"].reindex(two).to_numpy(),
        "delta_usage_1": by_feature["delta_usage"].reindex(one).to_numpy() if "delta_usage" in by_feature else np.nan,
        "delta_usage_2": by_feature["delta_usage"].reindex(two).to_numpy() if "delta_usage" in by_feature else np.nan,
        "switch_strength": genes["switch_strength"].to_numpy(),
        "switch_qvalue": genes["switch_qvalue"].to_numpy() if "switch_qvalue" in genes else np.nan,
    })

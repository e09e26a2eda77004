"""Variants offline: HGVS ``c.``/``n.`` and VCF records on the transcripts of a local GTF + FASTA, as
reference and alternate sequence windows (Hidden-State-Genomics' variant windows without UTA or SeqRepo).

HGVS (the subset a transcript sequence alone can resolve; each is parsed by :func:`parse_hgvs`)::

    NM_X:c.76A>T      substitution            NM_X:c.76_78del      deletion (optionally c.76_78delTGA)
    NM_X:c.76dup      duplication             NM_X:c.76_77insTT    insertion between two adjacent bases
    NM_X:c.76_78delinsGG  deletion-insertion  NM_X:n.12C>G         on a non-coding transcript's numbering

``c.`` positions count from the A of the start codon (c.1); ``c.-N`` lies in the 5' UTR and ``c.*N`` in the
3' UTR after the stop codon (found in the sequence: :func:`stop_codon_end`); ``n.N`` counts from the transcript's first base. Intronic offsets (``c.76+5``)
and genomic or protein descriptions need the genome and are refused with one line (use a VCF for those).
The biocommons ``hgvs`` package is not used: it needs PostgreSQL client libraries and UTA or SeqRepo to do
anything beyond parsing, none of which installs or runs offline.

A VCF record is mapped onto every transcript of the GTF whose exons hold all of its reference bases; on a
minus-strand transcript the alleles are reverse-complemented. Reference bases that disagree with the
transcript sequence are an error naming the variant (HGVS) or a ``status`` (VCF, one record may hit many
transcripts).

Windows: ``flank`` bases on each side of the changed span, cut from the reference transcript and from the
edited one, so the variant sits at the same offset in both (``offset``; the alternate window is longer or
shorter by the length change).
"""

from __future__ import annotations

import gzip
import os
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from isograph.errors import InputError
from isograph.structure.models import transcript_position

__all__ = ["STOP_CODONS", "Variant", "hgvs_to_variant", "parse_hgvs", "read_hgvs_file", "read_vcf", "stop_codon_end",
           "variant_effects", "variant_windows", "vcf_to_variants"]

_COMPLEMENT = str.maketrans("ACGTN", "TGCAN")
_POS = r"(?P<{n}>[-*]?\d+)(?P<{n}_offset>[+-]\d+)?"
_HGVS = re.compile(
    r"^(?P<transcript>[^:\s]+):(?P<kind>[cn])\.(?:" + _POS.format(n="start") + r")(?:_(?:" + _POS.format(n="end")
    + r"))?(?P<edit>[ACGTN]>[ACGTN]|delins[ACGTN]+|del[ACGTN]*|dup[ACGTN]*|ins[ACGTN]+)$")


@dataclass(frozen=True)
class Variant:
    """One change to one transcript, in 0-based transcript coordinates.

    Attributes
    ----------
    name : str
        As given (the HGVS string, or ``CHROM:POS:REF>ALT`` of a VCF record).
    transcript_id : str
    start, end : int
        The replaced bases ``[start, end)`` (``start == end`` for an insertion between ``start - 1`` and
        ``start``).
    ref, alt : str
        The replaced bases and what replaces them, on the transcript's strand.
    """

    name: str
    transcript_id: str
    start: int
    end: int
    ref: str
    alt: str


def parse_hgvs(text: str) -> dict:
    """The parts of one HGVS ``c.``/``n.`` description.

    Parameters
    ----------
    text : str

    Returns
    -------
    dict
        ``transcript, kind`` (``c`` or ``n``), ``start, end`` (position strings, ``end`` None for one
        position), ``edit`` (``A>G``, ``del``, ``delTGA``, ``dup``, ``insTT``, ``delinsGG``).

    Raises
    ------
    InputError
        Not in the supported grammar, or an intronic offset.

    Examples
    --------
    >>> parse_hgvs("TCONS_1:c.76A>T")["edit"], parse_hgvs("TCONS_1:c.-12_*3del")["end"]
    ('A>T', '*3')
    """
    match = _HGVS.match(str(text).strip())
    if match is None:
        raise InputError(f"variant {text!r}: not an HGVS description this tool reads (TRANSCRIPT:c.76A>T, c.76_78del,"
                         " c.76dup, c.76_77insTT, c.76_78delinsGG, or n. positions)")
    if match["start_offset"] or match["end_offset"]:
        raise InputError(f"variant {text!r}: intronic positions (c.N+k, c.N-k) need the genome; give the variant as a VCF"
                         " record instead")
    return {"transcript": match["transcript"], "kind": match["kind"], "start": match["start"], "end": match["end"],
            "edit": match["edit"]}


STOP_CODONS = ("TAA", "TAG", "TGA")


def stop_codon_end(sequence: str, utr5: int, orf: int) -> int:
    """Index just past the stop codon: the ORF's end when its last codon is a stop (GTFs with ``stop_codon``
    rows), else 3 bases further (GTFs whose CDS rows end before the stop codon, as cufflinks writes them).

    Parameters
    ----------
    sequence : str
        The transcript.
    utr5, orf : int
        5' UTR and ORF lengths of its model (nt).

    Returns
    -------
    int

    Examples
    --------
    >>> stop_codon_end("CCATGAAATAGCC", 2, 9), stop_codon_end("CCATGAAATAGCC", 2, 6)
    (11, 11)
    """
    if sequence[utr5 + orf - 3:utr5 + orf] in STOP_CODONS:
        return utr5 + orf
    return utr5 + orf + 3 if sequence[utr5 + orf:utr5 + orf + 3] in STOP_CODONS else utr5 + orf


def _index(position: str, kind: str, model: pd.Series | None, name: str, sequence: str) -> int:
    """0-based transcript index of a ``c.``/``n.`` position."""
    if kind == "n":
        if position.startswith(("-", "*")):
            raise InputError(f"variant {name!r}: n. positions count from the transcript's first base (no - or *)")
        return int(position) - 1
    if model is None or not bool(model["coding"]):
        raise InputError(f"variant {name!r}: c. numbering needs a coding transcript; use n. for a non-coding one")
    utr5, orf = int(model["utr5_length"]), int(model["orf_length"])
    if position.startswith("*"):
        return stop_codon_end(sequence, utr5, orf) + int(position[1:]) - 1
    value = int(position)
    if value == 0:
        raise InputError(f"variant {name!r}: there is no position c.0 (c.-1 is the base before c.1)")
    return utr5 + value - 1 if value > 0 else utr5 + value


def hgvs_to_variant(text: str, sequences: dict[str, str], models: pd.DataFrame) -> Variant:
    """A :class:`Variant` from an HGVS description, checked against the transcript's sequence.

    Parameters
    ----------
    text : str
    sequences : dict of str to str
        Transcript sequences by ``transcript_id`` (upper case).
    models : DataFrame
        Transcript models (``transcript_id, coding, utr5_length, orf_length``).

    Returns
    -------
    Variant

    Raises
    ------
    InputError
        Unknown transcript, a position outside it, or reference bases that differ from the sequence (the
        message names the variant and what the transcript has there).
    """
    parts = parse_hgvs(text)
    tx = parts["transcript"]
    if tx not in sequences:
        raise InputError(f"variant {text!r}: transcript {tx} is not in the FASTA")
    seq = sequences[tx]
    by_id = models.set_index("transcript_id")
    model = by_id.loc[tx] if tx in by_id.index else None
    first = _index(parts["start"], parts["kind"], model, text, seq)
    last = _index(parts["end"], parts["kind"], model, text, seq) if parts["end"] else first
    if not 0 <= first <= last < len(seq):
        raise InputError(f"variant {text!r}: position outside {tx} ({len(seq)} nt)")
    edit = parts["edit"]
    if ">" in edit:
        ref, alt = edit.split(">")
        if parts["end"]:
            raise InputError(f"variant {text!r}: a substitution changes one base; use delins for a range")
        start, end = first, first + 1
    elif edit.startswith("delins"):
        ref, alt, start, end = "", edit[6:], first, last + 1
    elif edit.startswith("del"):
        ref, alt, start, end = edit[3:], "", first, last + 1
    elif edit.startswith("dup"):
        ref, start, end = edit[3:], last + 1, last + 1
        alt = seq[first:last + 1]
        if ref and ref != alt:
            raise InputError(f"variant {text!r}: reference mismatch: {tx} has {alt} at {parts['start']}"
                             f"{'_' + parts['end'] if parts['end'] else ''}, not {ref}")
        ref = ""
    else:  # ins: between two adjacent bases
        if last != first + 1:
            raise InputError(f"variant {text!r}: an insertion goes between two adjacent positions (c.76_77insTT)")
        ref, alt, start, end = "", edit[3:], last, last
    actual = seq[start:end]
    if ref and ref != actual:
        raise InputError(f"variant {text!r}: reference mismatch: {tx} has {actual} at"
                         f" {parts['kind']}.{parts['start']}{'_' + parts['end'] if parts['end'] else ''}, not {ref}")
    return Variant(name=str(text).strip(), transcript_id=tx, start=start, end=end, ref=actual, alt=alt)


def read_hgvs_file(path: str | os.PathLike) -> list[str]:
    """HGVS descriptions, one per line (blank lines and ``#`` comments skipped; a first column of a TSV kept)."""
    path = Path(path)
    try:
        lines = path.read_text().splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: cannot read the HGVS list ({type(exc).__name__}); give a text file") from None
    items = [line.split("\t")[0].strip() for line in lines if line.strip() and not line.startswith("#")]
    if not items:
        raise InputError(f"{path}: no HGVS description in it")
    return items


def read_vcf(path: str | os.PathLike) -> pd.DataFrame:
    """The records of a VCF (plain or gzip): ``chrom, pos, id, ref, alt`` (one row per alternate allele).

    Raises
    ------
    InputError
        Not a VCF (no ``#CHROM`` header, or a record with fewer than 5 fields / a non-numeric POS).
    """
    path = Path(path)
    opener = gzip.open if path.suffix == ".gz" else open
    rows, header = [], False
    try:
        with opener(path, "rt") as handle:
            for number, line in enumerate(handle, start=1):
                if line.startswith("##"):
                    continue
                if line.startswith("#CHROM"):
                    header = True
                    continue
                if not line.strip():
                    continue
                fields = line.rstrip("\n").split("\t")
                if not header or len(fields) < 5 or not fields[1].isdigit():
                    raise InputError(f"{path}: line {number} is not a VCF record (needs the #CHROM header, then CHROM"
                                     " POS ID REF ALT separated by tabs)")
                for alt in fields[4].split(","):
                    rows.append((fields[0], int(fields[1]), fields[2], fields[3].upper(), alt.upper()))
    except (OSError, UnicodeDecodeError, EOFError) as exc:
        raise InputError(f"{path}: cannot read the VCF ({type(exc).__name__}); give a text or gzip VCF") from None
    if not header:
        raise InputError(f"{path}: no #CHROM header line; not a VCF")
    return pd.DataFrame(rows, columns=["chrom", "pos", "id", "ref", "alt"])


def vcf_to_variants(records: pd.DataFrame, sequences: dict[str, str], models: pd.DataFrame) -> pd.DataFrame:
    """Every (record, transcript) pair whose exons hold the record's reference bases.

    Parameters
    ----------
    records : DataFrame
        :func:`read_vcf` output.
    sequences : dict of str to str
    models : DataFrame
        Transcript models (``seqname, strand, exon_starts, exon_ends``).

    Returns
    -------
    DataFrame
        ``name, transcript_id, start, end, ref, alt, status`` (``ok``, ``reference mismatch: ...``, or
        ``spans an exon boundary``); records on no transcript's exons are left out.
    """
    rows = []
    for rec in records.itertuples(index=False):
        ref, alt = rec.ref, "" if rec.alt in (".", "*", "<DEL>") else rec.alt
        name = f"{rec.chrom}:{rec.pos}:{rec.ref}>{rec.alt}"
        last = rec.pos + len(ref) - 1
        near = models[(models["seqname"].astype(str) == str(rec.chrom)) & (models["start"] <= last)
                      & (models["end"] >= rec.pos)]
        for model in near.itertuples(index=False):
            fields = model._asdict()
            a, b = transcript_position(fields, rec.pos), transcript_position(fields, last)
            if a is None or b is None:
                continue
            tx = model.transcript_id
            lo, hi = min(a, b), max(a, b)
            status = "ok" if hi - lo == len(ref) - 1 else "spans an exon boundary"
            t_ref, t_alt = (ref, alt) if model.strand != "-" else (ref.translate(_COMPLEMENT)[::-1],
                                                                    alt.translate(_COMPLEMENT)[::-1])
            seq = sequences.get(tx)
            if seq is None:
                status = "transcript not in the FASTA"
            elif status == "ok" and seq[lo:hi + 1] != t_ref:
                status = f"reference mismatch: {tx} has {seq[lo:hi + 1]}, the VCF {t_ref}"
            rows.append((name, tx, *_trim(lo, hi + 1, t_ref, t_alt), status))
    return pd.DataFrame(rows, columns=["name", "transcript_id", "start", "end", "ref", "alt", "status"])


def _trim(start: int, end: int, ref: str, alt: str) -> tuple[int, int, str, str]:
    """Drop the bases ``ref`` and ``alt`` share at their ends (a VCF's anchor base), suffix first.

    Examples
    --------
    >>> _trim(10, 11, "A", "ATT"), _trim(10, 11, "T", "AAT"), _trim(10, 13, "CAG", "C")
    ((11, 11, '', 'TT'), (10, 10, '', 'AA'), (11, 13, 'AG', ''))
    """
    suffix = len(os.path.commonprefix([ref[::-1], alt[::-1]]))
    ref, alt, end = ref[:len(ref) - suffix], alt[:len(alt) - suffix], end - suffix
    prefix = len(os.path.commonprefix([ref, alt]))
    return start + prefix, end, ref[prefix:], alt[prefix:]


def variant_windows(variants: list[Variant] | pd.DataFrame, sequences: dict[str, str], *, flank: int = 150
                    ) -> pd.DataFrame:
    """Reference and alternate windows around each variant.

    Parameters
    ----------
    variants : list of Variant, or DataFrame with their fields
    sequences : dict of str to str
    flank : int, default 150
        Bases kept on each side of the changed span (fewer at a transcript end).

    Returns
    -------
    DataFrame
        ``name, transcript_id, start, end, ref, alt, offset`` (where the change starts in both windows),
        ``ref_window, alt_window``.

    Examples
    --------
    >>> v = Variant("x", "T", 4, 5, "A", "G")
    >>> variant_windows([v], {"T": "CCCCACCCC"}, flank=2)[["ref_window", "alt_window", "offset"]].values.tolist()
    [['CCACC', 'CCGCC', 2]]
    """
    frame = pd.DataFrame([v.__dict__ for v in variants]) if isinstance(variants, list) else variants.copy()
    out = []
    for row in frame.itertuples(index=False):
        seq = sequences[row.transcript_id]
        left = max(0, row.start - flank)
        right = min(len(seq), row.end + flank)
        out.append((seq[left:right], seq[left:row.start] + row.alt + seq[row.end:right], row.start - left))
    frame["offset"] = [o[2] for o in out]
    frame["ref_window"] = [o[0] for o in out]
    frame["alt_window"] = [o[1] for o in out]
    return frame


def _forward(lm, sae, window: str, layer: int):
    """Tokens, SAE activations at ``layer`` and log-probabilities of one window."""
    import torch

    from isograph.sae.lm import kmer_tokens
    from isograph.sae.model import encode

    tokens, starts, ends = kmer_tokens(window, lm.k)
    ids = torch.tensor([[lm.special_id("<cls>"), *lm.ids(tokens)]])
    with torch.no_grad():
        out = lm.model(input_ids=ids, output_hidden_states=True)
    hidden = out.hidden_states[layer][0, 1:].float().numpy()
    log_p = torch.log_softmax(out.logits[0, 1:].float(), -1).numpy()
    return tokens, starts, ends, encode(sae, hidden), log_p


def variant_effects(lm: object, sae: object, windows: pd.DataFrame, *, layer: int,
                    top: int = 10) -> tuple[pd.DataFrame, pd.DataFrame]:
    """What each variant does to the SAE features and to the language model's predictions.

    Parameters
    ----------
    lm : isograph.sae.lm.LocalLM
    sae : the SAE module (:func:`isograph.sae.model.load_sae`)
    windows : DataFrame
        :func:`variant_windows` output.
    layer : int
        ``hidden_states`` index the SAE reads.
    top : int, default 10
        Features kept per variant, by |delta|.

    Returns
    -------
    features : DataFrame
        ``name, transcript_id, feature, max_ref, max_alt, delta`` (max activation over the alternate window
        minus over the reference window), the ``top`` features of each variant by |delta|.
    tokens : DataFrame
        ``name, token_index, token_ref, token_alt, start, kl, z_delta_max`` for the tokens that align
        between the two windows: all of them for a change that keeps the length, the tokens before the
        change otherwise (tokenization runs left to right, so later tokens shift). ``kl`` is KL(ref ‖ alt)
        of the model's output distribution at the token, in nats; ``z_delta_max`` the largest |change| of
        any feature there.

    Raises
    ------
    InputError
        A window longer than the model takes (the message names the variant and a flank that fits).
    """
    from isograph.sae.lm import kmer_tokens

    feature_rows, token_rows = [], []
    for row in windows.itertuples(index=False):
        longest = max(len(kmer_tokens(row.ref_window, lm.k)[0]), len(kmer_tokens(row.alt_window, lm.k)[0]))
        if longest > lm.max_tokens - 1:
            raise InputError(f"variant {row.name!r}: its window has {longest} tokens but the model takes at most"
                             f" {lm.max_tokens - 1}; use a smaller flank (at most about"
                             f" {lm.k * (lm.max_tokens - 1) // 2 - len(row.alt) - lm.k} bases)")
        t_ref, s_ref, e_ref, z_ref, lp_ref = _forward(lm, sae, row.ref_window, layer)
        t_alt, _, _, z_alt, lp_alt = _forward(lm, sae, row.alt_window, layer)
        delta = z_alt.max(axis=0) - z_ref.max(axis=0)
        order = np.argsort(-np.abs(delta), kind="stable")[:top]
        feature_rows.append(pd.DataFrame({"name": row.name, "transcript_id": row.transcript_id, "feature": order,
                                          "max_ref": z_ref.max(axis=0)[order], "max_alt": z_alt.max(axis=0)[order],
                                          "delta": delta[order]}))
        same_length = len(row.ref) == len(row.alt)
        n = min(len(t_ref), len(t_alt)) if same_length else int((e_ref <= row.offset).sum())
        n = min(n, len(t_ref), len(t_alt))
        kl = (np.exp(lp_ref[:n]) * (lp_ref[:n] - lp_alt[:n])).sum(-1).clip(min=0)
        token_rows.append(pd.DataFrame({"name": row.name, "token_index": np.arange(n), "token_ref": t_ref[:n],
                                        "token_alt": t_alt[:n], "start": s_ref[:n], "kl": kl,
                                        "z_delta_max": np.abs(z_alt[:n] - z_ref[:n]).max(axis=1) if n else []}))
    features = pd.concat(feature_rows, ignore_index=True) if feature_rows else pd.DataFrame()
    tokens = pd.concat(token_rows, ignore_index=True) if token_rows else pd.DataFrame()
    return features, tokens

"""Deterministic simulation of transcript counts with planted modules and isoform switches.

The simulated genes are the real human multi-isoform genes of IsoformSwitchAnalyzeR's chr1 example
(``data/reference/isar_example/example.gtf.gz``: 234 genes with >= 2 transcripts, their real IDs,
names and isoform counts) and, beyond those or on request, synthetic genes with ``isoforms_per_gene``
transcripts each.

Generative model (sample ``s``, gene ``g`` in module ``m``, transcript ``t``)
    module activity  ``A[s, m] ~ N(0, 1)``, independent per module;
    gene abundance   ``log mu[s, g] = b_g + a_g * abundance_effect * A[s, m] + confounder + log L_s``
                     (``a_g = ±1`` for module genes, 0 for background genes);
    usage            ``pi[s, t] = softmax_t(beta_t + [t = driver_g] * d_g * switch_effect * A[s, m])``
                     for switching genes (``d_g = ±1``), ``softmax_t(beta_t)`` otherwise;
    counts           negative binomial with mean ``mu[s, g] * pi[s, t]`` and variance
                     ``mean + dispersion * mean^2`` (gamma-Poisson).
The planted driver transcript of a switching gene is the one whose usage follows the module; it is
drawn from the gene's two most used transcripts. With two transcripts per gene the other transcript's
usage is exactly 1 - usage, so both have the same |r| (a tie, not an error).

The oracle fit holds the truth modules and, as feature scores, the switch channel computed from the
simulated counts (:func:`isograph.fit.scores.switch_scores`); explain can be tested on it before a fit exists.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from isograph import __version__
from isograph.dataset.io import write_json, write_parquet, write_tsv
from isograph.dataset.matrix import write_matrix
from isograph.errors import InputError
from isograph.fit.scores import feature_scores_frame, switch_scores
from isograph.reference import reference_path
from isograph.structure.cache import load_transcript_models

__all__ = [
    "REFERENCE_GTF",
    "SimulationConfig",
    "SimulationResult",
    "simulate",
    "switch_call_recovery",
    "write_simulation",
]

REFERENCE_GTF = reference_path("isar_example", "example.gtf.gz")


@dataclass(frozen=True)
class SimulationConfig:
    """Parameters of :func:`simulate` (all have defaults; the default set is the standard one).

    Attributes
    ----------
    n_samples : int
        Samples (default 200).
    n_modules : int
        Planted modules (default 6), named ``M000``... largest first.
    n_genes : int or None
        Genes to simulate. ``None``: all 234 real multi-isoform genes (``gene_models="real"``) or 1,000
        synthetic genes. With real models, genes beyond 234 are synthetic.
    gene_models : {"real", "synthetic"}
        Where the gene/transcript structure comes from.
    module_fraction : float
        Fraction of genes placed in modules (the rest are background), default 0.6.
    switch_fraction : float
        Fraction of each module's genes that switch isoforms with the module, default 0.5.
    isoforms_per_gene : int
        Transcripts of every synthetic gene (>= 2), default 4.
    dispersion : float
        Negative-binomial dispersion (variance = mean + dispersion * mean^2), default 0.1.
    switch_effect : float
        Driver log-odds shift per standard deviation of module activity, default 1.0.
    abundance_effect : float
        Natural-log expression shift per SD of module activity for module genes, default 0.5.
    mean_gene_count : float
        Median expected reads per gene per sample, default 300.
    confounder_strength : float
        Effect of a two-level batch on the abundance of 30% and the usage of 20% of genes (log
        scale), default 0 (no confounder).
    missing_fraction : float
        Fraction of transcript-usage values blanked to NaN at random (dropout), default 0.
    seed : int
        Seed of the random generator; equal configs give identical outputs.
    """

    n_samples: int = 200
    n_modules: int = 6
    n_genes: int | None = None
    gene_models: str = "real"
    module_fraction: float = 0.6
    switch_fraction: float = 0.5
    isoforms_per_gene: int = 4
    dispersion: float = 0.1
    switch_effect: float = 1.0
    abundance_effect: float = 0.5
    mean_gene_count: float = 300.0
    confounder_strength: float = 0.0
    missing_fraction: float = 0.0
    seed: int = 0

    def validate(self) -> None:
        """Raise :class:`InputError` for parameters outside their allowed range."""
        checks = [
            (self.n_samples >= 10, "n_samples must be >= 10"),
            (self.n_modules >= 1, "n_modules must be >= 1"),
            (self.n_genes is None or self.n_genes >= 2, "n_genes must be >= 2"),
            (self.gene_models in ("real", "synthetic"), "gene_models must be 'real' or 'synthetic'"),
            (0.0 < self.module_fraction <= 1.0, "module_fraction must be in (0, 1]"),
            (0.0 <= self.switch_fraction <= 1.0, "switch_fraction must be in [0, 1]"),
            (self.isoforms_per_gene >= 2, "isoforms_per_gene must be >= 2"),
            (self.dispersion > 0.0, "dispersion must be > 0"),
            (self.mean_gene_count > 0.0, "mean_gene_count must be > 0"),
            (0.0 <= self.missing_fraction < 1.0, "missing_fraction must be in [0, 1)"),
            (self.confounder_strength >= 0.0, "confounder_strength must be >= 0"),
        ]
        for ok, message in checks:
            if not ok:
                raise InputError(f"simulation parameter error: {message}")


@dataclass
class SimulationResult:
    """Everything :func:`simulate` makes (tables are in the layouts of the data contracts).

    Attributes
    ----------
    counts : DataFrame (n_samples, n_transcripts)
        Integer counts; index ``sample_id``, columns transcript IDs (grouped by gene).
    tx2gene : DataFrame
        ``transcript_id, gene_id, gene_name``.
    feature_table : DataFrame (n_samples, n_transcripts)
        Transcript usage fractions (count / gene count; NaN where the gene has no reads or was blanked).
    feature_meta : DataFrame
        ``feature_id, gene_id, feature_type ("transcript_usage"), gene_name, transcript_id, exon_id,
        event_id`` (empty) and ``source_coordinate`` (``chr:start-end(strand)`` of real transcripts).
    truth_genes : DataFrame
        ``gene_id, gene_name, module_id (NA for background), is_switching, driver_transcript_id,
        switch_direction (+1/-1/0), abundance_direction, n_transcripts, gene_model``.
    module_activity : DataFrame (n_samples, n_modules)
        The planted activities ``A``.
    covariates : DataFrame
        ``sample_id, batch`` (the confounder; all "b0" when ``confounder_strength`` is 0).
    oracle_modules, oracle_feature_scores : DataFrame
        ``modules.parquet`` and ``feature_scores.parquet`` of the oracle fit.
    """

    config: SimulationConfig
    counts: pd.DataFrame
    tx2gene: pd.DataFrame
    feature_table: pd.DataFrame
    feature_meta: pd.DataFrame
    truth_genes: pd.DataFrame
    module_activity: pd.DataFrame
    covariates: pd.DataFrame
    oracle_modules: pd.DataFrame
    oracle_feature_scores: pd.DataFrame
    paths: dict[str, str] = field(default_factory=dict)


def _gene_models(config: SimulationConfig, rng: np.random.Generator) -> pd.DataFrame:
    """transcript_id, gene_id, gene_name, gene_model; transcripts grouped by gene."""
    frames = []
    n_real = 0
    if config.gene_models == "real":
        tx = load_transcript_models(REFERENCE_GTF, use_cache=False).models
        counts = tx.groupby("gene_id")["transcript_id"].transform("size")
        tx = tx[counts >= 2]
        genes = tx["gene_id"].unique()
        if config.n_genes is not None and config.n_genes < len(genes):
            genes = np.sort(rng.choice(genes, size=config.n_genes, replace=False))
            tx = tx[tx["gene_id"].isin(genes)]
        n_real = len(genes)
        name = tx["gene_name"].fillna(tx["gene_id"])
        coordinate = (tx["seqname"] + ":" + tx["start"].astype(str) + "-" + tx["end"].astype(str)
                      + "(" + tx["strand"] + ")")
        frames.append(pd.DataFrame({"transcript_id": tx["transcript_id"], "gene_id": tx["gene_id"],
                                    "gene_name": name, "gene_model": "isar_example",
                                    "source_coordinate": coordinate}))
    wanted = config.n_genes if config.n_genes is not None else (n_real if n_real else 1000)
    n_synth = max(0, wanted - n_real)
    if n_synth:
        k = config.isoforms_per_gene
        g = np.repeat(np.arange(1, n_synth + 1), k)
        t = np.arange(1, n_synth * k + 1)
        frames.append(pd.DataFrame({
            "transcript_id": [f"SYNT{i:07d}" for i in t],
            "gene_id": [f"SYNG{i:06d}" for i in g],
            "gene_name": [f"SYN{i}" for i in g],
            "gene_model": "synthetic",
            "source_coordinate": None,
        }))
    return pd.concat(frames, ignore_index=True)


def _module_sizes(n_module_genes: int, n_modules: int) -> np.ndarray:
    """Distinct, decreasing module sizes (weights 1.2^-k) summing to n_module_genes."""
    w = 1.2 ** -np.arange(n_modules)
    sizes = np.floor(n_module_genes * w / w.sum()).astype(int)
    sizes[0] += n_module_genes - sizes.sum()
    return sizes


def simulate(config: SimulationConfig | None = None) -> SimulationResult:
    """Simulate counts, transcript-usage features, truth tables and an oracle fit.

    Parameters
    ----------
    config : SimulationConfig, optional
        Parameters; the default is the standard set (200 samples, 6 modules, real gene models,
        half of the module genes switching).

    Returns
    -------
    SimulationResult

    Raises
    ------
    InputError
        Parameters out of range, or too few genes for the modules asked for (each needs >= 4 genes).

    Examples
    --------
    >>> from isograph.simulate import SimulationConfig, simulate
    >>> sim = simulate(SimulationConfig(n_samples=20, n_modules=2, seed=1))
    >>> sim.counts.shape[0], sorted(sim.oracle_modules["module_id"].unique())
    (20, ['M000', 'M001'])
    """
    config = config or SimulationConfig()
    config.validate()
    rng = np.random.default_rng(config.seed)
    tx = _gene_models(config, rng)
    genes = tx.drop_duplicates("gene_id")[["gene_id", "gene_name", "gene_model"]].reset_index(drop=True)
    n_genes, n_samples, n_modules = len(genes), config.n_samples, config.n_modules
    n_module_genes = int(round(config.module_fraction * n_genes))
    sizes = _module_sizes(n_module_genes, n_modules)
    if sizes.min() < 4:
        raise InputError(
            f"simulation parameter error: {n_genes} genes x module_fraction {config.module_fraction} gives"
            f" modules of {sizes.min()} genes; use more genes or fewer modules (each needs >= 4 genes)"
        )

    # module membership, switching genes, directions
    order = rng.permutation(n_genes)
    module_of = np.full(n_genes, -1)
    switching = np.zeros(n_genes, dtype=bool)
    start = 0
    for m, size in enumerate(sizes):
        members = order[start:start + size]
        module_of[members] = m
        switching[members[: int(round(config.switch_fraction * size))]] = True
        start += size
    switch_dir = np.where(switching, rng.choice([-1, 1], size=n_genes), 0)
    abund_dir = np.where(module_of >= 0, rng.choice([-1, 1], size=n_genes), 0)

    gene_index = pd.Index(genes["gene_id"])
    tx_gene = gene_index.get_indexer(tx["gene_id"])
    n_tx = len(tx)
    beta = rng.normal(0.0, 1.0, size=n_tx)
    # driver: one of the gene's two most used transcripts at baseline
    driver = np.full(n_genes, -1)
    tx_order = np.lexsort((-beta, tx_gene))
    first = np.searchsorted(tx_gene[tx_order], np.arange(n_genes))
    pick = rng.integers(0, 2, size=n_genes)
    driver[:] = tx_order[first + pick]
    is_driver = np.zeros(n_tx, dtype=bool)
    is_driver[driver[switching]] = True

    activity = rng.normal(size=(n_samples, n_modules))
    batch = (np.arange(n_samples) >= n_samples // 2).astype(float)
    batch = rng.permutation(batch) if config.confounder_strength > 0 else np.zeros(n_samples)
    conf_abund = (rng.random(n_genes) < 0.3) * rng.choice([-1, 1], size=n_genes) * config.confounder_strength
    conf_usage_tx = np.zeros(n_tx)
    conf_genes = np.flatnonzero(rng.random(n_genes) < 0.2)
    conf_usage_tx[tx_order[first[conf_genes]]] = config.confounder_strength

    base = np.log(config.mean_gene_count) + rng.normal(0.0, 0.8, size=n_genes)
    lib = rng.normal(0.0, 0.2, size=n_samples)
    gene_act = np.where(module_of >= 0, activity[:, np.maximum(module_of, 0)], 0.0)  # (s, g)
    log_mu = (base[None, :] + abund_dir * config.abundance_effect * gene_act
              + batch[:, None] * conf_abund[None, :] + lib[:, None])
    logits = (beta[None, :]
              + is_driver * (switch_dir * config.switch_effect)[tx_gene] * gene_act[:, tx_gene]
              + batch[:, None] * conf_usage_tx[None, :])
    logits -= logits.max(axis=1, keepdims=True)
    expl = np.exp(logits)
    starts = np.flatnonzero(np.r_[True, tx_gene[1:] != tx_gene[:-1]])
    denom = np.add.reduceat(expl, starts, axis=1)
    usage = expl / denom[:, tx_gene]
    mean = np.exp(log_mu)[:, tx_gene] * usage
    shape = 1.0 / config.dispersion
    counts = rng.poisson(rng.gamma(shape, mean / shape)).astype(np.int64)

    gene_totals = np.add.reduceat(counts, starts, axis=1)[:, tx_gene].astype(np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        obs_usage = np.where(gene_totals > 0, counts / gene_totals, np.nan)
    if config.missing_fraction > 0:
        obs_usage[rng.random(obs_usage.shape) < config.missing_fraction] = np.nan

    sample_ids = pd.Index([f"S{i:03d}" for i in range(n_samples)], name="sample_id")
    tx_ids = tx["transcript_id"].to_numpy()
    counts_df = pd.DataFrame(counts, index=sample_ids, columns=tx_ids)
    usage_df = pd.DataFrame(obs_usage, index=sample_ids, columns=tx_ids)
    module_names = np.array([f"M{m:03d}" for m in range(n_modules)])
    tx2gene = tx[["transcript_id", "gene_id", "gene_name"]].reset_index(drop=True)
    feature_meta = pd.DataFrame({
        "feature_id": tx_ids,
        "gene_id": tx["gene_id"].to_numpy(),
        "feature_type": "transcript_usage",
        "gene_name": tx["gene_name"].to_numpy(),
        "transcript_id": tx_ids,
        "exon_id": pd.array([None] * n_tx, dtype="string"),
        "event_id": pd.array([None] * n_tx, dtype="string"),
        "source_coordinate": pd.array(tx["source_coordinate"].to_numpy(), dtype="string"),
    })
    n_tx_per_gene = np.bincount(tx_gene, minlength=n_genes)
    truth = pd.DataFrame({
        "gene_id": genes["gene_id"],
        "gene_name": genes["gene_name"],
        "module_id": pd.array(np.where(module_of >= 0, module_names[np.maximum(module_of, 0)], None),
                              dtype="string"),
        "is_switching": switching,
        "driver_transcript_id": pd.array(np.where(switching, tx_ids[driver], None), dtype="string"),
        "switch_direction": switch_dir.astype(np.int64),
        "abundance_direction": abund_dir.astype(np.int64),
        "n_transcripts": n_tx_per_gene.astype(np.int64),
        "gene_model": genes["gene_model"],
    })
    activity_df = pd.DataFrame(activity, index=sample_ids, columns=module_names)
    covariates = pd.DataFrame({"sample_id": sample_ids, "batch": np.where(batch > 0, "b1", "b0")})

    modules = truth.loc[truth["module_id"].notna(), ["gene_id", "module_id"]].astype(str)
    modules = modules.sort_values(["module_id", "gene_id"], ignore_index=True)
    switch, _ = switch_scores(counts_df, tx2gene)
    scores = feature_scores_frame({"switch": switch}, pd.Series(n_tx_per_gene, index=genes["gene_id"]))
    return SimulationResult(
        config=config,
        counts=counts_df,
        tx2gene=tx2gene,
        feature_table=usage_df,
        feature_meta=feature_meta,
        truth_genes=truth,
        module_activity=activity_df,
        covariates=covariates,
        oracle_modules=modules,
        oracle_feature_scores=scores,
    )


def write_simulation(sim: SimulationResult, out_dir: str | os.PathLike, *,
                     feature_layout: str = "matrix") -> dict[str, str]:
    """Write a simulation to ``out_dir`` (every file atomically) and return ``{name: path}``.

    Parameters
    ----------
    sim : SimulationResult
    out_dir : path
        Created if missing; files already there are replaced one by one.
    feature_layout : {"matrix", "parquet"}, default "matrix"
        The transcript-usage table as a ``features.matrix`` folder (the fast layout,
        :mod:`isograph.dataset.matrix`) or as the manual's ``features.parquet``.

    Returns
    -------
    dict of str to str

    Layout::

        counts.parquet               samples x transcripts counts (index sample_id)
        tx2gene.tsv                  transcript_id, gene_id, gene_name
        features.matrix              samples x transcript-usage features (or features.parquet, index sample_id)
        feature_metadata.parquet     feature_id, gene_id, feature_type, gene_name, transcript_id, ...
        covariates.tsv               sample_id, batch
        truth/genes.tsv              the truth table (see SimulationResult.truth_genes)
        truth/module_activity.tsv    sample_id + one column per module
        oracle_fit/modules.parquet, oracle_fit/feature_scores.parquet, oracle_fit/fit_config.json
        simulation_config.json
    """
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise InputError(f"--out {out} exists and is not a folder")
    if feature_layout not in ("matrix", "parquet"):
        raise InputError(f"feature layout {feature_layout!r}: use matrix or parquet")
    paths = {
        "counts": write_parquet(sim.counts, out / "counts.parquet", index=True),
        "tx2gene": write_tsv(sim.tx2gene, out / "tx2gene.tsv"),
        "feature_table": (write_matrix(sim.feature_table, out / "features.matrix") if feature_layout == "matrix"
                          else write_parquet(sim.feature_table, out / "features.parquet", index=True)),
        "feature_meta": write_parquet(sim.feature_meta, out / "feature_metadata.parquet"),
        "covariates": write_tsv(sim.covariates, out / "covariates.tsv"),
        "truth_genes": write_tsv(sim.truth_genes, out / "truth" / "genes.tsv"),
        "module_activity": write_tsv(sim.module_activity, out / "truth" / "module_activity.tsv", index=True),
        "oracle_modules": write_parquet(sim.oracle_modules, out / "oracle_fit" / "modules.parquet"),
        "oracle_feature_scores": write_parquet(sim.oracle_feature_scores,
                                               out / "oracle_fit" / "feature_scores.parquet"),
    }
    params = {"package_version": __version__, "simulation": asdict(sim.config)}
    paths["oracle_fit_config"] = write_json(
        {**params, "kind": "oracle", "note": "truth modules + switch scores from the simulated counts"},
        out / "oracle_fit" / "fit_config.json",
    )
    paths["config"] = write_json(params, out / "simulation_config.json")
    sim.paths = {k: str(v) for k, v in paths.items()}
    return sim.paths


def switch_call_recovery(gene_tables: Iterable[pd.DataFrame], truth_genes: pd.DataFrame) -> dict:
    """Precision and recall of the switch calls against the planted switching genes.

    Parameters
    ----------
    gene_tables : iterable of DataFrame
        ``gene_driver_table`` of every explained module (``gene_id, switch_called``).
    truth_genes : DataFrame
        ``SimulationResult.truth_genes`` (``gene_id, is_switching``).

    Returns
    -------
    dict
        ``n_called`` (genes with a called switch in some module), ``n_planted`` (planted switching genes,
        all of them: one the fit left out of every module counts as missed), ``true_positives``,
        ``precision`` (NaN with no call), ``recall``.
    """
    called = set()
    for table in gene_tables:
        called |= set(table.loc[table["switch_called"].astype(bool), "gene_id"])
    planted = set(truth_genes.loc[truth_genes["is_switching"].astype(bool), "gene_id"])
    hits = len(called & planted)
    return {"n_called": len(called), "n_planted": len(planted), "true_positives": hits,
            "precision": hits / len(called) if called else float("nan"),
            "recall": hits / len(planted) if planted else float("nan")}

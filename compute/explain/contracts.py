"""The contracts of explain-module: its options, its result and the names and columns of its files.

Sign convention, stated once: a positive ``r`` (or ``delta``/``tstat``) means the feature is *used more in
high-module samples*; a negative one means it is used more in low-module samples.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from isograph.dataset.explain_store import MANIFEST_NAME, TABLE_FILES
from isograph.errors import InputError
from isograph.explain.eigengene import EIGENGENE_METHODS
from isograph.explain.switch_calls import DRIVER_CHANNELS

__all__ = [
    "DIRECTION_WORDS",
    "GENE_DRIVER_COLUMNS",
    "GENE_DRIVER_EXTRA_COLUMNS",
    "HIGH_VS_LOW_COLUMNS",
    "MANIFEST_NAME",
    "META_PASSTHROUGH",
    "TABLE_FILES",
    "TRANSCRIPT_POLARITY_COLUMNS",
    "memory_budget_bytes",
    "ExplainConfig",
    "ExplainResult",
]

# The manual's columns, in the manual's order; extra columns follow them.
GENE_DRIVER_COLUMNS = ("gene_id", "r", "pvalue", "qvalue", "n_samples", "missing_fraction")
TRANSCRIPT_POLARITY_COLUMNS = (
    "feature_id", "gene_id", "r", "pvalue", "qvalue", "n_samples", "missing_fraction", "switch_strength",
)
HIGH_VS_LOW_COLUMNS = (
    "feature_id", "gene_id", "mean_high", "mean_low", "delta", "se", "tstat", "pvalue", "n_high", "n_low",
    "missing_fraction",
)
#: The gene table's columns after the manual's, in this order.
GENE_DRIVER_EXTRA_COLUMNS = (
    "ci_low", "ci_high", "score_feature_type",
    "switch_r", "switch_pvalue", "switch_qvalue", "switch_ci_low", "switch_ci_high",
    "abundance_r", "abundance_pvalue", "abundance_qvalue", "abundance_ci_low", "abundance_ci_high",
    "switch_called", "driver_kind", "n_transcripts_up", "n_transcripts_down",
    "switch_up_feature", "switch_up_qvalue", "switch_up_delta_usage",
    "switch_down_feature", "switch_down_qvalue", "switch_down_delta_usage",
    "gene_name", "n_features", "switch_strength", "top_positive_feature", "top_negative_feature",
    "switch_description",
)
META_PASSTHROUGH = ("feature_type", "transcript_id", "gene_name", "exon_id", "event_id", "source_coordinate")
DIRECTION_WORDS = ("used more in high-module samples", "used more in low-module samples")



@dataclass(frozen=True)
class ExplainConfig:
    """Options of :func:`explain_module` (the CLI flags of ``isograph explain-module``).

    Attributes
    ----------
    split_percentile : float, default 50.0
        P of the high-vs-low split: high = samples at or above the (100 - P)th percentile of the
        eigengene, low = at or below the Pth. In (0, 50].
    min_complete_pairs : int, default 3
        Correlations on fewer complete sample pairs are NaN. >= 2.
    eigengene_method : {"pc1", "aligned_mean"}, default "pc1"
        WGCNA PC1 eigengene or IsoGraph's sign-aligned mean (ignored with a module score table).
    confidence_level : float, default 0.95
        Level of the Fisher-z interval (``ci_low``, ``ci_high``).
    vae_attribution : bool, default False
        Decoder finite-difference drivers from the fit's ``vae_checkpoint.pt`` (``vae_drivers.parquet``;
        see :mod:`isograph.explain.attribution`).
    vae_fdr_threshold : float, default 0.05
        High-confidence drivers need ``qvalue`` at most this.
    vae_percentile_threshold : float, default 90.0
        High-confidence drivers also need |decoded_delta| at or above this percentile among the module's
        genes.
    vae_eps : float, default 1.0
        Half-step of the central difference, in latent units.
    integrated_gradients : bool, default False
        Captum Integrated Gradients through the encoder (``ig_attributions.parquet``).
    ig_n_steps : int, default 100
        Integration steps of Integrated Gradients.
    ig_baseline : {"zero", "mean"}, default "zero"
        The baseline input: all-zero scores (no switching) or each feature's mean.
    driver_channel : {"switch", "abundance", "strongest"}, default "switch"
        Which feature-score row gives a gene's r, pvalue and qvalue: its switch row (single-transcript
        genes: their abundance row), its abundance row, or the row with the larger |r|.
    switch_alpha : float, default 0.05
        Significance level of the switch call (the gene's switch q and each transcript's q; ISAR's alpha).
    min_usage_change : float, default 0.1
        Minimum |delta_usage| (mean usage high - low) of the up and the down transcript of a called switch
        (ISAR's dIFcutoff).
    memory_budget : float, optional
        GiB the feature statistics may hold at once: features are taken in blocks within it (from a
        ``.matrix`` feature table, straight from disk); default a quarter of the machine's RAM. The results do
        not depend on it.
    """

    split_percentile: float = 50.0
    min_complete_pairs: int = 3
    eigengene_method: str = "pc1"
    confidence_level: float = 0.95
    vae_attribution: bool = False
    vae_fdr_threshold: float = 0.05
    vae_percentile_threshold: float = 90.0
    vae_eps: float = 1.0
    integrated_gradients: bool = False
    ig_n_steps: int = 100
    ig_baseline: str = "zero"
    driver_channel: str = "switch"
    switch_alpha: float = 0.05
    min_usage_change: float = 0.1
    memory_budget: float | None = None

    def validate(self) -> None:
        """Raise :class:`InputError` for an option out of range."""
        if self.memory_budget is not None and not float(self.memory_budget) > 0:
            raise InputError(f"memory_budget must be > 0 GiB; got {self.memory_budget}")
        if not 0.0 < float(self.split_percentile) <= 50.0:
            raise InputError(f"split_percentile must be in (0, 50]; got {self.split_percentile}")
        if int(self.min_complete_pairs) != self.min_complete_pairs or self.min_complete_pairs < 2:
            raise InputError(f"min_complete_pairs must be an integer >= 2; got {self.min_complete_pairs}")
        if self.eigengene_method not in EIGENGENE_METHODS:
            raise InputError(
                f"eigengene_method must be one of {', '.join(EIGENGENE_METHODS)}; got {self.eigengene_method!r}"
            )
        if not 0.0 < self.confidence_level < 1.0:
            raise InputError(f"confidence_level must be in (0, 1); got {self.confidence_level}")
        if not 0.0 <= self.vae_fdr_threshold <= 1.0:
            raise InputError(f"vae_fdr_threshold must be in [0, 1]; got {self.vae_fdr_threshold}")
        if not 0.0 <= self.vae_percentile_threshold <= 100.0:
            raise InputError(f"vae_percentile_threshold must be in [0, 100]; got {self.vae_percentile_threshold}")
        if not self.vae_eps > 0:
            raise InputError(f"vae_eps must be > 0; got {self.vae_eps}")
        if self.ig_baseline not in ("zero", "mean"):
            raise InputError(f"ig_baseline must be zero or mean; got {self.ig_baseline!r}")
        if self.ig_n_steps < 2:
            raise InputError(f"ig_n_steps must be >= 2; got {self.ig_n_steps}")
        if self.driver_channel not in DRIVER_CHANNELS:
            raise InputError(f"driver_channel must be one of {', '.join(DRIVER_CHANNELS)}; got {self.driver_channel!r}")
        if not 0.0 < self.switch_alpha <= 1.0:
            raise InputError(f"switch_alpha must be in (0, 1]; got {self.switch_alpha}")
        if not 0.0 <= self.min_usage_change <= 1.0:
            raise InputError(f"min_usage_change must be in [0, 1] (a change of usage fraction); got"
                             f" {self.min_usage_change}")


@dataclass
class ExplainResult:
    """What :func:`explain_module` found for one module.

    Attributes
    ----------
    module_id : str
    gene_driver_table : DataFrame
        One row per module gene, sorted by |r| (NaN last). Columns: ``gene_id`` (str), ``r`` (float,
        Pearson r with the eigengene of the gene's feature-score row in the driver channel: by default its
        switch row, its abundance row for a single-transcript gene; see ``ExplainConfig.driver_channel``),
        ``pvalue``, ``qvalue`` (BH within the table), ``n_samples`` (int, complete pairs),
        ``missing_fraction`` (1 - n_samples / samples used), then ``ci_low, ci_high`` (Fisher-z interval),
        ``score_feature_type`` (the channel of ``r``), ``switch_r, switch_pvalue, switch_qvalue,
        switch_ci_low, switch_ci_high`` and the same five for ``abundance_`` (each channel's row; q by BH
        over the module's rows of that channel; NaN without the row), ``switch_called`` (bool: switch q <= switch_alpha and
        a transcript significantly up and one significantly down, each with |delta_usage| >=
        min_usage_change; see :mod:`isograph.explain.switch_calls`), ``driver_kind`` (``switch``,
        ``abundance``, ``switch+abundance``, ``none``), ``n_transcripts_up, n_transcripts_down``,
        ``switch_up_feature, switch_up_qvalue, switch_up_delta_usage`` and the same for ``down`` (the
        significant transcript each way with the largest usage change), ``gene_name``, ``n_features``,
        ``switch_strength``, ``top_positive_feature``, ``top_negative_feature`` (the gene's
        transcript-usage features with the largest and smallest r, whether or not significant),
        ``switch_description`` (a called switch in words; None otherwise), and any annotation columns.
    transcript_polarity_table : DataFrame
        One row per module feature, sorted by the gene's ``switch_strength`` (descending), then gene,
        then r (descending). Columns: ``feature_id, gene_id, r, pvalue, qvalue, n_samples,
        missing_fraction, switch_strength`` (max r - min r over the gene's transcript-usage features
        with finite r; 0 with fewer than 2), then ``delta_usage`` (transcript usage: mean in high- minus
        low-module samples, IsoformSwitchAnalyzeR's dIF; NaN for other features), ``ci_low, ci_high,
        direction`` (the sign of r in
        words: "used more in high-module samples" / "used more in low-module samples"), ``feature_type,
        transcript_id, gene_name, exon_id, event_id, source_coordinate`` and annotation columns.
    high_vs_low_table : DataFrame
        One row per module feature, sorted by p-value (NaN last). Columns: ``feature_id, gene_id,
        mean_high, mean_low, delta`` (mean_high - mean_low), ``se, tstat`` (Welch; positive = used more
        in high-module samples), ``pvalue, n_high, n_low`` (finite values per group),
        ``missing_fraction`` (over the high and low samples), then ``qvalue, df, delta_usage`` (= delta
        for transcript usage, NaN otherwise), ``feature_type, transcript_id, gene_name`` and annotation
        columns.
    eigengene : Series
        Eigengene over the samples used (index ``sample_id``).
    sample_ids : list of str
        Samples used (sorted intersection of fit, feature table and module score table).
    eigengene_source : str
        ``"pc1"``, ``"aligned_mean"`` or ``"module_score_table"``.
    variance_explained : float or None
        Of the computed eigengene (None for a module score table).
    high_samples, low_samples : list of str
        The two groups of the high-vs-low contrast.
    vae_drivers : DataFrame or None
        With ``vae_attribution``: see :func:`isograph.explain.attribution.vae_drivers`.
    ig_attributions : DataFrame or None
        With ``integrated_gradients``: see :func:`isograph.explain.attribution.integrated_gradients`.
    files : dict
        Paths written (empty without ``output_dir``).
    """

    module_id: str
    gene_driver_table: pd.DataFrame
    transcript_polarity_table: pd.DataFrame
    high_vs_low_table: pd.DataFrame
    eigengene: pd.Series
    sample_ids: list[str]
    eigengene_source: str
    variance_explained: float | None
    high_samples: list[str]
    low_samples: list[str]
    config: ExplainConfig = field(default_factory=ExplainConfig)
    vae_drivers: pd.DataFrame | None = None
    ig_attributions: pd.DataFrame | None = None
    files: dict[str, str] = field(default_factory=dict)


def memory_budget_bytes(config: ExplainConfig) -> int:
    """The memory budget of ``config`` in bytes (a quarter of physical RAM when unset).

    Parameters
    ----------
    config : ExplainConfig

    Returns
    -------
    int
    """
    if config.memory_budget is not None:
        return int(float(config.memory_budget) * 2**30)
    import psutil

    return int(psutil.virtual_memory().total // 4)

"""``explain_module``: the Python API of ``isograph explain-module`` (the manual's ``isograph.explain``).

For each module it computes the module eigengene, correlates every module gene's feature-score row and
every module feature (transcript usage, exon, event ...) with it, contrasts high- and low-module samples,
and writes the three tables plus a shared manifest. Modules run on a thread pool (numpy releases the GIL).
"""

from __future__ import annotations

import contextlib
import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pandas as pd
from threadpoolctl import threadpool_limits

from isograph.dataset.artifacts import (
    FitArtifacts,
    load_annotation_table,
    load_feature_meta,
    load_feature_table,
    load_fit_artifacts,
    load_module_score_table,
    resolve_module_ids,
)
from isograph.dataset.explain_store import ExplainStore
from isograph.dataset.matrix import is_matrix, open_matrix
from isograph.errors import InputError, warn
from isograph.explain.contracts import ExplainConfig, ExplainResult, memory_budget_bytes
from isograph.explain.kernel import PreparedInputs, explain_one, merge_annotations, n_workers
from isograph.explain.writers import manifest_fields, module_tables, source_name, write_outputs

__all__ = ["explain_module"]


def _attribute(fit: FitArtifacts, results: dict[str, ExplainResult], config: ExplainConfig) -> None:
    """Add decoder-attribution and/or Integrated-Gradients tables to every result (torch loaded here)."""
    from isograph.explain.attribution import choose_latent, integrated_gradients, prepare_attribution, vae_drivers

    inputs = prepare_attribution(fit)
    for mid, res in results.items():
        genes = fit.module_genes(mid)
        if config.vae_attribution:
            res.vae_drivers = vae_drivers(inputs, genes, res.gene_driver_table, res.eigengene, eps=config.vae_eps,
                                          fdr_threshold=config.vae_fdr_threshold,
                                          percentile_threshold=config.vae_percentile_threshold)
        if config.integrated_gradients:
            pos = pd.Index(inputs.sample_ids).get_indexer(res.eigengene.index)
            k, _ = choose_latent(inputs.mu[pos], res.eigengene.to_numpy())
            table, _ = integrated_gradients(inputs, k, baseline=config.ig_baseline, n_steps=config.ig_n_steps,
                                            sample_ids=list(res.eigengene.index))
            table.insert(3, "in_module", table["gene_id"].isin(genes).to_numpy())
            res.ig_attributions = table


def explain_module(
    artifact_dir: str | os.PathLike | FitArtifacts,
    feature_table: pd.DataFrame | str | os.PathLike,
    feature_meta: pd.DataFrame | str | os.PathLike,
    module_ids: list[str] | None = None,
    config: ExplainConfig | None = None,
    output_dir: str | os.PathLike | None = None,
    module_score_table: pd.DataFrame | str | os.PathLike | None = None,
    annotation_table: pd.DataFrame | str | os.PathLike | None = None,
) -> dict[str, ExplainResult]:
    """Explain the modules of a fit by their gene and transcript drivers.

    Parameters
    ----------
    artifact_dir : path or FitArtifacts
        IsoGraph fit directory (``modules.parquet``, ``feature_scores.parquet``).
    feature_table : DataFrame or path
        Samples x features (index or ``sample_id`` column): parquet, TSV, CSV or ``.h5ad``, read whole; or a
        ``.matrix`` folder, never read whole: each module's features are streamed from it in blocks within
        ``config.memory_budget`` (results identical to the in-memory path).
    feature_meta : DataFrame or path
        ``feature_id, gene_id, feature_type`` (+ optional ``gene_name, transcript_id, exon_id,
        event_id, source_coordinate``).
    module_ids : list of str, optional
        Modules to explain (default: all).
    config : ExplainConfig, optional
        Options (default ``ExplainConfig()``).
    output_dir : path, optional
        When given, writes ``{output_dir}/{module_id}/{gene_driver_table, transcript_polarity_table,
        high_vs_low_table, module_eigengene}.parquet`` and ``{output_dir}/module_explanation_manifest.json``
        (each file to a temporary name, then renamed; the manifest last).
    module_score_table : DataFrame or path, optional
        Samples x modules precomputed eigengenes; overrides the computed eigengene.
    annotation_table : DataFrame or path, optional
        Labels keyed by ``feature_id``, ``transcript_id`` (joined to the feature tables) or ``gene_id``
        (joined to all three tables), e.g. from ``isograph annotate-structure``.

    Returns
    -------
    dict of str to ExplainResult
        One result per module, in the order asked for. See :class:`ExplainResult` for every column.

    Raises
    ------
    InputError
        Any violated data contract (missing file/column, duplicate IDs, non-numeric values, unknown
        module, < 10 shared samples, a module without transcript_usage features, bad options).

    Warns
    -----
    InputWarning
        Dropped samples, feature-table columns without metadata, missing optional meta columns.

    Examples
    --------
    >>> import tempfile
    >>> from isograph.simulate import SimulationConfig, simulate, write_simulation
    >>> from isograph.explain import explain_module
    >>> sim = simulate(SimulationConfig(n_samples=40, n_modules=2, seed=3))
    >>> with tempfile.TemporaryDirectory() as d:
    ...     _ = write_simulation(sim, d)
    ...     res = explain_module(f"{d}/oracle_fit", sim.feature_table, sim.feature_meta, module_ids=["M001"])
    >>> list(res), list(res["M001"].gene_driver_table.columns[:6])
    (['M001'], ['gene_id', 'r', 'pvalue', 'qvalue', 'n_samples', 'missing_fraction'])
    """
    config = config or ExplainConfig()
    config.validate()
    fit = artifact_dir if isinstance(artifact_dir, FitArtifacts) else load_fit_artifacts(artifact_dir)
    streamed = isinstance(feature_table, (str, os.PathLike)) and is_matrix(feature_table)
    table = open_matrix(feature_table) if streamed else load_feature_table(feature_table)  # a .matrix: never whole
    meta = load_feature_meta(feature_meta)
    ids = resolve_module_ids(fit, module_ids)
    score_table = load_module_score_table(module_score_table) if module_score_table is not None else None
    annotation = load_annotation_table(annotation_table) if annotation_table is not None else None

    if score_table is not None:
        missing = [m for m in ids if m not in score_table.columns]
        if missing:
            raise InputError(
                f"{source_name(module_score_table, 'module score table')}: no column for module(s)"
                f" {', '.join(missing)}; it has {', '.join(map(str, score_table.columns[:10]))}"
            )

    workers = n_workers(len(ids))
    # each worker holds one block of features and about five temporaries of its size
    prep = PreparedInputs(fit, table, meta, score_table, block_bytes=memory_budget_bytes(config) // (6 * workers))
    meta_name = source_name(feature_meta, "feature meta")
    # the tables are final when they are computed unless annotation or attribution add to them: then each
    # module is written by its worker while the others are computed (folder locked, committed as a unit)
    written_early = output_dir is not None and annotation is None and not (
        config.vae_attribution or config.integrated_gradients)
    with ExplainStore(output_dir).writer() if written_early else contextlib.nullcontext() as staged:

        def one(module_id: str) -> ExplainResult:
            result = explain_one(prep, module_id, config, meta_name)
            if staged is not None:
                result.files = staged.add(module_id, module_tables(result))
            return result

        # modules run on `workers` threads (numpy and pyarrow release the GIL); BLAS is kept to one thread
        # per worker so that the threads do not oversubscribe the cores
        with threadpool_limits(limits=1 if workers > 1 else None, user_api="blas"), \
                ThreadPoolExecutor(max_workers=workers) as pool:
            futures = [pool.submit(one, mid) for mid in ids]
            results = {mid: future.result() for mid, future in zip(ids, futures)}
        if staged is not None:
            staged.finish(*manifest_fields(results, config, fit, feature_table, feature_meta, module_score_table,
                                           annotation_table, prep))
    if written_early:
        return results

    if config.vae_attribution or config.integrated_gradients:
        _attribute(fit, results, config)

    if annotation is not None:
        ann, key = annotation
        targets = ["transcript_polarity_table", "high_vs_low_table"]
        targets += ["gene_driver_table"] if key == "gene_id" else []
        matched = 0
        for res in results.values():
            for name in targets:
                merged, n = merge_annotations(getattr(res, name), ann, key)
                setattr(res, name, merged)
                matched += n
        if not matched:
            warn(f"{source_name(annotation_table, 'annotation table')}: none of its {key} values match a"
                 " feature of the explained modules; annotation columns are empty")

    if output_dir is not None:
        write_outputs(results, Path(output_dir), config, fit, feature_table, feature_meta,
                       module_score_table, annotation_table, prep)
    return results

"""``isograph sae ...``: the Hidden-State-Genomics workflows (embed, train, kg, enrich, intervene, train-lm,
probe-lm, variants).

Each subcommand is a thin call into :mod:`isograph.sae`; errors are one line and exit status 2 (see
:mod:`cli`). File names follow the seed's conventions: SAE checkpoints under
``{sae_dir}/ef{N}/layer_{idx}/``, graphs ``{dataset}_kg.json``, intervention reports under
``intervention_reports/feature_{id}/``, gene sets under ``{dataset}_gene_sets/enrich_{feature}/``.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import pandas as pd

from isograph.cli.common import add_batch_arguments, run_batch_command
from isograph.cli.config_args import add_config_arguments, config_from_args
from isograph.errors import InputError
from isograph.sae.model import SAEConfig
from isograph.sae.train_lm import LMConfig

__all__ = ["add_sae"]


def _progress(prog: str):
    def report(fraction: float, message: str, *_rest) -> None:
        print(f"isograph sae {prog}: [{fraction:4.0%}] {message}", file=sys.stderr, flush=True)
    return report


def _sequences(args: argparse.Namespace):
    from isograph.sae.kg_files import sequence_table

    return sequence_table(args.input, getattr(args, "negative", None), allow_iupac=args.allow_iupac,
                          tile=args.tile, tile_stride=args.tile_stride)


def _add_sequence_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--input", required=True, metavar="FASTA", help="sequences (FASTA, .gz allowed)")
    p.add_argument("--negative", metavar="FASTA", help="a second set (the input is then the 'positive' set)")
    p.add_argument("--tile", type=int, metavar="BP", help="cut sequences into windows of BP bases")
    p.add_argument("--tile-stride", type=int, metavar="BP", help="bases between windows (default: the window)")
    p.add_argument("--allow-iupac", action="store_true", help="turn IUPAC ambiguity codes into N")


def _add_model_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--model-name", "--model", dest="model", required=True, metavar="DIR",
                   help="local masked-LM folder or a model already in the Hugging Face cache (never downloaded)")
    p.add_argument("--layer-idx", type=int, default=23, metavar="L", help="hidden_states[L] (default 23)")


def _run_embed(args: argparse.Namespace) -> int:
    from isograph.sae.embed import embed_sequences, save_activations
    from isograph.sae.lm import load_masked_lm

    lm = load_masked_lm(args.model)
    acts = embed_sequences(lm, _sequences(args), [args.layer_idx], batch_size=args.batch_size,
                           progress=_progress("embed"))
    save_activations(acts, args.output)
    print(f"isograph sae embed: {len(acts.tokens):,} tokens, layer {args.layer_idx}, {acts.seconds:.1f} s"
          f" ({len(acts.tokens) / max(acts.seconds, 1e-9):,.0f} tokens/s)", file=sys.stderr)
    print(args.output)
    return 0


def _run_train(args: argparse.Namespace) -> int:
    from isograph.sae.embed import embed_sequences, load_activations
    from isograph.sae.lm import load_masked_lm
    from isograph.sae.model import train_sae

    if args.activations:
        values = load_activations(args.activations, [args.layer_idx]).layer(args.layer_idx)
    else:
        if not (args.model and args.input):
            from isograph.errors import InputError

            raise InputError("give --activations DIR (from `isograph sae embed`), or --model-name and --input")
        lm = load_masked_lm(args.model)
        values = embed_sequences(lm, _sequences(args), [args.layer_idx]).layer(args.layer_idx)
    config = config_from_args(SAEConfig, args)
    result = train_sae(values, config, layer_idx=args.layer_idx, sae_dir=args.sae_dir, progress=_progress("train"))
    best = result.metrics[result.best_epoch - 1]
    print(f"isograph sae train: best epoch {result.best_epoch}: FVU {best['val_fvu']:.3f}, L0 {best['l0']:.1f},"
          f" dead {best['dead_fraction']:.1%}; {result.tokens_per_second:,.0f} tokens/s", file=sys.stderr)
    print(result.path)
    return 0


def _load_gtf_rows(path: str | None):
    if not path:
        return None
    from isograph.structure.gtf import read_gtf

    return read_gtf(path)


def _run_kg(args: argparse.Namespace) -> int:
    from isograph.sae.kg_files import write_knowledge_graph
    from isograph.sae.lm import load_masked_lm
    from isograph.sae.model import checkpoint_dir, load_sae

    lm = load_masked_lm(args.model)
    sae, _config = load_sae(args.sae or checkpoint_dir(args.sae_dir, args.expansion_factor, args.layer_idx))
    output = Path(args.output or f"{Path(args.input).name.split('.')[0]}_kg.json")
    summary = write_knowledge_graph(lm, sae, _sequences(args), layer_idx=args.layer_idx,
                                    expansion_factor=args.expansion_factor, output=output, threshold=args.threshold,
                                    gtf_rows=_load_gtf_rows(args.gtf), contrast=bool(args.negative),
                                    progress=_progress("kg"))
    print(f"isograph sae kg: {summary['edges']:,} token edges; top features by PageRank: {summary['top_features']}",
          file=sys.stderr)
    print(output)
    return 0


def _run_enrich(args: argparse.Namespace) -> int:
    from isograph.dataset.io import write_parquet, write_tsv
    from isograph.errors import InputError
    from isograph.sae.go import edge_genes, enrich, load_gene_ontology

    edges = pd.read_parquet(args.edges)
    if "genes" not in edges or "feature" not in edges:
        raise InputError(f"{args.edges}: needs the columns feature and genes (from `isograph sae kg`)")
    genes_of = edge_genes(edges)
    background = genes_of["gene"].unique()
    ontology = load_gene_ontology()
    out_root = Path(args.output_dir or f"{Path(args.edges).name.split('_kg')[0].split('.')[0]}_gene_sets")
    features = args.feature or genes_of["feature"].value_counts().head(args.top).index.tolist()
    for feat in features:
        table = enrich(genes_of.loc[genes_of["feature"] == int(feat), "gene"].unique(), background, ontology,
                       min_genes=args.min_genes)
        folder = out_root / f"enrich_{int(feat)}"
        write_parquet(table, folder / "go_enrichment.parquet")
        write_tsv(table.head(200), folder / "go_enrichment.tsv")
        best = table.iloc[0] if len(table) else None
        print(f"isograph sae enrich: feature {feat}: {(table['qvalue'] < 0.05).sum()} GO terms at q < 0.05"
              + (f"; best {best['go_id']} {best['term']} (q {best['qvalue']:.2g})" if best is not None else ""),
              file=sys.stderr)
    print(out_root)
    return 0


def _run_intervene(args: argparse.Namespace) -> int:
    if args.grid:
        return _run_intervene_grid(args)
    for flag, values in (("--feature", args.feature), ("--min-act", args.min_act), ("--act-factor", args.act_factor)):
        if len(values) > 1:
            raise InputError(f"{flag} has {len(values)} values; give --grid to run every combination of --feature,"
                             " --min-act and --act-factor")
    from isograph.sae.intervention_report import write_intervention_report
    from isograph.sae.lm import load_masked_lm
    from isograph.sae.model import checkpoint_dir, load_sae

    lm = load_masked_lm(args.model)
    sae, _config = load_sae(args.sae or checkpoint_dir(args.sae_dir, args.expansion_factor, args.layer_idx))
    feature = args.feature[0]
    folder = Path(args.output_dir) / f"feature_{feature}"
    summary = write_intervention_report(lm, sae, _sequences(args).head(args.max_sequences), layer_idx=args.layer_idx,
                                        feature=feature, delta=args.min_act[0], alpha=args.act_factor[0],
                                        folder=folder, label=f"ef{args.expansion_factor}")
    print(f"isograph sae intervene: mean KL {summary['mean_kl']:.4g}, {summary['top_changed']} of"
          f" {summary['tokens']} top tokens changed", file=sys.stderr)
    print(folder)
    return 0


def _run_intervene_grid(args: argparse.Namespace) -> int:
    """Every feature x delta x alpha as one batch task; resumable through {output_dir}/tasks.tsv."""
    import itertools

    from isograph.batch import Task
    from isograph.sae.model import checkpoint_dir

    if args.tile or args.negative:
        raise InputError("--grid runs on the --input sequences as they are: leave out --tile and --negative")
    sae = Path(args.sae or checkpoint_dir(args.sae_dir, args.expansion_factor, args.layer_idx)).resolve()
    out = Path(args.output_dir).resolve()
    base = {"model": str(Path(args.model).resolve()), "sae": str(sae), "input": str(Path(args.input).resolve()),
            "layer_idx": args.layer_idx, "max_sequences": args.max_sequences, "allow_iupac": args.allow_iupac,
            "label": f"ef{args.expansion_factor}"}
    tasks = [Task(f"feature_{f}/delta_{d:g}_alpha_{a:g}", "sae.intervene",
                  {**base, "feature": f, "delta": d, "alpha": a,
                   "output": str(out / f"feature_{f}" / f"delta_{d:g}_alpha_{a:g}")})
             for f, d, a in itertools.product(dict.fromkeys(args.feature), dict.fromkeys(args.min_act),
                                              dict.fromkeys(args.act_factor))]
    return run_batch_command("isograph sae intervene --grid", tasks, out / "tasks.tsv", args, what="intervention grid",
                             columns=["mean_kl", "max_kl", "top_changed", "tokens"])


def _run_batch(args: argparse.Namespace) -> int:
    """Every row of the manifest (a FASTA file, or a pair of sets) -> its knowledge graph, as one batch task."""
    from isograph.batch import Task
    from isograph.batch.manifest import read_input_table
    from isograph.sae.model import checkpoint_dir

    rows = read_input_table(args.manifest, flag="--manifest", required=("input",), optional=("negative",))
    sae = Path(args.sae or checkpoint_dir(args.sae_dir, args.expansion_factor, args.layer_idx)).resolve()
    out = Path(args.output_dir).resolve()
    gtf = str(Path(args.gtf).resolve()) if args.gtf else None
    base = {"model": str(Path(args.model).resolve()), "sae": str(sae), "layer_idx": args.layer_idx,
            "expansion_factor": args.expansion_factor, "threshold": args.threshold, "gtf": gtf,
            "allow_iupac": args.allow_iupac, "tile": args.tile, "tile_stride": args.tile_stride}
    tasks = [Task(name, "sae.kg", {**base, "input": paths["input"], "negative": paths.get("negative"),
                                   "output": str(out / name / f"{name}_kg.json")}) for name, paths in rows]
    return run_batch_command("isograph sae batch", tasks, out / "tasks.tsv", args, what="knowledge graphs",
                             columns=["sequences", "edges", "features"])


def _probe(lm, train, test, models, layers, seed, max_tokens) -> list[dict]:
    from isograph.sae.probe import region_probe

    probes = [region_probe(lm, train, test, models, layer=layer, seed=seed, max_tokens=max_tokens) for layer in layers]
    for probe in probes:
        print(f"isograph sae: CDS-vs-UTR probe AUC, layer {probe['layer']}: hidden states {probe['auc_hidden']:.3f},"
              f" bag of 6-mers {probe['auc_kmer_bag']:.3f}", file=sys.stderr)
    return probes


def _transcripts_with_genes(fasta: str, gtf: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    from isograph.sae.sequences import read_fasta
    from isograph.structure.cache import load_transcript_models

    models = load_transcript_models(gtf).models
    sequences = read_fasta(fasta)
    genes = models.set_index("transcript_id")["gene_id"]
    return sequences.assign(gene_id=sequences["seq_id"].map(genes).fillna(sequences["seq_id"])), models


def _run_probe_lm(args: argparse.Namespace) -> int:
    from isograph.dataset.io import write_json
    from isograph.sae.lm import load_masked_lm
    from isograph.sae.train_lm import split_held_out

    report_path = Path(args.model) / "training.json"
    report = json.loads(report_path.read_text()) if report_path.exists() else {}
    config = report.get("config", {})
    fraction = args.validation_fraction if args.validation_fraction is not None else config.get("validation_fraction")
    if not fraction:
        raise InputError(f"{args.model}: no held-out split recorded in training.json; give --validation-fraction")
    sequences, models = _transcripts_with_genes(args.input, args.gtf)
    train, test = split_held_out(sequences, fraction, config.get("seed", 0))
    probes = _probe(load_masked_lm(args.model), train, test, models, args.layers, config.get("seed", 0),
                    args.probe_tokens)
    if report:
        write_json({**report, "probe": probes}, report_path)
    print(json.dumps({"model": str(args.model), "probe": probes}))
    return 0


def _run_variants(args: argparse.Namespace) -> int:
    from isograph.dataset.io import write_parquet
    from isograph.sae.lm import load_masked_lm
    from isograph.sae.model import checkpoint_dir, load_sae
    from isograph.sae.sequences import read_fasta
    from isograph.sae.variants import (
        hgvs_to_variant,
        read_hgvs_file,
        read_vcf,
        variant_effects,
        variant_windows,
        vcf_to_variants,
    )
    from isograph.structure.cache import load_transcript_models

    if bool(args.hgvs) == bool(args.vcf):
        raise InputError("give the variants as --hgvs FILE or as --vcf FILE (one of them)")
    if args.flank < 0:
        raise InputError(f"--flank {args.flank}: the bases kept on each side of a change must be 0 or more")
    models = load_transcript_models(args.gtf).models
    fasta = read_fasta(args.fasta)
    sequences = dict(zip(fasta["seq_id"], fasta["sequence"]))
    if args.hgvs:
        table = pd.DataFrame([v.__dict__ for v in (hgvs_to_variant(t, sequences, models)
                                                   for t in read_hgvs_file(args.hgvs))]).assign(status="ok")
    else:
        table = vcf_to_variants(read_vcf(args.vcf), sequences, models)
        if table.empty:
            raise InputError(f"{args.vcf}: no record lies in the exons of a transcript of {args.gtf}")
    windows = variant_windows(table[table["status"] == "ok"], sequences, flank=args.flank)
    lm = load_masked_lm(args.model)
    sae, _config = load_sae(args.sae or checkpoint_dir(args.sae_dir, args.expansion_factor, args.layer_idx))
    features, tokens = variant_effects(lm, sae, windows, layer=args.layer_idx, top=args.top)
    out = Path(args.output_dir)
    write_parquet(table.merge(windows[["name", "transcript_id", "offset", "ref_window", "alt_window"]],
                              on=["name", "transcript_id"], how="left"), out / "variants.parquet")
    write_parquet(features, out / "feature_deltas.parquet")
    write_parquet(tokens, out / "token_effects.parquet")
    print(f"isograph sae variants: {len(windows)} variant window pair(s) of {len(table)} mapped;"
          f" {(table['status'] != 'ok').sum()} skipped (status in variants.parquet)", file=sys.stderr)
    print(out)
    return 0


def _run_train_lm(args: argparse.Namespace) -> int:
    from isograph.dataset.io import write_json
    from isograph.sae.lm import load_masked_lm
    from isograph.sae.sequences import read_fasta
    from isograph.sae.train_lm import split_held_out, train_masked_lm

    config = config_from_args(LMConfig, args)
    models = None
    if args.gtf:  # genes of the transcripts: the held-out split keeps genes whole, and the probe has labels
        sequences, models = _transcripts_with_genes(args.input, args.gtf)
    else:
        sequences = read_fasta(args.input)
    report = train_masked_lm(sequences, args.output, config, progress=_progress("train-lm"))
    last = report["history"][-1]
    print(f"isograph sae train-lm: {report['n_windows']} windows, {report['steps']} steps, training loss"
          f" {last['loss']:.3f}, {report['seconds']:.0f} s", file=sys.stderr)
    held = report.get("held_out")
    if held:
        print(f"isograph sae train-lm: held-out masked-token loss {held['loss']:.3f} nats (6-mer frequencies"
              f" {held['loss_kmer_frequency']:.3f}, uniform {held['loss_uniform']:.3f}) over {held['n_tokens']:,}"
              " tokens", file=sys.stderr)
        if models is not None and args.probe_layers:
            train, test = split_held_out(sequences, config.validation_fraction, config.seed)
            report["probe"] = _probe(load_masked_lm(args.output), train, test, models, args.probe_layers, config.seed,
                                     args.probe_tokens)
            write_json(report, Path(args.output) / "training.json")
    print(json.dumps({"model": report["out_dir"]}))
    return 0


def add_sae(sub: argparse._SubParsersAction, parser_class: type[argparse.ArgumentParser]) -> None:
    """Add ``isograph sae`` and its subcommands.

    Parameters
    ----------
    sub : argparse subparsers
    parser_class : type
        The parser class of the subcommands (one-line errors, exit 2).
    """
    sae = sub.add_parser("sae", help="DNA language-model SAE features: embed, train, kg, enrich, intervene, train-lm",
                         description="The Hidden-State-Genomics workflows, offline.")
    cmds = sae.add_subparsers(dest="sae_command", required=True, metavar="STEP", parser_class=parser_class)

    p = cmds.add_parser("embed", help="hidden states of every token, cached to a folder")
    _add_sequence_args(p)
    _add_model_args(p)
    p.add_argument("--output", required=True, metavar="DIR")
    p.add_argument("--batch-size", type=int, default=16)
    p.set_defaults(run=_run_embed)

    p = cmds.add_parser("train", help="train a sparse autoencoder on one layer's hidden states")
    p.add_argument("--activations", metavar="DIR", help="from `isograph sae embed`")
    p.add_argument("--input", metavar="FASTA", help="or embed these sequences first (with --model-name)")
    p.add_argument("--negative", help=argparse.SUPPRESS)
    p.add_argument("--tile", type=int, metavar="BP")
    p.add_argument("--tile-stride", type=int, metavar="BP")
    p.add_argument("--allow-iupac", action="store_true")
    p.add_argument("--model-name", "--model", dest="model", metavar="DIR")
    p.add_argument("--layer-idx", type=int, default=23, metavar="L")
    add_config_arguments(p, SAEConfig, flags={"l1_coefficient": ("--l1", "--l1-coefficient")})
    p.add_argument("--sae-dir", default="checkpoints", metavar="DIR", help="default checkpoints/")
    p.set_defaults(run=_run_train)

    for name, helptext, run in (("kg", "build the token/sequence -> feature knowledge graph", _run_kg),
                                ("intervene", "edit one feature and measure the masked-LM output", _run_intervene)):
        p = cmds.add_parser(name, help=helptext)
        _add_sequence_args(p)
        _add_model_args(p)
        p.add_argument("--expansion-factor", type=int, default=8, choices=[8, 16, 32])
        p.add_argument("--sae-dir", default="checkpoints", metavar="DIR")
        p.add_argument("--sae", metavar="DIR", help="the SAE folder (default {sae-dir}/ef{N}/layer_{L})")
        if name == "kg":
            p.add_argument("--output", metavar="JSON", help="default {input name}_kg.json")
            p.add_argument("--threshold", type=float, default=0.0, help="strongest activation must exceed this")
            p.add_argument("--gtf", metavar="GTF", help="annotate tokens with the GTF rows and genes they overlap")
        else:
            p.add_argument("--feature", type=int, required=True, nargs="+", help="the feature (with --grid: several)")
            p.add_argument("--min-act", type=float, default=[0.1], nargs="+", metavar="DELTA",
                           help="floor of the edited feature (with --grid: several)")
            p.add_argument("--act-factor", type=float, default=[10.0], nargs="+", metavar="ALPHA",
                           help="edited feature x ALPHA, others x 1/ALPHA (0 ablates the others; with --grid: several)")
            p.add_argument("--max-sequences", type=int, default=20)
            p.add_argument("--output-dir", default="intervention_reports", metavar="DIR")
            p.add_argument("--grid", action="store_true",
                           help="every --feature x --min-act x --act-factor as one task, resumable: a re-run skips the"
                                " tasks {output-dir}/tasks.tsv records as done")
            add_batch_arguments(p, when="--grid: ")
        p.set_defaults(run=run)

    p = cmds.add_parser("batch", help="many FASTA files -> embeddings -> SAE features -> knowledge graphs, resumable")
    p.add_argument("--manifest", required=True, metavar="TSV",
                   help="one row per task: name, input (FASTA) and optional negative (FASTA), tab-separated; paths"
                        " relative to the manifest")
    _add_model_args(p)
    p.add_argument("--expansion-factor", type=int, default=8, choices=[8, 16, 32])
    p.add_argument("--sae-dir", default="checkpoints", metavar="DIR")
    p.add_argument("--sae", metavar="DIR", help="the SAE folder (default {sae-dir}/ef{N}/layer_{L})")
    p.add_argument("--threshold", type=float, default=0.0, help="strongest activation must exceed this")
    p.add_argument("--gtf", metavar="GTF", help="annotate tokens with the GTF rows and genes they overlap")
    p.add_argument("--tile", type=int, metavar="BP", help="cut sequences into windows of BP bases")
    p.add_argument("--tile-stride", type=int, metavar="BP", help="bases between windows (default: the window)")
    p.add_argument("--allow-iupac", action="store_true", help="turn IUPAC ambiguity codes into N")
    p.add_argument("--output-dir", default="batch_kg", metavar="DIR",
                   help="{name}/{name}_kg.json (+ tables) per row, and tasks.tsv (default batch_kg)")
    add_batch_arguments(p)
    p.set_defaults(run=_run_batch)

    p = cmds.add_parser("enrich", help="GO enrichment of the genes of each feature's tokens")
    p.add_argument("--edges", required=True, metavar="PARQUET", help="{dataset}_kg_edges.parquet from `sae kg`")
    p.add_argument("--feature", type=int, nargs="+", help="features (default: the --top most frequent)")
    p.add_argument("--top", type=int, default=10)
    p.add_argument("--min-genes", type=int, default=3)
    p.add_argument("--output-dir", metavar="DIR", help="default {dataset}_gene_sets/")
    p.set_defaults(run=_run_enrich)

    p = cmds.add_parser("train-lm", help="train the project's small DNA masked LM on FASTA sequences")
    p.add_argument("--input", required=True, metavar="FASTA")
    p.add_argument("--output", required=True, metavar="DIR")
    p.add_argument("--gtf", metavar="GTF", help="transcript models of the FASTA's transcripts: held-out sequences are"
                   " whole genes, and the CDS-vs-UTR probe is run on them")
    p.add_argument("--probe-layers", type=int, nargs="*", default=[], metavar="L",
                   help="hidden-state layers to probe (CDS vs UTR; with --gtf and --validation-fraction > 0)")
    p.add_argument("--probe-tokens", type=int, default=20_000, metavar="N",
                   help="tokens per side (training, held-out) the probe uses (default 20000)")
    add_config_arguments(p, LMConfig, flags={"n_layers": ("--layers", "--n-layers"), "n_heads": ("--heads", "--n-heads")})
    p.set_defaults(run=_run_train_lm)

    p = cmds.add_parser("variants", help="reference vs alternate windows of HGVS or VCF variants: feature deltas, KL")
    p.add_argument("--hgvs", metavar="FILE", help="HGVS c./n. descriptions, one per line (TRANSCRIPT:c.76A>T)")
    p.add_argument("--vcf", metavar="FILE", help="VCF records (plain or gzip), mapped onto the GTF's transcripts")
    p.add_argument("--gtf", required=True, metavar="GTF")
    p.add_argument("--fasta", required=True, metavar="FASTA", help="transcript sequences (IDs = GTF transcript_id)")
    p.add_argument("--model-name", "--model", dest="model", required=True, metavar="DIR")
    p.add_argument("--layer-idx", type=int, required=True, metavar="L")
    p.add_argument("--expansion-factor", type=int, default=8)
    p.add_argument("--sae-dir", default="checkpoints", metavar="DIR")
    p.add_argument("--sae", metavar="DIR", help="the SAE folder (default {sae-dir}/ef{N}/layer_{L})")
    p.add_argument("--flank", type=int, default=150, metavar="BP", help="bases kept on each side of the change")
    p.add_argument("--top", type=int, default=10, help="features kept per variant, by |change|")
    p.add_argument("--output-dir", default="variant_reports", metavar="DIR")
    p.set_defaults(run=_run_variants)

    p = cmds.add_parser("probe-lm", help="CDS-vs-UTR linear probe of a model's hidden states on held-out transcripts")
    p.add_argument("--model", required=True, metavar="DIR", help="a local masked LM folder (its training.json, when"
                   " there is one, gives the held-out split and gets the result)")
    p.add_argument("--input", required=True, metavar="FASTA", help="transcript sequences (IDs = GTF transcript_id)")
    p.add_argument("--gtf", required=True, metavar="GTF")
    p.add_argument("--layers", type=int, nargs="+", required=True, metavar="L", help="hidden-state layers to probe")
    p.add_argument("--validation-fraction", type=float, metavar="X",
                   help="genes held out (default: the model's training split)")
    p.add_argument("--probe-tokens", type=int, default=20_000, metavar="N",
                   help="tokens per side (training, held-out) the probe uses (default 20000)")
    p.set_defaults(run=_run_probe_lm)

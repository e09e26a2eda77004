"""The ``isograph`` flags: every flag of the first CLI is still there, and the flags derived from the config
dataclasses have the dataclass's types, defaults, choices and documented help, and build the config back."""

from __future__ import annotations

import argparse
import dataclasses

import pytest

from isograph.cli import build_parser
from isograph.cli.config_args import add_config_arguments, config_from_args, field_docs
from isograph.explain import ExplainConfig
from isograph.fit import DiscoveryConfig, FitConfig, VAEConfig
from isograph.sae import LMConfig, SAEConfig
from isograph.simulate import SimulationConfig

#: The flags of the CLI before they were derived from the config dataclasses (none may disappear).
FIRST_FLAGS = {
    "explain-module": "--annotation-table --artifact-dir --eigengene-method --feature-meta --feature-table"
                      " --ig-baseline --ig-n-steps --integrated-gradients --min-complete-pairs --module-ids"
                      " --module-score-table --output-dir --output-format --plot --split-percentile --vae-attribution"
                      " --vae-eps --vae-fdr-threshold --vae-percentile-threshold",
    "simulate": "--abundance-effect --confounder-strength --dispersion --gene-models --isoforms-per-gene"
                " --mean-gene-count --missing-fraction --module-fraction --n-genes --n-modules --n-samples --out"
                " --seed --switch-effect --switch-fraction",
    "fit": "--alpha --batch-size --channels --community --counts --covariates --device --gtf --hidden-dim"
           " --kl-warmup-epochs --latent-dim --learning-rate --max-epochs --min-matched-fraction --min-module-size"
           " --min-r2 --n-hidden-layers --n-neighbors --output-dir --patience --resolution --salmon-dir --seed"
           " --tx2gene",
    "demo": "--force --no-sae --out",
    "annotate-structure": "--gtf --gtf-cache --no-cache --output --pairs-output --strip-versions --switch-pairs",
    "make-switch-pairs": "--explain-dir --fdr --min-switch-strength --module-ids --output",
    "sae train": "--activations --input --tile --tile-stride --allow-iupac --model-name --model --layer-idx"
                 " --expansion-factor --l1 --top-k --epochs --batch-size --learning-rate --seed --sae-dir",
    "sae train-lm": "--input --output --hidden-size --layers --heads --window-tokens --epochs --max-seconds --seed",
}


def _subparser(path: str) -> argparse.ArgumentParser:
    parser = build_parser()
    for name in path.split():
        action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
        parser = action.choices[name]
    return parser


@pytest.mark.parametrize("command", sorted(FIRST_FLAGS))
def test_every_first_flag_is_kept(command):
    options = {s for a in _subparser(command)._actions for s in a.option_strings}
    assert set(FIRST_FLAGS[command].split()) <= options


@pytest.mark.parametrize("cls", [ExplainConfig, FitConfig, VAEConfig, DiscoveryConfig, SimulationConfig, SAEConfig,
                                 LMConfig])
def test_every_config_field_is_documented(cls):
    """Each field has an Attributes entry with a description, which becomes the flag's help."""
    docs = field_docs(cls)
    for f in dataclasses.fields(cls):
        assert f.name in docs and docs[f.name][1], f"{cls.__name__}.{f.name} has no description"


def test_derived_flags_have_the_dataclass_defaults_and_build_it_back():
    parser = argparse.ArgumentParser()
    add_config_arguments(parser, ExplainConfig)
    assert config_from_args(ExplainConfig, parser.parse_args([])) == ExplainConfig()
    args = parser.parse_args(["--split-percentile", "25", "--eigengene-method", "aligned_mean", "--vae-attribution",
                              "--ig-n-steps", "20"])
    assert config_from_args(ExplainConfig, args) == ExplainConfig(split_percentile=25.0, eigengene_method="aligned_mean",
                                                                 vae_attribution=True, ig_n_steps=20)
    with pytest.raises(SystemExit):  # choices come from the docstring's {"pc1", "aligned_mean"}
        parser.parse_args(["--eigengene-method", "mean"])


def test_renamed_tuple_optional_and_boolean_fields():
    sae = _subparser("sae train").parse_args(["--l1", "0.5", "--top-k", "8", "--no-normalize", "--input", "x.fa"])
    assert config_from_args(SAEConfig, sae) == SAEConfig(l1_coefficient=0.5, top_k=8, normalize=False)
    lm = _subparser("sae train-lm").parse_args(["--input", "x", "--output", "y", "--layers", "2", "--n-heads", "2"])
    assert (config_from_args(LMConfig, lm).n_layers, config_from_args(LMConfig, lm).n_heads) == (2, 2)
    fit = _subparser("fit").parse_args(["--counts", "c", "--tx2gene", "t", "--output-dir", "o", "--channels", "switch",
                                        "--latent-dim", "4", "--seed", "7"])
    config = config_from_args(FitConfig, fit, vae=config_from_args(VAEConfig, fit),
                              discovery=config_from_args(DiscoveryConfig, fit))
    assert config.channels == ("switch",) and config.vae.latent_dim == 4 and config.seed == 7
    simulate = _subparser("simulate").parse_args(["--out", "o"])
    assert config_from_args(SimulationConfig, simulate) == SimulationConfig()  # n_genes None stays None

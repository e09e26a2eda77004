"""The language-model card shown above every SAE view: what the model is and how well it does."""

from __future__ import annotations

import dash_bootstrap_components as dbc

from isograph.dataset.datasets import Dataset
from isograph.errors import InputError

__all__ = ["model_card"]


def model_card(ds: Dataset) -> dbc.Alert:
    """The data set's language model in words, from its training report (:func:`isograph.sae.train_lm.describe_model`)."""
    from isograph.sae.train_lm import describe_model

    try:
        words = describe_model(ds.sae.lm)
    except InputError as exc:
        words = f"Language model: {exc}"
    return dbc.Alert(words + " SAE features can only be as meaningful as the model's hidden states.", color="light",
                     className="small py-2", id="sae-model-card")

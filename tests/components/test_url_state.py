"""State in the URL: what a hand-edited query may hold is checked, every page's URL parameters are parameters of
its layout, and the layout rebuilds the view a URL names."""

from __future__ import annotations

import inspect
import json
from urllib.parse import unquote

import pytest

from components.layout import gene_href, module_href, path_id
from components.url_state import MAX_PARAMETER, choice, filter_model


def test_a_url_choice_outside_the_allowed_ones_falls_back_to_the_default():
    assert choice("abundance", ("switch", "abundance"), "switch") == "abundance"
    assert choice("ABUNDANCE", ("switch", "abundance"), "switch") == "switch"
    assert choice(None, ("switch",), "switch") == "switch"


def test_a_filter_model_from_the_url_keeps_only_the_tables_columns():
    model = {"gene_name": {"filterType": "text", "type": "contains", "filter": "ab"}, "nope": {"type": "x"}}
    assert filter_model(json.dumps(model), ["gene_name", "r"]) == {"gene_name": model["gene_name"]}
    for bad in ("{", "[1, 2]", '"text"', json.dumps({"gene_name": 3}), "x" * (MAX_PARAMETER + 1), "", None):
        assert filter_model(bad, ["gene_name"]) is None


@pytest.mark.parametrize("gene", ["XLOC_000145:CLCNKB", "ENSG01/2", "a b%c?d#e", "ABC"])
def test_ids_round_trip_through_a_path_segment(gene):
    url = gene_href(gene, module="M000")
    segment = url.split("?")[0].split("/genes/")[1]
    assert "/" not in segment and "?" not in segment and "#" not in segment and " " not in segment
    assert path_id(segment) == gene == unquote(segment)
    assert path_id(module_href(gene).split("/modules/")[1]) == gene


def test_every_page_reads_back_the_url_parameters_it_writes(tmp_path):
    from app import create_app

    (tmp_path / "root").mkdir()
    create_app({"data_root": tmp_path / "root", "cache_dir": str(tmp_path / "jobs")})  # the pages register with it
    from pages import gene, module, sae, samples, structure

    for page, stores in ((module, (module.URL_STATE, module.URL_STATE_GROUPS)), (samples, (samples.URL_STATE,)),
                         (sae, (sae.URL_STATE, sae.URL_STATE_CONCEPT)),
                         (structure, (structure.URL_STATE, structure.URL_STATE_FILTER)), (gene, (gene.URL_STATE,))):
        accepted = set(inspect.signature(inspect.unwrap(page.layout)).parameters)
        source = inspect.getsource(page)
        for store in stores:
            for name in store.data:
                assert name in accepted or f'query.get("{name}")' in source, f"{page.__name__} never reads {name}"

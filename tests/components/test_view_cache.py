"""Cached views: built once per page, parameters and data-set version; errors never cached; shared settings
of production processes through the environment."""

from __future__ import annotations

import json

import pytest
from dash import html

from components.production import settings_from_env, settings_to_env
from components.view_cache import cached_view
from isograph.explain import explain_module


@pytest.fixture
def app_on_small(small_dir, small_sim, tmp_path):
    from app import create_app

    root = tmp_path / "root"
    root.mkdir()
    ds = small_dir.rename(root / "small")
    explain_module(ds / "oracle_fit", small_sim.feature_table, small_sim.feature_meta, output_dir=ds / "explain")
    (ds / "dataset.json").write_text(json.dumps({"paths": {"fit": "oracle_fit"}}))
    app = create_app({"data_root": root, "cache_dir": str(tmp_path / "jobs")})
    return app, ds, small_sim


def test_a_view_is_built_once_per_data_set_version(app_on_small):
    app, folder, sim = app_on_small
    builds = []

    @cached_view
    def layout(module_id=None, dataset=None, **_query):
        builds.append(module_id)
        return html.Div([html.H3(f"Module {module_id}"), html.P(str(len(builds)))])

    first = layout(module_id="M000")
    again = layout(module_id="M000")
    assert builds == ["M000"]  # the second came from the cache
    assert again == json.loads(json.dumps(first.to_plotly_json(), default=lambda c: c.to_plotly_json()))
    layout(module_id="M001")
    layout(module_id="M000", extra="x")  # other URL parameters: another view
    assert builds == ["M000", "M001", "M000"]
    explain_module(folder / "oracle_fit", sim.feature_table, sim.feature_meta, module_ids=["M000"],
                   output_dir=folder / "explain")  # a new explain run: a new data-set version
    layout(module_id="M000")
    assert builds == ["M000", "M001", "M000", "M000"]
    app.server.config["ISOGRAPH"]["view_cache"] = False  # --no-view-cache
    layout(module_id="M000")
    assert len(builds) == 5


def test_a_cached_view_whose_table_was_evicted_is_built_again(app_on_small):
    from components.data_grid import data_grid, table_store

    app, _, sim = app_on_small
    frame = sim.feature_meta.head(30)
    builds = []

    @cached_view
    def layout(module_id=None, dataset=None, **_query):
        builds.append(module_id)
        return html.Div(data_grid("module-tx-table", frame, columns=list(frame.columns)))

    with app.server.app_context():
        layout(module_id="M000")
        layout(module_id="M000")
        assert len(builds) == 1
        tables = table_store(app.server.config["ISOGRAPH"])
        tables._cache.clear()  # evicted by the table store's size limit
        layout(module_id="M000")
        assert len(builds) == 2 and len(tables._cache) == 1  # built, and its table stored, again


def test_error_pages_are_not_cached(app_on_small):
    from components.layout import alert

    builds = []

    @cached_view
    def layout(module_id=None, dataset=None, **_query):
        builds.append(module_id)
        return alert(f"module {module_id!r} is not in this data set")

    layout(module_id="M9")
    layout(module_id="M9")
    assert builds == ["M9", "M9"]
    layout(module_id="M0", dataset="no-such-set")  # the data set cannot be opened: built (and shows why)
    assert builds[-1] == "M0"


def test_production_settings_round_trip_through_the_environment():
    settings = {"data_root": "/data", "redis_url": "redis://127.0.0.1:6379/0", "job_seconds": 90.0,
                "view_cache": False, "cache_dir": "/tmp/jobs", "host": "127.0.0.1"}
    env = settings_to_env(settings)
    assert env["ISOGRAPH_DATA_ROOT"] == "/data" and env["REDIS_URL"] == "redis://127.0.0.1:6379/0"
    back = settings_from_env(env)
    assert back == {k: v for k, v in settings.items() if k != "host"}
    assert settings_from_env({}) == {} and settings_from_env({"ISOGRAPH_VIEW_CACHE": "1"}) == {"view_cache": True}

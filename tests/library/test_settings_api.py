"""GET/PUT/DELETE /api/settings exactly as spec/contract.md #31/#32, on both stores."""

from __future__ import annotations

import copy

import pytest

from lib.library.settings import DEFAULTS
from tests.conftest import Api

STATUS = ["all", "uncompleted", "complete", "overlay", "editing", "exported", "not_started"]
ASPECT = ["all", "16:9", "9:16", "4:3", "1:1"]
CREATION = ["all", "auto", "custom"]


def merged(**sections) -> dict:
    out = copy.deepcopy(DEFAULTS)
    for name, values in sections.items():
        out.setdefault(name, {}).update(values)
    return out


def test_defaults_match_the_contract(api):
    r = api.client.get("/api/settings")
    assert r.status_code == 200
    assert r.json() == {
        "projectFilters": {"statusFilter": "uncompleted", "aspectFilter": "all",
                           "creationFilter": "all"},
        "framing": {"includeAudio": True, "defaultAspectRatio": "9:16",
                    "defaultTransition": "cut"},
        "overlay": {"highlightEffectType": "original"},
    }


def test_partial_nested_put_returns_full_merged_settings(api):
    r = api.client.put("/api/settings", json={"projectFilters": {"statusFilter": "complete"}})
    assert r.status_code == 200
    first = merged(projectFilters={"statusFilter": "complete"})
    assert r.json() == first
    assert api.client.get("/api/settings").json() == first

    r = api.client.put("/api/settings", json={"projectFilters": {"aspectFilter": "9:16"}})
    second = merged(projectFilters={"statusFilter": "complete", "aspectFilter": "9:16"})
    assert r.json() == second
    r = api.client.put("/api/settings", json={"framing": {"includeAudio": False}})
    third = merged(projectFilters=second["projectFilters"], framing={"includeAudio": False})
    assert r.json() == third
    assert third["framing"]["defaultAspectRatio"] == "9:16"
    assert api.client.get("/api/settings").json() == third


def test_settings_persist_for_another_container(api, tmp_path):
    api.client.put("/api/settings", json={"overlay": {"highlightEffectType": "dark_overlay"}})
    other = Api(api.store, tmp_path / "other")
    try:
        body = other.client.get("/api/settings").json()
        assert body["overlay"]["highlightEffectType"] == "dark_overlay"
    finally:
        other.close()


def test_every_enum_value_is_accepted(api):
    for key, values in (("statusFilter", STATUS), ("aspectFilter", ASPECT),
                        ("creationFilter", CREATION)):
        for value in values:
            r = api.client.put("/api/settings", json={"projectFilters": {key: value}})
            assert r.status_code == 200 and r.json()["projectFilters"][key] == value
    for value in ("16:9", "9:16", "4:3", "1:1"):
        r = api.client.put("/api/settings", json={"framing": {"defaultAspectRatio": value}})
        assert r.json()["framing"]["defaultAspectRatio"] == value
    for value in ("cut", "fade", "dissolve"):
        r = api.client.put("/api/settings", json={"framing": {"defaultTransition": value}})
        assert r.json()["framing"]["defaultTransition"] == value
    for value in ("original", "brightness_boost", "dark_overlay"):
        r = api.client.put("/api/settings",
                                 json={"overlay": {"highlightEffectType": value}})
        assert r.json()["overlay"]["highlightEffectType"] == value


@pytest.mark.parametrize("body", [
    {"projectFilters": {"statusFilter": "finished"}},
    {"projectFilters": {"aspectFilter": "21:9"}},
    {"projectFilters": {"creationFilter": "manual"}},
    {"framing": {"defaultAspectRatio": "2:1"}},
    {"framing": {"defaultTransition": "wipe"}},
    {"overlay": {"highlightEffectType": "sparkles"}},
])
def test_invalid_enum_is_422_and_changes_nothing(api, body):
    api.client.put("/api/settings", json={"projectFilters": {"statusFilter": "editing"}})
    before = api.client.get("/api/settings").json()
    r = api.client.put("/api/settings", json=body)
    assert r.status_code == 422
    section, values = next(iter(body.items()))
    field = next(iter(values))
    assert f"{section}.{field}" in r.json()["detail"]
    assert api.client.get("/api/settings").json() == before


def test_unknown_keys_are_carried_along(api):
    body = {"projectFilters": {"sortOrder": "newest"}, "experimental": {"beta": True}}
    r = api.client.put("/api/settings", json=body)
    assert r.status_code == 200
    got = api.client.get("/api/settings").json()
    assert got["projectFilters"] == {**DEFAULTS["projectFilters"], "sortOrder": "newest"}
    assert got["experimental"] == {"beta": True}


def test_nulls_and_empty_bodies_change_nothing(api):
    api.client.put("/api/settings", json={"projectFilters": {"aspectFilter": "4:3"}})
    expected = merged(projectFilters={"aspectFilter": "4:3"})
    for body in ({}, {"projectFilters": None}, {"projectFilters": {"aspectFilter": None}}):
        r = api.client.put("/api/settings", json=body)
        assert r.status_code == 200 and r.json() == expected


@pytest.mark.parametrize("stored", ["not json", "[]", "null", '{"projectFilters": 5}'])
def test_project_filters_always_present(api, stored):
    """Whatever is stored (old or broken data), the editor can destructure projectFilters."""
    api.app.state.dbs.write("a", lambda c: c.execute(
        "INSERT INTO user_settings (id, settings_json) VALUES (1, ?)", (stored,)))
    body = api.client.get("/api/settings").json()
    assert set(body["projectFilters"]) >= {"statusFilter", "aspectFilter", "creationFilter"}
    assert body["projectFilters"]["statusFilter"] == "uncompleted"
    r = api.client.put("/api/settings", json={"projectFilters": {"statusFilter": "all"}})
    assert r.status_code == 200
    assert r.json()["projectFilters"] == {**DEFAULTS["projectFilters"], "statusFilter": "all"}


def test_delete_resets_to_defaults(api):
    api.client.put("/api/settings", json={"projectFilters": {"creationFilter": "custom"},
                                          "framing": {"includeAudio": False}})
    r = api.client.delete("/api/settings")
    assert r.status_code == 200 and r.json() == DEFAULTS
    assert api.client.get("/api/settings").json() == DEFAULTS
    assert api.app.state.dbs.read("a", lambda c: c.execute(
        "SELECT COUNT(*) FROM user_settings").fetchone()[0]) == 0

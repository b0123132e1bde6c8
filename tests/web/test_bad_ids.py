"""Ids beyond SQLite's INTEGER range, in any path or body, answer 4xx with one sentence."""

from __future__ import annotations

import re

import pytest

HUGE = 99999999999999999999  # > 2**63 - 1
_PARAM = re.compile(r"\{[^}]+\}")


def _routes(app) -> list[tuple[str, str]]:
    """Every (method, path) the app serves over HTTP (its OpenAPI document lists them all),
    each path parameter replaced by the huge id."""
    out = []
    for path, operations in app.openapi()["paths"].items():
        concrete = _PARAM.sub(str(HUGE), path)
        out.extend((method.upper(), concrete) for method in operations)
    return out


def _assert_plain_4xx(r) -> None:
    assert 400 <= r.status_code < 500, (r.request.method, r.request.url, r.status_code, r.text)
    if r.request.method != "HEAD":
        detail = r.json()["detail"]
        assert isinstance(detail, str) and detail.endswith("."), detail


def test_every_route_with_a_huge_path_id_is_4xx(local_api):
    routes = _routes(local_api.app)
    with_ids = [(m, p) for m, p in routes if str(HUGE) in p]
    assert len(with_ids) >= 27  # the audit's count of affected method/path pairs
    for method, path in with_ids:
        for body in ({"json": {}}, {"json": {"action": "split_segment", "data": {"time": 1}}}):
            _assert_plain_4xx(local_api.client.request(method, path, **body))


BODY_IDS = [
    ("POST", "/api/projects/from-clips", {"json": {"name": "x", "clip_ids": [HUGE]}}),
    ("POST", "/api/projects/from-clips", {"json": {"name": "x", "game_ids": [HUGE]}}),
    ("POST", "/api/projects/from-clips", {"json": {"name": "x", "min_rating": HUGE}}),
    ("POST", "/api/clips/raw/save", {"json": {"game_id": HUGE, "start_time": 0,
                                              "end_time": 1}}),
    ("POST", "/api/export/render", {"json": {"project_id": HUGE, "export_id": "e1"}}),
    ("POST", "/api/export/render-overlay", {"json": {"project_id": HUGE, "export_id": "e2"}}),
    ("POST", "/api/export/multi-clip", {"data": {"project_id": str(HUGE), "export_id": "e3",
                                                 "multi_clip_data_json": "{}"},
                                        "files": {"video_0": ("a.mp4", b"x")}}),
    ("POST", "/api/annotate/export", {"data": {"game_id": str(HUGE), "export_id": "e4",
                                               "clips_json": '[{"start_time":0,"end_time":1}]'}}),
]


@pytest.mark.parametrize(("method", "path", "kwargs"), BODY_IDS)
def test_huge_body_ids_are_4xx(local_api, method, path, kwargs):
    _assert_plain_4xx(local_api.client.request(method, path, **kwargs))


def test_huge_ids_inside_an_existing_project(local_api):
    c = local_api.client
    project = c.post("/api/projects", json={"name": "p"}).json()["id"]
    base = f"/api/clips/projects/{project}/clips"
    for method, path, kwargs in (
        ("POST", base, {"data": {"raw_clip_id": str(HUGE)}}),
        ("PUT", f"{base}/reorder", {"json": {"clip_ids": [HUGE]}}),
        ("POST", f"/api/projects/{project}/refresh-outdated-clips",
         {"json": {"working_clip_ids": [HUGE]}}),
    ):
        _assert_plain_4xx(c.request(method, path, **kwargs))

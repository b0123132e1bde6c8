"""One origin for the editor and the API: the built editor is served next to /api and /ws,
and an export that outlasts the request budget continues through 303s a browser follows."""

from __future__ import annotations

import threading
import time

import pytest

from lib.storage import LocalDirStore
from tests.conftest import Api
from tests.jobs_helpers import make_game_with_clip, make_project
from tests.videos import make_video

USER = "coach"


@pytest.fixture(scope="module")
def tiny_video(tmp_path_factory):
    return make_video(tmp_path_factory.mktemp("tiny") / "tiny.mp4", seconds=0.5)


@pytest.fixture
def editor_dir(tmp_path):
    root = tmp_path / "dist"
    (root / "assets").mkdir(parents=True)
    (root / "index.html").write_text("<!doctype html><div id=root></div>")
    (root / "assets" / "index-abc123.js").write_text("console.log('editor')")
    (tmp_path / "secret.txt").write_text("outside the build")
    return root


def test_editor_files_spa_fallback_and_api_untouched(tmp_path, editor_dir):
    api = Api(LocalDirStore(tmp_path / "objects"), tmp_path, editor_dir=editor_dir)
    try:
        client = api.client
        index = client.get("/")
        assert index.status_code == 200 and "id=root" in index.text
        assert index.headers["cache-control"] == "no-cache"
        asset = client.get("/assets/index-abc123.js")
        assert asset.text == "console.log('editor')"
        assert "immutable" in asset.headers["cache-control"]
        assert "id=root" in client.get("/projects/17/framing").text  # the SPA's own routes
        assert client.head("/").status_code == 200
        assert "outside" not in client.get("/..%2fsecret.txt").text
        assert client.get("/api/health").json()["storage"] == "ok"
        missing = client.get("/api/no-such-endpoint")
        assert missing.status_code == 404 and "detail" in missing.json()
        assert client.get("/ws/nothing").status_code == 404
        with client.websocket_connect("/ws/export/exp_1") as ws:
            ws.send_text("ping")
            assert ws.receive_text() == "pong"
    finally:
        api.close()


def test_cross_origin_still_works_for_development(local_api):
    r = local_api.client.options("/api/settings", headers={
        "Origin": "http://localhost:5173", "Access-Control-Request-Method": "PUT",
        "Access-Control-Request-Headers": "content-type"})
    assert r.status_code == 200
    assert r.headers["access-control-allow-origin"] == "http://localhost:5173"
    assert r.headers["access-control-allow-credentials"] == "true"


def _render(client, project_id: int, export_id: str, **kw):
    return client.post("/api/export/render", headers={"X-User-ID": USER}, **kw,
                       json={"project_id": project_id, "export_id": export_id,
                             "target_fps": 30, "include_audio": True})


def test_export_past_the_request_budget_completes_through_redirects(tmp_path, tiny_video):
    # 1 s per request: browsers (and httpx) follow at most 20 redirects, room for a loaded CI.
    api = Api(LocalDirStore(tmp_path / "objects"), tmp_path, request_budget_s=1.0)
    try:
        ids = make_game_with_clip(api, USER, tiny_video, end=0.5)
        project_id = make_project(api, USER, [ids["raw_clip_id"]])
        api.runner.pause()  # the job outlasts several request budgets
        threading.Timer(2.5, api.runner.resume).start()
        started = time.monotonic()
        r = _render(api.client, project_id, "exp_long")  # follows 303s like a browser
        assert time.monotonic() - started >= 2.5
        assert r.status_code == 200, r.text
        assert r.json()["working_video_id"] and r.json()["filename"].endswith(".mp4")
        assert len(r.history) >= 2
        assert all(h.status_code == 303 for h in r.history)
        assert r.history[0].headers["location"] == "/api/exports/exp_long/result"
        assert r.request.method == "GET"  # 303: the browser re-asks with GET, no body

        # The job never depends on the request: nobody follows this one's redirect.
        api.runner.pause()
        first = _render(api.client, project_id, "exp_dropped", follow_redirects=False)
        assert first.status_code == 303
        api.runner.resume()
        api.runner.wait_idle()
        done = api.client.get(first.headers["location"], headers={"X-User-ID": USER})
        assert done.status_code == 200 and done.json()["working_video_id"]
        unknown = api.client.get("/api/exports/nope/result", headers={"X-User-ID": USER})
        assert unknown.status_code == 404
    finally:
        api.close()

"""Bounded, strict request bodies: 413 above the limits, 400 for non-JSON numbers."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lib.keys import Kind, new_name, object_key
from lib.library.tsv import parse_tsv
from lib.storage import LocalDirStore
from tests.conftest import ANNOTATIONS_DIR, Api

NOT_JSON = "Request body is not valid JSON."


@pytest.fixture
def small_limits(tmp_path):
    harness = Api(LocalDirStore(tmp_path / "objects"), tmp_path, max_json_bytes=64 * 1024,
                  max_clip_upload_bytes=256 * 1024, max_video_upload_bytes=512 * 1024)
    yield harness
    harness.close()


@pytest.mark.parametrize("text", ['{"name": NaN}', '{"name": Infinity}', '{"name": -Infinity}',
                                  '{"name": 1e400}', '{"name": "x"', '[1, ]'])
def test_non_json_numbers_are_400(local_api, text):
    headers = {"content-type": "application/json"}
    for path in ("/api/projects", "/api/settings"):
        method = "POST" if path == "/api/projects" else "PUT"
        r = local_api.client.request(method, path, content=text, headers=headers)
        assert (r.status_code, r.json()) == (400, {"detail": NOT_JSON})
    project = local_api.client.post("/api/projects", json={"name": "p"}).json()["id"]
    r = local_api.client.post(f"/api/export/projects/{project}/overlay/actions",
                              content=text.replace('"name"', '"action"'), headers=headers)
    assert r.status_code == 400 and r.json()["success"] is False
    assert r.json()["error"] == NOT_JSON
    assert len(local_api.client.get("/api/projects").json()) == 1


def test_json_above_the_limit_is_413_by_header_and_by_count(small_limits):
    c = small_limits.client
    big = json.dumps({"experimental": {"blob": "x" * 100_000}}).encode()
    r = c.put("/api/settings", content=big, headers={"content-type": "application/json"})
    assert r.status_code == 413 and "64 KiB" in r.json()["detail"]
    assert r.json()["detail"].endswith(".")

    def chunks():  # no Content-Length: the limit is counted while receiving
        for i in range(0, len(big), 8192):
            yield big[i:i + 8192]

    r = c.put("/api/settings", content=chunks(), headers={"content-type": "application/json"})
    assert r.status_code == 413
    assert "experimental" not in c.get("/api/settings").json()


def test_longest_real_annotation_sync_passes_with_margin(local_api):
    sizes = []
    for path in sorted(Path(ANNOTATIONS_DIR).glob("*.tsv")):
        clips = parse_tsv(path.read_bytes()).clips
        body = [{"start_time": c.start_time, "end_time": c.end_time, "name": c.name,
                 "rating": c.rating, "tags": c.tags, "notes": c.notes} for c in clips]
        sizes.append((len(json.dumps(body)), body))
    size, body = max(sizes, key=lambda s: s[0])
    assert size * 100 < local_api.settings.max_json_bytes  # 4 KB against 1 MiB
    game = local_api.client.post("/api/games", data={"name": "g"}).json()["game"]["id"]
    r = local_api.client.put(f"/api/games/{game}/annotations", json=body)
    assert r.status_code == 200 and r.json()["clip_count"] == len(body)


def test_settings_are_bounded(local_api):
    c = local_api.client
    r = c.put("/api/settings", json={"experimental": {"blob": "x" * 20_000}})
    assert r.status_code == 400 and "16 KB" in r.json()["detail"]
    r = c.put("/api/settings", json={"projectFilters": {"statusFilter": "bogus"}})
    assert r.status_code == 422
    assert c.get("/api/settings").json()["projectFilters"]["statusFilter"] == "uncompleted"
    assert "experimental" not in c.get("/api/settings").json()


def test_uploads_above_their_cap_are_413_and_nothing_is_stored(small_limits):
    c, store = small_limits.client, small_limits.store
    project = c.post("/api/projects", json={"name": "p"}).json()["id"]

    def blob(n):  # streamed in 64 KiB pieces, never one big bytes object
        for _ in range(n):
            yield b"\0" * 65536

    r = c.post(f"/api/clips/projects/{project}/clips/upload-with-metadata",
               files={"file": ("a.mp4", b"\0" * 300_000)})
    assert r.status_code == 413 and "upload" in r.json()["detail"]
    key = object_key("a", Kind.GAMES, new_name(".mp4"))
    url = store.presign_put(key, "video/mp4", 60)
    r = c.put(url, content=blob(10))  # 640 KiB, chunked
    assert r.status_code == 413 and "video" in r.json()["detail"]
    assert [i.key for i in store.list("a/") if "/raw_clips/" in i.key or "/games/" in i.key] == []

"""Every upload path verifies the video (sniff + probe) and removes what it refuses; upload
grants are short-lived, for one object, and a verified video cannot be swapped later."""

from __future__ import annotations

from pathlib import Path

import pytest

from lib.keys import Kind
from tests.annotate_support import create_game, game_objects, put_url, upload_direct

ZEROS_MB = 50


@pytest.fixture(scope="module")
def bad_files(tmp_path_factory, small_video) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("bad")
    data = small_video.read_bytes()
    files = {"text": b"just some notes, certainly not a video\n" * 50,
             "truncated": data[: len(data) // 2], "first_1000": data[:1000]}
    out = {name: root / f"{name}.mp4" for name in files}
    for name, content in files.items():
        out[name].write_bytes(content)
    out["zeros"] = root / "zeros.mp4"
    with open(out["zeros"], "wb") as fh:  # written in 1 MiB pieces
        for _ in range(ZEROS_MB):
            fh.write(bytes(1024 * 1024))
    return out


def _stored(api) -> list[str]:
    keys = [i.key for i in api.store.list("a/")]
    return [k for k in keys if f"/{Kind.GAMES}/" in k or f"/{Kind.RAW_CLIPS}/" in k]


def _refused(r) -> None:
    assert r.status_code == 400, r.text
    detail = r.json()["detail"]
    assert detail.endswith(".") and len(detail) < 200


@pytest.mark.parametrize("name", ["text", "zeros", "truncated", "first_1000"])
def test_every_upload_path_refuses_a_non_video(local_api, bad_files, name):
    api, path = local_api, bad_files[name]
    gid = create_game(api)["id"]
    project = api.client.post("/api/projects", json={"name": "p"}).json()["id"]

    with open(path, "rb") as fh:
        _refused(api.client.put(f"/api/games/{gid}/video", files={"video": (path.name, fh)}))
    with open(path, "rb") as fh:
        _refused(api.client.post(f"/api/clips/projects/{project}/clips/upload-with-metadata",
                                 files={"file": (path.name, fh)}, data={"name": "c"}))
    ticket = api.client.get(f"/api/games/{gid}/upload-url").json()
    with open(path, "rb") as fh:
        assert put_url(api, ticket["upload_url"], fh.read()).status_code == 200
    _refused(api.client.post(f"/api/games/{gid}/confirm-video",
                             data={"video_filename": ticket["video_filename"]}))
    assert _stored(api) == []
    assert api.client.get(f"/api/games/{gid}").json()["video_filename"] is None
    assert api.client.get(f"/api/clips/projects/{project}/clips").json() == []


def test_a_real_video_passes_and_its_facts_are_recorded(api, small_video):
    gid = create_game(api)["id"]
    upload_direct(api, gid, small_video)
    game = api.client.get(f"/api/games/{gid}").json()
    assert (game["video_width"], game["video_height"]) == (320, 180)
    assert game["video_duration"] == pytest.approx(2.0, abs=0.1)


def test_upload_grant_is_short_and_for_one_object(api, small_video):
    gid = create_game(api)["id"]
    ticket = api.client.get(f"/api/games/{gid}/upload-url").json()
    assert ticket["expires_in"] == 15 * 60 == api.settings.upload_url_seconds
    assert put_url(api, ticket["upload_url"], small_video.read_bytes()).status_code == 200
    r = api.client.post(f"/api/games/{gid}/confirm-video",
                        data={"video_filename": ticket["video_filename"]})
    assert r.status_code == 200, r.text
    (key,) = game_objects(api)
    if api.store.kind == "local":  # the signed PUT refuses a second write
        again = put_url(api, ticket["upload_url"], b"junk" * 100)
        assert again.status_code == 409
    # a leaked S3 URL can still write within its minutes: the swapped bytes are refused
    api.store.put_bytes(key, b"\x00\x00\x00\x18ftypisom" + b"junk" * 100, "video/mp4")
    r = api.client.get(f"/api/games/{gid}/video", follow_redirects=False)
    assert r.status_code == 409 and "changed" in r.json()["detail"]


def test_delete_game_removes_the_receipt_too(local_api, small_video):
    gid = create_game(local_api)["id"]
    upload_direct(local_api, gid, small_video)
    assert len(local_api.store.list("a/games/")) == 2  # the video and its receipt
    assert local_api.client.delete(f"/api/games/{gid}").status_code == 200
    assert local_api.store.list("a/games/") == []

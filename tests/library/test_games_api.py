"""Games #2-#12 through the ASGI app on both stores: shapes, uploads, the video URL, errors."""

from __future__ import annotations

import httpx
import pytest

from lib.keys import Kind, database_key, object_key
from tests.annotate_support import (
    create_game,
    execute,
    game_objects,
    get_url,
    put_url,
    rows,
    upload_direct,
    upload_multipart,
)
from tests.conftest import SEED_DB

GAME_FIELDS = {
    "id": int, "name": str, "clip_count": int, "created_at": str, "game_date": str,
    "date": str, "video_duration": float, "video_width": int, "video_height": int,
    "video_size": int, "opponent_name": str, "game_type": str, "brilliant_count": int,
    "aggregate_score": int,
}


def assert_game_shape(game: dict) -> None:
    for key, kind in GAME_FIELDS.items():
        assert isinstance(game[key], kind), (key, game[key])
    assert "video_url" in game and "tournament_name" in game


def test_create_list_get_shapes(api):
    created = create_game(api, video_duration="5400.52", video_width="1920",
                          video_height="1080", video_size="2147483648")
    assert created["name"] == "Vs Carlsbad SC Dec 6"
    assert created["video_url"] is None and created["video_filename"] is None
    assert_game_shape(created)
    assert (created["video_duration"], created["video_width"], created["video_height"],
            created["video_size"]) == (5400.52, 1920, 1080, 2147483648)
    second = create_game(api, opponent_name="Blaze", game_type="away", game_date="2025-10-04")
    third = create_game(api, opponent_name="Slammers", game_type="tournament",
                        tournament_name="Surf Cup", game_date="2025-07-19")
    plain = create_game(api, name="scrimmage", opponent_name="", game_type="", game_date="")
    listed = api.client.get("/api/games").json()["games"]
    assert [g["id"] for g in listed] == [plain["id"], third["id"], second["id"], created["id"]]
    assert [g["name"] for g in listed] == [
        "scrimmage", "Surf Cup: Vs Slammers Jul 19", "at Blaze Oct 4", "Vs Carlsbad SC Dec 6"]
    assert listed[0]["game_date"] is None and listed[0]["date"] is None
    for g in listed[1:]:
        assert_game_shape({**g, "video_duration": 1.0, "video_width": 1, "video_height": 1,
                           "video_size": 1})
    detail = api.client.get(f"/api/games/{created['id']}").json()
    assert detail["annotations"] == []
    assert {k: v for k, v in detail.items() if k != "annotations"} == listed[-1]
    tournaments = api.client.get("/api/games/tournaments").json()
    assert tournaments == {"tournaments": ["Surf Cup"]}


def test_get_game_annotations_fields(api):
    gid = create_game(api)["id"]
    api.client.put(f"/api/games/{gid}/annotations", json=[
        {"start_time": 61.2, "end_time": 76.2, "name": "", "tags": ["Goal"], "notes": "",
         "rating": 5}])
    (a,) = api.client.get(f"/api/games/{gid}").json()["annotations"]
    assert set(a) == {"id", "raw_clip_id", "start_time", "end_time", "name", "rating", "tags",
                      "notes"}
    assert a["raw_clip_id"] == a["id"] and isinstance(a["id"], int)
    assert (a["start_time"], a["end_time"], a["name"], a["rating"], a["tags"], a["notes"]) == (
        61.2, 76.2, "Brilliant Goal", 5, ["Goal"], "")


def test_rename_by_form_and_json(api):
    gid = create_game(api, opponent_name="", game_type="")["id"]
    r = api.client.put(f"/api/games/{gid}", data={"name": "Renamed"})
    assert r.status_code == 200 and r.json()["game"]["name"] == "Renamed"
    r = api.client.put(f"/api/games/{gid}", json={"opponent_name": "Blaze", "game_type": "home",
                                                  "game_date": "2025-10-11"})
    assert r.json()["game"]["name"] == "Vs Blaze Oct 11"
    assert rows(api, "SELECT name FROM games WHERE id = ?", (gid,))[0]["name"] == "Renamed"
    assert api.client.put(f"/api/games/{gid}", json={"name": "  "}).status_code == 400
    assert api.client.put(f"/api/games/{gid}", json={"game_type": "neutral"}).status_code == 422
    assert api.client.put("/api/games/999", json={"name": "x"}).status_code == 404
    r = api.client.put(f"/api/games/{gid}", content=b"{nope",
                       headers={"Content-Type": "application/json"})
    assert r.status_code == 400


@pytest.mark.parametrize("way", ["direct", "multipart"])
def test_upload_then_play_with_range(api, small_video, way):
    gid = create_game(api)["id"]
    upload = upload_direct if way == "direct" else upload_multipart
    body = upload(api, gid, small_video)
    size = small_video.stat().st_size
    assert body["size_mb"] == round(size / 1048576, 2) and isinstance(body["size_mb"], float)
    assert body["pending_clips_extracted"] == 0
    game = api.client.get(f"/api/games/{gid}").json()
    assert game["video_size"] == size
    assert game["video_filename"] != small_video.name
    assert game_objects(api) == [object_key("a", Kind.GAMES, game["video_filename"])]
    ranged = get_url(api, game["video_url"], {"Range": "bytes=100-199"})
    assert ranged.status_code == 206 and ranged.content == small_video.read_bytes()[100:200]
    r = api.client.get(f"/api/games/{gid}/video", headers={"Range": "bytes=0-99"},
                       follow_redirects=False)
    if api.store.kind == "local":
        assert r.status_code == 206
        assert r.headers["content-range"] == f"bytes 0-99/{size}"
        assert r.content == small_video.read_bytes()[:100]
    else:
        assert r.status_code == 302
        moved = httpx.get(r.headers["location"], headers={"Range": "bytes=0-99"})
        assert moved.status_code == 206 and moved.content == small_video.read_bytes()[:100]


def test_reupload_replaces_and_deletes_old_video(api, small_video):
    gid = create_game(api)["id"]
    upload_multipart(api, gid, small_video)
    first = game_objects(api)
    upload_direct(api, gid, small_video)
    second = game_objects(api)
    assert len(first) == len(second) == 1 and first != second


def test_non_video_upload_is_refused_and_nothing_stored(api):
    gid = create_game(api)["id"]
    r = api.client.put(f"/api/games/{gid}/video",
                       files={"video": ("notes.mp4", b"just some text, not a video" * 10)})
    assert r.status_code == 400 and "not a video" in r.json()["detail"]
    assert game_objects(api) == []
    ticket = api.client.get(f"/api/games/{gid}/upload-url").json()
    assert put_url(api, ticket["upload_url"], b"%PDF-1.4 not a video").status_code == 200
    r = api.client.post(f"/api/games/{gid}/confirm-video",
                        data={"video_filename": ticket["video_filename"], "video_size": "20"})
    assert r.status_code == 400 and "not a video" in r.json()["detail"]
    assert game_objects(api) == []
    assert api.client.get(f"/api/games/{gid}").json()["video_url"] is None


def test_confirm_video_errors(api):
    gid = create_game(api)["id"]
    ticket = api.client.get(f"/api/games/{gid}/upload-url").json()
    r = api.client.post(f"/api/games/{gid}/confirm-video",
                        data={"video_filename": ticket["video_filename"]})
    assert r.status_code == 400 and "not found in storage" in r.json()["detail"]
    r = api.client.post(f"/api/games/{gid}/confirm-video",
                        data={"video_filename": "../../a/database.sqlite"})
    assert r.status_code == 400
    assert api.client.post(f"/api/games/{gid}/confirm-video", data={}).status_code == 422
    put_url(api, ticket["upload_url"], b"\x00\x00\x00\x20ftypisom" + b"\x00" * 100)
    r = api.client.post(f"/api/games/{gid}/confirm-video",
                        data={"video_filename": ticket["video_filename"], "video_size": "999"})
    assert r.status_code == 400 and "112 bytes, not 999" in r.json()["detail"]
    r = api.client.post("/api/games/999/confirm-video",
                        data={"video_filename": ticket["video_filename"]})
    assert r.status_code == 404


def test_another_games_video_cannot_be_claimed(api, small_video):
    first = create_game(api)["id"]
    second = create_game(api)["id"]
    name = upload_multipart(api, first, small_video)["video_filename"]
    r = api.client.post(f"/api/games/{second}/confirm-video", data={"video_filename": name})
    assert r.status_code == 400


def test_video_url_missing_video(api):
    gid = create_game(api)["id"]
    assert api.client.get(f"/api/games/{gid}/video").status_code == 404
    assert api.client.get("/api/games/999/video").status_code == 404


def test_delete_game_removes_rows_and_objects(api, small_video):
    gid = create_game(api)["id"]
    upload_multipart(api, gid, small_video)
    api.client.put(f"/api/games/{gid}/annotations", json=[
        {"start_time": 0.2, "end_time": 1.2, "tags": ["Goal"], "rating": 5},
        {"start_time": 0.5, "end_time": 1.9, "tags": ["Pass"], "rating": 3}])
    api.runner.wait_idle()
    clip_id = rows(api, "SELECT id FROM raw_clips WHERE end_time = 1.9")[0]["id"]
    api.store.put_bytes(object_key("a", Kind.RAW_CLIPS, "f" * 32 + ".mp4"), b"clip")
    execute(api, "UPDATE raw_clips SET filename = ? WHERE id = ?", ("f" * 32 + ".mp4", clip_id))
    assert rows(api, "SELECT COUNT(*) AS n FROM projects")[0]["n"] == 1
    r = api.client.delete(f"/api/games/{gid}")
    assert r.status_code == 200 and r.json()["success"] is True
    api.runner.wait_idle()
    assert api.client.get(f"/api/games/{gid}").status_code == 404
    assert rows(api, "SELECT COUNT(*) AS n FROM raw_clips")[0]["n"] == 0
    assert rows(api, "SELECT COUNT(*) AS n FROM projects")[0]["n"] == 0
    assert rows(api, "SELECT COUNT(*) AS n FROM working_clips")[0]["n"] == 0
    assert game_objects(api) == []
    assert api.store.list("a/raw_clips/") == []
    assert api.client.delete(f"/api/games/{gid}").status_code == 404


def test_finish_annotation(api):
    gid = create_game(api)["id"]
    r = api.client.post(f"/api/games/{gid}/finish-annotation")
    assert r.status_code == 200
    assert r.json()["success"] is True and r.json()["tasks_created"] == 0
    assert api.client.post("/api/games/999/finish-annotation").status_code == 404


def test_other_users_games_are_invisible(api, small_video):
    gid = create_game(api)["id"]
    upload_multipart(api, gid, small_video)
    other = api.as_user("e2e_other")
    assert api.client.get("/api/games", headers=other).json() == {"games": []}
    for method, path in [("GET", ""), ("GET", "/video"), ("DELETE", ""),
                         ("GET", "/upload-url"), ("POST", "/finish-annotation"),
                         ("GET", "/annotations.tsv")]:
        r = api.client.request(method, f"/api/games/{gid}{path}", headers=other)
        assert r.status_code == 404, (method, path)
    r = api.client.put(f"/api/games/{gid}/annotations", json=[], headers=other)
    assert r.status_code == 404
    assert api.client.get(f"/api/games/{gid}").status_code == 200


@pytest.mark.parametrize("field, value", [
    ("video_width", "wide"), ("video_duration", "long"), ("game_type", "neutral"),
    ("game_date", "2025-13-01"), ("video_size", "-5"),
])
def test_create_rejects_wrong_types(api, field, value):
    r = api.client.post("/api/games", data={"name": "x", field: value})
    assert r.status_code == 422
    assert field in r.json()["detail"]


def test_non_numeric_ids_are_422(api):
    assert api.client.get("/api/games/abc").status_code == 422


def test_seed_database_is_readable(api):
    api.store.put_bytes(database_key("seeded"), SEED_DB.read_bytes())
    headers = api.as_user("seeded")
    games = api.client.get("/api/games", headers=headers).json()["games"]
    assert len(games) == 8
    assert all(g["name"] == "Vs Test Opponent Nov 23" for g in games)
    assert all(g["clip_count"] == 3 for g in games)
    assert all(g["video_url"] for g in games)
    detail = api.client.get(f"/api/games/{games[-1]['id']}", headers=headers).json()
    assert [(a["start_time"], a["end_time"], a["name"], a["tags"]) for a in detail["annotations"]
            ] == [(3.0, 9.0, "Great Control Pass", ["Possession", "Pass"]),
                  (13.0, 19.0, "Full Effort Play", ["Dribble"]),
                  (59.0, 63.5, "Good Pass", ["Pass"])]
    assert all(a["raw_clip_id"] == a["id"] for a in detail["annotations"])


def test_large_multipart_upload_is_streamed_intact(api, tmp_path, small_video):
    """A part bigger than the server's in-memory spool goes to storage byte for byte (a real
    video padded with a top-level `free` box, which players skip)."""
    big = tmp_path / "big.mp4"
    padding = bytes(range(256)) * (3 * 4096)
    big.write_bytes(small_video.read_bytes() + (8 + len(padding)).to_bytes(4, "big") + b"free"
                    + padding)
    gid = create_game(api)["id"]
    body = upload_multipart(api, gid, big)
    assert body["size"] == big.stat().st_size
    (key,) = game_objects(api)
    assert b"".join(api.store.iter_range(key)) == big.read_bytes()


def test_video_head_request_locally(local_api, small_video):
    gid = create_game(local_api)["id"]
    upload_multipart(local_api, gid, small_video)
    r = local_api.client.head(f"/api/games/{gid}/video")
    assert r.status_code == 200 and r.headers["accept-ranges"] == "bytes"
    assert int(r.headers["content-length"]) == small_video.stat().st_size


def test_delete_user_removes_games_and_videos(api, small_video):
    user = api.as_user("e2e_123_abc")
    gid = create_game(api, headers=user)["id"]
    upload_multipart(api, gid, small_video, headers=user)
    assert len(game_objects(api, "e2e_123_abc")) == 1
    r = api.client.delete("/api/auth/user", headers=user)
    assert r.status_code == 200 and r.json()["success"] is True
    assert game_objects(api, "e2e_123_abc") == []
    assert api.client.get("/api/games", headers=user).json() == {"games": []}
    assert api.client.delete("/api/auth/user").status_code == 403

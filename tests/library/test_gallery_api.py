"""Downloads / gallery (#42–#45) over HTTP, on both stores."""

from __future__ import annotations

import re

from lib.library.gallery import final_video_key
from tests.overlay_helpers import (
    add_clip,
    add_final_video,
    make_game,
    make_project,
    make_raw_clip,
    read,
    write,
)

ITEM_FIELDS = {"id", "project_id", "project_name", "filename", "created_at", "file_size",
               "source_type", "game_id", "rating_counts", "group_key"}


def downloads(api, query: str = "", headers=None) -> dict:
    res = api.client.get(f"/api/downloads{query}", headers=headers)
    assert res.status_code == 200, res.text
    return res.json()


def assert_item_shape(item: dict) -> None:
    assert set(item) >= ITEM_FIELDS
    assert isinstance(item["id"], int) and isinstance(item["filename"], str)
    assert isinstance(item["project_name"], str) and item["project_name"]
    assert item["file_size"] is None or isinstance(item["file_size"], int)
    assert item["source_type"] in ("brilliant_clip", "custom_project", "annotated_game")
    assert item["rating_counts"] is None or isinstance(item["rating_counts"], dict)
    assert item["group_key"] is None or isinstance(item["group_key"], str)
    assert isinstance(item["created_at"], str)


def test_two_exports_of_one_project_show_the_latest_only(api):
    pid, _ = make_project(api, "a", "Brilliant Goal", auto=True)
    first, _ = add_final_video(api, "a", pid, b"first export", source_type="brilliant_clip")
    second, _ = add_final_video(api, "a", pid, b"second export, longer",
                                source_type="brilliant_clip")
    body = downloads(api)
    assert body["total_count"] == 1 and len(body["downloads"]) == 1
    (item,) = body["downloads"]
    assert_item_shape(item)
    assert item["id"] == second and item["project_id"] == pid
    assert item["project_name"] == "Brilliant Goal"
    assert item["file_size"] == len(b"second export, longer")  # from storage: no column
    assert item["rating_counts"] is None
    assert api.client.get("/api/downloads/count").json() == {"count": 1}
    assert first != second


def test_annotated_game_entries_and_filters(api):
    gid = make_game(api, "a", opponent="Carlsbad", counts=(2, 1, 0, 0, 1))
    pid, _ = make_project(api, "a", "My cut")
    add_final_video(api, "a", pid, b"project video", file_size=999)
    counts = {"brilliant": 3, "good": 1, "interesting": 0, "mistake": 0, "blunder": 1,
              "weighted_average": 4.0}
    fid, _ = add_final_video(api, "a", 0, b"annotated", source_type="annotated_game",
                             game_id=gid, rating_counts=counts)
    old_gid = make_game(api, "a", opponent="Blaze", game_type="away", counts=(1, 0, 2, 0, 0))
    old, _ = add_final_video(api, "a", 0, b"old annotated", source_type=None, game_id=old_gid)

    body = downloads(api)
    assert body["total_count"] == 3
    for item in body["downloads"]:
        assert_item_shape(item)
    by_id = {i["id"]: i for i in body["downloads"]}
    assert by_id[fid]["project_name"] == "Vs Carlsbad Dec 6"
    assert by_id[fid]["group_key"] == "Vs Carlsbad Dec 6"
    assert by_id[fid]["rating_counts"] == counts and by_id[fid]["game_id"] == gid
    assert by_id[old]["source_type"] == "annotated_game"
    assert by_id[old]["rating_counts"] == {"brilliant": 1, "good": 0, "interesting": 2,
                                          "mistake": 0, "blunder": 0}
    assert by_id[old]["project_name"] == "at Blaze Dec 6"

    only = downloads(api, "?source_type=annotated_game")
    assert {i["id"] for i in only["downloads"]} == {fid, old} and only["total_count"] == 2
    custom = downloads(api, "?source_type=custom_project")["downloads"]
    assert [i["file_size"] for i in custom] == [999]
    assert api.client.get("/api/downloads?source_type=bogus").status_code == 422
    assert api.client.get("/api/downloads/count").json() == {"count": 3}


def test_project_name_is_never_null(api):
    pid, _ = make_project(api, "a", "")
    fid, _ = add_final_video(api, "a", pid, b"x", name="Named final")
    bare, _ = add_final_video(api, "a", 0, b"y", source_type="annotated_game", game_id=None)
    names = {i["id"]: i["project_name"] for i in downloads(api)["downloads"]}
    assert names == {fid: "Named final", bare: f"Video {bare}"}


def test_file_with_range_and_quoted_attachment_name(api, small_video):
    data = small_video.read_bytes()
    pid, _ = make_project(api, "a", "Brilliant Goal: vs Blaze!")
    fid, _ = add_final_video(api, "a", pid, small_video)

    res = api.client.get(f"/api/downloads/{fid}/file")
    assert res.status_code == 200 and res.content == data
    assert res.headers["content-type"] == "video/mp4"
    disposition = res.headers["content-disposition"]
    assert disposition == ('attachment; filename="Brilliant_Goal_vs_Blaze_final.mp4"; '
        'filename*=UTF-8\'\'Brilliant_Goal_vs_Blaze_final.mp4')
    assert re.search(r'filename="(.+)"', disposition).group(1).endswith("_final.mp4")

    res = api.client.get(f"/api/downloads/{fid}/file", headers={"Range": "bytes=100-1099"})
    assert res.status_code == 206
    assert res.content == data[100:1100]
    assert res.headers["content-range"] == f"bytes 100-1099/{len(data)}"
    res = api.client.get(f"/api/downloads/{fid}/file", headers={"Range": "bytes=-64"})
    assert res.status_code == 206 and res.content == data[-64:]


def test_delete_removes_rows_then_objects(api):
    pid, _ = make_project(api, "a", "Goal")
    older, older_name = add_final_video(api, "a", pid, b"v1")
    latest, latest_name = add_final_video(api, "a", pid, b"v2")

    def add_track(conn):
        conn.execute("INSERT INTO before_after_tracks (final_video_id, source_key, start_frame,"
                     " end_frame) VALUES (?, 'a/raw_clips/x.mp4', 0, 10)", (latest,))
    write(api, "a", add_track)

    res = api.client.delete(f"/api/downloads/{latest}?remove_file=true")
    assert res.status_code == 200, res.text
    assert downloads(api)["downloads"] == []
    assert api.client.get("/api/downloads/count").json() == {"count": 0}
    for name in (older_name, latest_name):
        assert api.store.head(final_video_key("a", name)) is None
    left = read(api, "a", lambda c: (
        c.execute("SELECT final_video_id FROM projects WHERE id = ?", (pid,)).fetchone()[0],
        c.execute("SELECT COUNT(*) FROM before_after_tracks").fetchone()[0],
        c.execute("SELECT COUNT(*) FROM final_videos").fetchone()[0]))
    assert left == (None, 0, 0)
    assert api.client.delete(f"/api/downloads/{latest}").status_code == 404
    assert api.client.get(f"/api/downloads/{older}/file").status_code == 404


def test_delete_can_keep_the_file(api):
    pid, _ = make_project(api, "a", "Keep")
    fid, name = add_final_video(api, "a", pid, b"keep me")
    assert api.client.delete(f"/api/downloads/{fid}?remove_file=false").status_code == 200
    assert api.store.head(final_video_key("a", name)) is not None


def test_other_users_download_is_not_found(api):
    pid, _ = make_project(api, "alice", "Mine")
    fid, _ = add_final_video(api, "alice", pid, b"secret")
    bob = api.as_user("bob")
    assert downloads(api, headers=bob)["downloads"] == []
    assert api.client.get(f"/api/downloads/{fid}/file", headers=bob).status_code == 404
    res = api.client.delete(f"/api/downloads/{fid}", headers=bob)
    assert res.status_code == 404 and res.json()["detail"]
    alice = api.as_user("alice")
    assert api.client.get(f"/api/downloads/{fid}/file", headers=alice).content == b"secret"
    assert api.client.get("/api/downloads/abc/file").status_code == 422


def test_missing_object_is_a_json_404(api):
    pid, _ = make_project(api, "a", "Gone")
    fid, name = add_final_video(api, "a", pid, b"soon gone")
    api.store.delete(final_video_key("a", name))
    res = api.client.get(f"/api/downloads/{fid}/file")
    assert res.status_code == 404 and res.json()["detail"]
    assert downloads(api)["downloads"][0]["file_size"] is None


def test_group_key_is_the_game_of_a_one_game_project(api):
    carlsbad = make_game(api, "a", opponent="Carlsbad")
    blaze = make_game(api, "a", opponent="Blaze", game_type="away")
    one, _ = make_project(api, "a", "One game")
    add_clip(api, "a", one, make_raw_clip(api, "a", carlsbad, 10.0, 20.0))
    add_clip(api, "a", one, make_raw_clip(api, "a", carlsbad, 30.0, 40.0))
    two, _ = make_project(api, "a", "Two games")
    add_clip(api, "a", two, make_raw_clip(api, "a", carlsbad, 50.0, 60.0))
    add_clip(api, "a", two, make_raw_clip(api, "a", blaze, 10.0, 20.0))
    f1, _ = add_final_video(api, "a", one, b"1")
    f2, _ = add_final_video(api, "a", two, b"2")
    keys = {i["id"]: i["group_key"] for i in downloads(api)["downloads"]}
    assert keys == {f1: "Vs Carlsbad Dec 6", f2: None}
    listed = {p["id"]: p["group_key"] for p in api.client.get("/api/projects").json()}
    assert listed[one] == keys[f1] and listed[two] == keys[f2]  # one rule for both lists

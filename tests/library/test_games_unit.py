"""lib.library.games on a real in-memory database: rows, counts, deletions, video sniffing."""

from __future__ import annotations

import pytest

from lib.db.connection import open_image
from lib.errors import BadRequest, NotFound
from lib.keys import Kind
from lib.library import games
from lib.names import game_display_name


@pytest.fixture
def conn():
    c = open_image(None)
    yield c
    c.close()


def add_clip(conn, game_id, end, rating=3, filename="", auto_project_id=None):
    conn.execute("INSERT INTO raw_clips (game_id, start_time, end_time, rating, filename,"
                 " auto_project_id) VALUES (?, ?, ?, ?, ?, ?)",
                 (game_id, end - 1, end, rating, filename, auto_project_id))


@pytest.mark.parametrize("head, ext", [
    (b"\x00\x00\x00\x20ftypisom\x00\x00\x02\x00", ".mp4"),
    (b"\x00\x00\x00\x14ftypqt  \x00\x00\x00\x00", ".mp4"),
    (b"\x00\x00\x00\x08wide\x00\x00\x00\x00mdat", ".mp4"),
    (b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01\x42\x82\x84webm", ".webm"),
    (b"\x1a\x45\xdf\xa3\xa3\x42\x86\x81\x01\x42\x82\x88matroska", ".mkv"),
    (b"%PDF-1.7\n", None), (b"", None), (b"\x00\x00\x00\x20ftyp"[:6], None),
    (b"RIFF\x00\x00\x00\x00AVI ", None),
])
def test_video_extension(head, ext):
    assert games.video_extension(head) == ext


def test_generated_video_is_recognised(small_video):
    assert games.video_extension(small_video.read_bytes()[:games.SNIFF_BYTES]) == ".mp4"


def test_create_get_update_list(conn):
    a = games.create_game(conn, "first", opponent_name="Blaze", game_type="away",
                          game_date="2025-10-04", video_duration=10.5)
    b = games.create_game(conn, "second")
    conn.execute("UPDATE games SET created_at = '2020-01-01 00:00:00' WHERE id = ?", (b,))
    assert [g["id"] for g in games.list_games(conn)] == [a, b]
    assert game_display_name(games.get_game(conn, a)) == "at Blaze Oct 4"
    row = games.update_game(conn, a, name="renamed", tournament_name="Cup",
                            game_type="tournament")
    assert (row["name"], game_display_name(row)) == ("renamed", "Cup: Vs Blaze Oct 4")
    assert games.list_tournaments(conn) == ["Cup"]
    with pytest.raises(NotFound):
        games.get_game(conn, 999)
    with pytest.raises(BadRequest):
        games.update_game(conn, a, name=" ")
    with pytest.raises(ValueError):
        games.create_game(conn, "x", video_filename="sneaky.mp4")


def test_refresh_counts_touches_only_that_game(conn):
    a = games.create_game(conn, "a")
    b = games.create_game(conn, "b")
    for end, rating in ((1, 5), (2, 5), (3, 4), (4, 2), (5, 1)):
        add_clip(conn, a, end, rating)
    add_clip(conn, b, 1, 3)
    games.refresh_game_counts(conn, a)
    row = games.get_game(conn, a)
    assert [row[k] for k in ("clip_count", "brilliant_count", "good_count", "interesting_count",
                             "mistake_count", "blunder_count", "aggregate_score")] == [
        5, 2, 1, 0, 1, 1, 20 + 5 - 2 - 5]
    assert games.get_game(conn, b)["clip_count"] == 0  # not refreshed
    games.refresh_game_counts(conn, None)  # a clip without a game: nothing to do


def test_delete_game_returns_objects_and_cascades(conn):
    from lib.projects.projects import add_working_clip, create_project

    gid = games.create_game(conn, "g")
    games.record_video(conn, gid, "a" * 32 + ".mp4", 1234)
    auto = create_project(conn, "auto", is_auto_created=True)
    worked = create_project(conn, "worked", is_auto_created=True)
    add_clip(conn, gid, 1, 5, "clip1.mp4", auto)
    add_clip(conn, gid, 2, 5, "", worked)
    ids = [r[0] for r in conn.execute("SELECT id FROM raw_clips ORDER BY end_time")]
    add_working_clip(conn, auto, raw_clip_id=ids[0])
    add_working_clip(conn, worked, raw_clip_id=ids[1])
    conn.execute("INSERT INTO working_videos (project_id, filename) VALUES (?, 'wv.mp4')",
                 (worked,))
    objects = games.delete_game(conn, gid)
    assert objects == [(Kind.GAMES, "a" * 32 + ".mp4"), (Kind.RAW_CLIPS, "clip1.mp4")]
    assert conn.execute("SELECT COUNT(*) FROM raw_clips").fetchone()[0] == 0
    assert [r[0] for r in conn.execute("SELECT id FROM projects")] == [worked]
    with pytest.raises(NotFound):
        games.delete_game(conn, gid)


def test_record_video_and_names(conn):
    gid = games.create_game(conn, "g", video_duration=90.0)
    other = games.create_game(conn, "h")
    first, second = "b" * 32 + ".mp4", "c" * 32 + ".webm"
    assert games.record_video(conn, gid, first, 10, video_duration=None) == []
    row = games.get_game(conn, gid)
    assert (row["video_filename"], row["video_size"], row["video_duration"]) == (first, 10, 90.0)
    assert games.record_video(conn, gid, second, 20, video_width=640) == [(Kind.GAMES, first)]
    assert games.record_video(conn, gid, second, 20) == []
    games.check_video_name(conn, gid, second)
    with pytest.raises(BadRequest):
        games.check_video_name(conn, other, second)
    for bad in ("video.mp4", "../x.mp4", "b" * 32 + ".exe", ""):
        with pytest.raises(BadRequest):
            games.check_video_name(conn, gid, bad)

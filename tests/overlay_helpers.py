"""Rows and objects the overlay/gallery tests stand on, made through units of work (exports
themselves belong to the export issue)."""

from __future__ import annotations

import json
from pathlib import Path

from lib.keys import Kind, new_name, object_key
from lib.projects.projects import add_working_clip, create_project


def write(api, uid: str, fn):
    return api.app.state.dbs.write(uid, fn)


def read(api, uid: str, fn):
    return api.app.state.dbs.read(uid, fn)


def make_game(api, uid: str, *, opponent: str = "Carlsbad", date: str = "2025-12-06",
              game_type: str = "home", size: tuple[int, int] = (1920, 1080),
              counts: tuple[int, int, int, int, int] = (0, 0, 0, 0, 0)) -> int:
    def fn(conn):
        cur = conn.execute(
            "INSERT INTO games (name, opponent_name, game_date, game_type, video_width,"
            " video_height, brilliant_count, good_count, interesting_count, mistake_count,"
            " blunder_count) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (f"Game vs {opponent}", opponent, date, game_type, *size, *counts))
        return cur.lastrowid
    return write(api, uid, fn)


def make_raw_clip(api, uid: str, game_id: int, start: float, end: float,
                  filename: str = "") -> int:
    def fn(conn):
        return conn.execute(
            "INSERT INTO raw_clips (game_id, start_time, end_time, rating, filename)"
            " VALUES (?, ?, ?, 5, ?)", (game_id, start, end, filename)).lastrowid
    return write(api, uid, fn)


def make_project(api, uid: str, name: str = "Brilliant Goal", *, aspect: str = "9:16",
                 working_video: bool = True, size: tuple[int, int] = (810, 1440),
                 duration: float = 2.0, highlights: list | None = None,
                 auto: bool = False) -> tuple[int, int | None]:
    """A project, optionally with a current working video (its row only)."""
    def fn(conn):
        pid = create_project(conn, name, aspect, is_auto_created=auto)
        if not working_video:
            return pid, None
        wid = conn.execute(
            "INSERT INTO working_videos (project_id, filename, width, height, duration, fps,"
            " highlights_data) VALUES (?, ?, ?, ?, ?, 30, ?)",
            (pid, new_name(".mp4"), *size, duration,
             None if highlights is None else json.dumps(highlights))).lastrowid
        conn.execute("UPDATE projects SET working_video_id = ? WHERE id = ?", (wid, pid))
        return pid, wid
    return write(api, uid, fn)


def add_clip(api, uid: str, project_id: int, raw_clip_id: int, *, crop: list | None = None,
             segments: dict | None = None, exported: bool = True) -> int:
    def fn(conn):
        cid = add_working_clip(conn, project_id, raw_clip_id=raw_clip_id)
        conn.execute(
            "UPDATE working_clips SET crop_data = ?, segments_data = ?, exported_at = ?"
            " WHERE id = ?",
            (None if crop is None else json.dumps(crop),
             None if segments is None else json.dumps(segments),
             "2025-12-07 10:00:00" if exported else None, cid))
        return cid
    return write(api, uid, fn)


def upload(api, uid: str, kind: Kind, data: bytes | Path) -> tuple[str, str]:
    """Put bytes (or a file) in the store under a fresh name: (name, key)."""
    name = new_name(".mp4")
    key = object_key(uid, kind, name)
    if isinstance(data, Path):
        api.store.upload_file(key, data, content_type="video/mp4")
    else:
        api.store.put_bytes(key, data, content_type="video/mp4")
    return name, key


def add_final_video(api, uid: str, project_id: int, data: bytes | Path, *,
                    source_type: str | None = "custom_project", game_id: int | None = None,
                    name: str | None = None, rating_counts: dict | None = None,
                    file_size: int | None = None) -> tuple[int, str]:
    """A final video as an export would leave it: object first, then the row (version
    max+1 per (project, game)); a project's final_video_id points at it."""
    filename, _ = upload(api, uid, Kind.FINAL_VIDEOS, data)

    def fn(conn):
        version = conn.execute(
            "SELECT COALESCE(MAX(version), 0) + 1 FROM final_videos"
            " WHERE project_id = ? AND game_id IS ?", (project_id, game_id)).fetchone()[0]
        fid = conn.execute(
            "INSERT INTO final_videos (project_id, filename, version, source_type, game_id,"
            " name, rating_counts, file_size) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (project_id, filename, version, source_type, game_id, name,
             None if rating_counts is None else json.dumps(rating_counts), file_size),
        ).lastrowid
        if project_id:
            conn.execute("UPDATE projects SET final_video_id = ? WHERE id = ?",
                         (fid, project_id))
        return fid
    return write(api, uid, fn), filename

"""Test data for the Projects & Framing API, written straight through units of work (games
and library clips belong to another router; exports to the lead's)."""

from __future__ import annotations

import json

import httpx

from lib.keys import Kind, new_name, object_key

USER = "a"


def write(api, fn, user: str = USER):
    return api.app.state.dbs.write(user, fn)


def read(api, fn, user: str = USER):
    return api.app.state.dbs.read(user, fn)


def add_game(api, *, user: str = USER, name: str = "wcfc-carlsbad", opponent: str | None =
             "Carlsbad", game_date: str | None = "2025-12-06", game_type: str | None = "home",
             video_filename: str | None = None) -> int:
    return write(api, lambda conn: conn.execute(
        "INSERT INTO games (name, video_filename, opponent_name, game_date, game_type)"
        " VALUES (?, ?, ?, ?, ?)", (name, video_filename, opponent, game_date, game_type),
    ).lastrowid, user)


def add_raw_clip(api, *, user: str = USER, game_id: int | None = None, start: float | None = 1.0,
                 end: float | None = 5.0, rating: int = 3, tags: list[str] | None = None,
                 name: str = "", filename: str = "", notes: str = "") -> int:
    return write(api, lambda conn: conn.execute(
        "INSERT INTO raw_clips (filename, rating, tags, name, notes, start_time, end_time,"
        " game_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (filename, rating, json.dumps(tags or []), name, notes, start, end, game_id),
    ).lastrowid, user)


def store_clip_file(api, data: bytes, *, user: str = USER) -> str:
    """A clip video object under raw_clips/ (what extraction produces); returns its name."""
    name = new_name(".mp4")
    api.store.put_bytes(object_key(user, Kind.RAW_CLIPS, name), data, "video/mp4")
    return name


def new_project(api, name: str = "P", aspect_ratio: str = "9:16", user: str = USER) -> int:
    r = api.client.post("/api/projects", json={"name": name, "aspect_ratio": aspect_ratio},
                        headers=api.as_user(user))
    assert r.status_code == 200, r.text
    return r.json()["id"]


def add_to_project(api, project_id: int, raw_clip_id: int, user: str = USER) -> int:
    r = api.client.post(f"/api/clips/projects/{project_id}/clips",
                        data={"raw_clip_id": str(raw_clip_id)}, headers=api.as_user(user))
    assert r.status_code == 200, r.text
    return r.json()["id"]


def clips(api, project_id: int, user: str = USER) -> list[dict]:
    r = api.client.get(f"/api/clips/projects/{project_id}/clips", headers=api.as_user(user))
    assert r.status_code == 200, r.text
    return r.json()


def mark_exported(api, project_id: int, user: str = USER) -> None:
    """What a framing export does to the clips (the export itself is the lead's issue)."""
    write(api, lambda conn: conn.execute(
        "UPDATE working_clips SET exported_at = CURRENT_TIMESTAMP WHERE project_id = ?",
        (project_id,)), user)


def add_working_video(api, project_id: int, data: bytes = b"working", *, user: str = USER,
                      overlay_version: int = 0) -> tuple[int, str]:
    """A framing output stored and linked to the project, as an export would leave it."""
    name = new_name(".mp4")
    api.store.put_bytes(object_key(user, Kind.WORKING_VIDEOS, name), data, "video/mp4")

    def link(conn):
        wv = conn.execute(
            "INSERT INTO working_videos (project_id, filename, overlay_version) VALUES (?, ?, ?)",
            (project_id, name, overlay_version)).lastrowid
        conn.execute("UPDATE projects SET working_video_id = ? WHERE id = ?", (wv, project_id))
        return wv

    return write(api, link, user), name


def versions(api, project_id: int, user: str = USER) -> list[dict]:
    return read(api, lambda conn: [dict(r) for r in conn.execute(
        "SELECT id, identity, version, exported_at, raw_clip_version, crop_data, segments_data,"
        " timing_data FROM working_clips WHERE project_id = ? ORDER BY identity, version",
        (project_id,))], user)


class paused:
    """Hold the runner's jobs so queued state can be observed; released on exit."""

    def __init__(self, api):
        self.runner = api.runner

    def __enter__(self):
        self.runner.pause()
        return self

    def __exit__(self, *exc):
        self.runner.resume()
        return False


def fetch_url(api, url: str) -> bytes:
    """GET a URL the editor was given: same-origin `/api/...` or presigned storage."""
    r = api.client.get(url) if url.startswith("/") else httpx.get(url)
    assert r.status_code == 200, r.text
    return r.content

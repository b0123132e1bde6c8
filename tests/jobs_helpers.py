"""Rows for job tests, written through the real unit of work."""

from __future__ import annotations

from lib.keys import Kind, new_name, object_key
from lib.projects.projects import add_working_clip, create_project


def make_game_with_clip(api, user_id: str, video_path, *, start: float = 0.0,
                        end: float = 2.0, rating: int = 4) -> dict:
    """A game whose video is in the store, and one raw clip already extracted from it."""
    game_video = new_name(".mp4")
    clip_file = new_name(".mp4")
    api.store.upload_file(object_key(user_id, Kind.GAMES, game_video), video_path)
    api.store.upload_file(object_key(user_id, Kind.RAW_CLIPS, clip_file), video_path)

    def write(conn):
        game_id = conn.execute(
            "INSERT INTO games (name, video_filename, opponent_name, game_date, game_type)"
            " VALUES ('g', ?, 'Carlsbad SC', '2025-12-06', 'home')", (game_video,)).lastrowid
        clip_id = conn.execute(
            "INSERT INTO raw_clips (filename, rating, tags, name, start_time, end_time, game_id)"
            " VALUES (?, ?, '[\"Goal\"]', '', ?, ?, ?)",
            (clip_file, rating, start, end, game_id)).lastrowid
        return {"game_id": game_id, "raw_clip_id": clip_id}

    return api.app.state.dbs.write(user_id, write)


def make_project(api, user_id: str, raw_clip_ids: list[int], name: str = "My Project",
                 aspect_ratio: str = "9:16") -> int:
    def write(conn):
        project_id = create_project(conn, name, aspect_ratio)
        for clip_id in raw_clip_ids:
            add_working_clip(conn, project_id, raw_clip_id=clip_id)
        return project_id

    return api.app.state.dbs.write(user_id, write)

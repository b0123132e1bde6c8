"""The gallery (#42–#45): final videos of projects and annotated games.

One entry per (project_id, game_id): its latest version. `project_name` is always a string
(the project's name, else the video's own name, else the game's display name, else
"Video {id}"). Objects live under Kind.FINAL_VIDEOS; rows are deleted first, their objects
after the commit (the caller does that with the names returned).
"""

from __future__ import annotations

import json
import re
import sqlite3
from typing import Any

from lib.errors import NotFound
from lib.keys import Kind, object_key
from lib.models import SourceType
from lib.names import RATING_COUNT_KEYS, game_display_name
from lib.projects.queries import projects_single_game
from lib.storage import ObjectStore

_LATEST_SQL = """
SELECT f.*, p.name AS project_title, p.is_auto_created AS project_auto
FROM (SELECT *, ROW_NUMBER() OVER (PARTITION BY project_id, game_id
                                   ORDER BY version DESC, id DESC) AS rank
      FROM final_videos) AS f
LEFT JOIN projects p ON p.id = f.project_id AND f.project_id != 0
WHERE f.rank = 1
ORDER BY f.created_at DESC, f.id DESC
"""


def final_video_key(user_id: str, filename: str) -> str:
    return object_key(user_id, Kind.FINAL_VIDEOS, filename)


def game_names(conn: sqlite3.Connection) -> dict[int, str]:
    rows = conn.execute("SELECT id, name, opponent_name, game_date, game_type, tournament_name"
                        " FROM games").fetchall()
    return {r["id"]: game_display_name(r) for r in rows}


def source_type_of(row: sqlite3.Row) -> str:
    """The stored source type; old rows without one are derived from the project."""
    if row["source_type"]:
        return row["source_type"]
    if not row["project_id"]:
        return SourceType.ANNOTATED_GAME.value
    if row["project_auto"]:
        return SourceType.BRILLIANT_CLIP.value
    return SourceType.CUSTOM_PROJECT.value


def _rating_counts(row: sqlite3.Row, game: sqlite3.Row | None) -> dict | None:
    try:
        stored = json.loads(row["rating_counts"]) if row["rating_counts"] else None
    except ValueError:
        stored = None
    if isinstance(stored, dict):
        return stored
    if game is not None and not row["project_id"]:  # old annotated rows: the game's counts
        return {key: game[f"{key}_count"] for key in RATING_COUNT_KEYS.values()}
    return None


def display_name(row: sqlite3.Row, names: dict[int, str]) -> str:
    for candidate in (row["project_title"], row["name"], names.get(row["game_id"])):
        if isinstance(candidate, str) and candidate.strip():
            return candidate.strip()
    return f"Video {row['id']}"


def _entry(row: sqlite3.Row, names: dict[int, str], project_games: dict[int, int],
           games: dict[int, sqlite3.Row]) -> dict[str, Any]:
    game_id = row["game_id"] if row["game_id"] is not None else None
    group_game = game_id if not row["project_id"] else project_games.get(row["project_id"])
    return {
        "id": row["id"],
        "project_id": row["project_id"],
        "project_name": display_name(row, names),
        "filename": row["filename"],
        "created_at": row["created_at"],
        "file_size": row["file_size"],
        "source_type": source_type_of(row),
        "game_id": game_id,
        "rating_counts": _rating_counts(row, games.get(game_id)),
        "group_key": names.get(group_game),
        "version": row["version"],
        "duration": row["duration"],
    }


def gallery_entries(conn: sqlite3.Connection,
                    source_type: SourceType | str | None = None) -> list[dict[str, Any]]:
    """#42: the latest final video per (project, game), newest first; `file_size` is the
    column (see `fill_file_sizes` for the storage fallback)."""
    games = {r["id"]: r for r in conn.execute("SELECT * FROM games")}
    names, project_games = game_names(conn), projects_single_game(conn)
    entries = [_entry(row, names, project_games, games)
               for row in conn.execute(_LATEST_SQL).fetchall()]
    if source_type is not None:
        wanted = SourceType(source_type).value
        entries = [e for e in entries if e["source_type"] == wanted]
    return entries


def gallery_count(conn: sqlite3.Connection) -> int:
    """#43: how many entries the unfiltered gallery shows."""
    row = conn.execute("SELECT COUNT(*) FROM (SELECT DISTINCT project_id, game_id"
                       " FROM final_videos)").fetchone()
    return row[0]


def fill_file_sizes(entries: list[dict], store: ObjectStore, user_id: str) -> list[dict]:
    """Entries without a stored file_size get the object's size (None when it is missing)."""
    for entry in entries:
        if entry["file_size"] is None:
            info = store.head(final_video_key(user_id, entry["filename"]))
            entry["file_size"] = info.size if info is not None else None
    return entries


def require_final_video(conn: sqlite3.Connection, final_video_id: int) -> sqlite3.Row:
    row = conn.execute(
        "SELECT f.*, p.name AS project_title, p.is_auto_created AS project_auto"
        " FROM final_videos f LEFT JOIN projects p ON p.id = f.project_id AND f.project_id != 0"
        " WHERE f.id = ?", (final_video_id,)).fetchone()
    if row is None:
        raise NotFound(f"Download {final_video_id} does not exist.")
    return row


def safe_file_stem(name: str) -> str:
    """A filename-safe version of a display name (letters, digits, '_' and '-')."""
    return re.sub(r"[^A-Za-z0-9_-]+", "_", name).strip("_") or "video"


def download_file(conn: sqlite3.Connection, final_video_id: int) -> tuple[str, str]:
    """#44: (stored filename, download filename `<Name>_final.mp4`)."""
    row = require_final_video(conn, final_video_id)
    return row["filename"], f"{safe_file_stem(display_name(row, game_names(conn)))}_final.mp4"


def delete_gallery_entry(conn: sqlite3.Connection, final_video_id: int) -> list[str]:
    """#45: delete the entry: this final video and the older versions it hid (same project
    and game). projects.final_video_id is cleared by its FK, before/after tracks cascade.
    Returns the filenames no remaining row references, to delete AFTER the commit."""
    row = require_final_video(conn, final_video_id)
    group = conn.execute(
        "SELECT id, filename FROM final_videos WHERE project_id = ? AND game_id IS ?",
        (row["project_id"], row["game_id"])).fetchall()
    conn.executemany("DELETE FROM final_videos WHERE id = ?", [(g["id"],) for g in group])
    names = {g["filename"] for g in group}
    marks = ",".join("?" * len(names))
    still_used = {r[0] for r in conn.execute(
        f"SELECT filename FROM final_videos WHERE filename IN ({marks})", tuple(names))}
    return sorted(names - still_used)

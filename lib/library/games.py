"""Games: rows, display names, the uploaded game video, cached per-game clip counts."""

from __future__ import annotations

import re
import sqlite3
from typing import Any

from lib.db.migrate import AGGREGATE_SQL, GAME_COUNTS_SQL
from lib.errors import BadRequest, NotFound
from lib.keys import Kind
from lib.projects.projects import delete_project, project_is_worked_on

DETAIL_FIELDS = ("name", "opponent_name", "game_date", "game_type", "tournament_name")
VIDEO_FIELDS = ("video_duration", "video_width", "video_height", "video_size")
# Names we generate for game videos (lib.keys.new_name): uuid hex + a video extension.
VIDEO_NAME_RE = re.compile(r"^[0-9a-f]{32}\.(mp4|mov|webm|mkv)$")
NOT_A_VIDEO = "The file is not a video (an MP4, MOV, WebM or MKV file is expected)."

# ISO-BMFF (MP4/MOV) top-level boxes that may open a file; QuickTime files may skip `ftyp`.
_BMFF_BOXES = (b"ftyp", b"moov", b"mdat", b"wide", b"free", b"skip", b"pnot")
_EBML_MAGIC = b"\x1a\x45\xdf\xa3"
SNIFF_BYTES = 64


def video_extension(head: bytes) -> str | None:
    """The extension of the container the first bytes announce (.mp4 for MP4/MOV, .webm,
    .mkv), or None when they are not a video container we accept."""
    if len(head) >= 8 and head[4:8] in _BMFF_BOXES:
        return ".mp4"
    if head.startswith(_EBML_MAGIC):
        return ".webm" if b"webm" in head[:SNIFF_BYTES] else ".mkv"
    return None


def create_game(conn: sqlite3.Connection, name: str, **fields: Any) -> int:
    """A new game (no video yet). `fields`: opponent/date/type/tournament and the video
    metadata the client measured locally."""
    unknown = set(fields) - set(DETAIL_FIELDS) - set(VIDEO_FIELDS)
    if unknown:
        raise ValueError(f"unknown game fields {sorted(unknown)}")
    values = {"name": name, **fields}
    cols = ", ".join(values)
    marks = ", ".join("?" for _ in values)
    cur = conn.execute(f"INSERT INTO games ({cols}) VALUES ({marks})", tuple(values.values()))
    return cur.lastrowid


def list_games(conn: sqlite3.Connection) -> list[sqlite3.Row]:
    return conn.execute("SELECT * FROM games ORDER BY created_at DESC, id DESC").fetchall()


def get_game(conn: sqlite3.Connection, game_id: int) -> sqlite3.Row:
    row = conn.execute("SELECT * FROM games WHERE id = ?", (game_id,)).fetchone()
    if row is None:
        raise NotFound(f"Game {game_id} not found.")
    return row


def update_game(conn: sqlite3.Connection, game_id: int, **fields: Any) -> sqlite3.Row:
    """Rename a game or change its details (only the given fields)."""
    get_game(conn, game_id)
    unknown = set(fields) - set(DETAIL_FIELDS)
    if unknown:
        raise ValueError(f"unknown game fields {sorted(unknown)}")
    if "name" in fields and not (fields["name"] or "").strip():
        raise BadRequest("A game name cannot be empty.")
    if fields:
        sets = ", ".join(f"{col} = ?" for col in fields)
        conn.execute(f"UPDATE games SET {sets} WHERE id = ?", (*fields.values(), game_id))
    return get_game(conn, game_id)


def list_tournaments(conn: sqlite3.Connection) -> list[str]:
    rows = conn.execute(
        "SELECT DISTINCT tournament_name FROM games"
        " WHERE tournament_name IS NOT NULL AND TRIM(tournament_name) != ''"
        " ORDER BY tournament_name COLLATE NOCASE"
    ).fetchall()
    return [r[0] for r in rows]


def refresh_game_counts(conn: sqlite3.Connection, game_id: int | None) -> None:
    """Recompute one game's cached clip counts and aggregate score (the migration's SQL,
    restricted to the game)."""
    if game_id is None:
        return
    conn.execute(GAME_COUNTS_SQL + " WHERE id = ?", (game_id,))
    conn.execute(AGGREGATE_SQL + " WHERE id = ?", (game_id,))


def delete_game(conn: sqlite3.Connection, game_id: int) -> list[tuple[Kind, str]]:
    """Delete the game; its clips' rows cascade and their unworked auto projects go too.
    Returns the objects to delete AFTER the commit: the game video, the clips' files and
    whatever the deleted projects owned."""
    game = get_game(conn, game_id)
    objects: list[tuple[Kind, str]] = []
    if game["video_filename"]:
        objects.append((Kind.GAMES, game["video_filename"]))
    clips = conn.execute("SELECT filename, auto_project_id FROM raw_clips WHERE game_id = ?",
                         (game_id,)).fetchall()
    for clip in clips:
        if clip["filename"]:
            objects.append((Kind.RAW_CLIPS, clip["filename"]))
        project_id = clip["auto_project_id"]
        if project_id is not None and not project_is_worked_on(conn, project_id):
            objects.extend(delete_project(conn, project_id))
    conn.execute("DELETE FROM games WHERE id = ?", (game_id,))
    return objects


def check_video_name(conn: sqlite3.Connection, game_id: int, filename: str) -> None:
    """A client-returned video name must be one we generate and not another game's video."""
    if not VIDEO_NAME_RE.match(filename or ""):
        raise BadRequest("Unknown video file name; ask for a new upload URL.")
    other = conn.execute("SELECT id FROM games WHERE video_filename = ? AND id != ?",
                         (filename, game_id)).fetchone()
    if other is not None:
        raise BadRequest("That video file belongs to another game.")


def record_video(conn: sqlite3.Connection, game_id: int, filename: str, size: int,
                 **metadata: float | int | None) -> list[tuple[Kind, str]]:
    """Point the game at its uploaded video; metadata given (duration/width/height) replaces
    the stored values. Returns the replaced video object, if any, to delete after commit."""
    game = get_game(conn, game_id)
    unknown = set(metadata) - set(VIDEO_FIELDS)
    if unknown:
        raise ValueError(f"unknown video fields {sorted(unknown)}")
    values = {"video_filename": filename, "video_size": size,
              **{k: v for k, v in metadata.items() if v is not None}}
    sets = ", ".join(f"{col} = ?" for col in values)
    conn.execute(f"UPDATE games SET {sets} WHERE id = ?", (*values.values(), game_id))
    old = game["video_filename"]
    return [(Kind.GAMES, old)] if old and old != filename else []

"""Schema migrations via PRAGMA user_version.

user_version 0 with tables present = a database written by the old backend: every table is
rebuilt in place with the current definition (real FKs and cascades, new columns), JSON shapes
are normalized, `modal_tasks` becomes `extraction_tasks`, working clips get identities, game
aggregates are recomputed, and AUTOINCREMENT counters are kept so ids are never reused.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import uuid

from lib.db.schema import INDEXES, SCHEMA_VERSION, TABLE_ORDER, TABLES
from lib.framing.state import normalize_segments, normalize_timing

log = logging.getLogger(__name__)

_LEGACY_SOURCE = {"extraction_tasks": "modal_tasks"}
_STATUS_MAP = {
    "completed": "complete",
    "success": "complete",
    "done": "complete",
    "failed": "error",
    "cancelled": "error",
    "running": "processing",
}
_TASK_STATUS_MAP = {"completed": "complete", "success": "complete", "failed": "error",
                    "processing": "running"}


class NewerDatabase(Exception):
    """The database was written by a newer version of this service."""


def _tables(conn: sqlite3.Connection) -> set[str]:
    rows = conn.execute("SELECT name FROM sqlite_master WHERE type='table'").fetchall()
    return {r[0] for r in rows}


def _columns(conn: sqlite3.Connection, table: str) -> list[str]:
    return [r[1] for r in conn.execute(f'PRAGMA table_info("{table}")')]


def create_schema(conn: sqlite3.Connection) -> None:
    for name in TABLE_ORDER:
        conn.execute(TABLES[name])
    for sql in INDEXES:
        conn.execute(sql)


def migrate(conn: sqlite3.Connection) -> None:
    """Bring `conn`'s database to SCHEMA_VERSION (idempotent)."""
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    if version == SCHEMA_VERSION:
        return
    if version > SCHEMA_VERSION:
        raise NewerDatabase(f"Database schema {version} is newer than {SCHEMA_VERSION}.")
    existing = _tables(conn) - {"sqlite_sequence"}
    conn.execute("PRAGMA foreign_keys = OFF")
    try:
        conn.execute("BEGIN IMMEDIATE")
        if version == 0 and not existing:
            create_schema(conn)
        elif version == 0:
            _migrate_legacy(conn, existing)
        else:
            for step in STEPS[version - 1:]:
                step(conn)
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    finally:
        conn.execute("PRAGMA foreign_keys = ON")


def _add_clip_starts(conn: sqlite3.Connection) -> None:
    """v1 → v2: where each clip starts in a working video (joins may overlap clips)."""
    conn.execute("ALTER TABLE working_videos ADD COLUMN clip_starts TEXT")


def _add_commit_log(conn: sqlite3.Connection) -> None:
    """v2 → v3: the ids of recent commits (exactly-once uploads, lib/db/sync.py)."""
    conn.execute(TABLES["commit_log"].replace("CREATE TABLE", "CREATE TABLE IF NOT EXISTS", 1))


# STEPS[v - 1] takes a database from version v to v + 1.
STEPS = [_add_clip_starts, _add_commit_log]
assert len(STEPS) == SCHEMA_VERSION - 1


# -- legacy (old backend, user_version 0) ----------------------------------------------------

def _json(text, default):
    if text is None or text == "":
        return default
    if not isinstance(text, str):
        return default
    try:
        return json.loads(text)
    except ValueError:
        return default


def _normalized_json(text: str | None, normalize) -> str | None:
    """The framing rules' normal form of an old JSON column; unreadable data stays as it is."""
    data = _json(text, None)
    if not isinstance(data, dict):
        return text
    return json.dumps(normalize(data))


def normalize_regions_json(text: str | None) -> str | None:
    """Regions with snake_case start_time/end_time only (camelCase read, then dropped)."""
    data = _json(text, None)
    if not isinstance(data, list):
        return text
    for region in data:
        if not isinstance(region, dict):
            continue
        for camel, snake in (("startTime", "start_time"), ("endTime", "end_time")):
            if camel in region:
                value = region.pop(camel)
                region.setdefault(snake, value)
    return json.dumps(data)


def _fix_row(table: str, row: dict) -> dict:
    if table == "raw_clips":
        tags = _json(row.get("tags"), [])
        row["tags"] = json.dumps([str(t) for t in tags] if isinstance(tags, list) else [])
        row["name"] = row.get("name") or ""
        row["notes"] = row.get("notes") or ""
        row["filename"] = row.get("filename") or ""
        rating = row.get("rating")
        row["rating"] = min(5, max(1, int(rating))) if isinstance(rating, int | float) else 3
        row["default_highlight_regions"] = normalize_regions_json(
            row.get("default_highlight_regions"))
        row["boundaries_version"] = row.get("boundaries_version") or 1
    elif table == "working_clips":
        row["segments_data"] = _normalized_json(row.get("segments_data"), normalize_segments)
        row["timing_data"] = _normalized_json(row.get("timing_data"), normalize_timing)
        row["sort_order"] = row.get("sort_order") or 0
        row["version"] = row.get("version") or 1
    elif table == "working_videos":
        row["highlights_data"] = normalize_regions_json(row.get("highlights_data"))
        if row.get("effect_type") not in ("original", "brightness_boost", "dark_overlay"):
            row["effect_type"] = "original"
        row["overlay_version"] = row.get("overlay_version") or 0
        row["version"] = row.get("version") or 1
    elif table == "final_videos":
        if row.get("source_type") not in (None, "brilliant_clip", "custom_project",
                                          "annotated_game"):
            row["source_type"] = None
        row["project_id"] = row.get("project_id") or 0
        row["version"] = row.get("version") or 1
    elif table == "projects":
        if row.get("aspect_ratio") not in ("16:9", "9:16", "4:3", "1:1"):
            row["aspect_ratio"] = "9:16"
        if row.get("current_mode") not in ("annotate", "framing", "overlay"):
            row["current_mode"] = "framing"
        row["is_auto_created"] = 1 if row.get("is_auto_created") else 0
    elif table == "games":
        if row.get("game_type") not in (None, "home", "away", "tournament"):
            row["game_type"] = None
    elif table == "export_jobs":
        status = _STATUS_MAP.get(row.get("status"), row.get("status"))
        valid = ("pending", "processing", "complete", "error")
        row["status"] = status if status in valid else "error"
        if row.get("type") not in ("framing", "overlay", "multi_clip", "annotate"):
            row["type"] = "framing"
        row["input_data"] = row.get("input_data") or "{}"
        row["project_id"] = row.get("project_id") or 0
    elif table == "extraction_tasks":
        status = _TASK_STATUS_MAP.get(row.get("status"), row.get("status"))
        row["status"] = status if status in ("pending", "running", "complete", "error") else "error"
        params = _json(row.get("params"), {})
        if isinstance(params, dict) and row.get("task_type"):
            params.setdefault("task_type", row["task_type"])
        row["params"] = json.dumps(params)
    elif table == "before_after_tracks":
        row["source_key"] = row.get("source_key") or _path_to_key(row.get("source_path") or "")
    return row


def _path_to_key(path: str) -> str:
    """Old rows hold a local path or a key; keep the `{kind}/{name}` tail when recognizable."""
    parts = [p for p in path.replace("\\", "/").split("/") if p]
    kinds = ("raw_clips", "uploads", "games", "working_videos", "final_videos")
    for i, part in enumerate(parts[:-1]):
        if part in kinds:
            return "/".join(parts[max(0, i - 1):])
    return path


def _assign_identities(rows: list[dict]) -> None:
    """Versions of one clip share an identity: same project and same raw clip (or upload)."""
    groups: dict[tuple, str] = {}
    for row in rows:
        if row.get("identity"):
            continue
        if row.get("raw_clip_id") is not None:
            key = (row["project_id"], "raw", row["raw_clip_id"])
        elif row.get("uploaded_filename"):
            key = (row["project_id"], "upload", row["uploaded_filename"])
        else:
            key = ("row", row["id"])
        row["identity"] = groups.setdefault(key, uuid.uuid4().hex)
    # Two rows of one identity with the same version: renumber the later ones upwards.
    seen: dict[str, set[int]] = {}
    for row in sorted(rows, key=lambda r: (r["identity"], r.get("version") or 1, r["id"])):
        used = seen.setdefault(row["identity"], set())
        while row["version"] in used:
            row["version"] += 1
        used.add(row["version"])


def _dedupe_end_times(rows: list[dict]) -> None:
    """UNIQUE(game_id, end_time): nudge a duplicate by a microsecond rather than drop it."""
    seen: set[tuple] = set()
    for row in rows:
        if row.get("game_id") is None or row.get("end_time") is None:
            continue
        while (row["game_id"], row["end_time"]) in seen:
            log.warning("raw clip %s: duplicate end_time nudged", row["id"])
            row["end_time"] = row["end_time"] + 1e-6
        seen.add((row["game_id"], row["end_time"]))


def _migrate_legacy(conn: sqlite3.Connection, existing: set[str]) -> None:
    sequences = {}
    if "sqlite_sequence" in _tables(conn):
        sequences = dict(conn.execute("SELECT name, seq FROM sqlite_sequence").fetchall())
    for name in TABLE_ORDER:
        source = name if name in existing else _LEGACY_SOURCE.get(name)
        ddl = TABLES[name].replace(f"CREATE TABLE {name} (", f"CREATE TABLE _new_{name} (", 1)
        conn.execute(ddl)
        if source not in existing:
            continue
        new_cols = _columns(conn, f"_new_{name}")
        cur = conn.execute(f'SELECT * FROM "{source}"')
        names = [d[0] for d in cur.description]
        rows = [dict(zip(names, r, strict=True)) for r in cur.fetchall()]
        rows = [_fix_row(name, row) for row in rows]
        if name == "working_clips":
            _assign_identities(rows)
        if name == "raw_clips":
            _dedupe_end_times(rows)
        cols = [c for c in new_cols if any(c in row for row in rows)] if rows else []
        if rows:
            placeholders = ", ".join("?" for _ in cols)
            conn.executemany(
                f'INSERT INTO "_new_{name}" ({", ".join(cols)}) VALUES ({placeholders})',
                [tuple(row.get(c) for c in cols) for row in rows],
            )
    for name in existing & (set(TABLES) | set(_LEGACY_SOURCE.values())):
        conn.execute(f'DROP TABLE "{name}"')  # tables we do not know are left as they are
    for name in TABLE_ORDER:
        conn.execute(f'ALTER TABLE "_new_{name}" RENAME TO "{name}"')
    for sql in INDEXES:
        conn.execute(sql)
    _repair_references(conn)
    _restore_sequences(conn, sequences)
    recompute_all_game_counts(conn)


def _repair_references(conn: sqlite3.Connection) -> None:
    """The old backend had no cascades: null out dangling optional references and drop rows
    whose required parent is gone (what a cascade would have done)."""
    nullable = {
        ("raw_clips", "game_id"), ("raw_clips", "auto_project_id"),
        ("projects", "working_video_id"), ("projects", "final_video_id"),
        ("working_clips", "raw_clip_id"), ("extraction_tasks", "project_id"),
    }
    for _ in range(5):
        problems = conn.execute("PRAGMA foreign_key_check").fetchall()
        if not problems:
            return
        for table, rowid, parent, fk_index in problems:
            fks = conn.execute(f'PRAGMA foreign_key_list("{table}")').fetchall()
            fk = [r for r in fks if r[0] == fk_index]
            column = fk[0][3] if fk else None
            if (table, column) in nullable:
                conn.execute(f'UPDATE "{table}" SET "{column}" = NULL WHERE rowid = ?', (rowid,))
            else:
                log.warning("dropping orphan %s row %s (missing %s)", table, rowid, parent)
                conn.execute(f'DELETE FROM "{table}" WHERE rowid = ?', (rowid,))


def _restore_sequences(conn: sqlite3.Connection, sequences: dict[str, int]) -> None:
    renamed = {"modal_tasks": "extraction_tasks"}
    for old_name, seq in sequences.items():
        name = renamed.get(old_name, old_name)
        if name not in TABLES:
            continue
        row = conn.execute("SELECT seq FROM sqlite_sequence WHERE name = ?", (name,)).fetchone()
        if row is None:
            conn.execute("INSERT INTO sqlite_sequence (name, seq) VALUES (?, ?)", (name, seq))
        elif row[0] < seq:
            conn.execute("UPDATE sqlite_sequence SET seq = ? WHERE name = ?", (seq, name))


_COUNT = "(SELECT COUNT(*) FROM raw_clips r WHERE r.game_id = games.id{cond})"
GAME_COUNTS_SQL = "UPDATE games SET " + ", ".join(
    f"{column} = " + _COUNT.format(cond=cond)
    for column, cond in (
        ("clip_count", ""),
        ("brilliant_count", " AND r.rating = 5"),
        ("good_count", " AND r.rating = 4"),
        ("interesting_count", " AND r.rating = 3"),
        ("mistake_count", " AND r.rating = 2"),
        ("blunder_count", " AND r.rating = 1"),
    )
)
AGGREGATE_SQL = """
UPDATE games SET aggregate_score = 10 * brilliant_count + 5 * good_count + 2 * interesting_count
    - 2 * mistake_count - 5 * blunder_count
"""


def recompute_all_game_counts(conn: sqlite3.Connection) -> None:
    conn.execute(GAME_COUNTS_SQL)
    conn.execute(AGGREGATE_SQL)

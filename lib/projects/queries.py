"""Project list (#23) and detail (#24): every field the editor reads, computed over the
LATEST version of each clip (a clip with several versions counts once)."""

from __future__ import annotations

import sqlite3
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping

from lib.framing.state import has_framing_edits
from lib.keys import Kind
from lib.names import game_display_name
from lib.projects.clip_versions import (
    clip_display_name,
    clip_tags,
    latest_clips,
    require_project,
    stored_framing,
)
from lib.projects.working_clips import clip_states

UrlFor = Callable[[Kind, str], str | None]

_PROJECTS = (
    "SELECT p.*, wv.filename AS working_video_filename, wv.overlay_version"
    " FROM projects p LEFT JOIN working_videos wv ON wv.id = p.working_video_id"
)


def _games(conn: sqlite3.Connection, game_ids: set[int]) -> dict[int, sqlite3.Row]:
    if not game_ids:
        return {}
    marks = ",".join("?" for _ in game_ids)
    rows = conn.execute(f"SELECT * FROM games WHERE id IN ({marks})", tuple(game_ids))
    return {r["id"]: r for r in rows}


def single_game_of(clips: Iterable[Mapping]) -> int | None:
    """The game every clip of a project comes from, if there is exactly one: the project
    list's `group_key` (#23) and the gallery's follow it."""
    game_ids = {c["game_id"] for c in clips if c["game_id"] is not None}
    return next(iter(game_ids)) if len(game_ids) == 1 else None


def projects_single_game(conn: sqlite3.Connection) -> dict[int, int]:
    """project_id → `single_game_of` its latest clips, for every project that has one."""
    by_project: dict[int, list] = defaultdict(list)
    for clip in latest_clips(conn):
        by_project[clip["project_id"]].append(clip)
    games = {pid: single_game_of(clips) for pid, clips in by_project.items()}
    return {pid: game for pid, game in games.items() if game is not None}


def _summary(project: sqlite3.Row, clips: list[sqlite3.Row], states: dict[int, dict],
             games: dict[int, sqlite3.Row]) -> dict:
    clip_games = [games[c["game_id"]] for c in clips if c["game_id"] in games]
    distinct = {g["id"]: g for g in clip_games}
    exported = sum(1 for c in clips if c["exported_at"])
    in_progress = sum(
        1 for c in clips
        if not c["exported_at"] and (c["version"] > 1 or has_framing_edits(*stored_framing(c)))
    )
    extracted = sum(1 for c in clips if states[c["id"]]["is_extracted"])
    extracting = sum(1 for c in clips
                     if not states[c["id"]]["is_extracted"] and states[c["id"]]["is_extracting"])
    group_game = single_game_of(clips)
    group_key = game_display_name(games[group_game]) if group_game in games else None
    return {
        "id": project["id"],
        "name": project["name"],
        "aspect_ratio": project["aspect_ratio"],
        "working_video_id": project["working_video_id"],
        "final_video_id": project["final_video_id"],
        "current_mode": project["current_mode"],
        "clip_count": len(clips),
        "clips_exported": exported,
        "clips_in_progress": in_progress,
        "clips_extracted": extracted,
        "clips_extracting": extracting,
        "clips_pending_extraction": len(clips) - extracted - extracting,
        "has_working_video": project["working_video_id"] is not None,
        "has_overlay_edits": bool(project["working_video_id"] is not None
                                  and (project["overlay_version"] or 0) > 0),
        "has_final_video": project["final_video_id"] is not None,
        "is_auto_created": bool(project["is_auto_created"]),
        "created_at": project["created_at"],
        "last_opened_at": project["last_opened_at"],
        "game_dates": sorted({g["game_date"] or "" for g in distinct.values()}),
        "group_key": group_key,
        "clips": [
            {
                "id": c["id"],
                "raw_clip_id": c["raw_clip_id"],
                "name": clip_display_name(c),
                "tags": clip_tags(c),
                "rating": c["rating"],
                "is_extracted": states[c["id"]]["is_extracted"],
                "is_extracting": states[c["id"]]["is_extracting"],
            }
            for c in clips
        ],
    }


def _summaries(conn: sqlite3.Connection, projects: list[sqlite3.Row],
               project_id: int | None = None) -> list[dict]:
    clips = latest_clips(conn, project_id)
    by_project: dict[int, list[sqlite3.Row]] = defaultdict(list)
    for clip in clips:
        by_project[clip["project_id"]].append(clip)
    states = clip_states(conn, clips)
    games = _games(conn, {c["game_id"] for c in clips if c["game_id"] is not None})
    return [_summary(p, by_project.get(p["id"], []), states, games) for p in projects]


def list_projects(conn: sqlite3.Connection) -> list[dict]:
    """#23: every project, newest first."""
    projects = conn.execute(_PROJECTS + " ORDER BY p.created_at DESC, p.id DESC").fetchall()
    return _summaries(conn, projects)


def project_detail(conn: sqlite3.Connection, project_id: int, url_for: UrlFor) -> dict:
    """#24: the list fields plus `working_video_url` (set whenever working_video_id is)."""
    require_project(conn, project_id)
    project = conn.execute(_PROJECTS + " WHERE p.id = ?", (project_id,)).fetchone()
    summary = _summaries(conn, [project], project_id)[0]
    filename = project["working_video_filename"]
    summary["working_video_url"] = (
        url_for(Kind.WORKING_VIDEOS, filename) if filename else None)
    return summary

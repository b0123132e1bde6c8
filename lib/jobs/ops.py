"""Ad hoc operations behind `modal run modal_app.py::<entrypoint>` (and usable locally):
render or overlay a project, extract one clip, inspect a user's database, mint a token."""

from __future__ import annotations

import time

from lib.auth import mint_token
from lib.jobs.control import JobServices, start_job, wait_job
from lib.jobs.detect_ops import detect_players, video_key
from lib.jobs.export_specs import before_after_tracks, overlay_spec, render_spec
from lib.jobs.follow_ops import auto_frame_clip
from lib.keys import database_key
from lib.models import ExportType
from lib.projects.extraction import enqueue


def _export_id(kind: str) -> str:
    return f"cli_{kind}_{int(time.time() * 1000)}"


def render_project(services: JobServices, user_id: str, project_id: int,
                   include_audio: bool = True) -> dict:
    export_id = _export_id("render")
    start_job(services, user_id, export_id, ExportType.FRAMING,
              lambda conn: render_spec(conn, user_id, project_id, include_audio=include_audio),
              project_id=project_id)
    return wait_job(services, user_id, export_id)


def overlay_project(services: JobServices, user_id: str, project_id: int,
                    effect_type: str | None = None) -> dict:
    export_id = _export_id("overlay")

    def build(conn):
        effect = effect_type or conn.execute(
            "SELECT w.effect_type FROM projects p JOIN working_videos w"
            " ON w.id = p.working_video_id WHERE p.id = ?", (project_id,),
        ).fetchone()
        effect = effect if isinstance(effect, str) else (effect[0] if effect else "original")
        spec = overlay_spec(conn, user_id, project_id, effect)
        spec["tracks"] = before_after_tracks(conn, user_id, project_id)
        return spec

    start_job(services, user_id, export_id, ExportType.OVERLAY, build, project_id=project_id)
    return wait_job(services, user_id, export_id)


def extract_clip(services: JobServices, user_id: str, raw_clip_id: int) -> dict:
    """(Re-)extract one raw clip from its game video, synchronously."""
    task_id = services.dbs.write(user_id, lambda conn: enqueue(conn, raw_clip_id, refresh=True))
    if task_id is None:
        return {"status": "skipped", "reason": "The clip has no game video, or is queued."}
    return services.runner.call("extract", {"user_id": user_id, "task_id": task_id})


def inspect_user_db(services: JobServices, user_id: str) -> dict:
    """Schema version, size, version (etag), integrity and row counts of a user's database."""
    info = services.dbs.store.head(database_key(user_id))

    def read(conn):
        tables = [r[0] for r in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
            " ORDER BY name")]
        return {
            "user_id": user_id,
            "exists": info is not None,
            "size_bytes": info.size if info else 0,
            "etag": info.etag if info else None,
            "schema_version": conn.execute("PRAGMA user_version").fetchone()[0],
            "integrity": conn.execute("PRAGMA integrity_check").fetchone()[0],
            "tables": {t: conn.execute(f'SELECT COUNT(*) FROM "{t}"').fetchone()[0]
                       for t in tables},
        }

    return services.dbs.read(user_id, read)


def detect(services: JobServices, user_id: str, project_id: int,
           timestamps: list[float], confidence: float = 0.5) -> dict:
    """Players in a project's working video (what POST /api/detect/players answers)."""
    key = services.dbs.read(user_id, lambda conn: video_key(conn, user_id,
                                                            project_id=project_id))
    return detect_players(services.runner, key, timestamps=timestamps, confidence=confidence)


def auto_frame(services: JobServices, user_id: str, project_id: int, clip_id: int,
               frame: int, box: dict) -> dict:
    """The `auto_frame` gesture on one working clip, outside a request."""
    return auto_frame_clip(services, user_id, project_id, clip_id, frame, box)


def session_token(secret: str, user_id: str, days: int = 30) -> str:
    if not secret:
        raise ValueError("AUTH_SECRET is not set.")
    return mint_token(secret, user_id, ttl_seconds=days * 24 * 3600)

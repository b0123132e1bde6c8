"""Export requests: framing (#33 render, #34 multi-clip), overlay (#35), the final video (#36)
and the annotated game video (#41).

#33–#35 answer only when the output row exists (contract §0.1); #41 answers at once and
completes over the WebSocket. A wait longer than `REQUEST_BUDGET_S` (below Modal's 150 s
cut) answers 303 to `GET /api/exports/{id}/result`, which waits again and answers as the
export request would have; the browser follows 303s on its own (same origin: the editor is
served by this app, web/editor.py). The job never depends on any of these requests.
"""

from __future__ import annotations

import json
import math
import re
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from lib.errors import BadRequest, NotFound
from lib.jobs.control import await_job, start_job
from lib.jobs.export_specs import (
    annotate_spec,
    before_after_tracks,
    multi_clip_spec,
    overlay_spec,
    project_row,
    render_spec,
)
from lib.jobs.records import job_with_project, validate_export_id
from lib.keys import Kind, new_name, object_key, row_id
from lib.models import ExportStatus, ExportType
from web.deps import CurrentUser, Db, Store, services
from web.fields import PathId, RowId
from web.media import object_response

router = APIRouter(tags=["exports"])


class RenderRequest(BaseModel):
    project_id: RowId
    export_id: str = Field(min_length=1, max_length=200)
    export_mode: str = "fast"
    target_fps: float | None = Field(default=None, gt=0, le=240)
    include_audio: bool = True


class OverlayRequest(BaseModel):
    project_id: RowId
    export_id: str = Field(min_length=1, max_length=200)
    effect_type: str = "original"


def _answer_row(request: Request, row: dict) -> dict | JSONResponse:
    """What #33/#34/#35 answer for a finished job (the result URL answers the same)."""
    if row["status"] != ExportStatus.COMPLETE:
        return _failed(row)
    base = {"success": True, "export_id": row["id"], "filename": row["output_filename"]}
    job_type = ExportType(row["type"])
    if job_type == ExportType.FRAMING:
        return {**base, "working_video_id": row["output_video_id"]}
    if job_type == ExportType.MULTI_CLIP:
        uploads = json.loads(row["input_data"] or "{}").get("spec", {}).get("uploads") or []
        return {**base, "working_video_id": row["output_video_id"], "clip_count": len(uploads)}
    if job_type == ExportType.OVERLAY:
        return {**base, "final_video_id": row["output_video_id"],
                "modal_used": request.app.state.runner.kind == "modal"}
    return {**base, "output_video_id": row["output_video_id"], "status": row["status"]}


async def _wait_and_answer(request: Request, user_id: str, export_id: str):
    budget = request.app.state.settings.request_budget_s
    row = await await_job(services(request), user_id, export_id, budget=budget)
    if row is None:  # still running: the browser follows this and waits again
        return RedirectResponse(f"/api/exports/{quote(export_id, safe='')}/result",
                                status_code=303)
    return _answer_row(request, row)


@router.get("/api/exports/{export_id}/result")
async def export_result(export_id: str, request: Request, user_id: CurrentUser, db: Db):
    """Where a long export's request continues (303): waits up to the budget again."""
    await run_in_threadpool(db.read, lambda conn: job_with_project(conn, export_id))  # 404
    return await _wait_and_answer(request, user_id, export_id)


def _failed(row: dict) -> JSONResponse:
    message = row["error"] or "The export failed."
    return JSONResponse({"detail": message, "error": message, "message": message,
                         "export_id": row["id"]}, status_code=422)


def _require_project(db, project_id: int) -> None:
    """404 before anything is uploaded for an unknown project."""
    db.read(lambda conn: project_row(conn, project_id))


@router.post("/api/export/render")
async def render(body: RenderRequest, request: Request, user_id: CurrentUser):
    await run_in_threadpool(
        start_job, services(request), user_id, body.export_id, ExportType.FRAMING,
        lambda conn: render_spec(conn, user_id, body.project_id,
                                 include_audio=body.include_audio, target_fps=body.target_fps),
        project_id=body.project_id,
    )
    return await _wait_and_answer(request, user_id, body.export_id)


def _form_id(form, key: str) -> int:
    values = form.getlist(key)
    if not values:
        raise BadRequest(f"{key} is required.")
    return row_id(values[0], key)


def _form_bool(form, key: str, default: bool) -> bool:
    value = form.get(key)
    return default if value is None else str(value).strip().lower() in ("true", "1", "yes")


def _form_float(form, key: str) -> float | None:
    value = form.get(key)
    if value in (None, ""):
        return None
    try:
        number = float(value)
    except ValueError:
        raise BadRequest(f"{key} must be a number.") from None
    if not math.isfinite(number):
        raise BadRequest(f"{key} must be a finite number.")
    return number


_VIDEO_FIELD = re.compile(r"^video_(\d+)$")


@router.post("/api/export/multi-clip")
async def multi_clip(request: Request, user_id: CurrentUser, db: Db, store: Store):
    form = await request.form()
    export_id = validate_export_id(str(form.get("export_id") or ""))
    project_id = _form_id(form, "project_id")
    try:
        payload = json.loads(str(form.get("multi_clip_data_json") or ""))
    except ValueError:
        raise BadRequest("multi_clip_data_json is not valid JSON.") from None
    if not isinstance(payload, dict):
        raise BadRequest("multi_clip_data_json must be a JSON object.")
    files = sorted(((int(m.group(1)), value) for key, value in form.multi_items()
                    if (m := _VIDEO_FIELD.match(key)) and isinstance(value, UploadFile)))
    if not files:
        raise BadRequest("Send at least one video_N file.")
    await run_in_threadpool(_require_project, db, project_id)
    keys: list[str] = []
    try:
        for _, upload in files:
            key = object_key(user_id, Kind.UPLOADS, new_name(".mp4"))
            await run_in_threadpool(store.upload_stream, key, upload.file, "video/mp4")
            keys.append(key)
        await run_in_threadpool(
            start_job, services(request), user_id, export_id, ExportType.MULTI_CLIP,
            lambda conn: multi_clip_spec(
                conn, user_id, project_id, keys, payload,
                include_audio=_form_bool(form, "include_audio", True),
                target_fps=_form_float(form, "target_fps")),
            project_id=project_id,
        )
    except Exception:
        for key in keys:
            store.delete(key)
        raise
    finally:
        await form.close()
    return await _wait_and_answer(request, user_id, export_id)


@router.post("/api/export/render-overlay")
async def render_overlay(body: OverlayRequest, request: Request, user_id: CurrentUser):
    def build(conn):
        spec = overlay_spec(conn, user_id, body.project_id, body.effect_type)
        spec["tracks"] = before_after_tracks(conn, user_id, body.project_id)
        return spec

    await run_in_threadpool(start_job, services(request), user_id, body.export_id,
                            ExportType.OVERLAY, build, project_id=body.project_id)
    return await _wait_and_answer(request, user_id, body.export_id)


@router.get("/api/export/projects/{project_id}/final-video")
def final_video(project_id: PathId, request: Request, db: Db, store: Store, user_id: CurrentUser):
    def read(conn):
        row = conn.execute(
            "SELECT p.name, f.filename FROM projects p JOIN final_videos f"
            " ON f.id = p.final_video_id WHERE p.id = ?", (project_id,)).fetchone()
        if row is None:
            exists = conn.execute("SELECT 1 FROM projects WHERE id = ?", (project_id,)).fetchone()
            raise NotFound("This project has no final video yet." if exists
                           else "Project not found.")
        return dict(row)

    row = db.read(read)
    safe = re.sub(r"[^A-Za-z0-9 _.-]+", "", row["name"] or "").strip().replace(" ", "_")
    return object_response(store, object_key(user_id, Kind.FINAL_VIDEOS, row["filename"]),
                           request, filename=f"{safe or 'video'}_final.mp4", attachment=True)


@router.post("/api/annotate/export")
async def annotate_export(request: Request, user_id: CurrentUser, store: Store) -> Response:
    form = await request.form()
    try:
        export_id = validate_export_id(str(form.get("export_id") or ""))
        try:
            clips = json.loads(str(form.get("clips_json") or ""))
        except ValueError:
            raise BadRequest("clips_json is not valid JSON.") from None
        if not isinstance(clips, list) or not clips or not all(isinstance(c, dict) for c in clips):
            raise BadRequest("clips_json must be a non-empty JSON array of clips.")
        for c in clips:
            if not all(isinstance(c.get(k), int | float) for k in ("start_time", "end_time")):
                raise BadRequest("Every clip needs numeric start_time and end_time.")
        game_id = _form_id(form, "game_id") if form.get("game_id") not in (None, "") else None
        video = form.get("video")
        video_key = None
        if game_id is None and isinstance(video, UploadFile):
            video_key = object_key(user_id, Kind.UPLOADS, new_name(".mp4"))
            await run_in_threadpool(store.upload_stream, video_key, video.file, "video/mp4")

        def build(conn):
            spec, game_name = annotate_spec(conn, user_id, game_id, clips, video_key=video_key)
            if video_key:
                spec["uploads"] = [video_key]
            spec["_job"] = {"game_id": game_id, "game_name": game_name}
            return spec

        job = await run_in_threadpool(start_job, services(request), user_id, export_id,
                              ExportType.ANNOTATE, build, game_id=game_id)
    finally:
        await form.close()
    return JSONResponse({"success": True, "export_id": export_id, "job_id": export_id,
                         "status": job["status"], "game_id": job["game_id"],
                         "game_name": job["game_name"]})

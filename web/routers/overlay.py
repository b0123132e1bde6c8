"""Overlay (#37, #38, PUT overlay-data) and before/after (#39, #40) under /api/export.

The action endpoint answers `{success, version, region_id}`, or `{success:false, version,
error, detail}` with a 4xx (its client reads `error`); every other error is `{detail}`.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from lib.errors import DomainError
from lib.jobs.follow_ops import follow_keyframes
from lib.models import TRACK_REGION
from lib.overlay.before_after import availability, comparison_tracks
from lib.overlay.data import (
    apply_overlay_action,
    overlay_version,
    persist_restored_regions,
    read_overlay_data,
    replace_overlay_data,
)
from lib.overlay.track_region import apply_tracked_region, track_region_spec
from web.deps import CurrentUser, Db, JobRunner, Store
from web.errors import ActionRoute, action_error
from web.fields import PathId
from web.media import comparison_answer

router = APIRouter(prefix="/api/export", tags=["overlay"])


actions = APIRouter(route_class=ActionRoute)  # mounted under `router`


class OverlayActionBody(BaseModel):
    action: str
    target: dict[str, Any] | None = None
    data: dict[str, Any] | None = None


class OverlayDataBody(BaseModel):
    highlights_data: list[dict[str, Any]] | str
    effect_type: str | None = None
    text_overlays: list[Any] | str | None = None


@router.get("/projects/{project_id}/overlay-data")
def get_overlay_data(project_id: PathId, db: Db) -> dict:
    data = db.read(lambda conn: read_overlay_data(conn, project_id))
    if data.restored:
        data = db.write(lambda conn: persist_restored_regions(conn, project_id))
    return data.as_response()


@router.put("/projects/{project_id}/overlay-data")
def put_overlay_data(project_id: PathId, body: OverlayDataBody, db: Db) -> dict:
    return db.write(lambda conn: replace_overlay_data(
        conn, project_id, body.highlights_data, body.effect_type, body.text_overlays))


@actions.post("/projects/{project_id}/overlay/actions")
def overlay_action(project_id: PathId, body: OverlayActionBody, db: Db, user_id: CurrentUser,
                   runner: JobRunner) -> Any:
    try:
        if body.action == TRACK_REGION:  # tracked first, applied in one unit of work
            spec = db.read(lambda conn: track_region_spec(conn, user_id, project_id,
                                                          body.target, body.data))
            result = follow_keyframes(runner, spec)
            return db.write(lambda conn: apply_tracked_region(conn, project_id, spec, result))
        return db.write(lambda conn: apply_overlay_action(
            conn, project_id, body.action, body.target, body.data))
    except DomainError as err:
        try:
            version = db.read(lambda conn: overlay_version(conn, project_id))
        except DomainError:
            version = None
        return action_error(err.status, err.message, version=version)


router.include_router(actions)


@router.get("/before-after/{final_video_id}/status")
def before_after_status(final_video_id: PathId, db: Db, store: Store,
                        user_id: CurrentUser) -> Any:
    try:
        info = db.read(lambda conn: comparison_tracks(conn, final_video_id))
    except DomainError as err:  # the client reads this without an ok check: always JSON
        return JSONResponse({"available": False, "error": err.message, "detail": err.message},
                            status_code=err.status)
    return availability(store, user_id, info)


@router.post("/before-after/{final_video_id}")
async def render_before_after(final_video_id: PathId, request: Request, db: Db, store: Store,
                              runner: JobRunner, user_id: CurrentUser) -> Response:
    """#40: the comparison video as a blob. The job is spawned, never run inside the request:
    past `REQUEST_BUDGET_S` the answer is a 303 to its result URL, which waits again."""
    info = await run_in_threadpool(db.read, lambda conn: comparison_tracks(conn, final_video_id))
    call_id = await run_in_threadpool(
        runner.spawn, "before_after", {"user_id": user_id, "final_video_id": final_video_id})
    return await comparison_answer(request, store, runner, user_id, final_video_id, call_id,
                                   info["name"])


@router.get("/before-after/{final_video_id}/result/{call_id}")
async def before_after_result(final_video_id: PathId, call_id: str, request: Request, db: Db,
                              store: Store, runner: JobRunner, user_id: CurrentUser) -> Response:
    info = await run_in_threadpool(db.read, lambda conn: comparison_tracks(conn, final_video_id))
    return await comparison_answer(request, store, runner, user_id, final_video_id, call_id,
                                   info["name"])

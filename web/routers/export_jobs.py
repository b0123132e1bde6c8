"""Export jobs seen from the editor's recovery flow: #46–#50, plus GET and DELETE of one job.

Every answer comes from the job table (after reconciling with the runner), so it survives
restarts; jobs whose worker is gone read as `error`, never pending forever (contract §0.10).
"""

from __future__ import annotations

from fastapi import APIRouter, Body, Request
from starlette.concurrency import run_in_threadpool

from lib.errors import BadRequest
from lib.jobs.records import (
    EXPIRE_SECONDS,
    TERMINAL,
    acknowledge,
    active_jobs,
    fail_job,
    job_wire,
    latest_frame,
    output_kind,
    progress_key,
    reconcile_job,
    unacknowledged_jobs,
)
from lib.models import ExportStatus
from web.deps import CurrentUser, Db

router = APIRouter(prefix="/api/exports", tags=["exports"])


def _reconciled(request: Request, user_id: str, rows: list[dict]) -> list[dict]:
    state = request.app.state
    out = []
    for row in rows:
        if row["status"] not in TERMINAL:
            row = reconcile_job(state.dbs, state.runner, user_id, row["id"], state.progress)
        out.append(job_wire(row, latest_frame(state.progress, user_id, row["id"])))
    return out


@router.get("/active")
def list_active(request: Request, user_id: CurrentUser, db: Db) -> dict:
    rows = db.read(active_jobs)
    return {"exports": _reconciled(request, user_id, rows)}


@router.get("/unacknowledged")
def list_unacknowledged(request: Request, user_id: CurrentUser, db: Db) -> dict:
    return {"exports": [job_wire(r) for r in db.read(unacknowledged_jobs)]}


@router.post("/acknowledge")
def acknowledge_jobs(db: Db, job_ids: list[str] = Body(...)) -> dict:
    if len(job_ids) > 1000:
        raise BadRequest("Acknowledge at most 1000 exports at once.")
    count = db.write(lambda conn: acknowledge(conn, job_ids))
    return {"success": True, "acknowledged": count}


@router.get("/{job_id}/modal-status")
def modal_status(job_id: str, request: Request, user_id: CurrentUser) -> dict:
    state = request.app.state
    row = reconcile_job(state.dbs, state.runner, user_id, job_id, state.progress)
    if row["status"] == ExportStatus.COMPLETE:
        return {"status": "complete", "output_video_id": row["output_video_id"],
                "output_filename": row["output_filename"],
                f"{output_kind(row['type'])}_video_id": row["output_video_id"]}
    if row["status"] == ExportStatus.ERROR:
        if row["error"] and "expired" in row["error"]:
            return {"status": "expired", "message": row["error"], "error": row["error"]}
        return {"status": "error", "error": row["error"] or "The export failed."}
    return {"status": "running", "phase": row["phase"],
            "expires_in_seconds": EXPIRE_SECONDS}


@router.post("/{job_id}/resume-progress")
def resume_progress(job_id: str, request: Request, user_id: CurrentUser) -> dict:
    """Re-publish the job's latest state so a reconnecting socket gets a frame at once. A
    finished job publishes its terminal frame from the row, never a stale running one."""
    state = request.app.state
    row = reconcile_job(state.dbs, state.runner, user_id, job_id, state.progress)
    frame = latest_frame(state.progress, user_id, job_id)
    if frame is not None and row["status"] not in TERMINAL:
        state.progress.put(progress_key(user_id, job_id), {**frame, "seq": frame["seq"] + 1})
    return {"success": True, "status": row["status"]}


@router.get("/{job_id}")
def get_export(job_id: str, request: Request, user_id: CurrentUser) -> dict:
    state = request.app.state
    row = reconcile_job(state.dbs, state.runner, user_id, job_id, state.progress)
    return job_wire(row, latest_frame(state.progress, user_id, job_id))


@router.delete("/{job_id}")
async def cancel_export(job_id: str, request: Request, user_id: CurrentUser) -> dict:
    state = request.app.state
    row = await run_in_threadpool(reconcile_job, state.dbs, state.runner, user_id, job_id)
    if row["status"] in TERMINAL:
        return {"success": True, "cancelled": False, "status": row["status"]}
    if row["modal_call_id"]:
        await run_in_threadpool(state.runner.cancel, row["modal_call_id"])
    message = "The export was cancelled."
    changed = await run_in_threadpool(
        state.dbs.write, user_id, lambda conn: fail_job(conn, job_id, message))
    if changed:
        frame = await state.progress.aget(progress_key(user_id, job_id)) or {}
        await state.progress.aput(progress_key(user_id, job_id), {
            **frame, "status": "error", "phase": "error", "error": message, "message": message,
            "seq": frame.get("seq", 0) + 1})
    return {"success": True, "cancelled": bool(changed), "status": "error"}

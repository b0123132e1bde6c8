"""Starting export jobs and waiting for them: shared by the export endpoints.

The handler creates the job row (unit of work), spawns the worker through the runner and
records the call id; blocking endpoints then await the job's terminal state. The job never
depends on the request: if the client goes away, the worker still finalizes.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable

from fastapi import Request
from starlette.concurrency import run_in_threadpool

from lib.jobs import (
    TERMINAL,
    JobLabels,
    create_job,
    fail_job,
    latest_frame,
    reconcile_job,
    set_call_id,
)
from lib.models import ExportType

POLL_SECONDS = 0.2
RECONCILE_SECONDS = 5.0


def start_job(request: Request, user_id: str, export_id: str, job_type: ExportType,
              build: Callable[[sqlite3.Connection], dict], *, project_id: int = 0,
              game_id: int | None = None, game_name: str | None = None,
              project_name: str | None = None) -> dict:
    """Create (or find, for a retried request) the job and spawn its worker. `build(conn)`
    returns the job spec inside the same unit of work (so 404/400 come before any job)."""
    state = request.app.state

    def create(conn: sqlite3.Connection) -> dict:
        spec = build(conn)
        extra = spec.pop("_job", {})
        return create_job(conn, export_id, job_type, {"spec": spec},
                          project_id=project_id, game_id=extra.get("game_id", game_id),
                          game_name=extra.get("game_name", game_name))

    job = state.dbs.write(user_id, create)
    if job["status"] == "pending" and not job["modal_call_id"]:
        payload = {"user_id": user_id, "export_id": export_id, "project_name": project_name}
        try:
            call_id = state.runner.spawn("export", payload)
        except Exception as err:
            state.dbs.write(user_id, lambda conn: fail_job(
                conn, export_id, "The export could not be started; please try again."))
            raise err
        state.dbs.write(user_id, lambda conn: set_call_id(conn, export_id, call_id))
        job["modal_call_id"] = call_id
        labels = JobLabels(export_id, job_type, project_id or None, project_name,
                           job["game_id"], job["game_name"])
        frame = latest_frame(state.progress, user_id, export_id)
        if frame is None or frame.get("status") in TERMINAL:
            state.progress.put(f"export:{user_id}:{export_id}", {
                **labels.frame(), "status": "pending", "progress": 0, "phase": "init",
                "message": "Export queued", "seq": (frame or {}).get("seq", 0) + 1})
    return job


async def await_job(request: Request, user_id: str, export_id: str) -> dict:
    """Wait for the job's terminal state; returns the job row (with project_name)."""
    state = request.app.state
    loop = asyncio.get_running_loop()
    last_check = loop.time()
    while True:
        frame = latest_frame(state.progress, user_id, export_id)
        now = loop.time()
        if (frame and frame.get("status") in TERMINAL) or now - last_check >= RECONCILE_SECONDS:
            last_check = now
            row = await run_in_threadpool(reconcile_job, state.dbs, state.runner, user_id,
                                          export_id)
            if row["status"] in TERMINAL:
                return row
        await asyncio.sleep(POLL_SECONDS)

"""Starting export jobs and waiting for them, for any caller (web handlers, ad hoc ops).

`start_job` creates the job row (one unit of work that also builds the spec, so a 404/400
comes before any job exists), spawns the worker through the runner and records the call id.
The job never depends on its caller: the worker finalizes itself.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass

from lib.db.sync import UserDatabases
from lib.jobs.progress_store import ProgressStore
from lib.jobs.records import (
    TERMINAL,
    JobLabels,
    create_job,
    fail_job,
    job_with_project,
    latest_frame,
    progress_key,
    reconcile_job,
    set_call_id,
)
from lib.jobs.runner import Runner
from lib.jobs.worker import JOB_FOR_EXPORT
from lib.models import ExportType

RECONCILE_SECONDS = 5.0  # how often a waiter asks the runner whether the worker is alive


@dataclass
class JobServices:
    dbs: UserDatabases
    runner: Runner
    progress: ProgressStore


def start_job(services: JobServices, user_id: str, export_id: str, job_type: ExportType,
              build: Callable[[sqlite3.Connection], dict], *, project_id: int = 0,
              game_id: int | None = None, game_name: str | None = None) -> dict:
    """Create (or find, for a retried request) the job and spawn its worker. `build(conn)`
    returns the spec; it may carry `_job: {game_id, game_name}` for the row. Returns the job
    row with its `project_name`."""

    def create(conn: sqlite3.Connection) -> dict:
        spec = build(conn)
        extra = spec.pop("_job", {})
        create_job(conn, export_id, job_type, {"spec": spec}, project_id=project_id,
                   game_id=extra.get("game_id", game_id),
                   game_name=extra.get("game_name", game_name))
        return job_with_project(conn, export_id)

    job = services.dbs.write(user_id, create)
    project_name = job["project_name"]
    if job["status"] != "pending" or job["modal_call_id"]:
        return job  # a retried request: the job already runs (or ran)
    labels = JobLabels(export_id, job_type, project_id or None, project_name,
                       job["game_id"], job["game_name"])
    previous = latest_frame(services.progress, user_id, export_id) or {}
    services.progress.put(progress_key(user_id, export_id), {
        **labels.frame(), "status": "pending", "progress": 0, "phase": "init",
        "message": "Export queued", "seq": previous.get("seq", 0) + 1})
    payload = {"user_id": user_id, "export_id": export_id, "project_name": project_name}
    try:
        call_id = services.runner.spawn(JOB_FOR_EXPORT[job_type], payload)
    except Exception:
        services.dbs.write(user_id, lambda conn: fail_job(
            conn, export_id, "The export could not be started; please try again."))
        raise
    services.dbs.write(user_id, lambda conn: set_call_id(conn, export_id, call_id))
    job["modal_call_id"] = call_id
    return job


def job_outcome(services: JobServices, user_id: str, export_id: str, *,
                check_runner: bool, frame: dict | None = None) -> dict | None:
    """The job row once it is complete or failed, else None. The database is read only when
    the live frame says the job ended, or when `check_runner` asks whether its worker is still
    alive (callers do that every few seconds)."""
    if frame is None:
        frame = latest_frame(services.progress, user_id, export_id)
    if not check_runner and not (frame and frame.get("status") in TERMINAL):
        return None
    row = reconcile_job(services.dbs, services.runner, user_id, export_id, services.progress)
    return row if row["status"] in TERMINAL else None


async def await_job(services: JobServices, user_id: str, export_id: str, *,
                    poll: float = 0.2, budget: float | None = None) -> dict | None:
    """`wait_job` for an async request handler: polls the live frame with async reads (never
    blocking the event loop) and asks the runner in a thread every few seconds. Returns the
    finished row, or None once `budget` seconds passed (the caller answers a redirect)."""
    loop = asyncio.get_running_loop()
    started = last_check = loop.time()
    while True:
        due = loop.time() - last_check >= RECONCILE_SECONDS
        last_check = loop.time() if due else last_check
        frame = await services.progress.aget(progress_key(user_id, export_id))
        if due or (frame and frame.get("status") in TERMINAL):
            row = await asyncio.to_thread(job_outcome, services, user_id, export_id,
                                          check_runner=due, frame=frame)
            if row is not None:
                return row
        if budget is not None and loop.time() - started >= budget:
            return None
        await asyncio.sleep(poll)


def wait_job(services: JobServices, user_id: str, export_id: str, *,
             timeout: float = 3600.0, poll: float = 0.5) -> dict:
    """Block until the job is complete or failed (or `timeout`); returns its row."""
    deadline = time.monotonic() + timeout
    last_check = time.monotonic()
    while time.monotonic() < deadline:
        due = time.monotonic() - last_check >= RECONCILE_SECONDS
        last_check = time.monotonic() if due else last_check
        row = job_outcome(services, user_id, export_id, check_runner=due)
        if row is not None:
            return row
        time.sleep(poll)
    return reconcile_job(services.dbs, services.runner, user_id, export_id, services.progress)

"""Awaiting an export job from an async request handler without holding a thread."""

from __future__ import annotations

import asyncio

from fastapi import Request
from starlette.concurrency import run_in_threadpool

from lib.job_control import JobServices
from lib.jobs import TERMINAL, latest_frame, reconcile_job

POLL_SECONDS = 0.2
RECONCILE_SECONDS = 5.0


def services(request: Request) -> JobServices:
    state = request.app.state
    return JobServices(state.dbs, state.runner, state.progress)


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

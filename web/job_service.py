"""Awaiting an export job from an async request handler without holding a thread."""

from __future__ import annotations

import asyncio

from fastapi import Request
from starlette.concurrency import run_in_threadpool

from lib.job_control import RECONCILE_SECONDS, JobServices, job_outcome

POLL_SECONDS = 0.2


def services(request: Request) -> JobServices:
    state = request.app.state
    return JobServices(state.dbs, state.runner, state.progress)


async def await_job(request: Request, user_id: str, export_id: str) -> dict:
    """Wait for the job's terminal state; returns the job row (with project_name)."""
    jobs = services(request)
    loop = asyncio.get_running_loop()
    last_check = loop.time()
    while True:
        due = loop.time() - last_check >= RECONCILE_SECONDS
        last_check = loop.time() if due else last_check
        row = await run_in_threadpool(job_outcome, jobs, user_id, export_id, check_runner=due)
        if row is not None:
            return row
        await asyncio.sleep(POLL_SECONDS)

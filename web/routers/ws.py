"""WebSockets: export progress (W1) and extraction events (W2), per user.

Workers publish to the ProgressStore (any container); these handlers follow only the
current user's keys, so frames never reach another user's sockets. They never read the store
themselves: the app's ProgressHub polls each followed key once per container (async reads)
and fans the frames out to the sockets.
"""

from __future__ import annotations

import asyncio
import contextlib
import json

from fastapi import APIRouter, WebSocket, WebSocketDisconnect
from starlette.concurrency import run_in_threadpool

from lib.errors import DomainError
from lib.jobs.records import (
    TERMINAL,
    frame_from_row,
    job_with_project,
    progress_key,
    reconcile_job,
)
from web.deps import current_user

router = APIRouter(tags=["websockets"])

KEEPALIVE_SECONDS = 15.0


async def _answer_pings(ws: WebSocket) -> None:
    """The client sends the text frame `ping` every 30 s; anything else is ignored."""
    while True:
        message = await ws.receive_text()
        if message.strip().strip('"') == "ping":
            await ws.send_text("pong")


async def _serve(ws: WebSocket, sender) -> None:
    receiver = asyncio.create_task(_answer_pings(ws))
    sending = asyncio.create_task(sender())
    try:
        done, _ = await asyncio.wait({receiver, sending}, return_when=asyncio.FIRST_COMPLETED)
        for task in done:
            exc = task.exception()
            if exc is not None and not isinstance(exc, WebSocketDisconnect | RuntimeError):
                raise exc
    finally:
        for task in (receiver, sending):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task


async def _identify(ws: WebSocket) -> str | None:
    try:
        return current_user(ws)
    except DomainError:
        await ws.close(code=4401)
        return None


@router.websocket("/ws/export/{export_id}")
async def export_progress(ws: WebSocket, export_id: str) -> None:
    user_id = await _identify(ws)
    if user_id is None:
        return
    await ws.accept()
    state = ws.app.state

    async def row_frame() -> dict | None:
        try:
            row = await run_in_threadpool(
                state.dbs.read, user_id, lambda conn: job_with_project(conn, export_id))
        except DomainError:
            return None
        return frame_from_row(row)

    async def check_job() -> None:
        """A frame that stopped moving: ask the runner (a dead worker's job is failed and
        its terminal frame published for every socket)."""
        with contextlib.suppress(DomainError):
            await run_in_threadpool(reconcile_job, state.dbs, state.runner, user_id, export_id,
                                    state.progress)

    async def sender() -> None:
        key = progress_key(user_id, export_id)
        async with state.hub.follow_frames(key, on_stale=check_job) as frames:
            frame = frames.get_nowait() if not frames.empty() else await row_frame()
            while True:
                if frame is not None:
                    await ws.send_text(json.dumps(frame))
                    if frame.get("status") in TERMINAL:
                        # Stay open (the client closes on a terminal frame); stop following.
                        break
                # On a timeout the last frame goes again: a running job speaks every 15 s.
                with contextlib.suppress(TimeoutError):
                    frame = await asyncio.wait_for(frames.get(), KEEPALIVE_SECONDS)
        await asyncio.Event().wait()

    with contextlib.suppress(WebSocketDisconnect):
        await _serve(ws, sender)


@router.websocket("/ws/extractions")
async def extraction_events(ws: WebSocket) -> None:
    user_id = await _identify(ws)
    if user_id is None:
        return
    await ws.accept()

    async def sender() -> None:
        async with ws.app.state.hub.follow_events(user_id) as events:
            while True:
                event = await events.get()
                await ws.send_text(json.dumps({k: v for k, v in event.items() if k != "seq"}))

    with contextlib.suppress(WebSocketDisconnect):
        await _serve(ws, sender)

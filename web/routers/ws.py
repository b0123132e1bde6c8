"""WebSockets: export progress (W1) and extraction events (W2), per user.

Workers publish to the ProgressStore (any container); these handlers follow only the
current user's keys, so frames never reach another user's sockets.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time

from fastapi import APIRouter, WebSocket, WebSocketDisconnect
from starlette.concurrency import run_in_threadpool

from lib.errors import DomainError
from lib.jobs.progress_store import events_after, latest_event_seq
from lib.jobs.records import TERMINAL, frame_from_row, job_with_project, latest_frame
from web.deps import current_user

router = APIRouter(tags=["websockets"])

POLL_SECONDS = 0.25
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
    progress = ws.app.state.progress
    dbs = ws.app.state.dbs

    async def row_frame() -> dict | None:
        try:
            row = await run_in_threadpool(
                dbs.read, user_id, lambda conn: job_with_project(conn, export_id))
        except DomainError:
            return None
        return frame_from_row(row)

    async def sender() -> None:
        last_seq, last_sent = None, 0.0
        frame = latest_frame(progress, user_id, export_id) or await row_frame()
        while True:
            now = time.monotonic()
            if frame is not None and (frame.get("seq") != last_seq
                                      or now - last_sent >= KEEPALIVE_SECONDS):
                await ws.send_text(json.dumps(frame))
                last_seq, last_sent = frame.get("seq"), now
                if frame.get("status") in TERMINAL:
                    # Stay open (the client closes on a terminal frame); just stop polling.
                    await asyncio.Event().wait()
            await asyncio.sleep(POLL_SECONDS)
            frame = latest_frame(progress, user_id, export_id) or frame

    with contextlib.suppress(WebSocketDisconnect):
        await _serve(ws, sender)


@router.websocket("/ws/extractions")
async def extraction_events(ws: WebSocket) -> None:
    user_id = await _identify(ws)
    if user_id is None:
        return
    await ws.accept()
    progress = ws.app.state.progress

    async def sender() -> None:
        seq = latest_event_seq(progress, user_id)
        while True:
            for event in events_after(progress, user_id, seq):
                seq = event["seq"]
                await ws.send_text(json.dumps({k: v for k, v in event.items() if k != "seq"}))
            await asyncio.sleep(POLL_SECONDS * 2)

    with contextlib.suppress(WebSocketDisconnect):
        await _serve(ws, sender)

"""Serving stored objects to the editor: bytes with Range (206), or a redirect to storage."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from urllib.parse import quote

from fastapi import Request
from fastapi.responses import RedirectResponse, Response, StreamingResponse
from starlette.background import BackgroundTask
from starlette.concurrency import run_in_threadpool

from lib.config import Settings
from lib.disposition import content_disposition
from lib.errors import MediaError, NotFound
from lib.keys import Kind, object_key
from lib.storage import ObjectInfo, ObjectStore, content_type_for

_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


def _parse_range(header: str, size: int) -> tuple[int, int] | None | str:
    """(start, end) inclusive; None = whole body; 'invalid' = unsatisfiable."""
    m = _RANGE.match(header.strip())
    if not m or (not m.group(1) and not m.group(2)):
        return None  # unknown or multi-range syntax: answer the whole body
    if m.group(1):
        start = int(m.group(1))
        end = int(m.group(2)) if m.group(2) else size - 1
        if m.group(2) and start > end:
            return None  # not a valid range-spec (RFC 9110 §14.1.1): ignore the header
    else:
        start, end = max(0, size - int(m.group(2))), size - 1
    if start >= size:
        return "invalid"
    return start, min(end, size - 1)


def object_response(
    store: ObjectStore,
    key: str,
    request: Request,
    *,
    filename: str | None = None,
    attachment: bool = False,
    media_type: str | None = None,
    info: ObjectInfo | None = None,
) -> Response:
    """The object's bytes, same origin, with Range support (206) and a quoted filename.
    `info`: the object's metadata when the caller has just read it."""
    info = info or store.head(key)
    if info is None:
        raise NotFound("The video file is missing from storage.")
    size = info.size
    headers = {
        "Accept-Ranges": "bytes",
        "ETag": info.etag if info.etag.startswith('"') else f'"{info.etag}"',
        "Cache-Control": "private, max-age=3600",
    }
    if filename:
        headers["Content-Disposition"] = content_disposition(filename, attachment)
    media_type = media_type or content_type_for(key)
    wanted = request.headers.get("range")
    if_range = request.headers.get("if-range")
    if wanted and if_range and if_range.strip('"') != info.etag.strip('"'):
        wanted = None
    span = _parse_range(wanted, size) if wanted else None
    if span == "invalid":
        return Response(status_code=416, headers={**headers, "Content-Range": f"bytes */{size}"})
    status, start, end = (200, 0, size - 1) if span is None else (206, *span)
    if status == 206:
        headers["Content-Range"] = f"bytes {start}-{end}/{size}"
    headers["Content-Length"] = str(end - start + 1 if size else 0)
    if request.method == "HEAD" or size == 0:
        return Response(status_code=status, headers=headers, media_type=media_type)
    body = store.iter_range(key, start, end)
    return StreamingResponse(body, status_code=status, headers=headers, media_type=media_type)


def playable_url(store: ObjectStore, key: str, settings: Settings) -> str:
    """A URL the browser can hand to `<video src>` for the whole session (Range-capable)."""
    return store.presign_get(key, settings.presign_seconds)


def object_url_for(user_id: str, store: ObjectStore,
                   settings: Settings) -> Callable[[Kind, str], str]:
    """`(kind, name) -> playable URL` of the user's objects (for lib queries)."""
    return lambda kind, name: playable_url(store, object_key(user_id, kind, name), settings)


def redirect_or_serve(
    store: ObjectStore, key: str, request: Request, settings: Settings,
    info: ObjectInfo | None = None,
) -> Response:
    """For URLs used as `<video src>`: 302 to a long-lived presign on S3/R2, bytes locally.
    HEAD is answered here from the object's metadata: a URL presigned for GET answers a HEAD
    with 403 on S3/R2. `info`: the object's metadata when the caller has just read it."""
    if store.kind == "s3" and request.method != "HEAD":
        if (info or store.head(key)) is None:
            raise NotFound("The video file is missing from storage.")
        return RedirectResponse(playable_url(store, key, settings), status_code=302)
    return object_response(store, key, request, info=info)


COMPARISON_POLL_S = 0.25


async def comparison_answer(request: Request, store: ObjectStore, runner, user_id: str,
                            final_video_id: int, call_id: str, name: str) -> Response:
    """The before/after job's video once its call is done (then deleted: a one-off render),
    or a 303 to come back for it once the request budget is spent."""
    budget = request.app.state.settings.request_budget_s
    loop = asyncio.get_running_loop()
    started = loop.time()
    while True:
        state = await run_in_threadpool(runner.status, call_id)
        if state.status == "complete":
            break
        if state.status == "error":
            raise MediaError(state.error or "The comparison video could not be made.")
        if state.status == "unknown":
            raise NotFound("This comparison video is no longer available; make it again.")
        if loop.time() - started >= budget:
            return RedirectResponse(
                f"/api/export/before-after/{final_video_id}/result/{quote(call_id, safe='')}",
                status_code=303)
        await asyncio.sleep(COMPARISON_POLL_S)
    result = state.result or {}
    if result.get("status") != "complete":
        raise MediaError(result.get("error") or "The comparison video could not be made.")
    key = result["output_key"]
    if not key.startswith(f"{user_id}/"):  # another user's call id
        raise NotFound("This comparison video is no longer available; make it again.")
    response = object_response(store, key, request, filename=f"before_after_{name}.mp4",
                               attachment=True, media_type="video/mp4")
    response.background = BackgroundTask(store.delete, key)
    return response

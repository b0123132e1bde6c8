"""Request bodies, bounded and strict, before any route sees them (README "Limits").

- A body above its limit answers 413 with one sentence: at once when Content-Length says so,
  else as soon as the counted bytes pass it. Nothing is buffered beyond the limit.
- Uploads (multipart, the local store's signed PUT) are counted while they stream to disk;
  game videos and other uploads have their own caps.
- Every other body is JSON or a small form, read whole (≤ `max_json_bytes`). A JSON body must
  be strict JSON: `NaN`, `Infinity` and numbers that overflow a double (`1e400`), which
  Python's json accepts, answer 400 "Request body is not valid JSON."
"""

from __future__ import annotations

import json
import math
import re

from fastapi import HTTPException
from fastapi.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from lib.config import Settings
from web.errors import action_error

NOT_JSON = "Request body is not valid JSON."
_VIDEO_PATHS = re.compile(r"^/api/(storage/local/|games/[^/]+/video$)")
_ACTION_PATHS = re.compile(r"/actions$")


def _mib(limit: int) -> str:
    for unit, size in (("GiB", 1024**3), ("MiB", 1024**2), ("KiB", 1024)):
        if limit >= size:
            return f"{limit / size:g} {unit}"
    return f"{limit} bytes"


def too_large_message(limit: int, what: str) -> str:
    return f"The {what} is larger than the {_mib(limit)} this server accepts."


def _no_constants(name: str) -> float:
    raise ValueError(f"{name} is not JSON")


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError("number out of range")
    return value


def strict_json(body: bytes) -> object:
    """`json.loads` that refuses what RFC 8259 does not allow (and overflowing numbers)."""
    return json.loads(body, parse_constant=_no_constants, parse_float=_finite)


def _is_json(content_type: str) -> bool:
    media = content_type.split(";", 1)[0].strip().lower()
    return media == "application/json" or media.endswith("+json")


class BodyLimits:
    """ASGI middleware enforcing the limits of `settings`."""

    def __init__(self, app: ASGIApp, settings: Settings):
        self.app = app
        self.settings = settings

    def _limit(self, scope: Scope, content_type: str) -> tuple[int, str, bool]:
        """(limit, what it is, whether the body streams to the route)."""
        s = self.settings
        if _VIDEO_PATHS.match(scope["path"]):
            return s.max_video_upload_bytes, "video", True
        if content_type.lower().startswith("multipart/"):
            return s.max_clip_upload_bytes, "upload", True
        return s.max_json_bytes, "request body", False

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        content_type = headers.get("content-type", "")
        limit, what, streams = self._limit(scope, content_type)
        message = too_large_message(limit, what)
        declared = headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            await self._answer(scope, send, 413, message)
            return
        if streams:
            await self.app(scope, _counting(receive, limit, message), send)
            return
        chunks, size, more = [], 0, True
        while more:
            event = await receive()
            if event["type"] == "http.disconnect":
                return
            chunks.append(event.get("body", b""))
            size += len(chunks[-1])
            more = event.get("more_body", False)
            if size > limit:
                await self._answer(scope, send, 413, message)
                return
        body = b"".join(chunks)
        if body and (_is_json(content_type) or not content_type):
            try:
                strict_json(body)
            except ValueError:  # JSONDecodeError, NaN/Infinity, overflow, digit limit
                await self._answer(scope, send, 400, NOT_JSON)
                return
        await self.app(scope, _replay(body, receive), send)

    async def _answer(self, scope: Scope, send: Send, status: int, message: str) -> None:
        response = (action_error(status, message) if _ACTION_PATHS.search(scope["path"])
                    else JSONResponse({"detail": message}, status_code=status))
        await response(scope, _nothing, send)


async def _nothing() -> Message:
    return {"type": "http.disconnect"}


def _replay(body: bytes, receive: Receive) -> Receive:
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


def _counting(receive: Receive, limit: int, message: str) -> Receive:
    seen = 0

    async def counted() -> Message:
        nonlocal seen
        event = await receive()
        seen += len(event.get("body", b""))
        if seen > limit:
            raise HTTPException(413, message)
        return event

    return counted

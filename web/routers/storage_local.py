"""Signed same-origin URLs of the local object store (`/api/storage/local/{key}`).

They stand in for presigned R2 URLs offline: GET/HEAD serve bytes with Range, PUT accepts a
direct upload streamed to disk. Only the signature authorizes; it names method, key, expiry.
"""

from __future__ import annotations

import os
import tempfile

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from lib.errors import Forbidden, NotFound, VersionConflict
from lib.storage.local import verify_local_url
from web.deps import AppSettings, Store
from web.media import object_response

router = APIRouter(tags=["storage"])


def _check(store, settings, method: str, key: str, exp: int, sig: str,
           filename: str | None = None) -> None:
    if store.kind != "local":
        raise NotFound("Local storage URLs are not served by this deployment.")
    if not verify_local_url(settings.url_secret, method, key, exp, sig, filename):
        raise Forbidden("This storage link is invalid or has expired.")


@router.get("/api/storage/local/{key:path}")
@router.head("/api/storage/local/{key:path}")  # own route: unique operation id
def get_object(
    key: str, request: Request, store: Store, settings: AppSettings,
    exp: int = Query(...), sig: str = Query(...), filename: str | None = None,
) -> Response:
    _check(store, settings, "GET", key, exp, sig, filename)
    return object_response(store, key, request, filename=filename, attachment=bool(filename))


@router.put("/api/storage/local/{key:path}")
async def put_object(
    key: str, request: Request, store: Store, settings: AppSettings,
    exp: int = Query(...), sig: str = Query(...),
) -> Response:
    _check(store, settings, "PUT", key, exp, sig)
    if store.head(key) is not None:  # an upload grant is for one object, written once
        raise VersionConflict("This upload link was already used; ask for a new one.")
    fd, tmp = tempfile.mkstemp(prefix="upload-", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as fh:
            async for chunk in request.stream():
                fh.write(chunk)
        # Copying a game-sized file into the store must not block the event loop.
        etag = await run_in_threadpool(store.upload_file, key, tmp)
    finally:
        os.unlink(tmp)
    return Response(status_code=200, headers={"ETag": f'"{etag}"'})

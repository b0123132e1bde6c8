"""GET /api/health (#1): reports whether storage and the database engine are reachable."""

from __future__ import annotations

import sqlite3

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from lib.errors import StorageUnavailable
from web.deps import Store

router = APIRouter(tags=["health"])


@router.get("/api/health")
def health(store: Store) -> JSONResponse:
    checks = {"storage": "ok", "db": "ok"}
    try:
        store.ping()
    except StorageUnavailable as err:
        checks["storage"] = str(err)
    try:
        sqlite3.connect(":memory:").execute("SELECT 1").fetchone()
    except sqlite3.Error as err:  # pragma: no cover - the engine is part of Python
        checks["db"] = str(err)
    healthy = all(v == "ok" for v in checks.values())
    body = {"status": "healthy" if healthy else "degraded", "storage_backend": store.kind, **checks}
    if not healthy:
        body["detail"] = checks["storage"] if checks["storage"] != "ok" else checks["db"]
    return JSONResponse(body, status_code=200 if healthy else 503)

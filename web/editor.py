"""The built editor served by the API itself (`EDITOR_DIR`), so both share one origin.

Same origin means no CORS and cookies just work, and a long export that answers 303 is
followed by the browser like any same-origin redirect. Files of the build are served as
they are; any other path that is not under `/api` or `/ws` gets `index.html` (the SPA's
own router handles it). `/api` and `/ws` are never shadowed: an unknown API path is still
the API's JSON 404.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from starlette.requests import Request
from starlette.responses import FileResponse, Response

from lib.errors import NotFound

RESERVED = ("api", "ws")
# Vite's build names files under assets/ by content hash: cache those for good, revalidate
# index.html so a deploy takes effect on the next load.
IMMUTABLE_DIR = "assets"


def _reserved(path: str) -> bool:
    head = path.split("/", 1)[0]
    return head in RESERVED


def install_editor(app: FastAPI, directory: Path) -> None:
    root = directory.resolve()
    index = root / "index.html"
    if not index.is_file():
        raise RuntimeError(f"EDITOR_DIR {directory} has no index.html; build the editor first.")

    async def serve(request: Request) -> Response:
        path = request.path_params["path"]
        if _reserved(path):
            raise NotFound("Not found.")
        target = (root / path).resolve() if path else index
        if not target.is_relative_to(root) or not target.is_file():
            target = index
        cache = ("public, max-age=31536000, immutable"
                 if target.parent.name == IMMUTABLE_DIR else "no-cache")
        return FileResponse(target, headers={"Cache-Control": cache})

    app.add_api_route("/{path:path}", serve, methods=["GET", "HEAD"], include_in_schema=False)

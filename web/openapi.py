"""The served OpenAPI document says what the API really answers.

FastAPI's defaults describe a 422 whose `detail` is a list and nothing else; our errors are
`{"detail": "<one sentence>"}` (web.errors) with the statuses below, the gesture endpoints
answer `{success:false, error, detail}`, and media routes answer bytes or a redirect.
"""

from __future__ import annotations

import re
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

ERROR_STATUSES = {
    "400": "Bad input (one plain sentence).",
    "401": "Sign in required (AUTH_MODE=token).",
    "403": "Forbidden.",
    "404": "Not found.",
    "409": "Conflict: the data changed under the request.",
    "413": "The body is larger than the documented limit (README, Limits).",
    "422": "Well-formed request whose fields have the wrong types.",
    "503": "Storage is unavailable; try again.",
}
ERROR = {
    "title": "Error",
    "type": "object",
    "required": ["detail"],
    "properties": {"detail": {"type": "string"},
                   "errors": {"type": "array", "items": {"type": "object"}}},
}
GESTURE_ERROR = {
    "title": "GestureError",
    "type": "object",
    "required": ["success", "error", "detail"],
    "properties": {"success": {"const": False}, "error": {"type": "string"},
                   "detail": {"type": "string"},
                   "version": {"type": ["integer", "null"]}},
}
_VIDEO = {"video/mp4": {"schema": {"type": "string", "format": "binary"}}}
_MEDIA_PATHS = re.compile(r"(/video|/file|/final-video|/api/storage/local/\{key\}|"
                          r"/before-after/\{final_video_id\})$")
_TSV_PATH = "/api/games/{game_id}/annotations.tsv"


def _error_responses(gesture: bool) -> dict[str, Any]:
    ref = "#/components/schemas/" + ("GestureError" if gesture else "Error")
    return {status: {"description": text, "content": {"application/json": {
        "schema": {"$ref": ref}}}} for status, text in ERROR_STATUSES.items()}


def _media_responses(method: str, path: str) -> dict[str, Any]:
    if path.startswith("/api/storage/local/") and method == "put":
        return {"200": {"description": "Stored (ETag header)."}}
    content = {} if method == "head" else _VIDEO
    out: dict[str, Any] = {"200": {"description": "The video.", "content": content},
                           "206": {"description": "Part of the video (Range).",
                                   "content": content},
                           "416": {"description": "Range not satisfiable."}}
    if "/games/" in path or path.endswith("/file"):
        out["302"] = {"description": "Redirect to a presigned storage URL (S3/R2)."}
    return out


def describe(schema: dict[str, Any]) -> dict[str, Any]:
    """`schema` (FastAPI's document) with the real error model, statuses and media types."""
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    components["Error"] = ERROR
    components["GestureError"] = GESTURE_ERROR
    components.pop("HTTPValidationError", None)
    components.pop("ValidationError", None)
    for path, operations in schema.get("paths", {}).items():
        for method, operation in operations.items():
            responses = operation.setdefault("responses", {})
            responses.update(_error_responses(path.endswith("/actions")))
            if path == _TSV_PATH:
                responses["200"] = {"description": "The annotations as TSV.", "content": {
                    "text/tab-separated-values": {"schema": {"type": "string"}}}}
            elif _MEDIA_PATHS.search(path):
                responses.update(_media_responses(method, path))
    return schema


def install_openapi(app: FastAPI) -> None:
    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = describe(get_openapi(
                title=app.title, version=app.version, routes=app.routes))
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]

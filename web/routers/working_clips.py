"""Project clips (#17–#22) plus reorder and delete: `/api/clips/projects/{pid}/clips`."""

from __future__ import annotations

import logging
from pathlib import PurePath
from typing import Any

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict

from lib.errors import BadRequest
from lib.jobs.follow_ops import follow_keyframes
from lib.keys import Kind, new_name, object_key
from lib.library.upload_check import verify_upload
from lib.models import AUTO_FRAME
from lib.projects.auto_framing import apply_auto_frame, auto_frame_spec
from lib.projects.clip_versions import require_project
from lib.projects.extraction import dispatch
from lib.projects.working_clips import (
    add_clip_from_library,
    apply_framing_action,
    clip_for_file,
    create_uploaded_clip,
    delete_clip,
    list_clips,
    parse_tags_field,
    reorder_clips,
    save_framing_state,
)
from lib.storage import content_type_for, delete_objects
from web.deps import AppSettings, CurrentUser, Db, JobRunner, Store
from web.errors import ActionRoute
from web.fields import FormId, PathId, RowIds
from web.media import object_response, object_url_for, redirect_or_serve

log = logging.getLogger("reel_ballers.web")

PREFIX = "/api/clips/projects/{project_id}/clips"
router = APIRouter(prefix=PREFIX, tags=["working clips"])

UPLOAD_EXTENSIONS = {".mp4", ".mov", ".m4v", ".webm", ".mkv"}
JsonColumn = str | list | dict | None


class FramingState(BaseModel):
    """#20: each column a JSON string (or null) as the editor sends it."""

    model_config = ConfigDict(extra="ignore")
    crop_data: JsonColumn = None
    segments_data: JsonColumn = None
    timing_data: JsonColumn = None


class Reorder(BaseModel):
    clip_ids: RowIds


class Action(BaseModel):
    model_config = ConfigDict(extra="ignore")
    action: str
    target: dict[str, Any] | None = None
    data: dict[str, Any] | None = None


@router.get("")
def get_clips(project_id: PathId, db: Db, user_id: CurrentUser, store: Store,
              settings: AppSettings) -> list[dict]:
    url_for = object_url_for(user_id, store, settings)
    return db.read(lambda conn: list_clips(conn, project_id, url_for))


@router.post("")
def add_clip(project_id: PathId, raw_clip_id: FormId, *, db: Db, user_id: CurrentUser,
             runner: JobRunner) -> dict:
    """#18 (one request per selected clip; each is its own unit of work)."""
    clip_id, task = db.write(lambda conn: add_clip_from_library(conn, project_id, raw_clip_id))
    dispatch(runner, user_id, [task] if task else [])
    return {"success": True, "id": clip_id, "clip_id": clip_id, "project_id": project_id,
            "raw_clip_id": raw_clip_id, "extraction_queued": task is not None}


@router.post("/upload-with-metadata")
def upload_clip(
    project_id: PathId,
    file: UploadFile = File(...),
    name: str = Form(""),
    rating: int | None = Form(None),
    tags: str | None = Form(None),
    notes: str = Form(""),
    *,
    db: Db, user_id: CurrentUser, store: Store, runner: JobRunner,
) -> dict:
    """#19: the file is stored first, then the rows that point at it are committed."""
    tag_list = parse_tags_field(tags)
    if file.size == 0:
        raise BadRequest("The uploaded file is empty.")
    db.read(lambda conn: require_project(conn, project_id))  # before storing anything
    ext = PurePath(file.filename or "").suffix.lower()
    filename = new_name(ext if ext in UPLOAD_EXTENSIONS else ".mp4")
    key = object_key(user_id, Kind.RAW_CLIPS, filename)
    store.upload_stream(key, file.file, content_type=content_type_for(key))
    verify_upload(store, runner, key)  # a refused file is removed
    try:
        clip_id = db.write(lambda conn: create_uploaded_clip(
            conn, project_id, filename, name=name, rating=rating, tags=tag_list, notes=notes))
    except Exception:
        delete_objects(store, user_id, [(Kind.RAW_CLIPS, filename)])
        raise
    return {"success": True, "id": clip_id, "clip_id": clip_id, "project_id": project_id,
            "filename": filename}


@router.put("/reorder")
def reorder(project_id: PathId, body: Reorder, db: Db) -> dict:
    count = db.write(lambda conn: reorder_clips(conn, project_id, body.clip_ids))
    return {"success": True, "clip_count": count}


@router.put("/{clip_id}")
def save_clip(project_id: PathId, clip_id: PathId, body: FramingState, db: Db) -> dict:
    """#20: full framing state; a new version only for a real change on an exported clip."""
    values = {k: getattr(body, k) for k in body.model_fields_set}
    return db.write(lambda conn: save_framing_state(conn, project_id, clip_id, values)).response()


@router.delete("/{clip_id}")
def remove_clip(project_id: PathId, clip_id: PathId, db: Db, user_id: CurrentUser,
                store: Store) -> dict:
    deleted, objects = db.write(lambda conn: delete_clip(conn, project_id, clip_id))
    delete_objects(store, user_id, objects)
    return {"success": True, "deleted_versions": deleted}


@router.get("/{clip_id}/file")
@router.head("/{clip_id}/file")  # own route: unique operation id
def clip_file(project_id: PathId, clip_id: PathId, request: Request, db: Db, user_id: CurrentUser,
              store: Store, settings: AppSettings, stream: bool = False) -> Response:
    """#22: `<video src>` use (302 to storage, or bytes with Range locally); `?stream=true`
    is fetched as a blob by the multi-clip export: same origin, whole body, video/mp4."""
    kind, name = db.read(lambda conn: clip_for_file(conn, project_id, clip_id))
    key = object_key(user_id, kind, name)
    if stream:
        return object_response(store, key, without_range(request), media_type="video/mp4")
    return redirect_or_serve(store, key, request, settings)


def without_range(request: Request) -> Request:
    """The same request minus Range/If-Range: the blob fetch always gets the whole body."""
    headers = [(k, v) for k, v in request.scope["headers"] if k not in (b"range", b"if-range")]
    return Request({**request.scope, "headers": headers})


# -- #21: gestures answer errors as {success:false, error, detail} -------------------------------

def framing_action(project_id: PathId, clip_id: PathId, body: Action, db: Db, user_id: CurrentUser,
                   runner: JobRunner) -> dict:
    """#21: one fire-and-forget gesture. On an exported clip it lands on the newest version
    of the clip, created once. `auto_frame` tracks the player first (lib.projects.auto_framing)."""
    action = body.model_dump()
    if action["action"] == AUTO_FRAME:
        spec = db.read(lambda conn: auto_frame_spec(conn, user_id, project_id, clip_id,
                                                    action["data"]))
        keyframes = follow_keyframes(runner, spec)["keyframes"]
        return db.write(lambda conn: apply_auto_frame(conn, project_id, clip_id, spec, keyframes))
    return db.write(lambda conn: apply_framing_action(conn, project_id, clip_id, action)).response()


router.add_api_route("/{clip_id}/actions", framing_action, methods=["POST"],
                     route_class_override=ActionRoute)

"""Raw clips (#13-#16): the clip library and real-time annotation saves."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel

from lib.keys import Kind, object_key
from lib.library.annotations import (
    ClipSaved,
    after_commit,
    all_clips,
    delete_clip,
    save_clip,
    update_clip,
)
from web.deps import AppSettings, CurrentUser, Db, JobRunner, Store
from web.fields import ClipBody, PathId, Rating, RowId, Seconds
from web.media import playable_url

router = APIRouter(prefix="/api/clips/raw", tags=["raw clips"])

LIBRARY_FIELDS = ("id", "name", "filename", "rating", "tags", "notes", "start_time", "end_time",
                  "game_id", "auto_project_id", "boundaries_version", "created_at")


class ClipSave(ClipBody):
    """#14 body."""

    game_id: RowId


class ClipPatch(BaseModel):
    """#15 body: only the changed keys are sent."""

    name: str | None = None
    rating: Rating | None = None
    tags: list[str] | None = None
    notes: str | None = None
    start_time: Seconds | None = None
    end_time: Seconds | None = None

    def changes(self) -> dict[str, Any]:
        """The keys sent; a null name/notes/tags clears it, a null rating or time is ignored."""
        out: dict[str, Any] = {}
        for key, value in self.model_dump(exclude_unset=True).items():
            if value is None and key in ("name", "notes"):
                out[key] = ""
            elif value is None and key == "tags":
                out[key] = []
            elif value is not None:
                out[key] = value
        return out


def _saved_out(saved: ClipSaved) -> dict[str, Any]:
    return {"success": True, "raw_clip_id": saved.raw_clip_id, "created": saved.created,
            "project_created": saved.project_created, "project_id": saved.project_id}


@router.get("")
def list_raw_clips(db: Db, user: CurrentUser, store: Store, settings: AppSettings) -> list[dict]:
    """#13: every raw clip of the user (a bare array; `name` is the display name)."""
    out = []
    for clip in db.read(all_clips):
        item = {k: clip[k] for k in LIBRARY_FIELDS}
        item["file_url"] = (playable_url(store, object_key(user, Kind.RAW_CLIPS,
                                                           clip["filename"]), settings)
                            if clip["filename"] else None)
        out.append(item)
    return out


@router.post("/save")
def save_raw_clip(body: ClipSave, db: Db, user: CurrentUser, store: Store,
                  runner: JobRunner) -> dict:
    """#14: upsert by (game_id, end_time)."""
    clip = body.clip()
    saved = db.write(lambda c: save_clip(c, body.game_id, clip))
    after_commit(store, runner, user, saved.outcome)
    return _saved_out(saved)


@router.put("/{raw_clip_id}")
def update_raw_clip(raw_clip_id: PathId, body: ClipPatch, db: Db, user: CurrentUser,
                    store: Store, runner: JobRunner) -> dict:
    """#15: a partial update."""
    changes = body.changes()
    saved = db.write(lambda c: update_clip(c, raw_clip_id, changes))
    after_commit(store, runner, user, saved.outcome)
    return _saved_out(saved)


@router.delete("/{raw_clip_id}")
def delete_raw_clip(raw_clip_id: PathId, db: Db, user: CurrentUser, store: Store,
                    runner: JobRunner) -> dict:
    """#16: the clip, its project clips and its unworked auto project."""
    outcome = db.write(lambda c: delete_clip(c, raw_clip_id))
    after_commit(store, runner, user, outcome)
    return {"success": True, "raw_clip_id": raw_clip_id}

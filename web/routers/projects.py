"""Projects (#23–#30, plus `POST /api/projects` of the editor's e2e tests)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from lib.errors import BadRequest
from lib.models import AspectRatio, ProjectMode
from lib.projects.clip_versions import require_project
from lib.projects.extraction import dispatch
from lib.projects.projects import (
    create_project,
    create_project_from_clips,
    delete_project,
    discard_uncommitted,
    mark_project_opened,
    outdated_clips,
    refresh_outdated_clips,
)
from lib.projects.queries import list_projects, project_detail
from lib.storage import delete_objects
from web.deps import AppSettings, CurrentUser, Db, JobRunner, Store
from web.fields import PathId, RowIds
from web.media import object_url_for

router = APIRouter(prefix="/api/projects", tags=["projects"])


class NewProject(BaseModel):
    name: str
    aspect_ratio: AspectRatio = AspectRatio.WIDE


class FromClips(BaseModel):
    model_config = ConfigDict(extra="ignore")
    name: str
    aspect_ratio: AspectRatio = AspectRatio.WIDE
    game_ids: RowIds = []
    min_rating: Annotated[int, Field(ge=0, le=5)] = 0
    tags: list[str] = []
    clip_ids: RowIds = []


class RefreshClips(BaseModel):
    working_clip_ids: RowIds = []


def _created(conn, project_id: int) -> dict:
    row = require_project(conn, project_id)
    return {key: row[key] for key in ("id", "name", "aspect_ratio", "working_video_id",
                                      "final_video_id", "created_at")}


@router.get("")
def get_projects(db: Db) -> list[dict]:
    return db.read(list_projects)


@router.post("")
def new_project(body: NewProject, db: Db) -> dict:
    """An empty project (the editor's e2e tests)."""
    name = body.name.strip()
    if not name:
        raise BadRequest("A project needs a name.")
    return db.write(lambda conn: _created(conn, create_project(conn, name,
                                                               body.aspect_ratio.value)))


@router.post("/from-clips")
def from_clips(body: FromClips, db: Db, user_id: CurrentUser, runner: JobRunner) -> dict:
    """#26: `clip_ids` (in display order) win over the filters."""
    def create(conn):
        project_id, tasks = create_project_from_clips(
            conn, body.name, body.aspect_ratio.value, clip_ids=body.clip_ids,
            game_ids=body.game_ids, min_rating=body.min_rating, tags=body.tags)
        return {**_created(conn, project_id), "clip_count": len(
            conn.execute("SELECT 1 FROM working_clips WHERE project_id = ?",
                         (project_id,)).fetchall()), "extractions_queued": len(tasks)}, tasks

    project, tasks = db.write(create)
    dispatch(runner, user_id, tasks)
    return project


@router.get("/{project_id}")
def get_project(project_id: PathId, db: Db, user_id: CurrentUser, store: Store,
                settings: AppSettings) -> dict:
    """#24 (unknown query parameters such as `_t` are ignored)."""
    url_for = object_url_for(user_id, store, settings)
    return db.read(lambda conn: project_detail(conn, project_id, url_for))


@router.delete("/{project_id}")
def remove_project(project_id: PathId, db: Db, user_id: CurrentUser, store: Store) -> dict:
    """#25: rows cascade in one unit of work; the project's videos are deleted after it."""
    def delete(conn):
        require_project(conn, project_id)
        return delete_project(conn, project_id)

    objects = db.write(delete)
    delete_objects(store, user_id, objects)
    return {"success": True, "id": project_id}


@router.patch("/{project_id}/state")
def update_state(project_id: PathId, db: Db, runner: JobRunner, user_id: CurrentUser,
                 update_last_opened: bool = False,
                 current_mode: ProjectMode | None = None) -> dict:
    """#27 (sent on every project open)."""
    mode = current_mode.value if current_mode else None
    result = db.write(lambda conn: mark_project_opened(
        conn, project_id, update_last_opened=update_last_opened, current_mode=mode))
    dispatch(runner, user_id, result.pop("extraction_task_ids"))
    return result


@router.post("/{project_id}/discard-uncommitted")
def discard(project_id: PathId, db: Db) -> dict:
    """#28: back to the last exported framing."""
    count = db.write(lambda conn: discard_uncommitted(conn, project_id))
    return {"success": True, "discarded_count": count}


@router.get("/{project_id}/outdated-clips")
def get_outdated_clips(project_id: PathId, db: Db) -> dict:
    """#29"""
    clips = db.read(lambda conn: outdated_clips(conn, project_id))
    return {"project_id": project_id, "has_outdated_clips": bool(clips), "outdated_clips": clips}


@router.post("/{project_id}/refresh-outdated-clips")
def refresh_clips(project_id: PathId, db: Db, user_id: CurrentUser, runner: JobRunner,
                  body: RefreshClips | None = None) -> dict:
    """#30 "Use Latest": new boundaries, framing reset, re-extraction queued."""
    ids = body.working_clip_ids if body else []
    results, tasks = db.write(lambda conn: refresh_outdated_clips(conn, project_id, ids))
    dispatch(runner, user_id, tasks)
    return {"success": True, "refreshed_count": sum(1 for r in results if r["refreshed"]),
            "clips": results, "extractions_queued": len(tasks)}

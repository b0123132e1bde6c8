"""Downloads / gallery (#42–#45): list, count, the file (same-origin bytes with Range), delete."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from lib.keys import Kind
from lib.library.gallery import (
    delete_gallery_entry,
    download_file,
    fill_file_sizes,
    final_video_key,
    gallery_count,
    gallery_entries,
)
from lib.models import SourceType
from lib.storage import delete_objects
from web.deps import CurrentUser, Db, Store
from web.fields import PathId
from web.media import object_response

router = APIRouter(prefix="/api/downloads", tags=["downloads"])


@router.get("")
def list_downloads(db: Db, store: Store, user_id: CurrentUser,
                   source_type: SourceType | None = None) -> dict:
    entries = db.read(lambda conn: gallery_entries(conn, source_type))
    fill_file_sizes(entries, store, user_id)
    return {"downloads": entries, "total_count": len(entries)}


@router.get("/count")
def count_downloads(db: Db) -> dict:
    return {"count": db.read(gallery_count)}


@router.get("/{download_id}/file")
@router.head("/{download_id}/file")  # own route: unique operation id
def download(download_id: PathId, request: Request, db: Db, store: Store,
             user_id: CurrentUser) -> Response:
    filename, attachment_name = db.read(lambda conn: download_file(conn, download_id))
    return object_response(store, final_video_key(user_id, filename), request,
                           filename=attachment_name, attachment=True, media_type="video/mp4")


@router.delete("/{download_id}")
def delete_download(download_id: PathId, db: Db, store: Store, user_id: CurrentUser,
                    remove_file: Annotated[bool, Query()] = True) -> dict:
    names = db.write(lambda conn: delete_gallery_entry(conn, download_id))
    if remove_file:
        delete_objects(store, user_id, [(Kind.FINAL_VIDEOS, name) for name in names])
    return {"success": True, "deleted": download_id}

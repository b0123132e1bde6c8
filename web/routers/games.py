"""Games (#2-#12): library, details, uploads, full-state annotation sync, TSV import/export."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, ValidationError, field_validator

from lib.disposition import content_disposition
from lib.errors import BadRequest, NotFound
from lib.keys import Kind, new_name, object_key
from lib.library import games as games_lib
from lib.library.annotations import (
    Outcome,
    after_commit,
    attach_video,
    game_clips,
    import_clips,
    queue_game_extractions,
    sync_annotations,
)
from lib.library.tsv import MAX_BYTES, format_tsv, parse_tsv
from lib.library.upload_check import (
    RECEIPT_SUFFIX,
    PayloadTooLarge,
    check_receipt,
    verify_upload,
    write_receipt,
)
from lib.models import GameType
from lib.names import game_display_name
from lib.storage import content_type_for
from web.body_limits import too_large_message
from web.deps import AppSettings, CurrentUser, Db, JobRunner, Store
from web.fields import ClipBody, Count, PathId, Seconds
from web.media import playable_url, redirect_or_serve

router = APIRouter(prefix="/api/games", tags=["games"])

UPLOAD_CONTENT_TYPE = "video/mp4"  # what the editor's direct PUT always declares
ANNOTATION_FIELDS = ("id", "raw_clip_id", "start_time", "end_time", "name", "rating", "tags",
                     "notes")


def _blank_to_none(value: Any) -> Any:
    return None if isinstance(value, str) and not value.strip() else value


class GameDetails(BaseModel):
    """Multipart fields of #4 (strings on the wire; empty ones count as absent)."""

    name: str = ""
    video_duration: Seconds | None = None
    video_width: Count | None = None
    video_height: Count | None = None
    video_size: Count | None = None
    opponent_name: str | None = None
    game_date: dt.date | None = None
    game_type: GameType | None = None
    tournament_name: str | None = None

    _blanks = field_validator("*", mode="before")(_blank_to_none)

    def columns(self) -> dict[str, Any]:
        data = self.model_dump(exclude={"name"}, exclude_none=True)
        if self.game_date is not None:
            data["game_date"] = self.game_date.isoformat()
        if self.game_type is not None:
            data["game_type"] = self.game_type.value
        return data


class GameUpdate(BaseModel):
    """Rename / edit a game: only the fields sent change."""

    model_config = ConfigDict(extra="ignore")
    name: str | None = None
    opponent_name: str | None = None
    game_date: dt.date | None = None
    game_type: GameType | None = None
    tournament_name: str | None = None


async def game_update_body(request: Request) -> GameUpdate:
    """`PUT /api/games/{id}` (rename / edit) takes a form, like the old backend, or JSON."""
    if request.headers.get("content-type", "").startswith("application/json"):
        try:
            data = await request.json()
        except ValueError:
            raise BadRequest("Request body is not valid JSON.") from None
        if not isinstance(data, dict):
            raise BadRequest("Request body must be a JSON object.")
    else:
        data = {k: v for k, v in (await request.form()).items() if isinstance(v, str)}
    try:
        return GameUpdate.model_validate(data)
    except ValidationError as err:
        raise RequestValidationError(err.errors()) from None


# -- shaping -------------------------------------------------------------------------------

def _video_key(user_id: str, filename: str) -> str:
    return object_key(user_id, Kind.GAMES, filename)


def game_out(game, user_id: str, store, settings) -> dict[str, Any]:
    data = dict(game)
    data["name"] = game_display_name(game)
    data["date"] = game["game_date"]
    data["video_url"] = (playable_url(store, _video_key(user_id, game["video_filename"]),
                                      settings) if game["video_filename"] else None)
    return data


def _annotation_out(clip: dict[str, Any]) -> dict[str, Any]:
    clip = {**clip, "raw_clip_id": clip["id"]}
    return {k: clip[k] for k in ANNOTATION_FIELDS}


def _size_mb(size: int) -> float:
    return round(size / (1024 * 1024), 2)


# -- library -------------------------------------------------------------------------------

@router.get("")
def list_games(db: Db, user: CurrentUser, store: Store, settings: AppSettings) -> dict:
    rows = db.read(games_lib.list_games)
    return {"games": [game_out(g, user, store, settings) for g in rows]}


@router.get("/tournaments")
def list_tournaments(db: Db) -> dict:
    return {"tournaments": db.read(games_lib.list_tournaments)}


@router.post("")
def create_game(details: Annotated[GameDetails, Form()], db: Db, user: CurrentUser,
                store: Store, settings: AppSettings) -> dict:
    name = details.name.strip() or "Untitled game"

    def create(conn):
        return games_lib.get_game(conn, games_lib.create_game(conn, name, **details.columns()))

    return {"game": game_out(db.write(create), user, store, settings)}


@router.get("/{game_id}")
def get_game(game_id: PathId, db: Db, user: CurrentUser, store: Store,
             settings: AppSettings) -> dict:
    game, clips = db.read(lambda c: (games_lib.get_game(c, game_id), game_clips(c, game_id)))
    return {**game_out(game, user, store, settings),
            "annotations": [_annotation_out(c) for c in clips]}


@router.put("/{game_id}")
def update_game(game_id: PathId, body: Annotated[GameUpdate, Depends(game_update_body)], db: Db,
                user: CurrentUser, store: Store, settings: AppSettings) -> dict:
    fields = body.model_dump(exclude_unset=True)
    if isinstance(fields.get("game_date"), dt.date):
        fields["game_date"] = fields["game_date"].isoformat()
    if fields.get("game_type") is not None:
        fields["game_type"] = GameType(fields["game_type"]).value
    game = db.write(lambda c: games_lib.update_game(c, game_id, **fields))
    return {"success": True, "game": game_out(game, user, store, settings)}


@router.delete("/{game_id}")
def delete_game(game_id: PathId, db: Db, user: CurrentUser, store: Store,
                runner: JobRunner) -> dict:
    objects = db.write(lambda c: games_lib.delete_game(c, game_id))
    objects += [(k, n + RECEIPT_SUFFIX) for k, n in objects if k == Kind.GAMES]
    after_commit(store, runner, user, Outcome(objects=objects))
    return {"success": True, "game_id": game_id}


# -- the game video ------------------------------------------------------------------------

@router.get("/{game_id}/upload-url")
def upload_url(game_id: PathId, db: Db, user: CurrentUser, store: Store, settings: AppSettings,
               filename: str | None = None) -> dict:
    """A presigned PUT (S3/R2) or a signed same-origin PUT (local store) for the video; the
    object name is ours, never the client's file name."""
    db.read(lambda c: games_lib.get_game(c, game_id))
    name = new_name(".mp4")
    seconds = settings.upload_url_seconds  # a grant for one object, for minutes
    url = store.presign_put(_video_key(user, name), UPLOAD_CONTENT_TYPE, seconds)
    return {"r2_enabled": True, "upload_url": url, "video_filename": name,
            "content_type": UPLOAD_CONTENT_TYPE, "expires_in": seconds}


def _land(db, store, runner, user: str, game_id: int, name: str, facts: dict) -> Outcome:
    """Record a verified uploaded video (the object and its receipt exist already) and queue
    waiting extractions; if the game vanished meanwhile, the object goes too."""
    key = _video_key(user, name)
    write_receipt(store, key, facts)
    metadata = {"video_duration": facts["duration"], "video_width": facts["width"],
                "video_height": facts["height"]}
    try:
        outcome = db.write(lambda c: attach_video(c, game_id, name, facts["size"], **metadata))
    except NotFound:
        store.delete(key)
        store.delete(key + RECEIPT_SUFFIX)
        raise
    outcome.objects.extend((k, n + RECEIPT_SUFFIX) for k, n in list(outcome.objects))
    after_commit(store, runner, user, outcome)
    return outcome


def _landed(game_id: int, name: str, size: int, outcome: Outcome, user, store,
            settings) -> dict:
    return {"success": True, "game_id": game_id, "video_filename": name, "size": size,
            "size_mb": _size_mb(size), "pending_clips_extracted": len(outcome.task_ids),
            "video_url": playable_url(store, _video_key(user, name), settings)}


@router.post("/{game_id}/confirm-video")
def confirm_video(game_id: PathId, video_filename: Annotated[str, Form()], db: Db,
                  user: CurrentUser, store: Store, settings: AppSettings, runner: JobRunner,
                  video_size: Annotated[Count | None, Form()] = None) -> dict:
    def check(conn):
        games_lib.get_game(conn, game_id)
        games_lib.check_video_name(conn, game_id, video_filename)

    db.read(check)
    key = _video_key(user, video_filename)
    info = store.head(key)
    if info is None:
        raise BadRequest("The uploaded video was not found in storage; upload it again.")
    if video_size is not None and video_size != info.size:
        raise BadRequest(f"The stored video has {info.size} bytes, not {video_size}; "
                         "upload it again.")
    if info.size > settings.max_video_upload_bytes:
        store.delete(key)
        raise PayloadTooLarge(too_large_message(settings.max_video_upload_bytes, "video"))
    facts = verify_upload(store, runner, key)
    outcome = _land(db, store, runner, user, game_id, video_filename, facts)
    return _landed(game_id, video_filename, facts["size"], outcome, user, store, settings)


@router.put("/{game_id}/video")
def upload_video(game_id: PathId, video: Annotated[UploadFile, File()], db: Db,
                 user: CurrentUser, store: Store, settings: AppSettings,
                 runner: JobRunner) -> dict:
    """The fallback upload: the multipart part (spooled to disk by the server) is streamed
    to storage; a file that is not a video container is refused before anything is stored."""
    db.read(lambda c: games_lib.get_game(c, game_id))
    head = video.file.read(games_lib.SNIFF_BYTES)
    ext = games_lib.video_extension(head)
    if ext is None:
        raise BadRequest(games_lib.NOT_A_VIDEO)
    video.file.seek(0)
    name = new_name(ext)
    key = _video_key(user, name)
    store.upload_stream(key, video.file, content_type_for(key))
    facts = verify_upload(store, runner, key)
    outcome = _land(db, store, runner, user, game_id, name, facts)
    return _landed(game_id, name, facts["size"], outcome, user, store, settings)


@router.get("/{game_id}/video")
@router.head("/{game_id}/video")
def game_video(game_id: PathId, request: Request, db: Db, user: CurrentUser, store: Store,
               settings: AppSettings) -> Response:
    game = db.read(lambda c: games_lib.get_game(c, game_id))
    if not game["video_filename"]:
        raise NotFound("This game has no video yet.")
    key = _video_key(user, game["video_filename"])
    info = check_receipt(store, key)
    return redirect_or_serve(store, key, request, settings, info=info)


@router.post("/{game_id}/finish-annotation")
def finish_annotation(game_id: PathId, db: Db, user: CurrentUser, store: Store,
                      runner: JobRunner) -> dict:
    """Leaving Annotate: queue any extraction still waiting (normally none)."""
    def finish(conn):
        games_lib.get_game(conn, game_id)
        return Outcome(task_ids=queue_game_extractions(conn, game_id))

    outcome = db.write(finish)
    after_commit(store, runner, user, outcome)
    count = len(outcome.task_ids)
    return {"success": True, "tasks_created": count,
            "message": f"{count} clip extraction(s) queued." if count else "Nothing to extract."}


# -- annotations ---------------------------------------------------------------------------

def _sync_out(result) -> dict:
    return {"success": True, "clip_count": result.clip_count, "created": result.created,
            "updated": result.updated, "deleted": result.deleted,
            "projects_created": result.projects_created}


@router.put("/{game_id}/annotations")
def save_annotations(game_id: PathId, annotations: list[ClipBody], db: Db,
                     user: CurrentUser, store: Store, runner: JobRunner) -> dict:
    """#9: the full state of the game's annotations (a bare JSON array)."""
    clips = [a.clip() for a in annotations]
    result = db.write(lambda c: sync_annotations(c, game_id, clips))
    after_commit(store, runner, user, result.outcome)
    return _sync_out(result)


@router.post("/{game_id}/annotations/import")
def import_annotations(game_id: PathId, file: Annotated[UploadFile, File()], db: Db,
                       user: CurrentUser, store: Store, runner: JobRunner) -> dict:
    """A TSV file in the editor's format; rows are upserted by end time, nothing deleted."""
    db.read(lambda c: games_lib.get_game(c, game_id))
    parsed = parse_tsv(file.file.read(MAX_BYTES + 1))
    result = db.write(lambda c: import_clips(c, game_id, parsed.clips))
    after_commit(store, runner, user, result.outcome)
    return {**_sync_out(result), "imported": len(parsed.clips), "warnings": parsed.warnings}


@router.get("/{game_id}/annotations.tsv")
def export_annotations(game_id: PathId, db: Db) -> Response:
    game, clips = db.read(lambda c: (games_lib.get_game(c, game_id), game_clips(c, game_id)))
    filename = f"{game_display_name(game)}.tsv"
    return Response(format_tsv(clips), media_type="text/tab-separated-values; charset=utf-8",
                    headers={"Content-Disposition": content_disposition(filename)})


"""POST /api/detect/players: persons at given times of one of the user's videos (§6)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter
from pydantic import BaseModel, Field

from lib.action_fields import MAX_SECONDS
from lib.jobs.detect_ops import detect_players, video_key
from lib.models import MAX_DETECT_TIMESTAMPS
from web.deps import CurrentUser, Db, JobRunner
from web.fields import RowId

router = APIRouter(prefix="/api/detect", tags=["detection"])

Seconds = Annotated[float, Field(ge=0, le=MAX_SECONDS, allow_inf_nan=False)]


class DetectRequest(BaseModel):
    """Exactly one of project_id (its current working video), working_video_id,
    final_video_id or raw_clip_id; and either timestamps (seconds) or one frame_number."""

    project_id: RowId | None = None
    working_video_id: RowId | None = None
    final_video_id: RowId | None = None
    raw_clip_id: RowId | None = None
    timestamps: list[Seconds] | None = Field(None, min_length=1, max_length=MAX_DETECT_TIMESTAMPS)
    frame_number: Annotated[int, Field(ge=0, le=10_000_000)] | None = None
    confidence: Annotated[float, Field(gt=0, le=1)] = 0.5


@router.post("/players")
def players(body: DetectRequest, db: Db, runner: JobRunner, user_id: CurrentUser
            ) -> dict[str, Any]:
    key = db.read(lambda conn: video_key(
        conn, user_id, project_id=body.project_id, working_video_id=body.working_video_id,
        final_video_id=body.final_video_id, raw_clip_id=body.raw_clip_id))
    return detect_players(runner, key, timestamps=body.timestamps,
                          frame_number=body.frame_number, confidence=body.confidence)

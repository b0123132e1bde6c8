"""Validated types shared by the library/annotate routers (bad values answer 422)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Path
from pydantic import BaseModel, Field

from lib.library.annotations import ClipInput

MAX_SQL_INT = 2**63 - 1  # SQLite INTEGER; larger ids can exist nowhere

PathId = Annotated[int, Path(ge=0, le=MAX_SQL_INT)]
RowId = Annotated[int, Field(ge=0, le=MAX_SQL_INT)]
Count = Annotated[int, Field(ge=0, le=MAX_SQL_INT)]
Seconds = Annotated[float, Field(ge=0, allow_inf_nan=False)]
Rating = Annotated[int, Field(ge=1, le=5)]


class ClipBody(BaseModel):
    """An annotation as the editor sends it: an item of #9, the body of #14 (+ game_id).
    Nulls fall back to the editor's defaults."""

    start_time: Seconds
    end_time: Seconds
    name: str | None = ""
    rating: Rating | None = 3
    tags: list[str] | None = None
    notes: str | None = ""

    def clip(self) -> ClipInput:
        return ClipInput(start_time=self.start_time, end_time=self.end_time,
                         name=self.name or "", rating=self.rating or 3,
                         tags=self.tags or [], notes=self.notes or "")

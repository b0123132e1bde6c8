"""Validated types shared by the routers (bad values answer 422)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Form, Path
from pydantic import BaseModel, Field

from lib.keys import MAX_ROW_ID
from lib.library.annotations import ClipInput

# The one id type of the API (bounds from lib.keys, which validates ids outside pydantic).
PathId = Annotated[int, Path(ge=0, le=MAX_ROW_ID)]
RowId = Annotated[int, Field(ge=0, le=MAX_ROW_ID)]
FormId = Annotated[int, Form(ge=0, le=MAX_ROW_ID)]
RowIds = Annotated[list[RowId], Field(max_length=10_000)]
Count = Annotated[int, Field(ge=0, le=MAX_ROW_ID)]
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

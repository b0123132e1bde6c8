"""Validated field types shared by the library/annotate routers (bad values answer 422)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Path
from pydantic import Field

MAX_SQL_INT = 2**63 - 1  # SQLite INTEGER; larger ids can exist nowhere

PathId = Annotated[int, Path(ge=0, le=MAX_SQL_INT)]
RowId = Annotated[int, Field(ge=0, le=MAX_SQL_INT)]
Count = Annotated[int, Field(ge=0, le=MAX_SQL_INT)]
Seconds = Annotated[float, Field(ge=0, allow_inf_nan=False)]
Rating = Annotated[int, Field(ge=1, le=5)]

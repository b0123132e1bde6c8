"""User settings (#31, #32): always the full settings merged over the defaults."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict

from lib.library.settings import get_settings, reset_settings, update_settings
from web.deps import Db

router = APIRouter(prefix="/api/settings", tags=["settings"])


class ProjectFilters(BaseModel):
    model_config = ConfigDict(extra="allow")
    statusFilter: Literal[
        "all", "uncompleted", "complete", "overlay", "editing", "exported", "not_started"
    ] | None = None
    aspectFilter: Literal["all", "16:9", "9:16", "4:3", "1:1"] | None = None
    creationFilter: Literal["all", "auto", "custom"] | None = None


class FramingSettings(BaseModel):
    model_config = ConfigDict(extra="allow")
    includeAudio: bool | None = None
    defaultAspectRatio: Literal["16:9", "9:16", "4:3", "1:1"] | None = None
    defaultTransition: Literal["cut", "fade", "dissolve"] | None = None


class OverlaySettings(BaseModel):
    model_config = ConfigDict(extra="allow")
    highlightEffectType: Literal["original", "brightness_boost", "dark_overlay"] | None = None


class SettingsPatch(BaseModel):
    """A partial, nested update; keys the editor does not know are carried along."""

    model_config = ConfigDict(extra="allow")
    projectFilters: ProjectFilters | None = None
    framing: FramingSettings | None = None
    overlay: OverlaySettings | None = None


@router.get("")
def read_settings(db: Db) -> dict:
    return db.read(get_settings)


@router.put("")
def write_settings(patch: SettingsPatch, db: Db) -> dict:
    data = patch.model_dump(exclude_none=True)
    return db.write(lambda conn: update_settings(conn, data))


@router.delete("")
def delete_settings(db: Db) -> dict:
    return db.write(reset_settings)

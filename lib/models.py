"""Enums of the domain (str Enums: they compare equal to their wire strings)."""

from __future__ import annotations

from enum import StrEnum


class ExportStatus(StrEnum):
    PENDING = "pending"
    PROCESSING = "processing"
    COMPLETE = "complete"
    ERROR = "error"


class ExportPhase(StrEnum):
    INIT = "init"
    DOWNLOAD = "download"
    PROCESSING = "processing"
    UPSCALING = "upscaling"  # framing's frame loop (the editor keys on this name)
    UPLOAD = "upload"
    FINALIZING = "finalizing"
    COMPLETE = "complete"
    ERROR = "error"

    @property
    def status(self) -> ExportStatus:
        """The job status this phase implies."""
        if self is ExportPhase.INIT:
            return ExportStatus.PENDING
        if self is ExportPhase.COMPLETE:
            return ExportStatus.COMPLETE
        if self is ExportPhase.ERROR:
            return ExportStatus.ERROR
        return ExportStatus.PROCESSING


class ExportType(StrEnum):
    FRAMING = "framing"
    OVERLAY = "overlay"
    MULTI_CLIP = "multi_clip"
    ANNOTATE = "annotate"

    @property
    def client_type(self) -> str:
        """What the editor is shown: multi-clip jobs are framing jobs to it."""
        return "framing" if self is ExportType.MULTI_CLIP else self.value


class EffectType(StrEnum):
    ORIGINAL = "original"
    BRIGHTNESS_BOOST = "brightness_boost"
    DARK_OVERLAY = "dark_overlay"


class AspectRatio(StrEnum):
    WIDE = "16:9"
    VERTICAL = "9:16"
    CLASSIC = "4:3"
    SQUARE = "1:1"


def aspect_value(aspect_ratio: str | None) -> float | None:
    """Width / height of a "w:h" aspect ratio; None when it is not one."""
    try:
        a, b = (float(x) for x in (aspect_ratio or "").split(":"))
        return a / b if a > 0 and b > 0 else None
    except ValueError:
        return None


class GameType(StrEnum):
    HOME = "home"
    AWAY = "away"
    TOURNAMENT = "tournament"


class ProjectMode(StrEnum):
    ANNOTATE = "annotate"
    FRAMING = "framing"
    OVERLAY = "overlay"


class SourceType(StrEnum):
    BRILLIANT_CLIP = "brilliant_clip"
    CUSTOM_PROJECT = "custom_project"
    ANNOTATED_GAME = "annotated_game"


class CropKeyframeOrigin(StrEnum):
    PERMANENT = "permanent"
    USER = "user"
    TRIM = "trim"


class TaskStatus(StrEnum):
    PENDING = "pending"
    RUNNING = "running"
    COMPLETE = "complete"
    ERROR = "error"


class Transition(StrEnum):
    CUT = "cut"
    FADE = "fade"
    DISSOLVE = "dissolve"


class FramingAction(StrEnum):
    ADD_CROP_KEYFRAME = "add_crop_keyframe"
    UPDATE_CROP_KEYFRAME = "update_crop_keyframe"
    DELETE_CROP_KEYFRAME = "delete_crop_keyframe"
    MOVE_CROP_KEYFRAME = "move_crop_keyframe"
    SPLIT_SEGMENT = "split_segment"
    REMOVE_SEGMENT_SPLIT = "remove_segment_split"
    SET_SEGMENT_SPEED = "set_segment_speed"
    SET_TRIM_RANGE = "set_trim_range"
    CLEAR_TRIM_RANGE = "clear_trim_range"


class OverlayAction(StrEnum):
    CREATE_REGION = "create_region"
    DELETE_REGION = "delete_region"
    UPDATE_REGION = "update_region"
    TOGGLE_REGION = "toggle_region"
    ADD_KEYFRAME = "add_keyframe"
    UPDATE_KEYFRAME = "update_keyframe"
    DELETE_KEYFRAME = "delete_keyframe"
    SET_EFFECT_TYPE = "set_effect_type"


# The follow-the-player gestures (tracked by the `follow` job before they are applied)
AUTO_FRAME = "auto_frame"  # a framing gesture
TRACK_REGION = "track_region"  # an overlay gesture


# Automatic highlight regions (media.md §6): one per clip of a framing export, at its start.
AUTO_REGION_SECONDS = 2.0  # its length (shorter clips: the whole clip)
AUTO_REGION_MIN_CLIP = 0.5  # clips shorter than this get no region
AUTO_REGION_SAMPLES = 4  # detections at this many evenly spaced times of the region
MAX_DETECT_TIMESTAMPS = 100  # times one player-detection request may ask for

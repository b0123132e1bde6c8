"""Validating the fields of a gesture's `target`/`data` as the editor sends them (framing
#21 and overlay #38 alike).

Wrong types are Unprocessable (422); missing or out-of-range values are BadRequest (400).
Every number is bounded where it is read, so nothing that would fail the export later is
stored: times in [0, MAX_SECONDS] (and within the clip where the reducer knows it), frames
whole and in [0, MAX_FRAME], coordinates in [0, MAX_PIXELS], sizes in [1, MAX_PIXELS].
A non-zero magnitude below TINY (e.g. `1e-320`) is no value the editor produces.
"""

from __future__ import annotations

import math
from typing import Any

from lib.errors import BadRequest, Unprocessable

MAX_SECONDS = 24 * 3600.0  # no clip or game video is longer than a day
MAX_FRAME = int(MAX_SECONDS * 240)  # ... at up to 240 fps
MAX_PIXELS = 16384.0  # 16K: larger than any video we accept
MIN_SIZE = 1.0  # a crop or an ellipse radius is at least one pixel
TINY = 1e-6


def finite(value: Any, what: str) -> float | None:
    """`value` as a finite float, None if it is no number; BadRequest for an integer too large
    for a float (a 400-digit number) or a non-finite one."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        number = float(value)
    except OverflowError:
        raise BadRequest(f"`{what}` is far too large.") from None
    if not math.isfinite(number):
        raise BadRequest(f"`{what}` must be a finite number.")
    return number


def bounded(value: Any, what: str, low: float, high: float, unit: str = "") -> float:
    """A number in [low, high] (not a denormal-size nonsense value), else BadRequest."""
    number = finite(value, what)
    if number is None:
        raise BadRequest(f"`{what}` must be a number.")
    if not low <= number <= high:
        raise BadRequest(f"`{what}` must be between {low:g} and {high:g}{unit}.")
    if number != 0 and abs(number) < TINY:
        raise BadRequest(f"`{what}` is too small to be meaningful; use 0 or a real value.")
    return number


def seconds(value: Any, what: str, high: float = MAX_SECONDS) -> float:
    return bounded(value, what, 0.0, high, " seconds")


def frame(value: Any, what: str) -> int:
    number = bounded(value, what, 0, MAX_FRAME)
    if number != int(number):
        raise BadRequest(f"`{what}` must be a whole number.")
    return int(number)


def coordinate(value: Any, what: str) -> float:
    return bounded(value, what, 0.0, MAX_PIXELS, " pixels")


def size(value: Any, what: str) -> float:
    return bounded(value, what, MIN_SIZE, MAX_PIXELS, " pixels")


def object_arg(value: Any, where: str) -> dict:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise Unprocessable(f"`{where}` must be an object.")
    return value


def number_arg(obj: dict, key: str, where: str, *, default: float | None = None,
            required: bool = True) -> float | None:
    value = obj.get(key)
    if value is None:
        if required and default is None:
            raise BadRequest(f"`{where}.{key}` is required.")
        return default
    number = finite(value, f"{where}.{key}")
    if number is None:
        raise Unprocessable(f"`{where}.{key}` must be a number.")
    return number


def time_arg(obj: dict, key: str, where: str, *, required: bool = True) -> float | None:
    value = number_arg(obj, key, where, required=required)
    return None if value is None else seconds(value, f"{where}.{key}")


def first_time_arg(obj: dict, keys: tuple[str, ...], where: str) -> float | None:
    for key in keys:
        if obj.get(key) is not None:
            return time_arg(obj, key, where)
    return None


def region_id_arg(target: dict, data: dict, *, required: bool = True) -> str | None:
    value = target.get("region_id", data.get("region_id"))
    if value is None:
        if required:
            raise BadRequest("`target.region_id` is required.")
        return None
    if not isinstance(value, str) or not value.strip():
        raise Unprocessable("`target.region_id` must be a non-empty string.")
    return value


def bool_arg(obj: dict, key: str, where: str) -> bool | None:
    value = obj.get(key)
    if value is None:
        return None
    if not isinstance(value, bool):
        raise Unprocessable(f"`{where}.{key}` must be true or false.")
    return value


def color_arg(obj: dict, where: str, default: str | None) -> str | None:
    value = obj.get("color")
    if value is None:
        return default
    if not isinstance(value, str):
        raise Unprocessable(f"`{where}.color` must be a string.")
    return value

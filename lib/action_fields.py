"""Validating the fields of a gesture's `target`/`data` as the editor sends them.

Wrong types are Unprocessable (422); missing or out-of-range values are BadRequest (400).
"""

from __future__ import annotations

import math
from typing import Any

from lib.errors import BadRequest, Unprocessable


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
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise Unprocessable(f"`{where}.{key}` must be a number.")
    if not math.isfinite(value):
        raise BadRequest(f"`{where}.{key}` must be a finite number.")
    return float(value)


def time_arg(obj: dict, key: str, where: str, *, required: bool = True) -> float | None:
    value = number_arg(obj, key, where, required=required)
    if value is not None and value < 0:
        raise BadRequest(f"`{where}.{key}` must not be negative.")
    return value


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

"""User settings: a singleton row, read as a deep merge over the defaults."""

from __future__ import annotations

import copy
import json
import sqlite3

from lib.errors import BadRequest

DEFAULTS: dict = {
    "projectFilters": {
        "statusFilter": "uncompleted",
        "aspectFilter": "all",
        "creationFilter": "all",
    },
    "framing": {"includeAudio": True, "defaultAspectRatio": "9:16", "defaultTransition": "cut"},
    "overlay": {"highlightEffectType": "original"},
}
# Keys the editor does not know are carried along, within this bound: settings are part of
# the user's database, which every write uploads.
MAX_SETTINGS_BYTES = 16 * 1024


def deep_merge(base: dict, patch: dict) -> dict:
    """A new dict: `patch` merged into `base`, nested dicts merged key by key."""
    out = copy.deepcopy(base)
    for key, value in patch.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = deep_merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def _conforming(stored: dict, defaults: dict) -> dict:
    """`stored` without values that would replace a section of the defaults by a non-object
    (old or broken data): the editor destructures `projectFilters.statusFilter`."""
    out = {}
    for key, value in stored.items():
        default = defaults.get(key)
        if isinstance(default, dict):
            if not isinstance(value, dict):
                continue
            value = _conforming(value, default)
        out[key] = value
    return out


def _stored(conn: sqlite3.Connection) -> dict:
    row = conn.execute("SELECT settings_json FROM user_settings WHERE id = 1").fetchone()
    if row is None:
        return {}
    try:
        data = json.loads(row[0] or "{}")
    except ValueError:
        return {}
    return _conforming(data, DEFAULTS) if isinstance(data, dict) else {}


def get_settings(conn: sqlite3.Connection) -> dict:
    return deep_merge(DEFAULTS, _stored(conn))


def update_settings(conn: sqlite3.Connection, patch: dict) -> dict:
    """Merge `patch` into the stored settings; returns the full merged settings."""
    stored = deep_merge(_stored(conn), patch)
    text = json.dumps(stored)
    if len(text.encode()) > MAX_SETTINGS_BYTES:
        raise BadRequest(f"Settings may hold at most {MAX_SETTINGS_BYTES // 1024} KB; "
                         "this change would exceed that.")
    conn.execute(
        "INSERT INTO user_settings (id, settings_json, updated_at) VALUES (1, ?, CURRENT_TIMESTAMP)"
        " ON CONFLICT(id) DO UPDATE SET settings_json = excluded.settings_json,"
        " updated_at = CURRENT_TIMESTAMP",
        (text,),
    )
    return deep_merge(DEFAULTS, stored)


def reset_settings(conn: sqlite3.Connection) -> dict:
    conn.execute("DELETE FROM user_settings WHERE id = 1")
    return copy.deepcopy(DEFAULTS)

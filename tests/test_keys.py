"""lib.keys: the one place object keys are built and user ids validated."""

from __future__ import annotations

import re

import pytest

from lib.errors import BadRequest
from lib.keys import (
    DATABASE_NAME,
    Kind,
    database_key,
    new_name,
    object_key,
    split_key,
    user_prefix,
    validate_user_id,
)


@pytest.mark.parametrize("uid", ["a", "e2e_1795470080176_49g5zo", "A-b_9", "x" * 64])
def test_valid_user_ids(uid):
    assert validate_user_id(uid) == uid
    assert database_key(uid) == f"{uid}/{DATABASE_NAME}"
    assert user_prefix(uid) == f"{uid}/"


@pytest.mark.parametrize(
    "uid",
    ["", "x" * 65, "a/b", "../a", "a b", "a.b", "ä", "a\n", "a\x00", ".", "..", None, 5],
)
def test_invalid_user_ids_raise_bad_request(uid):
    with pytest.raises(BadRequest) as err:
        validate_user_id(uid)
    assert err.value.status == 400
    assert "letters, digits" in err.value.message


def test_kinds_are_the_design_layout():
    assert {k.value for k in Kind} == {
        "games", "raw_clips", "uploads", "working_videos", "final_videos", "downloads",
        "highlights", "detections",
    }


def test_object_key_layout_and_inverse():
    name = new_name(".mp4")
    key = object_key("u1", Kind.GAMES, name)
    assert key == f"u1/games/{name}"
    assert split_key(key) == ("u1", "games", name)
    assert object_key("u1", "raw_clips", name) == f"u1/raw_clips/{name}"


def test_new_name_is_unique_uuid_hex_with_lowercased_extension():
    names = {new_name(".MP4") for _ in range(200)}
    assert len(names) == 200
    assert all(re.fullmatch(r"[0-9a-f]{32}\.mp4", n) for n in names)
    assert re.fullmatch(r"thumb_[0-9a-f]{32}\.jpg", new_name(".jpg", prefix="thumb_"))


@pytest.mark.parametrize("ext", ["mp4", ".", ".mp4/../x", ".toolongext", "", ". mp4", ".mp4\n"])
def test_new_name_rejects_bad_extensions(ext):
    with pytest.raises(BadRequest):
        new_name(ext)


@pytest.mark.parametrize("prefix", ["a/b", "..", "a.b", "x" * 41, "a\n"])
def test_new_name_rejects_bad_prefixes(prefix):
    with pytest.raises(BadRequest):
        new_name(".mp4", prefix=prefix)


@pytest.mark.parametrize(
    "uid,kind,name",
    [
        ("u", "games", "../../etc/passwd"),
        ("u", "games", "a/b.mp4"),
        ("u", "games", ".hidden"),
        ("u", "games", ""),
        ("u", "games", "a b.mp4"),
        ("u", "games", "a.mp4\n"),
        ("u\n", "games", "a.mp4"),
        ("u/x", "games", "a.mp4"),
        ("u", "database.sqlite", "a.mp4"),
        ("u", "secrets", "a.mp4"),
    ],
)
def test_object_key_rejects_unsafe_parts(uid, kind, name):
    with pytest.raises(BadRequest):
        object_key(uid, kind, name)


@pytest.mark.parametrize(
    "key", ["u/games", "u/games/a.mp4/extra", "u/nokind/a.mp4", "../games/a.mp4", "u//a.mp4"]
)
def test_split_key_rejects_malformed_keys(key):
    with pytest.raises(BadRequest):
        split_key(key)

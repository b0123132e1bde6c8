"""Downloads named from user text: RFC 6266 headers, control characters gone, names signed."""

from __future__ import annotations

from urllib.parse import parse_qs, quote, unquote, urlencode, urlsplit

import pytest

from lib.disposition import content_disposition
from lib.keys import Kind, new_name, object_key

NAMES = ["東京 derby", "Final ⚽🏆", "tab\x0bhere",
         'quote " back \\ slash', "cr\r\nSet-Cookie: a=b"]


def _parts(header: str) -> tuple[str, str]:
    """(filename= fallback, decoded filename*) of a Content-Disposition header."""
    assert header.startswith("attachment; filename=\""), header
    fallback = header.split('filename="', 1)[1].split('"; ', 1)[0]
    encoded = header.split("filename*=UTF-8''", 1)[1]
    return fallback, unquote(encoded)


@pytest.mark.parametrize("name", NAMES)
def test_header_is_ascii_and_keeps_the_name(name):
    header = content_disposition(f"{name}.tsv")
    header.encode("ascii")  # a header value must be ASCII; this one always is
    fallback, full = _parts(header)
    assert all(32 <= ord(c) < 127 and c not in '"\\' for c in fallback)
    assert fallback.endswith(".tsv") and full.endswith(".tsv")
    assert not any(ord(c) < 32 or ord(c) == 127 for c in full)
    if name == "東京 derby":
        assert full == "東京 derby.tsv" and fallback == "derby.tsv"


@pytest.mark.parametrize("name", NAMES)
def test_annotations_tsv_for_any_game_name(local_api, name):
    c = local_api.client
    game = c.post("/api/games", data={"name": name}).json()["game"]["id"]
    r = c.get(f"/api/games/{game}/annotations.tsv")
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/tab-separated-values")
    _, full = _parts(r.headers["content-disposition"])
    assert full.endswith(".tsv") and "\x0b" not in full and "\n" not in full


def test_local_url_filename_is_signed(local_api):
    store = local_api.store
    key = object_key("a", Kind.FINAL_VIDEOS, new_name(".mp4"))
    store.put_bytes(key, b"video bytes")
    url = store.presign_get(key, 60, filename="東京 derby.mp4")
    r = local_api.client.get(url)
    assert r.status_code == 200
    assert _parts(r.headers["content-disposition"])[1] == "東京 derby.mp4"
    path, query = urlsplit(url).path, parse_qs(urlsplit(url).query)
    forged = {"exp": query["exp"][0], "sig": query["sig"][0], "filename": "evil.exe"}
    assert local_api.client.get(f"{path}?{urlencode(forged)}").status_code == 403
    plain = store.presign_get(key, 60)
    assert local_api.client.get(plain + "&filename=" + quote("x\x0b.mp4")).status_code == 403
    assert local_api.client.get(plain).status_code == 200

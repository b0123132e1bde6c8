"""Helpers shared by the library/annotate API tests: create games, upload videos, peek rows."""

from __future__ import annotations

from pathlib import Path

import httpx

from lib.keys import Kind, object_key


def create_game(api, headers: dict | None = None, **fields) -> dict:
    data = {"name": "wcfc-carlsbad-trimmed", "opponent_name": "Carlsbad SC",
            "game_date": "2025-12-06", "game_type": "home", **fields}
    r = api.client.post("/api/games", data={k: str(v) for k, v in data.items()},
                        headers=headers or {})
    assert r.status_code == 200, r.text
    return r.json()["game"]


def put_url(api, url: str, data: bytes, content_type: str = "video/mp4") -> httpx.Response:
    """PUT to an upload URL: same-origin (local store) through the app, else to storage."""
    headers = {"Content-Type": content_type}
    if url.startswith("/"):
        return api.client.put(url, content=data, headers=headers)
    return httpx.put(url, content=data, headers=headers)


def get_url(api, url: str, headers: dict | None = None) -> httpx.Response:
    if url.startswith("/"):
        return api.client.get(url, headers=headers or {})
    return httpx.get(url, headers=headers or {})


def upload_direct(api, game_id: int, video: Path, headers: dict | None = None) -> dict:
    """The presigned flow: upload-url -> PUT -> confirm-video."""
    headers = headers or {}
    r = api.client.get(f"/api/games/{game_id}/upload-url",
                       params={"filename": video.name}, headers=headers)
    assert r.status_code == 200, r.text
    ticket = r.json()
    assert ticket["r2_enabled"] is True
    put = put_url(api, ticket["upload_url"], video.read_bytes())
    assert put.status_code == 200, put.text
    r = api.client.post(f"/api/games/{game_id}/confirm-video",
                        data={"video_filename": ticket["video_filename"],
                              "video_size": str(video.stat().st_size)}, headers=headers)
    assert r.status_code == 200, r.text
    return r.json()


def upload_multipart(api, game_id: int, video: Path, headers: dict | None = None) -> dict:
    with open(video, "rb") as fh:
        r = api.client.put(f"/api/games/{game_id}/video",
                           files={"video": (video.name, fh, "video/mp4")}, headers=headers or {})
    assert r.status_code == 200, r.text
    return r.json()


def rows(api, sql: str, params: tuple = (), user: str = "a") -> list[dict]:
    """Rows of the user's database, read through the app's own sync layer."""
    def read(conn):
        return [dict(r) for r in conn.execute(sql, params).fetchall()]
    return api.app.state.dbs.read(user, read)


def execute(api, sql: str, params: tuple = (), user: str = "a") -> None:
    api.app.state.dbs.write(user, lambda conn: conn.execute(sql, params))


def game_objects(api, user: str = "a") -> list[str]:
    """The game videos stored (their `.verified` receipts left out)."""
    return [i.key for i in api.store.list(f"{user}/{Kind.GAMES.value}/")
            if not i.key.endswith(".verified")]


def clip_key(user: str, name: str) -> str:
    return object_key(user, Kind.RAW_CLIPS, name)


def expected_counts(api, game_id: int, user: str = "a") -> dict:
    """What the cached counts of a game must be, computed from its clips."""
    ratings = [r["rating"] for r in rows(api, "SELECT rating FROM raw_clips WHERE game_id = ?",
                                         (game_id,), user)]
    n = {k: sum(1 for x in ratings if x == v) for k, v in
         (("brilliant", 5), ("good", 4), ("interesting", 3), ("mistake", 2), ("blunder", 1))}
    score = (10 * n["brilliant"] + 5 * n["good"] + 2 * n["interesting"] - 2 * n["mistake"]
             - 5 * n["blunder"])
    return {"clip_count": len(ratings), **{f"{k}_count": v for k, v in n.items()},
            "aggregate_score": score}


def stored_counts(api, game_id: int, user: str = "a") -> dict:
    row = rows(api, "SELECT clip_count, brilliant_count, good_count, interesting_count,"
                    " mistake_count, blunder_count, aggregate_score FROM games WHERE id = ?",
               (game_id,), user)[0]
    return row

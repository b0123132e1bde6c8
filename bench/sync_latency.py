"""Latency of a settings PUT through the HTTP API, including revalidation and the CAS upload
of a 1 MB user database to an S3 server (moto) on loopback, against the physical floor measured
in the same run: one conditional GET answered 304 plus one bare boto3 put_object of the same
bytes.

    .venv/bin/python bench/sync_latency.py [--iterations 300] [--transport asgi|uvicorn]

`asgi` (default) drives the real ASGI app in-process through httpx.ASGITransport; `uvicorn`
serves it on 127.0.0.1 and uses a keep-alive httpx client. Last line:
`RESULT p50_ms=.. p99_ms=.. floor_p50_ms=.. ratio=..` (ratio = p50 / floor_p50).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import socket
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from botocore.exceptions import ClientError  # noqa: E402

from lib.config import Settings  # noqa: E402
from lib.keys import database_key  # noqa: E402
from lib.storage.s3 import S3Store  # noqa: E402
from tests.s3server import ACCESS_KEY, SECRET_KEY, S3Server  # noqa: E402
from web.app import create_app  # noqa: E402

UID = "bench"
TARGET_BYTES = 1024 * 1024
WORDS = [
    "great", "control", "pass", "dribble", "goal", "assist", "movement", "possession",
    "transition", "tackle", "interception", "build-up", "save", "command", "distribution",
    "chance", "creation", "first", "touch", "press", "switch", "play", "through", "ball",
    "overlap", "cross", "header", "volley",
]
STATUS = ["all", "uncompleted", "complete", "overlay", "editing", "exported", "not_started"]


def pad_database(app, rng: random.Random) -> int:
    """Fill the user's database with realistic rows (games, clips with notes, tags and
    highlight regions) until its image is ~1 MB. Returns the image size."""
    dbs = app.state.dbs

    def size(conn) -> int:
        return conn.execute("PRAGMA page_count").fetchone()[0] * conn.execute(
            "PRAGMA page_size").fetchone()[0]

    def add_game(conn) -> None:
        gid = conn.execute("INSERT INTO games (name, opponent_name, game_date, game_type) "
                           "VALUES (?, ?, '2025-10-04', 'home')",
                           (f"game {rng.randrange(10**6)}", rng.choice(WORDS))).lastrowid
        for i in range(40):
            regions = [{"id": f"r{j}", "start_time": round(rng.uniform(0, 10), 3),
                        "end_time": round(rng.uniform(10, 20), 3),
                        "keyframes": [{"time": round(rng.uniform(0, 20), 3),
                                       "x": round(rng.uniform(0, 1920), 1),
                                       "y": round(rng.uniform(0, 1080), 1),
                                       "radiusX": 40, "radiusY": 90} for _ in range(6)]}
                       for j in range(2)]
            conn.execute(
                "INSERT INTO raw_clips (filename, rating, tags, name, notes, start_time, "
                "end_time, game_id, default_highlight_regions) VALUES (?, ?, ?, '', ?, ?, ?, ?, ?)",
                (f"{rng.getrandbits(128):032x}.mp4", rng.randint(1, 5),
                 json.dumps(rng.sample(WORDS, 2)), " ".join(rng.choices(WORDS, k=30)),
                 i * 10.0, i * 10.0 + 6, gid, json.dumps(regions)))

    while dbs.read(UID, size) < TARGET_BYTES:
        dbs.write(UID, add_game)
    return dbs.read(UID, size)


def pct(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


class Floor:
    """The physical limit of one synced write: revalidate (304) + upload the same bytes."""

    def __init__(self, store: S3Store, image: bytes):
        self.client, self.bucket, self.image = store.client, store.bucket, image
        self.key = database_key(UID)

    def once(self) -> float:
        etag = self.client.head_object(Bucket=self.bucket, Key=self.key)["ETag"]
        started = time.perf_counter()
        try:
            self.client.get_object(Bucket=self.bucket, Key=self.key, IfNoneMatch=etag)
            raise RuntimeError("expected 304")
        except ClientError as err:
            assert err.response["ResponseMetadata"]["HTTPStatusCode"] == 304
        self.client.put_object(Bucket=self.bucket, Key="bench/floor.sqlite", Body=self.image)
        return time.perf_counter() - started


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def measure(app, floor: Floor, iterations: int, transport: str) -> tuple[list, list]:
    if transport == "uvicorn":
        import uvicorn

        port = free_port()
        server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port,
                                               log_level="warning", access_log=False))
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        while not server.started:
            await asyncio.sleep(0.01)
        client = httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}")
    else:
        client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                   base_url="http://bench")
    put_ms, floor_ms = [], []
    async with client:
        for i in range(iterations + 20):
            body = {"projectFilters": {"statusFilter": STATUS[i % len(STATUS)]}}
            started = time.perf_counter()
            r = await client.put("/api/settings", json=body, headers={"X-User-ID": UID})
            elapsed = time.perf_counter() - started
            assert r.status_code == 200 and r.json()["projectFilters"] == {
                **r.json()["projectFilters"], **body["projectFilters"]}, r.text
            spent_floor = floor.once()
            if i >= 20:  # warm-up excluded
                put_ms.append(elapsed * 1000)
                floor_ms.append(spent_floor * 1000)
    if transport == "uvicorn":
        server.should_exit = True
        thread.join(5)
    return put_ms, floor_ms


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--iterations", type=int, default=300)
    parser.add_argument("--transport", choices=("asgi", "uvicorn"), default="asgi")
    args = parser.parse_args()

    server = S3Server().start()
    store = S3Store("bench", endpoint_url=server.endpoint, access_key_id=ACCESS_KEY,
                    secret_access_key=SECRET_KEY, region="us-east-1")
    store.ensure_bucket()
    with tempfile.TemporaryDirectory() as tmp:
        app = create_app(Settings(data_dir=Path(tmp)), store=store)
        size = pad_database(app, random.Random(7))
        image = app.state.dbs.read(UID, lambda conn: conn.serialize())
        stored = store.head(database_key(UID)).size
        print(f"database image {size / 1e6:.2f} MB, stored object {stored / 1e6:.2f} MB, "
              f"transport {args.transport}, {args.iterations} iterations")
        dbs = app.state.dbs
        before = (dbs.stats.uploads, dbs.stats.not_modified, dbs.stats.downloads,
                  dbs.stats.conflicts)
        put_ms, floor_ms = asyncio.run(measure(app, Floor(store, image), args.iterations,
                                               args.transport))
        after = (dbs.stats.uploads, dbs.stats.not_modified, dbs.stats.downloads,
                 dbs.stats.conflicts)
    server.stop()
    delta = [b - a for a, b in zip(before, after, strict=True)]
    print(f"sync per run: uploads={delta[0]} not_modified={delta[1]} downloads={delta[2]} "
          f"conflicts={delta[3]}")
    p50, p99 = statistics.median(put_ms), pct(put_ms, 0.99)
    floor_p50 = statistics.median(floor_ms)
    print(f"settings PUT: p50 {p50:.2f} ms, p99 {p99:.2f} ms, max {max(put_ms):.2f} ms")
    print(f"floor (GET 304 + put_object): p50 {floor_p50:.2f} ms, "
          f"p99 {pct(floor_ms, 0.99):.2f} ms")
    print(f"RESULT p50_ms={p50:.2f} p99_ms={p99:.2f} floor_p50_ms={floor_p50:.2f} "
          f"ratio={p50 / floor_p50:.2f}")


if __name__ == "__main__":
    main()

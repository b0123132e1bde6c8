"""Many users: latency of the API's actions with 1, 100 and 1,000 users' databases (~100 KB
each, rows imported from the annotation TSVs in tests/data), actions spread uniformly over
the users, the container's database cache (DB_CACHE_SIZE) smaller than the user count.
Storage: a moto server in its own OS process on loopback (so its memory and CPU are not
this container's). The physical floor, measured in the same run: one conditional GET
(answered 304) plus one PUT of a database image of the same size.

    .venv/bin/python bench/many_users.py [--actions 600] [--cache 64] [--sizes 1,100,1000]

Per size: p50/p99 per action and over all actions, against the floor, and the container's
RSS (bounded by the cache size, not by the user count). Last line:
`RESULT p99_1=.. p99_100=.. p99_1000=.. ratio_1000_vs_1=..` (ms; ratio of the p99s).
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing as mp
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from botocore.exceptions import ClientError  # noqa: E402

from lib.config import Settings  # noqa: E402
from lib.db.connection import open_image, snapshot  # noqa: E402
from lib.keys import database_key  # noqa: E402
from lib.library.annotations import import_clips  # noqa: E402
from lib.library.games import create_game  # noqa: E402
from lib.library.tsv import parse_tsv  # noqa: E402
from lib.storage.s3 import S3Store  # noqa: E402
from web.app import create_app  # noqa: E402

TARGET_BYTES = 100 * 1024
STATUS = ["all", "uncompleted", "complete", "overlay", "editing", "exported", "not_started"]


def annotations_dir() -> Path:
    return ROOT / "tests" / "data" / "annotations"  # the project's own fixtures


def template_image() -> tuple[bytes, int]:
    """A ~100 KB+ database: games with their clips imported from the real TSV files (and the
    auto projects the import makes), every file twice (the empty schema alone is ~116 KB
    of pages). Returns (image, raw clip count)."""
    files = sorted(annotations_dir().glob("*.tsv"))
    if not files:
        raise SystemExit(f"no annotation TSVs under {annotations_dir()}")
    conn = open_image(None)
    round_ = 0
    while round_ < 2 or len(snapshot(conn)) < TARGET_BYTES:
        for path in files:
            gid = create_game(conn, f"{path.stem} #{round_}", opponent_name=path.stem,
                              game_type="home")
            import_clips(conn, gid, parse_tsv(path.read_bytes()).clips)
        round_ += 1
    clips = conn.execute("SELECT COUNT(*) FROM raw_clips").fetchone()[0]
    return snapshot(conn), clips


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def pct(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def serve_moto(out) -> None:
    sys.path.insert(0, str(ROOT))
    from tests.s3server import S3Server

    out.send(S3Server().start().port)
    while True:
        time.sleep(3600)


def seed_users(endpoint: str, users: list[str], image: bytes) -> None:
    """In its own process, so its buffers do not count in this container's RSS."""
    store = s3_store(endpoint)
    for uid in users:
        store.put_bytes(database_key(uid), image)


def s3_store(endpoint: str) -> S3Store:
    return S3Store("many-users", endpoint_url=endpoint, access_key_id="testing",
                   secret_access_key="testing", region="us-east-1")


def floor_once(store: S3Store, key: str, image: bytes) -> float:
    """Cond. GET (304) + PUT of one database: what one synced write needs of storage."""
    etag = store.client.head_object(Bucket=store.bucket, Key=key)["ETag"]
    started = time.perf_counter()
    try:
        store.client.get_object(Bucket=store.bucket, Key=key, IfNoneMatch=etag)
        raise RuntimeError("expected 304")
    except ClientError as err:
        assert err.response["ResponseMetadata"]["HTTPStatusCode"] == 304
    store.client.put_object(Bucket=store.bucket, Key=key, Body=image)
    return time.perf_counter() - started


ACTIONS = {
    "list_games": lambda c, h, rng, clips: c.get("/api/games", headers=h),
    "list_projects": lambda c, h, rng, clips: c.get("/api/projects", headers=h),
    "get_settings": lambda c, h, rng, clips: c.get("/api/settings", headers=h),
    "put_settings": lambda c, h, rng, clips: c.put(
        "/api/settings", headers=h,
        json={"projectFilters": {"statusFilter": rng.choice(STATUS)}}),
    "edit_clip_notes": lambda c, h, rng, clips: c.put(
        f"/api/clips/raw/{rng.randint(1, clips)}", headers=h,
        json={"notes": f"note {rng.randrange(10**6)}"}),
    "create_project": lambda c, h, rng, clips: c.post(
        "/api/projects", headers=h, json={"name": f"p{rng.randrange(10**6)}"}),
}


async def run_size(app, users: list[str], actions: int, clips: int, rng: random.Random,
                   store: S3Store, floor_key: str, image: bytes) -> tuple[dict, list]:
    samples: dict[str, list[float]] = {name: [] for name in ACTIONS}
    floor: list[float] = []
    names = list(ACTIONS)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                 base_url="http://bench") as client:
        for i in range(actions + 30):
            name = names[i % len(names)]
            headers = {"X-User-ID": rng.choice(users)}
            started = time.perf_counter()
            r = await ACTIONS[name](client, headers, rng, clips)
            elapsed = time.perf_counter() - started
            assert r.status_code == 200, (name, r.status_code, r.text)
            spent = await asyncio.to_thread(floor_once, store, floor_key, image)
            if i >= 30:  # warm-up (connections, first downloads) excluded
                samples[name].append(elapsed * 1000)
                floor.append(spent * 1000)
    return samples, floor


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--actions", type=int, default=600, help="per size")
    parser.add_argument("--cache", type=int, default=64, help="DB_CACHE_SIZE")
    parser.add_argument("--sizes", default="1,100,1000")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]

    ctx = mp.get_context("spawn")
    reader, writer = ctx.Pipe(duplex=False)
    moto = ctx.Process(target=serve_moto, args=(writer,), daemon=True)
    moto.start()
    endpoint = f"http://127.0.0.1:{reader.recv()}"
    store = s3_store(endpoint)
    store.ensure_bucket()
    image, clips = template_image()
    print(f"database image {len(image) / 1024:.0f} KB ({clips} raw clips from "
          f"{annotations_dir()}), cache {args.cache} databases, {args.actions} actions/size")
    floor_key = "floor/database.sqlite"
    store.put_bytes(floor_key, image)

    rng = random.Random(11)
    p99s: dict[int, float] = {}
    floor99s: dict[int, float] = {}
    rss: dict[int, float] = {}
    rss_before = rss_mb()
    with tempfile.TemporaryDirectory() as tmp:
        app = create_app(Settings(data_dir=Path(tmp), db_cache_size=args.cache), store=store)
        for size in sizes:
            users = [f"n{size}-u{i}" for i in range(size)]
            started = time.perf_counter()
            seeder = ctx.Process(target=seed_users, args=(endpoint, users, image))
            seeder.start()
            seeder.join()
            assert seeder.exitcode == 0
            seeded = time.perf_counter() - started
            samples, floor = asyncio.run(run_size(app, users, args.actions, clips, rng, store,
                                                  floor_key, image))
            every = [x for xs in samples.values() for x in xs]
            p99s[size] = pct(every, 0.99)
            f50, f99 = statistics.median(floor), pct(floor, 0.99)
            floor99s[size], rss[size] = f99, rss_mb()
            cached = len(app.state.dbs.cached_users())
            print(f"\n{size} users (seeded in {seeded:.1f}s), {cached} cached, "
                  f"RSS {rss_mb():.0f} MB (+{rss_mb() - rss_before:.0f} MB since start); "
                  f"floor p50 {f50:.2f} ms p99 {f99:.2f} ms")
            for name, xs in samples.items():
                print(f"  {name:16s} p50 {statistics.median(xs):7.2f} ms  p99 {pct(xs, .99):7.2f}"
                      f" ms  (p99 / floor p99 {pct(xs, .99) / f99:.2f})")
            print(f"  {'all':16s} p50 {statistics.median(every):7.2f} ms  p99 {p99s[size]:7.2f}"
                  f" ms  (p99 / floor p99 {p99s[size] / f99:.2f})")
    moto.kill()
    first, last = sizes[0], sizes[-1]
    # The storage server itself may slow down with more objects: the floor, measured at
    # each size, shows it; vs_floor is the API's p99 over the floor's p99 at that size.
    vs_floor = {s: p99s[s] / floor99s[s] for s in sizes}
    print(f"floor p99 grew {floor99s[last] / floor99s[first]:.2f}x from {first} to {last} "
          f"users; API p99 / floor p99: " + ", ".join(f"{s}: {vs_floor[s]:.2f}" for s in sizes)
          + f"; RSS {rss[first]:.0f} → {rss[last]:.0f} MB with a cache of {args.cache}")
    print("RESULT " + " ".join(f"p99_{s}={p99s[s]:.2f}" for s in sizes)
          + f" ratio_{last}_vs_{first}={p99s[last] / p99s[first]:.2f}"
          + f" floor_p99_{first}={floor99s[first]:.2f} floor_p99_{last}={floor99s[last]:.2f}"
          + f" vs_floor_{last}={vs_floor[last]:.2f}"
          + f" rss_mb_{first}={rss[first]:.0f} rss_mb_{last}={rss[last]:.0f}")


if __name__ == "__main__":
    main()

"""Overhead of the web + job machinery on an export.

Wall time of `render` + `render-overlay` for a 15 s 1080p clip through the API (ASGI app in
process, local runner, local object store) vs the sum of the two job bodies run directly on
the same specs (the floor: the media work itself). Best of N runs each, interleaved.

    .venv/bin/python bench/export_e2e.py [--runs 2] [--seconds 15]
Last line: RESULT overhead_ratio=.. api_s=.. bodies_s=..
"""

from __future__ import annotations

import argparse
import copy
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from fastapi.testclient import TestClient  # noqa: E402

from functions import framing, overlay  # noqa: E402
from lib.config import Settings  # noqa: E402
from lib.jobs.export_specs import render_spec  # noqa: E402
from lib.jobs.finalize import auto_regions  # noqa: E402
from lib.jobs.progress import NullProgress  # noqa: E402
from lib.keys import Kind, new_name, object_key  # noqa: E402
from lib.projects.projects import add_working_clip, create_project  # noqa: E402
from lib.storage import LocalDirStore  # noqa: E402
from tests.videos import make_video  # noqa: E402
from web.app import create_app  # noqa: E402

USER = "bench"


def setup(app, store, source: Path) -> int:
    clip = new_name(".mp4")
    store.upload_file(object_key(USER, Kind.RAW_CLIPS, clip), source)

    def write(conn):
        clip_id = conn.execute(
            "INSERT INTO raw_clips (filename, rating, tags, start_time, end_time)"
            " VALUES (?, 5, '[\"Goal\"]', 0, 15)", (clip,)).lastrowid
        project_id = create_project(conn, "Bench", "9:16")
        add_working_clip(conn, project_id, raw_clip_id=clip_id)
        return project_id

    return app.state.dbs.write(USER, write)


def through_api(client: TestClient, project_id: int, run: int) -> float:
    h = {"X-User-ID": USER}
    t0 = time.perf_counter()
    r = client.post("/api/export/render", headers=h, json={
        "project_id": project_id, "export_id": f"bench_r{run}", "target_fps": 30,
        "include_audio": True})
    assert r.status_code == 200, r.text
    r = client.post("/api/export/render-overlay", headers=h, json={
        "project_id": project_id, "export_id": f"bench_o{run}", "effect_type": "dark_overlay"})
    assert r.status_code == 200, r.text
    return time.perf_counter() - t0


def bodies_directly(app, store, project_id: int) -> float:
    """The same two jobs without web, database or runner: framing, then the overlay with the
    regions finalization would give the working video."""
    spec = app.state.dbs.read(USER, lambda conn: render_spec(conn, USER, project_id,
                                                             target_fps=30))
    t0 = time.perf_counter()
    result = framing.run(copy.deepcopy(spec), store, NullProgress())
    assert result.status == "complete", result.error
    regions = auto_regions(result.clip_starts, result.clip_durations, result.width,
                           result.height)
    out = overlay.run({"input_key": result.output_key,
                       "output_key": object_key(USER, Kind.FINAL_VIDEOS, new_name(".mp4")),
                       "regions": regions, "effect_type": "dark_overlay"},
                      store, NullProgress())
    assert out.status == "complete", out.error
    return time.perf_counter() - t0


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=2)
    parser.add_argument("--seconds", type=float, default=15.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        source = make_video(root / "clip.mp4", seconds=args.seconds, fps=30, size=(1920, 1080))
        store = LocalDirStore(root / "objects")
        app = create_app(Settings(data_dir=root), store=store)
        client = TestClient(app)
        project_id = setup(app, store, source)
        api_times, body_times = [], []
        for run in range(args.runs):
            body_times.append(bodies_directly(app, store, project_id))
            api_times.append(through_api(client, project_id, run))
            print(f"run {run}: bodies {body_times[-1]:.2f}s  api {api_times[-1]:.2f}s")
        api_s, bodies_s = min(api_times), min(body_times)
        print(f"RESULT overhead_ratio={api_s / bodies_s:.3f} api_s={api_s:.2f} "
              f"bodies_s={bodies_s:.2f}")


if __name__ == "__main__":
    main()

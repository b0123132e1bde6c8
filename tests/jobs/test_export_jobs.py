"""Export jobs end to end with the local runner: restarts, concurrency, failures, Modal."""

from __future__ import annotations

import json
import threading

import av
import numpy as np

from lib.jobs.control import JobServices, start_job
from lib.jobs.export_specs import render_spec
from lib.keys import Kind, new_name, object_key
from lib.media.probe import probe
from lib.models import ExportType
from tests.conftest import Api
from tests.jobs_helpers import make_game_with_clip, make_project
from tests.videos import make_video

USER = "coach"


def _project(api, video, **clip):
    ids = make_game_with_clip(api, USER, video, **clip)
    return make_project(api, USER, [ids["raw_clip_id"]], name="Great Goal")


def _render(api, project_id, export_id):
    return api.client.post("/api/export/render", headers=api.as_user(USER),
                           json={"project_id": project_id, "export_id": export_id,
                                 "export_mode": "fast", "target_fps": 30,
                                 "include_audio": True})


def test_render_and_overlay_on_both_stores(api, small_video, tmp_path):
    project_id = _project(api, small_video)
    r = _render(api, project_id, "export_1_a")
    assert r.status_code == 200, r.text
    body = r.json()
    assert set(body) >= {"working_video_id", "filename"}
    detail = api.client.get(f"/api/projects/{project_id}", headers=api.as_user(USER)).json()
    assert detail["working_video_id"] == body["working_video_id"]
    assert detail["working_video_url"]
    r = api.client.post("/api/export/render-overlay", headers=api.as_user(USER),
                        json={"project_id": project_id, "export_id": "export_1_b",
                              "effect_type": "brightness_boost"})
    assert r.status_code == 200, r.text
    assert set(r.json()) >= {"final_video_id", "filename", "modal_used"}
    video = api.client.get(f"/api/export/projects/{project_id}/final-video",
                           headers=api.as_user(USER))
    assert video.status_code == 200
    assert video.headers["content-disposition"] == ('attachment; filename="Great_Goal_final.mp4"; '
        'filename*=UTF-8\'\'Great_Goal_final.mp4')
    out = tmp_path / "final.mp4"
    out.write_bytes(video.content)
    info = probe(out)
    assert (info.width, info.height) == (810, 1440) and abs(info.duration - 2.0) < 0.1


def test_web_restart_mid_export_loses_nothing(tmp_path, small_video):
    """The job outlives the app instance that started it; a new instance reports it."""
    from lib.storage import LocalDirStore

    store = LocalDirStore(tmp_path / "objects")
    first = Api(store, tmp_path)
    project_id = _project(first, small_video)
    first.runner.pause()  # the worker has not started when the web app "dies"
    state = first.app.state
    start_job(JobServices(state.dbs, state.runner, state.progress), USER, "exp_restart",
              ExportType.FRAMING, lambda conn: render_spec(conn, USER, project_id),
              project_id=project_id)
    first.client.close()  # the first web app is gone; only its worker thread remains

    second = Api(store, tmp_path)
    h = second.as_user(USER)
    active = second.client.get("/api/exports/active", headers=h).json()["exports"]
    assert [(e["job_id"], e["status"]) for e in active] == [("exp_restart", "pending")]
    assert second.client.get("/api/exports/exp_restart/modal-status",
                             headers=h).json()["status"] == "running"
    first.runner.resume()
    first.runner.wait_idle()
    status = second.client.get("/api/exports/exp_restart/modal-status", headers=h).json()
    assert status["status"] == "complete" and status["working_video_id"]
    active = second.client.get("/api/exports/active", headers=h).json()["exports"]
    assert active[0]["status"] == "complete" and active[0]["output_video_id"]
    unack = second.client.get("/api/exports/unacknowledged", headers=h).json()["exports"]
    assert [e["job_id"] for e in unack] == ["exp_restart"]
    project = second.client.get(f"/api/projects/{project_id}", headers=h).json()
    assert project["working_video_id"] == status["working_video_id"]
    second.close()


def test_two_exports_of_one_project_at_once(local_api, small_video):
    project_id = _project(local_api, small_video)
    results = {}
    threads = [threading.Thread(target=lambda i=i: results.update({i: _render(
        local_api, project_id, f"export_par_{i}")})) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(r.status_code == 200 for r in results.values())
    versions = local_api.app.state.dbs.read(USER, lambda c: [r[0] for r in c.execute(
        "SELECT version FROM working_videos WHERE project_id = ? ORDER BY version",
        (project_id,))])
    assert versions == [1, 2]
    ids = {r.json()["working_video_id"] for r in results.values()}
    assert len(ids) == 2


def test_corrupt_clip_fails_with_one_sentence(local_api, tmp_path):
    bad = tmp_path / "bad.mp4"
    bad.write_bytes(b"\x00\x00\x00\x18ftypmp42" + b"garbage" * 500)
    project_id = _project(local_api, bad)
    h = local_api.as_user(USER)
    frames = []
    with local_api.client.websocket_connect("/ws/export/export_bad", headers=h) as ws:
        r = _render(local_api, project_id, "export_bad")
        while True:
            frame = json.loads(ws.receive_text())
            frames.append(frame)
            if frame["status"] in ("complete", "error"):
                break
    assert r.status_code == 422
    message = r.json()["detail"]
    assert message and message.endswith(".") and "\n" not in message and "Traceback" not in message
    assert frames[-1]["status"] == "error" and frames[-1]["error"] == message
    active = local_api.client.get("/api/exports/active", headers=h).json()["exports"]
    assert [(e["status"], e["error"]) for e in active] == [("error", message)]
    assert local_api.store.list(f"{USER}/working_videos/") == []  # nothing half-written


def _mean_abs_diff(a, b) -> float:
    with av.open(str(a)) as ca, av.open(str(b)) as cb:
        fa = [f.to_ndarray(format="gray") for f in ca.decode(video=0)]
        fb = [f.to_ndarray(format="gray") for f in cb.decode(video=0)]
    assert len(fa) == len(fb)
    return float(np.mean([np.abs(x.astype(int) - y).mean() for x, y in zip(fa, fb, strict=True)]))


def test_modal_functions_run_locally_like_the_local_runner(tmp_path, monkeypatch):
    """`modal_app.framing.local(...)` (the real Modal SDK, offline) runs the same worker code
    as LocalRunner and produces the same video."""
    import modal_app
    from lib.db.sync import UserDatabases
    from lib.jobs.records import create_job, get_job
    from lib.storage import LocalDirStore

    monkeypatch.setenv("DATA_DIR", str(tmp_path))
    monkeypatch.setenv("STORAGE", "local")
    store = LocalDirStore(tmp_path / "objects")
    api = Api(store, tmp_path)
    source = make_video(tmp_path / "src.mp4", seconds=1.5, size=(480, 270))
    project_id = _project(api, source)
    assert _render(api, project_id, "via_local_runner").status_code == 200

    dbs = UserDatabases(store)
    dbs.write(USER, lambda conn: create_job(
        conn, "via_modal", ExportType.FRAMING, {"spec": render_spec(conn, USER, project_id)},
        project_id=project_id))
    result = modal_app.framing.local("framing", {"user_id": USER, "export_id": "via_modal"})
    assert result["status"] == "complete"
    jobs = {e: dbs.read(USER, lambda c, e=e: get_job(c, e)) for e in ("via_local_runner",
                                                                       "via_modal")}
    paths = [store.local_path(object_key(USER, Kind.WORKING_VIDEOS, j["output_filename"]))
             for j in jobs.values()]
    a, b = probe(paths[0]), probe(paths[1])
    assert (a.width, a.height, round(a.duration, 2)) == (b.width, b.height, round(b.duration, 2))
    assert _mean_abs_diff(*paths) < 1.0

    # The extraction function too: a clip cut from the game video by `extract.local`.
    def add_task(conn):
        from lib.projects.extraction import enqueue

        game_video = conn.execute("SELECT video_filename FROM games").fetchone()[0]
        assert game_video
        clip = conn.execute(
            "INSERT INTO raw_clips (filename, rating, tags, start_time, end_time, game_id)"
            " VALUES ('', 3, '[]', 0.5, 1.2, 1)").lastrowid
        return enqueue(conn, clip)

    task_id = dbs.write(USER, add_task)
    out = modal_app.extract.local("extract", {"user_id": USER, "task_id": task_id})
    assert out["status"] == "complete"
    name = dbs.read(USER, lambda c: c.execute(
        "SELECT filename FROM raw_clips WHERE id = (SELECT raw_clip_id FROM extraction_tasks"
        " WHERE id = ?)", (task_id,)).fetchone()[0])
    assert abs(probe(store.local_path(object_key(USER, Kind.RAW_CLIPS, name))).duration - 0.7) < 0.1
    api.close()
    assert new_name(".mp4")  # keys stay generated names


def test_multi_clip_export_uses_the_uploaded_files_and_payload(api, tmp_path):
    """#34: the files and the JSON are the truth (crops not in the db, time-based); the
    uploads are removed once the job is over; the job reads as `framing` to the editor."""
    a = make_video(tmp_path / "a.mp4", seconds=2.0, size=(480, 270))
    b = make_video(tmp_path / "b.mp4", seconds=1.5, size=(480, 270))
    project_id = make_project(api, USER, [], name="Two clips")
    crop = [{"time": 0, "x": 160, "y": 0, "width": 152, "height": 270, "origin": "permanent"}]
    payload = {
        "clips": [
            {"clipIndex": 0, "fileName": "a.mp4", "duration": 2.0, "sourceWidth": 480,
             "sourceHeight": 270, "cropKeyframes": crop, "trimRange": None,
             "segments": {"boundaries": [0, 2.0], "segmentSpeeds": {}, "trimRange": None}},
            {"clipIndex": 1, "fileName": "b.mp4", "duration": 1.5, "sourceWidth": 480,
             "sourceHeight": 270, "cropKeyframes": crop, "trimRange": None,
             "segments": {"boundaries": [0, 1.5], "segmentSpeeds": {}, "trimRange": None}},
        ],
        "globalAspectRatio": "9:16", "transition": {"type": "dissolve", "duration": 0.5},
    }
    data = {"export_id": "export_multi", "project_id": [str(project_id)] * 2,  # sent twice
            "multi_clip_data_json": json.dumps(payload), "include_audio": "true",
            "target_fps": "30", "export_mode": "fast", "project_name": "Two clips"}
    files = [("video_0", ("a.mp4", a.read_bytes(), "video/mp4")),
             ("video_1", ("b.mp4", b.read_bytes(), "video/mp4"))]
    r = api.client.post("/api/export/multi-clip", data=data, files=files,
                        headers=api.as_user(USER))
    assert r.status_code == 200, r.text
    assert r.json()["working_video_id"]
    assert api.store.list(f"{USER}/uploads/") == []
    job = api.client.get("/api/exports/export_multi", headers=api.as_user(USER)).json()
    assert job["type"] == "framing" and job["status"] == "complete"
    out = tmp_path / "working.mp4"
    name = r.json()["filename"]
    out.write_bytes(b"".join(api.store.iter_range(object_key(USER, Kind.WORKING_VIDEOS, name))))
    info = probe(out)
    assert (info.width, info.height) == (810, 1440)
    assert abs(info.duration - (2.0 + 1.5 - 0.5)) < 0.15  # a dissolve overlaps the clips


def test_annotate_export_answers_200_and_lands_in_the_gallery(local_api, small_video):
    """#41 answers at once with 200 (as the old backend did) and completes over the job."""
    ids = make_game_with_clip(local_api, USER, small_video)
    clips = json.dumps([{"start_time": 0.2, "end_time": 1.4, "name": "Run", "notes": "n",
                         "rating": 5, "tags": ["Goal"]}])
    r = local_api.client.post("/api/annotate/export", headers=local_api.as_user(USER),
                              data={"export_id": "annot_1", "clips_json": clips,
                                    "game_id": str(ids["game_id"]), "save_to_db": "false"})
    assert r.status_code == 200, r.text
    assert r.json()["success"] is True and r.json()["export_id"] == "annot_1"
    local_api.runner.wait_idle()
    job = local_api.client.get("/api/exports/annot_1", headers=local_api.as_user(USER)).json()
    assert job["status"] == "complete", job
    gallery = local_api.client.get("/api/downloads", headers=local_api.as_user(USER)).json()
    assert [d["source_type"] for d in gallery["downloads"]] == ["annotated_game"]

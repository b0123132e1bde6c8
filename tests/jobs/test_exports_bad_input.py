"""Export requests with bad input: a clear 4xx, no job created, nothing left in storage."""

from __future__ import annotations

from tests.jobs_helpers import make_project

USER = "exporter"


def jobs(api) -> int:
    return api.app.state.dbs.read(
        USER, lambda c: c.execute("SELECT COUNT(*) FROM export_jobs").fetchone()[0])


def test_render_bad_input(api):
    h = api.as_user(USER)
    post = api.client.post
    r = post("/api/export/render", json={"project_id": 999, "export_id": "e1"}, headers=h)
    assert r.status_code == 404 and r.json()["detail"] == "Project not found."
    json_headers = {**h, "content-type": "application/json"}
    r = post("/api/export/render", content=b"{nope", headers=json_headers)
    assert r.status_code == 400 and "JSON" in r.json()["detail"]
    r = post("/api/export/render", json={"project_id": "x", "export_id": "e1"}, headers=h)
    assert r.status_code == 422 and "project_id" in r.json()["detail"]
    empty = make_project(api, USER, [])
    r = post("/api/export/render", json={"project_id": empty, "export_id": "e2"}, headers=h)
    assert r.status_code == 400 and "no clips" in r.json()["detail"]

    def unextracted(conn):
        conn.execute("INSERT INTO raw_clips (filename, rating, tags, start_time, end_time)"
                     " VALUES ('', 5, '[\"Goal\"]', 1, 3)")
        return conn.execute("SELECT last_insert_rowid()").fetchone()[0]

    clip = api.app.state.dbs.write(USER, unextracted)
    project = make_project(api, USER, [clip])
    r = post("/api/export/render", json={"project_id": project, "export_id": "e3"}, headers=h)
    assert r.status_code == 400 and "extracted" in r.json()["detail"]
    assert jobs(api) == 0


def test_overlay_bad_input(api):
    h = api.as_user(USER)
    project = make_project(api, USER, [])
    r = api.client.post("/api/export/render-overlay",
                        json={"project_id": project, "export_id": "o1", "effect_type": "glow"},
                        headers=h)
    assert r.status_code == 400 and "effect" in r.json()["detail"]
    r = api.client.post("/api/export/render-overlay",
                        json={"project_id": project, "export_id": "o1",
                              "effect_type": "dark_overlay"}, headers=h)
    assert r.status_code == 400 and "framing first" in r.json()["detail"]
    r = api.client.get(f"/api/export/projects/{project}/final-video", headers=h)
    assert r.status_code == 404
    assert jobs(api) == 0


def test_annotate_export_bad_input(api):
    h = api.as_user(USER)
    post = api.client.post
    r = post("/api/annotate/export", data={"export_id": "a1", "clips_json": "[{", "game_id": "1"},
             headers=h)
    assert r.status_code == 400 and "clips_json" in r.json()["detail"]
    r = post("/api/annotate/export",
             data={"export_id": "a1", "clips_json": '[{"start_time": "x"}]', "game_id": "1"},
             headers=h)
    assert r.status_code == 400
    clips = '[{"start_time": 1, "end_time": 3, "rating": 5, "name": "", "notes": "", "tags": []}]'
    r = post("/api/annotate/export", data={"export_id": "a1", "clips_json": clips,
                                           "game_id": "77"}, headers=h)
    assert r.status_code == 404
    api.app.state.dbs.write(USER, lambda c: c.execute("INSERT INTO games (name) VALUES ('g')"))
    r = post("/api/annotate/export", data={"export_id": "a1", "clips_json": clips,
                                           "game_id": "1"}, headers=h)
    assert r.status_code == 400 and "no video" in r.json()["detail"]
    assert jobs(api) == 0


def test_multi_clip_bad_input_leaves_no_uploads(api, small_video):
    h = api.as_user(USER)
    project = make_project(api, USER, [])
    data = {"export_id": "m1", "project_id": str(project),
            "multi_clip_data_json": '{"clips": []}'}
    with open(small_video, "rb") as fh:
        files = [("video_0", ("clip_0.mp4", fh.read(), "video/mp4"))]
    r = api.client.post("/api/export/multi-clip", data=data, files=files, headers=h)
    assert r.status_code == 400 and "one clip per uploaded video" in r.json()["detail"]
    assert api.store.list(f"{USER}/uploads/") == []
    r = api.client.post("/api/export/multi-clip", data={**data, "multi_clip_data_json": "{x"},
                        files=files, headers=h)
    assert r.status_code == 400
    r = api.client.post("/api/export/multi-clip", data={**data, "project_id": "404"},
                        files=files, headers=h)
    assert r.status_code == 404
    assert api.store.list(f"{USER}/uploads/") == []
    assert jobs(api) == 0

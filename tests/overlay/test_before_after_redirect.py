"""#40 never runs the comparison inside the request: past the budget it answers 303 and the
browser's GET of the result URL gets the blob."""

from __future__ import annotations

import threading

from lib.keys import Kind
from lib.storage import LocalDirStore
from tests.conftest import Api
from tests.overlay_helpers import add_final_video, make_project, upload, write
from tests.videos import make_video


def test_slow_comparison_continues_through_a_redirect(tmp_path):
    api = Api(LocalDirStore(tmp_path / "objects"), tmp_path, request_budget_s=1.0)
    try:
        final = make_video(tmp_path / "final.mp4", seconds=1.0, fps=30, size=(270, 480))
        source = make_video(tmp_path / "a.mp4", seconds=1.0, fps=30, size=(480, 270))
        pid, _ = make_project(api, "a", "Brilliant Goal")
        fid, _ = add_final_video(api, "a", pid, final)
        _, key = upload(api, "a", Kind.RAW_CLIPS, source)
        write(api, "a", lambda conn: conn.execute(
            "INSERT INTO before_after_tracks (final_video_id, source_key, start_frame,"
            " end_frame, clip_index) VALUES (?, ?, 0, 30, 0)", (fid, key)))
        api.runner.pause()
        threading.Timer(1.5, api.runner.resume).start()
        res = api.client.post(f"/api/export/before-after/{fid}")
        assert res.status_code == 200, res.text
        assert res.headers["content-type"] == "video/mp4"
        assert [h.status_code for h in res.history][:1] == [303]
        assert res.history[0].headers["location"].startswith(
            f"/api/export/before-after/{fid}/result/")
        assert len(res.content) > 1000
        other = api.client.get(res.history[0].headers["location"], headers={"X-User-ID": "b"})
        assert other.status_code == 404  # another user never gets it
    finally:
        api.close()

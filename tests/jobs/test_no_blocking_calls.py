"""No synchronous ProgressStore call on the event loop (on Modal each would be a blocking
network round trip stalling every request of the container)."""

from __future__ import annotations

import asyncio
import json
import threading

import pytest

from lib.jobs.progress_store import MemoryProgressStore, publish_event
from lib.jobs.records import JobLabels, JobProgress, create_job
from lib.models import ExportType
from lib.storage import LocalDirStore
from tests.conftest import Api
from tests.jobs_helpers import make_game_with_clip, make_project
from tests.videos import make_video

USER = "coach"


@pytest.fixture(scope="module")
def tiny_video(tmp_path_factory):
    return make_video(tmp_path_factory.mktemp("tiny") / "tiny.mp4", seconds=0.5)


class LoopGuardStore(MemoryProgressStore):
    """Records every synchronous call made from a thread that runs an event loop."""

    def __init__(self) -> None:
        super().__init__()
        self.on_loop: list[str] = []

    def _check(self, what: str) -> None:
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            return
        self.on_loop.append(f"{what} on {threading.current_thread().name}")

    def get(self, key):
        self._check(f"get({key})")
        return super().get(key)

    def put(self, key, value, *, skip_if_exists=False):
        self._check(f"put({key})")
        return super().put(key, value, skip_if_exists=skip_if_exists)

    async def aget(self, key):
        return MemoryProgressStore.get(self, key)

    async def aput(self, key, value, *, skip_if_exists=False):
        return MemoryProgressStore.put(self, key, value, skip_if_exists=skip_if_exists)


class GuardedApi(Api):
    def __init__(self, store, data_dir, progress):
        from fastapi.testclient import TestClient

        from lib.config import Settings
        from web.app import create_app

        self.store = store
        self.settings = Settings(data_dir=data_dir)
        self.app = create_app(self.settings, store=store, progress=progress)
        self.runner = self.app.state.runner
        self.client = TestClient(self.app)


def test_sockets_exports_and_cancel_never_block_the_loop(tmp_path, tiny_video):
    progress = LoopGuardStore()
    api = GuardedApi(LocalDirStore(tmp_path / "objects"), tmp_path, progress)
    try:
        headers = {"X-User-ID": USER}
        sink = JobProgress(progress, USER, JobLabels("exp_ws", ExportType.FRAMING, 1, "P"))
        sink(30, "processing", "Rendering")
        with api.client.websocket_connect("/ws/export/exp_ws", headers=headers) as ws:
            assert json.loads(ws.receive_text())["progress"] == 30
            sink(60, "processing", "Rendering")
            assert json.loads(ws.receive_text())["progress"] == 60
        with api.client.websocket_connect("/ws/extractions", headers=headers) as ws:
            ws.send_text("ping")
            assert ws.receive_text() == "pong"
            publish_event(progress, USER, {"type": "extraction_complete", "clip_id": 1})
            assert json.loads(ws.receive_text())["clip_id"] == 1
        ids = make_game_with_clip(api, USER, tiny_video, end=0.5)
        project_id = make_project(api, USER, [ids["raw_clip_id"]])
        r = api.client.post("/api/export/render", headers=headers, json={
            "project_id": project_id, "export_id": "exp_r", "target_fps": 30})
        assert r.status_code == 200, r.text
        api.app.state.dbs.write(USER, lambda c: create_job(c, "exp_c", ExportType.OVERLAY, {}))
        assert api.client.delete("/api/exports/exp_c", headers=headers).json()["cancelled"]
    finally:
        api.close()
    assert progress.on_loop == []

"""WebSockets: replay on connect, ping/pong, live frames, per-user isolation (W1, W2)."""

from __future__ import annotations

import json

from lib.jobs.progress_store import publish_event
from lib.jobs.records import JobLabels, JobProgress, complete_job, create_job
from lib.models import ExportType

ALICE, BOB = "alice", "bob"


def test_unknown_export_is_accepted_and_answers_ping(local_api):
    with local_api.client.websocket_connect("/ws/export/export_123_abc") as ws:
        ws.send_text("ping")
        assert ws.receive_text() == "pong"


def test_replay_live_frames_and_isolation(local_api):
    progress = local_api.app.state.progress
    sink = JobProgress(progress, ALICE, JobLabels("exp_a", ExportType.FRAMING, 17, "Goal!"))
    sink(42, "processing", "AI upscaling frame 120/300")
    with local_api.client.websocket_connect("/ws/export/exp_a",
                                            headers={"X-User-ID": ALICE}) as ws:
        frame = json.loads(ws.receive_text())  # replayed at once
        assert frame["progress"] == 42 and frame["status"] == "processing"
        assert (frame["projectId"], frame["projectName"], frame["type"]) == (17, "Goal!", "framing")
        sink(60, "processing", "Encoding")
        assert json.loads(ws.receive_text())["progress"] == 60
        sink.complete(5, "abc.mp4", {"workingVideoId": 5})
        done = json.loads(ws.receive_text())
        assert done["status"] == "complete" and done["outputVideoId"] == 5
        assert done["workingVideoId"] == 5 and done["outputFilename"] == "abc.mp4"
    # Bob uses the same export id: he sees none of Alice's frames.
    with local_api.client.websocket_connect("/ws/export/exp_a",
                                            headers={"X-User-ID": BOB}) as ws:
        ws.send_text("ping")
        assert ws.receive_text() == "pong"


def test_progress_is_monotonic():
    store = {}

    class Store:
        def get(self, key):
            return store.get(key)

        def put(self, key, value):
            store[key] = value

    sink = JobProgress(Store(), ALICE, JobLabels("e", ExportType.OVERLAY), span=95)
    seen = []
    for pct in (10, 50, 30, 100):
        sink(pct, "processing", "")
        seen.append(store["export:alice:e"]["progress"])
    assert seen == sorted(seen) and seen[-1] == 95


def test_terminal_state_replayed_from_the_job_row(local_api):
    """After a restart the progress store is empty: the socket still tells the outcome."""
    def write(conn):
        create_job(conn, "exp_done", ExportType.OVERLAY, {}, project_id=0)
        complete_job(conn, "exp_done", 9, "final.mp4")

    local_api.app.state.dbs.write(ALICE, write)
    with local_api.client.websocket_connect("/ws/export/exp_done",
                                            headers={"X-User-ID": ALICE}) as ws:
        frame = json.loads(ws.receive_text())
        assert frame["status"] == "complete"
        assert frame["outputVideoId"] == 9 and frame["finalVideoId"] == 9


def test_extraction_events_reach_only_their_user(local_api):
    progress = local_api.app.state.progress
    client = local_api.client
    with client.websocket_connect("/ws/extractions", headers={"X-User-ID": ALICE}) as a, \
            client.websocket_connect("/ws/extractions", headers={"X-User-ID": BOB}) as b:
        a.send_text("ping")
        assert a.receive_text() == "pong"
        b.send_text("ping")
        assert b.receive_text() == "pong"
        publish_event(progress, ALICE, {"type": "extraction_complete", "clip_id": 4,
                                        "project_id": 2})
        event = json.loads(a.receive_text())
        assert event == {"type": "extraction_complete", "clip_id": 4, "project_id": 2}
        b.send_text("ping")
        assert b.receive_text() == "pong"  # nothing for Bob came before his pong


def test_invalid_user_is_refused(local_api):
    import pytest
    from starlette.websockets import WebSocketDisconnect

    with pytest.raises(WebSocketDisconnect), local_api.client.websocket_connect(
            "/ws/extractions", headers={"X-User-ID": "bad user!"}) as ws:
        ws.receive_text()

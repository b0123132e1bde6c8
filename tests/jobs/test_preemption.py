"""Preemption, cancellation and worker death: a job is re-claimed by its own restarted call,
cleaned up when a BaseException stops it, and always ends with a terminal frame."""

from __future__ import annotations

import json

import pytest
from modal.exception import FunctionTimeoutError, InputCancellation

from lib.jobs.export_specs import render_spec
from lib.jobs.progress_store import MemoryProgressStore
from lib.jobs.records import (
    claim_job,
    complete_job,
    create_job,
    fail_job,
    latest_frame,
    progress_key,
    set_call_id,
)
from lib.jobs.runner import ModalRunner
from lib.jobs.worker import JobTimedOut, WorkerContext, handle
from lib.models import ExportType
from lib.storage import LocalDirStore
from tests.jobs_helpers import make_game_with_clip, make_project
from tests.videos import make_video

USER = "coach"


class Preempted(BaseException):
    """What stops a Python process when its container is taken away (not an Exception)."""


class InterruptingProgress(MemoryProgressStore):
    """Progress frames as usual; the first frame of `phase` runs `action` (a cancel from the
    web, or the container going away) in the middle of the job body."""

    def __init__(self, phase: str, action) -> None:
        super().__init__()
        self.phase, self.action = phase, action

    def put(self, key, value, *, skip_if_exists=False):
        stored = super().put(key, value, skip_if_exists=skip_if_exists)
        if self.action is not None and isinstance(value, dict) \
                and value.get("phase") == self.phase:
            action, self.action = self.action, None
            action()
        return stored


@pytest.fixture(scope="module")
def tiny_video(tmp_path_factory):
    return make_video(tmp_path_factory.mktemp("tiny") / "tiny.mp4", seconds=0.5)


def _framing_job(api, video, export_id: str) -> dict:
    ids = make_game_with_clip(api, USER, video, end=0.5)
    project_id = make_project(api, USER, [ids["raw_clip_id"]])

    def write(conn):
        spec = render_spec(conn, USER, project_id)
        create_job(conn, export_id, ExportType.FRAMING, {"spec": spec}, project_id=project_id)
        return spec

    return api.app.state.dbs.write(USER, write)


def _row(api, export_id: str) -> dict:
    return api.app.state.dbs.read(USER, lambda conn: dict(conn.execute(
        "SELECT * FROM export_jobs WHERE id = ?", (export_id,)).fetchone()))


def test_preempted_call_restarts_and_reclaims_its_own_job(local_api, tiny_video):
    spec = _framing_job(local_api, tiny_video, "exp_pre")

    def preempt():
        raise Preempted()

    progress = InterruptingProgress("processing", preempt)
    ctx = WorkerContext(local_api.store, local_api.app.state.dbs, progress)
    payload = {"user_id": USER, "export_id": "exp_pre", "project_name": "P"}
    with pytest.raises(Preempted):
        handle(ctx, "framing", payload, "fc-1")
    row = _row(local_api, "exp_pre")
    assert (row["status"], row["modal_call_id"]) == ("processing", "fc-1")
    # Another call never takes a job that a live call holds.
    assert handle(ctx, "framing", payload, "fc-other")["status"] == "skipped"
    # Modal re-runs the preempted input as the same call: it claims the job again.
    result = handle(ctx, "framing", payload, "fc-1")
    assert result["status"] == "complete", result
    row = _row(local_api, "exp_pre")
    assert row["status"] == "complete" and row["output_video_id"]
    assert local_api.store.head(spec["output_key"]) is not None
    assert latest_frame(progress, USER, "exp_pre")["status"] == "complete"


def test_cancel_mid_job_cleans_up_in_finally(local_api, tiny_video):
    spec = _framing_job(local_api, tiny_video, "exp_cancel")
    dbs = local_api.app.state.dbs

    def cancel():  # the web's DELETE marks the job failed, then Modal cancels the input
        dbs.write(USER, lambda conn: fail_job(conn, "exp_cancel", "The export was cancelled."))
        raise InputCancellation()

    progress = InterruptingProgress("finalizing", cancel)  # the output is uploaded by now
    ctx = WorkerContext(local_api.store, dbs, progress)
    with pytest.raises(InputCancellation):
        handle(ctx, "framing", {"user_id": USER, "export_id": "exp_cancel"}, "fc-9")
    assert _row(local_api, "exp_cancel")["status"] == "error"
    assert local_api.store.head(spec["output_key"]) is None  # no orphaned output
    frame = latest_frame(progress, USER, "exp_cancel")
    assert frame["status"] == "error" and frame["error"] == "The export was cancelled."


def test_dead_worker_publishes_its_terminal_frame(local_api):
    """A worker killed outright: the next read of the job fails it and tells the sockets."""
    state = local_api.app.state

    def write(conn):
        create_job(conn, "exp_dead", ExportType.OVERLAY, {}, project_id=0)
        claim_job(conn, "exp_dead", "local-gone")

    state.dbs.write(USER, write)
    state.progress.put(progress_key(USER, "exp_dead"),
                       {"seq": 7, "status": "processing", "progress": 40, "phase": "processing"})
    r = local_api.client.get("/api/exports/exp_dead", headers={"X-User-ID": USER})
    assert r.json()["status"] == "error"
    frame = latest_frame(state.progress, USER, "exp_dead")
    assert frame["status"] == "error" and frame["seq"] == 8 and "stopped" in frame["error"]


def test_resume_progress_of_a_finished_job_sends_its_outcome(local_api):
    state = local_api.app.state

    def write(conn):
        create_job(conn, "exp_fin", ExportType.FRAMING, {}, project_id=0)
        set_call_id(conn, "exp_fin", "local-x")
        complete_job(conn, "exp_fin", 12, "w.mp4")

    state.dbs.write(USER, write)
    state.progress.put(progress_key(USER, "exp_fin"),
                       {"seq": 3, "status": "processing", "progress": 40, "phase": "processing"})
    r = local_api.client.post("/api/exports/exp_fin/resume-progress",
                              headers={"X-User-ID": USER})
    assert r.json()["status"] == "complete"
    with local_api.client.websocket_connect("/ws/export/exp_fin",
                                            headers={"X-User-ID": USER}) as ws:
        frame = json.loads(ws.receive_text())
    assert frame["status"] == "complete" and frame["outputVideoId"] == 12


class StalledStore(LocalDirStore):
    """Storage whose socket times out: the builtin TimeoutError (socket.timeout) escapes."""

    def get_if_changed(self, key, etag):
        raise TimeoutError("timed out")

    def get_bytes(self, key):
        raise TimeoutError("timed out")


class SimulatedCall:
    """What `modal.FunctionCall.get(timeout=0)` does: returns the result, or raises the
    job's exception, or a bare TimeoutError while the call is not done."""

    def __init__(self, outcome):
        self.outcome = outcome

    def get(self, timeout=None):
        if isinstance(self.outcome, BaseException):
            raise self.outcome
        return self.outcome


def test_timeout_inside_a_job_reads_as_an_error_not_running(tmp_path):
    from lib.db.sync import UserDatabases

    store = StalledStore(tmp_path / "objects")
    ctx = WorkerContext(store, UserDatabases(store), MemoryProgressStore())
    with pytest.raises(JobTimedOut) as raised:
        handle(ctx, "extract", {"user_id": USER, "task_id": 1}, "fc-1")
    calls = {"job": SimulatedCall(raised.value), "busy": SimulatedCall(TimeoutError()),
             "limit": SimulatedCall(FunctionTimeoutError("Function timed out")),
             "done": SimulatedCall({"status": "complete"})}
    runner = ModalRunner({}, lookup=calls.__getitem__)
    job = runner.status("job")
    assert job.status == "error" and "timed out" in job.error
    assert runner.status("busy").status == "running"
    assert runner.status("limit").status == "error"
    assert runner.status("done").status == "complete"

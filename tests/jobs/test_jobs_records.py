"""Export job records: lifecycle, idempotent finalization, liveness, recovery endpoints."""

from __future__ import annotations

import pytest

from lib.errors import BadRequest, NotFound
from lib.jobs.finalize import JobCancelled, finalize_working_video, rating_counts
from lib.jobs.records import (
    acknowledge,
    active_jobs,
    claim_job,
    create_job,
    fail_job,
    get_job,
    reconcile_job,
    set_call_id,
    unacknowledged_jobs,
)
from lib.jobs.runner import CallState, LocalRunner
from lib.models import ExportType
from tests.jobs_helpers import make_project

USER = "jobs_user"


def write(api, fn):
    return api.app.state.dbs.write(USER, fn)


def test_job_lifecycle_and_retry_semantics(local_api):
    job = write(local_api, lambda c: create_job(c, "exp_1", ExportType.FRAMING, {"spec": {}},
                                                project_id=0))
    assert job["status"] == "pending" and job["phase"] == "init"
    # A retried request with the same id gets the same job back, not a second one.
    again = write(local_api, lambda c: create_job(c, "exp_1", ExportType.FRAMING, {}))
    assert again["id"] == "exp_1" and again["created_at"] == job["created_at"]
    assert write(local_api, lambda c: claim_job(c, "exp_1"))["id"] == "exp_1"
    assert write(local_api, lambda c: claim_job(c, "exp_1")) is None  # claimed once
    assert write(local_api, lambda c: fail_job(c, "exp_1", "Broken clip.")) is True
    assert write(local_api, lambda c: fail_job(c, "exp_1", "again")) is False
    row = write(local_api, lambda c: get_job(c, "exp_1"))
    assert (row["status"], row["error"], row["phase"]) == ("error", "Broken clip.", "error")
    # A failed id may be reused by a new attempt.
    fresh = write(local_api, lambda c: create_job(c, "exp_1", ExportType.FRAMING, {}))
    assert fresh["status"] == "pending" and fresh["error"] is None


def test_bad_export_ids_and_unknown_jobs(local_api):
    with pytest.raises(BadRequest):
        write(local_api, lambda c: create_job(c, "", ExportType.FRAMING, {}))
    with pytest.raises(NotFound):
        write(local_api, lambda c: get_job(c, "nope"))


def test_finalize_is_idempotent_and_respects_cancel(local_api, small_video):
    project_id = make_project(local_api, USER, [])
    write(local_api, lambda c: create_job(c, "exp_f", ExportType.FRAMING, {},
                                          project_id=project_id))
    result = {"output_key": f"{USER}/working_videos/abc.mp4", "width": 810, "height": 1440,
              "duration": 2.0, "fps": 30.0}
    spec = {"clips": []}
    first = write(local_api, lambda c: finalize_working_video(c, "exp_f", result, spec))
    second = write(local_api, lambda c: finalize_working_video(c, "exp_f", result, spec))
    assert first == second
    count = local_api.app.state.dbs.read(
        USER, lambda c: c.execute("SELECT COUNT(*) FROM working_videos").fetchone()[0])
    assert count == 1
    write(local_api, lambda c: create_job(c, "exp_c", ExportType.FRAMING, {},
                                          project_id=project_id))
    write(local_api, lambda c: fail_job(c, "exp_c", "The export was cancelled."))
    with pytest.raises(JobCancelled):
        write(local_api, lambda c: finalize_working_video(c, "exp_c", result, spec))


def test_dead_worker_reads_as_error(local_api):
    """A job whose call the runner no longer knows (its process died) is reported as error."""
    write(local_api, lambda c: create_job(c, "exp_dead", ExportType.FRAMING, {}))
    write(local_api, lambda c: set_call_id(c, "exp_dead", "local-gone"))
    row = reconcile_job(local_api.app.state.dbs, local_api.runner, USER, "exp_dead")
    assert row["status"] == "error" and "worker stopped" in row["error"]


def test_running_job_stays_running(local_api):
    runner = LocalRunner(lambda name, payload: payload, workers=1)
    runner.pause()
    call_id = runner.spawn("framing", {})
    write(local_api, lambda c: create_job(c, "exp_run", ExportType.FRAMING, {}))
    write(local_api, lambda c: set_call_id(c, "exp_run", call_id))
    row = reconcile_job(local_api.app.state.dbs, runner, USER, "exp_run")
    assert row["status"] == "pending"
    runner.resume()
    runner.wait_idle()


def test_active_unacknowledged_and_acknowledge(local_api):
    for job_id in ("a1", "a2", "a3"):
        write(local_api, lambda c, j=job_id: create_job(c, j, ExportType.OVERLAY, {}))
    write(local_api, lambda c: fail_job(c, "a2", "Nope."))
    dbs = local_api.app.state.dbs
    active = {r["id"]: r["status"] for r in dbs.read(USER, active_jobs)}
    assert active == {"a1": "pending", "a2": "error", "a3": "pending"}  # a2 just ended
    assert [r["id"] for r in dbs.read(USER, unacknowledged_jobs)] == ["a2"]
    assert write(local_api, lambda c: acknowledge(c, ["a2", "zzz"])) == 1
    assert dbs.read(USER, unacknowledged_jobs) == []


def test_recovery_endpoints(local_api):
    headers = local_api.as_user(USER)
    client = local_api.client
    write(local_api, lambda c: create_job(c, "r1", ExportType.MULTI_CLIP, {}))
    write(local_api, lambda c: set_call_id(c, "r1", "local-vanished"))
    write(local_api, lambda c: create_job(c, "r2", ExportType.ANNOTATE, {}, game_id=3,
                                          game_name="Vs X"))
    write(local_api, lambda c: fail_job(c, "r2", "The game video is missing."))
    active = client.get("/api/exports/active", headers=headers).json()["exports"]
    assert active[0]["job_id"] == "r1" and active[0]["type"] == "framing"
    assert active[0]["status"] == "error"  # reconciled: its worker is gone
    for key in ("job_id", "project_id", "project_name", "type", "status", "progress",
                "started_at", "created_at", "completed_at", "error", "output_video_id",
                "output_filename", "game_id", "game_name"):
        assert key in active[0]
    status = client.get("/api/exports/r1/modal-status", headers=headers).json()
    assert status["status"] == "error" and status["error"]
    unack = client.get("/api/exports/unacknowledged", headers=headers).json()["exports"]
    assert {e["job_id"] for e in unack} == {"r1", "r2"}
    assert client.post("/api/exports/acknowledge", json=["r1", "r2"], headers=headers).is_success
    assert client.get("/api/exports/unacknowledged", headers=headers).json()["exports"] == []
    assert client.get("/api/exports/nope/modal-status", headers=headers).status_code == 404
    bad = client.post("/api/exports/acknowledge", json={"a": 1}, headers=headers)
    assert bad.status_code == 422
    # Another user sees none of it.
    other = client.get("/api/exports/r2", headers=local_api.as_user("someone_else"))
    assert other.status_code == 404


def test_cancel_marks_job_error(local_api):
    headers = local_api.as_user(USER)
    local_api.runner.pause()
    write(local_api, lambda c: create_job(c, "c1", ExportType.FRAMING, {}))
    call_id = local_api.runner.spawn("framing", {"user_id": USER, "export_id": "c1"})
    write(local_api, lambda c: set_call_id(c, "c1", call_id))
    body = local_api.client.delete("/api/exports/c1", headers=headers).json()
    assert body["cancelled"] is True
    local_api.runner.resume()
    job = local_api.client.get("/api/exports/c1", headers=headers).json()
    assert job["status"] == "error" and job["error"] == "The export was cancelled."


def test_rating_counts():
    counts = rating_counts([{"rating": 5}, {"rating": 5}, {"rating": 1}, {"rating": None}])
    assert counts["brilliant"] == 2 and counts["blunder"] == 1 and counts["interesting"] == 1
    assert counts["weighted_average"] == 3.5


def test_a_lost_extraction_worker_is_retried_when_the_project_opens(local_api, small_video):
    """A task stuck `running` (its worker died) stops counting as in progress after a while;
    opening the project queues the extraction again and it completes."""
    from tests.jobs_helpers import make_game_with_clip

    ids = make_game_with_clip(local_api, USER, small_video)
    clip = ids["raw_clip_id"]

    def lose_file_and_worker(conn):
        conn.execute("UPDATE raw_clips SET filename = '' WHERE id = ?", (clip,))
        conn.execute(
            "INSERT INTO extraction_tasks (status, params, raw_clip_id, started_at, created_at)"
            " VALUES ('running', '{}', ?, datetime('now', '-2 hours'),"
            " datetime('now', '-2 hours'))",
            (clip,))

    write(local_api, lose_file_and_worker)
    project_id = make_project(local_api, USER, [clip])
    h = local_api.as_user(USER)
    listed = local_api.client.get(f"/api/clips/projects/{project_id}/clips", headers=h).json()
    assert (listed[0]["is_extracting"], listed[0]["extraction_status"]) == (False, "error")
    opened = local_api.client.patch(f"/api/projects/{project_id}/state",
                                    params={"update_last_opened": "true"}, headers=h)
    assert opened.status_code == 200
    local_api.runner.wait_idle()
    listed = local_api.client.get(f"/api/clips/projects/{project_id}/clips", headers=h).json()
    assert listed[0]["is_extracted"] is True and listed[0]["extraction_status"] == "complete"


def test_every_job_has_a_modal_function():
    """The ModalRunner can run every job the worker knows (same names, one function each)."""
    import modal_app
    from lib.jobs.runner import ModalRunner
    from lib.jobs.worker import HANDLERS, JOB_FOR_EXPORT

    assert set(modal_app.JOB_FUNCTIONS) == set(HANDLERS)
    assert set(JOB_FOR_EXPORT.values()) <= set(HANDLERS)
    runner = ModalRunner(modal_app.JOB_FUNCTIONS)
    with pytest.raises(ValueError, match="No Modal function"):
        runner.spawn("nope", {})


def test_local_runner_forgets_old_finished_calls():
    runner = LocalRunner(lambda name, payload: payload, workers=1)
    runner.KEEP_FINISHED = 2
    ids = [runner.spawn("framing", {"i": i}) for i in range(3)]
    runner.wait_idle()
    runner.spawn("framing", {"i": 3})
    runner.wait_idle()
    assert runner.status(ids[0]).status == "unknown"
    assert runner.status(ids[2]) == CallState("complete", result={"i": 2})

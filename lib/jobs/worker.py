"""The worker side of every job: what a runner executes, locally or in a Modal function.

A job is `(job_name, payload)`; the payload names the user and the job's records. The worker
claims its record through a unit of work, runs the plain job body from `functions/`, uploads
the output, then finalizes through another unit of work. Nothing here needs the web process.
"""

from __future__ import annotations

import contextlib
import importlib
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass

from lib.db.sync import UserDatabases
from lib.errors import DomainError, MediaError, NotFound
from lib.jobs.finalize import finalize_annotated, finalize_final_video, finalize_working_video
from lib.jobs.progress_store import ProgressStore, publish_event
from lib.jobs.records import (
    JobLabels,
    JobProgress,
    claim_job,
    fail_job,
    job_with_project,
    legacy_ids,
    publish_terminal,
)
from lib.keys import Kind, new_name, object_key
from lib.models import ExportPhase, ExportStatus, ExportType, TaskStatus
from lib.overlay import before_after
from lib.projects.extraction import task_matches_clip
from lib.storage import ObjectStore

log = logging.getLogger(__name__)


@dataclass
class WorkerContext:
    store: ObjectStore
    dbs: UserDatabases
    progress: ProgressStore


def job_body(name: str) -> Callable:
    """`functions.<name>.run`: imported when a job runs, so the web image never loads it."""
    return importlib.import_module(f"functions.{name}").run


def as_dict(result) -> dict:
    return result.model_dump() if hasattr(result, "model_dump") else dict(result)


def _null_progress(percent: float, phase: str, message: str) -> None:
    return None


# -- extraction ---------------------------------------------------------------------------------

def run_extract(ctx: WorkerContext, payload: dict) -> dict:
    user_id, task_id = payload["user_id"], int(payload["task_id"])

    def claim(conn):
        row = conn.execute("SELECT * FROM extraction_tasks WHERE id = ?", (task_id,)).fetchone()
        if row is None or row["status"] != TaskStatus.PENDING:
            return None
        conn.execute(
            "UPDATE extraction_tasks SET status = ?, started_at = CURRENT_TIMESTAMP WHERE id = ?",
            (TaskStatus.RUNNING.value, task_id),
        )
        return dict(row)

    task = ctx.dbs.write(user_id, claim)
    if task is None:
        return {"status": "skipped", "task_id": task_id}
    params = json.loads(task["params"] or "{}")
    spec = {
        "input_key": object_key(user_id, Kind.GAMES, params["game_video"]),
        "output_key": object_key(user_id, Kind.RAW_CLIPS, params["output_name"]),
        "start": float(params["start_time"]),
        "end": float(params["end_time"]),
    }
    try:
        result = as_dict(job_body("extract")(spec, ctx.store, _null_progress))
    except Exception as err:  # a crash of the body is a failed task, never a stuck one
        log.exception("extraction task %s crashed", task_id)
        result = {"status": "error", "error": f"Clip extraction failed: {err}."}
    ok = result.get("status") == "complete"

    def finalize(conn):
        row = conn.execute(
            "SELECT t.status, r.id AS clip_id, r.filename, r.boundaries_version, r.start_time,"
            " r.end_time"
            " FROM extraction_tasks t LEFT JOIN raw_clips r ON r.id = t.raw_clip_id"
            " WHERE t.id = ?",
            (task_id,),
        ).fetchone()
        if row is None or row["clip_id"] is None:
            return {"stale": True, "replaced": None}
        if not ok:
            conn.execute(
                "UPDATE extraction_tasks SET status = ?, error = ?,"
                " completed_at = CURRENT_TIMESTAMP WHERE id = ?",
                (TaskStatus.ERROR.value, result.get("error"), task_id),
            )
            return {"stale": False, "replaced": None}
        current = task_matches_clip(params, row)
        replaced = None
        if current:
            replaced = row["filename"] or None
            conn.execute("UPDATE raw_clips SET filename = ? WHERE id = ?",
                         (params["output_name"], row["clip_id"]))
        conn.execute(
            "UPDATE extraction_tasks SET status = ?, result = ?, completed_at = CURRENT_TIMESTAMP"
            " WHERE id = ?",
            (TaskStatus.COMPLETE.value, json.dumps(result), task_id),
        )
        return {"stale": not current, "replaced": replaced}

    outcome = ctx.dbs.write(user_id, finalize)
    if ok and outcome["stale"]:
        ctx.store.delete(spec["output_key"])  # boundaries moved on; a newer task owns the clip
    if outcome["replaced"] and outcome["replaced"] != params["output_name"]:
        ctx.store.delete(object_key(user_id, Kind.RAW_CLIPS, outcome["replaced"]))
    publish_event(ctx.progress, user_id, {
        "type": "extraction_complete" if ok else "extraction_failed",
        "clip_id": task["raw_clip_id"],
        "project_id": task["project_id"],
        **({} if ok else {"error": result.get("error")}),
    })
    return {"status": "complete" if ok else "error", "task_id": task_id,
            "error": None if ok else result.get("error")}


# -- exports ------------------------------------------------------------------------------------

# job type → (job body in functions/, finalization unit of work, share of the progress bar)
_EXPORTS = {
    ExportType.FRAMING: ("framing", finalize_working_video),
    ExportType.MULTI_CLIP: ("framing", finalize_working_video),
    ExportType.OVERLAY: ("overlay", finalize_final_video),
    ExportType.ANNOTATE: ("compile", finalize_annotated),
}
BODY_SHARE = 95.0


def run_export(ctx: WorkerContext, payload: dict) -> dict:
    """Claim the job, run its body, upload (the body does), finalize, report. Never raises for
    a failed export: the job row and the progress frames say what happened.

    `payload["call_id"]` is the runner's call: a restarted call (Modal re-runs a preempted
    input as the same call) claims its own `processing` job again. A cancel or preemption
    arrives as a BaseException; `finally` then removes what this attempt left behind."""
    user_id, export_id = payload["user_id"], payload["export_id"]
    call_id = payload.get("call_id")
    job = ctx.dbs.write(user_id, lambda conn: claim_job(conn, export_id, call_id))
    if job is None:
        return {"status": "skipped", "export_id": export_id}
    job_type = ExportType(job["type"])
    spec = json.loads(job["input_data"])["spec"]
    project_name = payload.get("project_name")
    labels = JobLabels(export_id, job_type, job["project_id"] or None, project_name,
                       job["game_id"], job["game_name"])
    progress = JobProgress(ctx.progress, user_id, labels, start=0.0, span=BODY_SHARE)
    body_name, finalize = _EXPORTS[job_type]
    over = False
    try:
        progress(0, ExportPhase.DOWNLOAD.value, "Starting export")
        try:
            result = as_dict(job_body(body_name)(spec, ctx.store, progress))
        except Exception as err:
            log.exception("export %s crashed", export_id)
            result = {"status": "error", "error": f"The export failed unexpectedly: {err}."}
        try:
            if result.get("status") != "complete":
                raise _Failed(result.get("error") or "The export failed.")
            progress(100, ExportPhase.FINALIZING.value, "Saving the video")
            video_id, filename = ctx.dbs.write(
                user_id, lambda conn: finalize(conn, export_id, result, spec))
        except Exception as err:
            message = err.message if isinstance(err, DomainError | _Failed) else str(err)
            if result.get("output_key"):
                ctx.store.delete(result["output_key"])
            _cleanup(ctx, spec)
            with contextlib.suppress(Exception):
                ctx.dbs.write(user_id, lambda conn: fail_job(conn, export_id, message))
            progress.error(message)
            over = True
            return {"status": "error", "export_id": export_id, "error": message}
        over = True
        _cleanup(ctx, spec)
        progress.complete(video_id, filename, legacy_ids(job_type, video_id))
        return {"status": "complete", "export_id": export_id, "output_video_id": video_id,
                "output_filename": filename}
    finally:
        if not over:
            _interrupted(ctx, user_id, export_id, spec)


def _interrupted(ctx: WorkerContext, user_id: str, export_id: str, spec: dict) -> None:
    """Cleanup after a BaseException (cancel, preemption, shutdown) stopped the job. A job
    still `processing` will be re-run by its call (preemption): its inputs stay. A job the
    cancel already failed loses its inputs and partial output, and its terminal frame is
    published. A job whose finalize committed keeps everything."""
    with contextlib.suppress(Exception):
        row = ctx.dbs.read(user_id, lambda conn: job_with_project(conn, export_id))
        if row["status"] == ExportStatus.ERROR:
            if spec.get("output_key"):
                ctx.store.delete(spec["output_key"])
            _cleanup(ctx, spec)
        publish_terminal(ctx.progress, user_id, row)


class _Failed(Exception):
    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def _cleanup(ctx: WorkerContext, spec: dict) -> None:
    """Multi-clip uploads are inputs of one job only: remove them once it is over."""
    for key in spec.get("uploads") or []:
        ctx.store.delete(key)


# -- before/after comparison -------------------------------------------------------------------

def run_before_after(ctx: WorkerContext, payload: dict) -> dict:
    """The `before_after` job: payload {user_id, final_video_id} → {status, output_key|error}.
    The output is a temporary object under downloads/ (the caller serves and deletes it)."""
    user_id, final_video_id = payload["user_id"], int(payload["final_video_id"])
    try:
        info = ctx.dbs.read(
            user_id, lambda conn: before_after.comparison_tracks(conn, final_video_id))
    except NotFound as err:
        return {"status": "error", "error": err.message}
    state = before_after.availability(ctx.store, user_id, info)
    if not state["available"]:
        return {"status": "error", "error": state["error"]}
    output_key = object_key(user_id, Kind.DOWNLOADS, new_name(".mp4", prefix="before_after_"))
    spec = before_after.job_spec(user_id, info, output_key)
    try:
        result = as_dict(job_body("before_after")(spec, ctx.store, _null_progress))
    except Exception as err:  # a crash of the body is a failed job, never a 500
        log.exception("before/after for final video %s crashed", final_video_id)
        result = {"status": "error", "error": f"The comparison video could not be made: {err}."}
    if result.get("status") != "complete":
        ctx.store.delete(output_key)
        return {"status": "error", "error": result.get("error") or "Rendering failed."}
    return {"status": "complete", "output_key": output_key}


# -- follow the player (auto_frame / track_region) ---------------------------------------------

def run_follow(ctx: WorkerContext, payload: dict) -> dict:
    """The `follow` job: payload = functions.follow.FollowSpec → keyframes (nothing written;
    the web applies them in its own unit of work)."""
    return as_dict(job_body("follow")(payload, ctx.store, _null_progress))


def run_detect(ctx: WorkerContext, payload: dict) -> dict:
    """The `detect` job: payload = functions.detect.DetectSpec → §6 detections."""
    return as_dict(job_body("detect")(payload, ctx.store, _null_progress))


# -- upload verification ----------------------------------------------------------------------

VERIFY_URL_SECONDS = 300


def run_verify_upload(ctx: WorkerContext, payload: dict) -> dict:
    """The `verify_upload` job: payload {key} → {status: complete, duration, width, height} or
    {status: error, error}. The probe reads the object in place (local file or presigned URL)."""
    from lib.media.verify import verify_video  # av: only where this job runs

    key = payload["key"]
    info = ctx.store.head(key)
    if info is None:
        return {"status": "error", "error": "The uploaded video is missing from storage."}
    source = (str(ctx.store.local_path(key)) if ctx.store.kind == "local"
              else ctx.store.presign_get(key, VERIFY_URL_SECONDS))
    try:
        facts = verify_video(source, info.size)
    except MediaError as err:
        return {"status": "error", "error": err.message}
    return {"status": "complete", "duration": facts.duration, "width": facts.width,
            "height": facts.height, "size": info.size, "etag": info.etag}


# Job names are what runners spawn; each names the Modal function (and image) that runs it.
HANDLERS: dict[str, Callable[[WorkerContext, dict], dict]] = {
    "extract": run_extract,
    "framing": run_export,
    "overlay": run_export,
    "compile": run_export,
    "before_after": run_before_after,
    "follow": run_follow,
    "detect": run_detect,
    "verify_upload": run_verify_upload,
}

JOB_FOR_EXPORT = {
    ExportType.FRAMING: "framing",
    ExportType.MULTI_CLIP: "framing",
    ExportType.OVERLAY: "overlay",
    ExportType.ANNOTATE: "compile",
}


class JobTimedOut(RuntimeError):
    """A TimeoutError raised inside a job, re-raised under a type that a runner's "not done
    yet" TimeoutError can never be mistaken for."""


def handle(ctx: WorkerContext, job_name: str, payload: dict, call_id: str | None = None) -> dict:
    """Run one job. `call_id` (the runner's id of this call) lets a restarted call re-claim
    its own job. A builtin TimeoutError escaping the job becomes JobTimedOut: Modal's
    `FunctionCall.get(timeout=0)` re-raises the job's exception, and a TimeoutError there
    would read as "still running" forever."""
    try:
        handler = HANDLERS[job_name]
    except KeyError:
        raise ValueError(f"Unknown job {job_name!r}.") from None
    if call_id is not None:
        payload = {**payload, "call_id": call_id}
    try:
        return handler(ctx, payload)
    except TimeoutError as err:
        raise JobTimedOut(f"The {job_name} job timed out: {err or 'no answer in time'}.") from err

"""Export jobs: the `export_jobs` records, their wire shape, and live progress frames.

A job's truth is its row (status, error, output). Live progress lives in the ProgressStore
under `export:{user_id}:{export_id}` so any container's WebSocket can follow it; the row is
enough to report a job when the progress store has forgotten it (after a restart).
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
import time
from dataclasses import dataclass

from lib.errors import BadRequest, NotFound
from lib.jobs.progress_store import ProgressStore
from lib.models import ExportPhase, ExportStatus, ExportType

TERMINAL = (ExportStatus.COMPLETE.value, ExportStatus.ERROR.value)
UNACKNOWLEDGED_WINDOW = "-1 day"
EXPORT_ID_MAX = 200


def progress_key(user_id: str, export_id: str) -> str:
    return f"export:{user_id}:{export_id}"


def validate_export_id(export_id: str) -> str:
    if not isinstance(export_id, str) or not export_id.strip() or len(export_id) > EXPORT_ID_MAX:
        raise BadRequest("export_id must be a non-empty string of at most 200 characters.")
    return export_id


@dataclass(frozen=True)
class JobLabels:
    """What progress frames say about the job (the editor creates its store entry from them)."""

    export_id: str
    type: ExportType
    project_id: int | None = None
    project_name: str | None = None
    game_id: int | None = None
    game_name: str | None = None

    def frame(self) -> dict:
        return {
            "export_id": self.export_id,
            "type": self.type.client_type,
            "projectId": self.project_id or None,
            "projectName": self.project_name,
            "gameId": self.game_id,
            "gameName": self.game_name,
        }

    @classmethod
    def from_row(cls, row: sqlite3.Row | dict, project_name: str | None = None) -> JobLabels:
        return cls(row["id"], ExportType(row["type"]), row["project_id"] or None,
                   project_name, row["game_id"], row["game_name"])


# -- rows ---------------------------------------------------------------------------------------

def create_job(conn: sqlite3.Connection, export_id: str, job_type: ExportType, input_data: dict,
               *, project_id: int = 0, game_id: int | None = None,
               game_name: str | None = None) -> dict:
    """Insert a pending job. An id that already names a finished job in error is reused; an
    id of a job still running or complete is returned as it is (a retried request)."""
    validate_export_id(export_id)
    existing = conn.execute("SELECT * FROM export_jobs WHERE id = ?", (export_id,)).fetchone()
    if existing is not None:
        if existing["status"] != ExportStatus.ERROR:
            return dict(existing)
        conn.execute("DELETE FROM export_jobs WHERE id = ?", (export_id,))
    conn.execute(
        "INSERT INTO export_jobs (id, project_id, type, status, phase, input_data, game_id,"
        " game_name) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (export_id, project_id, job_type.value, ExportStatus.PENDING.value,
         ExportPhase.INIT.value, json.dumps(input_data), game_id, game_name),
    )
    return dict(conn.execute("SELECT * FROM export_jobs WHERE id = ?", (export_id,)).fetchone())


def get_job(conn: sqlite3.Connection, export_id: str) -> dict:
    row = conn.execute("SELECT * FROM export_jobs WHERE id = ?", (export_id,)).fetchone()
    if row is None:
        raise NotFound("Export job not found.")
    return dict(row)


def set_call_id(conn: sqlite3.Connection, export_id: str, call_id: str) -> None:
    conn.execute("UPDATE export_jobs SET modal_call_id = ? WHERE id = ?", (call_id, export_id))


def claim_job(conn: sqlite3.Connection, export_id: str,
              call_id: str | None = None) -> dict | None:
    """pending → processing, once, recording the claiming call. The same call claims again a
    job it left `processing` (Modal restarts a preempted input as the same call). None when
    the job is gone, finished, or held by another call."""
    row = conn.execute("SELECT * FROM export_jobs WHERE id = ?", (export_id,)).fetchone()
    if row is None:
        return None
    restarted = (call_id is not None and row["status"] == ExportStatus.PROCESSING
                 and row["modal_call_id"] == call_id)
    if row["status"] != ExportStatus.PENDING and not restarted:
        return None
    conn.execute(
        "UPDATE export_jobs SET status = ?, phase = ?, started_at = CURRENT_TIMESTAMP,"
        " modal_call_id = COALESCE(?, modal_call_id) WHERE id = ?",
        (ExportStatus.PROCESSING.value, ExportPhase.DOWNLOAD.value, call_id, export_id),
    )
    return dict(row)


def fail_job(conn: sqlite3.Connection, export_id: str, error: str) -> bool:
    """Mark a job failed unless it already finished. True when this call changed it."""
    cur = conn.execute(
        "UPDATE export_jobs SET status = ?, phase = ?, error = ?, completed_at = CURRENT_TIMESTAMP"
        " WHERE id = ? AND status NOT IN (?, ?)",
        (ExportStatus.ERROR.value, ExportPhase.ERROR.value, error, export_id, *TERMINAL),
    )
    return cur.rowcount > 0


def complete_job(conn: sqlite3.Connection, export_id: str, output_video_id: int | None,
                 output_filename: str | None) -> None:
    conn.execute(
        "UPDATE export_jobs SET status = ?, phase = ?, error = NULL, output_video_id = ?,"
        " output_filename = ?, completed_at = CURRENT_TIMESTAMP WHERE id = ?",
        (ExportStatus.COMPLETE.value, ExportPhase.COMPLETE.value, output_video_id,
         output_filename, export_id),
    )


def acknowledge(conn: sqlite3.Connection, export_ids: list[str]) -> int:
    n = 0
    for export_id in export_ids:
        n += conn.execute(
            "UPDATE export_jobs SET acknowledged_at = CURRENT_TIMESTAMP"
            " WHERE id = ? AND acknowledged_at IS NULL", (str(export_id),),
        ).rowcount
    return n


_WIRE_SQL = (
    "SELECT j.*, p.name AS project_name FROM export_jobs j"
    " LEFT JOIN projects p ON p.id = j.project_id"
)


def job_wire(row: dict, progress: dict | None = None) -> dict:
    """One job as #46/#47 list it."""
    status = row["status"]
    percent = 100 if status == ExportStatus.COMPLETE else 0
    if progress and status not in TERMINAL:
        percent = progress.get("progress", 0)
    return {
        "job_id": row["id"],
        "id": row["id"],
        "project_id": row["project_id"] or None,
        "project_name": row.get("project_name"),
        "type": ExportType(row["type"]).client_type,
        "status": status,
        "phase": row["phase"],
        "progress": percent,
        "error": row["error"],
        "output_video_id": row["output_video_id"],
        "output_filename": row["output_filename"],
        "game_id": row["game_id"],
        "game_name": row["game_name"],
        "created_at": row["created_at"],
        "started_at": row["started_at"],
        "completed_at": row["completed_at"],
        "acknowledged_at": row["acknowledged_at"],
    }


def job_with_project(conn: sqlite3.Connection, export_id: str) -> dict:
    row = conn.execute(_WIRE_SQL + " WHERE j.id = ?", (export_id,)).fetchone()
    if row is None:
        raise NotFound("Export job not found.")
    return dict(row)


RECENT_WINDOW = "-10 minutes"


def active_jobs(conn: sqlite3.Connection) -> list[dict]:
    """Jobs still running, and those that ended in the last minutes (a page reloaded while
    its export finished learns the outcome)."""
    rows = conn.execute(
        _WIRE_SQL + " WHERE j.status IN (?, ?) OR j.completed_at >= datetime('now', ?)"
        " ORDER BY j.created_at, j.id",
        (ExportStatus.PENDING.value, ExportStatus.PROCESSING.value, RECENT_WINDOW),
    ).fetchall()
    return [dict(r) for r in rows]


def unacknowledged_jobs(conn: sqlite3.Connection) -> list[dict]:
    rows = conn.execute(
        _WIRE_SQL + " WHERE j.status IN (?, ?) AND j.acknowledged_at IS NULL"
        " AND j.completed_at >= datetime('now', ?) ORDER BY j.completed_at, j.id",
        (*TERMINAL, UNACKNOWLEDGED_WINDOW),
    ).fetchall()
    return [dict(r) for r in rows]


# -- live progress ------------------------------------------------------------------------------

class JobProgress:
    """The ProgressSink a job body reports to: monotonic percent, frames the editor reads."""

    def __init__(self, store: ProgressStore, user_id: str, labels: JobLabels,
                 start: float = 0.0, span: float = 100.0):
        self.store = store
        self.key = progress_key(user_id, labels.export_id)
        self.labels = labels
        self.start, self.span = start, span
        self._last = -1.0
        self._seq: int | None = None

    def _put(self, frame: dict) -> None:
        # The worker is the frame's writer while the job runs: one read for the seq to go on
        # from, then no Dict read per frame.
        if self._seq is None:
            self._seq = (self.store.get(self.key) or {}).get("seq", 0)
        self._seq += 1
        frame = {**self.labels.frame(), **frame, "seq": self._seq, "updated_at": time.time()}
        self.store.put(self.key, frame)

    def __call__(self, percent: float, phase: str, message: str) -> None:
        value = round(self.start + self.span * max(0.0, min(100.0, percent)) / 100.0, 1)
        value = max(value, self._last)
        self._last = value
        self._put({"progress": value, "phase": phase, "message": message,
                   "status": ExportStatus.PROCESSING.value})

    def complete(self, output_video_id: int | None, output_filename: str | None,
                 extra: dict | None = None) -> None:
        self._put({
            "progress": 100, "phase": ExportPhase.COMPLETE.value, "status": "complete",
            "message": "Export complete", "outputVideoId": output_video_id,
            "outputFilename": output_filename, **(extra or {}),
        })

    def error(self, message: str) -> None:
        self._put({"progress": max(self._last, 0), "phase": ExportPhase.ERROR.value,
                   "status": "error", "error": message, "message": message})


def latest_frame(store: ProgressStore, user_id: str, export_id: str) -> dict | None:
    return store.get(progress_key(user_id, export_id))


def frame_from_row(row: dict) -> dict | None:
    """A terminal frame rebuilt from the job row (the progress store may have forgotten)."""
    labels = JobLabels.from_row(row, row.get("project_name"))
    if row["status"] == ExportStatus.COMPLETE:
        return {**labels.frame(), "status": "complete", "progress": 100, "phase": "complete",
                "message": "Export complete", "outputVideoId": row["output_video_id"],
                "outputFilename": row["output_filename"],
                **legacy_ids(row["type"], row["output_video_id"]), "seq": 0}
    if row["status"] == ExportStatus.ERROR:
        return {**labels.frame(), "status": "error", "progress": 0, "phase": "error",
                "error": row["error"] or "Export failed", "message": row["error"], "seq": 0}
    return None


def output_kind(job_type: ExportType | str) -> str:
    """What a job produces: a `working` video (framing) or a `final` one (overlay, annotate)."""
    framing = ExportType(job_type) in (ExportType.FRAMING, ExportType.MULTI_CLIP)
    return "working" if framing else "final"


def legacy_ids(job_type: ExportType | str, video_id: int | None) -> dict:
    """OB's names in the complete frame (`workingVideoId` / `finalVideoId`)."""
    return {f"{output_kind(job_type)}VideoId": video_id}


# -- liveness -----------------------------------------------------------------------------------

START_GRACE_SECONDS = 120
EXPIRE_SECONDS = 6 * 3600
INTERRUPTED = "The export was interrupted because its worker stopped; please export again."


def _age_seconds(timestamp: str | None) -> float:
    """Seconds since a SQLite CURRENT_TIMESTAMP ("YYYY-MM-DD HH:MM:SS", UTC)."""
    if not timestamp:
        return 0.0
    try:
        then = dt.datetime.strptime(timestamp[:19], "%Y-%m-%d %H:%M:%S")
    except ValueError:
        return 0.0
    return (dt.datetime.now(dt.UTC).replace(tzinfo=None) - then).total_seconds()


def dead_job_verdict(row: dict, runner) -> str | None:
    """Why a pending/processing job can no longer finish, or None while it may."""
    if row["status"] in TERMINAL:
        return None
    if _age_seconds(row["created_at"]) > EXPIRE_SECONDS:
        return "The export expired before it finished; please export again."
    call_id = row["modal_call_id"]
    if not call_id:
        if _age_seconds(row["created_at"]) > START_GRACE_SECONDS:
            return "The export never started; please export again."
        return None
    state = runner.status(call_id)
    if state.status in ("pending", "running"):
        return None
    if state.status == "error":
        return state.error or INTERRUPTED
    if state.status == "complete":
        return (state.result or {}).get("error") or INTERRUPTED
    return INTERRUPTED


def reconcile_job(dbs, runner, user_id: str, export_id: str,
                  progress: ProgressStore | None = None) -> dict:
    """The job row (with project_name), after marking it failed if its worker is gone.
    Jobs never stay pending forever; nothing in memory is needed to report one. With
    `progress`, a terminal row whose live frame still says otherwise publishes its terminal
    frame, so sockets never show a finished job as running."""
    row = dbs.read(user_id, lambda conn: job_with_project(conn, export_id))
    if row["status"] not in TERMINAL:
        verdict = dead_job_verdict(row, runner)
        if verdict is None:
            return row

        def fail(conn: sqlite3.Connection) -> dict:
            fail_job(conn, export_id, verdict)  # a no-op if the worker finished meanwhile
            return job_with_project(conn, export_id)

        row = dbs.write(user_id, fail)
    if progress is not None:
        publish_terminal(progress, user_id, row)
    return row


def publish_terminal(progress: ProgressStore, user_id: str, row: dict) -> None:
    """Make the live frame of a finished job its terminal frame (from the row) unless it
    already is one."""
    frame = frame_from_row(row)
    if frame is None:
        return
    live = latest_frame(progress, user_id, row["id"]) or {}
    if live.get("status") in TERMINAL:
        return
    progress.put(progress_key(user_id, row["id"]), {**frame, "seq": live.get("seq", 0) + 1})

"""Configuration from the environment, with embedded local defaults (no credentials needed)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path


def _env(name: str, default: str | None = None) -> str | None:
    value = os.environ.get(name)
    return value if value not in (None, "") else default


def _env_int(name: str, default: int) -> int:
    value = _env(name)
    return int(value) if value is not None else default


def _env_float(name: str, default: float) -> float:
    value = _env(name)
    return float(value) if value is not None else default


DEV_URL_SECRET = "local-dev-url-secret"


@dataclass(frozen=True)
class Settings:
    """Every knob the service reads. README documents each environment variable."""

    data_dir: Path = Path(".data")
    storage: str = "local"  # local | s3
    s3_endpoint_url: str | None = None
    s3_bucket: str = "reel-ballers"
    s3_region: str = "auto"
    s3_access_key_id: str | None = None
    s3_secret_access_key: str | None = None
    auth_mode: str = "dev"  # dev | token
    auth_secret: str | None = None
    default_user: str = "a"
    runner: str = "local"  # local | modal
    runner_workers: int = 2
    db_cache_size: int = 64
    db_write_attempts: int = 0  # 0 = no count limit: retries end with db_write_budget_s
    db_write_budget_s: float = 15.0  # how long a write keeps retrying lost CAS races → 409
    db_deadline_s: float = 8.0  # lock wait + storage-failure retries of a request → 503
    db_connect_timeout_s: float = 2.0  # database objects; media keep long, streamed timeouts
    db_read_timeout_s: float = 3.0
    presign_seconds: int = 7 * 24 * 3600
    # Input bounds (README "Limits"): request bodies and upload grants.
    upload_url_seconds: int = 15 * 60
    max_json_bytes: int = 1024 * 1024
    max_video_upload_bytes: int = 16 * 1024**3
    max_clip_upload_bytes: int = 2 * 1024**3
    url_secret: str = DEV_URL_SECRET
    cors_origins: tuple[str, ...] = ("http://localhost:5173", "http://localhost:3000")
    editor_dir: Path | None = None  # a built editor to serve same-origin (web/editor.py)
    request_budget_s: float = 120.0  # a waiting export answers 303 after this (Modal cuts 150)
    progress_poll_s: float = 0.5  # how often one key is read by the container's poller
    progress_max_reads_per_s: float = 20.0  # the poller's cap over all followed keys
    extra: dict = field(default_factory=dict)

    @property
    def local_objects_dir(self) -> Path:
        return self.data_dir / "objects"

    @classmethod
    def from_env(cls) -> Settings:
        origins = _env("CORS_ORIGINS")
        return cls(
            data_dir=Path(_env("DATA_DIR", ".data")),
            storage=_env("STORAGE", "s3" if (_env("S3_ENDPOINT_URL") or _env("R2_ENDPOINT_URL"))
                         else "local"),
            s3_endpoint_url=_env("S3_ENDPOINT_URL") or _env("R2_ENDPOINT_URL"),
            s3_bucket=_env("S3_BUCKET") or _env("R2_BUCKET_NAME") or "reel-ballers",
            s3_region=_env("S3_REGION", "auto"),
            s3_access_key_id=_env("S3_ACCESS_KEY_ID") or _env("R2_ACCESS_KEY_ID"),
            s3_secret_access_key=_env("S3_SECRET_ACCESS_KEY") or _env("R2_SECRET_ACCESS_KEY"),
            auth_mode=_env("AUTH_MODE", "dev"),
            auth_secret=_env("AUTH_SECRET"),
            default_user=_env("DEFAULT_USER", "a"),
            runner=_env("RUNNER", "local"),
            runner_workers=_env_int("RUNNER_WORKERS", 2),
            db_cache_size=_env_int("DB_CACHE_SIZE", 64),
            db_write_attempts=_env_int("DB_WRITE_ATTEMPTS", 0),
            db_write_budget_s=_env_float("DB_WRITE_BUDGET_S", 15.0),
            db_deadline_s=_env_float("DB_DEADLINE_S", 8.0),
            db_connect_timeout_s=_env_float("DB_CONNECT_TIMEOUT_S", 2.0),
            db_read_timeout_s=_env_float("DB_READ_TIMEOUT_S", 3.0),
            presign_seconds=_env_int("PRESIGN_SECONDS", 7 * 24 * 3600),
            upload_url_seconds=_env_int("UPLOAD_URL_SECONDS", 15 * 60),
            max_json_bytes=_env_int("MAX_JSON_BYTES", 1024 * 1024),
            max_video_upload_bytes=_env_int("MAX_VIDEO_UPLOAD_BYTES", 16 * 1024**3),
            max_clip_upload_bytes=_env_int("MAX_CLIP_UPLOAD_BYTES", 2 * 1024**3),
            url_secret=_env("URL_SECRET") or _env("AUTH_SECRET") or DEV_URL_SECRET,
            cors_origins=tuple(o.strip() for o in origins.split(","))
            if origins
            else ("http://localhost:5173", "http://localhost:3000"),
            editor_dir=Path(d) if (d := _env("EDITOR_DIR")) else None,
            request_budget_s=_env_float("REQUEST_BUDGET_S", 120.0),
            progress_poll_s=_env_float("PROGRESS_POLL_S", 0.5),
            progress_max_reads_per_s=_env_float("PROGRESS_MAX_READS_PER_S", 20.0),
        )


def deployment_problems(settings: Settings) -> list[str]:
    """What makes `settings` unsafe on a public URL (one sentence each; empty when fine)."""
    problems = []
    if settings.storage != "s3":
        problems.append(
            f"STORAGE is {settings.storage!r}: a deployed container would keep users' databases"
            " on its own ephemeral disk; set S3_ENDPOINT_URL, S3_BUCKET and the S3 keys in the"
            " r2-credentials secret.")
    elif not (settings.s3_access_key_id and settings.s3_secret_access_key):
        problems.append("S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY must be set in the"
                        " r2-credentials secret.")
    if settings.auth_mode != "token":
        problems.append(
            f"AUTH_MODE is {settings.auth_mode!r}: on a public URL any caller could act as any"
            " user; set AUTH_MODE=token and AUTH_SECRET in the auth secret.")
    elif not settings.auth_secret:
        problems.append("AUTH_MODE=token needs AUTH_SECRET in the auth secret.")
    if settings.url_secret == DEV_URL_SECRET:
        problems.append("URL_SECRET (or AUTH_SECRET) must be set: the development value"
                        " would let anyone sign storage URLs.")
    return problems


def check_deployed(settings: Settings) -> Settings:
    """Refuse to start a deployed container on settings meant for a laptop."""
    problems = deployment_problems(settings)
    if problems:
        raise RuntimeError("Refusing to start: " + " ".join(problems))
    return settings

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
    db_write_attempts: int = 12
    presign_seconds: int = 7 * 24 * 3600
    # Input bounds (README "Limits"): request bodies and upload grants.
    upload_url_seconds: int = 15 * 60
    max_json_bytes: int = 1024 * 1024
    max_video_upload_bytes: int = 16 * 1024**3
    max_clip_upload_bytes: int = 2 * 1024**3
    url_secret: str = "local-dev-url-secret"
    cors_origins: tuple[str, ...] = ("http://localhost:5173", "http://localhost:3000")
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
            db_write_attempts=_env_int("DB_WRITE_ATTEMPTS", 12),
            presign_seconds=_env_int("PRESIGN_SECONDS", 7 * 24 * 3600),
            upload_url_seconds=_env_int("UPLOAD_URL_SECONDS", 15 * 60),
            max_json_bytes=_env_int("MAX_JSON_BYTES", 1024 * 1024),
            max_video_upload_bytes=_env_int("MAX_VIDEO_UPLOAD_BYTES", 16 * 1024**3),
            max_clip_upload_bytes=_env_int("MAX_CLIP_UPLOAD_BYTES", 2 * 1024**3),
            url_secret=_env("URL_SECRET") or _env("AUTH_SECRET") or "local-dev-url-secret",
            cors_origins=tuple(o.strip() for o in origins.split(","))
            if origins
            else ("http://localhost:5173", "http://localhost:3000"),
        )

"""The ObjectStore protocol: what every part of the backend needs from object storage."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Protocol, runtime_checkable

from lib.errors import BadRequest, NotFound, StorageUnavailable

CHUNK = 1024 * 1024
_MAX_KEY_BYTES = 1024


def _bad_segment(part: str) -> bool:
    return part in ("", ".", "..") or part.startswith(".") or any(
        ord(c) < 32 or ord(c) == 127 for c in part)


def check_key(key: str) -> str:
    """`key` if it is a safe object key (relative, `/`-separated, no empty, dot or control
    segments); raises BadRequest otherwise. Both stores apply the same rule."""
    if (not isinstance(key, str) or not key or "\\" in key
            or len(key.encode()) > _MAX_KEY_BYTES or any(_bad_segment(p) for p in key.split("/"))):
        raise BadRequest("Invalid storage key.")
    return key


def check_prefix(prefix: str) -> str:
    """A listing prefix: a key, optionally ending with `/`, or a partial last segment."""
    if prefix == "":
        return prefix
    check_key(prefix[:-1] if prefix.endswith("/") else prefix)
    return prefix


class ObjectNotFound(NotFound):
    """The key does not exist."""

    def __init__(self, key: str):
        super().__init__("The requested file does not exist in storage.")
        self.key = key


class PreconditionFailed(Exception):
    """A conditional write lost: the object's etag was not the one expected."""


class StorageOutcomeUnknown(StorageUnavailable):
    """A write failed after its request may have reached storage (the response was lost or
    timed out, or a 5xx): it may or may not have been applied. Read the object to know."""


@dataclass(frozen=True)
class ObjectInfo:
    key: str
    size: int
    etag: str
    content_type: str | None = None


def content_type_for(key: str) -> str:
    ext = key.rsplit(".", 1)[-1].lower() if "." in key else ""
    return {
        "mp4": "video/mp4",
        "mov": "video/quicktime",
        "webm": "video/webm",
        "mkv": "video/x-matroska",
        "json": "application/json",
        "sqlite": "application/vnd.sqlite3",
        "tsv": "text/tab-separated-values",
        "png": "image/png",
        "jpg": "image/jpeg",
    }.get(ext, "application/octet-stream")


@runtime_checkable
class ObjectStore(Protocol):
    """Keys are built by lib.keys. Errors: ObjectNotFound, PreconditionFailed,
    lib.errors.StorageUnavailable (unreachable or 5xx; StorageOutcomeUnknown from a write
    that may have been applied)."""

    kind: str  # "local" | "s3"

    def head(self, key: str) -> ObjectInfo | None: ...

    def get_bytes(self, key: str) -> tuple[bytes, str]:
        """(data, etag)."""

    def get_if_changed(self, key: str, etag: str | None) -> tuple[bytes, str] | None:
        """Conditional GET: None when the stored etag still equals `etag` (304)."""

    def put_bytes(self, key: str, data: bytes, content_type: str | None = None) -> str: ...

    def put_if(
        self,
        key: str,
        data: bytes,
        *,
        if_match: str | None = None,
        if_none_match: str | None = None,
        content_type: str | None = None,
    ) -> str:
        """Write only if the current etag equals `if_match` (or, with if_none_match='*',
        only if the key does not exist). Returns the new etag; raises PreconditionFailed."""

    def upload_file(self, key: str, path: Path | str, content_type: str | None = None) -> str: ...

    def upload_stream(self, key: str, stream: BinaryIO, content_type: str | None = None) -> str:
        """Stream a file-like object to storage without reading it whole into memory."""

    def download_file(self, key: str, path: Path | str) -> None: ...

    def iter_range(self, key: str, start: int = 0, end: int | None = None) -> Iterator[bytes]:
        """Bytes [start, end] (end inclusive, None = to the end), in chunks."""

    def delete(self, key: str) -> None: ...

    def delete_prefix(self, prefix: str) -> int: ...

    def list(self, prefix: str) -> list[ObjectInfo]: ...

    def presign_get(self, key: str, expires: int, filename: str | None = None) -> str: ...

    def presign_put(self, key: str, content_type: str, expires: int) -> str: ...

    def ping(self) -> None:
        """Raise StorageUnavailable if the store cannot be reached."""

"""LocalDirStore: objects as files under a root directory, with S3's conditional semantics.

Writes go to a temp file and are renamed into place (atomic); conditional writes hold an
flock per key, so several processes on one machine get compare-and-swap like S3/R2.
The etag is derived from the file's inode, mtime and size: every replace changes it.
Presigned URLs are same-origin `/api/storage/local/...` paths signed with HMAC.
"""

from __future__ import annotations

import fcntl
import hashlib
import hmac
import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import BinaryIO
from urllib.parse import quote, urlencode

from lib.storage.base import (
    CHUNK,
    ObjectInfo,
    ObjectNotFound,
    PreconditionFailed,
    check_key,
    check_prefix,
    content_type_for,
)

LOCAL_URL_PREFIX = "/api/storage/local/"
_LOCKS = ".locks"


def sign_local_url(secret: str, method: str, key: str, expires_at: int,
                   filename: str | None = None) -> str:
    msg = f"{method.upper()}\n{key}\n{expires_at}".encode()
    if filename:  # the download name is part of what is signed
        msg += b"\n" + filename.encode("utf-8", "surrogatepass")
    return hmac.new(secret.encode(), msg, hashlib.sha256).hexdigest()


def verify_local_url(secret: str, method: str, key: str, expires_at: int, sig: str,
                     filename: str | None = None) -> bool:
    if expires_at < time.time():
        return False
    expected = sign_local_url(secret, method, key, expires_at, filename).encode()
    return hmac.compare_digest(expected, sig.encode())  # bytes: sig may be any unicode


class LocalDirStore:
    kind = "local"

    def __init__(self, root: Path | str, url_secret: str = "local-dev-url-secret"):
        self.root = Path(root).resolve()
        self.root.mkdir(parents=True, exist_ok=True)
        (self.root / _LOCKS).mkdir(exist_ok=True)
        self.url_secret = url_secret

    # -- paths -------------------------------------------------------------------------
    def _path(self, key: str) -> Path:
        return self.root / check_key(key)

    @contextmanager
    def _lock(self, key: str):
        name = hashlib.sha1(key.encode()).hexdigest()
        with open(self.root / _LOCKS / name, "a") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)

    @staticmethod
    def _etag(st: os.stat_result) -> str:
        return f"{st.st_ino:x}-{st.st_mtime_ns:x}-{st.st_size:x}"

    def _info(self, key: str, path: Path) -> ObjectInfo | None:
        try:
            st = path.stat()
        except FileNotFoundError:
            return None
        return ObjectInfo(key, st.st_size, self._etag(st), content_type_for(key))

    def _write(self, key: str, writer) -> str:
        """Write a new version of `key` (the caller holds the key's lock)."""
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as fh:
                writer(fh)
                fh.flush()
                # Inode numbers are reused as soon as a replaced file is freed, and file
                # timestamps may be coarse: give every version of a key a strictly later
                # mtime than the one it replaces, so an old etag never matches again (ABA).
                st = os.fstat(fh.fileno())
                current = self._info(key, path)
                newest = int(current.etag.split("-")[1], 16) if current else 0
                os.utime(fh.fileno(), ns=(st.st_atime_ns, max(st.st_mtime_ns, newest + 1)))
                os.fsync(fh.fileno())
            os.replace(tmp, path)
        except BaseException:
            with _suppress():
                os.unlink(tmp)
            raise
        return self._etag(path.stat())

    # -- protocol ----------------------------------------------------------------------
    def ping(self) -> None:
        if not self.root.is_dir():
            from lib.errors import StorageUnavailable

            raise StorageUnavailable("The local object store directory is missing.")

    def head(self, key: str) -> ObjectInfo | None:
        return self._info(key, self._path(key))

    def get_bytes(self, key: str) -> tuple[bytes, str]:
        path = self._path(key)
        try:
            with open(path, "rb") as fh:
                st = os.fstat(fh.fileno())
                return fh.read(), self._etag(st)
        except FileNotFoundError:
            raise ObjectNotFound(key) from None

    def get_if_changed(self, key: str, etag: str | None) -> tuple[bytes, str] | None:
        info = self.head(key)
        if info is None:
            raise ObjectNotFound(key)
        if etag is not None and info.etag == etag:
            return None
        return self.get_bytes(key)

    def put_bytes(self, key: str, data: bytes, content_type: str | None = None) -> str:
        with self._lock(key):
            return self._write(key, lambda fh: fh.write(data))

    def put_if(
        self,
        key: str,
        data: bytes,
        *,
        if_match: str | None = None,
        if_none_match: str | None = None,
        content_type: str | None = None,
    ) -> str:
        with self._lock(key):
            current = self.head(key)
            if if_none_match == "*" and current is not None:
                raise PreconditionFailed(key)
            if if_match is not None and (current is None or current.etag != if_match):
                raise PreconditionFailed(key)
            return self._write(key, lambda fh: fh.write(data))

    def upload_file(self, key: str, path: Path | str, content_type: str | None = None) -> str:
        with open(path, "rb") as src:
            return self.upload_stream(key, src, content_type)

    def upload_stream(self, key: str, stream: BinaryIO, content_type: str | None = None) -> str:
        with self._lock(key):
            return self._write(key, lambda fh: shutil.copyfileobj(stream, fh, CHUNK))

    def download_file(self, key: str, path: Path | str) -> None:
        src = self._path(key)
        if not src.exists():
            raise ObjectNotFound(key)
        tmp = Path(f"{path}.part")
        shutil.copyfile(src, tmp)
        os.replace(tmp, path)

    def local_path(self, key: str) -> Path:
        """The file behind a key (local store only): lets ffmpeg read it without a copy."""
        path = self._path(key)
        if not path.exists():
            raise ObjectNotFound(key)
        return path

    def iter_range(self, key: str, start: int = 0, end: int | None = None) -> Iterator[bytes]:
        try:
            fh = open(self._path(key), "rb")  # noqa: SIM115 - closed by the generator
        except FileNotFoundError:
            raise ObjectNotFound(key) from None

        def gen() -> Iterator[bytes]:
            with fh:
                fh.seek(start)
                remaining = None if end is None else end - start + 1
                while remaining is None or remaining > 0:
                    chunk = fh.read(CHUNK if remaining is None else min(CHUNK, remaining))
                    if not chunk:
                        break
                    if remaining is not None:
                        remaining -= len(chunk)
                    yield chunk

        return gen()

    def delete(self, key: str) -> None:
        with _suppress():
            self._path(key).unlink()

    def delete_prefix(self, prefix: str) -> int:
        """Delete every object under `prefix`, then every directory that this emptied
        (up to, never including, the root); a directory still holding anything stays."""
        check_prefix(prefix)
        items = self.list(prefix)
        emptied: set[Path] = set()
        for info in items:
            self.delete(info.key)
            emptied.update(self._path(info.key).parents)
        base = self.root / prefix.rstrip("/") if prefix.endswith("/") else None
        if base is not None and base.is_dir():
            emptied.update(Path(d) for d, _, _ in os.walk(base))  # folders with no objects
        for folder in sorted(emptied, key=lambda p: len(p.parts), reverse=True):
            if folder.is_relative_to(self.root) and folder != self.root:
                with suppress(OSError):  # not empty (or gone already): kept
                    folder.rmdir()
        return len(items)

    def list(self, prefix: str) -> list[ObjectInfo]:
        check_prefix(prefix)
        start_dir = self.root / prefix.rsplit("/", 1)[0] if "/" in prefix else self.root
        if not start_dir.is_dir():
            return []
        out: list[ObjectInfo] = []
        for dirpath, dirnames, filenames in os.walk(start_dir):
            dirnames[:] = [d for d in dirnames if not d.startswith(".")]
            for fn in filenames:
                if fn.startswith("."):
                    continue
                full = Path(dirpath) / fn
                key = full.relative_to(self.root).as_posix()
                if key.startswith(prefix):
                    info = self._info(key, full)
                    if info is not None:
                        out.append(info)
        return sorted(out, key=lambda i: i.key)

    def _signed(self, method: str, key: str, expires: int, extra: dict | None = None) -> str:
        self._path(key)
        expires_at = int(time.time()) + expires
        filename = (extra or {}).get("filename")
        query = {"exp": expires_at,
                 "sig": sign_local_url(self.url_secret, method, key, expires_at, filename)}
        query.update(extra or {})
        return f"{LOCAL_URL_PREFIX}{quote(key)}?{urlencode(query)}"

    def presign_get(self, key: str, expires: int, filename: str | None = None) -> str:
        return self._signed("GET", key, expires, {"filename": filename} if filename else None)

    def presign_put(self, key: str, content_type: str, expires: int) -> str:
        return self._signed("PUT", key, expires)


@contextmanager
def _suppress():
    with suppress(FileNotFoundError):
        yield

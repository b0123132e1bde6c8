"""The one check of every uploaded video (direct PUT + confirm, the game's fallback upload, a
project clip upload): sniff the first bytes, then a cheap probe as the `verify_upload` job on
the media image (the web image has no av). A failed check removes the object.

Verified videos also carry a receipt: a small `{name}.verified` object next to a game video
with the etag and size the probe saw, so a leaked upload URL cannot swap the bytes later.
"""

from __future__ import annotations

import json
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Protocol

from lib.errors import BadRequest, DomainError, StorageUnavailable
from lib.library.games import NOT_A_VIDEO, SNIFF_BYTES, video_extension
from lib.storage import ObjectInfo, ObjectNotFound, ObjectStore

PROBE_TIMEOUT = 120.0
RECEIPT_SUFFIX = ".verified"


class Caller(Protocol):
    """What the check needs of a job runner (lib.jobs.runner.Runner has it)."""

    def call(self, job_name: str, payload: dict, timeout: float | None = None) -> dict: ...


class VideoChanged(DomainError):
    status = 409


class PayloadTooLarge(DomainError):
    status = 413


def sniff(store: ObjectStore, key: str) -> str:
    """The container extension the object's first bytes announce; BadRequest (object
    removed) when they are no video container."""
    head = b"".join(store.iter_range(key, 0, SNIFF_BYTES - 1))
    ext = video_extension(head)
    if ext is None:
        store.delete(key)
        raise BadRequest(NOT_A_VIDEO)
    return ext


def verify_upload(store: ObjectStore, runner: Caller, key: str) -> dict:
    """Sniff + probe the stored object `key`: {duration, width, height, size, etag}.
    Any refusal deletes the object and raises BadRequest with the probe's sentence."""
    sniff(store, key)
    try:
        result = runner.call("verify_upload", {"key": key}, timeout=PROBE_TIMEOUT)
    except FutureTimeout:
        store.delete(key)
        raise StorageUnavailable("The uploaded video could not be checked in time; "
                                 "try again.") from None
    if result.get("status") != "complete":
        store.delete(key)
        raise BadRequest(result.get("error") or NOT_A_VIDEO)
    return result


def write_receipt(store: ObjectStore, key: str, facts: dict) -> None:
    receipt = {"etag": facts["etag"], "size": facts["size"]}
    store.put_bytes(key + RECEIPT_SUFFIX, json.dumps(receipt).encode(), "application/json")


def check_receipt(store: ObjectStore, key: str) -> ObjectInfo | None:
    """The object is still the one that was verified (no receipt: verified before receipts
    existed, accepted); VideoChanged otherwise. Returns the object's info when it read it,
    so the response need not ask storage again."""
    try:
        data, _ = store.get_bytes(key + RECEIPT_SUFFIX)
    except ObjectNotFound:
        return None
    receipt = json.loads(data)
    info = store.head(key)
    if info is None or (info.etag, info.size) != (receipt["etag"], receipt["size"]):
        raise VideoChanged("The game video changed after it was verified; upload it again.")
    return info

"""Moving job inputs and outputs between the ObjectStore and local files."""

from __future__ import annotations

import re
from pathlib import Path

from lib.storage.base import ObjectStore


def local_input(store: ObjectStore, key: str, workdir: Path) -> Path:
    """A readable local path for `key`: the file itself for a local store, else a streamed
    download into `workdir` (removed with it). Raises ObjectNotFound."""
    local_path = getattr(store, "local_path", None)
    if callable(local_path):
        return Path(local_path(key))
    name = re.sub(r"[^A-Za-z0-9_.-]", "_", key.rsplit("/", 1)[-1])[-80:] or "input"
    dest = workdir / f"in-{len(list(workdir.glob('in-*')))}-{name}"
    store.download_file(key, dest)
    return dest


def upload_output(store: ObjectStore, key: str, path: Path) -> int:
    """Upload a finished file (only ever called after the file is complete); returns its size."""
    size = path.stat().st_size
    store.upload_file(key, path, content_type="video/mp4")
    return size

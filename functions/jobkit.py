"""What every job body shares: spec coercion, a temp work dir, errors as results, the upload.

A body never raises and never leaves a half-written object: outputs are written under a temp
directory and uploaded only once complete; any failure becomes `{status: "error", error: ...}`.
"""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from lib.errors import DomainError
from lib.jobs.progress import Progress, ProgressSink
from lib.jobs.specs import JobResult
from lib.media import probe, upload_output
from lib.storage.base import ObjectStore

log = logging.getLogger("media.jobs")

R = TypeVar("R", bound=JobResult)
S = TypeVar("S", bound=BaseModel)


def _invalid(err: ValidationError) -> str:
    first = err.errors()[0] if err.errors() else {}
    where = ".".join(str(p) for p in first.get("loc", ())) or "spec"
    return f"The job request is invalid ({where}: {first.get('msg', 'bad value')})."


def run_job(
    result_cls: type[R],
    spec_cls: type[S],
    spec: S | dict[str, Any],
    sink: ProgressSink | None,
    body: Callable[[S, Path, Progress], R],
) -> R:
    """Run `body(spec, workdir, progress)`; turn every failure into an error result."""
    progress = Progress(sink)
    progress(0, "init", "Starting")
    try:
        parsed = spec if isinstance(spec, spec_cls) else spec_cls.model_validate(spec)
        with tempfile.TemporaryDirectory(prefix="rb-media-") as tmp:
            result = body(parsed, Path(tmp), progress)
    except ValidationError as err:
        message = _invalid(err)
    except DomainError as err:
        message = err.message
    except Exception:
        log.exception("media job failed")
        message = "The video could not be processed because of an internal error."
    else:
        progress(100, "complete", "Done")
        return result
    progress(progress.percent, "error", message)
    return result_cls.failure(message)


def publish(
    result_cls: type[R],
    store: ObjectStore,
    key: str,
    path: Path,
    progress: Progress,
    **fields: Any,
) -> R:
    """Probe the finished file, upload it, and describe it in a complete result."""
    info = probe(path)
    progress(96, "upload", "Uploading the video")
    size = upload_output(store, key, path)
    progress(99, "finalizing", "Uploaded")
    return result_cls(
        status="complete",
        output_key=key,
        duration=round(info.duration, 3),
        width=info.display_width,
        height=info.display_height,
        fps=round(info.fps, 3),
        size=size,
        **fields,
    )

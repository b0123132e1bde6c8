"""The runner seam: the web asks for a job by name; a runner executes the job's worker side.

- LocalRunner: the same worker code in this process's threads (bounded concurrency). Default.
- ModalRunner: the Modal functions of this app (`.spawn()`, `FunctionCall.from_id`).
"""

from __future__ import annotations

import contextlib
import logging
import threading
import uuid
from collections.abc import Callable
from concurrent.futures import CancelledError, Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from typing import Protocol

log = logging.getLogger(__name__)

JobHandler = Callable[[str, dict], dict]
_current_call = threading.local()


def current_local_call_id() -> str | None:
    """The LocalRunner call this thread runs (None outside one): the local counterpart of
    `modal.current_function_call_id()`."""
    return getattr(_current_call, "id", None)


@dataclass(frozen=True)
class CallState:
    """What a runner knows of one call: pending | running | complete | error | unknown."""

    status: str
    error: str | None = None
    result: dict | None = None


class Runner(Protocol):
    kind: str

    def spawn(self, job_name: str, payload: dict) -> str: ...

    def status(self, call_id: str) -> CallState: ...

    def cancel(self, call_id: str) -> None: ...

    def call(self, job_name: str, payload: dict, timeout: float | None = None) -> dict: ...


class LocalRunner:
    """Calls are registered per process, not per instance: a new app instance in the same
    process still sees the jobs an earlier one started (their threads are alive), while a
    restarted process knows none (their threads died with it)."""

    kind = "local"
    _calls: dict[str, Future] = {}
    _lock = threading.Lock()
    # Finished calls kept for status(); older ones are forgotten (the job rows already hold
    # their outcome, so a forgotten call can only matter for a job that never finalized).
    KEEP_FINISHED = 1000

    def __init__(self, handler: JobHandler, workers: int = 2):
        self._handler = handler
        self._pool = ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix="job")
        self._call_pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="call")
        self._mine: set[str] = set()
        self._gate = threading.Event()
        self._gate.set()

    def pause(self) -> None:
        """Hold spawned jobs before they start (lets a caller observe queued state)."""
        self._gate.clear()

    def resume(self) -> None:
        self._gate.set()

    def _run(self, job_name: str, payload: dict, call_id: str, gated: bool = True) -> dict:
        if gated:
            self._gate.wait()
        _current_call.id = call_id
        try:
            return self._handler(job_name, payload)
        except Exception:
            log.exception("job %s failed", job_name)
            raise
        finally:
            _current_call.id = None

    def spawn(self, job_name: str, payload: dict) -> str:
        call_id = f"local-{uuid.uuid4().hex}"
        future = self._pool.submit(self._run, job_name, payload, call_id)
        with self._lock:
            self._forget_finished()
            self._calls[call_id] = future
            self._mine.add(call_id)
        return call_id

    def _forget_finished(self) -> None:
        finished = [c for c, f in self._calls.items() if f.done()]
        for call_id in finished[: max(0, len(finished) - self.KEEP_FINISHED)]:
            del self._calls[call_id]
            self._mine.discard(call_id)

    def status(self, call_id: str) -> CallState:
        with self._lock:
            future = self._calls.get(call_id)
        if future is None:
            return CallState("unknown")
        if future.cancelled():
            return CallState("error", "The job was cancelled.")
        if not future.done():
            return CallState("running")
        err = future.exception()
        if err is not None:
            return CallState("error", str(err) or type(err).__name__)
        return CallState("complete", result=future.result())

    def cancel(self, call_id: str) -> None:
        with self._lock:
            future = self._calls.get(call_id)
        if future is not None:
            future.cancel()

    def call(self, job_name: str, payload: dict, timeout: float | None = None) -> dict:
        """A short synchronous job (a probe, a one-off render): its own threads, so queued or
        paused spawned jobs never hold it up."""
        future = self._call_pool.submit(self._run, job_name, payload,
                                        f"local-{uuid.uuid4().hex}", False)
        try:
            return future.result(timeout=timeout)
        except (FutureTimeout, CancelledError):
            future.cancel()
            raise

    def wait_idle(self, timeout: float = 60.0) -> None:
        """Wait for every call this runner spawned to finish (tests and shutdown)."""
        with self._lock:
            futures = [self._calls[c] for c in self._mine if c in self._calls]
        for f in futures:
            with contextlib.suppress(Exception):  # failures are reported through status()
                f.result(timeout=timeout)

    def shutdown(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
        self._call_pool.shutdown(wait=False, cancel_futures=True)


class ModalRunner:
    """Jobs as calls of this app's Modal functions (one function per job body).

    `lookup(call_id)` gives the call's handle (`modal.FunctionCall.from_id` by default; tests
    pass simulated calls that raise what the SDK raises)."""

    kind = "modal"

    def __init__(self, functions: dict, lookup: Callable | None = None):
        self._functions = functions  # job name → modal.Function
        self._lookup = lookup

    def _call(self, call_id: str):
        if self._lookup is not None:
            return self._lookup(call_id)
        import modal

        return modal.FunctionCall.from_id(call_id)

    def _function(self, job_name: str):
        try:
            return self._functions[job_name]
        except KeyError:
            raise ValueError(f"No Modal function runs the {job_name!r} job.") from None

    def spawn(self, job_name: str, payload: dict) -> str:
        return self._function(job_name).spawn(job_name, payload).object_id

    def status(self, call_id: str) -> CallState:
        from modal.exception import FunctionTimeoutError, NotFoundError, OutputExpiredError

        try:
            result = self._call(call_id).get(timeout=0)
        except OutputExpiredError:
            return CallState("unknown")
        except FunctionTimeoutError:  # a TimeoutError too: it must come before "not done"
            return CallState("error", "The export ran past its time limit.")
        except TimeoutError:  # get(timeout=0) on a call not done yet (job TimeoutErrors are
            return CallState("running")  # re-raised as JobTimedOut by worker.handle)
        except NotFoundError:
            return CallState("unknown")
        except Exception as err:  # the job raised: its message is the error
            return CallState("error", str(err) or type(err).__name__)
        return CallState("complete", result=result)

    def cancel(self, call_id: str) -> None:
        self._call(call_id).cancel()

    def call(self, job_name: str, payload: dict, timeout: float | None = None) -> dict:
        return self._function(job_name).remote(job_name, payload)

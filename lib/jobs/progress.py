"""Progress reporting for job bodies: `(percent, phase, message)` callables.

A job body receives any ProgressSink (the runner's, which writes to the ProgressStore) and wraps
it in `Progress`, which keeps percent monotonic within [0, 100] and throttles repeats.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Protocol

from lib.models import ExportPhase

PHASES = tuple(phase.value for phase in ExportPhase)


class ProgressSink(Protocol):
    def __call__(self, percent: float, phase: str, message: str) -> None: ...


class NullProgress:
    """Discards every report."""

    def __call__(self, percent: float, phase: str, message: str) -> None:
        return None


class RecordingProgress:
    """Keeps every report (tests, local debugging)."""

    def __init__(self) -> None:
        self.events: list[tuple[float, str, str]] = []

    def __call__(self, percent: float, phase: str, message: str) -> None:
        self.events.append((percent, phase, message))


class Progress:
    """Monotonic, throttled view of a sink.

    Percent never decreases and stays within [0, 100]. A report with the same phase less than
    `min_interval` seconds after the previous one, and less than `min_step` percent further, is
    dropped; phase changes, `complete` and `error` always go through.
    """

    def __init__(
        self,
        sink: ProgressSink | Callable[[float, str, str], None] | None,
        min_interval: float = 0.5,
        min_step: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.sink = sink or NullProgress()
        self.min_interval = min_interval
        self.min_step = min_step
        self.clock = clock
        self.percent = 0.0
        self.phase: str | None = None
        self._sent_at = -1e18
        self._sent_percent = -1.0

    def __call__(self, percent: float, phase: str, message: str = "") -> None:
        if phase not in PHASES:
            raise ValueError(f"Unknown progress phase {phase!r}.")
        percent = min(100.0, max(self.percent, float(percent)))
        now = self.clock()
        force = phase != self.phase or phase in ("complete", "error")
        if (
            not force
            and now - self._sent_at < self.min_interval
            and percent - self._sent_percent < self.min_step
        ):
            self.percent = percent
            return
        self.percent, self.phase = percent, phase
        self._sent_at, self._sent_percent = now, percent
        self.sink(round(percent, 1), phase, message)

    def span(self, start: float, end: float, phase: str) -> Callable[[float, str], None]:
        """A reporter mapping a fraction in [0, 1] onto [start, end] percent of `phase`."""

        def report(fraction: float, message: str = "") -> None:
            fraction = min(1.0, max(0.0, fraction))
            self(start + (end - start) * fraction, phase, message)

        return report

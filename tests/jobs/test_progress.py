"""lib.jobs.progress: monotonic, throttled progress reports."""

from __future__ import annotations

import pytest

from lib.jobs.progress import Progress, RecordingProgress


def test_percent_is_monotonic_clamped_and_throttled():
    sink, now = RecordingProgress(), [0.0]
    progress = Progress(sink, min_interval=0.5, min_step=5, clock=lambda: now[0])
    progress(10, "processing", "a")
    progress(8, "processing", "lower: kept at 10, and throttled")
    progress(12, "processing", "too soon and too small")
    now[0] = 1.0
    progress(13, "processing", "late enough")
    progress(40, "processing", "big step")
    progress(150, "upload", "phase change, clamped")
    progress(20, "complete", "done")
    assert sink.events == [
        (10.0, "processing", "a"),
        (13.0, "processing", "late enough"),
        (40.0, "processing", "big step"),
        (100.0, "upload", "phase change, clamped"),
        (100.0, "complete", "done"),
    ]


def test_span_maps_fractions_and_unknown_phase_is_refused():
    sink = RecordingProgress()
    progress = Progress(sink, min_interval=0, min_step=0)
    report = progress.span(10, 50, "processing")
    report(0.5, "half")
    report(2.0, "over")
    assert sink.events == [(30.0, "processing", "half"), (50.0, "processing", "over")]
    with pytest.raises(ValueError):
        progress(60, "thinking", "")

"""lib.timeline.segments: trim + speed segments and the working <-> source time mapping (§3)."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lib.timeline.segments import SegmentError, parse_segments, parse_trim


def test_whole_clip_when_no_data():
    plan = parse_segments(None, 10.0)
    assert plan.duration == 10.0 and plan.is_identity
    assert plan.to_source(3.25) == 3.25 and plan.to_working(3.25) == 3.25


def test_editor_example_with_speeds_and_trim():
    data = {"boundaries": [0, 6.5, 15], "segmentSpeeds": {"1": 0.5},
            "trimRange": {"start": 1.2, "end": 15}}
    plan = parse_segments(json.dumps(data), 15.02)  # stream a frame longer than the editor
    assert [(s.start, s.end, s.speed) for s in plan.segments] == [
        (1.2, 6.5, 1.0), (6.5, 15.02, 0.5)]
    assert plan.duration == pytest.approx(5.3 + 8.52 / 0.5)
    assert plan.to_source(0) == pytest.approx(1.2)
    assert plan.to_source(5.3 + 2.0) == pytest.approx(7.5)  # 2 s into the 0.5x part
    assert plan.to_working(7.5) == pytest.approx(7.3)
    assert plan.to_working(1.0) is None  # trimmed out


def test_speeds_up_to_eight_and_tuple_trim():
    plan = parse_segments({"boundaries": [0, 2, 4], "segmentSpeeds": {"0": 2, "1": 8},
                           "trimRange": [1, 3]}, 4)
    assert plan.duration == pytest.approx(1 / 2 + 1 / 8)
    assert parse_trim([1, 3]) == (1.0, 3.0) and parse_trim(None) is None


def test_clip_level_trim_used_when_segments_have_none():
    plan = parse_segments({"boundaries": [0, 5]}, 5.0, trim_range={"start": 1, "end": 2})
    assert plan.duration == pytest.approx(1.0)


@pytest.mark.parametrize("data", [
    {"trimRange": {"start": 3, "end": 3}},
    {"trimRange": {"start": 4, "end": 2}},
    {"trimRange": {"start": 12, "end": 20}},
])
def test_zero_length_trim_is_an_error(data):
    with pytest.raises(SegmentError, match="trim range is empty"):
        parse_segments(data, 10.0)


@pytest.mark.parametrize("speed", [0, -1, 8.5, "fast"])
def test_speed_outside_range_is_an_error(speed):
    with pytest.raises(SegmentError):
        parse_segments({"boundaries": [0, 10], "segmentSpeeds": {"0": speed}}, 10.0)


def test_leading_part_without_boundary_plays_at_1x():
    plan = parse_segments({"boundaries": [2, 4], "segmentSpeeds": {"0": 2}}, 6.0)
    assert [(s.start, s.end, s.speed) for s in plan.segments] == [
        (0.0, 2.0, 1.0), (2.0, 4.0, 2.0), (4.0, 6.0, 1.0)]


segment_data = st.builds(
    lambda cuts, speeds, trim: {
        "boundaries": [0, *sorted(cuts), 10],
        "segmentSpeeds": {str(i): s for i, s in enumerate(speeds)},
        "trimRange": {"start": min(trim), "end": max(trim) + 0.5},
    },
    st.lists(st.floats(0.5, 9.5), max_size=4, unique=True),
    st.lists(st.sampled_from([0.25, 0.5, 1.0, 1.5, 2.0, 3.0, 8.0]), max_size=6),
    st.tuples(st.floats(0, 9), st.floats(0, 9)),
)


@settings(max_examples=80, deadline=None)
@given(segment_data, st.floats(0, 1))
def test_mapping_round_trips_and_is_monotonic(data, u):
    plan = parse_segments(data, 10.0)
    t = u * plan.duration
    src = plan.to_source(t)
    assert plan.source_start - 1e-9 <= src <= plan.source_end + 1e-9
    assert plan.to_working(src) == pytest.approx(t, abs=1e-6)
    assert plan.to_source(min(plan.duration, t + 0.01)) >= src - 1e-9
    expected = sum((s.end - s.start) / s.speed for s in plan.segments)
    assert plan.duration == pytest.approx(expected)

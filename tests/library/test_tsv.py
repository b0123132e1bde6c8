"""The annotation TSV: strict parsing with line numbers, formatting, and the round trip of every
real file through the API (import -> export -> parse)."""

from __future__ import annotations

import pytest

from lib.errors import BadRequest
from lib.library.tsv import HEADER, format_time, format_tsv, parse_time, parse_tsv
from tests.annotate_support import create_game, stored_counts
from tests.conftest import ANNOTATIONS_DIR

TSV_FILES = sorted(ANNOTATIONS_DIR.glob("*.tsv"))


def tsv(*lines: str) -> bytes:
    return ("\n".join([HEADER, *lines]) + "\n").encode()


def as_tuples(parsed) -> list[tuple]:
    return sorted((c.start_time, c.end_time, c.rating, tuple(c.tags), c.name, c.notes)
                  for c in parsed.clips)


def test_real_files_are_found():
    assert len(TSV_FILES) >= 7


@pytest.mark.parametrize("text, seconds", [
    ("0:03", 3.0), ("7:00", 420.0), ("82:13", 4933.0), ("1:02:03", 3723.0), ("10:00:00", 36000.0),
])
def test_parse_time(text, seconds):
    assert parse_time(text) == seconds


@pytest.mark.parametrize("text", ["7", "7:0", "7:60", "7:5x", "-1:00", "1:60:00", "1:2:03", ""])
def test_parse_time_rejects(text):
    assert parse_time(text) is None


def test_format_time_uses_minutes_past_the_hour():
    assert format_time(4933.9) == "82:13"
    assert format_time(3.0) == "0:03"


def test_parse_rows_tags_and_warnings():
    parsed = parse_tsv(tsv(
        "7:00\t5\tGoals,Assist\tGoal\t15.0\tGoal",
        "82:13\t3\tInterception, 1v1 Attack\tNice Steal\t7.5",
        "1:00:00\t1\t\t\t0\tnotes with, comma ",
        "9:00\t2\t1v1 Attack\tx\t4.5\t",
    ))
    a, b, c, d = parsed.clips
    assert (a.start_time, a.end_time, a.rating, a.tags, a.name, a.notes) == (
        420.0, 435.0, 5, ["Goal", "Assist"], "Goal", "Goal")
    assert (b.start_time, b.end_time, b.tags, b.notes) == (
        4933.0, 4940.5, ["Interception", "1v1 Attack"], "")
    assert (c.start_time, c.end_time, c.tags, c.name, c.notes) == (
        3600.0, 3600.0, [], "", "notes with, comma")
    assert d.tags == ["1v1 Attack"]
    assert parsed.warnings == [
        "Tag '1v1 Attack' (lines 3, 5) is not in today's tag list; it was kept as given."]


def test_parse_accepts_bom_crlf_and_blank_lines():
    data = ("\ufeff" + HEADER + "\r\n0:03\t4\tPass\tGood Pass\t6.0\tok\r\n\r\n").encode()
    assert len(parse_tsv(data).clips) == 1


@pytest.mark.parametrize("bad_row, fragment", [
    ("7:0x\t5\tGoal\tGoal\t15.0\tGoal", "start_time '7:0x'"),
    ("7:00\t6\tGoal\tGoal\t15.0\tGoal", "rating '6'"),
    ("7:00\t4.5\tGoal\tGoal\t15.0\tGoal", "rating '4.5'"),
    ("7:00\t0\tGoal\tGoal\t15.0\tGoal", "rating '0'"),
    ("7:00\t5\tGoal\tGoal\t-1\tGoal", "clip_duration '-1'"),
    ("7:00\t5\tGoal\tGoal\tabc\tGoal", "clip_duration 'abc'"),
    ("7:00\t5\tGoal\tGoal", "expected 5 or 6"),
    ("7:00\t5\tGoal\tGoal\t15.0\tGoal\textra", "expected 5 or 6"),
])
def test_malformed_row_rejects_file_naming_the_line(bad_row, fragment):
    with pytest.raises(BadRequest) as err:
        parse_tsv(tsv("0:03\t4\tPass\tGood Pass\t6.0\tok", bad_row))
    assert err.value.message.startswith("Line 3: ")
    assert fragment in err.value.message


@pytest.mark.parametrize("data", [b"", b"start_time\trating\n", b"\xff\xfe\x00bad"])
def test_bad_header_or_encoding(data):
    with pytest.raises(BadRequest):
        parse_tsv(data)


def test_format_sorts_by_end_time_and_keeps_end():
    rows = [
        {"start_time": 61.2, "end_time": 76.2, "rating": 5, "tags": ["Goal"],
         "name": "Brilliant Goal", "notes": "far\tpost\nline"},
        {"start_time": 10.0, "end_time": 20.0, "rating": 3, "tags": [], "name": "", "notes": ""},
    ]
    text = format_tsv(rows)
    lines = text.splitlines()
    assert lines[0] == HEADER
    assert lines[1] == "0:10\t3\t\t\t10.0\t"
    assert lines[2] == "1:01\t5\tGoal\tBrilliant Goal\t15.2\tfar post line"
    back = parse_tsv(text).clips
    assert [c.end_time for c in back] == [20.0, pytest.approx(76.2)]


@pytest.mark.parametrize("path", TSV_FILES, ids=lambda p: p.name)
def test_every_real_file_parses(path):
    parsed = parse_tsv(path.read_bytes())
    data_lines = [line for line in path.read_text().splitlines()[1:] if line.strip()]
    assert len(parsed.clips) == len(data_lines)
    ends = [c.end_time for c in parsed.clips]
    assert len(set(ends)) == len(ends)  # one clip per end time: nothing merges on import


def test_round_trip_of_all_files_through_the_api(api):
    """parse -> import -> export -> parse gives the same clips, for every real file."""
    for path in TSV_FILES:
        game = create_game(api, name=path.stem)
        original = parse_tsv(path.read_bytes())
        r = api.client.post(f"/api/games/{game['id']}/annotations/import",
                            files={"file": (path.name, path.read_bytes(),
                                            "text/tab-separated-values")})
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["imported"] == len(original.clips) == body["created"]
        assert body["clip_count"] == len(original.clips)
        assert body["warnings"] == original.warnings
        assert isinstance(body["warnings"], list)
        exported = api.client.get(f"/api/games/{game['id']}/annotations.tsv")
        assert exported.status_code == 200
        assert exported.headers["content-type"].startswith("text/tab-separated-values")
        assert exported.headers["content-disposition"] == (
            'attachment; filename="Vs Carlsbad SC Dec 6.tsv"; '
        'filename*=UTF-8\'\'Vs%20Carlsbad%20SC%20Dec%206.tsv')
        again = parse_tsv(exported.content)
        assert as_tuples(again) == as_tuples(original), path.name
        assert [c.end_time for c in again.clips] == sorted(c.end_time for c in again.clips)
        fives = sum(1 for c in original.clips if c.rating == 5)
        assert stored_counts(api, game["id"])["brilliant_count"] == fives
        assert body["projects_created"] == fives


def test_import_upserts_by_end_time_and_keeps_other_clips(local_api):
    game = create_game(local_api)
    gid = game["id"]
    local_api.client.put(f"/api/games/{gid}/annotations", json=[
        {"start_time": 1, "end_time": 5, "name": "keep me", "tags": [], "notes": "", "rating": 3},
        {"start_time": 3, "end_time": 9, "name": "", "tags": ["Pass"], "notes": "", "rating": 2},
    ])
    data = tsv("0:03\t4\tPossession,Pass\tGreat Control Pass\t6.0\tGreat control")
    r = local_api.client.post(f"/api/games/{gid}/annotations/import",
                              files={"file": ("x.tsv", data)})
    assert r.json()["created"] == 0 and r.json()["updated"] == 1
    annotations = local_api.client.get(f"/api/games/{gid}").json()["annotations"]
    assert [(a["name"], a["rating"], a["tags"]) for a in annotations] == [
        ("keep me", 3, []), ("Great Control Pass", 4, ["Possession", "Pass"])]


def test_import_rejects_malformed_file_with_line(api):
    game = create_game(api)
    data = tsv("0:03\t4\tPass\tGood Pass\t6.0\tok", "0:13\t4\tDribble\tx\tsix\tnope")
    r = api.client.post(f"/api/games/{game['id']}/annotations/import",
                        files={"file": ("bad.tsv", data)})
    assert r.status_code == 400
    assert r.json()["detail"].startswith("Line 3: clip_duration 'six'")
    assert api.client.get(f"/api/games/{game['id']}").json()["annotations"] == []


def test_import_and_export_unknown_game(api):
    r = api.client.post("/api/games/999/annotations/import", files={"file": ("x.tsv", tsv())})
    assert r.status_code == 404
    assert api.client.get("/api/games/999/annotations.tsv").status_code == 404
    r = api.client.post("/api/games/999/annotations/import")
    assert r.status_code == 422

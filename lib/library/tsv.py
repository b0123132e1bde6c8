"""The editor's annotation TSV: parse (strict, with line numbers) and format (sorted by end).

Header `start_time\trating\ttags\tclip_name\tclip_duration\tnotes`; one clip per row with 5 or
6 tab-separated columns (notes optional). `start_time` is `m:ss` (minutes may exceed 59, as in
the real files: `82:13`) or `h:mm:ss`; `rating` an integer 1-5; `tags` comma-separated (long
names map to short ones; names outside today's vocabulary are kept and reported as warnings);
`clip_duration` seconds >= 0, giving `end_time = start_time + clip_duration`.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from lib.errors import BadRequest
from lib.library.annotations import ClipInput
from lib.names import KNOWN_TAGS, normalize_tags

COLUMNS = ("start_time", "rating", "tags", "clip_name", "clip_duration", "notes")
HEADER = "\t".join(COLUMNS)
MAX_BYTES = 2 * 1024 * 1024

_MSS = re.compile(r"^(\d{1,4}):([0-5]\d)$")
_HMMSS = re.compile(r"^(\d{1,3}):([0-5]\d):([0-5]\d)$")
_RATING = re.compile(r"^[1-5]$")
_DURATION = re.compile(r"^\d+(\.\d+)?$")


@dataclass
class TsvParse:
    clips: list[ClipInput] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def parse_time(text: str) -> float | None:
    """Seconds of `m:ss` or `h:mm:ss`, or None if the text is neither."""
    m = _MSS.match(text)
    if m:
        return float(int(m.group(1)) * 60 + int(m.group(2)))
    m = _HMMSS.match(text)
    if m:
        return float(int(m.group(1)) * 3600 + int(m.group(2)) * 60 + int(m.group(3)))
    return None


def format_time(seconds: float) -> str:
    """`m:ss` of the whole seconds (minutes unbounded, like the real files)."""
    total = max(0, math.floor(seconds))
    return f"{total // 60}:{total % 60:02d}"


def _decode(data: bytes | str) -> str:
    if isinstance(data, str):
        return data.lstrip("\ufeff")
    if len(data) > MAX_BYTES:
        raise BadRequest("The TSV file is too large (over 2 MB).")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise BadRequest("The TSV file is not UTF-8 text.") from None


def _row(number: int, line: str) -> tuple[ClipInput, list[str]]:
    cells = line.split("\t")
    if len(cells) not in (5, 6):
        raise BadRequest(f"Line {number}: expected 5 or 6 tab-separated columns, "
                         f"found {len(cells)}.")
    start_text, rating_text, tags_text, name, duration_text = (c.strip() for c in cells[:5])
    notes = cells[5].strip() if len(cells) == 6 else ""
    start = parse_time(start_text)
    if start is None:
        raise BadRequest(f"Line {number}: start_time {start_text!r} is not m:ss or h:mm:ss.")
    if not _RATING.match(rating_text):
        raise BadRequest(f"Line {number}: rating {rating_text!r} is not a whole number 1-5.")
    if not _DURATION.match(duration_text):
        raise BadRequest(f"Line {number}: clip_duration {duration_text!r} is not a number of "
                         "seconds >= 0.")
    raw_tags = [t for t in (p.strip() for p in tags_text.split(",")) if t]
    tags = normalize_tags(raw_tags)
    clip = ClipInput(start_time=start, end_time=start + float(duration_text),
                   rating=int(rating_text), tags=tags, name=name, notes=notes)
    return clip, [t for t in tags if t not in KNOWN_TAGS]


def parse_tsv(data: bytes | str) -> TsvParse:
    """All clips of a TSV file, or BadRequest naming the first bad line (1 = the header)."""
    lines = _decode(data).splitlines()
    if not lines or lines[0].strip() != HEADER:
        raise BadRequest("Line 1: the header must be the columns " + ", ".join(COLUMNS)
                         + " separated by tabs.")
    result = TsvParse()
    unknown: dict[str, list[int]] = {}
    for number, line in enumerate(lines[1:], start=2):
        if not line.strip():
            continue
        clip, strange = _row(number, line)
        result.clips.append(clip)
        for tag in strange:
            unknown.setdefault(tag, []).append(number)
    for tag, numbers in unknown.items():
        where = ", ".join(str(n) for n in numbers)
        result.warnings.append(
            f"Tag {tag!r} (line{'s' if len(numbers) > 1 else ''} {where}) is not in today's "
            "tag list; it was kept as given.")
    return result


def _cell(text: str) -> str:
    return re.sub(r"[\t\r\n]+", " ", text or "").strip()


def format_tsv(rows: Iterable[dict]) -> str:
    """The TSV of clips (dicts with start_time, end_time, rating, tags, name, notes), sorted
    by end time. `start_time` is written in whole seconds and the duration measured from
    there, so the end time survives to the tenth of a second."""
    ordered = sorted(rows, key=lambda r: (r["end_time"], r["start_time"]))
    out = [HEADER]
    for r in ordered:
        start = max(0, math.floor(r["start_time"]))
        duration = max(0.0, round(r["end_time"] - start, 1))
        out.append("\t".join((
            format_time(start),
            str(int(r["rating"])),
            ",".join(_cell(t) for t in r["tags"]),
            _cell(r["name"]),
            f"{duration:.1f}",
            _cell(r["notes"]),
        )))
    return "\n".join(out) + "\n"

"""The one `Content-Disposition` of every download: RFC 6266 from user text.

`filename="..."` carries an ASCII fallback (accents folded, other non-ASCII dropped) for old
clients; `filename*=UTF-8''...` (RFC 8187) the name as the user wrote it. Control and other
non-printing characters are removed first: a `\\x0b` in a header value makes the server close
the connection, and a CR/LF would split the header.
"""

from __future__ import annotations

import unicodedata
from pathlib import PurePosixPath
from urllib.parse import quote

MAX_NAME_CHARS = 200


def clean_filename(name: str) -> str:
    """`name` without control/format/unassigned characters or path separators, trimmed."""
    kept = "".join(" " if c in "/\\" else c for c in name
                   if not unicodedata.category(c).startswith("C"))
    return " ".join(kept.split())[:MAX_NAME_CHARS].strip(" .") or "download"


def _ascii(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return " ".join("".join("_" if c in '"\\%' else c for c in folded).split())


def ascii_fallback(name: str) -> str:
    """An ASCII-only name for `filename=`: accents folded, the rest dropped, no quotes."""
    path = PurePosixPath(name)
    suffix = _ascii(path.suffix) if path.suffix != name else ""
    stem = _ascii(name[: len(name) - len(path.suffix)] if suffix else name).strip(" ._")
    return (stem or "download") + suffix


def content_disposition(filename: str, attachment: bool = True) -> str:
    """`attachment; filename="ascii"; filename*=UTF-8''percent-encoded` (ASCII only)."""
    name = clean_filename(filename)
    disposition = "attachment" if attachment else "inline"
    encoded = quote(name, safe="")
    return f"{disposition}; filename=\"{ascii_fallback(name)}\"; filename*=UTF-8''{encoded}"

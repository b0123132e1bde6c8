"""Ratings, tags and names: rating words/notation, derived clip names, game display names."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any

RATING_WORDS = {5: "Brilliant", 4: "Good", 3: "Interesting", 2: "Unfortunate", 1: "Bad"}
RATING_NOTATION = {5: "!!", 4: "!", 3: "!?", 2: "?", 1: "??"}
# games.{key}_count columns and rating_counts keys, by rating.
RATING_COUNT_KEYS = {5: "brilliant", 4: "good", 3: "interesting", 2: "mistake", 1: "blunder"}
RATING_SCORE = {5: 10, 4: 5, 3: 2, 2: -2, 1: -5}

TAGS_BY_POSITION = {
    "attacker": ["Goal", "Assist", "Dribble", "Movement"],
    "midfielder": ["Pass", "Chance Creation", "Possession", "Transition"],
    "defender": ["Tackle", "Interception", "1v1 Defense", "Build-Up"],
    "goalie": ["Save", "Command", "Distribution", "1v1 Save"],
}
KNOWN_TAGS = frozenset(t for tags in TAGS_BY_POSITION.values() for t in tags)
LONG_TO_SHORT = {
    "Goals": "Goal",
    "Assists": "Assist",
    "Dribbling": "Dribble",
    "Movement Off Ball": "Movement",
    "Passing Range": "Pass",
    "Possession Play": "Possession",
    "Transitions": "Transition",
    "Tackles": "Tackle",
    "Interceptions": "Interception",
    "Build-Up Passing": "Build-Up",
    "Shot Stopping": "Save",
    "Command of Area": "Command",
    "1v1 Saves": "1v1 Save",
}


def short_tag(tag: str) -> str:
    """The short name of a tag; unknown names (e.g. the older `1v1 Attack`) stay as they are."""
    tag = tag.strip()
    return LONG_TO_SHORT.get(tag, tag)


def normalize_tags(tags: Iterable[str] | None) -> list[str]:
    """Short names, order kept, blanks and repeats removed."""
    out: list[str] = []
    for tag in tags or []:
        t = short_tag(str(tag))
        if t and t not in out:
            out.append(t)
    return out


def unknown_tags(tags: Iterable[str]) -> list[str]:
    return [t for t in normalize_tags(tags) if t not in KNOWN_TAGS]


def clamp_rating(rating: int | None) -> int:
    if not rating:
        return 3
    return min(5, max(1, int(rating)))


def derived_clip_name(rating: int | None, tags: Iterable[str] | None) -> str:
    """"{Word} {tag1}, {tag2} and {tagN}"; one tag "{Word} {tag}"; no tags ""."""
    tags = normalize_tags(tags)
    if not tags:
        return ""
    word = RATING_WORDS[clamp_rating(rating)]
    if len(tags) == 1:
        return f"{word} {tags[0]}"
    return f"{word} {', '.join(tags[:-1])} and {tags[-1]}"


def display_clip_name(name: str | None, rating: int | None, tags: Iterable[str] | None) -> str:
    """What the editor shows: the stored name, or the derived one when it is empty."""
    return name or derived_clip_name(rating, tags)


def name_to_store(name: str | None, rating: int | None, tags: Iterable[str] | None,
                  *previous: tuple[int | None, Iterable[str] | None]) -> str:
    """Derived names never freeze: a name equal to the derived name of the clip's current or
    previous (rating, tags) is stored as '' so it keeps following rating and tag changes."""
    name = (name or "").strip()
    if not name:
        return ""
    candidates = [(rating, tags), *previous]
    if any(name == derived_clip_name(r, t) for r, t in candidates):
        return ""
    return name


def _short_date(game_date: str | None) -> str:
    if not game_date:
        return ""
    try:
        d = dt.date.fromisoformat(game_date[:10])
    except ValueError:
        return ""
    return f"{d.strftime('%b')} {d.day}"


def game_display_name(game: Mapping[str, Any]) -> str:
    """A game row's display name: home "Vs {opp} {Mon D}", away "at {opp} {Mon D}",
    tournament "{tournament}: Vs {opp} {Mon D}", else its stored name."""
    name, opponent = game["name"], game["opponent_name"]
    if not opponent:
        return name
    when = _short_date(game["game_date"])
    suffix = f" {when}" if when else ""
    game_type = game["game_type"]
    if game_type == "home":
        return f"Vs {opponent}{suffix}"
    if game_type == "away":
        return f"at {opponent}{suffix}"
    if game_type == "tournament":
        tournament = game["tournament_name"]
        prefix = f"{tournament}: " if tournament else ""
        return f"{prefix}Vs {opponent}{suffix}"
    return name

"""Dates: the period a question asks about ("this week", "since March", "latest", "timeline of") and the dates
articles carry.

Pure functions, standard library only.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta

_MONTHS = {
    m: i
    for i, names in enumerate(
        [
            ("january", "jan"), ("february", "feb"), ("march", "mar"), ("april", "apr"), ("may",), ("june", "jun"),
            ("july", "jul"), ("august", "aug"), ("september", "sep", "sept"), ("october", "oct"),
            ("november", "nov"), ("december", "dec"),
        ],
        1,
    )
    for m in names
}  # fmt: skip
_MONTH_RE = "|".join(sorted(_MONTHS, key=len, reverse=True))
_LATEST = re.compile(r"\b(latest|newest|most recent|recently|currently|now|today|so far|current)\b", re.I)
_TIMELINE = re.compile(
    r"\b(timeline|unfold(?:ed)?|chronolog\w*|sequence of events|what happened (?:with|to|in)|how did .{0,60}\b"
    r"(?:develop|evolve|unfold|progress)|history of)\b",
    re.I,
)
_IN_YEAR = re.compile(r"\b(?:in|during|of|since|after|before)\s+(19\d\d|20\d\d)\b", re.I)
_MONTH_YEAR = re.compile(rf"\b(?:in|during|since|after|before)\s+({_MONTH_RE})\.?(?:\s+(19\d\d|20\d\d))?\b", re.I)
_RELATIVE = re.compile(r"\b(this|last|past)\s+(week|month|year)\b", re.I)


@dataclass(frozen=True)
class TimeHint:
    """What a question says about time: a date range to prefer, and whether it wants the latest or a timeline."""

    start: date | None = None
    end: date | None = None
    latest: bool = False
    timeline: bool = False

    @property
    def has_range(self) -> bool:
        """True when the question names a period."""
        return self.start is not None or self.end is not None


def days_before(day: date, days: int) -> date:
    """``day`` minus ``days``, stopping at the first day of the calendar (a clock or a setting at its far end)."""
    return day - timedelta(days=days) if days < (day - date.min).days else date.min


def _month_start(year: int, month: int) -> date:
    return date(min(max(year, date.min.year), date.max.year), month, 1)


def time_hint(question: str, today: date) -> TimeHint:
    """Read the time expressions of a question ("this week", "in 2019", "since March", "latest", "timeline of")."""
    start: date | None = None
    end: date | None = None
    if m := _RELATIVE.search(question):
        which, unit = m.group(1).lower(), m.group(2).lower()
        span = {"week": 7, "month": 31, "year": 366}[unit]
        if which == "this":
            start = days_before(today, today.weekday()) if unit == "week" else today.replace(day=1)
            if unit == "year":
                start = date(today.year, 1, 1)
        else:
            start = days_before(today, span)
        end = today
    elif m := _MONTH_YEAR.search(question):
        word = m.group(0).split()[0].lower()
        month = _MONTHS[m.group(1).lower()]
        # "since March" with no year means the latest March that has begun.
        year = int(m.group(2)) if m.group(2) else (today.year if month <= today.month else today.year - 1)
        start = _month_start(year, month)
        month_end = (
            date.max
            if start.year == date.max.year and month == 12
            else (_month_start(start.year + (month == 12), month % 12 + 1) - timedelta(days=1))
        )
        if word in {"since", "after"}:
            end = today
        elif word == "before":
            start, end = None, days_before(start, 1)
        else:
            end = month_end
    elif m := _IN_YEAR.search(question):
        year = int(m.group(1))
        word = m.group(0).split()[0].lower()
        start, end = date(year, 1, 1), date(year, 12, 31)
        if word in {"since", "after"}:
            end = today
        elif word == "before":
            start, end = None, date(year - 1, 12, 31)
    return TimeHint(start, end, bool(_LATEST.search(question)), bool(_TIMELINE.search(question)))


def parse_date(value: str | None) -> date | None:
    """The date part of an ISO 8601 date or datetime string, or None."""
    if not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).date()
    except ValueError:
        try:
            return date.fromisoformat(value[:10])
        except ValueError:
            return None


MONTH_NAMES = "January February March April May June July August September October November December".split()


def spoken_date(day: date) -> str:
    """ "2 April 2025": a date as a sentence says it (the same in every locale, unlike ``%B``)."""
    return f"{day.day} {MONTH_NAMES[day.month - 1]} {day.year}"


def in_range(published: str | None, hint: TimeHint) -> bool:
    """True when the article's date falls in the hint's range (undated articles never do)."""
    d = parse_date(published)
    if d is None:
        return False
    return (hint.start is None or d >= hint.start) and (hint.end is None or d <= hint.end)


__all__ = [
    "MONTH_NAMES",
    "TimeHint",
    "days_before",
    "in_range",
    "parse_date",
    "spoken_date",
    "time_hint",
]

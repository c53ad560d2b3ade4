"""What makes news different from manuals: time in questions, stories told by many outlets, links to a sentence.

Pure functions, standard library only.
"""

from __future__ import annotations

import re
import zlib
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from urllib.parse import quote as _pct
from urllib.parse import urlsplit, urlunsplit

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


def in_range(published: str | None, hint: TimeHint) -> bool:
    """True when the article's date falls in the hint's range (undated articles never do)."""
    d = parse_date(published)
    if d is None:
        return False
    return (hint.start is None or d >= hint.start) and (hint.end is None or d <= hint.end)


# ---------------------------------------------------------------------- near-duplicate stories
_SHINGLE_WORDS = 5
_WORDS = re.compile(r"\w+")


def shingles(text: str) -> frozenset[int]:
    """Hashes of the overlapping five-word runs of a text (lower-cased): copies of a story share most of them."""
    words = [w.lower() for w in _WORDS.findall(text)]
    if len(words) < _SHINGLE_WORDS:
        return frozenset({zlib.crc32(" ".join(words).encode())}) if words else frozenset()
    return frozenset(
        zlib.crc32(" ".join(words[i : i + _SHINGLE_WORDS]).encode()) for i in range(len(words) - _SHINGLE_WORDS + 1)
    )


def resemblance(a: frozenset[int], b: frozenset[int]) -> float:
    """How much of the shorter text the longer one contains (1.0: one copy holds the other whole)."""
    if not a or not b:
        return 0.0
    return len(a & b) / min(len(a), len(b))


# ---------------------------------------------------------------------- disagreement
_NUMBER = re.compile(r"(?<![\w.])[-+]?\$?\d[\d,]*(?:\.\d+)?\s?(?:%|percent|billion|million|thousand|bn|m)?", re.I)


def figures(text: str) -> set[str]:
    """The numbers a sentence states, normalised ("1,000" and "1000" are one figure)."""
    out = set()
    for m in _NUMBER.finditer(text):
        raw = m.group(0).lower().replace(",", "").replace(" ", "").replace("percent", "%")
        if re.fullmatch(r"(19|20)\d\d", raw):  # a year is context, not a figure
            continue
        out.add(raw)
    return out


# ---------------------------------------------------------------------- links to the sentence
def _fragment_part(text: str) -> str:
    # Text fragments reserve '-', '&' and ',' as syntax: those must be percent-encoded inside the text.
    return _pct(text, safe="").replace("-", "%2D")


def text_fragment_url(url: str | None, quote_text: str, *, max_words: int = 8) -> str | None:
    """``url#:~:text=…`` that opens the page scrolled to the quote (start,end form for long quotes)."""
    if not url or not url.startswith(("http://", "https://")):
        return url
    base = url.split("#", 1)[0]
    words = quote_text.split()
    if not words:
        return url
    if len(words) <= 2 * max_words:
        frag = _fragment_part(" ".join(words))
    else:
        frag = _fragment_part(" ".join(words[:max_words])) + "," + _fragment_part(" ".join(words[-max_words:]))
    return f"{base}#:~:text={frag}"


_DEFAULT_PORTS = {"http": 80, "https": 443}


def url_key(url: str) -> str | None:
    """What every trivial spelling of one page's URL has in common, or None for anything but an http(s) URL.

    A trailing "/" on the path, a fragment, the case of the scheme and host and a default port make no difference:
    ``https://Example.com:443/a/#top`` and ``https://example.com/a`` have the same key. The query stays.
    """
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS or not parts.hostname:
        return None
    host = parts.hostname if port in (None, _DEFAULT_PORTS[scheme]) else f"{parts.hostname}:{port}"
    return urlunsplit((scheme, host, parts.path.rstrip("/"), parts.query, ""))


__all__ = [
    "TimeHint",
    "figures",
    "in_range",
    "parse_date",
    "resemblance",
    "shingles",
    "text_fragment_url",
    "time_hint",
    "url_key",
]

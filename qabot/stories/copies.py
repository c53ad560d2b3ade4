"""One story in many articles: near-copies of a text (shingles), and the figures that reports of it state.

Pure functions, standard library only.
"""

from __future__ import annotations

import re
import zlib

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


# Disagreement: two reports of one story that state different figures.
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


__all__ = ["figures", "resemblance", "shingles"]

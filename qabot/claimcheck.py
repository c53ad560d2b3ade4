"""The check of an LLM's summary against the quotes: pure functions over text, no I/O (used by ``synthesis``).

A sentence of the reply is kept only when every ``[n]`` it ends with names a quote, every number, month and name in
it is in the quotes it cites, and most of its content words are too, with no run of three that none of them has.
Figures are compared as values after normalising "per cent"/"%", thousands separators and "bn"/"million"; months
by number, whatever the spelling ("Sept.", "September"); names and words case-insensitively, with possessives and
dots ("U.S.") out.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from qabot.dates import MONTH_NAMES
from qabot.models import Dropped, Synthesis
from qabot.text import STOPWORDS

NOT_ANSWERED = "NOT ANSWERED"  # what the LLM is told to reply when the quotes don't answer
MAX_SENTENCES = 2  # what the LLM is asked for; more is not a one-line summary
MAX_SENTENCE_CHARS = 400
# Share of a sentence's content words that must be in the quotes it cites, and the shortest run of content words in
# none of them that drops it: a claim added to a faithful sentence ("…, prompting calls for an inquiry") barely moves
# the share but is such a run, while a paraphrase swaps single words. Both chosen by benchmarks/synthesis_check.py
# on the sample questions (the laxest of the best); news-qa dev reports them (docs/quality.md).
MIN_SUPPORT = 0.5
MAX_UNSUPPORTED_RUN = 3

_MARKER = re.compile(r"\[(\d+)\]")
_MARKER_LIST = re.compile(r"\[(\d+(?:\s*[,;]\s*\d+)+)\]")  # "[1, 2]" is read as "[1][2]"
_SENTENCE_END = re.compile(r"(?:[.!?]+[\"”’)]*(?:\s*\[\d+\])*|(?:\[\d+\])+[.!?]*)(?=\s+[\"“‘(]?[A-Z0-9])")
# Reasoning models (Qwen3, DeepSeek-R1 and the like) may send their thinking before the answer.
_THINKING = re.compile(r"<think>.*?(?:</think>|$)", re.S | re.I)
_LABEL = re.compile(r"^(?:summary|answer)\s*:\s*", re.I)
_ABBREVIATION = re.compile(r"\b(?:Mr|Mrs|Ms|Dr|St|Gen|Sen|Rep|Gov|Inc|Corp|Co|Ltd|Jr|vs|No|[A-Z])\.$")
_REFUSAL = re.compile(
    r"\b(?:do(?:es)?\s*n[o']?t|cannot|can't|can\s+not|fail\s+to)\s+(?:\w+\s+){0,3}(?:answer|say|mention|state|"
    r"address|provide|contain|specify)|\b(?:no|not\s+enough|insufficient)\s+information\b",
    re.I,
)


def is_refusal(reply: str) -> bool:
    """The LLM says the quotes don't answer: the agreed words, or a refusal in its own words without a citation."""
    reply = _THINKING.sub(" ", reply)
    return NOT_ANSWERED.lower() in reply.lower() or (not _MARKER.search(reply) and bool(_REFUSAL.search(reply)))


def split_sentences(reply: str) -> list[str]:
    """The reply's sentences, each with its trailing ``[n]`` markers ("… in 2019 [1]." and "… in 2019. [1]")."""
    text = _THINKING.sub(" ", reply).replace("**", "")
    text = _LABEL.sub("", " ".join(text.split()))
    text = _MARKER_LIST.sub(lambda m: "".join(f"[{n}]" for n in re.split(r"\s*[,;]\s*", m.group(1))), text)
    pieces, start = [], 0
    for m in _SENTENCE_END.finditer(text):
        piece = text[start : m.end()].strip()
        if _ABBREVIATION.search(piece):  # "Mr. Smith" or "U.S. Steel" goes on
            continue
        pieces.append(piece)
        start = m.end()
    rest = text[start:].strip()
    return [p for p in [*pieces, rest] if p]


def check_reply(
    reply: str, quotes: Sequence[str], *, min_support: float = MIN_SUPPORT, max_run: int = MAX_UNSUPPORTED_RUN
) -> Synthesis:
    """The sentences of ``reply`` that pass every check against ``quotes`` (at most two), and those dropped, why."""
    kept: list[str] = []
    cited: list[int] = []
    dropped: list[Dropped] = []
    for sentence in split_sentences(reply):
        cites, why = check_sentence(sentence, quotes, min_support=min_support, max_run=max_run)
        if why is None and len(kept) == MAX_SENTENCES:
            why = f"more than the {MAX_SENTENCES} sentences asked for"
        if why is not None:
            dropped.append(Dropped(sentence, why))
            continue
        kept.append(sentence)
        cited.extend(n for n in cites if n not in cited)
    return Synthesis(" ".join(kept), tuple(cited), tuple(dropped))


def check_sentence(
    sentence: str, quotes: Sequence[str], *, min_support: float = MIN_SUPPORT, max_run: int = MAX_UNSUPPORTED_RUN
) -> tuple[tuple[int, ...], str | None]:
    """The quote numbers ``sentence`` cites, and why it fails (None: every check passed)."""
    cites = tuple(dict.fromkeys(int(n) for n in _MARKER.findall(sentence)))
    claim = " ".join(_MARKER.sub(" ", sentence).split())
    if not cites:
        return cites, "cites no quote"
    if bad := [n for n in cites if not 1 <= n <= len(quotes)]:
        return cites, f"cites [{bad[0]}] but there are {len(quotes)} quotes"
    if len(sentence) > MAX_SENTENCE_CHARS:
        return cites, f"longer than {MAX_SENTENCE_CHARS} characters"
    source = " ".join(quotes[n - 1] for n in cites)
    where = "".join(f"[{n}]" for n in cites)
    have = figures(source)
    if missing := [raw for raw, values in claim_figures(claim) if not values & have]:
        return cites, f"{missing[0]} is not in {where}"
    if missing := sorted(months(claim) - months(source)):
        return cites, f"{MONTH_NAMES[missing[0] - 1]} is not in {where}"
    words = quote_words(source)
    if missing := [name for name in names(claim) if not _name_parts(name) <= words]:
        return cites, f"{missing[0]} is not in {where}"
    content = content_words(claim)
    if not content:
        return cites, "says nothing the quotes could support"
    stems = {_stem(w) for w in words}
    found = [_stem(w) in stems for w in content]
    if len(run := _longest_unsupported(content, found)) >= max_run:
        return cites, f"“{' '.join(run)}” is not in {where}"
    support = sum(found) / len(content)
    if support < min_support:
        return cites, f"only {support:.0%} of its words are in {where}"
    return cites, None


def _longest_unsupported(words: Sequence[str], found: Sequence[bool]) -> list[str]:
    """The longest run of content words none of which is in the quotes (stopwords between them don't break it)."""
    best: list[str] = []
    run: list[str] = []
    for word, ok in zip(words, found, strict=True):
        run = [] if ok else [*run, word]
        best = run if len(run) > len(best) else best
    return best


# ---------------------------------------------------------------------------------------------- what is compared
_SCALES = {"thousand": 1e3, "k": 1e3, "million": 1e6, "mn": 1e6, "m": 1e6, "billion": 1e9, "bn": 1e9, "b": 1e9}
_SCALES |= {"trillion": 1e12, "tn": 1e12}
_NUMBER_WORDS = {
    w: float(i)
    for i, w in enumerate(
        "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen "
        "seventeen eighteen nineteen twenty".split()
    )
}
_FIGURE = re.compile(
    r"(?<![\w.])(\d+(?:\.\d+)?)(?:st|nd|rd|th)?(?:\s*(?:%|per\s*cent\b|percent\b|pct\b))?"
    r"(?:\s?(thousand|million|billion|trillion|mn|bn|tn|k|m|b)\b)?",
    re.I,
)
_NUMBER_WORD = re.compile(r"\b(" + "|".join(_NUMBER_WORDS) + r")\b", re.I)
_MONTH_SPELLINGS = (
    "january jan|february feb|march mar|april apr|may|june jun|july jul|august aug|september sep sept|october oct|"
    "november nov|december dec"
)
_MONTHS = {name: i for i, names in enumerate(_MONTH_SPELLINGS.split("|"), 1) for name in names.split()}
_MONTH = re.compile(r"(?<![\w-])(" + "|".join(m.capitalize() for m in _MONTHS) + r")\b\.?")
_CAPITALISED = re.compile(r"(?<![\w'’.-])[A-Z][\w'’.&-]*")
_WORD = re.compile(r"[A-Za-z][A-Za-z'’-]*")
# Capitalised only because they open the sentence: no name the quotes must hold.
_OPENERS = frozenset(
    "although though despite following since several many however meanwhile instead overall yes its their this "
    "these those there while when where after before both under during last next new according".split()
)
# Compared as figures, so left out of the word count ("87%" in the quote, "87 per cent" in the summary).
_FIGURE_WORDS = frozenset(
    "per cent percent pct percentage thousand million billion trillion mn bn tn".split() + list(_NUMBER_WORDS)
)
_CURRENCY = {"$": "dollar dollars usd", "£": "pound pounds sterling", "€": "euro euros", "¥": "yen yuan"}


def _plain(text: str) -> str:
    return re.sub(r"(?<=\d),(?=\d{3}(?!\d))", "", text.replace("\u00a0", " "))  # 1,200,000 → 1200000


def claim_figures(text: str) -> list[tuple[str, set[float]]]:
    """Each figure of a sentence as written, and the values it may stand for ("1.2bn" is 1.2e9, "three" is 3)."""
    found = []
    for m in _FIGURE.finditer(_plain(text)):
        value = float(m.group(1))
        scale = (m.group(2) or "").lower()
        found.append((m.group(0).strip(), {round(value * _SCALES[scale], 6) if scale else value}))
    # "one" is too often a pronoun to count as a figure
    found += [(m.group(1), {_NUMBER_WORDS[m.group(1).lower()]}) for m in _NUMBER_WORD.finditer(text)]
    return [(raw, values) for raw, values in found if raw.lower() != "one"]


def figures(text: str) -> set[float]:
    """Every value a quote's figures may stand for: each number as written and scaled ("1.2 million": 1.2, 1.2e6)."""
    values: set[float] = set()
    for m in _FIGURE.finditer(_plain(text)):
        value = float(m.group(1))
        values.add(value)
        if m.group(2):
            values.add(round(value * _SCALES[m.group(2).lower()], 6))
    values.update(_NUMBER_WORDS[m.group(1).lower()] for m in _NUMBER_WORD.finditer(text))
    return values


def months(text: str) -> set[int]:
    """Months named in ``text`` ("March", "Mar.", "Sept"), as numbers; "May" opening a sentence is not a month."""
    return {
        _MONTHS[m.group(1).lower()]
        for m in _MONTH.finditer(text)
        if not (m.group(1) == "May" and not text[: m.start()].strip())
    }


def names(sentence: str) -> list[str]:
    """Capitalised words, months and stopwords apart; the first word only when it is no common opener."""
    out = []
    for m in _CAPITALISED.finditer(sentence):
        word = re.sub(r"['’]s$", "", m.group(0)).rstrip(".'’-")
        lower = word.lower()
        if lower in STOPWORDS or _MONTH.fullmatch(word) or word == "I" or not any(ch.isalpha() for ch in word):
            continue
        if m.start() == _first_word_start(sentence) and lower in _OPENERS:
            continue
        out.append(word)
    return out


def _first_word_start(sentence: str) -> int:
    m = re.search(r"\w", sentence)
    return m.start() if m else 0


def _name_parts(name: str) -> set[str]:
    parts = {p for p in name.lower().replace(".", "").split("-") if p and not p.isdigit()}
    return parts or {name.lower()}


def quote_words(text: str) -> set[str]:
    """Lower-cased words of the quotes, dots out ("U.S." is "us"), possessives off, hyphenated ones also split."""
    out: set[str] = set()
    for raw in re.findall(r"[\w'’.&-]+", text):
        word = re.sub(r"['’]s$", "", raw.lower()).replace(".", "").strip("'’-")
        if word:
            out.add(word)
            out.update(p for p in word.split("-") if p)
    for symbol, spelt in _CURRENCY.items():  # "$1.2bn" in the quote supports "1.2 billion dollars"
        if symbol in text:
            out.update(spelt.split())
    return out


def content_words(sentence: str) -> list[str]:
    """The words that carry the claim: not stopwords, not months, three letters or more."""
    words = (re.sub(r"['’]s$", "", w.lower()).strip("'’-") for w in _WORD.findall(sentence))
    return [w for w in words if len(w) >= 3 and w not in STOPWORDS and w not in _MONTHS and w not in _FIGURE_WORDS]


def _stem(word: str) -> str:
    # Enough to match "removed"/"removal"/"removes" and "cuts"/"cut": the check compares, it does not parse.
    word = re.sub(r"(?:ing|ed|es|s|ly|al|ment)$", "", word) if len(word) > 4 else word
    return word[:6]


__all__ = [
    "MAX_SENTENCES",
    "MAX_UNSUPPORTED_RUN",
    "MIN_SUPPORT",
    "NOT_ANSWERED",
    "check_reply",
    "check_sentence",
    "claim_figures",
    "content_words",
    "figures",
    "is_refusal",
    "months",
    "names",
    "quote_words",
    "split_sentences",
]

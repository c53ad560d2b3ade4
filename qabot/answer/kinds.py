"""Whether the quotes found can answer the question at all, beyond how similar they are to it.

Similarity cannot tell "answers it" from "is about the same story": a question about a company's auditor scores
high against any sentence on that company. So before quoting, three checks a reader would make:

- every name in the question (a company, place, person, month) is in an article we quote;
- every number in the question (a year, a figure) is in the best article;
- the kind of answer the question asks for is in a quoted sentence: a sum of money for "how much did it cost", a
  share for "what percentage", a count of the thing counted for "how many workers", a price per unit for "per share".

Each check looks at the question's grammar, never at particular words of an evaluation set (docs/quality.md).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence

from qabot.models import Article, Quote
from qabot.news import parse_date
from qabot.retrieve import STOPWORDS

_NAME = re.compile(r"(?<![\w'’-])[A-Z][\w'’&.-]*")
_NUM = re.compile(r"\d+(?:\.\d+)?")
_MONTHS = "january february march april may june july august september october november december".split()

_MONEY = re.compile(
    r"[$€£¥₹₩₺₽₪]\s?\d|\d\s?(?:dollars?|euros?|pounds?|yen|yuan|rupees?|rubles?|roubles?|cents?|francs?|pesos?|won"
    r"|crores?|lakhs?)\b|\b(?:usd|eur|gbp|jpy|cny|inr|rs\.?)\s?\d|\d(?:\.\d+)?\s?(?:million|billion|trillion|bn)\b",
    re.I,
)
_SHARE = re.compile(
    r"\d\s?(?:%|percent|per cent|pc|percentage points?|basis points?|bps)\b|\d%"
    r"|\b(?:half|a third|a quarter|two-thirds|three-quarters|majority|minority)\b"
    r"|\b(?:\d+|one|two|three|four|five|six|seven|eight|nine|ten) (?:in|out of) (?:\d+|two|three|four|five|six"
    r"|seven|eight|nine|ten)\b",
    re.I,
)
_COUNT = re.compile(
    # Any number but a year: "in 2025" counts nothing.
    r"(?<![\d.])(?!(?:19|20)\d\d(?![\d,]|\.\d))\d"
    r"|\b(?:zero|none|nobody|no one|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|"
    r"fourteen|fifteen|sixteen|seventeen|eighteen|nineteen|twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety|"
    r"hundred|thousand|million|billion|dozens?|hundreds|thousands|millions|half|once|twice)\b",
    re.I,
)
_VERB = r"(?:did|do|does|were|are|was|is|will|would|has|have|had|can|could|should|might|must)"
_HOW_MANY = re.compile(rf"\bhow many ((?:[\w'’-]+ ){{0,6}}?){_VERB}\b", re.I)
# Words that end the counted noun phrase: "how many workers at the plant were..." counts workers.
_PHRASE_END = frozenset("of in at from on for across with who that which whom among to by under over per".split())
_NEAR = 30  # characters between a number and the thing it counts, either side ("38 candidates", "votes: 4.2 million")
# Counted things an answer need not name: "how many people were hurt?" is answered by "two customers were".
_ANY_COUNT = frozenset("people persons individuals others them those these times units items pieces ones".split())
_COST = re.compile(
    r"\bhow much\b.*\b(?:cost|costs|pay|paid|pays|price|spend|spent|offer|offered|worth|earn|earned|salary|fine|"
    r"fined|charge|charged)\b|\bwhat (?:was |is |will be |were )?(?:the )?(?:price|salary|fine|cost)\b(?! of living)",
    re.I,
)
_PERCENT = re.compile(r"\b(?:what|which) (?:share|percentage|percent|proportion|fraction)\b(?! price)", re.I)
_MONEY_OR_SHARE = re.compile(f"{_MONEY.pattern}|{_SHARE.pattern}", re.I)
_FREQUENCY = re.compile(
    r"\bevery\b|\b(?:once|twice|\w+ times) (?:a|an|per|each)\b|\bper (?:second|minute|hour|day|week|month|year)\b"
    r"|\b(?:hourly|daily|nightly|weekly|fortnightly|monthly|quarterly|yearly|annually)\b",
    re.I,
)
_PER_UNIT = re.compile(r"(?<!\bas )\bper (?!cent\b)([a-z]+)", re.I)
# Letters Unicode does not decompose into a base letter and an accent.
_UNFOLDED = str.maketrans({"ł": "l", "Ł": "L", "ı": "i", "ø": "o", "Ø": "O", "ß": "ss", "đ": "d", "Đ": "D",
                           "æ": "ae", "Æ": "AE", "œ": "oe", "Œ": "OE", "þ": "th", "’": "", "'": ""})  # fmt: skip


def unanswerable(
    question: str, articles: dict[str, Article], quotes: Sequence[Quote], kind: AnswerKind | None
) -> str | None:
    """Why ``quotes`` cannot answer ``question`` (one line, for the log), or None when nothing rules them out.

    ``kind`` is ``answer_kind(question)``, which the caller has already worked out to rank the sentences.
    """
    names = question_names(question)
    if names:
        # Checked against the quoted articles' text, which also covers a name the index has never seen; asking the
        # lexical index instead walks its vocabulary, ~15 ms a question at a million chunks.
        quoted = [articles[aid] for aid in dict.fromkeys(q.article_id for q in quotes) if aid in articles]
        missing = absent_names(names, quoted)
        if missing:
            return f"no quoted article mentions {', '.join(missing)}"
    top = articles.get(quotes[0].article_id) if quotes else None
    if top is not None:
        missing_numbers = _absent_numbers(question, top)
        if missing_numbers:
            return f"the best article does not have {', '.join(missing_numbers)}"
    if kind is not None and not any(kind.found_in(q.text) for q in quotes):
        return f"no quoted sentence states {kind.describe()}"
    return None


def question_names(question: str) -> list[str]:
    """Capitalised words that do not start a sentence: the proper names a question asks about.

    A question typed in capitals or in Title Case has no such signal, so it has no names.
    """
    words = re.findall(r"[^\W\d_][\w'’&.-]*", question)
    if len(words) >= 3 and sum(w[0].isupper() for w in words) > 0.8 * len(words):
        return []
    names = []
    for m in _NAME.finditer(question):
        before = question[: m.start()].rstrip()
        if not before or before[-1] in '.?!:;"“(':  # the first word of a sentence is capitalised anyway
            continue
        if m.group(0).lower() not in STOPWORDS:
            names.append(m.group(0))
    return names


def absent_names(names: Iterable[str], articles: Sequence[Article]) -> list[str]:
    """The names none of ``articles`` mentions (title, text, source or author), leniently: case, accents, dots,
    apostrophes, possessives and plurals ignored; a long name may end differently ("Chinese" finds "China")."""
    hay = " ".join(_fold(" ".join(filter(None, (a.title, a.text, a.source, a.author)))) for a in articles)
    return [n for n in names if not all(re.search(p, hay) for p in _name_patterns(n))]


class AnswerKind:
    """What a question asks for: a pattern the answering sentence must hold, and optionally a word beside it."""

    def __init__(self, label: str, pattern: re.Pattern[str], counted: str | None = None, unit: str | None = None):
        self.label, self.pattern, self.counted, self.unit = label, pattern, counted, unit

    def found_in(self, sentence: str) -> bool:
        """True when ``sentence`` states this kind of answer (with the counted thing or unit, when there is one)."""
        low = sentence.lower()
        if not self.pattern.search(sentence):
            return False
        if self.counted and not self._counts_near(low):
            return False
        return not self.unit or re.search(rf"\b(?:per|a|an|each) {re.escape(_stem(self.unit))}", low) is not None

    def _counts_near(self, low: str) -> bool:
        # The number must count the thing: "1,600 workers", "workers numbered 1,600", not "workers ... in 10 years".
        noun = _stem(self.counted or "")
        for m in re.finditer(rf"\b{re.escape(noun)}", low):
            if self.pattern.search(low[max(0, m.start() - _NEAR) : m.start()]) or self.pattern.search(
                low[m.end() : m.end() + _NEAR]
            ):
                return True
        return False

    def describe(self) -> str:
        """E.g. "a count of workers", for the log."""
        what = f"{self.label} of {self.counted}" if self.counted else self.label
        return f"{what} per {self.unit}" if self.unit else what


def answer_kind(question: str) -> AnswerKind | None:
    """The kind of answer the question's wording asks for, or None when any sentence could answer it."""
    per = _PER_UNIT.search(question)
    unit = per.group(1).lower() if per and per.group(1).lower() not in STOPWORDS else None
    if _COST.search(question):
        # A price or pay can also move by a share: "how much did egg prices rise?" - "they rose 8%".
        return AnswerKind("a sum of money", _MONEY_OR_SHARE, unit=unit)
    if _PERCENT.search(question):
        return AnswerKind("a share", _SHARE)
    many = _HOW_MANY.search(question)
    if many:
        return AnswerKind("a count", _COUNT, counted=_counted(many.group(1)))
    if re.search(r"\bhow (?:often|frequently)\b", question, re.I):
        return AnswerKind("a frequency", _FREQUENCY)
    if re.search(r"\bhow (?:many|much)\b|\bby how\b", question, re.I):
        return AnswerKind("a figure", _COUNT, unit=unit)
    return None


def _counted(phrase: str) -> str | None:
    """The thing a "how many" question counts: the last word of its noun phrase, when an answer must name it."""
    words = []
    for w in phrase.lower().split():
        if w in _PHRASE_END:
            break
        words.append(w)
    words = [w for w in words if w not in STOPWORDS and not w.isdigit()]
    if not words or words[-1] in _ANY_COUNT:
        return None
    return words[-1]


def _absent_numbers(question: str, top: Article) -> list[str]:
    numbers = _NUM.findall(question.replace(",", ""))
    if not numbers:
        return []
    hay = set(_NUM.findall(f"{top.title} {top.text} {top.published or ''}".replace(",", "")))
    published = parse_date(top.published)
    # News speaks of next year's plans without naming it ("prices rise in January"): allow that one year.
    ahead = {str(published.year + 1)} if published else set()
    return [n for n in numbers if n not in hay and n not in ahead]


def _fold(text: str) -> str:
    text = text.translate(_UNFOLDED)
    # Accents off by decomposing and keeping ASCII (C speed: a Python pass per character cost ~2 ms an answer).
    if not text.isascii():
        text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return text.lower().replace(".", "")


def _name_patterns(name: str) -> list[str]:
    """Regexes that find ``name`` in folded text: one per hyphenated part ("Israel-Hamas" needs both)."""
    out = []
    for part in re.split(r"[-–]", re.sub(r"['’]s?$", "", name)):
        key = _fold(part)
        if not key:
            continue  # a name in another script: nothing to look for, so it cannot rule an answer out
        month = next((m for m in _MONTHS if len(key) >= 3 and m.startswith(key)), None)
        if month:  # "Sept." and "September" are one month
            out.append(rf"\b(?:{month[:3]}|{month[:4]}|{month})\b")
        elif len(key) <= 3 or key.isdigit():
            out.append(rf"\b{re.escape(key)}\b")  # "US", "EU", "35" as whole words, not inside others
        else:
            # A word that starts like the name: "Americans" finds "American", "Chinese" finds "China".
            out.append(rf"\b{re.escape(key[: max(4, len(key) - 3)])}")
    return out


def _stem(word: str) -> str:
    # Enough to let "workers" match "worker" and "votes" match "voted"/"vote"; not a linguistic stemmer.
    for suffix in ("ies", "es", "s"):
        if word.endswith(suffix) and len(word) > len(suffix) + 2:
            return word[: -len(suffix)]
    return word


__all__ = ["AnswerKind", "absent_names", "answer_kind", "question_names", "unanswerable"]

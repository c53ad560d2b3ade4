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

_NAME = re.compile(r"(?<![\w'’])[A-Z][\w'’&.-]*")
_NUM = re.compile(r"\d+(?:\.\d+)?")
_MONTHS = "january february march april may june july august september october november december".split()

_MONEY = re.compile(
    r"[$€£¥₹]\s?\d|\d\s?(?:dollars|euros|pounds|yen|yuan|rupees|rubles|cents)\b|\b(?:usd|eur|gbp|jpy|cny)\s?\d"
    r"|\d(?:\.\d+)?\s?(?:million|billion|trillion|bn)\b",
    re.I,
)
_SHARE = re.compile(r"\d\s?(?:%|percent|per cent|percentage points?|basis points?|bps)\b|\d%", re.I)
_COUNT = re.compile(
    r"\d|\b(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|twenty|thirty|forty|fifty|hundred|"
    r"thousand|million|billion|dozens?|hundreds|thousands|millions|half|once|twice)\b",
    re.I,
)
_VERB = r"(?:did|do|does|were|are|was|is|will|would|has|have|had|can|could|should|might|must)"
_HOW_MANY = re.compile(rf"\bhow many ((?:[\w'’-]+ ){{0,5}}?){_VERB}\b", re.I)
_COST = re.compile(
    r"\bhow much\b.*\b(?:cost|costs|pay|paid|pays|price|spend|spent|offer|offered|worth|earn|earned|salary|fine|"
    r"fined|charge|charged)\b|\bwhat (?:was |is |will be |were )?(?:the )?(?:price|salary|fine|cost)\b",
    re.I,
)
_PERCENT = re.compile(r"\b(?:what|which) (?:share|percentage|percent|proportion|fraction)\b", re.I)
_ANYONE = frozenset({"people", "persons", "individuals", "others"})
_PER_UNIT = re.compile(r"\bper (?!cent\b)([a-z]+)", re.I)


def unanswerable(question: str, articles: dict[str, Article], quotes: Sequence[Quote]) -> str | None:
    """Why ``quotes`` cannot answer ``question`` (one line, for the log), or None when nothing rules them out."""
    names = question_names(question)
    if names:
        # Checked against the quoted articles' text, which also covers a name the index has never seen; asking the
        # lexical index instead walks its vocabulary, ~15 ms a question at a million chunks.
        quoted = [articles[q.article_id] for q in quotes if q.article_id in articles]
        missing = absent_names(names, quoted)
        if missing:
            return f"no quoted article mentions {', '.join(missing)}"
    top = articles.get(quotes[0].article_id) if quotes else None
    if top is not None:
        missing_numbers = _absent_numbers(question, top)
        if missing_numbers:
            return f"the best article does not have {', '.join(missing_numbers)}"
    kind = answer_kind(question)
    if kind is not None and not any(kind.found_in(q.text) for q in quotes):
        return f"no quoted sentence states {kind.describe()}"
    return None


def question_names(question: str) -> list[str]:
    """Capitalised words after the first word: the proper names a question asks about."""
    first = re.match(r"\W*\w+", question)
    start = first.end() if first else 0
    return [m.group(0) for m in _NAME.finditer(question, start) if m.group(0).lower() not in STOPWORDS]


def absent_names(names: Iterable[str], articles: Sequence[Article]) -> list[str]:
    """The names none of ``articles`` mentions, leniently: any case, accents, dots and possessives ignored."""
    hay = " ".join(_fold(f"{a.title} {a.text}") for a in articles)
    return [n for n in names if _name_key(n) not in hay]


class AnswerKind:
    """What a question asks for: a pattern the answering sentence must hold, and optionally a word beside it."""

    def __init__(self, label: str, pattern: re.Pattern[str], counted: str | None = None, unit: str | None = None):
        self.label, self.pattern, self.counted, self.unit = label, pattern, counted, unit

    def found_in(self, sentence: str) -> bool:
        """True when ``sentence`` states this kind of answer (with the counted thing or unit, when there is one)."""
        low = sentence.lower()
        if not self.pattern.search(sentence):
            return False
        if self.counted and _stem(self.counted) not in low:
            return False
        return not self.unit or re.search(rf"\b(?:per|a|an|each) {re.escape(_stem(self.unit))}", low) is not None

    def describe(self) -> str:
        """E.g. "a count of workers", for the log."""
        what = f"{self.label} of {self.counted}" if self.counted else self.label
        return f"{what} per {self.unit}" if self.unit else what


def answer_kind(question: str) -> AnswerKind | None:
    """The kind of answer the question's wording asks for, or None when any sentence could answer it."""
    per = _PER_UNIT.search(question)
    unit = per.group(1).lower() if per else None
    if _COST.search(question):
        return AnswerKind("a sum of money", _MONEY, unit=unit)
    if _PERCENT.search(question):
        return AnswerKind("a share", _SHARE)
    many = _HOW_MANY.search(question)
    if many and many.group(1).strip():
        # "how many iPhone 16 units did..." counts units; "how many shares of X" counts shares.
        head = re.split(r"\s+of\s+", many.group(1).strip(), maxsplit=1)[0].split()[-1].lower()
        # "How many people were hurt?" is answered by "two customers": only a count is required of people.
        return AnswerKind("a count", _COUNT, counted=None if head in _ANYONE else head)
    if re.search(r"\bhow (?:many|much)\b|\bby how\b", question, re.I):
        return AnswerKind("a figure", _COUNT, unit=unit)
    return None


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
    # Accents off by decomposing and keeping ASCII (C speed: a Python pass per character cost ~2 ms an answer).
    # Other scripts fold to nothing, so a name in them matches anything: the check then errs towards answering.
    if not text.isascii():
        text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return text.lower().replace(".", "")


def _name_key(name: str) -> str:
    # Possessives and plurals: "Turkey's" is in "Turkey", "Americans" in "American voters".
    key = _fold(re.sub(r"(?:['’]s?|(?<=[a-z]{3})s)$", "", name))
    # "Sept." and "September" are one month: articles abbreviate them, questions spell them out, or the reverse.
    for month in _MONTHS:
        if len(key) >= 3 and month.startswith(key[:3]) and month.startswith(key):
            return month[:3]
    return key


def _stem(word: str) -> str:
    # Enough to let "workers" match "worker" and "votes" match "voted"/"vote"; not a linguistic stemmer.
    for suffix in ("ies", "es", "s"):
        if word.endswith(suffix) and len(word) > len(suffix) + 2:
            return word[: -len(suffix)]
    return word


__all__ = ["AnswerKind", "absent_names", "answer_kind", "question_names", "unanswerable"]

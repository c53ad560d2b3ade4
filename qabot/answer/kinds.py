"""What a question asks for, read from its grammar, and whether a sentence or article has it.

Similarity cannot tell "answers it" from "is about the same story": a question about a company's auditor scores
high against any sentence on that company. These are the checks a reader makes before trusting a quote, used as
*features* of the answer scorer (``features.py``), never as vetoes: the fitted model decides how much each weighs.

- the names in the question (a company, place, person, month) and whether an article mentions them;
- the numbers in the question (a year, a figure) and whether an article has them;
- the kind of answer asked for: a sum of money for "how much did it cost", a share for "what percentage", a count
  of the thing counted for "how many workers", a price per unit for "per share", a frequency for "how often", an
  age for "how old", a size for "how big", a time or length for "how long", a sum for "what was its revenue", and
  the wh-kinds (a person or organisation for "who", a date for "when", a place for "where", a cause for "why").

Each check looks at the question's grammar, never at particular words of an evaluation set (docs/quality.md).
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Iterable, Sequence

from qabot.dates import parse_date
from qabot.models import Article
from qabot.text import MONEY, SHARE, STOPWORDS

_NAME = re.compile(r"(?<![\w'’-])[A-Z][\w'’&.-]*")
_NUM = re.compile(r"\d+(?:\.\d+)?")
_MONTHS = "january february march april may june july august september october november december".split()

_COUNT = re.compile(
    # Any number but a year: "in 2025" counts nothing.
    r"(?<![\d.])(?!(?:19|20)\d\d(?![\d,]|\.\d))\d"
    r"|\b(?:zero|none|nobody|no one|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|"
    r"fourteen|fifteen|sixteen|seventeen|eighteen|nineteen|twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety|"
    r"hundred|thousand|million|billion|dozens?|hundreds|thousands|millions|half|once|twice)\b"
    # "the third time": an ordinal counts occurrences
    r"|\b(?:second|third|fourth|fifth|sixth|seventh|eighth|ninth|tenth|\d+(?:st|nd|rd|th)) time\b",
    re.I,
)
_VERB = r"(?:did|do|does|were|are|was|is|will|would|has|have|had|can|could|should|might|must)"
_HOW_MANY = re.compile(rf"\bhow many ((?:[\w'’-]+ ){{0,6}}?){_VERB}\b", re.I)
# Words that end the counted noun phrase: "how many workers at the plant were..." counts workers.
_PHRASE_END = frozenset("of in at from on for across with who that which whom among to by under over per".split())
_NEAR = 30  # characters between a number and the thing it counts, either side ("38 candidates", "votes: 4.2 million")
# Counted things an answer need not name: "how many people were hurt?" is answered by "two customers were".
_PEOPLE = frozenset("worker staff employee member people personnel workforce".split())
_ANY_COUNT = frozenset("people persons individuals others them those these times units items pieces ones".split())
_COST = re.compile(
    r"\bhow much\b.*\b(?:cost|costs|pay|paid|pays|price|spend|spent|offer|offered|worth|earn|earned|salary|fine|"
    r"fined|charge|charged|fee|fare|bill)\b|\bwhat (?:was |is |will be |were )?(?:the )?(?:price|salary|fine|cost|fee|"
    r"fare|bill|ticket price)\b(?! of living)"
    r"|\bwhat (?:did|does|will|would) (?:[\w'’-]+ ){1,5}?(?:cost|pay|charge|earn)\b",
    re.I,
)
# A question about a change, which a share can answer as well as a sum.
_CHANGE = re.compile(
    r"\b(?:rise|rises|rose|risen|rising|fall|falls|fell|fallen|falling|increase[sd]?|decrease[sd]?|drop(?:s|ped)?|"
    r"(?:go|goes|going|gone|went) (?:up|down)|climb(?:s|ed)?|jump(?:s|ed)?|grow|grows|grew|grown|shr[iau]nk|"
    r"cut|cuts|raise[sd]?|hike[sd]?|change[sd]?|more|less|higher|lower)\b",
    re.I,
)
_PERCENT = re.compile(r"\b(?:what|which) (?:share|percentage|percent|proportion|fraction)\b(?! price)", re.I)
_FREQUENCY = re.compile(
    r"\bevery\b|\b(?:once|twice|\w+ times) (?:a|an|per|each)\b|\bper (?:second|minute|hour|day|week|month|year)\b"
    r"|\b(?:hourly|daily|nightly|weekly|fortnightly|monthly|quarterly|yearly|annually)\b"
    r"|\beach (?:day|weekday|weekend|week|month|year|morning|afternoon|evening|night|spring|summer|autumn|fall|"
    r"winter|monday|tuesday|wednesday|thursday|friday|saturday|sunday)\b|\b(?:on )?weekdays\b",
    re.I,
)
_PER_UNIT = re.compile(r"(?<!\bas )\bper (?!cent\b)([a-z]+)", re.I)
# Letters Unicode does not decompose into a base letter and an accent.
_UNFOLDED = str.maketrans({"ł": "l", "Ł": "L", "ı": "i", "ø": "o", "Ø": "O", "ß": "ss", "đ": "d", "Đ": "D",
                           "æ": "ae", "Æ": "AE", "œ": "oe", "Œ": "OE", "þ": "th", "’": "", "'": ""})  # fmt: skip


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


_TITLE_END = re.compile(r"\b(?:Dr|Mr|Mrs|Ms|Prof|St|Gen|Sen|Rep|Gov|Capt|Col|Lt|Sgt)\.$")


def names_capitalised_in(question: str, texts: Iterable[str]) -> list[str]:
    """For a question typed all in lower case, its words that ``texts`` write as names: capitalised past the start
    of a sentence at least four times as often as not ("how old is nadia farrow" asks about Nadia Farrow).

    A question with any capital letter keeps the names its own capitals give (``question_names``), or none.
    """
    if any(c.isupper() for c in question):
        return []
    words = [re.sub(r"['’]s$", "", w) for w in re.findall(r"[^\W\d_][\w'’-]*", question)]
    words = [w for w in dict.fromkeys(words) if len(w) >= 3 and w not in STOPWORDS]
    if not words:
        return []
    capital = dict.fromkeys(words, 0)
    lower = dict.fromkeys(words, 0)
    pattern = re.compile(rf"(?<![\w-])({'|'.join(map(re.escape, words))})(?![\w-])", re.I)
    for text in texts:
        for m in pattern.finditer(text):
            before = text[: m.start()].rstrip()
            if not before or (before[-1] in '.?!:;"“(' and not _TITLE_END.search(before)):
                continue  # a sentence's first word is capitalised anyway ("Dr." ends no sentence)
            key = m.group(1).lower()
            if m.group(1)[0].isupper():
                capital[key] += 1
            else:
                lower[key] += 1
    return [w.capitalize() for w in words if capital[w] and capital[w] >= 4 * lower[w]]


def absent_names(names: Iterable[str], articles: Sequence[Article]) -> list[str]:
    """The names none of ``articles`` mentions (title, text, source or author), leniently: case, accents, dots,
    apostrophes, possessives and plurals ignored; a long name may end differently ("Chinese" finds "China")."""
    hay = " ".join(fold(" ".join(filter(None, (a.title, a.text, a.source, a.author)))) for a in articles)
    return absent_in_folded(names, hay)


def absent_in_folded(names: Iterable[str], folded: str) -> list[str]:
    """``absent_names`` for text already ``fold``-ed: the candidate sentences are folded once per answer."""
    return [n for n in names if not all(p.search(folded) for p in _name_patterns(n))]


class _EitherPattern:
    """Two compiled patterns searched as one (money in any currency, or a share)."""

    def __init__(self, *patterns: re.Pattern[str]) -> None:
        self.patterns = patterns

    def search(self, text: str) -> re.Match[str] | None:
        return next((m for p in self.patterns if (m := p.search(text))), None)


class AnswerKind:
    """What a question asks for: a pattern the answering sentence must hold, and optionally a word beside it."""

    def __init__(
        self,
        label: str,
        pattern: re.Pattern[str] | _EitherPattern,
        counted: str | None = None,
        unit: str | None = None,
    ) -> None:
        self.label, self.pattern, self.counted, self.unit = label, pattern, counted, unit

    def loosely_in(self, sentence: str) -> bool:
        """True when ``sentence`` has this kind of figure at all, whatever it counts ("3,140 members" for workers)."""
        return self.pattern.search(sentence) is not None

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
        # Workers are counted as staff, members or employees as often as by their own name.
        nouns = sorted(_PEOPLE) if noun in _PEOPLE else [noun]
        for m in re.finditer(rf"\b(?:{'|'.join(map(re.escape, nouns))})", low):
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
    if _AGE_Q.search(question):
        return AnswerKind("an age", _AGE)
    if _COST.search(question) or _MONEY_NOUN_Q.search(question):
        # A price or pay that moved can move by a share ("how much did egg prices rise?" - "they rose 8%"); what
        # something cost or paid is a sum: "40 per cent of ticket buyers" does not say what the headline act was paid.
        if _CHANGE.search(question):
            return AnswerKind("a sum of money", _EitherPattern(MONEY, SHARE), unit=unit)
        return AnswerKind("a sum of money", MONEY, unit=unit)
    if _PERCENT.search(question):
        return AnswerKind("a share", SHARE)
    many = _HOW_MANY.search(question)
    if many:
        return AnswerKind("a count", _COUNT, counted=_counted(many.group(1)))
    if re.search(r"\bhow (?:often|frequently)\b", question, re.I):
        return AnswerKind("a frequency", _FREQUENCY)
    if re.search(r"\bhow (?:many|much)\b|\bby how\b", question, re.I):
        return AnswerKind("a figure", _COUNT, unit=unit)
    if _RATE_NOUN_Q.search(question):
        return AnswerKind("a share", SHARE)
    if _SIZE_Q.search(question):
        # "How big is the budget / the cash pile / the raise?": a size is any magnitude, not only a length.
        return AnswerKind("a size", _EitherPattern(MONEY, SHARE, _MEASURE, _COUNT))
    if re.search(r"\bhow long\b", question, re.I):
        # "How long is the contract / the line?": a time or a length, the grammar can't tell which.
        return AnswerKind("a length or duration", _EitherPattern(_MEASURE, _DURATION_MARK, _UNTIL))
    if _MEASURE_Q.search(question) or _SPEED_Q.search(question):
        return AnswerKind("a measure", _MEASURE)
    if re.search(r"\bhow (?:fast|quickly|sharply|steeply)\b", question, re.I):
        return AnswerKind("a rate", _EitherPattern(SHARE, _MEASURE))
    return None


# "How tall / far / deep …" asks for a number with a unit of measure ("1.6 m", "7.4 km", "41.3 °C").
_MEASURE_Q = re.compile(r"\bhow (?:tall|high|far|deep|wide|heavy|hot|cold|warm)\b", re.I)
_SPEED_Q = re.compile(r"\bwhat (?:is|was|are|were|will be) (?:the |its |their )?(?:\w+ )?speed\b", re.I)
_SIZE_Q = re.compile(r"\bhow (?:big|large|small)\b", re.I)
_AGE_Q = re.compile(r"\bhow old\b|\b(?:what|which) age\b", re.I)
# An age as news writes it: "54-year-old", "aged 54", "Okoro, 54, said", "(54)", "54 years old", "born in 1971".
_AGE = re.compile(
    r"\b\d{1,3}[- ]years?[- ]old\b|\baged\s+\d{1,3}\b|\bat (?:the )?age (?:of )?\d{1,3}\b|,\s\d{1,3},"
    r"|\(\d{1,3}\)|\bborn (?:in|on)\b"
    r"|\b(?:twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety)[- ]?\w*[- ]year[- ]old\b",
    re.I,
)
# "What was the firm's revenue?", "What revenue did it report?": a noun that is a sum of money asks for one.
_MONEY_NOUNS = (
    r"(?:revenues?|profits?|budget|debts?|sales|turnover|income|losses|loss|deficit|surplus|valuation|funding|"
    r"wages?|pension|bonus|dividend|tax|rent|prize money|market value|net worth|pay|payout|compensation)"
)
# "What is / was the …", "what will be Caldera's …": the copula questions that name the thing they ask for.
_WHAT_IS = r"\bwhat (?:is|was|were|are|will be) (?:the |its |their )?(?:[\w'’.-]+['’]s )?"
_MONEY_NOUN_Q = re.compile(
    rf"{_WHAT_IS}(?:[\w-]+ ){{0,2}}?{_MONEY_NOUNS}"
    rf"(?! (?:of )?(?:growth|decline|fall|drop|rise|target|forecast|figures?|share|rate|margin))\b"
    rf"|\bwhat {_MONEY_NOUNS} (?:did|does|do|will|would|has|have)\b",
    re.I,
)
# "What is the unemployment rate?", "What was the inflation rate in August?": a rate is a share.
_RATE_NOUN_Q = re.compile(
    rf"{_WHAT_IS}(?:[\w-]+ ){{0,4}}?(?:rates?|inflation|unemployment)\b(?! of (?:change|return))",
    re.I,
)
_UNTIL = re.compile(r"\b(?:until|till|through|to the end of)\b", re.I)
_MEASURE = re.compile(
    r"\d(?:[\d,.]*\d)?\s?(?:°\s?[CF]?|degrees?|k?m\b|cm\b|mm\b|metres?|meters?|kilometres?|kilometers?|miles?|feet|"
    r"foot|ft\b|inch(?:es)?|kg\b|kilos?|kilograms?|tonnes?|tons?|pounds?|lbs?\b|litres?|liters?|hectares?|acres?|"
    r"square|sq\b|storeys?|stories|floors?|km/h|mph)",
    re.I,
)


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


def absent_numbers(question: str, top: Article) -> list[str]:
    """The numbers of the question that ``top`` (title, text, date) does not have."""
    numbers = _NUM.findall(question.replace(",", ""))
    if not numbers:
        return []
    hay = set(_NUM.findall(f"{top.title} {top.text} {top.published or ''}".replace(",", "")))
    published = parse_date(top.published)
    # News speaks of next year's plans without naming it ("prices rise in January"): allow that one year.
    ahead = {str(published.year + 1)} if published else set()
    return [n for n in numbers if n not in hay and n not in ahead]


# ---------------------------------------------------------------------- wh-kinds
# What "who / when / where / why / how long" ask for, and the surface marks of such an answer in a sentence.
_WH = (
    ("reason", re.compile(r"\bwhy\b|\bwhat (?:caused|led to|prompted|triggered|drove)\b|\bfor what reason\b"
                          r"|\bhow come\b", re.I)),
    ("duration", re.compile(r"\bhow long\b|\bfor how many (?:years|months|weeks|days|hours)\b", re.I)),
    ("year", re.compile(r"\b(?:what|which) year\b", re.I)),
    ("date", re.compile(r"\bwhen\b|\b(?:what|which) (?:year|month|day|date|time)\b|\bwhat time\b", re.I)),
    ("place", re.compile(r"\bwhere\b|\b(?:what|which|in which|in what) (?:city|country|town|state|region|place|"
                         r"province|island|village|county|venue)\b", re.I)),
    ("person", re.compile(r"\bwho(?:m|se)?\b|\b(?:what|which) (?:company|firm|bank|group|team|club|person|minister|"
                          r"official|party|agency|airline|country|nation|organi[sz]ation|carmaker|manufacturer)\b",
                          re.I)),
)  # fmt: skip
_DATE_MARK = re.compile(
    rf"\b(?:{'|'.join(_MONTHS)}|jan|feb|mar|apr|jun|jul|aug|sept?|oct|nov|dec)\b\.?|\b(?:1[89]|20)\d\d\b"
    r"|\b(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday|yesterday|today|tonight|tomorrow)\b"
    r"|\b(?:last|next|this|earlier this|later this) (?:week|month|year|spring|summer|autumn|fall|winter)\b"
    r"|\b\d{1,2}[/.]\d{1,2}[/.]\d{2,4}\b|\b\d{1,2}(?::\d\d)?\s?(?:a\.?m\.?|p\.?m\.?)",
    re.I,
)
_YEAR_MARK = re.compile(r"\b(?:1[89]|20)\d\d\b")
_NAME_RUN = re.compile(
    r"(?<![\w'’-])[A-Z][\w'’&.-]*(?:\s+(?:(?:of|de|da|van|von|der|al|bin|la|le)\s+)?[A-Z][\w'’&.-]*)+"
)
_ROLE_NAME = re.compile(
    r"\b(?:by|named|appointed|chief executive|minister|president|head|leader|captain|chair(?:man|woman)?|founder|"
    r"director|judge|coach|mayor|spokesperson|spokesman|spokeswoman)\s+([A-Z][\w'’-]+)"
)
_REASON_MARK = re.compile(
    r"\b(?:because|due to|owing to|thanks to|as a result|result of|caused by|blamed|after|amid|over|since|following|"
    r"so that|in order to|to avoid|to prevent|reason|why|held up by|led to|prompted|driven by|on the grounds)\b",
    re.I,
)
_DURATION_MARK = re.compile(
    r"\b(?:\d+(?:\.\d+)?|a|an|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen|"
    r"fifteen|sixteen|seventeen|eighteen|nineteen|twenty|thirty|forty|fifty|sixty|ninety|several|a few|"
    r"dozens of|hundreds of)[\s-](?:years?|months?|weeks?|days?|hours?|minutes?|decades?|centuries)\b|\bsince\b",
    re.I,
)
_PLACE_MARK = re.compile(r"\b(?:in|at|near|from|to|outside|inside|across)\s+(?:the\s+)?[A-Z][\w'’-]+")


def wh_kind(question: str) -> str | None:
    """"reason", "duration", "year", "date", "place" or "person": what a wh-question asks for, or None."""
    for label, pattern in _WH:
        if pattern.search(question):
            return label
    return None


def states_wh(label: str, sentence: str, question_words: set[str]) -> bool:
    """True when ``sentence`` carries the mark of a ``label`` answer that the question itself does not supply."""
    if label == "reason":
        return _REASON_MARK.search(sentence) is not None
    if label == "duration":
        return _DURATION_MARK.search(sentence) is not None
    if label in ("date", "year"):
        # A date the question already gives ("in 2019") answers nothing; "what year" wants a year, not "Saturday".
        mark = _YEAR_MARK if label == "year" else _DATE_MARK
        return any(m.group(0).lower().rstrip(".") not in question_words for m in mark.finditer(sentence))
    if label == "place":
        return any(m.group(0).split()[-1].lower() not in question_words for m in _PLACE_MARK.finditer(sentence))
    # A person or organisation: a run of two or more capitalised words ("Lockheed Martin", "Judge Pieter Okafor")
    # holding a word the question lacks, or one such word right after "by", a title or a role ("named Okoro"). A
    # lone capital is too common to mean anything: "American officials", "Russian", the name of a weekday.
    for m in _NAME_RUN.finditer(sentence):
        parts = [w.lower() for w in m.group(0).split()]
        if m.start() == 0 and parts[0] in STOPWORDS:
            parts = parts[1:]
        if len(parts) >= 2 and any(w not in question_words and w not in STOPWORDS for w in parts):
            return True
    return any(m.group(1).lower() not in question_words for m in _ROLE_NAME.finditer(sentence))


def fold(text: str) -> str:
    """Lower-cased, accents, apostrophes and dots off: how names are compared."""
    text = text.translate(_UNFOLDED)
    # Accents off by decomposing and keeping ASCII (C speed: a Python pass per character cost ~2 ms an answer).
    if not text.isascii():
        text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return text.lower().replace(".", "")


# Cached: the same few names of a question are looked for in every candidate sentence and article of its answer.
@functools.lru_cache(maxsize=4096)
def _name_patterns(name: str) -> tuple[re.Pattern[str], ...]:
    """Regexes that find ``name`` in folded text: one per hyphenated part ("Israel-Hamas" needs both)."""
    out = []
    for part in re.split(r"[-–]", re.sub(r"['’]s?$", "", name)):
        key = fold(part)
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
    return tuple(re.compile(p) for p in out)


def _stem(word: str) -> str:
    # Enough to let "workers" match "worker" and "votes" match "voted"/"vote"; not a linguistic stemmer.
    for suffix in ("ies", "es", "s"):
        if word.endswith(suffix) and len(word) > len(suffix) + 2:
            return word[: -len(suffix)]
    return word


__all__ = [
    "AnswerKind",
    "absent_in_folded",
    "absent_names",
    "absent_numbers",
    "answer_kind",
    "fold",
    "names_capitalised_in",
    "question_names",
    "states_wh",
    "wh_kind",
]

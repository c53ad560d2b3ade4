#!/usr/bin/env python3
"""Generate a synthetic news corpus with questions, in the news-qa format, for evaluating and tuning the scorer.

Usage (from the repository root)::

    .venv/bin/python benchmarks/generate.py OUT_DIR [--seed N] [--towns N]
    .venv/bin/python benchmarks/generate.py --verify OUT_DIR      # re-check a generated folder

``--towns`` is the number of invented towns PER SPLIT (default 13: about 250 articles, 300 answerable and 78
unanswerable questions); ``--towns 3`` makes a quick fixture of about 60 articles. The output depends only on
``--seed`` and ``--towns`` (stdlib ``random`` seeded with strings, no clock, no environment). Everything is
written in OUT_DIR; nothing is written in the repository.

Files (JSON Lines, UTF-8, ``ensure_ascii=False``):

- ``articles.jsonl`` — ``{"id", "title", "text", "url", "published", "source"}`` plus ``"split"`` (ignored by
  qabot's loaders); paragraphs separated by a blank line; URLs on the reserved ``.invalid`` domain; outlets,
  towns, people and companies are invented.
- ``questions.jsonl`` — answerable questions ``{"id", "question", "answer", "evidence", "article_id",
  "supported": true, "split", "kind"}``: ``evidence`` is one whole sentence of the article (an exact substring of
  its text), ``answer`` an exact substring of ``evidence``. ``kind`` is one of money, count, date, reason, name,
  place, duration, frequency, share, latest. ``latest`` questions ("so far", "now", "latest") carry
  ``older_article_id``: the gold is the NEWER article's sentence. ``also_in`` (optional) lists syndicated copies
  (same title, another outlet) whose text holds the same evidence sentence.
- ``unanswerable.jsonl`` — ``{"id", "question", "kind": "near-miss"|"absent", "split"}``: near misses name a
  town, company, person or event of the corpus but ask for a detail no article about it states (checked: a probe
  word for the detail occurs in no article naming the entity); absent ones ask about invented towns, companies
  and storms that occur nowhere in the corpus (checked).
- ``updates.jsonl`` — ``{"story", "older_id", "newer_id", "figure_old", "figure_new", "evidence_old",
  "evidence_new", "days_later"}``: follow-up reports (same or another outlet, 1–3 days later) in which a figure
  changed (death toll, people evacuated, units recalled, workers on strike, a cost estimate). The two articles are
  one developing story, not two sources that disagree.

Design. Each story type (a public building opening, company results, a strike, a court case, a festival, a council
budget, a storm; a transit project, a football transfer, a product recall, a wildfire, a takeover, a mayoral
election, a new travel route) is a builder that draws values and renders an article from sentence templates: a
generic lead (no asked value in it), usually a generic second sentence, then 4–8 fact sentences and 1–3 filler
sentences, shuffled, so the asked fact nearly always sits in the third sentence or later. Articles are 6–14
sentences. Fact sentences are worded apart from their question paraphrases (Q "Why was the library delayed?",
gold "The work was held up for months by a shortage of structural steel."). Distractors: each town gets two
articles of the same type (two buildings, two transit lines) rendered from the same templates with different
values, its company appears in two story types, and storms/wildfires/strikes share the town's name and words, so
a retriever must find the right sentence rather than the right entity. Some articles are syndicated (same title,
another outlet), and developing stories get a follow-up whose figure changed.

The tune/check split tests generalisation, not template memorisation. Every pool is a pair
``P(tune_variants, check_variants)`` and the two halves are disjoint: story types (so all sentence templates,
titles, leads, fillers and question paraphrases, which live in the builders), towns, companies, people, outlets,
currencies (CHF, GBP, JPY, INR, PLN, ZAR, NOK for tune; EUR, AUD, SEK, TRY, BRL, MXN, USD, CZK for check), date
style ("14 June" vs "June 14"), percent wording ("per cent" vs "percent"), generic fillers and unanswerable
templates. Every rendered template is recorded with its split and generation fails if one is used by both. Both
halves' articles are in one corpus (asked against one index); each article and question belongs to one split.

After writing, the generator re-reads the folder and verifies it (evidence and answer substrings, unique ids,
split balance, counts by kind and split, the sentence index of each evidence sentence — with qabot's own
``split_sentences`` when importable, else a regex — and the 6–14 sentence range), printing a short report.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import random
import re
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

SPLITS = ("tune", "check")
KINDS = ("money", "count", "date", "reason", "name", "place", "duration", "frequency", "share", "latest")
MONTHS = "January February March April May June July August September October November December".split()
WEEKDAYS = "Monday Tuesday Wednesday Thursday Friday Saturday Sunday".split()


def P(tune, check):  # noqa: N802 - a pool: the tune variants and the disjoint check variants
    return {"tune": tune, "check": check}


# ---------------------------------------------------------------------------------------------------- name pools

TOWNS = P(
    "Harwick Varnby Oakhollow Pelling Marrowgate Thistlebury Kelderby Ashcombe Brackenholm Wystan Corrimore "
    "Lowmere Fennick Saltry Greyhaven Durnholt Elsmoor Rookhill Tamsford Quarrendon".split(),
    "Vellstad Moravik Castelbrook Lindhaven Sorbeck Ottermund Brisa Calderon Venmouth Ardenvale Kilnsey Perrault "
    "Solvik Tavistrand Morrow Bay Esker Halvorsund Mirenza Dunquist Selbourne".replace(
        "Morrow Bay", "Morrowbay"
    ).split(),
)
# Places that host no story of their own: plant sites, courts, origins of players, destinations.
EXTRA_PLACES = P(
    "Millbeck Stourham Aldergate Brinscombe Cotterill Penmarsh Westleigh Hollins".split(),
    "Narvik Heights|Sarento|Porth Ellis|Kalmarby|Dunesk|Orvieto Vale|Skarpa|Riverton Cross".split("|"),
)
# Never used in any article: the subjects of "absent" questions.
ABSENT_TOWNS = P(
    "Quillmere Dunraven Stoatley Bramblewick Hexworth Pickering Vale Ormsley Tidewell Glenmarrow Sleaford Moss "
    "Cawdry Fallowmere Ruddock".replace("Pickering Vale", "Pickervale")
    .replace("Sleaford Moss", "Sleamoss")
    .split(),
    "Zandvoort Minor|Kestrava|Orlenbruck|Vasskog|Miralto|Tollund Bay|Sarnesse|Brevik Sound|Calvaro|Ostmark|"
    "Lunetta|Farraday Point|Vindholm".split("|"),
)
ABSENT_COMPANIES = P(
    "Brindlewick Mills|Orchardine Foods|Scaldwell Paper|Tumbrel Glassworks|Hobnail Tools|Mistral Ceramics|"
    "Cobbold Brewing|Wexcombe Textiles".split("|"),
    "Zentara Appliances|Quorvex Devices|Lumivane Electronics|Stelloria Home|Paxtor Mobility|Virelle Components|"
    "Oktavia Systems|Nordwave Ferries".split("|"),
)
ABSENT_STORMS = P(
    "Hector Tamsin Lorcan Agatha Benedikt Orla".split(), "Vesna Ilario Margit Teodor Sunniva Koray".split()
)

FEMALE = frozenset(
    "Anna Greta Ilse Sofia Leni Maren Carla Hana Agnes Clara Lucia Ingrid Yara Elin Nadia Amara Rosa "
    "Selma Ines Marta".split()
)
FIRST = P(
    "Anna Tomas Greta Pieter Ilse Marek Sofia Henrik Leni Oskar Maren Jonas Carla Emil Hana Rafael Agnes Bastian "
    "Clara Dorian".split(),
    "Lucia Idris Mateo Ingrid Kofi Yara Bruno Elin Dario Nadia Felix Amara Viktor Rosa Hugo Selma Ines Teo Marta "
    "Joaquin".split(),
)
LAST = P(
    "Voss Lindqvist Okafor Brandt Haldane Moreau Kowal Ferreira Achterberg Nakamura Quint Dunmore Sandoval Petrov "
    "Rask Whitcombe Albrecht Carrow Ellery Mbatha".split(),
    "Castell Amundsen Ferrante Oyelaran Tremaine Varga Holmberg Esposito Kaplan Duarte Strand Rosendahl Quiroga "
    "Halloran Szabo Marchetti Ekwueme Lindahl Navarro Thorsen".split(),
)
COMPANY_STEMS = P(
    "Kestrel Brannock Orsolo Penwick Halcyon Tarrow Maltby Quillon Ferrowe Draycott Elmwright Corvane Sallow Ivers "
    "Brindle Norcastle Thackery Audley Greaves Hollin Merrow Pendry Ravensby Sturge Wetherall Yarrow".split(),
    "Valtrix Sundral Orvik Meridane Calloway Zephra Lumora Kantara Veltro Solenne Arkwell Novella Trevani Brisk "
    "Castora Heliant Mondrel Ostara Pavona Quintel Rivolta Stavro Tessaro Ulvena Vidora Wrenfield".split(),
)
# Invented company stems beyond the curated ones: prefix + suffix, disjoint syllables per split.
STEM_SYLLABLES = P(
    (
        "Brad Cal Dun Fal Gar Hol Kel Lan Mor Pen Ros Tal Wen Ald Bar".split(),
        "wick more den ford ley ton ham croft stone field".split(),
    ),
    (
        "Vel Zan Orv Kir Sol Tav Mir Nov Riv Ost Pav Lum Cas Tre Vid".split(),
        "ora ex ant ello ium ara ivo enza ix aro".split(),
    ),
)
SECTORS = P(
    "Foods Textiles Paper Tools Ceramics Brewing Glass Furniture".split(),
    "Appliances Electronics Home Mobility Devices Components".split(),
)
OUTLETS = P(
    ["The Northern Ledger", "Daily Meridian", "Coastline Post", "Lowland Wire", "The Weekly Lamp"],
    ["The Evening Lantern", "Capital Signal", "Morning Compass", "Valley Dispatch", "The Harbour Bulletin"],
)
LOCAL_OUTLET = P(["Courier", "Echo", "Chronicle"], ["Gazette", "Herald", "Observer"])
CURRENCY_POOL = P(
    ["CHF", "GBP", "JPY", "INR", "PLN", "ZAR", "NOK"], ["EUR", "AUD", "SEK", "TRY", "BRL", "MXN", "USD", "CZK"]
)
PER_CENT = P(" per cent", " percent")
GENERIC_FILLERS = P(
    [
        "Further details are expected to be published in the coming weeks.",
        "The story has drawn strong reactions on local social media.",
        "Not everyone in the town is convinced, and a petition has been circulating.",
    ],
    [
        "More information will be released later, officials said.",
        "Residents shared their views at a packed public meeting.",
        "Opposition politicians have asked for a full account to be made public.",
    ],
)
CREDIT = P(["This report first appeared in {O}."], ["Originally published by {O}."])
UNANSWERABLE_DECOR = P(["Quick one: ", "I was wondering: "], ["Question: ", "Just curious, "])

# ------------------------------------------------------------------------------------------------------ currencies


@dataclass(frozen=True)
class Cur:
    rate: float  # units per euro, for plausible magnitudes
    code: str
    names: tuple[str, ...]
    sym: str | None = None
    compact: bool = False  # £1.2m, €2.5bn, $3.1tn
    decimals: bool = True


CUR = {
    "CHF": Cur(0.95, "CHF", ("Swiss francs", "francs")),
    "GBP": Cur(0.85, "GBP", ("pounds",), "£", True),
    "JPY": Cur(160, "JPY", ("yen",), "¥", False, False),
    "INR": Cur(90, "INR", ("rupees",), "₹", False, False),
    "PLN": Cur(4.3, "PLN", ("zlotys",), None),
    "ZAR": Cur(20, "ZAR", ("rand",), "R"),
    "NOK": Cur(11.5, "NOK", ("Norwegian kroner", "kroner")),
    "EUR": Cur(1.0, "EUR", ("euros",), "€", True),
    "AUD": Cur(1.65, "AUD", ("Australian dollars",), "A$"),
    "SEK": Cur(11.3, "SEK", ("kronor", "Swedish kronor")),
    "TRY": Cur(35, "TRY", ("lira", "Turkish lira"), "₺", False, False),
    "BRL": Cur(5.8, "BRL", ("reais",), "R$ "),
    "MXN": Cur(19, "MXN", ("pesos", "Mexican pesos")),
    "USD": Cur(1.08, "USD", ("dollars",), "$", True),
    "CZK": Cur(25, "CZK", ("crowns", "Czech crowns"), None, False, False),
}

ONES = (
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen "
    "seventeen eighteen nineteen"
).split()
TENS = "_ _ twenty thirty forty fifty sixty seventy eighty ninety".split()


def words(n: int) -> str:
    if n < 20:
        return ONES[n]
    t, o = divmod(n, 10)
    return TENS[t] + ("-" + ONES[o] if o else "")


WORD_NUM = {words(i): i for i in range(100)}


def words_big(v: float) -> str | None:
    """'forty thousand', 'twelve million', 'four hundred' for round numbers, else None."""
    if v != int(v) or v <= 0:
        return None
    v = int(v)
    for scale, name in ((10**9, " billion"), (10**6, " million"), (1000, " thousand"), (100, " hundred"), (1, "")):
        if v >= scale and v % scale == 0 and v // scale < 100:
            if scale == 100 and v // 100 >= 10:
                continue
            return words(v // scale) + name
    return None


def nice(v: float, sig: int) -> float:
    e = math.floor(math.log10(v)) - sig + 1
    out = round(v / 10**e) * 10**e
    return float(round(out, 6))


def mant(m: float) -> str:
    return f"{round(m, 2):g}"


def plain_number(v: float) -> str:
    if v >= 1e6:
        for scale, name in ((1e12, "trillion"), (1e9, "billion"), (1e6, "million")):
            if v >= scale:
                return f"{mant(v / scale)} {name}"
    if v != int(v):
        return f"{v:,.2f}"
    return f"{int(v):,}"


def money_forms(cur: str, v: float) -> list[tuple[str, str]]:
    """(form, text) pairs for ``v`` units of ``cur``; repeated entries weight the commoner forms."""
    c = CUR[cur]
    num = plain_number(v)
    forms = [(f"name{i}", f"{num} {name}") for i, name in enumerate(c.names)]
    forms.append(("code", f"{c.code} {num}"))
    if c.sym:
        forms += [("sym", f"{c.sym}{num}")] * 2
        if c.compact and v >= 1e6:
            for scale, suf in ((1e12, "tn"), (1e9, "bn"), (1e6, "m")):
                if v >= scale:
                    forms += [("compact", f"{c.sym}{mant(v / scale)}{suf}")] * 2
                    break
    if cur == "INR":
        if v >= 1e7:
            forms += [("crore", f"₹{plain_number(nice(v / 1e7, 3))} crore")] * 3
        elif v >= 1e5:
            forms += [("lakh", f"₹{mant(v / 1e5)} lakh")] * 2
    if cur == "USD" and v < 1e6:
        forms.append(("us", f"US${num}"))
    w = words_big(v)
    if w:
        forms.append(("words", f"{w} {c.names[0]}"))
    return forms


# ------------------------------------------------------------------------------------------------------ the model


@dataclass
class Fact:
    kind: str
    text: str
    answer: str
    qtpls: list[str]
    kw: dict
    askable: bool = True


@dataclass
class Update:
    title: str
    lead: str
    second: list[str]
    changed: Fact  # kind "latest": the new figure
    old: Fact  # the fact in the older article holding the old figure
    extra: list[Fact]
    fillers: list[str]
    days: int
    same_outlet: bool
    story: str


@dataclass
class Draft:
    c: Ctx
    town: Town
    story: str
    kw: dict
    title: str = ""
    lead: str = ""
    second: list[str] = field(default_factory=list)
    facts: list[Fact] = field(default_factory=list)
    fillers: list[str] = field(default_factory=list)
    near: list[tuple[str, str | None, str]] = field(default_factory=list)  # (question, probe, entity)
    update: Update | None = None
    alt_leads: list[str] = field(default_factory=list)

    def say(self, tpls, **kw) -> str:
        return self.c.say(tpls, **{**self.kw, **kw})

    def set_title(self, tpls, **kw):
        self.title = self.say(tpls, **kw)

    def set_lead(self, tpls, **kw):
        leads = list(tpls)
        self.c.r.shuffle(leads)
        self.lead = self.say([leads[0]], **kw)
        self.alt_leads = [self.say([x], **kw) for x in leads[1:]]

    def add_second(self, tpls, **kw):
        self.second += [self.say([t], **kw) for t in tpls]

    def fact(self, kind, sents, qs, answer, **kw) -> Fact:
        f = self.c.make_fact(kind, sents, qs, answer, {**self.kw, **kw})
        self.facts.append(f)
        return f

    def fill(self, tpls, **kw):
        self.fillers += [self.say([t], **kw) for t in tpls]

    def add_near(self, tpls, probe, entity, **kw):
        self.near.append((self.say(tpls, **kw), probe, entity.format(**{**self.kw, **kw})))


@dataclass
class Town:
    name: str
    split: str
    currency: str
    company: str
    outlet: str


# Template fields that name something the question relies on: the article must mention each of them.
ENTITY_KEYS = frozenset("T S Co E who club F C P X Tg O D Pr W".split())


class Ctx:
    """Random state and split-specific pools for one half of the corpus."""

    def __init__(self, seed: int, split: str, used: dict[str, set[str]]):
        self.r = random.Random(f"qabot-generate:{seed}:{split}")
        self.split = split
        self.used = used  # template -> splits
        self.people: set[str] = set()
        self.stems = list(COMPANY_STEMS[split])
        self.r.shuffle(self.stems)
        a, b = STEM_SYLLABLES[split]
        reserved = {x.lower() for pool in (TOWNS, ABSENT_TOWNS, EXTRA_PLACES) for sp in SPLITS for x in pool[sp]}
        more = [x + y for x in a for y in b if (x + y).lower() not in reserved]
        self.r.shuffle(more)
        self.stems = more + self.stems  # pop() takes the curated stems first
        self.towns: list[Town] = []
        self.extra_places = list(EXTRA_PLACES[split])

    # --- templates
    def pool(self, p):
        return p[self.split]

    def pick(self, p):
        return self.r.choice(p[self.split])

    def say(self, tpls, **kw) -> str:
        tpl = self.r.choice(tpls) if isinstance(tpls, (list, tuple)) else tpls
        self.used.setdefault(tpl, set()).add(self.split)
        s = tpl.format(**kw)
        return s[0].upper() + s[1:]

    def make_fact(self, kind, sents, qs, answer, kw) -> Fact:
        s = self.say(sents, **kw)
        ans = answer if answer in s else answer[0].upper() + answer[1:]
        if ans not in s:
            raise AssertionError(f"answer {answer!r} not in {s!r}")
        return Fact(kind, s, ans, list(qs), kw)

    def question(self, f: Fact, text: str) -> str | None:
        """A paraphrase whose named entities all occur in ``text`` (the article), or None."""
        text = text.lower()
        tpls = list(f.qtpls)
        self.r.shuffle(tpls)
        for tpl in tpls:
            names = [str(f.kw[k]).lower() for k in re.findall(r"\{(\w+)\}", tpl) if k in ENTITY_KEYS]
            if all(n in text for n in names):
                return self.decorate(self.say([tpl], **f.kw))
        return None

    def decorate(self, q: str) -> str:
        x = self.r.random()
        if x < 0.12:
            q = q.lower()
        elif x < 0.24:
            q = q.rstrip("?")
        return q

    # --- values
    def person(self) -> str:
        for attempt in range(10_000):
            name = f"{self.pick(FIRST)} {self.pick(LAST)}"
            if attempt > 500:  # pool nearly used up (very many towns): double-barrelled surnames
                name += f"-{self.pick(LAST)}"
            if name not in self.people:
                self.people.add(name)
                return name
        raise RuntimeError("person pool exhausted")

    def unique(self, key: str, options: list[str]) -> str:
        """A value of ``options`` not yet used under ``key`` in this split (numbered once all are used)."""
        seen = self.__dict__.setdefault("_unique", {}).setdefault(key, set())
        free = [o for o in options if o not in seen] or [
            f"{o} {len(seen) // len(options) + 1}"
            for o in options
            if f"{o} {len(seen) // len(options) + 1}" not in seen
        ]
        v = self.r.choice(free)
        seen.add(v)
        return v

    def stem(self) -> str:
        return self.stems.pop()

    def company(self, sectors=None) -> str:
        return f"{self.stem()} {self.r.choice(sectors or self.pool(SECTORS))}"

    def other_place(self, *exclude: str) -> str:
        options = [t.name for t in self.towns if t.name not in exclude] + self.extra_places
        return self.r.choice(options)

    def currency(self, town: Town) -> str:
        return town.currency if self.r.random() < 0.7 else self.pick(CURRENCY_POOL)

    def money(self, town: Town, lo: float, hi: float, price: bool = False) -> str:
        """An amount between ``lo`` and ``hi`` euros' worth, in the town's (or another) currency, in some form."""
        cur = self.currency(town)
        c = CUR[cur]
        v = nice(self.r.uniform(lo, hi) * c.rate, self.r.choice((1, 2, 2, 3)))
        if price and c.decimals and v < 200 and self.r.random() < 0.35:
            v = float(int(v)) + self.r.choice((0.5, 0.9, 0.25))
        return self.r.choice(money_forms(cur, v))[1]

    def money_pair(self, town: Town, lo: float, hi: float, rise: tuple[float, float]) -> tuple[str, str]:
        """An amount and a revised, higher one in the same currency and (where it exists) the same form."""
        cur = self.currency(town)
        v = nice(self.r.uniform(lo, hi) * CUR[cur].rate, self.r.choice((2, 3)))
        v2 = nice(v * self.r.uniform(*rise), 2)
        form, old = self.r.choice([f for f in money_forms(cur, v) if f[0] != "words"])
        new = [t for k, t in money_forms(cur, v2) if k == form] or [t for k, t in money_forms(cur, v2)]
        return old, self.r.choice(new)

    def count(self, lo: int, hi: int, word_ok: bool = True) -> str:
        v = self.r.randint(lo, hi)
        if v > 100:
            v = int(nice(v, self.r.choice((2, 3))))
        if word_ok and v <= 20 and self.r.random() < 0.5:
            return words(v)
        return f"{v:,}"

    def pct(self, lo: int, hi: int) -> str:
        fractions = {10: "a tenth", 20: "a fifth", 25: "a quarter", 33: "a third", 50: "half", 75: "three-quarters"}
        v = self.r.randint(lo, hi)
        near = [k for k in fractions if lo <= k <= hi]
        if near and self.r.random() < 0.25:
            return fractions[self.r.choice(near)]
        if v < 10 and self.r.random() < 0.3:
            return f"{v}.5%" if self.split == "check" else f"{v}.5 per cent"
        return f"{v}%" if self.r.random() < 0.5 else f"{v}{self.pool(PER_CENT)}"

    def duration(self, lo: int, hi: int, unit: str) -> str:
        v = self.r.randint(lo, hi)
        n = words(v) if v <= 20 and self.r.random() < 0.5 else str(v)
        return f"{n} {unit}{'' if v == 1 else 's'}"

    def day(self, d: dt.date, year: bool = False) -> str:
        if self.split == "tune":
            return f"{d.day} {MONTHS[d.month - 1]}" + (f" {d.year}" if year else "")
        return f"{MONTHS[d.month - 1]} {d.day}" + (f", {d.year}" if year else "")

    def month_year(self, d: dt.date) -> str:
        return f"{MONTHS[d.month - 1]} {d.year}"


# ---------------------------------------------------------------------------------------------- tune story types


def building(c: Ctx, t: Town, subj: str, pub: dt.date) -> Draft:
    d = Draft(c, t, "building", dict(T=t.name, S=subj))
    d.set_title(["{T}'s new {S} finally opens", "Doors open at the new {T} {S}", "{T} {S} welcomes its first visitors"])
    d.set_lead(
        [
            "The new {S} in {T} opened to the public this week after years of planning.",
            "{T} celebrated the opening of its long-awaited {S} on Saturday.",
            "After a lengthy wait, residents of {T} finally got their first look inside the new {S}.",
        ]
    )
    d.add_second(
        [
            "Hundreds of people queued outside before the ribbon was cut.",
            "Local officials described it as one of the most important projects in the town's recent history.",
            "The building replaces an older facility that had been closed for several years.",
        ]
    )
    reason = c.r.choice(
        [
            "a shortage of structural steel",
            "flooding of the foundations",
            "the collapse of the main contractor",
            "the discovery of medieval remains under the site",
            "a dispute over the design of the roof",
            "asbestos found in the old structure on the plot",
        ]
    )
    d.fact(
        "reason",
        [
            "The work was held up for months by {reason}.",
            "Builders lost most of a season because of {reason}.",
            "{reason} pushed the schedule back again and again, according to the council.",
        ],
        [
            "Why was the {T} {S} delayed?",
            "What held up the construction of the {S} in {T}?",
            "What caused the delays to {T}'s new {S}?",
            "why did the {T} {S} open late",
        ],
        reason,
        reason=reason,
    )
    late = c.r.choice([c.duration(7, 30, "month"), c.duration(2, 4, "year")])
    d.fact(
        "duration",
        [
            "It opened {late} behind the original schedule.",
            "The opening came {late} later than the date first promised to residents.",
        ],
        [
            "How late did the {T} {S} open?",
            "By how much did the {S} in {T} miss its planned opening?",
            "How long was the delay on the {T} {S}?",
        ],
        late,
        late=late,
    )
    cost = c.money(t, 4e6, 90e6)
    d.fact(
        "money",
        [
            "The final bill came to {cost}, well above the first estimate.",
            "In the end construction cost {cost}.",
            "Council figures put the total cost of the project at {cost}.",
        ],
        [
            "How much did the {T} {S} cost?",
            "What was the final price of {T}'s new {S}?",
            "What did it cost to build the {S} in {T}?",
        ],
        cost,
        cost=cost,
    )
    arch = c.person()
    d.fact(
        "name",
        [
            "The building was designed by {arch}, an architect from {other}.",
            "{arch} drew up the plans after winning a design competition.",
        ],
        [
            "Who designed the new {S} in {T}?",
            "Which architect was behind {T}'s {S}?",
            "who drew up the plans for the {T} {S}",
        ],
        arch,
        arch=arch,
        other=c.other_place(t.name),
    )
    visitors = c.count(800, 16000)
    d.fact(
        "count",
        [
            "More than {n} visitors came through the doors in the first week.",
            "Staff counted {n} visitors in its first seven days.",
        ],
        [
            "How many people visited the {T} {S} in its first week?",
            "How many visitors did {T}'s {S} get during the first week?",
        ],
        visitors,
        n=visitors,
    )
    cap = c.count(150, 1200, word_ok=False)
    d.fact(
        "count",
        ["It has room for {cap} people at a time.", "Fire rules allow up to {cap} people inside at once."],
        ["How many people can the {T} {S} hold?", "What is the capacity of {T}'s new {S}?"],
        cap,
        cap=cap,
    )
    start = dt.date(pub.year - c.r.randint(2, 6), c.r.randint(1, 12), 1)
    when = c.r.choice([str(start.year), c.month_year(start)])
    d.fact(
        "date",
        ["Ground was first broken in {when}.", "Diggers first arrived on the site in {when}."],
        [
            "When did construction of the {T} {S} begin?",
            "In what year did work start on the {S} in {T}?",
            "when was ground broken on the {T} {S}",
        ],
        when,
        when=when,
    )
    old = c.r.choice(
        [
            "bus depot",
            "cattle market",
            "gasworks",
            "railway goods yard",
            "textile mill",
            "police station",
            "timber yard",
        ]
    )
    d.fact(
        "place",
        [
            "It stands on the site of the former {old}.",
            "The building occupies the plot where the old {old} used to be.",
        ],
        [
            "Where was the {T} {S} built?",
            "What used to stand where the {T} {S} is now?",
            "On what site was {T}'s new {S} built?",
        ],
        old,
        old=old,
    )
    d.fill(
        [
            "A café on the ground floor will be run by a local charity.",
            "Opening hours will be extended during the school holidays.",
            "Some neighbours had complained about the noise during construction.",
            "The council said it would publish a full report on the project later in the year.",
            "Around a dozen trees were planted around the entrance.",
        ]
    )
    d.add_near(
        ["How many parking spaces does the new {T} {S} have?", "How many cars can park at the {S} in {T}?"],
        "parking",
        "{T}",
    )
    d.add_near(["What are the Sunday opening hours of the {T} {S}?"], "sunday opening", "{T}")
    return d


def results(c: Ctx, t: Town, pub: dt.date) -> Draft:
    co = t.company
    period, noun = c.r.choice([("first-half", "six months"), ("full-year", "year"), ("third-quarter", "quarter")])
    up = c.r.random() < 0.55
    d = Draft(
        c,
        t,
        "results",
        dict(Co=co, T=t.name, period=period, noun=noun, dirn="rise" if up else "fall", adj="higher" if up else "lower"),
    )
    d.set_title(
        [
            "{Co} reports {period} results",
            "{Co} figures in focus as {period} numbers land",
            "{Co} publishes {period} accounts",
        ]
    )
    d.set_lead(
        [
            "{Co}, the manufacturer based in {T}, published its {period} figures on Tuesday.",
            "Shares in {Co} moved sharply after the {T}-based company released its {period} results.",
            "Investors got a fresh look at the health of {Co} when the group reported its {period} numbers.",
        ]
    )
    d.add_second(
        [
            "Analysts had expected a difficult period for the sector.",
            "The figures were released shortly before the stock market opened.",
        ]
    )
    rev = c.money(t, 40e6, 4e9)
    d.fact(
        "money",
        [
            "Revenue for the period reached {rev}.",
            "Sales over the {noun} totalled {rev}, the company said.",
            "The group took in {rev} in sales.",
        ],
        [
            "How much revenue did {Co} report for the {period} period?",
            "What were {Co}'s {period} sales?",
            "How much did {Co} sell in the {noun}?",
        ],
        rev,
        rev=rev,
    )
    pct = c.pct(3, 40)
    d.fact(
        "share",
        ["Operating profit climbed {pct} compared with a year earlier."]
        if up
        else ["Profit before tax fell {pct} from the same period last year."],
        [
            "By what percentage did {Co}'s profit {dirn}?",
            "How far did profit {dirn} at {Co}?",
            "how big was the change in {Co}'s profit",
        ],
        pct,
        pct=pct,
    )
    reason = c.r.choice(
        [
            "strong demand for its export range",
            "lower energy costs",
            "price increases across its main brands",
            "the takeover of a smaller rival",
        ]
        if up
        else [
            "higher raw material prices",
            "a slump in orders from retailers",
            "the cost of closing an old factory",
            "a weaker currency",
        ]
    )
    d.fact(
        "reason",
        ["The improvement was driven mainly by {reason}."]
        if up
        else ["Management blamed {reason} for the weaker margin."],
        [
            "Why did {Co}'s profit {dirn}?",
            "What explains the change in {Co}'s profits?",
            "what was behind {Co}'s {adj} profit",
        ],
        reason,
        reason=reason,
    )
    ceo = c.person()
    d.fact(
        "name",
        [
            "Chief executive {ceo} told analysts the company was on track.",
            '"We have had a solid {noun}," said {ceo}, who has run the business since {y}.',
        ],
        ["Who runs {Co}?", "Who is the chief executive of {Co}?", "who leads {Co}"],
        ceo,
        ceo=ceo,
        y=pub.year - c.r.randint(2, 12),
    )
    staff = c.count(300, 25000, word_ok=False)
    d.fact(
        "count",
        ["The company employs about {n} people across its sites.", "Its workforce now numbers {n}."],
        ["How many people work for {Co}?", "How many employees does {Co} have?", "How big is {Co}'s workforce?"],
        staff,
        n=staff,
    )
    freq = c.r.choice(
        ["twice a year", "every quarter", "once a year", "four times a year", "every six months", "three times a year"]
    )
    d.fact(
        "frequency",
        ["It pays its dividend {freq}.", "Shareholders receive a payout {freq}."],
        ["How often does {Co} pay a dividend?", "How frequently does {Co} pay its shareholders?"],
        freq,
        freq=freq,
    )
    where = c.other_place(t.name)
    d.fact(
        "place",
        ["The group plans to open a new plant in {where}.", "A new factory will be built near {where} next year."],
        ["Where is {Co} planning to build its new factory?", "Where will {Co}'s new plant be?"],
        where,
        where=where,
    )
    dps = c.money(t, 0.2, 4, price=True)
    d.fact(
        "money",
        ["The board proposed a dividend of {dps} per share."],
        ["What dividend per share did {Co}'s board propose?", "How big is {Co}'s proposed dividend per share?"],
        dps,
        dps=dps,
    )
    d.fill(
        [
            "The shares have had a volatile year.",
            "Borrowing was broadly unchanged.",
            "The company will update investors again at its annual meeting.",
            "Currency movements made comparisons with last year harder.",
        ]
    )
    d.add_near(["Who founded {Co}?", "Who started the company {Co}?"], "founded", "{Co}")
    d.add_near(["How many shops does {Co} run abroad?"], "shops", "{Co}")
    return d


def strike(c: Ctx, t: Town, pub: dt.date) -> Draft:
    emp = c.r.choice(
        [
            t.company,
            t.company,
            f"the {t.name} port authority",
            f"the {t.name} municipal bus company",
            f"the {t.name} general hospital",
        ]
    )
    d = Draft(c, t, "strike", dict(E=emp, T=t.name))
    d.set_title(["Workers walk out at {E}", "Strike hits {E}", "Staff at {E} down tools"])
    d.set_lead(
        [
            "Workers at {E} have walked out in a dispute that shows no sign of ending.",
            "A strike at {E} is disrupting daily life across {T}.",
            "Picket lines went up outside {E} early on Monday morning.",
        ]
    )
    d.add_second(
        [
            "Both sides say they want a deal but accuse each other of refusing to compromise.",
            "Customers have been warned to expect delays.",
        ]
    )
    n = c.count(120, 4000, word_ok=False)
    count_fact = d.fact(
        "count",
        ["Around {n} employees have joined the stoppage.", "The union says {n} of its members are taking part."],
        ["How many workers are on strike at {E}?", "How many staff joined the walkout at {E}?"],
        n,
        n=n,
    )
    pct, pct2 = c.pct(6, 15), c.pct(1, 4)
    d.fact(
        "share",
        ["The union wants a pay rise of {pct}, while management has offered {pct2}."],
        ["What pay rise is the union at {E} demanding?", "How big a raise do the striking workers at {E} want?"],
        pct,
        pct=pct,
        pct2=pct2,
    )
    boss = c.person()
    d.fact(
        "name",
        [
            "{boss}, who leads the local branch of the union, said members were determined.",
            "Union organiser {boss} said the action would continue until a fair offer was made.",
        ],
        ["Who leads the union in the dispute at {E}?", "Who is organising the strike at {E}?"],
        boss,
        boss=boss,
    )
    reason = c.r.choice(
        [
            "plans to scrap the night-shift allowance",
            "a new rota that cuts weekend pay",
            "the dismissal of two safety representatives",
            "a two-year pay freeze",
        ]
    )
    d.fact(
        "reason",
        ["The dispute began over {reason}.", "At the heart of the row is {reason}."],
        ["What is the strike at {E} about?", "Why did workers at {E} walk out?", "what triggered the strike at {E}"],
        reason,
        reason=reason,
    )
    dur = c.r.choice([c.duration(3, 14, "day"), c.duration(2, 3, "week"), "72 hours"])
    d.fact(
        "duration",
        ["The stoppage is planned to last {dur}.", "Members voted for {dur} of action."],
        ["How long will the strike at {E} last?", "For how long have workers at {E} voted to strike?"],
        dur,
        dur=dur,
    )
    freq = c.r.choice(
        [
            "every Tuesday",
            "twice a week",
            "every other day",
            "once a week",
            "every morning",
            "three times a week",
            "every Thursday",
            "each weekday",
        ]
    )
    d.fact(
        "frequency",
        [
            "Negotiators have been meeting {freq} at the offices of a mediation service.",
            "Talks are being held {freq} without a breakthrough.",
        ],
        [
            "How often are the two sides in the dispute at {E} meeting?",
            "How frequently are talks being held in the strike at {E}?",
        ],
        freq,
        freq=freq,
    )
    loss = c.money(t, 50e3, 2e6)
    d.fact(
        "money",
        ["Managers estimate the walkout is costing them {loss} a day."],
        ["How much is the strike costing {E} each day?", "What does the walkout cost {E} per day?"],
        loss,
        loss=loss,
    )
    d.fill(
        [
            "Some services are being covered by managers and agency staff.",
            "A rally is planned in the town centre at the weekend.",
            "Local businesses say they are feeling the effects.",
        ]
    )
    d.add_near(["How much strike pay does the union give workers at {E}?"], "strike pay", "{E}")
    d.add_near(["Which lawyer is advising the union at {E}?"], "lawyer", "{E}")
    if c.r.random() < 0.5:
        n2 = f"{int(n.replace(',', '')) + int(nice(c.r.randint(80, 1500), 2)):,}"
        later = pub + dt.timedelta(days=c.r.randint(1, 3))
        ballot = c.day(later + dt.timedelta(days=c.r.randint(7, 20)))
        kw = dict(E=emp, T=t.name, n2=n2, n=n, ballot=ballot, wd=WEEKDAYS[later.weekday()])
        changed = c.make_fact(
            "latest",
            [
                "The number of staff taking part has grown to {n2}, the union said.",
                "The union said on {wd} that {n2} members had now joined the walkout.",
            ],
            [
                "How many workers are now on strike at {E}?",
                "How many staff have joined the strike at {E} so far?",
                "what is the latest number of strikers at {E}",
            ],
            n2,
            kw,
        )
        extra = [
            c.make_fact(
                "date",
                ["A ballot on further action will be held on {ballot}."],
                ["When will the union at {E} ballot on further action?", "When is the next strike ballot at {E}?"],
                ballot,
                kw,
            )
        ]
        d.update = Update(
            title=c.say(["Strike at {E} grows as more staff join", "More workers join walkout at {E}"], **kw),
            lead=c.say(
                [
                    "The dispute at {E} has widened, with more workers joining the picket lines.",
                    "Support for the strike at {E} is growing, union officials say.",
                ],
                **kw,
            ),
            second=[c.say(["Managers say they remain open to talks."], **kw)],
            changed=changed,
            old=count_fact,
            extra=extra,
            fillers=[
                c.say([x], **kw)
                for x in [
                    "Pickets handed out leaflets to passers-by.",
                    "Neither side would comment on the progress of talks.",
                    "Several local councillors visited the picket line.",
                    "The mood outside the gates was described as calm.",
                ]
            ],
            days=(later - pub).days,
            same_outlet=c.r.random() < 0.5,
            story=f"strike-{slug(emp)}",
        )
    return d


def court(c: Ctx, t: Town, pub: dt.date) -> Draft:
    club = c.r.choice(
        ["rowing club", "cricket club", "allotment society", "brass band", "chess club", "sailing club", "choir"]
    )
    who = c.person()
    d = Draft(c, t, "court", dict(T=t.name, club=club, who=who))
    d.set_title(
        [
            "Former {T} {club} treasurer sentenced",
            "Verdict in {T} {club} fraud case",
            "Judge rules in {T} {club} fraud trial",
        ]
    )
    d.set_lead(
        [
            "A court has delivered its ruling in the case of {who}, a former treasurer of the {T} {club}.",
            "The long-running fraud case against {who}, who kept the accounts of the {T} {club}, reached its "
            "conclusion on Thursday.",
        ]
    )
    d.add_second(
        [
            "Members of the {club} filled the public gallery for the hearing.",
            "The case had divided opinion in the town for more than a year.",
        ]
    )
    dur = c.r.choice(
        [
            c.duration(2, 6, "year"),
            c.duration(14, 30, "month"),
            f"{words(c.r.randint(2, 5))} years and {words(c.r.randint(2, 9))} months",
        ]
    )
    d.fact(
        "duration",
        ["{who} was jailed for {dur}.", "The judge imposed a prison term of {dur}."],
        [
            "How long was the sentence given to the former {club} treasurer in {T}?",
            "How long will {who} spend in prison?",
            "what jail term did {who} get",
        ],
        dur,
        dur=dur,
    )
    amt = c.money(t, 30e3, 900e3)
    d.fact(
        "money",
        [
            "Over a period of years {who} moved {amt} from the club's accounts into a private one.",
            "The court heard that {amt} had gone missing from club funds.",
        ],
        ["How much money did {who} take from the {club}?", "How much went missing from the {T} {club}'s accounts?"],
        amt,
        amt=amt,
    )
    reason = c.r.choice(
        [
            "most of the money had been repaid",
            "the defendant pleaded guilty at the first opportunity",
            "the defendant is the sole carer for a disabled relative",
            "the offences took place during a period of serious illness",
        ]
    )
    d.fact(
        "reason",
        [
            "The judge said the term was shorter than it might have been because {reason}.",
            "A lighter sentence was passed because {reason}, the court heard.",
        ],
        ["Why did {who} receive a shorter sentence?", "Why was the sentence in the {T} {club} fraud reduced?"],
        reason,
        reason=reason,
    )
    judge = c.person()
    d.fact(
        "name",
        [
            "Judge {judge} described the offence as a grave breach of trust.",
            "Passing sentence, Judge {judge} said club members had been betrayed.",
        ],
        ["Which judge sentenced {who}?", "Who was the judge in the {T} {club} fraud case?"],
        judge,
        judge=judge,
    )
    where = c.other_place(t.name)
    d.fact(
        "place",
        [
            "The case was heard at the county court in {where}.",
            "The trial was moved to {where} because of the level of interest in {T}.",
        ],
        ["Where was the {T} {club} fraud case heard?", "In which town was {who} tried?"],
        where,
        where=where,
    )
    wit = c.count(4, 19)
    d.fact(
        "count",
        ["Prosecutors called {wit} witnesses over the course of the trial."],
        ["How many witnesses did the prosecution call against {who}?"],
        wit,
        wit=wit,
    )
    appeal = c.day(pub + dt.timedelta(days=28))
    d.fact(
        "date",
        ["Lawyers for {who} have until {appeal} to lodge an appeal."],
        ["By when must {who} file an appeal?", "What is the deadline for an appeal by {who}?"],
        appeal,
        appeal=appeal,
    )
    d.fill(
        [
            "The {club} has since changed the way it handles its accounts.",
            "Several members said they had struggled to believe the news at first.",
            "The club's committee said it was relieved the case was over.",
        ]
    )
    d.add_near(
        ["How much did the trial of {who} cost?", "What did the prosecution of {who} cost taxpayers?"], "cost", "{who}"
    )
    d.add_near(["How old is {who}?"], "years old", "{who}")
    return d


def festival(c: Ctx, t: Town, pub: dt.date) -> Draft:
    kind = c.r.choice(["Jazz", "Folk", "Lantern", "Cheese", "Kite", "Film", "Street Food", "Harvest"])
    fest = f"{t.name} {kind} Festival"
    d = Draft(c, t, "festival", dict(F=fest, T=t.name))
    d.set_title(["{F} draws the crowds", "Thousands flock to the {F}", "{F} returns for another edition"])
    d.set_lead(
        [
            "The {F} returned this weekend with music, food and packed streets.",
            "Organisers of the {F} declared this year's event a success.",
            "Sunshine and big crowds greeted the {F} this year.",
        ]
    )
    d.add_second(
        [
            "Hotels in the town reported that they were fully booked.",
            "Traders on the main street said it had been their busiest weekend of the year.",
        ]
    )
    n = c.count(3000, 90000, word_ok=False)
    d.fact(
        "count",
        [
            "Organisers estimate that {n} people attended over the weekend.",
            "Attendance reached {n}, according to the tourist office.",
        ],
        [
            "How many people went to the {F}?",
            "What was attendance at this year's {F}?",
            "how big was the crowd at the {F}",
        ],
        n,
        n=n,
    )
    price = c.money(t, 8, 120, price=True)
    d.fact(
        "money",
        ["A day pass cost {price}.", "Tickets for a single day were sold for {price} each."],
        ["How much was a day ticket for the {F}?", "What did a day pass for the {F} cost?"],
        price,
        price=price,
    )
    act = c.r.choice(
        [
            "The Lantern Sisters",
            "Copper Moth",
            "Hollow Pines",
            "The Brass Orchard",
            "Wren & Tide",
            "Silver Harrow",
            "The Quiet Ferns",
            c.person(),
        ]
    )
    d.fact(
        "name",
        ["The closing night was headlined by {act}.", "{act} topped the bill on Saturday night."],
        ["Who headlined the {F}?", "Which act topped the bill at the {F}?"],
        act,
        act=act,
    )
    freq = c.r.choice(
        [
            "every two years",
            "every summer",
            "twice a year",
            "every other year",
            "once a year",
            "every three years",
            "each autumn",
            "every spring",
        ]
    )
    d.fact(
        "frequency",
        ["The festival is held {freq}.", "It takes place {freq}, usually in late summer."],
        ["How often does the {F} take place?", "How often is the {F} held?"],
        freq,
        freq=freq,
    )
    venue = c.r.choice(
        [
            "the grounds of the old castle",
            "the harbour front",
            "Elmfield Park",
            "the market square",
            "the disused railway sheds",
            "the riverside meadows",
        ]
    )
    d.fact(
        "place",
        ["Most events took place in {venue}.", "The main stage was set up in {venue}."],
        ["Where was the main stage of the {F}?", "Where did the {F} take place?"],
        venue,
        venue=venue,
    )
    first = str(pub.year - c.r.randint(5, 60))
    d.fact(
        "date",
        ["The first edition was staged in {y}.", "It was started in {y} by a handful of local musicians."],
        ["When was the first {F}?", "What year did the {F} start?"],
        first,
        y=first,
    )
    dur = c.r.choice([c.duration(3, 10, "day"), "a week", "a fortnight"])
    d.fact(
        "duration",
        ["This year the programme ran for {dur}.", "Events continued for {dur}."],
        ["How long did the {F} last this year?", "For how long did the {F} run?"],
        dur,
        dur=dur,
    )
    sh = c.pct(10, 60)
    d.fact(
        "share",
        [
            "Roughly {sh} of ticket buyers lived outside the region.",
            "{sh} of visitors travelled from outside the region, a survey found.",
        ],
        [
            "What proportion of {F} visitors came from outside the region?",
            "What share of the audience at the {F} was from outside the region?",
        ],
        sh,
        sh=sh,
    )
    d.fill(
        [
            "Extra buses were laid on from the railway station.",
            "Litter pickers worked through the night.",
            "Some residents complained about the noise late in the evening.",
            "Several food stalls sold out before the end of the first day.",
        ]
    )
    d.add_near(["Who headlined the very first {F}?"], None, "{F}")
    d.add_near(["How much did the {F} pay its headline act?"], "fee", "{F}")
    return d


def budget(c: Ctx, t: Town, pub: dt.date) -> Draft:
    d = Draft(c, t, "budget", dict(T=t.name))
    d.set_title(["{T} council approves budget", "{T} sets out its spending plans", "Budget vote in {T}"])
    d.set_lead(
        [
            "{T} council has approved its spending plans for the coming year after a long debate.",
            "Councillors in {T} have signed off next year's budget.",
        ]
    )
    d.add_second(["The debate lasted well into the evening.", "Opposition groups had tabled several amendments."])
    tot = c.money(t, 40e6, 900e6)
    d.fact(
        "money",
        ["The budget totals {tot}.", "Spending next year will amount to {tot}."],
        ["How big is {T}'s budget for next year?", "How much will {T} council spend next year?"],
        tot,
        tot=tot,
    )
    tax = c.pct(2, 9)
    d.fact(
        "share",
        ["Local property tax will go up by {tax}.", "Households face a {tax} increase in the property tax."],
        ["How much will property tax rise in {T}?", "By what percentage is {T} raising its property tax?"],
        tax,
        tax=tax,
    )
    sch = c.pct(20, 45)
    d.fact(
        "share",
        ["Schools will receive {sch} of the money.", "Education takes {sch} of the total."],
        ["What share of {T}'s budget goes to schools?", "how much of the {T} budget is for education"],
        sch,
        sch=sch,
    )
    reason = c.r.choice(
        [
            "the cost of caring for elderly residents has soared",
            "a government grant was cut",
            "energy bills for public buildings have doubled",
            "the town must repay an old loan",
        ]
    )
    d.fact(
        "reason",
        ["Officials said the increase was needed because {reason}."],
        ["Why is {T} raising its property tax?", "What reason did {T} officials give for the tax increase?"],
        reason,
        reason=reason,
    )
    a = c.r.randint(14, 30)
    vote = f"{a} votes to {c.r.randint(3, a - 2)}"
    d.fact(
        "count",
        ["Councillors backed the plan by {vote}.", "The plan passed by {vote}."],
        ["What was the vote on {T}'s budget?", "By how many votes did {T}'s budget pass?"],
        vote,
        vote=vote,
    )
    chief = c.person()
    d.fact(
        "name",
        [
            "The plan was drawn up by the council's finance chief, {chief}.",
            "Finance chief {chief} defended the plan in the chamber.",
        ],
        ["Who drew up {T}'s budget?", "Who is in charge of finances at {T} council?"],
        chief,
        chief=chief,
    )
    eff = c.day(dt.date(pub.year + 1, c.r.choice((1, 4)), 1), year=True)
    d.fact(
        "date",
        ["The new rates take effect on {eff}."],
        ["When does the tax rise in {T} take effect?", "from what date will the new rates apply in {T}"],
        eff,
        eff=eff,
    )
    d.fill(
        [
            "Bin collections will continue on the current schedule.",
            "The council's reserves will be used to cover any shortfall.",
            "Campaigners protested outside the town hall before the vote.",
        ]
    )
    d.add_near(["How much will {T} spend on street lighting next year?"], "lighting", "{T}")
    d.add_near(["How large is {T} council's debt?", "How much money does {T} council owe?"], "debt", "{T}")
    return d


def storm(c: Ctx, t: Town, pub: dt.date) -> Draft:
    name = c.unique("storm", "Edda Ronan Isolde Barnaby Fenna Gideon Marit Oswin Petra Ulric Wilma Caspian".split())
    storm_name = f"Storm {name}"
    d = Draft(c, t, "storm", dict(S=storm_name, T=t.name))
    d.set_title(["{S} batters {T}", "{S} sweeps through {T}", "{T} hit hard by {S}"])
    d.set_lead(
        [
            "{S} swept through {T} and the surrounding area overnight, bringing down trees and power lines.",
            "Residents of {T} woke to scenes of damage after {S} passed through.",
        ]
    )
    d.add_second(["Emergency crews worked through the night to clear roads.", "Many trains were cancelled."])
    n = c.count(3, 20)
    deaths = c.make_fact(
        "count",
        [
            "At least {n} people have died, emergency services said.",
            "The storm has claimed {n} lives, according to officials.",
        ],
        ["How many people died in {S}?"],
        n,
        dict(S=storm_name, n=n),
    )
    deaths.askable = False
    d.facts.append(deaths)
    homes = c.count(5000, 250000, word_ok=False)
    d.fact(
        "count",
        ["About {homes} homes were left without electricity.", "Power cuts affected {homes} households."],
        ["How many homes lost power in {S}?", "How many households were left without electricity after {S}?"],
        homes,
        homes=homes,
    )
    dmg = c.money(t, 5e6, 900e6)
    d.fact(
        "money",
        ["Insurers put early damage estimates at {dmg}."],
        ["How much damage did {S} cause?", "What is the estimated cost of the damage from {S}?"],
        dmg,
        dmg=dmg,
    )
    where = c.other_place(t.name)
    d.fact(
        "place",
        ["The storm came ashore near {where} just after midnight."],
        ["Where did {S} make landfall?", "where did {S} hit land"],
        where,
        where=where,
    )
    dur = c.r.choice([c.duration(9, 40, "hour"), c.duration(2, 3, "day")])
    d.fact(
        "duration",
        ["Rain fell without a break for {dur}.", "Parts of the coast had no let-up in the rain for {dur}."],
        ["How long did the rain last during {S}?", "For how long did it rain during {S}?"],
        dur,
        dur=dur,
    )
    reason = c.r.choice(
        [
            "engineers feared its supports had been weakened",
            "a lorry had overturned on it",
            "floodwater covered the approach road",
        ]
    )
    d.fact(
        "reason",
        ["The main bridge in {T} was shut because {reason}."],
        ["Why was the bridge in {T} closed during {S}?", "what led to the closure of the bridge in {T}"],
        reason,
        reason=reason,
    )
    gust = f"{c.r.randint(9, 19) * 10} kilometres per hour"
    d.fact(
        "count",
        ["Gusts reached {gust} on the coast."],
        ["How strong were the winds in {S}?", "What wind speeds were recorded during {S}?"],
        gust,
        gust=gust,
    )
    d.fill(
        [
            "Several roads remain blocked by fallen trees.",
            "Schools across the area were closed for the day.",
            "Forecasters had issued warnings two days earlier.",
        ]
    )
    d.add_near(["How many tourists were stranded by {S}?"], "tourist", "{S}")
    d.add_near(["How many boats sank in the harbour during {S}?"], "boats", "{S}")
    later = pub + dt.timedelta(days=c.r.randint(1, 3))
    n2 = str(int(n if n.isdigit() else WORD_NUM[n]) + c.r.randint(2, 9))
    aid = c.money(t, 2e6, 80e6)
    kw = dict(S=storm_name, T=t.name, n2=n2, n=n, aid=aid, wd=WEEKDAYS[later.weekday()])
    changed = c.make_fact(
        "latest",
        [
            "The number of people killed has risen to {n2}, officials said on {wd}.",
            "Officials now say {n2} people lost their lives in {S}.",
        ],
        [
            "How many people have died in {S} so far?",
            "What is the latest death toll from {S}?",
            "how many people has {S} killed",
        ],
        n2,
        kw,
    )
    extra = [
        c.make_fact(
            "money",
            ["The government has promised {aid} in emergency aid."],
            ["How much emergency aid has been promised after {S}?", "What help has the government pledged after {S}?"],
            aid,
            kw,
        )
    ]
    d.update = Update(
        title=c.say(["Death toll rises after {S}", "{S}: {T} counts the cost"], **kw),
        lead=c.say(
            [
                "The clean-up in {T} continues days after {S} tore through the region.",
                "Rescue teams are still at work in and around {T} after {S}.",
            ],
            **kw,
        ),
        second=[c.say(["Some families are staying with relatives while repairs are carried out."], **kw)],
        changed=changed,
        old=deaths,
        extra=extra,
        fillers=[
            c.say([x], **kw)
            for x in [
                "Schools in {T} will remain closed until Monday.",
                "Volunteers have been handing out hot meals.",
                "Engineers are inspecting bridges across the region.",
                "Insurance companies have opened special claims lines.",
            ]
        ],
        days=(later - pub).days,
        same_outlet=c.r.random() < 0.5,
        story=f"storm-{slug(name)}-{slug(t.name)}",
    )
    return d


# --------------------------------------------------------------------------------------------- check story types


def transit(c: Ctx, t: Town, subj: str, pub: dt.date) -> Draft:
    d = Draft(c, t, "transit", dict(T=t.name, S=subj))
    d.set_title(["{T} {S} plans move ahead", "Work begins on the {T} {S}", "Next steps for {T}'s {S}"])
    d.set_lead(
        [
            "Plans for a new {S} in {T} took another step forward this week.",
            "The {S} planned for {T} has cleared another hurdle.",
            "Transport planners in {T} have set out fresh details of the proposed {S}.",
        ]
    )
    d.add_second(
        [
            "Supporters say it will ease congestion on the main roads.",
            "The scheme has been debated for almost a decade.",
        ]
    )
    cost, cost2 = c.money_pair(t, 80e6, 3e9, (1.15, 1.6))  # cost2: the revised estimate of a follow-up
    cost_fact = d.fact(
        "money",
        ["The latest estimate puts the price tag at {cost}.", "Planners now expect the scheme to cost {cost}."],
        ["How much will the {T} {S} cost?", "What is the expected price of {T}'s {S}?"],
        cost,
        cost=cost,
    )
    riders = c.count(8000, 120000, word_ok=False)
    d.fact(
        "count",
        [
            "Around {riders} passengers a day are expected to use it.",
            "Forecasts suggest {riders} daily journeys once it is running.",
        ],
        [
            "How many passengers will the {T} {S} carry each day?",
            "How many daily riders is {T}'s {S} expected to attract?",
        ],
        riders,
        riders=riders,
    )
    firm = f"{c.stem()} {c.r.choice(['Construction', 'Infrastructure', 'Civil Works'])}"
    d.fact(
        "name",
        ["The main contract went to {firm}.", "{firm} won the tender to build it."],
        ["Which company is building the {T} {S}?", "Who won the contract for the {S} in {T}?"],
        firm,
        firm=firm,
    )
    opening = c.month_year(dt.date(pub.year + c.r.randint(2, 6), c.r.randint(1, 12), 1))
    d.fact(
        "date",
        ["Services are due to begin in {opening}.", "Passengers should be able to board from {opening}."],
        ["When will the {T} {S} open?", "When are services on {T}'s {S} supposed to start?"],
        opening,
        opening=opening,
    )
    stops = c.count(5, 24)
    d.fact(
        "count",
        ["The plans include {stops} stops along the way."],
        ["How many stops will the {T} {S} have?"],
        stops,
        stops=stops,
    )
    freq = c.r.choice(
        [
            "every six minutes",
            "every quarter of an hour",
            "every ten minutes",
            "every four minutes",
            "every eight minutes",
            "every 12 minutes",
            "every five minutes",
            "three times an hour",
            "every 20 minutes",
        ]
    )
    d.fact(
        "frequency",
        ["At peak times a vehicle will run {freq}.", "Services are planned {freq} during the day."],
        ["How often will services run on the {T} {S}?", "What frequency is planned for the {S} in {T}?"],
        freq,
        freq=freq,
    )
    end = c.r.choice(
        ["the university campus", "the airport", "the football stadium", "the main hospital", c.other_place(t.name)]
    )
    d.fact(
        "place",
        ["The line will end at {end}.", "Its far terminus will be at {end}."],
        ["Where will the {T} {S} end?", "What is the terminus of {T}'s {S}?"],
        end,
        end=end,
    )
    reason = c.r.choice(
        [
            "to avoid a protected wetland",
            "after residents objected to the loss of a park",
            "because the ground near the river proved too soft",
            "to serve a new housing district",
        ]
    )
    d.fact(
        "reason",
        ["The route was redrawn {reason}."],
        ["Why was the route of the {T} {S} changed?", "what forced planners to alter the {T} {S} route"],
        reason,
        reason=reason,
    )
    dur = c.duration(2, 6, "year")
    d.fact(
        "duration",
        ["Construction is expected to take {dur}."],
        ["How long will it take to build the {T} {S}?"],
        dur,
        dur=dur,
    )
    d.fill(
        [
            "Public consultation events will be held in the spring.",
            "Some shop owners fear disruption during the works.",
            "Cycle lanes will be added along part of the corridor.",
        ]
    )
    d.add_near(["How many drivers will the {T} {S} employ?"], "drivers", "{T}")
    d.add_near(["What colour will the vehicles on the {T} {S} be?"], "colour", "{T}")
    if c.r.random() < 0.3:
        later = pub + dt.timedelta(days=c.r.randint(1, 3))
        reason2 = c.r.choice(
            [
                "rising prices for steel and concrete",
                "the need to move underground cables",
                "a longer tunnel section than first planned",
                "higher wages for specialist workers",
                "extra noise barriers demanded by residents",
                "contaminated soil found along the route",
                "a redesign of the main interchange",
                "delays in buying the land",
            ]
        )
        kw = dict(T=t.name, S=subj, cost=cost, cost2=cost2, reason2=reason2)
        changed = c.make_fact(
            "latest",
            [
                "The cost estimate has been revised to {cost2}, up from {cost}.",
                "Officials now put the bill at {cost2}.",
            ],
            [
                "What is the current cost estimate for the {T} {S}?",
                "How much is the {T} {S} now expected to cost?",
                "what's the latest price tag on the {T} {S}",
            ],
            cost2,
            kw,
        )
        extra = [
            c.make_fact(
                "reason",
                ["The rise was blamed on {reason2}."],
                [
                    "Why has the cost estimate for the {T} {S} gone up?",
                    "what pushed up the projected cost of the {T} {S}",
                ],
                reason2,
                kw,
            )
        ]
        d.update = Update(
            title=c.say(["Cost of {T} {S} revised upwards", "{T} {S} bill climbs"], **kw),
            lead=c.say(
                [
                    "The {S} planned for {T} will cost more than previously thought, officials have admitted.",
                    "New figures show the {T} {S} is getting more expensive.",
                ],
                **kw,
            ),
            second=[c.say(["Critics said the increase was no surprise."], **kw)],
            changed=changed,
            old=cost_fact,
            extra=extra,
            fillers=[
                c.say([x], **kw)
                for x in [
                    "Council members will discuss the figures next month.",
                    "The timetable for the works has not changed.",
                    "Campaigners repeated their call for a cheaper bus alternative.",
                    "Officials insisted the project still offered good value.",
                ]
            ],
            days=(later - pub).days,
            same_outlet=c.r.random() < 0.5,
            story=f"transit-{slug(t.name)}-{slug(subj)}",
        )
    return d


def transfer(c: Ctx, t: Town, pub: dt.date) -> Draft:
    club = f"{t.name} {c.r.choice(['Rovers', 'Athletic', 'United', 'Wanderers', 'City'])}"
    seller_town = c.other_place(t.name)
    seller = f"{seller_town} {c.r.choice(['Albion', 'Sporting', 'Town', 'Rangers'])}"
    player = c.person()
    she = player.split()[0] in FEMALE
    d = Draft(
        c,
        t,
        "transfer",
        dict(
            C=club,
            P=player,
            X=seller,
            he="she" if she else "he",
            his="her" if she else "his",
            him="her" if she else "him",
        ),
    )
    d.set_title(["{C} sign {P}", "{P} completes move to {C}", "{C} land striker {P}"])
    d.set_lead(
        [
            "{C} have completed the signing of {P} ahead of the new season.",
            "{P} has joined {C}, the club confirmed on Friday.",
        ]
    )
    d.add_second(
        [
            "Supporters had been waiting all summer for a new forward.",
            "The club had been linked with several strikers in recent weeks.",
        ]
    )
    fee = c.money(t, 1e6, 60e6)
    d.fact(
        "money",
        ["The fee is reported to be {fee}, a club record.", "{C} paid {fee} for the forward."],
        [
            "How much did {C} pay for {P}?",
            "What was the transfer fee for {P}?",
            "how much was the move of {P} to {C} worth",
        ],
        fee,
        fee=fee,
    )
    yrs = c.r.randint(2, 5)
    dur = c.r.choice([f"{words(yrs)} years", f"{words(yrs)}-year"])
    d.fact(
        "duration",
        ["{P} has signed a contract running for {dur}."]
        if not dur.endswith("-year")
        else ["{P} put pen to paper on a {dur} deal."],
        ["How long is the contract of {P} with {C}?", "For how many years has {P} signed?"],
        dur,
        dur=dur,
    )
    d.fact(
        "name",
        ["{he} joins from {X}, where {he} spent {s} seasons.", "The forward arrives from {X}."],
        ["Which club did {P} leave to join {C}?", "Where did {P} play before joining {C}?"],
        seller,
        s=words(c.r.randint(2, 6)),
    )
    birth = c.other_place(t.name, seller_town)
    d.fact(
        "place",
        ["{he} was born in {b} and grew up playing on its streets."],
        ["Where was {P} born?", "what is the home town of {P}"],
        birth,
        b=birth,
    )
    goals = c.count(4, 31)
    d.fact(
        "count",
        ["{he} scored {g} goals in all competitions last season."],
        ["How many goals did {P} score last season?"],
        goals,
        g=goals,
    )
    sell = c.pct(10, 30)
    d.fact(
        "share",
        [
            "{X} will receive {sell} of any future sale.",
            "The deal includes a sell-on clause worth {sell} of any future fee.",
        ],
        ["What share of a future sale of {P} will {X} get?", "How big is the sell-on clause in the deal for {P}?"],
        sell,
        sell=sell,
    )
    reason = d.say(
        [
            c.r.choice(
                [
                    "{he} wanted regular first-team football",
                    "{his} family wanted to move closer to home",
                    "{he} had fallen out with the coaching staff",
                    "{he} wanted to play in a bigger league",
                ]
            )
        ]
    )
    reason = reason[0].lower() + reason[1:]
    d.fact(
        "reason",
        ["{he} said {he} had decided to leave because {reason}."],
        ["Why did {P} leave {X}?", "what made {P} quit {X}"],
        reason,
        reason=reason,
    )
    coach = c.person()
    d.fact(
        "name",
        ["Manager {coach} said the signing showed the club's ambition."],
        ["Who is the manager of {C}?", "who coaches {C}"],
        coach,
        coach=coach,
    )
    debut = c.day(pub + dt.timedelta(days=c.r.randint(3, 20)))
    d.fact(
        "date",
        ["{he} could make {his} debut on {debut}."],
        ["When could {P} make a first appearance for {C}?"],
        debut,
        debut=debut,
    )
    d.fill(
        [
            "The club's shop sold out of replica shirts within hours.",
            "A medical was completed on Thursday.",
            "Fans gathered outside the training ground to welcome {him}.",
        ]
    )
    d.add_near(["What shirt number will {P} wear at {C}?"], "number", "{P}")
    d.add_near(["What is the weekly wage of {P} at {C}?", "How much will {P} earn a week at {C}?"], "wage", "{P}")
    return d


def recall(c: Ctx, t: Town, pub: dt.date) -> Draft:
    co = t.company
    prod = c.r.choice(
        [
            "electric kettles",
            "children's car seats",
            "e-bike batteries",
            "baby monitors",
            "pressure cookers",
            "space heaters",
        ]
    )
    d = Draft(c, t, "recall", dict(Co=co, Pr=prod, T=t.name))
    d.set_title(["{Co} recalls {Pr}", "Safety recall for {Co} {Pr}", "{Co} asks customers to return {Pr}"])
    d.set_lead(
        [
            "{Co} has asked customers to stop using some of its {Pr} while it looks into a fault.",
            "Owners of {Co} {Pr} are being urged to check their model numbers.",
        ]
    )
    d.add_second(
        ["The company said it was acting out of caution.", "Retailers have removed the products from shelves."]
    )
    n = c.count(5000, 400000, word_ok=False)
    units = d.fact(
        "count",
        ["The recall covers {n} units sold since last spring.", "In total {n} units are affected."],
        ["How many {Pr} has {Co} recalled?", "How many units does the {Co} recall cover?"],
        n,
        n=n,
    )
    reason = c.r.choice(
        [
            "a faulty seal that can let water reach the wiring",
            "a battery cell that can overheat",
            "a buckle that may open under pressure",
            "a loose screw in the heating element",
        ]
    )
    d.fact(
        "reason",
        ["Engineers traced the problem to {reason}.", "The fault lies in {reason}, according to the company."],
        ["What is wrong with the recalled {Co} {Pr}?", "Why is {Co} recalling its {Pr}?"],
        reason,
        reason=reason,
    )
    refund = c.money(t, 20, 400, price=True)
    d.fact(
        "money",
        ["Customers can claim a refund of {refund}.", "Owners will be paid {refund} each if they return the product."],
        ["How much will {Co} refund for each returned product?", "what refund are {Co} customers being offered"],
        refund,
        refund=refund,
    )
    plant = c.other_place(t.name)
    d.fact(
        "place",
        [
            "The affected units were made at its plant in {plant}.",
            "All of the faulty items came from a factory in {plant}.",
        ],
        ["Where were the faulty {Co} {Pr} made?", "At which plant were the recalled {Pr} produced?"],
        plant,
        plant=plant,
    )
    sp = c.person()
    d.fact(
        "name",
        ["Company spokesperson {sp} apologised to customers.", "{sp}, speaking for the company, apologised."],
        ["Who apologised on behalf of {Co}?", "Who spoke for {Co} about the recall?"],
        sp,
        sp=sp,
    )
    sh = c.pct(2, 30)
    d.fact(
        "share",
        ["The affected units make up about {sh} of the model's sales."],
        ["What share of sales do the recalled {Co} {Pr} represent?"],
        sh,
        sh=sh,
    )
    m1 = c.r.randint(0, 8)
    y = pub.year - 1
    sold = f"{MONTHS[m1]} and {MONTHS[m1 + c.r.randint(2, 3)]} {y}"
    d.fact(
        "date",
        ["The products concerned were sold between {sold}."],
        ["When were the recalled {Co} {Pr} sold?"],
        sold,
        sold=sold,
    )
    inj = c.count(2, 15)
    d.fact(
        "count",
        ["So far {inj} minor injuries have been reported."],
        ["How many injuries have been linked to the {Co} {Pr}?"],
        inj,
        inj=inj,
    )
    d.fill(
        [
            "A list of affected model numbers has been posted online.",
            "Other products are not affected.",
            "The national safety regulator has been informed.",
        ]
    )
    d.add_near(["What colour are the recalled {Co} {Pr}?"], "colour", "{Co}")
    d.add_near(["How much do the recalled {Co} {Pr} cost in the shops?"], "retail price", "{Co}")
    if c.r.random() < 0.5:
        units.askable = False
        later = pub + dt.timedelta(days=c.r.randint(1, 3))
        n2 = f"{int(nice(int(n.replace(',', '')) * c.r.uniform(1.3, 2.5), 3)):,}"
        set_aside = c.money(t, 2e6, 60e6)
        kw = dict(Co=co, Pr=prod, n2=n2, n=n, sa=set_aside, wd=WEEKDAYS[later.weekday()])
        changed = c.make_fact(
            "latest",
            [
                "The recall now covers {n2} units after more batches were found to be affected.",
                "{Co} said on {wd} that {n2} units are now affected.",
            ],
            [
                "How many {Pr} has {Co} recalled so far?",
                "How many units does the {Co} recall now cover?",
                "what is the latest number of {Pr} recalled by {Co}",
            ],
            n2,
            kw,
        )
        extra = [
            c.make_fact(
                "money",
                ["The company has set aside {sa} to cover the cost."],
                ["How much has {Co} set aside for the recall of its {Pr}?"],
                set_aside,
                kw,
            )
        ]
        d.update = Update(
            title=c.say(["{Co} widens recall of {Pr}", "More {Pr} recalled by {Co}"], **kw),
            lead=c.say(["{Co} has extended its recall of {Pr}.", "The recall of {Pr} by {Co} has grown larger."], **kw),
            second=[c.say(["Customers who have already returned their products do not need to do anything."], **kw)],
            changed=changed,
            old=units,
            extra=extra,
            fillers=[
                c.say([x], **kw)
                for x in [
                    "A telephone hotline has been set up.",
                    "Shops will accept returns without a receipt.",
                    "The company's shares dipped on the news.",
                    "Consumer groups welcomed the decision.",
                ]
            ],
            days=(later - pub).days,
            same_outlet=c.r.random() < 0.5,
            story=f"recall-{slug(co)}",
        )
    return d


def wildfire(c: Ctx, t: Town, pub: dt.date) -> Draft:
    d = Draft(c, t, "wildfire", dict(T=t.name))
    d.set_title(["Wildfire forces evacuations near {T}", "Fire rages in the hills above {T}", "{T} wildfire spreads"])
    d.set_lead(
        [
            "A wildfire burning in the hills above {T} has forced families to leave their homes.",
            "Firefighters are struggling to contain a large blaze near {T}.",
        ]
    )
    d.add_second(["Thick smoke could be seen from many kilometres away.", "Several roads have been closed."])
    n = c.count(300, 20000, word_ok=False)
    evac = c.make_fact(
        "count",
        ["So far {n} people have been told to leave their homes.", "Authorities ordered {n} residents to evacuate."],
        ["How many people were evacuated near {T}?"],
        n,
        dict(T=t.name, n=n),
    )
    evac.askable = False
    d.facts.append(evac)
    ff = c.count(60, 900, word_ok=False)
    d.fact(
        "count",
        [
            "More than {ff} firefighters are battling the flames.",
            "{ff} firefighters and {air} aircraft are at the scene.",
        ],
        ["How many firefighters are fighting the {T} fire?"],
        ff,
        ff=ff,
        air=words(c.r.randint(3, 12)),
    )
    dur = c.r.choice([c.duration(2, 9, "day"), "more than a week"])
    d.fact(
        "duration",
        ["The fire has been burning for {dur}."],
        ["How long has the wildfire near {T} been burning?"],
        dur,
        dur=dur,
    )
    orig = c.r.choice(["an old quarry", "a campsite by the lake", "the railway line", "a farm track"])
    d.fact(
        "place",
        ["It started near {orig} and spread quickly uphill.", "The blaze began close to {orig}."],
        ["Where did the {T} wildfire start?", "Where did the fire near {T} begin?"],
        orig,
        orig=orig,
    )
    cause = c.r.choice(
        ["sparks from a passing train", "a discarded barbecue", "a fallen power line", "a lightning strike"]
    )
    d.fact(
        "reason",
        ["Investigators believe it was caused by {cause}."],
        ["What caused the fire near {T}?", "What started the {T} wildfire?"],
        cause,
        cause=cause,
    )
    aid = c.money(t, 1e6, 40e6)
    d.fact(
        "money",
        ["The regional government has released {aid} in emergency funds."],
        ["How much emergency money has been released for the {T} wildfire?"],
        aid,
        aid=aid,
    )
    ha = c.count(400, 30000, word_ok=False)
    d.fact(
        "count",
        ["The flames have burned through {ha} hectares."],
        ["How many hectares has the {T} fire burned?", "How large an area has the wildfire near {T} destroyed?"],
        ha,
        ha=ha,
    )
    cont = c.pct(10, 60)
    d.fact(
        "share",
        ["Crews have contained about {cont} of the fire's perimeter."],
        ["How much of the {T} fire has been contained?"],
        cont,
        cont=cont,
    )
    d.fill(
        [
            "Hot, dry winds are making the work harder.",
            "A nearby motorway was closed as a precaution.",
            "Residents were told to keep windows shut because of the smoke.",
        ]
    )
    d.add_near(["How many animals died in the fire near {T}?"], "animals", "{T}")
    d.add_near(["Which insurance company covers the homes near the {T} wildfire?"], "insur", "{T}")
    later = pub + dt.timedelta(days=c.r.randint(1, 3))
    n2 = f"{int(nice(int(n.replace(',', '')) * c.r.uniform(1.4, 3.0), 3)):,}"
    shelter = c.r.choice(
        [
            "the sports hall of a secondary school",
            "a conference centre",
            "an empty exhibition hall",
            "the town's ice rink",
            "a university gymnasium",
            "the old cattle market hall",
            "a church community centre",
            "the county showground",
        ]
    )
    kw = dict(T=t.name, n2=n2, n=n, sh=shelter, wd=WEEKDAYS[later.weekday()])
    changed = c.make_fact(
        "latest",
        [
            "The number of evacuated residents has climbed to {n2}.",
            "Officials said {n2} people had now been moved to safety around {T}.",
        ],
        [
            "How many people have been evacuated because of the {T} wildfire so far?",
            "How many residents have had to leave their homes near {T} so far?",
            "what's the latest evacuation figure for the fire near {T}",
        ],
        n2,
        kw,
    )
    extra = [
        c.make_fact(
            "place",
            ["An emergency shelter has been set up in {sh}."],
            ["Where are evacuees from the {T} fire being housed?"],
            shelter,
            kw,
        )
    ]
    d.update = Update(
        title=c.say(["More residents evacuated as {T} fire spreads", "{T} wildfire: evacuation widened"], **kw),
        lead=c.say(
            [
                "The wildfire near {T} has continued to spread, forcing more people from their homes.",
                "Evacuation orders around {T} have been widened as the fire moves.",
            ],
            **kw,
        ),
        second=[c.say(["A change in wind direction overnight pushed the flames towards new areas."], **kw)],
        changed=changed,
        old=evac,
        extra=extra,
        fillers=[
            c.say([x], **kw)
            for x in [
                "Some residents refused to leave.",
                "Police are patrolling empty streets.",
                "Forecasters expect cooler weather later in the week.",
                "Volunteers are collecting food and blankets.",
            ]
        ],
        days=(later - pub).days,
        same_outlet=c.r.random() < 0.5,
        story=f"wildfire-{slug(t.name)}",
    )
    return d


def merger(c: Ctx, t: Town, pub: dt.date) -> Draft:
    co = t.company
    tgt = c.company()
    d = Draft(c, t, "merger", dict(Co=co, Tg=tgt, T=t.name))
    d.set_title(["{Co} agrees deal to buy {Tg}", "{Co} to take over {Tg}", "{Co} and {Tg} to combine"])
    d.set_lead(
        [
            "{Co} has agreed to buy its smaller rival {Tg}, the companies announced on Monday.",
            "A takeover that would create one of the larger groups in the industry was unveiled by {Co}.",
        ]
    )
    d.add_second(["Talks between the two had been rumoured for months.", "The boards of both companies back the deal."])
    price = c.money(t, 100e6, 20e9)
    d.fact(
        "money",
        ["The deal values {Tg} at {price}.", "{Co} will pay {price} in cash and shares."],
        ["How much is {Co} paying for {Tg}?", "What is the takeover of {Tg} worth?"],
        price,
        price=price,
    )
    prem = c.pct(12, 45)
    d.fact(
        "share",
        ["The offer is {prem} above the closing share price of {Tg} on Friday."],
        ["What premium is {Co} offering shareholders of {Tg}?"],
        prem,
        prem=prem,
    )
    boss = c.person()
    d.fact(
        "name",
        ["The combined group will be run by {boss}, who is currently finance director at {Tg}."],
        ["Who will lead the company formed by {Co} and {Tg}?", "who is going to run the merged {Co} group"],
        boss,
        boss=boss,
    )
    hq = c.r.choice([t.name, c.other_place(t.name)])
    d.fact(
        "place",
        ["The merged business will be headquartered in {hq}."],
        ["Where will the combined {Co} and {Tg} be based?", "Where is the head office of the merged {Co} going to be?"],
        hq,
        hq=hq,
    )
    close = c.month_year(pub + dt.timedelta(days=c.r.randint(120, 400)))
    d.fact(
        "date",
        ["The takeover is expected to close in {close}."],
        ["When is the purchase of {Tg} by {Co} expected to be completed?"],
        close,
        close=close,
    )
    jobs = c.count(80, 3000, word_ok=False)
    d.fact(
        "count",
        ["About {jobs} jobs are expected to go as offices are merged."],
        ["How many jobs will be cut after {Co} buys {Tg}?", "How many positions will disappear in the {Tg} deal?"],
        jobs,
        jobs=jobs,
    )
    why = c.r.choice(
        [
            "give it access to the Asian market",
            "double its production capacity",
            "bring important software skills in-house",
            "cut its reliance on outside suppliers",
        ]
    )
    d.fact(
        "reason",
        ["{Co} said the deal would {why}."],
        ["Why does {Co} want to buy {Tg}?", "what is the reason for the {Co} bid for {Tg}"],
        why,
        why=why,
    )
    mkt = c.r.choice(
        [
            f"${mant(c.r.randint(12, 45) / 10)}tn",
            f"€{mant(c.r.randint(9, 40) / 10)} trillion",
            f"US${c.r.randint(200, 900)} billion",
        ]
    )
    d.fact(
        "money",
        ["The two firms operate in a global market worth an estimated {mkt}."],
        ["How big is the market that {Co} and {Tg} compete in?"],
        mkt,
        mkt=mkt,
    )
    d.fill(
        [
            "Competition authorities will need to approve the deal.",
            "Shares in {Tg} jumped on the news.",
            "Unions said they would seek guarantees for staff.",
        ]
    )
    d.add_near(["What was the profit of {Tg} last year?"], "profit", "{Tg}")
    d.add_near(["When was {Tg} founded?"], "founded", "{Tg}")
    return d


def election(c: Ctx, t: Town, pub: dt.date) -> Draft:
    win, second = c.person(), c.person()
    d = Draft(c, t, "election", dict(T=t.name, W=win))
    d.set_title(["{T} picks a new mayor", "Result declared in {T} mayoral vote", "{T} mayoral race decided"])
    d.set_lead(
        [
            "Voters in {T} have chosen a new mayor after a closely fought campaign.",
            "The count in the {T} mayoral election finished in the early hours of the morning.",
        ]
    )
    d.add_second(["Turnout was higher than at the last contest.", "Counting was delayed by a power cut at the hall."])
    d.fact(
        "name",
        ["{W}, a former schoolteacher, won the contest.", "The race was won by {W}, an independent."],
        ["Who won the {T} mayoral election?", "Who is the new mayor of {T}?", "who was elected mayor of {T}"],
        win,
    )
    sh = c.pct(38, 64)
    d.fact(
        "share",
        ["{W} took {sh} of the vote.", "The winner secured {sh} of ballots cast."],
        ["What share of the vote did {W} get?", "what percentage did the winner get in {T}"],
        sh,
        sh=sh,
    )
    n = c.count(4000, 120000, word_ok=False)
    d.fact(
        "count",
        ["Just over {n} ballots were cast.", "{n} people voted, election officials said."],
        [
            "How many people voted in the {T} mayoral election?",
            "How many ballots were cast in the race for mayor of {T}?",
        ],
        n,
        n=n,
    )
    sworn = c.day(pub + dt.timedelta(days=c.r.randint(7, 30)))
    d.fact("date", ["{W} will be sworn in on {sw}."], ["When will the new mayor of {T} take office?"], sworn, sw=sworn)
    term = c.duration(4, 6, "year")
    d.fact(
        "duration", ["Mayors in {T} serve a term of {term}."], ["How long is a mayoral term in {T}?"], term, term=term
    )
    why = c.r.choice(
        [
            "the previous mayor resigned for health reasons",
            "the council was dissolved after a budget row",
            "the previous mayor took a job in the national government",
        ]
    )
    d.fact(
        "reason",
        ["The vote was held early because {why}."],
        ["Why was the {T} election held early?", "what led to an early mayoral vote in {T}"],
        why,
        why=why,
    )
    d.fact(
        "name",
        ["The runner-up, {R}, conceded shortly after midnight."],
        ["Who came second in the {T} mayoral election?"],
        second,
        R=second,
    )
    spent = c.money(t, 20e3, 600e3)
    d.fact(
        "money",
        ["The winning campaign spent {sp}, according to filings."],
        ["How much did the campaign of {W} spend?"],
        spent,
        sp=spent,
    )
    d.fill(
        [
            "Posters were still going up on the morning of the vote.",
            "Both main candidates had promised to fix the town's roads.",
            "The result will be formally confirmed next week.",
        ]
    )
    d.add_near(["How much is the mayor of {T} paid?", "What is the salary of the mayor of {T}?"], "salary", "{T}")
    d.add_near(["How many votes did the runner-up get in the {T} mayoral election?"], None, "{T}")
    return d


def route(c: Ctx, t: Town, pub: dt.date) -> Draft:
    mode, suffix, veh, plural = c.r.choice(
        [
            ("flight", "Air", "aircraft", "Flights"),
            ("ferry", "Ferries", "ship", "Sailings"),
            ("coach", "Coaches", "coach", "Coaches"),
        ]
    )
    op = f"{c.stem()} {suffix}"
    dest = c.other_place(t.name)
    d = Draft(c, t, "route", dict(T=t.name, O=op, mode=mode, V=veh, Pl=plural, D=dest))
    d.set_title(["New {mode} link for {T}", "{O} launches {T} route", "{O} adds {T} to its network"])
    d.set_lead(
        [
            "A new {mode} service from {T}, to be run by {O}, was announced on Wednesday.",
            "{O} has unveiled plans for a {mode} route from {T}.",
        ]
    )
    d.add_second(["Local business leaders welcomed the news.", "The route had been requested for several years."])
    d.fact(
        "place",
        ["The route will link {T} with {D}.", "Services will run to {D}."],
        ["Where will the new {O} service from {T} go?", "What is the destination of the new {O} route from {T}?"],
        dest,
    )
    freq = c.r.choice(
        [
            "three times a week",
            "twice a day",
            "every weekday",
            "four days a week",
            "once a day",
            "five times a week",
            "every Saturday",
            "three times a day",
            "twice a week",
        ]
    )
    d.fact(
        "frequency",
        ["{Pl} will operate {freq}."],
        ["How often will the new {O} service run?", "How frequent are departures on the {O} route from {T}?"],
        freq,
        freq=freq,
    )
    fare = c.money(t, 15, 250, price=True)
    d.fact(
        "money",
        ["One-way fares start at {fare}.", "The cheapest ticket costs {fare}."],
        ["How much is a ticket on the new {O} route?", "What do fares on the {O} service from {T} start at?"],
        fare,
        fare=fare,
    )
    first = c.day(pub + dt.timedelta(days=c.r.randint(30, 150)), year=c.r.random() < 0.5)
    d.fact(
        "date",
        ["The first departure is scheduled for {first}."],
        ["When does the {O} service from {T} start?"],
        first,
        first=first,
    )
    dur = c.r.choice(
        ["two hours and ten minutes", "about 90 minutes", "four and a half hours", "just under three hours"]
    )
    d.fact(
        "duration",
        ["The journey will take {dur}."],
        ["How long will the trip from {T} to {D} take?", "How long is the journey on the new {O} route?"],
        dur,
        dur=dur,
    )
    seats = c.count(40, 900, word_ok=False)
    d.fact(
        "count",
        ["Each {V} on the route has {s} seats."],
        ["How many seats will the {O} {V} have on the {T} route?"],
        seats,
        s=seats,
    )
    ceo = c.person()
    d.fact("name", ["Chief executive {ceo} said early bookings had been strong."], ["Who heads {O}?"], ceo, ceo=ceo)
    why = c.r.choice(
        [
            "its airport has spare capacity" if mode == "flight" else "the terminal was recently rebuilt",
            "local firms promised to buy tickets for staff",
            "tourism in the area is growing fast",
        ]
    )
    d.fact(
        "reason",
        ["{O} chose {T} because {why}."],
        ["Why did {O} pick {T} for its new route?", "what persuaded {O} to serve {T}"],
        why,
        why=why,
    )
    d.fill(
        [
            "Tickets go on sale next month.",
            "Travel agents expect strong demand in the summer.",
            "A loyalty scheme will be launched at the same time.",
        ]
    )
    d.add_near(["What is the baggage allowance on the {O} service from {T}?"], "baggage", "{O}")
    d.add_near(["How many crew will work on the {O} route from {T}?"], "crew", "{O}")
    return d


BUILDING_SUBJECTS = [
    "library",
    "swimming pool",
    "town hall",
    "museum",
    "concert hall",
    "sports hall",
    "primary school",
    "fire station",
]
TRANSIT_SUBJECTS = [
    "tram line",
    "metro extension",
    "cable car line",
    "bus rapid transit route",
    "light rail link",
    "commuter rail link",
]


def town_plan(c: Ctx, t: Town) -> list:
    """The story builders of one town, as (builder, args) pairs."""
    if c.split == "tune":
        a, b = c.r.sample(BUILDING_SUBJECTS, 2)
        plan = [
            (building, (a,)),
            (building, (b,)),
            (results, ()),
            (strike, ()),
            (court, ()),
            (festival, ()),
            (budget, ()),
        ]
        if c.r.random() < 0.6:
            plan.append((storm, ()))
    else:
        a, b = c.r.sample(TRANSIT_SUBJECTS, 2)
        plan = [
            (transit, (a,)),
            (transit, (b,)),
            (transfer, ()),
            (recall, ()),
            (merger, ()),
            (election, ()),
            (route, ()),
        ]
        if c.r.random() < 0.6:
            plan.append((wildfire, ()))
    return plan


# ------------------------------------------------------------------------------------------------------ assembly


def slug(s: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", s.lower()).strip("-")


class Corpus:
    def __init__(self, seed: int, towns: int):
        self.seed = seed
        self.n_towns = towns
        self.used: dict[str, set[str]] = {}
        self.articles: list[dict] = []
        self.questions: list[dict] = []
        self.unanswerable: list[dict] = []
        self.updates: list[dict] = []
        self.sent_index: dict[str, int] = {}  # question id -> evidence sentence index (as assembled)
        self.near_checks: list[tuple[str, str | None, str]] = []
        self.kind_count = {s: Counter() for s in SPLITS}
        self.seen_facts: set[str] = set()  # fact sentences already printed: a fact is never repeated verbatim

    def new_article(self, c: Ctx, title: str, sentences: list[str], pub: dt.date, source: str) -> dict:
        aid = f"gen-{len(self.articles) + 1:04d}"
        paras, i = [], 0
        first = 2 if len(sentences) > 7 and c.r.random() < 0.4 else 1
        paras.append(" ".join(sentences[:first]))
        i = first
        while i < len(sentences):
            k = c.r.choice((2, 2, 3, 1))
            paras.append(" ".join(sentences[i : i + k]))
            i += k
        art = {
            "id": aid,
            "title": title,
            "text": "\n\n".join(paras),
            "url": f"https://{slug(source.removeprefix('The '))}.invalid/{pub.year}/{pub.month:02d}/"
            f"{slug(title)}-{aid.split('-')[1]}",
            "published": pub.isoformat(),
            "source": source,
        }
        art["split"] = c.split  # not in the news-qa article schema; loaders ignore it
        art["_sentences"] = sentences
        self.articles.append(art)
        return art

    def ask(self, c: Ctx, f: Fact, art: dict, **extra) -> bool:
        question = c.question(f, art["title"] + "\n" + art["text"])
        if question is None:
            return False
        qid = f"genq-{len(self.questions) + 1:04d}"
        q = {
            "id": qid,
            "question": question,
            "answer": f.answer,
            "evidence": f.text,
            "article_id": art["id"],
            "supported": True,
            "split": c.split,
            "kind": f.kind,
            **extra,
        }
        self.questions.append(q)
        self.kind_count[c.split][f.kind] += 1
        self.sent_index[qid] = art["_sentences"].index(f.text)
        return True

    def outlet(self, c: Ctx, t: Town) -> str:
        return t.outlet if c.r.random() < 0.55 else c.pick(OUTLETS)

    def build_split(self, split: str) -> None:
        c = Ctx(self.seed, split, self.used)
        names = list(TOWNS[split])
        c.r.shuffle(names)
        while len(names) < self.n_towns:  # more towns than the pool: derived names, still split-specific
            names += [f"{p} {n}" for p in ("Upper", "Lower", "North", "East") for n in TOWNS[split]]
        curs = list(CURRENCY_POOL[split])
        c.r.shuffle(curs)
        for i, name in enumerate(names[: self.n_towns]):
            c.towns.append(Town(name, split, curs[i % len(curs)], c.company(), f"The {name} {c.pick(LOCAL_OUTLET)}"))
        start = dt.date(2024, 2, 1)
        for t in c.towns:
            drafts: list[Draft] = []
            for builder, args in town_plan(c, t):
                pub = start + dt.timedelta(days=c.r.randint(0, 480))
                d = builder(c, t, *args, pub)
                drafts.append(d)
                self.emit(c, t, d, pub)
            texts = [(a["title"] + "\n" + a["text"]).lower() for a in self.articles]
            nears = [n for d in drafts for n in d.near if any(n[2].lower() in x for x in texts)]
            for q, probe, entity in c.r.sample(nears, 2):
                self.add_unanswerable(c, q, "near-miss")
                self.near_checks.append((q, probe, entity))
        # absent: invented names that occur nowhere (checked in verify_internal)
        templates = {
            "tune": [
                "When did the new library in {X} open?",
                "How much did {XC} make in sales last year?",
                "Who leads the union in the strike at {XC}?",
                "How many people went to the {X} Lantern Festival?",
                "Why is {X} raising its property tax?",
                "How many people died in Storm {XS}?",
                "Who designed the concert hall in {X}?",
                "How long was the jail term in the {X} chess club case?",
            ],
            "check": [
                "How much will the {X} tram line cost?",
                "Who did {X} Rovers sign this summer?",
                "Why did {XC} recall its toasters?",
                "How many people were evacuated from {X} because of the fire?",
                "Who won the mayoral election in {X}?",
                "Where will the new {XC} route go?",
                "How much is {XC} paying to buy its rival?",
                "How often will trains run on the {X} metro?",
            ],
        }[split]
        for i in range(self.n_towns):
            tpl = templates[i % len(templates)]
            x_town, x_company, x_storm = (
                c.r.choice(ABSENT_TOWNS[split]),
                c.r.choice(ABSENT_COMPANIES[split]),
                c.r.choice(ABSENT_STORMS[split]),
            )
            q = c.say([tpl], X=x_town, XC=x_company, XS=x_storm)
            self.add_unanswerable(
                c,
                c.pick(UNANSWERABLE_DECOR) + q[0].lower() + q[1:] if c.r.random() < 0.25 else q,
                "absent",
                probes=[x_town, x_company, x_storm],
            )

    def add_unanswerable(self, c: Ctx, q: str, kind: str, probes=None) -> None:
        q = q[0].upper() + q[1:]
        self.unanswerable.append(
            {
                "id": f"genu-{len(self.unanswerable) + 1:03d}",
                "question": c.decorate(q),
                "kind": kind,
                "split": c.split,
                "_probes": probes or [],
            }
        )

    def body(self, c: Ctx, facts: list[Fact], fillers: list[str], required: list[Fact], lo: int, hi: int) -> list:
        k = c.r.randint(lo, min(hi, len(facts)))
        free = [f for f in facts if f not in required and f.text not in self.seen_facts]
        k = max(len(required), min(k, len(required) + len(free)))
        chosen = list(required) + c.r.sample(free, k - len(required))
        self.seen_facts.update(f.text for f in chosen)
        n_fill = max(c.r.randint(1, 3), lo + 1 - len(chosen))  # at least 6 sentences with the lead
        fill = c.r.sample(fillers, min(n_fill, len(fillers)))
        items = chosen + fill
        c.r.shuffle(items)
        return items

    def emit(self, c: Ctx, t: Town, d: Draft, pub: dt.date) -> None:
        required = [d.update.old] if d.update else []
        fillers = d.fillers + c.pool(GENERIC_FILLERS)
        items = self.body(c, d.facts, fillers, required, 4, 8)
        head = [d.lead] + ([c.r.choice(d.second)] if c.r.random() < 0.85 else [])
        sents = head + [x.text if isinstance(x, Fact) else x for x in items]
        sents = sents[:14]
        source = self.outlet(c, t)
        art = self.new_article(c, d.title, sents, pub, source)
        facts_in = [x for x in items if isinstance(x, Fact) and x.askable and x.text in sents]
        # 1 question (sometimes 2) per article, favouring the kinds this split has asked least
        c.r.shuffle(facts_in)
        facts_in.sort(key=lambda f: self.kind_count[c.split][f.kind])
        want = 2 if c.r.random() < 0.35 else 1
        for f in facts_in:
            want -= self.ask(c, f, art)
            if want == 0:
                break
        if c.r.random() < 0.13 and not d.update:  # syndicated copy: same title, another outlet
            other = c.pick(OUTLETS)
            if other == source:
                other = t.outlet
            lead2 = d.alt_leads[0] if d.alt_leads else d.lead
            body2 = [x for x in sents[len(head) :]]
            credit = c.say(c.pool(CREDIT), O=source)
            self.new_article(
                c,
                d.title,
                [lead2, *head[1:], *body2, *[credit][: 14 - len(body2) - len(head)]],
                pub + dt.timedelta(days=c.r.randint(0, 1)),
                other,
            )
        if d.update and d.update.changed.text not in self.seen_facts:
            u = d.update
            u.extra = [f for f in u.extra if f.text not in self.seen_facts]  # never a verbatim repeat of a fact
            items = [u.changed, *u.extra, *c.r.sample(u.fillers, c.r.randint(max(2, 4 - len(u.extra)), 4))]
            c.r.shuffle(items)
            if items[0] is u.changed and c.r.random() < 0.7:
                items.append(items.pop(0))
            sents2 = [u.lead] + u.second + [x.text if isinstance(x, Fact) else x for x in items]
            newer = self.new_article(
                c,
                u.title,
                sents2,
                pub + dt.timedelta(days=u.days),
                source if u.same_outlet else (c.pick(OUTLETS) if source == t.outlet else t.outlet),
            )
            if not self.ask(c, u.changed, newer, older_article_id=art["id"]):
                raise AssertionError(f"follow-up {u.title!r} cannot be asked about")
            for f in u.extra:
                if c.r.random() < 0.6:
                    self.ask(c, f, newer)
            self.seen_facts.update(f.text for f in [u.changed, *u.extra])
            self.updates.append(
                {
                    "story": u.story,
                    "older_id": art["id"],
                    "newer_id": newer["id"],
                    "figure_old": u.old.answer,
                    "figure_new": u.changed.answer,
                    "evidence_old": u.old.text,
                    "evidence_new": u.changed.text,
                    "days_later": u.days,
                }
            )

    def build(self) -> None:
        for split in SPLITS:
            self.build_split(split)
        both = sorted(t for t, s in self.used.items() if len(s) > 1)
        if both:
            raise AssertionError(f"templates used by both splits: {both[:5]}")
        # also_in: syndicated copies carrying the same evidence sentence
        for q in self.questions:
            gold = next(a for a in self.articles if a["id"] == q["article_id"])
            alt = [
                a["id"]
                for a in self.articles
                if a["id"] != gold["id"] and a["title"] == gold["title"] and q["evidence"] in a["text"]
            ]
            if alt:
                q["also_in"] = alt

    def verify_internal(self) -> list[str]:
        """Checks that need the generator's own records: unanswerable probes and template disjointness."""
        problems = []
        texts = [a["title"] + "\n" + a["text"] for a in self.articles]
        low = [x.lower() for x in texts]
        for u in self.unanswerable:
            for p in u["_probes"]:
                if any(p.lower() in x for x in low):
                    problems.append(f"absent name {p!r} occurs in the corpus ({u['id']})")
        for q, probe, entity in self.near_checks:
            about = [x for x in low if entity.lower() in x]
            if not about:
                problems.append(f"near-miss entity {entity!r} not in corpus: {q}")
            elif probe and any(probe in x for x in about):
                problems.append(f"near-miss probe {probe!r} occurs in an article about {entity!r}: {q}")
        return problems

    def write(self, out: Path) -> None:
        out.mkdir(parents=True, exist_ok=True)

        def dump(name, rows):
            with open(out / name, "w", encoding="utf-8") as fh:
                for r in rows:
                    fh.write(
                        json.dumps({k: v for k, v in r.items() if not k.startswith("_")}, ensure_ascii=False) + "\n"
                    )

        dump("articles.jsonl", self.articles)
        dump("questions.jsonl", self.questions)
        dump("unanswerable.jsonl", self.unanswerable)
        dump("updates.jsonl", self.updates)


# ---------------------------------------------------------------------------------------------------- verification

_FALLBACK_SPLIT = re.compile(r"(?<=[.!?])[\"”]?\s+(?=[\"“A-Z0-9€£¥₹$₺])|\n\s*\n")


def sentence_splitter():
    try:
        sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
        from qabot.chunking import split_sentences  # type: ignore

        return "qabot.chunking.split_sentences", lambda t: [t[s.start : s.end] for s in split_sentences(t)]
    except Exception:  # stdlib fallback when qabot is not importable
        return "regex fallback", lambda t: [x.strip() for x in _FALLBACK_SPLIT.split(t) if x and x.strip()]


def read_jsonl(p: Path) -> list[dict]:
    return [json.loads(line) for line in p.read_text("utf-8").splitlines() if line.strip()]


def verify(out: Path, extra_problems: list[str] | None = None) -> bool:
    arts = read_jsonl(out / "articles.jsonl")
    qs = read_jsonl(out / "questions.jsonl")
    us = read_jsonl(out / "unanswerable.jsonl")
    ups = read_jsonl(out / "updates.jsonl")
    problems = list(extra_problems or [])
    by_id = {a["id"]: a for a in arts}
    for name, rows in (("articles", arts), ("questions", qs), ("unanswerable", us)):
        ids = [r["id"] for r in rows]
        if len(ids) != len(set(ids)):
            problems.append(f"duplicate ids in {name}")
    if len({a["url"] for a in arts}) != len(arts):
        problems.append("duplicate urls")
    all_ids = [r["id"] for r in arts + qs + us]
    if len(all_ids) != len(set(all_ids)):
        problems.append("ids shared between files")
    how, split_fn = sentence_splitter()
    n_sent = []
    sentences_of = {a["id"]: set(split_fn(a["text"])) for a in arts}
    for a in arts:
        if not a["url"].split("/")[2].endswith(".invalid"):
            problems.append(f"{a['id']}: url not on .invalid")
        if not re.fullmatch(r"\d{4}-\d\d-\d\d", a["published"]):
            problems.append(f"{a['id']}: bad date")
        n = len(split_fn(a["text"]))
        n_sent.append(n)
        if not 6 <= n <= 14:
            problems.append(f"{a['id']}: {n} sentences")
    later = shared_elsewhere = in_lead = 0
    idx_hist = Counter()
    for q in qs:
        a = by_id.get(q["article_id"])
        if a is None:
            problems.append(f"{q['id']}: unknown article")
            continue
        if q["evidence"] not in a["text"]:
            problems.append(f"{q['id']}: evidence not in article")
        if q["answer"] not in q["evidence"]:
            problems.append(f"{q['id']}: answer not in evidence")
        if q["kind"] not in KINDS:
            problems.append(f"{q['id']}: bad kind {q['kind']}")
        if q["kind"] == "latest" and q.get("older_article_id") not in by_id:
            problems.append(f"{q['id']}: latest without older article")
        sents = split_fn(a["text"])
        if q["evidence"] not in sents:
            problems.append(f"{q['id']}: evidence is not one whole sentence ({how})")
        else:
            i = sents.index(q["evidence"])
            idx_hist[min(i, 5)] += 1
            later += i >= 2
        titles = {x["title"] for x in arts if q["evidence"] in sentences_of[x["id"]]}
        shared_elsewhere += len(titles) > 1  # a deliberate distractor: the same sentence in another story
        if q["answer"].lower() in a["title"].lower():
            problems.append(f"{q['id']}: answer in title")
        if sents and q["answer"] in sents[0]:
            in_lead += 1
    for u in ups:
        if u["older_id"] not in by_id or u["newer_id"] not in by_id:
            problems.append(f"update {u['story']}: unknown article")
        elif (
            u["evidence_new"] not in by_id[u["newer_id"]]["text"]
            or u["evidence_old"] not in by_id[u["older_id"]]["text"]
        ):
            problems.append(f"update {u['story']}: evidence missing")
        elif by_id[u["newer_id"]]["published"] <= by_id[u["older_id"]]["published"]:
            problems.append(f"update {u['story']}: newer is not later")
        elif by_id[u["newer_id"]]["title"] == by_id[u["older_id"]]["title"]:
            problems.append(f"update {u['story']}: same title as the older report")
    # report
    print(
        f"{out}: {len(arts)} articles ({len({a['source'] for a in arts})} outlets), "
        f"{len(qs)} answerable, {len(us)} unanswerable, {len(ups)} updates; sentences per article "
        f"{min(n_sent)}–{max(n_sent)} (mean {sum(n_sent) / len(n_sent):.1f}); splitter: {how}"
    )
    split_of_art = {}
    for q in qs:
        split_of_art[q["article_id"]] = q["split"]
    print(
        "  articles by split:",
        dict(Counter(a.get("split") for a in arts)),
        "| questions by split:",
        dict(Counter(q["split"] for q in qs)),
        "| unanswerable by split/kind:",
        dict(Counter((u["split"], u["kind"]) for u in us)),
    )
    print(f"  {'kind':<10}" + "".join(f"{s:>7}" for s in SPLITS))
    for k in KINDS:
        row = [sum(1 for q in qs if q["kind"] == k and q["split"] == s) for s in SPLITS]
        print(f"  {k:<10}" + "".join(f"{n:>7}" for n in row))
        if 0 in row:
            problems.append(f"kind {k} missing from a split")
    share = later / max(1, len(qs))
    print(
        f"  evidence at sentence index >= 2: {later}/{len(qs)} = {share:.1%}; index histogram "
        f"{dict(sorted(idx_hist.items()))} (5 = 5+)"
    )
    print(
        f"  answer also in the lead: {in_lead}; evidence sentence verbatim in another story too: {shared_elsewhere}; "
        f"latest: {sum(q['kind'] == 'latest' for q in qs)}; with syndicated copies (also_in): "
        f"{sum('also_in' in q for q in qs)}"
    )
    counts = Counter(q["split"] for q in qs)
    if sum(counts.values()) >= 100 and min(counts.values()) / max(counts.values()) < 0.8:
        problems.append(f"unbalanced splits {dict(counts)}")
    if share < 0.8:
        problems.append(f"only {share:.0%} of evidence sentences are at index >= 2")
    for p in problems[:20]:
        print("  PROBLEM:", p)
    print("  OK" if not problems else f"  {len(problems)} problem(s)")
    return not problems


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("out_dir", type=Path)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--towns", type=int, default=13, help="invented towns per split (default 13)")
    ap.add_argument("--verify", action="store_true", help="only verify an existing OUT_DIR")
    args = ap.parse_args(argv)
    if args.verify:
        return 0 if verify(args.out_dir) else 1
    if args.towns < 1:
        ap.error("--towns must be at least 1")
    corpus = Corpus(args.seed, args.towns)
    corpus.build()
    corpus.write(args.out_dir)
    return 0 if verify(args.out_dir, corpus.verify_internal()) else 1


if __name__ == "__main__":
    sys.exit(main())

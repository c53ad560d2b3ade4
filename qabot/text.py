"""Text utilities every layer shares: words, matching form, terminal-safe lines, questions, money and shares.

Standard library only and imported by everyone, so it must stay light (a test asserts it pulls in no numpy, faiss
or torch). Two kinds of function live here, and they must not be mixed up:

- *analysis* forms (``normalize``, ``query_words``, ``numbers``, ``has_money``, ``has_share``) read text to match
  or classify it; they are never applied to article text that is stored or quoted, because a quote must stay an
  exact substring of its article;
- *display* forms (``strip_controls``, ``clean_line``, ``clean_question``) make text from web pages, files and
  people safe to print: a terminal escape in a page is shown as nothing, never obeyed. They are the one output
  cleaner: every front-end (terminal, REPL, Telegram HTML) passes what it writes through them;
- the *stored* form (``clean_stored``) is what loaders keep of a document: the same escape sequences removed whole,
  once, before quotes and offsets are cut from it.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from urllib.parse import urlsplit, urlunsplit

from qabot.errors import BadQuestion

# ====================================================================== words

# Words that carry no topic: dropping them keeps BM25 from matching every chunk on "the" or "what".
STOPWORDS = frozenset(
    """a about above after again against all am an and any are as at be because been before being below between both
    but by can could did do does doing down during each few for from further had has have having he her here hers
    herself him himself his how i if in into is it its itself just me more most my myself no nor not now of off on
    once only or other our ours ourselves out over own same she should so some such than that the their theirs them
    themselves then there these they this those through to too under until up very was we were what when where which
    while who whom why will with would you your yours yourself yourselves also according said says tell me please
    whats did does do""".split()
)

_WORD = re.compile(r"\w+", re.UNICODE)


def query_words(question: str) -> list[str]:
    """The question's content words, lower-cased, in order, without duplicates or stopwords."""
    words = [w.lower() for w in _WORD.findall(question)]
    return list(dict.fromkeys(w for w in words if w not in STOPWORDS and w.strip("_")))


# ====================================================================== matching form

# Invisible characters that sit *inside* words ("Tur\u200bkey", soft hyphens from hyphenating CMSs): removed with
# no space, or the word would split in two. Besides zero-width spaces/joiners, the word joiner, BOM, Mongolian vowel
# separator and soft hyphen, this takes the direction marks and bidi embeddings/overrides/isolates: they only steer
# how text is drawn and never separate words either.
_INVISIBLE = dict.fromkeys(
    map(ord, "\u200b\u200c\u200d\u2060\ufeff\u180e\u00ad\u200e\u200f\u061c\u2061\u2062\u2063\u2064"),
    None,
)
_BIDI = dict.fromkeys([*range(0x202A, 0x202F), *range(0x2066, 0x206A)], None)
_INVISIBLE.update(_BIDI)
_BLANK = re.compile("[\\s" + "".join(map(chr, _INVISIBLE)) + "]*")


def is_blank(text: str) -> bool:
    """True when ``text`` holds only whitespace and the invisible characters :func:`normalize` removes (zero-width
    spaces and joiners, soft hyphens, BOMs, bidi marks, embeddings and isolates): a document of them is empty."""
    return _BLANK.fullmatch(text) is not None


def normalize(text: str) -> str:
    """The form of ``text`` to match and analyse, never to quote or store.

    Invisible in-word characters (zero-width spaces and joiners, soft hyphens, BOMs, bidi controls) are removed
    without a space; compatibility forms are NFKC-folded (full-width ``Ｆ－３５`` → ``F-35``, ``ﬁ`` → ``fi``, a
    decomposed ``e\\u0301`` → ``é``; ordinary accents stay); every kind of space (NBSP, narrow NBSP, figure and thin
    spaces, ideographic space) and run of whitespace, line breaks included, becomes one plain space; the ends are
    trimmed.
    """
    return " ".join(unicodedata.normalize("NFKC", text.translate(_INVISIBLE)).split())


# ====================================================================== terminal-safe text

# Terminal escape sequences, matched whole so no "[31m" or "0;title" is left behind once the ESC is gone (ECMA-48):
#   CSI   ESC [ or 8-bit 0x9b, parameter bytes 0x30-0x3f, intermediates 0x20-0x2f, one final byte 0x40-0x7e
#   OSC   ESC ] or 0x9d ... up to BEL, ST (ESC \) or 8-bit ST 0x9c: window titles, hyperlinks, OSC 52 clipboard writes
#   DCS/SOS/PM/APC   ESC P/X/^/_ or 0x90/0x98/0x9e/0x9f ... up to the same terminators
#   nF    ESC, intermediates 0x20-0x2f, a final byte: ESC ( B, ESC # 8
# String payloads stop at ESC, BEL, C1 and line breaks, so an unterminated one costs linear time and leaves the text
# after it (the introducer alone is then removed, and without it the rest is inert); no real title, link or
# clipboard payload holds a line break, and a stray BEL pages later must not swallow the text in between.
_STRING_BODY = r"[^\x07\x1b\x80-\x9f\n]*(?:\x07|\x1b\\|\x9c)"
_SEQUENCE = (
    r"(?:\x1b\[|\x9b)[0-?]*[ -/]*[@-~]"
    rf"|(?:\x1b\]|\x9d){_STRING_BODY}"
    rf"|(?:\x1b[PX^_]|[\x90\x98\x9e\x9f]){_STRING_BODY}"
    r"|\x1b[ -/]+[0-~]"
    r"|\x1b[\[\]\\]"  # a CSI or OSC introducer, or ST, left alone: never text
)
_STORED_ESCAPE = re.compile(_SEQUENCE)
# On output the two-byte forms go too (ESC 7, ESC c reset, ESC M). A bare ESC before a word ("\x1bWhy") is far
# likelier than a two-byte sequence glued to a lower-case word, so a letter final followed by a lower-case letter is
# left as text: only the ESC goes.
_ESCAPE = re.compile(rf"{_SEQUENCE}|\x1b(?:[0-@\[-`{{-~]|[A-Za-z](?![a-z]))")
_SURROGATE = re.compile("[\ud800-\udfff]")
# Controls that stand for space (tab, line breaks, the separators Python splits on, NEL) become a space; the rest
# (NUL, BEL, backspace, DEL, C1...) carry nothing and go.
_SPACE_LIKE = frozenset("\t\n\r\x0b\x0c\x1c\x1d\x1e\x1f\x85")


@functools.lru_cache(maxsize=8)
def _control_table(keep: str) -> dict[int, str | None]:
    table: dict[int, str | None] = {
        c: (" " if chr(c) in _SPACE_LIKE else None) for c in [*range(0x20), *range(0x7F, 0xA0)] if chr(c) not in keep
    }
    table.update(_BIDI)  # a right-to-left override can make a shown line say something else ("Trojan source")
    return table


# Stored text keeps tab, line feed, vertical tab, form feed and CR (line breaks a loader turns into "\n" itself).
_STORED_CONTROLS = dict.fromkeys([*range(0x09), *range(0x0E, 0x20), *range(0x7F, 0xA0)], None)


def clean_stored(text: str) -> str:
    """A document's text as it may be stored and quoted: escape sequences (CSI, OSC, DCS and the rest) removed
    whole, so no "[2J[31m" is left once the ESC is gone; other control characters but tab and line breaks dropped;
    lone surrogates (which cannot be stored) as U+FFFD. Everything else stays, bidi marks included (right-to-left
    text needs them; they are removed where text is shown).

    Loaders apply it once, before any offset into the text is taken, so a quote stays an exact substring of what is
    stored. Unlike :func:`strip_controls` it never removes a character that follows a lone ESC: a stray ESC before a
    figure must not change the figure.
    """
    text = _STORED_ESCAPE.sub("", text).translate(_STORED_CONTROLS)
    return _SURROGATE.sub("\ufffd", text)


def strip_controls(text: str, *, keep: str = "\t\n") -> str:
    """``text`` safe to print on a terminal, otherwise as it was (no folding, spacing kept): for display only.

    Escape sequences (CSI, OSC, DCS and the rest, 7- and 8-bit) are removed whole; other C0 and C1 controls are
    removed, or become a space where they separate words (line breaks, form feed, NEL); bidi embedding, override and
    isolate controls (U+202A-U+202E, U+2066-U+2069) are removed; lone surrogates, which no terminal can be sent,
    become U+FFFD. Characters in ``keep`` (tab and line feed by default) are left; a carriage return becomes a line
    feed when line feeds are kept (a lone CR would let a line overwrite itself), else a space.
    """
    text = _ESCAPE.sub("", text)
    if "\n" in keep and "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = text.translate(_control_table(keep))
    return _SURROGATE.sub("\ufffd", text)


def clean_line(text: str, *, fold: bool = True) -> str:
    """One printable line from anything printed or asked: :func:`strip_controls`, line breaks and tabs as spaces,
    whitespace collapsed, ends trimmed.

    With ``fold`` (the default) the line is also :func:`normalize`-d and any character that still would not print
    (format characters, private-use and unassigned code points) is removed, so ``str.isprintable()`` holds: the form
    for questions and for anything compared. ``fold=False`` keeps the characters as written, zero-width joiners and
    non-joiners included (emoji sequences and Persian words need them): the form for titles and names shown to people.
    """
    line = strip_controls(text, keep="")
    if not fold:
        return " ".join(line.split())
    line = normalize(line)
    if not line.isprintable():
        line = " ".join("".join(ch for ch in line if ch.isprintable()).split())
    return line


def clean_label(value: object) -> str:
    """A title, outlet, author or link as people are shown it: :func:`clean_line` unfolded (escape sequences, bidi
    controls and line breaks gone, spaces collapsed, characters as written); empty for ``None``."""
    return clean_line(str(value), fold=False) if value is not None else ""


def clean_question(text: str, max_chars: int = 1000) -> str:
    """A question as the answerer should read it: :func:`clean_line` (folded), cut to ``max_chars`` characters.

    Raises :class:`qabot.errors.BadQuestion` ("please ask a question in words") when no letter or digit is left,
    checked after the cut, so what is answered always holds a word.
    """
    question = clean_line(text)[:max_chars].rstrip()
    if not any(ch.isalnum() for ch in question):
        raise BadQuestion("please ask a question in words")
    return question


# Where Python's "surrogateescape" error handler puts bytes that are not valid UTF-8 (command-line arguments, and
# stdin as the CLI reads it): a lone surrogate in U+DC80-U+DCFF is one undecodable byte.
_UNDECODABLE = re.compile("[\udc80-\udcff]")


def undecodable(text: str) -> bool:
    """True when ``text`` was decoded with ``surrogateescape`` from bytes that are not valid UTF-8.

    Such input is refused, never repaired: a question with a guessed or replaced character ("caf?") would be
    answered as another question.
    """
    return _UNDECODABLE.search(text) is not None


# ====================================================================== numbers

# A figure as news writes it: 1,600,000 and Indian 1,00,000; European 1.234.567,89 (two or more dot groups, so
# "1.234" stays a decimal); groups split by NBSP, narrow NBSP, thin space or apostrophe (Swiss 1'000); else plain
# digits with an optional decimal part. Plain spaces never group digits: "in 2019 300 people" is two numbers.
_GROUP = "[\u00a0\u202f\u2009']"
_DIGITS = (
    r"\d{1,3}(?:,\d{3})+(?:\.\d+)?"
    r"|\d{1,2}(?:,\d{2})+,\d{3}(?:\.\d+)?"
    r"|\d{1,3}(?:\.\d{3}){2,}(?:,\d+)?"
    rf"|\d{{1,3}}(?:{_GROUP}\d{{3}})+(?:[.,]\d+)?"
    r"|\d+(?:[.,]\d+)?"
)
# (?!\d) after the group makes the alternation fall through: "1,6000" is not "1,600" followed by "0".
_NUMBER = re.compile(rf"(?<![\d.])(?:{_DIGITS})(?!\d)")
_EURO_STYLE = re.compile(r"\d{1,3}(?:\.\d{3}){2,}(?:,\d+)?")


def numbers(text: str) -> list[str]:
    """The figures in ``text``, in order, as plain ASCII strings without thousands separators.

    ``"1,600 workers, ₹1,00,000 and 2.5 million"`` → ``["1600", "100000", "2.5"]``; European ``1.234.567,89`` →
    ``"1234567.89"``; a comma not followed by a group of three digits is punctuation (``"2,5"`` → ``"2"``, ``"5"``).
    Digits of other scripts (full-width, Arabic-Indic) are read as their values. Written numbers are not read.
    """
    out = []
    for m in _NUMBER.finditer(text):
        raw = m.group(0)
        if _EURO_STYLE.fullmatch(raw):
            raw = raw.replace(".", "").replace(",", ".")
        elif "," in raw and not re.search(r",\d{3}(?:\.|$)", raw):
            # "2,5": not a thousands group; the comma separates two numbers.
            out.extend(_ascii(part) for part in raw.split(","))
            continue
        out.append(_ascii(re.sub(f",|{_GROUP}", "", raw)))
    return out


def _ascii(figure: str) -> str:
    return "".join(str(unicodedata.decimal(ch)) if ch.isdecimal() else ch for ch in figure)


# ====================================================================== money

_UNITS = (
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen seventeen "
    "eighteen nineteen twenty thirty forty fifty sixty seventy eighty ninety hundred thousand million billion trillion"
)
_NUMWORD = "(?:" + "|".join(sorted(_UNITS.split(), key=len, reverse=True)) + r")\b"
_BIG = "(?:hundred|thousand|million|billion|trillion)"
# Written amounts: "five million", "two hundred and fifty thousand", "a billion", "half a million", "several
# million", "tens of millions of", "millions of". "a"/"an" only before a multiplier: "a pound" is often weight.
# Repeats are bounded (no written amount runs past eight words) so "one one one ..." costs linear time, not quadratic.
_WRITTEN = (
    rf"(?i:\b(?:(?:a|an|half\s+a|a\s+quarter\s+of\s+a|several|a\s+few|a\s+couple\s+of)\s+{_BIG}"
    rf"|{_NUMWORD}(?:(?:-|\s+(?:and\s+)?){_NUMWORD}){{0,7}}"
    rf"|(?:(?:tens|hundreds|thousands|millions|billions)\s+of\s+){{0,2}}(?:tens|hundreds|thousands|millions|billions"
    r"|trillions)\s+of))"
)
# Multipliers after digits: words and "bn"/"mn"/"tn" may stand apart ("€5 bn"); "m", "k" and "b" only attached
# ("$5m"), because "5 m" is five metres.
_MULT = (
    r"(?:[ \t\u00a0-]?(?i:thousand|million|billion|trillion|lakh(?:\s+crore)?s?|crores?|bn|mn|mln|bln|tn|trn)"
    r"|(?i:m|k|b))(?![A-Za-z])"
)
_AMOUNT_DIGITS = rf"(?<![\w.,])(?:{_DIGITS})(?!\d)(?:{_MULT})?"
_AMOUNT = rf"(?:{_AMOUNT_DIGITS}|{_WRITTEN})"

# ISO 4217 codes, upper case only ("TRY 5 times" and "try 5" must not be money). COP (the climate summits, "COP 29")
# and PHP ("PHP 8") count only after a number; ALL, AMD and similar clashing codes are left out.
_CODES = (
    "USD EUR GBP JPY CNY RMB CNH INR CHF SEK NOK DKK ISK PLN CZK HUF RON BGN TRY RUB UAH AUD CAD NZD HKD SGD TWD ZAR "
    "BRL MXN ARS CLP KRW IDR MYR THB VND PKR BDT LKR NGN KES GHS EGP MAD AED SAR QAR KWD ILS IRR"
)
_CODE = "(?:" + "|".join(_CODES.split()) + ")"
_CODE_AFTER = "(?:" + "|".join([*_CODES.split(), "COP", "PHP"]) + ")"
_SYMBOL = "[$€£¥₹₩₺₽₪₫₴₦₱฿₡₲₵₼₸₾₮৳₨﷼₿]"
# Symbols written before the figure: "$5", "US$5", "NZ$ 90", "R$ 90", "Rs. 500", "Fr. 12", "kr 45", "zł 5".
_SYMBOL_BEFORE = rf"(?:(?:(?<![A-Za-z])[A-Z]{{1,3}})?\$|{_SYMBOL}|(?<![A-Za-z])(?:Rs\.?|S?Fr\.|SFr|[Kk]r\.?|zł|Kč))"
# Symbols and abbreviations written after it: "5 €", "45 zł", "100 Kč", "45 kr", "5000 Ft", "50 TL", "50¢", "5元".
_SYMBOL_AFTER = rf"(?:{_SYMBOL}|¢|(?:zł|Kč|[Kk]r\.?|Ft|TL|Fr\.|руб\.?|₽)(?![A-Za-z])|[万億亿千]?[元円圆원])"

# Currency names, singular, plural and local forms.
_NAMES = (
    r"dollars?|bucks|euros?|cents?|centimes?|pence|pennies|sterling|quid|yen|yuan|renminbi|rupees?|rupiahs?|"
    r"rubles?|roubles?|kopecks?|kopeks?|francs?|crowns?|kron(?:a|or|e|er|ur)|øre|öre|"
    r"zlot(?:y|ys|ies)|złot(?:y|ys|ych|e)|groszy?|liras?|lire|kuru[sş]|forints?|lei|leu|lev|leva|kunas?|kune|"
    r"korun[ay]?|dinars?|dirhams?|dirhems?|riyals?|rials?|shekels?|sheqels?|hryvni(?:a|as|e)?|naira|shillings?|"
    r"cedis?|rand(?!\s+(?-i:[A-Z]))|reais|pesos?|ringgits?|baht|dong|taka|pesetas?|drachmas?|lempiras?|quetzal(?:es|s)?|"
    r"col(?:o|ó)n(?:es)?|bol[ií]var(?:es|s)?|soles|guaran[ií](?:es|s)?|kwacha|kwanza|birr|leones?|manats?|tenge|"
    r"lari|kyats?|riels?|bitcoins?|deutsche\s+marks?|deutschmarks?"
)
# Who issues it, when said: "Swiss francs", "Australian dollars", "Hong Kong dollars", "new Taiwan dollars".
_ISSUERS = (
    "US|U\\.S\\.|American|Australian|Canadian|New Zealand|Hong Kong|Singapore|Singaporean|Taiwan|New Taiwan|"
    "Taiwanese|Brunei|Jamaican|Bahamian|Fijian|Namibian|Liberian|Zimbabwe|Zimbabwean|East Caribbean|Swiss|French|"
    "Belgian|CFA|Congolese|Rwandan|Burundian|Guinean|Swedish|Norwegian|Danish|Icelandic|Faroese|Czech|Slovak|"
    "Estonian|Polish|Hungarian|Romanian|Moldovan|Bulgarian|Croatian|Serbian|Macedonian|Turkish|Russian|Belarusian|"
    "Ukrainian|Indian|Pakistani|Sri Lankan|Nepalese|Nepali|Mauritian|Indonesian|Malaysian|Thai|Vietnamese|"
    "Philippine|Mexican|Argentine|Argentinian|Chilean|Colombian|Cuban|Dominican|Uruguayan|Brazilian|South African|"
    "Egyptian|Sudanese|Lebanese|Syrian|Israeli|new Israeli|Jordanian|Iraqi|Kuwaiti|Bahraini|Libyan|Tunisian|"
    "Algerian|Moroccan|Saudi|Qatari|Omani|Yemeni|Iranian|Emirati|UAE|Kenyan|Ugandan|Tanzanian|Somali|Nigerian|"
    "Ghanaian|Chinese|Japanese|Korean|South Korean|North Korean|British|Irish|Scottish|Gibraltar|Cypriot|Maltese"
)
_ISSUER = rf"(?:(?:{_ISSUERS})\s+)?"

_WON_FIGURE = (
    rf"(?:\d{{1,3}}(?:,\d{{3}})+|\d{{1,3}}(?:\.\d{{3}}){{2,}}|\d{{1,3}}(?:{_GROUP}\d{{3}})+)(?:[.,]\d+)?"
    r"|(?!(?:1[89]|20)\d\d(?!\d))\d{3,}"
    rf"|\d+(?:\.\d+)?(?={_MULT})"
)
_WON_OBJECT = (
    "the|a|an|his|her|their|its|our|my|your|this|that|by|over|against|gold|silver|bronze|seats?|votes?|medals?|"
    "titles?|races?|games?|matches|awards?|prizes?|points?|praise|support|approval|backing"
)
_MONEY_PATTERN = "|".join(
    [
        # $3.1tn, €2.5bn, ₹45 crore, R$ 90, US$5, Rs. 500, Fr. 12 (what follows a figure does not matter here)
        rf"{_SYMBOL_BEFORE}\s?\d",
        # NOK 45, AUD 300, CHF 12.50, USD1.2bn
        rf"(?<![A-Za-z]){_CODE}\s?\d",
        # 12.50 CHF, 5 billion USD, 5 €, 45 zł, 50¢
        rf"{_AMOUNT}\s?(?:{_CODE_AFTER}(?![A-Za-z])|{_SYMBOL_AFTER})",
        # 5 Swiss francs, 300 Australian dollars, five million dollars, a billion yen, millions of euros, 10-euro
        # ("pounds of ..." is weight: "5 pounds of flour"; "Rand" before a name is one: "10 Rand Paul")
        rf"{_AMOUNT}(?:\s|-)?(?i:{_ISSUER})(?i:(?:{_NAMES})\b|pounds?\b(?!\s+of\b))",
        # "real" is an everyday word: reais always, "real" only after digits and not before another word
        # ("2 real problems"), or with its issuer
        rf"{_AMOUNT}\s?(?i:brazilian\s+reals?\b)",
        rf"{_AMOUNT_DIGITS}\s?(?i:real)\b(?![ \t]*[A-Za-z])",
        # "won" is a verb too ("the top 3 won prizes", "in 2020 won the election"): only after a figure with a
        # thousands separator, of three digits and no year, or with a multiplier, and not before what the verb takes
        rf"(?<![\w.,])(?:{_WON_FIGURE})(?!\d)(?:{_MULT})?[\s-]?(?i:won)\b(?!\s+(?i:{_WON_OBJECT})\b)",
        rf"{_AMOUNT}\s?(?i:(?:south\s+)?korean\s+won)\b",
    ]
)
MONEY = re.compile(_MONEY_PATTERN)
"""A sum of money in any major currency: symbols (``$``, ``€``, ``₹``, ``R$``, ``zł``), ISO codes before or after
the figure (``NOK 45``, ``12.50 CHF``), currency names (``450 crowns``, ``5 Swiss francs``), multipliers (``€2.5bn``,
``₹45 crore``) and written amounts (``five million dollars``). Its flags are in the pattern (ISO codes match in
upper case only), so ``MONEY.pattern`` can be joined with other patterns."""


def has_money(text: str) -> bool:
    """True when ``text`` states a sum of money (see :data:`MONEY`); plain counts, years, units and percentages are
    not money: "300 people", "in 2019", "7.4 km", "6.5%"."""
    return MONEY.search(text) is not None


# ====================================================================== shares

_ORDINALS = "(?:third|quarter|fifth|sixth|seventh|eighth|ninth|tenth|twentieth|hundredth)"
_SMALL = "(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|twenty|hundred)"
_SHARE_PATTERN = "|".join(
    [
        r"\d\s?(?:%|‰|％)",
        rf"(?:\d|(?i:\b{_NUMWORD}))\s?(?i:per\s?cent|pct|percentage\s+points?|basis\s+points?|bps|per\s+mille)\b",
        r"\dpc\b",  # British "5pc"; with a space, "5 pc" is five computers
        r"(?i:\bpercentage\s+points?\b)",
        r"(?i:\bhalf\b)",
        # "two-thirds", "three quarters"; a single "a third"/"a quarter" only with "of" ("a third term" is not a
        # share, nor "the first quarter")
        rf"(?i:\b{_NUMWORD}[\s-]{_ORDINALS}s\b|\b(?:a|one)[\s-]{_ORDINALS}\s+of\b)",
        # "two in five", "1 in 10", "one out of every four", "one in a hundred"; never "3 in 2019"
        rf"(?i:(?<![\w.,])(?:\d+|{_SMALL})\s+(?:in|out\s+of)\s+(?:every\s+)?(?:\d{{1,3}}(?![\w,]|\.\d)|{_SMALL}\b|a\s+"
        r"(?:hundred|thousand|million)\b))",
        r"(?i:\b(?:a|the)\s+(?:slim\s+|narrow\s+|large\s+|vast\s+|clear\s+|small\s+)?(?:majority|minority)\s+of\b)",
    ]
)
SHARE = re.compile(_SHARE_PATTERN)
"""A share or proportion: ``6.5%``, ``12 per cent``, ``percentage points``, ``half``, ``two-thirds``, ``a quarter
of``, ``two in five``, ``a majority of``. Flags are in the pattern, like :data:`MONEY`."""


def has_share(text: str) -> bool:
    """True when ``text`` states a share or proportion (see :data:`SHARE`); "what percentage" alone is not one."""
    return SHARE.search(text) is not None


def counted(count: int, noun: str) -> str:
    """ "1 article", "2 articles", "0 articles": the count with its noun (a regular plural in -s)."""
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


# ---------------------------------------------------------------------- URLs
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
    "MONEY",
    "SHARE",
    "STOPWORDS",
    "clean_label",
    "clean_line",
    "clean_question",
    "clean_stored",
    "counted",
    "has_money",
    "has_share",
    "is_blank",
    "normalize",
    "numbers",
    "query_words",
    "strip_controls",
    "undecodable",
    "url_key",
]

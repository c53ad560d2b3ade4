"""Sentence-aware chunks with exact character offsets into an article's text.

``split_sentences`` is a small rule-based splitter (no model, no downloads): a handful of tables and regexes decide
whether a full stop, question mark or line break ends a sentence. ``chunk_sentences`` packs whole sentences into
chunks that fit a token budget; a sentence too long for the budget is cut at clause, then word, then character
boundaries, and the pieces act as sentences. Every ``Span`` is half-open ``[start, end)`` into the text, never
empty and never starts or ends with whitespace, so ``text[span.start:span.end]`` is always quotable.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable

from qabot.models import Article, Chunk, Span

TokenCounter = Callable[[str], int]

_CLOSERS = "\"'”’»)]}›"
_OPENERS = "\"'“‘«([{‹¿¡"
# A terminator followed by optional closing quotes/brackets. Latin terminators need whitespace after them (so
# "2.5", "example.com" and "?q=1" never match); CJK full stops do not, as those scripts use no spaces.
_TERMINAL = re.compile(rf"[.!?…]+[{re.escape(_CLOSERS)}]*(?=\s)|[。！？]+[{re.escape(_CLOSERS)}」』]*")
_PARAGRAPH_BREAK = re.compile(r"\n[^\S\n]*\n\s*")
_NEWLINE = re.compile(r"\n")
_NEXT_CHAR = re.compile(r"\s*(\S)")
_ENDS_TERMINAL = re.compile(rf"[.!?…。！？][{re.escape(_CLOSERS)}」』]*\Z")
_LIST_ITEM = re.compile(r"(?:[-*•▪–—]|\d{1,3}[.)]|[a-zA-Z]\)|#{1,6})\s")
_HEADING = re.compile(r"#{1,6}\s")
_WORD = re.compile(r"\w+")
_DOTTED_ACRONYM = re.compile(r"(?:[A-Za-z]\.)+[A-Za-z]\Z")

# Abbreviations that precede a name or number and so never end a sentence.
_PREFIX_ABBREVIATIONS = frozenset(
    """mr mrs ms mx dr prof mt gen sen rep gov lt col capt cmdr sgt cpl adm maj rev hon pres supt insp det messrs
    mme mlle vs v e.g i.e cf viz approx ca fig figs vol jan feb mar apr jun jul aug sep sept oct nov dec""".split()
)
# Abbreviations that may also end a sentence: split after them only when a typical sentence opener follows.
_SUFFIX_ABBREVIATIONS = frozenset(
    """inc corp ltd co llc plc bros jr sr etc al esq phd st ave blvd rd ft dept no
    u.s u.k u.n e.u u.s.a a.m p.m d.c""".split()
)
_SENTENCE_OPENERS = frozenset(
    """the a an it its he she they we i you this that these those there here his her their our my but and so yet
    in on at for of to by as if when while after before since although though however meanwhile still also
    then now today yesterday tomorrow last next earlier later some many most all both each no not one two
    what why how who where which according officials police""".split()
)
# A line ending in one of these continues on the next line (hard-wrapped prose), even when it has no full stop.
_CONNECTING_WORDS = frozenset(
    """a an the and or but nor of to in on at for with by from as into onto over under about after before than
    that which who whom whose is are was were be been has have had not its his her their our my your said""".split()
)
_CONTINUES = tuple(",;:-–—/&(+=")


def approx_tokens(s: str) -> int:
    """Estimate a text's token count when no tokenizer is at hand: the larger of words × 1.3 and characters / 4.

    The second term keeps text without spaces (URLs, long numbers, scripts without word breaks) from looking short.
    """
    return max(round(len(s.split()) * 1.3), math.ceil(len(s) / 4))


def split_sentences(text: str) -> list[Span]:
    """Split ``text`` into sentence spans, in order, non-overlapping, trimmed of whitespace and never empty.

    A blank line always ends a sentence; a single line break ends one after a heading-like line or before a
    list item. Abbreviations, initials, decimals, URLs and ellipses followed by lower case do not.
    """
    cuts: list[int] = [m.start() for m in _PARAGRAPH_BREAK.finditer(text)]
    cuts.extend(m.end() for m in _TERMINAL.finditer(text) if _ends_sentence(text, m.start(), m.end()))
    cuts.extend(m.start() for m in _NEWLINE.finditer(text) if _line_break_ends_sentence(text, m.start()))
    cuts.append(len(text))
    cuts.sort()
    spans: list[Span] = []
    start = 0
    for cut in cuts:
        if cut > start:
            span = _trimmed(text, start, cut)
            if span is not None:
                spans.append(span)
            start = cut
    return spans


def _ends_sentence(text: str, start: int, end: int) -> bool:
    """Whether the terminator ``text[start:end]`` (with closers) ends a sentence."""
    nxt = _NEXT_CHAR.match(text, end)
    if nxt is None:
        return True
    following = nxt.group(1)
    if following.islower() or following in ",;:":
        return False
    punct = text[start:end].rstrip(_CLOSERS + "」』")
    if punct != ".":
        return True  # ?, !, ellipsis, CJK: only a lower-case continuation (checked above) keeps the sentence going
    before = text[max(0, start - 40) : start]
    if not before or before[-1].isspace():
        return True
    word = before.rsplit(None, 1)[-1].lstrip(_OPENERS)
    if not word:
        return True
    key = word.lower()
    if key in _PREFIX_ABBREVIATIONS:
        return False
    if len(word) == 1 and word.isupper():
        # An initial ("J. K. Rowling") unless a sentence clearly starts next ("World War I. The").
        following_word = _next_word(text, nxt.start(1))
        return len(following_word) > 1 and following_word.lower() in _SENTENCE_OPENERS
    if key in _SUFFIX_ABBREVIATIONS or _DOTTED_ACRONYM.match(word):
        if key == "no" and following.isdigit():
            return False
        return _next_word(text, nxt.start(1)).lower() in _SENTENCE_OPENERS
    # "1. First item" at the start of a line is a list number, not the end of a sentence.
    return not (word.isdigit() and _at_line_start(text, start - len(word)))


def _next_word(text: str, pos: int) -> str:
    m = _WORD.match(text, pos)
    return m.group() if m else ""


def _at_line_start(text: str, pos: int) -> bool:
    line_start = text.rfind("\n", 0, pos) + 1
    return not text[line_start:pos].strip()


def _line_break_ends_sentence(text: str, pos: int) -> bool:
    """Whether the single line break at ``pos`` ends a sentence (blank lines are handled elsewhere)."""
    prev_start = text.rfind("\n", 0, pos) + 1
    prev = text[prev_start:pos].strip()
    next_end = text.find("\n", pos + 1)
    nxt = text[pos + 1 : next_end if next_end >= 0 else len(text)].strip()
    if not prev or not nxt:
        return False  # part of a paragraph break, already a cut
    if _LIST_ITEM.match(nxt) or _HEADING.match(prev):
        return True
    if _ENDS_TERMINAL.search(prev):
        return False  # the terminator itself decided (it may be an abbreviation)
    if prev.endswith(_CONTINUES) or prev.rsplit(None, 1)[-1].lower() in _CONNECTING_WORDS:
        return False
    first = nxt[0]
    # A line without a full stop followed by a capitalised line is a headline, byline or caption.
    return first.isupper() or first.isdigit() or first in _OPENERS


def _trimmed(text: str, start: int, end: int) -> Span | None:
    segment = text[start:end]
    stripped = segment.lstrip()
    if not stripped:
        return None
    new_start = start + len(segment) - len(stripped)
    return Span(new_start, new_start + len(stripped.rstrip()))


# --- long sentences

# Clause boundaries first (after a comma, semicolon, colon or a spaced dash), then any whitespace.
_CLAUSE_BREAK = re.compile(r"[,;:]+\s+|\s+[-–—]+\s+")
_WORD_BREAK = re.compile(r"\s+")
_BREAK_LEVELS = (_CLAUSE_BREAK, _WORD_BREAK)


def split_long_sentences(
    text: str, sentences: list[Span], *, max_tokens: int, count_tokens: TokenCounter
) -> list[Span]:
    """Replace every sentence longer than ``max_tokens`` by pieces that fit, cut at clause/word/character breaks.

    Pieces are as long as the budget allows. A piece is never shorter than one character, so with a counter that
    gives a single character more than ``max_tokens`` tokens the pieces are single characters that do not fit.
    """
    _check_budget(max_tokens, 0)
    out: list[Span] = []
    for span in sentences:
        if count_tokens(text[span.start : span.end]) <= max_tokens:
            out.append(span)
        else:
            out.extend(_split_span(text, span, max_tokens, count_tokens, level=0))
    return out


def _split_span(text: str, span: Span, max_tokens: int, count: TokenCounter, level: int) -> list[Span]:
    if level >= len(_BREAK_LEVELS):
        return _split_chars(text, span, max_tokens, count)
    units = _units(text, span, _BREAK_LEVELS[level])
    pieces: list[Span] = []
    i = 0
    while i < len(units):
        j = _longest_fit(text, units, i, max_tokens, count)
        if j < 0:
            pieces.extend(_split_span(text, units[i], max_tokens, count, level + 1))
            i += 1
        else:
            pieces.append(Span(units[i].start, units[j].end))
            i = j + 1
    return pieces


def _units(text: str, span: Span, pattern: re.Pattern[str]) -> list[Span]:
    """The span cut after every match of ``pattern``, each unit trimmed of whitespace."""
    units: list[Span] = []
    start = span.start
    for m in pattern.finditer(text, span.start, span.end):
        if m.end() < span.end:
            piece = _trimmed(text, start, m.end())
            if piece is not None:
                units.append(piece)
            start = m.end()
    tail = _trimmed(text, start, span.end)
    if tail is not None:
        units.append(tail)
    return units


def _longest_fit(text: str, units: list[Span], i: int, max_tokens: int, count: TokenCounter) -> int:
    """The largest ``j`` such that units ``i..j`` fit together, or -1 when unit ``i`` alone is too long."""

    def fits(j: int) -> bool:
        return count(text[units[i].start : units[j].end]) <= max_tokens

    if not fits(i):
        return -1
    # Gallop, then bisect: a few tokenizer calls per piece even for a 200k-character sentence.
    lo, step = i, 1
    while lo + step < len(units) and fits(lo + step):
        lo, step = lo + step, step * 2
    hi = min(lo + step, len(units))  # first index known (or assumed) not to fit
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if fits(mid):
            lo = mid
        else:
            hi = mid
    return lo


def _split_chars(text: str, span: Span, max_tokens: int, count: TokenCounter) -> list[Span]:
    pieces: list[Span] = []
    start = span.start
    while start < span.end:
        room = span.end - start
        # Gallop then bisect on the piece length, so a tokenizer never sees much more than one piece's worth.
        # lo fits (or is the one-character minimum that guarantees progress); hi does not fit, or is past the end.
        lo, step = 1, 1
        while lo + step <= room and count(text[start : start + lo + step]) <= max_tokens:
            lo, step = lo + step, step * 2
        hi = min(lo + step, room + 1)
        while hi - lo > 1:
            mid = (lo + hi) // 2
            if count(text[start : start + mid]) <= max_tokens:
                lo = mid
            else:
                hi = mid
        piece = _trimmed(text, start, start + lo)
        if piece is not None:
            pieces.append(piece)
        start += lo
    return pieces


# --- chunks


def chunk_sentences(
    article_id: str,
    text: str,
    sentences: list[Span],
    *,
    max_tokens: int,
    overlap: int,
    count_tokens: TokenCounter = approx_tokens,
) -> list[Chunk]:
    """Pack whole sentences greedily into chunks of at most ``max_tokens``, repeating ``overlap`` sentences.

    Sentences longer than the budget are first cut into pieces (see ``split_long_sentences``).
    """
    _check_budget(max_tokens, overlap)
    pieces = split_long_sentences(text, sentences, max_tokens=max_tokens, count_tokens=count_tokens)
    return _pack(article_id, text, pieces, max_tokens, overlap, count_tokens)


def chunk_article(
    article: Article, *, max_tokens: int, overlap: int, count_tokens: TokenCounter = approx_tokens
) -> tuple[list[Span], list[Chunk]]:
    """An article's sentence spans (long ones already cut into pieces) and its chunks; the title is not included."""
    _check_budget(max_tokens, overlap)
    sentences = split_sentences(article.text)
    pieces = split_long_sentences(article.text, sentences, max_tokens=max_tokens, count_tokens=count_tokens)
    return pieces, _pack(article.id, article.text, pieces, max_tokens, overlap, count_tokens)


def _pack(
    article_id: str, text: str, sents: list[Span], max_tokens: int, overlap: int, count: TokenCounter
) -> list[Chunk]:
    def fits(first: int, last: int) -> bool:
        return count(text[sents[first].start : sents[last].end]) <= max_tokens

    chunks: list[Chunk] = []
    first, end = 0, 1  # the chunk is sents[first:end]; sents[end - 1] is the first sentence not yet in any chunk
    while first < len(sents):
        while first < end - 1 and not fits(first, end - 1):
            first += 1  # overlapped sentences give way so every chunk brings at least one new sentence
        while end < len(sents) and fits(first, end):
            end += 1
        start, stop = sents[first].start, sents[end - 1].end
        chunks.append(Chunk(article_id, len(chunks), start, stop, text[start:stop], tuple(sents[first:end])))
        if end >= len(sents):
            break
        size = end - first
        first = end - overlap if 0 < overlap < size else end
        end += 1
    return chunks


def _check_budget(max_tokens: int, overlap: int) -> None:
    if max_tokens < 1:
        raise ValueError(f"max_tokens must be at least 1, got {max_tokens}")
    if overlap < 0:
        raise ValueError(f"overlap must be 0 or more, got {overlap}")


__all__ = [
    "TokenCounter",
    "approx_tokens",
    "chunk_article",
    "chunk_sentences",
    "split_long_sentences",
    "split_sentences",
]

"""Follow-up questions without an LLM: what the previous turn of a conversation carries into the next one.

A conversation is the chain of turns in one place (a REPL session; in Telegram a private chat or a group's reply
thread). The front-end keeps one ``Context`` per conversation and passes it to the pipeline:

    context = None
    answer = answerer.ask(question, context=context)       # answer.context says what was used (``--json``)
    context = next_context(context, answer, now=time.time())  # what the next turn carries
    stored = context.to_dict() if context else None          # JSON-safe: persist it (the bot, across restarts)
    context = Context.from_dict(stored) if stored else None  # ... and read it back; `:new` / `/new`: None

``read_followup`` decides, from the words alone, whether a question continues the previous turn's story:

- ``what about Greece?`` / ``how about X`` / ``and X?`` (ellipsis): a follow-up on the previous *topic*, the new
  names taking the place of the old; no article preference, as the new name is often another story;
- a new name the previous story never mentions: standalone, asked as if fresh;
- a pronoun or demonstrative (``he``, ``it``, ``that``, ``they`` …) or a leading ``and``/``so``/``also``: a
  follow-up, even with one word the story lacks ("why was he arrested?");
- otherwise a content word the previous articles never use means a new topic (standalone); a question all of
  whose words the story already has is a follow-up.

A follow-up is retrieved with a rewritten query (the question, then the carried names and topic words) and prefers
the previous answer's articles and their story: a first pass over those alone, then the whole index when that pass
would decline. The rewritten query never appears in the answer's text: quotes stay verbatim article sentences.
Context older than ``QABOT_CONTEXT_TTL_MINUTES`` (30 by default; 0 turns follow-ups off) is ignored.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from qabot.answer.kinds import fold, question_names
from qabot.models import Answer
from qabot.text import query_words

MAX_NAMES = 4  # names carried into the next query at most
MAX_TOPIC = 6  # topic words carried at most
# Words the story lacks that a question with a pronoun may still have ("why was he arrested?"); more read as a new
# topic ("how many stops are there on the tram line?"). Chosen on the tune half of the conversation set.
ANAPHORA_UNKNOWN = 1

_ELLIPSIS = re.compile(r"^\s*(?:and\s+|but\s+|so\s+)?(?:what|how)\s+about\b", re.I)
_LEADING = re.compile(r"^\s*(?:and|so|also|but|then)\b", re.I)
_ANAPHORA = frozenset(
    "he she it its they them their theirs his her him hers that this those these there then such".split()
)
# Question words and verbs that name no topic: "when did it happen?" asks about nothing new.
_GENERIC = frozenset(
    """happen happened happens cause caused reason mean means say said saying tell told know known going go goes
    went get got make made take took give gave come came happen many much long old first last next ago year years
    day days time times people person thing things one new else well way why who whom whose how what when where which
    anything something exactly really""".split()
)


@dataclass(frozen=True)
class Context:
    """The previous turn of one conversation, as the next question needs it. Frozen, JSON-safe via ``to_dict``.

    ``articles``: the ids the previous answer quoted, first quote's first; ``names`` and ``topic``: what the chain of
    turns asked about (newest first); ``at``: when that answer was given (seconds since the epoch); ``turns``: how
    many answered turns the chain has.
    """

    question: str
    articles: tuple[str, ...]
    names: tuple[str, ...] = ()
    topic: tuple[str, ...] = ()
    at: float = 0.0
    turns: int = 1

    def expired(self, now: float, ttl_minutes: float) -> bool:
        """True when the context is too old to use (``ttl_minutes`` 0: always, follow-ups are off)."""
        return ttl_minutes <= 0 or now - self.at > ttl_minutes * 60

    def to_dict(self) -> dict[str, object]:
        """A JSON-safe dict; ``Context.from_dict`` reads it back."""
        return {
            "question": self.question,
            "articles": list(self.articles),
            "names": list(self.names),
            "topic": list(self.topic),
            "at": self.at,
            "turns": self.turns,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, object]) -> Context:
        """The context ``to_dict`` wrote (unknown keys ignored)."""

        def strings(key: str) -> tuple[str, ...]:
            value = data.get(key) or ()
            return tuple(str(v) for v in value) if isinstance(value, list | tuple) else ()

        return cls(
            question=str(data.get("question", "")),
            articles=strings("articles"),
            names=strings("names"),
            topic=strings("topic"),
            at=float(data.get("at", 0.0)),  # type: ignore[arg-type]
            turns=int(data.get("turns", 1)),  # type: ignore[call-overload]
        )


@dataclass(frozen=True)
class Followup:
    """What ``read_followup`` decided for one question: whether it continues the context, and how to retrieve.

    ``query``: what retrieval reads (the question itself when standalone); ``prefer``: article ids to try first
    (their stories included by the answerer); ``reason``: one word for ``--debug`` and ``--json``.
    """

    followup: bool
    query: str
    prefer: tuple[str, ...] = ()
    reason: str = "no context"


def _stem(word: str) -> str:
    # Loose enough that "arrested" meets "arrest" and "recalls" meets "recall"; not a linguistic stemmer.
    w = fold(word)
    for suffix in ("ing", "ed", "es", "s"):
        if w.endswith(suffix) and len(w) > len(suffix) + 3:
            return w[: -len(suffix)]
    return w


def vocabulary(texts: Iterable[str]) -> frozenset[str]:
    """The stems of the content words of ``texts`` (the previous answer's articles): what the story talks about."""
    return frozenset(_stem(w) for t in texts for w in query_words(t))


def _content(question: str) -> list[str]:
    return [w for w in query_words(question) if w not in _GENERIC and not w.isdigit()]


def names_no_topic(question: str) -> bool:
    """True when ``question`` names nothing to look up: no name, number or content word beyond pronouns, question
    words and generic verbs ("when did that happen?", "how much was it?", "who said that?").

    Such a question only makes sense as a follow-up. Asked with nothing before it, any sentence the index returns is
    a guess: the answerer asks which story is meant instead of scoring one.
    """
    return not question_names(question) and not [w for w in query_words(question) if w not in _GENERIC]


def _known_name(name: str, context: Context, vocab: frozenset[str]) -> bool:
    key = fold(re.sub(r"['’]s?$", "", name))
    carried = {fold(n) for n in context.names}
    return key in carried or _stem(key) in vocab or any(key in c.split() for c in carried)


def read_followup(question: str, context: Context | None, vocab: frozenset[str] = frozenset()) -> Followup:
    """Whether ``question`` follows up ``context`` (already checked for expiry), and the query to retrieve with.

    Pure: ``vocab`` is ``vocabulary()`` of the context's articles (empty: only the carried words are known).
    """
    if context is None or not context.articles:
        return Followup(False, question)
    names = question_names(question)
    words = query_words(question)
    if _ELLIPSIS.search(question):
        # "what about Greece?": the previous topic, with the new names instead of the old ones.
        topic = [w for w in context.topic if w not in {fold(n) for n in names}]
        carried = [] if names else list(context.names)
        return Followup(True, _rewrite(question, carried, topic), (), "ellipsis")
    new_names = [n for n in names if not _known_name(n, context, vocab)]
    if new_names:
        return Followup(False, question, (), "new name")
    anaphoric = bool(_LEADING.search(question)) or any(w.lower() in _ANAPHORA for w in re.findall(r"\w+", question))
    known = vocab | {_stem(w) for w in context.topic}
    # A number the story never states ("… customers in 2019?") points elsewhere as a new name does: it is not a
    # topic word (``_content`` leaves numbers out), but it counts against the allowance here.
    numbers = [w for w in words if w.isdigit() and w not in vocab]
    unknown = [w for w in _content(question) if _stem(w) not in known] + numbers
    if len(unknown) > (ANAPHORA_UNKNOWN if anaphoric else 0):
        return Followup(False, question, (), "new topic")
    reason = "anaphora" if anaphoric else "same topic"
    present = {fold(w) for w in words}
    carried = [n for n in context.names if fold(n) not in present]
    topic = [w for w in context.topic if w not in present]
    return Followup(True, _rewrite(question, carried, topic), context.articles, reason)


def _rewrite(question: str, names: Iterable[str], topic: Iterable[str]) -> str:
    """The question first (its wh-word and kind are read from the start), then the carried words."""
    extra = [*names, *topic]
    return f"{question} {' '.join(extra)}" if extra else question


def next_context(previous: Context | None, answer: Answer, *, now: float) -> Context | None:
    """What the turn after ``answer`` carries: its question's and first quote's names, its topic words and articles.

    A declined answer leaves the context as it was (the story is still the one being talked about); a follow-up's
    names and topic are added to the chain's, a standalone answer starts a new chain.
    """
    if answer.abstained or not answer.quotes:
        return previous
    used = answer.context
    chained = previous is not None and used is not None and used.followup
    q_names = [n for n in question_names(answer.question) if n.lower() not in _ANAPHORA]
    quote_names = [n for n in question_names(answer.quotes[0].text) if _namelike(n)]
    names = _unique([*q_names, *(previous.names if chained and previous else ()), *quote_names])[:MAX_NAMES]
    folded = {fold(n) for n in names}
    own = [w for w in _content(answer.question) if w not in folded]
    topic = _unique([*own, *(previous.topic if chained and previous else ())])[:MAX_TOPIC]
    articles = tuple(dict.fromkeys(q.article_id for q in answer.quotes))
    turns = previous.turns + 1 if chained and previous else 1
    root = previous.question if chained and previous else answer.question
    return Context(root, articles, tuple(names), tuple(topic), now, turns)


_CALENDAR = frozenset(
    "monday tuesday wednesday thursday friday saturday sunday january february march april may june july august "
    "september october november december".split()
)


def _namelike(word: str) -> bool:
    # A quote's capitalised words include titles ("Dr."), units ("C" of "°C") and days: no story is named by them.
    return len(word) > 2 and not word.endswith(".") and word.lower() not in _CALENDAR


def _unique(items: Iterable[str]) -> list[str]:
    seen: set[str] = set()
    out = []
    for item in items:
        key = fold(item)
        if key and key not in seen:
            seen.add(key)
            out.append(item)
    return out


__all__ = [
    "MAX_NAMES",
    "MAX_TOPIC",
    "Context",
    "Followup",
    "names_no_topic",
    "next_context",
    "read_followup",
    "vocabulary",
]

"""Is a message a question at all? Read from its wording, so a front-end can stay quiet on "thanks!" or "👍".

A reply to an answer is often an acknowledgement rather than a question; answering it posts a decline (with buttons)
where nobody asked anything. ``is_question`` errs towards "yes": only a message made of courtesy and reaction words
(or of no words at all) is not a question, so a bare search such as "Turkey F-35" is still answered. A "?" or a
question opening ("when was that", "who built it", "tell me more") after any courtesy words is always a question.
"""

from __future__ import annotations

import re

from qabot.text import STOPWORDS

_WORD = re.compile(r"[^\W_]+", re.UNICODE)
_WH = frozenset("what whats when where which who whom whose why how".split())  # a question wherever they stand
# Words that open a question or a request: auxiliaries ("did they …", "is it …") and asking verbs. Only at the start:
# "that was helpful" asks nothing.
_OPENERS = frozenset(
    """is are was were am do does did can could will would should shall may might must has have had tell explain
    show describe list give find summarize summarise compare define any anything""".split()
)
_CONJUNCTIONS = frozenset("and so but then also or".split())
# Courtesy, agreement and reactions: a message of these alone asks nothing.
_CHITCHAT = frozenset(
    """thanks thank thx ty tysm thankyou cheers ta merci danke gracias ok okay k kk okey alright right fine sure
    cool nice great good awesome perfect excellent brilliant wonderful amazing fantastic super neat sweet lovely
    interesting helpful useful informative appreciated appreciate noted understood got gotcha see makes sense yes
    yeah yep yup ya no nope nah wow whoa lol lmao rofl haha hahaha hah heh hehe omg hi hello hey hiya bye goodbye
    later much lot lots bot man dude mate guys indeed true agreed exactly absolutely totally love like
    well done job work works worked help helped helps explains clear answer answers info""".split()
)


def is_question(text: str) -> bool:
    """Whether ``text`` asks something: any "?" or question opening, or any word beyond courtesy and reactions.

    False for "thanks!", "👍", "ok", "lol", "great, thank you so much"; True for "when was that", "who built it",
    "thanks! and what about Greece", "Turkey F-35".
    """
    if "?" in text or "？" in text:
        return True
    words = [w.lower() for w in _WORD.findall(text)]
    if any(w in _WH for w in words):
        return True
    courtesy = 0
    while courtesy < len(words) and words[courtesy] in _CHITCHAT:
        courtesy += 1
    rest = words[courtesy:]
    opening = next((w for w in rest if w not in _CONJUNCTIONS), None)
    if opening in _OPENERS:
        return True
    return any(w not in _CHITCHAT and w not in STOPWORDS for w in rest)


def is_courtesy(text: str) -> bool:
    """Courtesy or a reaction in words ("thanks!", "ok", "lol"): no question, yet more than emoji or blanks, which
    the pipeline already meets with "please ask a question in words"."""
    return not is_question(text) and _WORD.search(text) is not None


__all__ = ["is_courtesy", "is_question"]

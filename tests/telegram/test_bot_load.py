"""Load: 200 questions from 50 chats arriving at once, through the fake Bot API, in rounds.

Every question is answered exactly once, in its own chat and forum topic, and the process's memory stays flat from
round to round (nothing per question is kept in memory: answers go to the feedback database on disk).
"""

from __future__ import annotations

import gc
import os
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

import pytest

from qabot.config import Settings
from qabot.render import telegram as th
from qabot.render.common import DECLINE_TEXT
from tests.fakes.telegram_api import Call, FakeBotApi, group_chat, private_chat, user
from tests.telegram.harness import running_bot, visible

# (question, what its answer shows): the first ones from the sample articles, the last ones not in any of them.
QUESTIONS = [
    ("Why was Turkey removed from the F-35 programme?", "Washington removed Turkey from the F-35 programme in 2019"),
    ("Who is the new head coach of Fenwater Rovers?", "Marta Lindqvist"),
    ("How often do trams run in the evening in Port Aldwick?", "every 10 minutes in the evening"),
    ("Which battery packs did Brindlewick recall?", None),
    ("What is the capital of Peru?", DECLINE_TEXT),
    ("Who won the 1998 Eurovision Song Contest?", DECLINE_TEXT),
]
CHATS = 50
PER_CHAT = 4  # 200 questions a round
ROUNDS_AFTER_WARM_UP = 3
# Allowed RSS growth over three rounds (600 questions) after the warm-up. The warm-up has already filled the
# allocator arenas, the model's activation buffers for every question length, SQLite's page caches and PTB's
# connection pool; what moves afterwards is allocator noise (a few MB, glibc keeps freed arenas). A leak of anything
# sizeable per question — an Answer with its quotes (~10 kB), a rendered message, an HTTP response, a per-question
# FAISS or numpy copy (≥ 50 kB) — would add 6 MB to 30+ MB over 600 questions; 30 MB is generous for the noise and
# still catches the larger leaks. Smaller per-question leaks need more rounds than a test can afford.
MAX_GROWTH_MB = 30
# The sharper check: Python objects alive after a full collection. Between rounds the count moves by a few hundred
# (connections, tasks and caches in flight); anything kept per question is at least ten objects (an Answer, its
# quotes and their strings), 6,000 over three rounds. 1,500 is fewer than three objects per question.
MAX_NEW_OBJECTS = 1500


@dataclass(frozen=True)
class _Asked:
    chat_id: int
    message_id: int
    thread_id: int | None
    expected: str | None


def _rss_mb() -> float:
    """Current resident memory of this process (``getrusage`` would give the peak, which never goes down)."""
    with open("/proc/self/statm", encoding="ascii") as statm:
        resident_pages = int(statm.read().split()[1])
    return resident_pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def _chats() -> list[tuple[dict, list[int | None]]]:
    """50 chats: private ones, plain groups, and forum groups whose questions come from two topics."""
    chats: list[tuple[dict, list[int | None]]] = []
    for i in range(CHATS):
        if i % 3 == 0:
            chats.append((private_chat(user(5000 + i, f"P{i}")), [None]))
        elif i % 3 == 1:
            chats.append((group_chat(-2000 - i, f"Group {i}"), [None]))
        else:
            chats.append((group_chat(-3000 - i, f"Forum {i}", forum=True), [11, 12]))
    return chats


def _ask_round(fake: FakeBotApi, round_no: int) -> list[_Asked]:
    asked = []
    for c, (chat, threads) in enumerate(_chats()):
        for k in range(PER_CHAT):
            question, expected = QUESTIONS[(c + k + round_no) % len(QUESTIONS)]
            sender = user(9000 + c * PER_CHAT + k, "Q") if chat["type"] != "private" else user(chat["id"], "P")
            thread = threads[k % len(threads)]
            text = question if chat["type"] == "private" else f"@{fake.username} {question}"
            message = fake.send_text(chat, sender, text, thread_id=thread)
            asked.append(_Asked(chat["id"], message["message_id"], thread, expected))
    return asked


def _check_round(asked: list[_Asked], sent: list[Call]) -> None:
    """Each question answered once, in its chat and topic, with the answer it should get."""
    assert len(sent) == len(asked)
    assert all(visible(c) != th.SOMETHING_WRONG for c in sent)
    groups = {a.message_id: a for a in asked if a.chat_id < 0}
    in_groups = [c for c in sent if c.params["chat_id"] < 0]
    assert Counter(c.params["reply_parameters"]["message_id"] for c in in_groups) == Counter(dict.fromkeys(groups, 1))
    for call in in_groups:
        question = groups[call.params["reply_parameters"]["message_id"]]
        assert call.params["chat_id"] == question.chat_id
        assert call.params.get("message_thread_id") == question.thread_id
        _check_answer(call, question.expected)
    for chat_id in {a.chat_id for a in asked if a.chat_id > 0}:  # private: no quoting, so match per chat
        replies = [c for c in sent if c.params["chat_id"] == chat_id]
        expected = [a.expected for a in asked if a.chat_id == chat_id]
        assert len(replies) == len(expected)
        for wanted in {e for e in expected if e is not None}:
            assert sum(wanted in visible(c) for c in replies) == expected.count(wanted)


def _check_answer(call: Call, expected: str | None) -> None:
    shown = visible(call)
    if expected is None:
        assert "<blockquote" in call.params["text"]  # answered from the samples; the exact quote may vary
    else:
        assert expected in shown


@pytest.mark.slow
async def test_two_hundred_questions_from_fifty_chats_in_rounds_are_each_answered_once_with_flat_memory(
    fake: FakeBotApi, bot_settings: Callable[..., Settings], answerer: object
) -> None:
    rss: list[float] = []
    objects: list[int] = []
    async with running_bot(fake, bot_settings(group_budget_per_minute=1000), answerer) as bot:
        for round_no in range(1 + ROUNDS_AFTER_WARM_UP):
            asked = _ask_round(fake, round_no)
            await fake.wait_for_call("sendMessage", len(asked), within=120)
            await bot.settle()
            _check_round(asked, fake.sent())
            fake.forget()  # the fake lives in this process: its records must not count as the bot's memory
            gc.collect()
            rss.append(_rss_mb())
            objects.append(len(gc.get_objects()))

    trend = f"after each round: RSS {[round(x, 1) for x in rss]} MB, live objects {objects}"
    assert rss[-1] - rss[0] < MAX_GROWTH_MB, trend
    assert objects[-1] - objects[0] < MAX_NEW_OBJECTS, trend

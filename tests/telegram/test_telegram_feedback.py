"""The feedback store: shown answers, votes (latest press wins), "more sources" opened once, and use from threads."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest

from qabot.bot.feedback import FeedbackStore, Forgotten
from qabot.models import Answer, Quote


def _quote(i: int) -> Quote:
    return Quote(
        f"Passage {i}.",
        f"a{i}",
        f"Title {i}",
        f"https://e.example/{i}",
        "2025-01-02",
        "Site",
        0,
        11,
        0.5,
        also_reported_by=("Other Daily",) if i % 2 else (),
    )


def _answer(shown: int = 2, more: int = 5) -> Answer:
    return Answer(
        question="Why?",
        abstained=False,
        answer="text",
        quotes=tuple(_quote(i) for i in range(shown)),
        more=tuple(_quote(100 + i) for i in range(more)),
    )


def test_answers_round_trip_and_ids_fit_callback_data(tmp_path: Path) -> None:
    store = FeedbackStore(tmp_path / "feedback.sqlite")
    answer_id = store.record_answer(_answer(), chat_id=-100123)
    stored = store.get_answer(answer_id)
    assert stored is not None
    assert (stored.question, stored.chat_id, stored.quotes, stored.more) == (
        "Why?",
        -100123,
        _answer().quotes,
        _answer().more,
    )
    assert len(f"more:{answer_id}".encode()) <= 64
    assert store.get_answer("nope") is None


def test_one_vote_per_user_and_the_latest_press_wins(tmp_path: Path) -> None:
    store = FeedbackStore(tmp_path / "feedback.sqlite")
    answer_id = store.record_answer(_answer(), chat_id=1)
    assert store.record_vote(answer_id, 7, 1)
    assert store.record_vote(answer_id, 8, 1)
    assert store.record_vote(answer_id, 7, -1)
    assert store.votes(answer_id) == {7: -1, 8: 1}
    assert not store.record_vote("unknown", 7, 1)
    with pytest.raises(ValueError, match="vote must be"):
        store.record_vote(answer_id, 7, 0)
    # The file outlives the object: a restarted bot still knows the answer.
    assert FeedbackStore(tmp_path / "feedback.sqlite").votes(answer_id) == {7: -1, 8: 1}


def test_more_sources_open_once(tmp_path: Path) -> None:
    store = FeedbackStore(tmp_path / "feedback.sqlite")
    answer_id = store.record_answer(_answer(shown=2, more=5), chat_id=1)
    assert [store.open_more(answer_id) for _ in range(3)] == [True, False, False]
    assert store.open_more("unknown") is None


def test_a_deleted_file_comes_back_empty(tmp_path: Path) -> None:
    store = FeedbackStore(tmp_path / "feedback.sqlite")
    answer_id = store.record_answer(_answer(), chat_id=1)
    (tmp_path / "feedback.sqlite").unlink()
    assert store.get_answer(answer_id) is None
    assert store.get_answer(store.record_answer(_answer(), chat_id=1)) is not None


def test_store_is_safe_from_many_threads(tmp_path: Path) -> None:
    store = FeedbackStore(tmp_path / "feedback.sqlite")
    answer_id = store.record_answer(_answer(more=16), chat_id=1)
    opened: list[bool | None] = []
    errors: list[BaseException] = []

    def work(user_id: int) -> None:
        try:
            store.record_vote(answer_id, user_id, 1 if user_id % 2 else -1)
            opened.append(store.open_more(answer_id))
        except BaseException as err:  # pragma: no cover - reported below
            errors.append(err)

    threads = [threading.Thread(target=work, args=(u,)) for u in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len(store.votes(answer_id)) == 16
    assert sorted(opened, key=bool) == [False] * 15 + [True]  # sixteen presses at once open them once


def test_a_file_from_before_forget_is_upgraded_and_its_private_rows_can_be_forgotten(tmp_path: Path) -> None:
    path = tmp_path / "feedback.sqlite"
    with sqlite3.connect(path) as conn:  # the schema feedback.sqlite had before answers carried the asker
        conn.executescript(
            "CREATE TABLE answers (id TEXT PRIMARY KEY, chat_id INTEGER NOT NULL, question TEXT NOT NULL,"
            " abstained INTEGER NOT NULL, quotes TEXT NOT NULL, more TEXT NOT NULL,"
            " more_shown INTEGER NOT NULL DEFAULT 0, created REAL NOT NULL);"
            "CREATE TABLE votes (answer_id TEXT NOT NULL, user_id INTEGER NOT NULL, vote INTEGER NOT NULL,"
            " at REAL NOT NULL, PRIMARY KEY (answer_id, user_id));"
            "INSERT INTO answers VALUES ('old1', 7, 'Why?', 0, '[]', '[]', 0, 1.0);"
            "INSERT INTO answers VALUES ('old2', -100, 'Who?', 0, '[]', '[]', 0, 1.0);"
        )
    conn.close()
    store = FeedbackStore(path)
    new = store.record_answer(_answer(), chat_id=-100, user_id=7)
    assert store.get_answer("old1") is not None
    assert store.forget_user(7) == Forgotten(questions=2, votes=0)  # their private chat's old row and the new one
    assert store.get_answer("old1") is None
    assert store.get_answer(new) is None
    assert store.get_answer("old2") is not None  # a group's old row names nobody: kept until the retention

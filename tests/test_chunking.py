"""Sentence splitting and chunk packing: the offsets quotes are cut from."""

from __future__ import annotations

import pytest

from qabot.chunking import (
    approx_tokens,
    chunk_article,
    chunk_sentences,
    split_long_sentences,
    split_sentences,
)
from qabot.models import Article, Span


def sentences(text: str) -> list[str]:
    return [text[s.start : s.end] for s in split_sentences(text)]


def words(s: str) -> int:
    """A transparent token counter for tests: one token per whitespace-separated word."""
    return len(s.split())


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "Mr. Smith went to Washington. He met Dr. Jones at 5 p.m. on Jan. 5. The U.S. President spoke.",
            ["Mr. Smith went to Washington.", "He met Dr. Jones at 5 p.m. on Jan. 5.", "The U.S. President spoke."],
        ),
        (
            "Shares of Acme Inc. rose 2.5% on Monday. Mrs. Lee, of Acme Corp., said e.g. costs fell.",
            ["Shares of Acme Inc. rose 2.5% on Monday.", "Mrs. Lee, of Acme Corp., said e.g. costs fell."],
        ),
        ("He lives in the U.S. The move was final.", ["He lives in the U.S.", "The move was final."]),
        ("J. K. Rowling wrote it. She is famous.", ["J. K. Rowling wrote it.", "She is famous."]),
        (
            '"We will build it," she said. "When?" he asked. "Soon!" She left.',
            ['"We will build it," she said.', '"When?" he asked.', '"Soon!"', "She left."],
        ),
        (
            'The mayor said: "It connects the city." Next, the vote. (It passed.) Then what?',
            ['The mayor said: "It connects the city."', "Next, the vote.", "(It passed.)", "Then what?"],
        ),
        (
            "They waited... and waited. Then... Nothing happened.",
            ["They waited... and waited.", "Then...", "Nothing happened."],
        ),
        (
            "See https://example.com/a.b?x=1 for details. Write to press@example.org. Thanks!",
            ["See https://example.com/a.b?x=1 for details.", "Write to press@example.org.", "Thanks!"],
        ),
        ("Room No. 5 is open. Is it? No. He left.", ["Room No. 5 is open.", "Is it?", "No.", "He left."]),
        (
            "St. Louis grew. They live on Main St. The city is big.",
            ["St. Louis grew.", "They live on Main St.", "The city is big."],
        ),
        ("東京は大きい。本当ですか？はい！", ["東京は大きい。", "本当ですか？", "はい！"]),
    ],
)
def test_split_sentences_handles_abbreviations_quotes_and_numbers(text: str, expected: list[str]) -> None:
    assert sentences(text) == expected


def test_blank_line_always_ends_a_sentence() -> None:
    text = "A paragraph without a full stop\n\n  \nnext paragraph also without one"
    assert sentences(text) == ["A paragraph without a full stop", "next paragraph also without one"]


def test_headline_and_byline_lines_are_their_own_sentences() -> None:
    text = "Council approves new bridge\nBy Jane Doe\nThe council voted on Tuesday. It was close."
    assert sentences(text) == [
        "Council approves new bridge",
        "By Jane Doe",
        "The council voted on Tuesday.",
        "It was close.",
    ]


def test_hard_wrapped_prose_stays_one_sentence() -> None:
    text = "The council voted on\nTuesday to approve the bridge, and the\nmayor welcomed it."
    assert sentences(text) == [text]


def test_list_items_and_headings_are_separate() -> None:
    text = "# Key points\nThe vote:\n- first item\n- Second item\n1. one\n2. two"
    assert sentences(text) == ["# Key points", "The vote:", "- first item", "- Second item", "1. one", "2. two"]


def test_spans_are_exact_offsets_without_surrounding_whitespace() -> None:
    text = "  \n First one.   Second one!\n\n\tThird one?  "
    spans = split_sentences(text)
    assert spans == [Span(4, 14), Span(17, 28), Span(31, 41)]
    assert [text[s.start : s.end] for s in spans] == ["First one.", "Second one!", "Third one?"]


@pytest.mark.parametrize("text", ["", "   ", "\n\n\t \n"])
def test_no_sentences_in_empty_or_blank_text(text: str) -> None:
    assert split_sentences(text) == []


def test_approx_tokens_counts_words_and_long_runs_without_spaces() -> None:
    assert approx_tokens("") == 0
    assert approx_tokens("one two three four five six seven eight nine ten") == 13
    assert approx_tokens("x" * 400) == 100


def test_chunks_pack_whole_sentences_up_to_the_budget() -> None:
    text = "One two three. Four five six. Seven eight nine. Ten eleven twelve."
    spans = split_sentences(text)
    chunks = chunk_sentences("a1", text, spans, max_tokens=6, overlap=0, count_tokens=words)
    assert [c.text for c in chunks] == ["One two three. Four five six.", "Seven eight nine. Ten eleven twelve."]
    assert [c.ordinal for c in chunks] == [0, 1]
    assert all(c.article_id == "a1" and c.text == text[c.start : c.end] for c in chunks)
    assert chunks[1].sentences == tuple(spans[2:])


def test_overlap_repeats_the_last_sentences_of_the_previous_chunk() -> None:
    text = "One two three. Four five six. Seven eight nine. Ten eleven twelve."
    spans = split_sentences(text)
    chunks = chunk_sentences("a1", text, spans, max_tokens=6, overlap=1, count_tokens=words)
    assert [c.text for c in chunks] == [
        "One two three. Four five six.",
        "Four five six. Seven eight nine.",
        "Seven eight nine. Ten eleven twelve.",
    ]


def test_overlap_never_stalls_when_chunks_hold_a_single_sentence() -> None:
    text = "One two three four. Five six seven eight. Nine ten eleven twelve."
    spans = split_sentences(text)
    chunks = chunk_sentences("a1", text, spans, max_tokens=4, overlap=3, count_tokens=words)
    assert [c.sentences for c in chunks] == [(s,) for s in spans]


def test_overlap_gives_way_when_it_would_leave_no_room_for_a_new_sentence() -> None:
    text = "One two three. Four five. Six seven eight nine ten."
    spans = split_sentences(text)
    chunks = chunk_sentences("a1", text, spans, max_tokens=6, overlap=1, count_tokens=words)
    assert [c.text for c in chunks] == ["One two three. Four five.", "Six seven eight nine ten."]


def test_a_sentence_longer_than_the_budget_is_cut_at_clauses_then_words() -> None:
    text = "Short one. " + "Alpha beta gamma, delta epsilon zeta, eta theta iota kappa lambda mu nu xi omicron."
    spans = split_sentences(text)
    pieces = split_long_sentences(text, spans, max_tokens=4, count_tokens=words)
    assert [text[p.start : p.end] for p in pieces] == [
        "Short one.",
        "Alpha beta gamma,",
        "delta epsilon zeta,",
        "eta theta iota kappa",
        "lambda mu nu xi",
        "omicron.",
    ]


def test_a_long_run_without_spaces_is_cut_into_pieces_that_fit() -> None:
    text = "x" * 1000
    pieces, chunks = chunk_article(Article("a", "T", text), max_tokens=32, overlap=1)
    assert all(approx_tokens(text[p.start : p.end]) <= 32 for p in pieces)
    assert "".join(text[p.start : p.end] for p in pieces) == text
    assert all(approx_tokens(c.text) <= 32 for c in chunks)


def test_chunk_article_returns_the_pieces_its_chunks_are_made_of() -> None:
    body = "The bridge opens in 2026. " * 30 + "It cost " + "a great deal of money and " * 40 + "time."
    article = Article("art-1", "Bridge", body.strip())
    spans, chunks = chunk_article(article, max_tokens=40, overlap=1)
    assert chunks[0].start == 0
    assert chunks[-1].end == len(article.text)
    assert all(c.text == article.text[c.start : c.end] for c in chunks)
    assert all(approx_tokens(c.text) <= 40 for c in chunks)
    assert {s for c in chunks for s in c.sentences} == set(spans)
    assert "Bridge" not in "".join(c.text for c in chunks)


def test_chunk_article_of_empty_text_is_empty() -> None:
    assert chunk_article(Article("a", "Only a title", ""), max_tokens=64, overlap=1) == ([], [])


@pytest.mark.parametrize(("max_tokens", "overlap"), [(0, 0), (10, -1)])
def test_invalid_budget_is_refused(max_tokens: int, overlap: int) -> None:
    with pytest.raises(ValueError, match="must be"):
        chunk_article(Article("a", "t", "Text."), max_tokens=max_tokens, overlap=overlap)

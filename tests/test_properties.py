"""Properties that must hold for any input: loaders never raise, chunk offsets are always exact."""

from __future__ import annotations

import json
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from qabot.chunking import approx_tokens, chunk_article, split_sentences
from qabot.models import Article, Chunk, Skip, Span
from qabot.sources.files import load_paths, load_text_document

# tmp_path is shared by the examples of one test; every example overwrites the same file, so that is safe.
FEW = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
SUFFIXES = st.sampled_from([".txt", ".md", ".json", ".jsonl", ".html"])

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)
records = st.fixed_dictionaries(
    {"text": json_values},
    optional={k: json_values for k in ("id", "title", "url", "published", "source", "author", "link", "date")},
)
# Pieces that exercise every splitter rule: abbreviations, initials, decimals, quotes, lists, headings, CJK.
fragments = st.sampled_from(
    [
        "Mr.", "U.S.", "Inc.", "No.", "J.", "e.g.", "said.", "The", "the", "word", "2.5%", "https://a.example/b.c?d=1",
        "...", "…", "?", "!", ".", '"', "”", ")", "(", "# ", "- ", "1. ", "東京。", "\n", "\n\n", " ", "  ", "\t",
        "\u00a0", "\u2028", "\r",
    ]
)  # fmt: skip
sentence_like = st.lists(fragments, max_size=60).map(" ".join) | st.lists(fragments, max_size=60).map("".join)


def assert_loaded(items: list[Article | Skip]) -> None:
    assert items
    for item in items:
        assert isinstance(item, Article | Skip)
        if isinstance(item, Article):
            assert isinstance(item.id, str)
            assert item.id
            assert isinstance(item.title, str)
            assert isinstance(item.text, str)
            assert item.text
            assert item.text == item.text.strip()
            for optional in (item.url, item.published, item.source, item.author):
                assert optional is None or isinstance(optional, str)
            (item.title + item.text + item.id).encode("utf-8")  # storable: no lone surrogates
        else:
            assert item.reason
            assert "\n" not in item.reason


def assert_sentences(text: str, spans: list[Span]) -> None:
    previous_end = 0
    for span in spans:
        assert previous_end <= span.start < span.end <= len(text)
        piece = text[span.start : span.end]
        assert piece == piece.strip()
        assert not text[previous_end : span.start].strip()  # only whitespace is left between sentences
        previous_end = span.end
    assert not text[previous_end:].strip()


def assert_chunks(text: str, spans: list[Span], chunks: list[Chunk], max_tokens: int) -> None:
    assert [c.ordinal for c in chunks] == list(range(len(chunks)))
    index = {span: i for i, span in enumerate(spans)}
    covered: set[Span] = set()
    for chunk in chunks:
        assert chunk.text == text[chunk.start : chunk.end]
        assert chunk.sentences
        assert (chunk.start, chunk.end) == (chunk.sentences[0].start, chunk.sentences[-1].end)
        positions = [index[s] for s in chunk.sentences]  # KeyError if a chunk sentence is not an article sentence
        assert positions == list(range(positions[0], positions[0] + len(positions)))
        assert approx_tokens(chunk.text) <= max_tokens
        covered.update(chunk.sentences)
    assert covered == set(spans)


@FEW
@given(data=st.binary(max_size=3000) | st.text(max_size=1000).map(str.encode), suffix=SUFFIXES)
def test_loaders_never_raise_on_random_bytes(tmp_path: Path, data: bytes, suffix: str) -> None:
    f = tmp_path / f"random{suffix}"
    f.write_bytes(data)
    assert_loaded(list(load_paths([f])))
    assert_loaded(load_text_document(f.name, data))


@FEW
@given(record=records, as_list=st.booleans())
def test_json_records_of_any_shape_load_or_skip(tmp_path: Path, record: dict[str, object], as_list: bool) -> None:
    f = tmp_path / "records.json"
    f.write_text(json.dumps([record, record] if as_list else record), encoding="utf-8")
    items = list(load_paths([f]))
    assert_loaded(items)
    if not isinstance(record["text"], str | list | type(None)):
        assert all(isinstance(item, Skip) for item in items)


@FEW
@given(lines=st.lists(json_values.map(json.dumps) | st.text(max_size=40), max_size=8))
def test_jsonl_lines_of_any_shape_load_or_skip(tmp_path: Path, lines: list[str]) -> None:
    f = tmp_path / "lines.jsonl"
    f.write_text("\n".join(lines), encoding="utf-8")
    assert_loaded(list(load_paths([f])))


@settings(max_examples=5, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(depth=st.sampled_from([1000, 5000, 20000]), tag=st.sampled_from(["div", "span", "p", "table"]))
def test_deeply_nested_html_loads_or_skips(tmp_path: Path, depth: int, tag: str) -> None:
    f = tmp_path / "deep.html"
    body = f"<{tag}>" * depth + "<p>Text at the bottom of a very deep page about a bridge.</p>" + f"</{tag}>" * depth
    f.write_text(f"<html><body>{body}</body></html>", encoding="utf-8")
    assert_loaded(list(load_paths([f])))


@settings(max_examples=100, deadline=None)
@given(
    text=st.text(max_size=400) | sentence_like,
    max_tokens=st.integers(min_value=1, max_value=48),
    overlap=st.integers(min_value=0, max_value=3),
)
def test_chunker_invariants_on_any_text(text: str, max_tokens: int, overlap: int) -> None:
    assert_sentences(text, split_sentences(text))
    spans, chunks = chunk_article(Article("a", "title", text), max_tokens=max_tokens, overlap=overlap)
    assert_sentences(text, spans)
    assert_chunks(text, spans, chunks, max_tokens)


@settings(max_examples=20, deadline=None)
@given(text=st.text(alphabet=" \t\n\r\x0b\x0c\u00a0\u2028\u3000", max_size=200))
def test_whitespace_only_text_has_no_sentences_or_chunks(text: str) -> None:
    assert split_sentences(text) == []
    assert chunk_article(Article("a", "t", text), max_tokens=16, overlap=1) == ([], [])


@settings(max_examples=6, deadline=None)
@given(unit=st.sampled_from(["x", "word ", "wörd, ", "東", "ab\u00a0"]), max_tokens=st.sampled_from([8, 128]))
def test_a_huge_line_without_punctuation_is_chunked_within_budget(unit: str, max_tokens: int) -> None:
    text = (unit * (200_000 // len(unit))).strip()
    spans, chunks = chunk_article(Article("a", "t", text), max_tokens=max_tokens, overlap=1)
    assert_sentences(text, spans)
    assert_chunks(text, spans, chunks, max_tokens)

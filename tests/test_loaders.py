"""Files and folders → Articles or Skips: formats, metadata aliases, id rules, decoding and broken inputs."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import pytest

from qabot.models import Article, Skip
from qabot.sources.files import MAX_FILE_BYTES, load_paths, load_text_document, normalize_date

BRIDGE = "The council voted on Tuesday. “It connects the city,” the mayor said.  Two  spaces stay."


def load(*paths: Path) -> list[Article | Skip]:
    return list(load_paths(paths))


def only_article(*paths: Path) -> Article:
    [item] = load(*paths)
    assert isinstance(item, Article), item
    return item


def path_id(stem_slug: str, path: Path, suffix: str = "") -> str:
    return f"{stem_slug}-{hashlib.sha1((str(path.resolve()) + suffix).encode()).hexdigest()[:8]}"


def url_id(url: str) -> str:
    return "u-" + hashlib.sha1(url.encode()).hexdigest()[:12]


# --- .txt


def test_txt_first_short_line_is_the_title_and_text_is_verbatim(tmp_path: Path) -> None:
    f = tmp_path / "Bridge Vote.txt"
    f.write_bytes(f"\r\n  Council approves bridge  \r\n\r\n{BRIDGE}\r\nSecond line.\r\n\r\n".encode())
    article = only_article(f)
    assert article.title == "Council approves bridge"
    assert article.text == BRIDGE + "\nSecond line."
    assert article.id == path_id("bridge-vote", f)
    assert (article.url, article.published, article.source) == (None, None, None)


def test_txt_with_a_long_first_line_or_a_single_line_uses_the_file_stem(tmp_path: Path) -> None:
    long_line = "word " * 50 + "end."
    (tmp_path / "long.txt").write_text(long_line + "\nMore text.", encoding="utf-8")
    (tmp_path / "single.txt").write_text("Just one line of news.", encoding="utf-8")
    long_article, single = load(tmp_path / "long.txt", tmp_path / "single.txt")
    assert isinstance(long_article, Article)
    assert (long_article.title, long_article.text) == ("long", long_line + "\nMore text.")
    assert isinstance(single, Article)
    assert (single.title, single.text) == ("single", "Just one line of news.")


# --- .md


def test_markdown_front_matter_and_heading(tmp_path: Path) -> None:
    f = tmp_path / "bridge.md"
    f.write_text(
        "---\n"
        "id: bridge-2024\n"
        'title: "Council approves bridge"\n'
        "url: https://www.gazette.example/bridge\n"
        "date: September 20, 2024\n"
        "author: Jane Doe\n"
        "tags: [city, river]\n"
        "---\n\n"
        "# Council approves bridge\n\n"
        f"{BRIDGE}\n\n## Reaction\n\nPeople cheered.\n",
        encoding="utf-8",
    )
    article = only_article(f)
    assert article == Article(
        id="bridge-2024",
        title="Council approves bridge",
        text=f"{BRIDGE}\n\n## Reaction\n\nPeople cheered.",
        url="https://www.gazette.example/bridge",
        published="2024-09-20",
        source="gazette.example",
        author="Jane Doe",
    )


def test_markdown_without_front_matter_takes_the_first_heading_as_title(tmp_path: Path) -> None:
    f = tmp_path / "notes.markdown"
    f.write_text("By our reporter\n\n# The Title #\n\nBody text here.\n", encoding="utf-8")
    article = only_article(f)
    assert article.title == "The Title"
    assert article.text == "By our reporter\n\n\nBody text here."
    assert article.id == path_id("notes", f)


def test_markdown_heading_that_differs_from_front_matter_title_stays_in_text(tmp_path: Path) -> None:
    f = tmp_path / "a.md"
    f.write_text("---\ntitle: Given\nsource: The Gazette\n---\n# Other heading\nBody.\n", encoding="utf-8")
    article = only_article(f)
    assert (article.title, article.text, article.source) == ("Given", "# Other heading\nBody.", "The Gazette")


def test_markdown_without_any_title_uses_the_stem(tmp_path: Path) -> None:
    f = tmp_path / "plain.md"
    f.write_text("```\n# not a heading\n```\nText.\n", encoding="utf-8")
    article = only_article(f)
    assert (article.title, article.text) == ("plain", "```\n# not a heading\n```\nText.")


# --- .html


def test_html_file_keeps_the_article_and_drops_navigation(tmp_path: Path) -> None:
    f = tmp_path / "page.html"
    f.write_text(
        "<html><head><title>Bridge | Gazette</title>"
        "<link rel='canonical' href='https://www.gazette.example/bridge'></head><body>"
        "<nav><a href='/'>Home</a> <a href='/sport'>Sport pages and league tables</a></nav>"
        "<article><h1>Bridge approved</h1>"
        "<p>The city council voted on Tuesday to approve a new pedestrian bridge across the river.</p>"
        "<p>Mayor Ana Ruiz said the bridge would cost 12.5 million euros and open in 2026.</p></article>"
        "<footer>Copyright 2024 Gazette. All rights reserved.</footer></body></html>",
        encoding="utf-8",
    )
    article = only_article(f)
    assert article.text.startswith("The city council voted on Tuesday")
    assert "12.5 million euros" in article.text
    assert "Sport pages" not in article.text
    assert "Copyright" not in article.text
    assert article.url == "https://www.gazette.example/bridge"
    assert article.id == url_id("https://www.gazette.example/bridge")


ESCAPED = (
    "The tram cost \x1b[2J\x1b[31m40 million crowns\x1b[0m and opened on Monday.\x1b]52;c;cm0gLXJmIH4=\x07 "
    + "Trams run every ten minutes between the ferry terminal and the old fish market. " * 4
)


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("tram.txt", f"Harbour tram\n\n{ESCAPED}"),
        ("tram.md", f"# Harbour \x1b[1mtram\x1b[0m\n\n{ESCAPED}"),
        ("tram.json", json.dumps({"title": "Harbour tram", "text": ESCAPED})),
        ("tram.html", f"<html><head><title>Tram</title></head><body><article><p>{ESCAPED}</p></article></body></html>"),
    ],
)
def test_escape_sequences_are_removed_whole_before_anything_is_quoted(tmp_path: Path, name: str, content: str) -> None:
    f = tmp_path / name
    f.write_text(content, encoding="utf-8")
    article = only_article(f)
    # Not just the ESC: the "[2J" and "52;c;..." after it would otherwise be stored and quoted as article text.
    assert "The tram cost 40 million crowns and opened on Monday. Trams run" in article.text
    for left in ("\x1b", "[2J", "[31m", "[0m", "[1m", "52;c;", "cm0g"):
        assert left not in article.text + article.title


def test_html_file_without_a_url_gets_a_path_id(tmp_path: Path) -> None:
    f = tmp_path / "Saved Page.htm"
    f.write_text(
        "<html><body><article><p>The council voted on Tuesday to approve the bridge over the river.</p>"
        "</article></body></html>",
        encoding="utf-8",
    )
    article = only_article(f)
    assert article.id == path_id("saved-page", f)


# --- .json and .jsonl


def test_json_single_object_with_aliases(tmp_path: Path) -> None:
    f = tmp_path / "one.json"
    record = {
        "headline": "Bridge approved",
        "content": BRIDGE,
        "link": "https://www.gazette.example/b",
        "pubDate": "Fri, 20 Sep 2024 08:30:00 +0200",
        "publisher": "The Gazette",
        "author": ["Jane Doe", "Li Wei"],
    }
    f.write_text(json.dumps(record), encoding="utf-8")
    assert only_article(f) == Article(
        id=url_id("https://www.gazette.example/b"),
        title="Bridge approved",
        text=BRIDGE,
        url="https://www.gazette.example/b",
        published="2024-09-20T08:30:00+02:00",
        source="The Gazette",
        author="Jane Doe, Li Wei",
    )


@pytest.mark.parametrize(
    ("record", "field", "expected"),
    [
        ({"body": "B"}, "text", "B"),
        ({"article": "B"}, "text", "B"),
        ({"article_text": "B"}, "text", "B"),
        ({"text": ["First paragraph.", "Second."]}, "text", "First paragraph.\n\nSecond."),
        ({"text": "B", "href": "https://x.example/1"}, "url", "https://x.example/1"),
        ({"text": "B", "name": "N"}, "title", "N"),
        ({"text": "B", "site": "S"}, "source", "S"),
        ({"text": "B", "site_name": "S"}, "source", "S"),
        ({"text": "B", "outlet": "S"}, "source", "S"),
        ({"text": "B", "source": {"id": "bbc", "name": "BBC News"}}, "source", "BBC News"),
        ({"text": "B", "url": "https://www.x.example/1"}, "source", "x.example"),
        ({"text": "B", "date": "2024/09/20"}, "published", "2024-09-20"),
        ({"text": "B", "published_at": "2024-09-20T08:30:00Z"}, "published", "2024-09-20T08:30:00+00:00"),
        ({"text": "B", "datetime": "20 Sep 2024"}, "published", "2024-09-20"),
        ({"text": "B", "time": "yesterday-ish"}, "published", None),
        ({"text": "First line is the title\nmore"}, "title", "First line is the title"),
    ],
)
def test_json_field_aliases(tmp_path: Path, record: dict[str, object], field: str, expected: object) -> None:
    f = tmp_path / "rec.json"
    f.write_text(json.dumps(record), encoding="utf-8")
    assert getattr(only_article(f), field) == expected


def test_json_list_and_articles_wrapper_with_id_rules(tmp_path: Path) -> None:
    listed = tmp_path / "Many Items.json"
    listed.write_text(
        json.dumps([{"id": 7, "text": "A."}, {"text": "B.", "url": "https://n.example/b"}, {"text": "C."}]),
        encoding="utf-8",
    )
    wrapped = tmp_path / "wrapped.json"
    wrapped.write_text(json.dumps({"articles": [{"id": "keep-as-is", "text": "D."}]}), encoding="utf-8")
    items = load(listed, wrapped)
    assert [a.id for a in items if isinstance(a, Article)] == [
        "7",
        url_id("https://n.example/b"),
        path_id("many-items", listed, ":2"),
        "keep-as-is",
    ]


def test_jsonl_bad_line_is_skipped_and_the_others_load(tmp_path: Path) -> None:
    f = tmp_path / "feed.jsonl"
    f.write_text('{"title": "One", "text": "First."}\n{not json\n\n[1, 2]\n{"text": "Last."}\n', encoding="utf-8")
    items = load(f)
    assert [type(i).__name__ for i in items] == ["Article", "Skip", "Skip", "Article"]
    assert items[1].where == f"{f}:2"
    assert items[1].reason == "malformed JSON: Expecting property name enclosed in double quotes: column 2"
    assert items[2] == Skip(f"{f}:4", "expected a JSON object, got a list")
    assert items[3].id == path_id("feed", f, ":5")


@pytest.mark.parametrize(
    ("content", "where_suffix", "reason"),
    [
        ('{"text": ', "", "malformed JSON: Expecting value: line 1 column 9"),
        (
            '{"title": "A",\n "text": "cut short}',
            "",
            "malformed JSON: Unterminated string starting at: line 2 column 10",
        ),
        ("[" * 100_000 + "]" * 100_000, "", "malformed JSON"),
        ('"just a string"', "", "JSON must be an object"),
        ("[]", "", "no articles"),
        ('{"title": "No text"}', "", "record has no text"),
        ('{"text": "   "}', "", "record has no text"),
        ('{"text": null}', "", "record has no text"),
        ('[{"text": 42}]', "[0]", "text is a number"),
        ('[{"text": {"a": 1}}]', "[0]", "text is an object"),
    ],
)
def test_broken_json_is_skipped_with_a_reason(tmp_path: Path, content: str, where_suffix: str, reason: str) -> None:
    f = tmp_path / "bad.json"
    f.write_text(content, encoding="utf-8")
    [skip] = load(f)
    assert isinstance(skip, Skip)
    assert skip.where == str(f) + where_suffix
    assert skip.reason.startswith(reason)


# --- decoding


def test_decoding_bom_utf16_and_windows_1252(tmp_path: Path) -> None:
    (tmp_path / "a_bom.txt").write_bytes(b"\xef\xbb\xbfTitle\nCaf\xc3\xa9 news.")
    (tmp_path / "b_legacy.txt").write_bytes("Title\nCafé “quoted” – news.".encode("cp1252"))
    (tmp_path / "c_utf16.txt").write_bytes("Title\nΕλληνικά news.".encode("utf-16"))
    texts = [a.text for a in load(tmp_path) if isinstance(a, Article)]
    assert texts == ["Café news.", "Café “quoted” – news.", "Ελληνικά news."]


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "empty file"),
        (b" \r\n\t\n  ", "empty file"),
        (b"PK\x03\x04\x00\x00binary", "binary file"),
        (bytes(range(1, 32)) * 20, "binary file"),
    ],
)
def test_empty_and_binary_files_are_skipped(tmp_path: Path, data: bytes, reason: str) -> None:
    f = tmp_path / "x.txt"
    f.write_bytes(data)
    [skip] = load(f)
    assert isinstance(skip, Skip)
    assert skip.reason.startswith(reason)


# --- files, folders and odd paths


def test_folders_are_walked_recursively_in_sorted_order_ignoring_hidden_and_unsupported(tmp_path: Path) -> None:
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "z.txt").write_text("Z title\nZ.", encoding="utf-8")
    (tmp_path / "b" / "a.md").write_text("# A title\nA.", encoding="utf-8")
    (tmp_path / "a.txt").write_text("Top title\nTop.", encoding="utf-8")
    (tmp_path / "c.pdf").write_bytes(b"%PDF-1.4")
    (tmp_path / ".hidden.txt").write_text("H\nHidden.", encoding="utf-8")
    (tmp_path / ".git").mkdir()
    (tmp_path / ".git" / "x.txt").write_text("G\nGit.", encoding="utf-8")
    titles = [a.title for a in load(tmp_path)]
    assert titles == ["Top title", "A title", "Z title"]
    assert [a.title for a in load(tmp_path)] == titles  # deterministic


def test_explicit_paths_that_cannot_be_loaded_are_skipped(tmp_path: Path) -> None:
    unsupported = tmp_path / "report.xyz"
    unsupported.write_text("text", encoding="utf-8")
    no_ext = tmp_path / "README"
    no_ext.write_text("text", encoding="utf-8")
    missing = tmp_path / "missing.txt"
    assert load(unsupported, no_ext, missing) == [
        Skip(str(unsupported), "unsupported file type .xyz"),
        Skip(str(no_ext), "unsupported file type (no extension)"),
        Skip(str(missing), "no such file or directory"),
    ]


def test_a_fifo_is_skipped_without_blocking(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.txt"
    os.mkfifo(fifo)
    assert load(fifo) == [Skip(str(fifo), "not a regular file")]
    assert load(tmp_path) == [Skip(str(fifo), "not a regular file")]


def test_a_folder_named_like_a_file_is_walked_as_a_folder(tmp_path: Path) -> None:
    folder = tmp_path / "looks-like.txt"
    folder.mkdir()
    (folder / "inner.txt").write_text("Inner title\nInner.", encoding="utf-8")
    assert [a.title for a in load(folder)] == ["Inner title"]


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads files whatever their mode")
def test_an_unreadable_file_is_skipped(tmp_path: Path) -> None:
    f = tmp_path / "secret.txt"
    f.write_text("T\nBody.", encoding="utf-8")
    f.chmod(0)
    [skip] = load(f)
    assert isinstance(skip, Skip)
    assert skip.reason.startswith("cannot read")


def test_files_over_50_mb_are_skipped_unread(tmp_path: Path) -> None:
    f = tmp_path / "huge.jsonl"
    with f.open("wb") as fh:
        fh.truncate(MAX_FILE_BYTES + 1)  # sparse: no 50 MB written to disk
    assert load(f) == [Skip(str(f), "file is larger than 50 MB")]


def test_a_text_file_of_many_megabytes_is_one_article_with_a_notice_to_split_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.chdir(tmp_path)
    paragraph = "Issue {n} of the newsletter reports on the harbour, the council and the weather.\n\n"
    Path("big.txt").write_text("Newsletter archive\n\n" + "".join(paragraph.format(n=n) for n in range(80_000)))
    Path("news.jsonl").write_text(  # one article per line: many articles, whatever the file's size
        "".join(json.dumps({"title": f"Issue {n}", "text": paragraph.format(n=n) * 40}) + "\n" for n in range(1700))
    )
    Path("small.txt").write_text("Short\n\nOne article, small.")
    assert Path("big.txt").stat().st_size == 6_708_910  # 6.4 MB of 1024 × 1024 bytes, as the 50 MB limit counts
    assert Path("news.jsonl").stat().st_size > 5 * 1024 * 1024

    with caplog.at_level("WARNING"):
        items = load(Path("big.txt"), Path("news.jsonl"), Path("small.txt"))

    assert [type(i) for i in items] == [Article] * 1702  # still ingested: a notice, not a refusal
    notices = [r for r in caplog.records if getattr(r, "notice", False)]
    assert [r.getMessage() for r in notices] == [
        "big.txt is 6.4 MB; ingested as one article — split it if it holds many"
    ]


# --- uploads


def test_load_text_document_dispatches_on_the_name(tmp_path: Path) -> None:
    [article] = load_text_document("Upload Notes.md", b"---\nsource: Wire\n---\n# Heading\n\nBody text.")
    assert isinstance(article, Article)
    assert (article.title, article.text, article.source) == ("Heading", "Body text.", "Wire")
    expected_id = "upload-notes-" + hashlib.sha1(b"Upload Notes.md").hexdigest()[:8]
    assert article.id == expected_id
    items = load_text_document("batch.jsonl", b'{"text": "One."}\nnope\n')
    assert [type(i).__name__ for i in items] == ["Article", "Skip"]
    assert items[1].where == "batch.jsonl:2"
    assert load_text_document("photo.jpg", b"\xff\xd8") == [Skip("photo.jpg", "unsupported file type .jpg")]


# --- dates


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2024-09-20", "2024-09-20"),
        ("2024-09-20T08:30:00+02:00", "2024-09-20T08:30:00+02:00"),
        ("2024-09-20 08:30", "2024-09-20T08:30:00"),
        ("Fri, 20 Sep 2024 08:30:00 GMT", "2024-09-20T08:30:00+00:00"),
        ("September 20, 2024", "2024-09-20"),
        ("Sept. 20th, 2024", "2024-09-20"),
        ("Friday, September 20, 2024 8:30 p.m.", "2024-09-20T20:30:00"),
        ("2024/09/20", "2024-09-20"),
        ("20.09.2024", "2024-09-20"),
        (1726813800, "2024-09-20T06:30:00+00:00"),
        (1726813800000, "2024-09-20T06:30:00+00:00"),
        (2024, None),
        ("next Tuesday", None),
        ("", None),
        (None, None),
        (True, None),
        (["2024-09-20"], None),
    ],
)
def test_normalize_date(value: object, expected: str | None) -> None:
    assert normalize_date(value) == expected

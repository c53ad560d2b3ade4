"""The `qabot` command as a user runs it: ingest (renames, --sync), ask (text, --json, --jsonl), stats, list, remove,
errors, help.

Commands that embed run as real subprocesses (each loads its own model, so there are few of them); commands that
never embed, and the short ingests of the list/remove/rename/--sync tests, run in-process through ``qabot.cli.main``.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from test_answer import ANSWER_KEYS, QUOTE_KEYS  # the JSON contract, written down once

from qabot.cli import build_parser, main
from qabot.store import IndexStore
from tests.fakes.web_server import FakeWebServer
from tests.helpers import BAKERY, COST, TRAM, RunMain, as_markdown, assert_one_error_line, clean_env, run_qabot
from tests.telegram.pages import BRIDGE_PAGE, BRIDGE_TITLE

TRAM_MD = as_markdown(TRAM, id="cli-tram")
BAKERY_MD = as_markdown(BAKERY, id="cli-bakery")


def run_into_a_closed_pipe(*args: str, cwd: Path, stdin: str = "", keep: int = 0) -> tuple[int, list[str], str]:
    """``qabot ARGS | head -KEEP``: read ``keep`` lines of stdout through a real pipe, then close it early."""
    env = clean_env()
    with subprocess.Popen(
        [sys.executable, "-m", "qabot.cli", *args],
        cwd=cwd,
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    ) as proc:
        stdin_pipe, stdout_pipe, stderr_pipe = proc.stdin, proc.stdout, proc.stderr
        assert stdin_pipe is not None
        assert stdout_pipe is not None
        assert stderr_pipe is not None
        stdin_pipe.write(stdin)
        stdin_pipe.close()
        kept = [stdout_pipe.readline() for _ in range(keep)]
        stdout_pipe.close()  # what `head` does once it has its lines
        err = stderr_pipe.read()
        code = proc.wait(timeout=300)
    return code, kept, err


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("cli")


@pytest.fixture(scope="module")
def cli_index(workdir: Path) -> Path:
    """An index built by `qabot ingest` from a folder with two articles and one broken file."""
    folder = workdir / "articles"
    folder.mkdir()
    (folder / "tram.md").write_text(TRAM_MD, encoding="utf-8")
    (folder / "bakery.md").write_text(BAKERY_MD, encoding="utf-8")
    (folder / "broken.json").write_text("{oops", encoding="utf-8")
    index = workdir / "index"

    result = run_qabot("--index", str(index), "ingest", str(folder), cwd=workdir)

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "added 2, updated 0, unchanged 0, skipped 1"
    assert re.search(r"^skipped .*broken\.json: .+", result.stderr, re.MULTILINE), result.stderr
    return index


def test_ask_prints_the_quote_and_its_source(cli_index: Path, workdir: Path) -> None:
    result = run_qabot("--index", str(cli_index), "ask", *COST.split(), cwd=workdir)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "40 million crowns" in out
    assert "│ “" in out  # the quote is set off from the rest
    assert "[1] Port Aldwick opens its harbour tram line · Aldwick Herald · 2025-03-03" in out
    assert "https://news.example.invalid/tram" in out


def test_ask_json_has_the_documented_shape(cli_index: Path, workdir: Path) -> None:
    result = run_qabot("--index", str(cli_index), "ask", "--json", COST, cwd=workdir)
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert set(data) == ANSWER_KEYS
    assert data["question"] == COST
    assert data["abstained"] is False
    first = data["quotes"][0]
    assert set(first) == QUOTE_KEYS
    assert first["article_id"] == "cli-tram"
    assert "40 million" in first["text"]
    body = TRAM_MD.split("\n# Port Aldwick opens its harbour tram line\n\n", 1)[1].strip()
    assert body[first["start"] : first["end"]] == first["text"]


def test_ask_jsonl_answers_each_line_and_reports_bad_ones(cli_index: Path, workdir: Path) -> None:
    lines = [
        json.dumps({"id": "q1", "question": COST}),
        json.dumps({"question": "Why did the Fenwater bakery close?"}),
        "this is not json",
        "",
        json.dumps({"id": 7, "question": "???"}),
        json.dumps({"id": "q5", "question": "Who painted the Mona Lisa?"}),
        json.dumps({"id": {"x": 1}, "question": COST}),
        '{"id": 8, "question": "unterminated',
    ]
    result = run_qabot("--index", str(cli_index), "ask", "--jsonl", cwd=workdir, stdin="\n".join(lines) + "\n")

    assert result.returncode == 0, result.stderr
    out = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(out) == 7  # the blank line is skipped
    first, second, malformed, unusable, declined, object_id, cut_short = out
    assert first["id"] == "q1"
    assert not first["abstained"]
    assert "40 million" in first["quotes"][0]["text"]
    assert second["id"] is None
    assert second["quotes"][0]["article_id"] == "cli-bakery"
    assert set(malformed) == {"id", "line", "error"}
    assert malformed["line"] == 3
    assert malformed["id"] is None
    assert malformed["error"]
    assert unusable["id"] == 7  # the id's JSON value, as given
    assert unusable["line"] == 5
    assert "question" in unusable["error"]
    assert declined["id"] == "q5"
    assert declined["abstained"] is True
    assert declined["quotes"] == []
    assert object_id["id"] == {"x": 1}
    assert "40 million" in object_id["quotes"][0]["text"]
    assert cut_short == {  # no id: the line is not JSON, so it has none to give back
        "id": None,
        "line": 8,
        "error": "Unterminated string starting at: line 1 column 23 (char 22)",
    }


@pytest.mark.parametrize(
    "args",
    [["ask", "--json", "--jsonl"], ["ask", "--jsonl", "why?"], ["ask", "--json", "--jsonl", "why?"]],
    ids=["json-and-jsonl", "jsonl-and-a-question", "all"],
)
def test_ask_refuses_options_it_would_ignore(args: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(args)
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("usage: qabot")
    assert "error: " in err
    assert "--jsonl" in err.splitlines()[-1]


def test_stats_remove_and_errors_on_a_copy(cli_index: Path, workdir: Path, tmp_path: Path) -> None:
    index = tmp_path / "copy"
    shutil.copytree(cli_index, index)

    stats = run_qabot("--index", str(index), "stats", cwd=tmp_path)
    assert stats.returncode == 0, stats.stderr
    assert re.search(r"^articles: 2$", stats.stdout, re.MULTILINE)
    assert re.search(r"^chunks:\s+\d+$", stats.stdout, re.MULTILINE)
    assert "model:    sentence-transformers/all-MiniLM-L6-v2 (384-d)" in stats.stdout
    assert re.search(r"^size:\s+\d+\.\d MiB$", stats.stdout, re.MULTILINE)
    assert "newest:   2025-03-03" in stats.stdout

    removed = run_qabot("--index", str(index), "remove", "cli-tram", cwd=tmp_path)
    assert removed.returncode == 0, removed.stderr
    assert removed.stdout.strip() == "removed cli-tram"
    assert_one_error_line(run_qabot("--index", str(index), "remove", "cli-tram", cwd=tmp_path), "cli-tram")

    as_json = json.loads(run_qabot("--index", str(index), "stats", "--json", cwd=tmp_path).stdout)
    assert as_json["articles"] == 1
    assert as_json["newest"] == "2025-02-14"


def test_ask_jsonl_into_a_pipe_closed_early_ends_quietly(cli_index: Path, workdir: Path) -> None:
    # More answers than a pipe buffers, so writing goes on after the reader has gone.
    lines = "".join(json.dumps({"id": f"q{n}", "question": COST}) + "\n" for n in range(300))
    code, kept, err = run_into_a_closed_pipe(
        "--index", str(cli_index), "ask", "--jsonl", cwd=workdir, stdin=lines, keep=1
    )
    assert json.loads(kept[0])["id"] == "q0"
    assert err == ""
    assert code in (0, 141)


def test_stats_into_a_pipe_closed_at_once_ends_quietly(cli_index: Path, workdir: Path) -> None:
    code, _, err = run_into_a_closed_pipe("--index", str(cli_index), "stats", cwd=workdir)
    assert err == ""
    assert code in (0, 141)


def test_ask_without_an_index_is_one_error_line(tmp_path: Path) -> None:
    result = run_qabot("--index", str(tmp_path / "none"), "ask", "anything?", cwd=tmp_path)
    assert_one_error_line(result, "qabot ingest")
    assert not (tmp_path / "none").exists()


def test_ingest_where_every_input_is_skipped_exits_1_after_its_summary(tmp_path: Path) -> None:
    (tmp_path / "broken.json").write_text("{oops", encoding="utf-8")
    result = run_qabot("--index", str(tmp_path / "idx"), "ingest", "broken.json", "missing.md", cwd=tmp_path)
    assert result.returncode == 1
    assert result.stdout == "added 0, updated 0, unchanged 0, skipped 2\n"
    err = result.stderr.strip().splitlines()
    assert err[0].startswith("skipped broken.json: malformed JSON")
    assert err[1] == "skipped missing.md: no such file or directory"
    assert err[2:] == ["Error: nothing ingested: all 2 inputs were skipped (reasons above)"]


def test_an_ingest_of_one_input_that_was_skipped_says_so_in_the_singular(run_main: RunMain, tmp_path: Path) -> None:
    code, out, err = run_main("--index", str(tmp_path / "idx"), "ingest", "missing.md")
    assert (code, out) == (1, "added 0, updated 0, unchanged 0, skipped 1\n")
    assert err.splitlines() == [
        "skipped missing.md: no such file or directory",
        "Error: nothing ingested: the one input was skipped (reasons above)",
    ]
    assert not (tmp_path / "idx").exists()  # no empty index is made of nothing: `ask` still says there is none


def test_ask_on_an_empty_index_says_it_is_empty(cli_index: Path, tmp_path: Path) -> None:
    index = tmp_path / "emptied"
    shutil.copytree(cli_index, index)
    for article in ("cli-tram", "cli-bakery"):
        assert run_qabot("--index", str(index), "remove", article, cwd=tmp_path).returncode == 0
    for args in (["ask", COST], ["ask", "--jsonl"]):
        result = run_qabot("--index", str(index), *args, cwd=tmp_path, stdin=json.dumps({"question": COST}))
        assert_one_error_line(result, f"the index at {index} is empty", "`qabot ingest PATH`")


def test_help_from_the_console_script(tmp_path: Path) -> None:
    from importlib.metadata import entry_points

    # Declared, and installed beside this interpreter: a missing script is a broken install, not a reason to skip.
    assert [ep.value for ep in entry_points(group="console_scripts", name="qabot")] == ["qabot.cli:main"]
    script = Path(sys.executable).parent / "qabot"
    assert script.exists(), f"no qabot console script beside {sys.executable}: reinstall with `pip install -e .`"
    result = subprocess.run([str(script), "--help"], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0
    for command in ("ingest", "ask", "repl", "stats", "remove", "eval", "serve", "repair"):
        assert command in result.stdout
    assert result.stderr == ""


# ---------------------------------------------------------------------- in-process: commands that never embed
def test_in_process_stats_of_a_missing_index(run_main: RunMain, tmp_path: Path) -> None:
    assert_one_error_line(run_main("--index", str(tmp_path / "nope"), "stats"), "qabot ingest")


def test_an_error_line_never_carries_an_escape_sequence(run_main: RunMain, tmp_path: Path) -> None:
    # Messages quote paths, URLs and page titles: the OSC 52 in this folder name would set the terminal's clipboard.
    code, out, err = run_main("--index", str(tmp_path / "x\x1b]52;c;cm0gLXJmIH4=\x07\u202eyy"), "stats")
    assert_one_error_line((code, out, err), "qabot ingest")
    assert "xyy" in err
    for left in ("\x1b", "\x07", "52;c;", "\u202e"):
        assert left not in err


def test_in_process_remove_on_a_missing_index(run_main: RunMain, tmp_path: Path) -> None:
    assert_one_error_line(run_main("--index", str(tmp_path / "nope"), "remove", "some-id"), "qabot ingest")


# A locked, read-only or full database gets one line without advice to repair: tests/test_faults.py, through real
# SQLite locks, a read-only mount and a file-size limit.


def folder_contents(root: Path) -> dict[str, bytes | None]:
    """Every path under ``root`` with its bytes (None for a folder): equal before and after means untouched."""
    return {str(p.relative_to(root)): (p.read_bytes() if p.is_file() else None) for p in sorted(root.rglob("*"))}


@pytest.mark.parametrize(
    "command",
    [
        ["stats"], ["ask", COST], ["ingest", "tram.md"], [], ["remove", "cli-tram"], ["repair"],
        ["feeds", "add", "https://news.example.invalid/feed.xml"], ["feeds", "list"],
    ],
    ids=["stats", "ask", "ingest", "repl", "remove", "repair", "feeds-add", "feeds-list"],
)
def test_index_pointing_at_a_file_is_one_line_for_every_command(
    run_main: RunMain, tmp_path: Path, command: list[str]
) -> None:
    (tmp_path / "tram.md").write_text(TRAM_MD, encoding="utf-8")
    (tmp_path / "afile.txt").write_text("my notes\n", encoding="utf-8")

    result = run_main("--index", "afile.txt", *command)

    assert_one_error_line(result, "--index afile.txt is a file, not a folder")
    assert (tmp_path / "afile.txt").read_text("utf-8") == "my notes\n"


def test_another_tools_manifest_is_named_instead_of_sending_the_user_to_repair(
    run_main: RunMain, tmp_path: Path
) -> None:
    (tmp_path / "tram.md").write_text(TRAM_MD, encoding="utf-8")
    other = tmp_path / "webapp"
    other.mkdir()
    (other / "manifest.json").write_text('{"name": "My App", "start_url": "/", "icons": []}', encoding="utf-8")
    before = folder_contents(other)
    reason = "webapp holds a manifest.json that is not qabot's; choose another --index folder"

    for command in (["stats"], ["ingest", "tram.md"], ["repair"]):
        code, out, err = run_main("--index", "webapp", *command)
        assert_one_error_line((code, out, err), reason)
        assert "repair" not in err

    assert folder_contents(other) == before


def chroma_folder(folder: Path) -> str:
    folder.mkdir()
    with sqlite3.connect(folder / "chroma.sqlite3") as conn:
        conn.execute("CREATE TABLE embeddings (id INTEGER PRIMARY KEY, segment_id TEXT, embedding_id TEXT)")
    (folder / "6f1c0a4e-segment").mkdir()
    (folder / "6f1c0a4e-segment" / "data_level0.bin").write_bytes(bytes(range(256)))
    return "it holds 6f1c0a4e-segment, chroma.sqlite3"


def llama_index_folder(folder: Path) -> str:
    folder.mkdir()
    for name in ("docstore.json", "index_store.json", "default__vector_store.json"):
        (folder / name).write_text('{"docstore/data": {}}', encoding="utf-8")
    return "it holds default__vector_store.json, docstore.json, index_store.json"


def foreign_qabot_sqlite(folder: Path) -> str:
    folder.mkdir()
    with sqlite3.connect(folder / "qabot.sqlite") as conn:
        conn.execute("CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT)")
        conn.execute("INSERT INTO users(name) VALUES ('ada')")
    return "is another program's database (tables users), not qabot's"


@pytest.mark.parametrize("make", [chroma_folder, llama_index_folder, foreign_qabot_sqlite])
def test_a_folder_that_is_not_a_qabot_index_is_refused_and_left_byte_for_byte_unchanged(
    run_main: RunMain, tmp_path: Path, make: Callable[[Path], str]
) -> None:
    (tmp_path / "tram.md").write_text(TRAM_MD, encoding="utf-8")
    folder = tmp_path / "other"
    reason = make(folder)
    before = folder_contents(folder)

    for command in (["ingest", "tram.md"], ["stats"], []):  # [] is the REPL, which would ingest the samples
        result = run_main("--index", "other", *command)
        assert_one_error_line(result, reason, "choose another --index folder")

    assert folder_contents(folder) == before


def test_a_token_from_dotenv_quoted_by_an_exception_is_masked_on_the_error_line(
    run_main: RunMain, cli_index: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """HTTP clients and PTB quote the request URL or the token in their errors: the one error line masks it, also
    when the token comes from .env (not the environment) and the command never loaded the bot."""
    token, key = "8675309:AAF-cli-token-from-dotenv-0123456789", "AAF-cli-token-from-dotenv-0123456789"
    (tmp_path / ".env").write_text(f"QABOT_TELEGRAM_TOKEN={token}\nQABOT_LLM_API_KEY=sk-cli-key-42\n", "utf-8")

    def leaky(self: IndexStore) -> None:
        raise RuntimeError(f"token {token} was refused; key {key} alone; Bearer sk-cli-key-42")

    monkeypatch.setattr(IndexStore, "stats", leaky)  # fault injection: an exception text that quotes the secrets
    code, out, err = run_main("--index", str(cli_index), "stats")
    assert_one_error_line((code, out, err), "unexpected RuntimeError: token [REDACTED] was refused")
    assert "key [REDACTED] alone; Bearer [REDACTED]" in err
    assert key not in err
    assert "sk-cli-key-42" not in err


def test_index_and_debug_after_the_command(run_main: RunMain, cli_index: Path, tmp_path: Path) -> None:
    code, out, err = run_main("stats", "--index", str(cli_index))
    assert (code, err) == (0, "")
    assert f"index:    {cli_index}" in out
    assert "articles: 2" in out
    # given before the command, it is not reset by the command's own (absent) --index
    code, out, _ = run_main("--index", str(cli_index), "stats", "--json")
    assert (code, json.loads(out)["articles"]) == (0, 2)
    assert_one_error_line(run_main("remove", "some-id", "--index", str(tmp_path / "nope")), "qabot ingest")


def test_every_command_help_shows_index_and_debug() -> None:
    def commands(parser: argparse.ArgumentParser) -> list[argparse.ArgumentParser]:
        subs = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
        return [c for s in subs for p in s.choices.values() for c in [p, *commands(p)]]

    helps = {p.prog: p.format_help() for p in commands(build_parser())}
    assert {"qabot stats", "qabot ask", "qabot doctor", "qabot feeds list"} <= set(helps)
    for prog, text in helps.items():
        assert "--index DIR" in text, prog
        assert "--debug" in text, prog


def test_in_process_ingest_of_nothing(run_main: RunMain, tmp_path: Path) -> None:
    assert_one_error_line(run_main("--index", str(tmp_path / "idx"), "ingest"), "nothing to ingest")


def test_in_process_invalid_setting(run_main: RunMain, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("QABOT_MAX_ARTICLES", "0")
    assert_one_error_line(run_main("--index", str(tmp_path / "idx"), "stats"), "invalid settings", "max_articles")


def test_in_process_help(run_main: RunMain) -> None:
    with pytest.raises(SystemExit) as exc:
        run_main("--help")
    assert exc.value.code == 0


def test_commands_named_in_messages_exist() -> None:
    """Every `qabot CMD` a message or docstring tells the user to run is a real command."""
    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    commands = set(sub.choices)
    named: dict[str, set[str]] = {}
    for path in Path(__file__).resolve().parent.parent.joinpath("qabot").glob("*.py"):
        for cmd in re.findall(r"`qabot (?:--index \S+ )?([a-z][a-z-]*)", path.read_text("utf-8")):
            named.setdefault(cmd, set()).add(path.name)
    assert named, "the messages name commands"
    unknown = {cmd: files for cmd, files in named.items() if cmd not in commands}
    assert not unknown, f"messages name commands that do not exist: {unknown}"


def test_ask_jsonl_lines_of_one_conversation_follow_each_other(cli_index: Path, workdir: Path) -> None:
    lines = [
        json.dumps({"id": 1, "question": COST, "conversation": "a"}),
        json.dumps({"id": 2, "question": "and how much did it cost?", "conversation": "a"}),
        json.dumps({"id": 3, "question": "and how much did it cost?"}),  # no conversation: asked on its own
        json.dumps({"id": 4, "question": "and how much did it cost?", "conversation": "b"}),  # another one, new
    ]
    result = run_qabot("--index", str(cli_index), "ask", "--jsonl", cwd=workdir, stdin="\n".join(lines) + "\n")
    assert result.returncode == 0, result.stderr
    first, second, alone, other = (json.loads(line) for line in result.stdout.splitlines())
    assert first["context"] is None  # the first turn has no previous one
    assert second["context"]["followup"] is True
    assert second["context"]["query"].startswith("and how much did it cost? ")
    assert "40 million" in second["quotes"][0]["text"]
    assert alone["context"] is None
    assert other["context"] is None


# ---------------------------------------------------------------------- articles: list, remove, renames, --sync
HARBOUR_TXT = "Harbour ferry timetable changes\nThe harbour ferry to Fenwick Island will leave every forty minutes.\n"
FERRY = "How often will the harbour ferry to Fenwick Island leave?"


def listed(run: RunMain, index: Path, *args: str) -> list[dict[str, object]]:
    code, out, err = run("--index", str(index), "list", "--json", *args)
    assert (code, err) == (0, ""), err
    return [json.loads(line) for line in out.splitlines()]


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    news = tmp_path / "news"
    news.mkdir()
    (news / "tram.md").write_text(TRAM_MD, encoding="utf-8")
    (news / "bakery.md").write_text(BAKERY_MD, encoding="utf-8")
    (news / "ferry.txt").write_text(HARBOUR_TXT, encoding="utf-8")
    return news


def test_list_shows_ids_dates_titles_and_sources_newest_first_with_filters(
    run_main: RunMain, folder: Path, tmp_path: Path
) -> None:
    index = tmp_path / "index"
    assert run_main("--index", str(index), "ingest", str(folder))[0] == 0

    code, out, err = run_main("--index", str(index), "list")
    assert (code, err) == (0, "")
    ferry_id = next(a["id"] for a in listed(run_main, index) if a["title"] == "Harbour ferry timetable changes")
    assert out.splitlines() == [
        "cli-tram  2025-03-03  Port Aldwick opens its harbour tram line · Aldwick Herald · "
        "https://news.example.invalid/tram",
        "cli-bakery  2025-02-14  Oldest bakery in Fenwater closes · Fenwater Post · https://news.example.invalid/bakery",
        f"{ferry_id}  undated  Harbour ferry timetable changes · {folder.resolve() / 'ferry.txt'}",
        "3 articles",
    ]
    assert run_main("--index", str(index), "list", "--source", "fenwater POST")[1].splitlines() == [
        "cli-bakery  2025-02-14  Oldest bakery in Fenwater closes · Fenwater Post · https://news.example.invalid/bakery",
        "1 article",
    ]
    assert [a["id"] for a in listed(run_main, index, "--source", "ferry.txt")] == [ferry_id]
    assert [a["id"] for a in listed(run_main, index, "--since", "2025-03-01")] == ["cli-tram"]
    assert [a["id"] for a in listed(run_main, index, "--until", "2025-03-02")] == ["cli-bakery"]
    assert [a["id"] for a in listed(run_main, index, "--since", "2025-02-14", "--until", "2025-03-03")] == [
        "cli-tram",
        "cli-bakery",
    ]
    assert listed(run_main, index)[0] == {
        "id": "cli-tram", "title": "Port Aldwick opens its harbour tram line", "published": "2025-03-03",
        "source": "Aldwick Herald", "url": "https://news.example.invalid/tram",
        "file": str(folder.resolve() / "tram.md"),
    }  # fmt: skip
    assert run_main("--index", str(index), "list", "--source", "nowhere")[1] == "0 articles\n"
    assert_one_error_line(run_main("--index", str(index), "list", "--since", "March"), "--since", "YYYY-MM-DD")
    assert_one_error_line(run_main("--index", str(tmp_path / "none"), "list"), "qabot ingest")


def test_remove_finds_a_url_spelled_with_a_trailing_slash_fragment_or_capitals(
    run_main: RunMain, folder: Path, tmp_path: Path
) -> None:
    index = tmp_path / "index"
    assert run_main("--index", str(index), "ingest", str(folder))[0] == 0

    code, out, err = run_main("--index", str(index), "remove", "https://news.example.invalid/tram/")
    assert (code, out, err) == (0, "removed https://news.example.invalid/tram/\n", "")
    assert run_main("--index", str(index), "remove", "HTTPS://news.example.invalid:443/bakery#comments")[0] == 0
    assert_one_error_line(
        run_main("--index", str(index), "remove", "https://news.example.invalid/tram/"), "no article with id or URL"
    )
    assert_one_error_line(run_main("--index", str(index), "remove", "https://news.example.invalid/tr"), "no article")
    assert [a["title"] for a in listed(run_main, index)] == ["Harbour ferry timetable changes"]


def test_a_renamed_file_is_still_one_article_quoted_once(run_main: RunMain, folder: Path, tmp_path: Path) -> None:
    index = tmp_path / "index"
    assert run_main("--index", str(index), "ingest", str(folder))[0] == 0
    (folder / "ferry.txt").rename(folder / "ferry-2025.txt")
    (folder / "tram.md").rename(folder / "tram-line.md")  # its id is its own: the same article, from a new file

    code, out, err = run_main("--index", str(index), "ingest", str(folder))

    assert (code, out, err) == (0, "added 0, updated 1, unchanged 2, skipped 0\n", "")
    articles = listed(run_main, index)
    assert [(a["title"], a["file"]) for a in articles] == [
        ("Port Aldwick opens its harbour tram line", str(folder.resolve() / "tram-line.md")),
        ("Oldest bakery in Fenwater closes", str(folder.resolve() / "bakery.md")),
        ("Harbour ferry timetable changes", str(folder.resolve() / "ferry-2025.txt")),
    ]
    code, out, _ = run_main("--index", str(index), "ask", "--json", FERRY)
    quotes = json.loads(out)["quotes"]
    assert code == 0
    assert [q["text"] for q in quotes] == ["The harbour ferry to Fenwick Island will leave every forty minutes."]
    assert quotes[0]["article_id"] == articles[2]["id"]


def test_ingest_sync_removes_the_articles_of_deleted_files_only(
    run_main: RunMain, folder: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("QABOT_ALLOW_PRIVATE_URLS", "true")  # the page is served on loopback
    index = tmp_path / "index"
    other = tmp_path / "other"
    other.mkdir()
    (other / "bakery.md").write_text(BAKERY_MD.replace("cli-bakery", "other-bakery").replace("/bakery", "/b2"))
    with FakeWebServer() as web:
        web.route("/bridge", BRIDGE_PAGE)
        assert run_main("--index", str(index), "ingest", str(folder), str(other), web.url("/bridge"))[0] == 0
    before = shutil.copytree(index, tmp_path / "before")
    (folder / "bakery.md").unlink()
    (folder / "ferry.txt").unlink()
    (other / "bakery.md").unlink()  # not under a synced folder: it stays

    code, out, err = run_main("--index", str(index), "ingest", "--sync", str(folder))

    assert (code, out, err) == (0, "added 0, updated 0, unchanged 1, skipped 0, removed 2 (files gone)\n", "")
    assert [a["title"] for a in listed(run_main, index)] == [
        BRIDGE_TITLE,
        "Port Aldwick opens its harbour tram line",
        "Oldest bakery in Fenwater closes",  # from the other folder
    ]
    assert run_main("--index", str(index), "ingest", "--sync", str(folder))[1] == (
        "added 0, updated 0, unchanged 1, skipped 0, removed 0 (files gone)\n"
    )
    # A folder that is not there (an unmounted disk, a typo) removes nothing, and the run says it read nothing.
    shutil.rmtree(folder)
    code, out, err = run_main("--index", str(index), "ingest", "--sync", str(folder))
    assert (code, out) == (1, "added 0, updated 0, unchanged 0, skipped 1, removed 0 (files gone)\n")
    assert err.splitlines()[-1].startswith("Error: nothing ingested")
    assert len(listed(run_main, index)) == 3
    assert len(listed(run_main, before)) == 5


def test_an_index_from_before_origins_learns_them(run_main: RunMain, folder: Path, tmp_path: Path) -> None:
    index = tmp_path / "index"
    assert run_main("--index", str(index), "ingest", str(folder))[0] == 0
    conn = sqlite3.connect(index / "qabot.sqlite")
    conn.executescript("DROP INDEX articles_origin; ALTER TABLE articles DROP COLUMN origin;")  # as older qabot made it
    conn.close()

    assert [a["file"] for a in listed(run_main, index)] == [None, None, None]
    code, out, _ = run_main("--index", str(index), "ingest", str(folder))
    assert (code, out) == (0, "added 0, updated 0, unchanged 3, skipped 0\n")
    assert [a["file"] for a in listed(run_main, index)] == [
        str(folder.resolve() / name) for name in ("tram.md", "bakery.md", "ferry.txt")
    ]


# ---------------------------------------------------------------------- input that is not UTF-8 (#15)
def run_qabot_bytes(*args: str | bytes, cwd: Path, stdin: bytes) -> subprocess.CompletedProcess[bytes]:
    """``qabot ARGS`` fed raw bytes on stdin, as a pipe from a file in another encoding delivers them."""
    return subprocess.run(
        [sys.executable, "-m", "qabot.cli", *args], cwd=cwd, env=clean_env(), input=stdin, capture_output=True,
        timeout=300,
    )  # fmt: skip


def test_ask_jsonl_refuses_a_line_that_is_not_utf8_and_answers_the_others(cli_index: Path, workdir: Path) -> None:
    lines = [
        json.dumps({"id": "q1", "question": COST}).encode(),
        '{"id": "q2", "question": "caf\xe9 prices in Fenwater?"}'.encode("latin-1"),  # "é" as one Latin-1 byte
        json.dumps({"id": "q3", "question": "Why did the Fenwater bakery close?"}).encode(),
    ]
    result = run_qabot_bytes("--index", str(cli_index), "ask", "--jsonl", cwd=workdir, stdin=b"\n".join(lines) + b"\n")

    assert result.returncode == 0, result.stderr
    first, refused, third = (json.loads(line) for line in result.stdout.decode().splitlines())
    assert refused == {"id": None, "line": 2, "error": "line 2 is not valid UTF-8"}  # not asked as "caf?"
    assert "40 million" in first["quotes"][0]["text"]
    assert third["id"] == "q3"
    assert third["quotes"][0]["article_id"] == "cli-bakery"


def test_piped_questions_refuse_a_line_that_is_not_utf8_and_go_on(cli_index: Path, workdir: Path) -> None:
    stdin = "caf\xe9 prices?\n".encode("latin-1") + f"{COST}\n".encode()
    result = run_qabot_bytes("--index", str(cli_index), cwd=workdir, stdin=stdin)

    assert result.returncode == 0, result.stderr
    out = result.stdout.decode()
    assert "Error: line 1 is not valid UTF-8" in out
    assert out.count("Error:") == 1
    assert "40 million crowns" in out.split("Error: line 1 is not valid UTF-8", 1)[1]


def test_a_question_argument_that_is_not_utf8_is_refused(run_main: RunMain, tmp_path: Path) -> None:
    question = b"caf\xe9 prices?".decode("utf-8", "surrogateescape")  # how Python hands such an argv word over
    assert_one_error_line(
        run_main("--index", str(tmp_path / "none"), "ask", question), "the question is not valid UTF-8"
    )


# ---------------------------------------------------------------------- what a long first day shows on stderr (#15)
def test_the_model_export_is_announced_on_stderr_only_when_it_runs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from qabot.cli.app import _configure_logging
    from qabot.embed import resolve_model_path
    from qabot.embed.onnx_backend import ensure_model, read_layout

    layout = read_layout(resolve_model_path("bundled"))
    assert layout is not None
    exported: list[str] = []

    def stand_in(model_dir: Path, out: Path) -> None:  # torch's exporter takes ~15 s (the real one: test_onnx_backend)
        exported.append(out.name)
        out.write_bytes(b"an fp32 graph")

    _configure_logging(debug=False)  # as main() sets up every command
    model = ensure_model(layout, tmp_path / "fresh-cache", stand_in, precision="fp32")
    assert capsys.readouterr().err == "Preparing the embedding model (once; about 15 s)…\n"
    assert ensure_model(layout, tmp_path / "fresh-cache", stand_in, precision="fp32") == model
    assert capsys.readouterr().err == ""  # the cached export exists: nothing is prepared, nothing said
    assert exported == ["model-fp32.onnx"]


def test_a_long_ingest_logs_plain_progress_lines_that_start_before_the_first_512_texts(tmp_path: Path) -> None:
    towns = ["Aldwick", "Fenwater", "Vellmoor", "Dunmere", "Hallberg", "Brindlewick"]
    with (tmp_path / "council.jsonl").open("w", encoding="utf-8") as fh:
        for n in range(40):
            town = towns[n % len(towns)]
            text = " ".join(
                f"The {town} council approved budget line {n}-{k} worth {n * 31 + k * 7} thousand crowns on day {k}."
                for k in range(14)
            )
            fh.write(json.dumps({"id": f"c{n}", "title": f"{town} council budget, part {n}", "text": text}) + "\n")

    result = run_qabot("--index", str(tmp_path / "index"), "ingest", "council.jsonl", cwd=tmp_path)  # stderr a pipe

    assert result.returncode == 0, result.stderr
    lines = result.stderr.splitlines()
    progress = [re.fullmatch(r"embedding: (\d+) of (\d+) texts \((\d+)%\)", line) for line in lines]
    assert all(progress), lines
    done, total, percent = zip(*((int(m[1]), int(m[2]), int(m[3])) for m in progress if m), strict=True)
    assert len(set(total)) == 1
    assert total[0] > 512  # more than one call to the model
    assert percent == (10, 20, 30, 40, 50, 60, 70, 80, 90, 100)  # one line per tenth, none repeated
    assert done[0] < 512  # the first line comes within the first call to the model, not after it
    assert done[-1] == total[0]
    assert result.stdout == "added 40, updated 0, unchanged 0, skipped 0\n"

"""The `qabot` command as a user runs it: ingest, ask (text, --json, --jsonl), stats, remove, errors, help.

Commands that embed run as real subprocesses (each loads its own model, so there are few of them); commands that
never embed run in-process through ``qabot.cli.main``.
"""

from __future__ import annotations

import argparse
import json
import os
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

TRAM_MD = """---
id: cli-tram
url: https://news.example.invalid/tram
published: 2025-03-03
source: Aldwick Herald
---
# Port Aldwick opens its harbour tram line

The harbour tram line in Port Aldwick opened on Monday after three years of work.

The line cost 40 million crowns and was paid for by the regional council.

Trams run every ten minutes between the ferry terminal and the old fish market.
"""
BAKERY_MD = """---
id: cli-bakery
url: https://news.example.invalid/bakery
published: 2025-02-14
source: Fenwater Post
---
# Oldest bakery in Fenwater closes

The Marlow family bakery in Fenwater closed its doors on Saturday after 112 years.

The owners said rising flour and energy prices made the business impossible to keep open.
"""
# In the article's own words: these tests are about the index, not about paraphrase.
COST = "What did the harbour tram line in Port Aldwick cost?"


def clean_env() -> dict[str, str]:
    """The environment a CLI subprocess runs in: no QABOT_* from the developer, the model offline."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("QABOT_")}
    env.update(HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1")
    return env


def run_qabot(*args: str, cwd: Path, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    """``python -m qabot.cli ARGS`` with a clean environment (no QABOT_* from the developer, offline model)."""
    env = clean_env()
    return subprocess.run(
        [sys.executable, "-m", "qabot.cli", *args],
        cwd=cwd,
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=300,
    )


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


def assert_one_error_line(result: subprocess.CompletedProcess[str] | tuple[int, str, str], *needles: str) -> None:
    code, out, err = (
        (result.returncode, result.stdout, result.stderr) if isinstance(result, subprocess.CompletedProcess) else result
    )
    assert code == 1
    assert out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("Error: ")
    assert "Traceback" not in err
    for needle in needles:
        assert needle in lines[0]


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
RunMain = Callable[..., tuple[int, str, str]]


@pytest.fixture
def run_main(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> RunMain:
    monkeypatch.chdir(tmp_path)  # no .env from the working tree

    def run(*args: str) -> tuple[int, str, str]:
        code = main(list(args))
        out, err = capsys.readouterr()
        return code, out, err

    return run


def test_in_process_stats_of_a_missing_index(run_main: RunMain, tmp_path: Path) -> None:
    assert_one_error_line(run_main("--index", str(tmp_path / "nope"), "stats"), "qabot ingest")


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

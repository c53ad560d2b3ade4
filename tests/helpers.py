"""Plain helpers shared by the test files: the CLI run in this process or as a subprocess, the one-error-line check,
and the small articles several files index. Fixtures built on them (``run_main``, ``index_of``) are in conftest.py.
"""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any, NamedTuple

import pytest

from qabot.cli import main
from qabot.models import Article


class CliRun(NamedTuple):
    """What an in-process ``qabot`` run gave; compares equal to a plain (code, out, err) tuple."""

    code: int
    out: str
    err: str


RunMain = Callable[..., CliRun]  # the run_main fixture: run_main(*args, stdin=None) -> CliRun


def run_main(argv: Sequence[str], capsys: pytest.CaptureFixture[str], *, stdin: str | None = None) -> CliRun:
    """``qabot ARGV`` through ``qabot.cli.main`` in this process; ``stdin``, when given, is its standard input."""
    saved = sys.stdin
    if stdin is not None:
        sys.stdin = io.StringIO(stdin)
    try:
        code = main(list(argv))
    finally:
        sys.stdin = saved
    out, err = capsys.readouterr()
    return CliRun(code, out, err)


def clean_env(**extra: str) -> dict[str, str]:
    """The environment of a ``qabot`` subprocess: no QABOT_* from the developer, the model offline, then ``extra``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("QABOT_")}
    env.update(HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", **extra)
    return env


def run_qabot(
    *args: str, cwd: Path, stdin: str | None = None, env: Mapping[str, str] | None = None, **popen: Any
) -> subprocess.CompletedProcess[str]:
    """``python -m qabot.cli ARGS`` as a subprocess in ``cwd`` (``env`` defaults to ``clean_env()``)."""
    return subprocess.run(
        [sys.executable, "-m", "qabot.cli", *args],
        cwd=cwd,
        env=dict(env) if env is not None else clean_env(),
        input=stdin,
        capture_output=True,
        text=True,
        timeout=300,
        **popen,
    )


_PROGRESS = re.compile(r"embedding: \d+ of \d+ texts \(\d+%\)")


def assert_one_error_line(
    result: str | CliRun | tuple[int, str, str] | subprocess.CompletedProcess[str],
    *needles: str,
    contains: str | Iterable[str] = (),
) -> str:
    """Exactly one non-empty line on stderr, starting "Error: " and holding every needle; no traceback.

    Plain progress lines of a long ingest ("embedding: 480 of 913 texts (50%)") may come before it: they report
    work done, not the error.

    ``result`` is stderr itself, or a whole run: then it must also have exited 1 with nothing on stdout.
    Returns the line.
    """
    if isinstance(result, str):
        err = result
    else:
        code, out, err = (
            (result.returncode, result.stdout, result.stderr)
            if isinstance(result, subprocess.CompletedProcess)
            else result
        )
        assert code == 1, (code, out, err)
        assert out == "", out
    assert "Traceback" not in err, err
    lines = [line for line in err.splitlines() if line.strip() and not _PROGRESS.fullmatch(line)]
    assert len(lines) == 1, err
    assert lines[0].startswith("Error: "), lines[0]
    for needle in (*needles, *([contains] if isinstance(contains, str) else contains)):
        assert needle in lines[0], (needle, lines[0])
    return lines[0]


# ---------------------------------------------------------------------- articles several files index
TRAM = Article(
    id="tram-1",
    title="Port Aldwick opens its harbour tram line",
    text=(
        "The harbour tram line in Port Aldwick opened on Monday after three years of work.\n\n"
        "The line cost 40 million crowns and was paid for by the regional council.\n\n"
        "Trams run every ten minutes between the ferry terminal and the old fish market."
    ),
    url="https://news.example.invalid/tram",
    published="2025-03-03",
    source="Aldwick Herald",
)
BAKERY = Article(
    id="bakery-1",
    title="Oldest bakery in Fenwater closes",
    text=(
        "The Marlow family bakery in Fenwater closed its doors on Saturday after 112 years.\n\n"
        "The owners said rising flour and energy prices made the business impossible to keep open."
    ),
    url="https://news.example.invalid/bakery",
    published="2025-02-14",
    source="Fenwater Post",
)
# In the article's own words: tests that use it are about the index, not about paraphrase.
COST = "What did the harbour tram line in Port Aldwick cost?"

RATES = Article(
    id="rates",
    title="Caldera Reserve Bank holds rates",
    text=(
        "The Caldera Reserve Bank kept its main interest rate at 4.25 percent on Thursday.\n\n"
        "Governor Ilse Marren said inflation was falling more slowly than the bank had hoped."
    ),
    url="https://news.example.invalid/rates",
    published="2025-05-08",
    source="Caldera Times",
)
HEAT = Article(
    id="heat",
    title="Vellmoor rations water in heatwave",
    text=(
        "Vellmoor limited garden watering to two evenings a week as the heatwave entered its third week.\n\n"
        "The reservoir above the town was at 31 percent of capacity, the water board said."
    ),
    url="https://news.example.invalid/heat",
    published="2025-07-21",
    source="Vellmoor Echo",
)
RATE_Q = "What was the main interest rate of the Caldera Reserve Bank on Thursday?"
HEAT_Q = "How full was the reservoir above Vellmoor during the heatwave?"


def as_markdown(article: Article, **changes: str) -> str:
    """``article`` (with ``changes``) as a Markdown file with front matter, the form `qabot ingest` reads."""
    a = replace(article, **changes)
    fields = {"id": a.id, "url": a.url, "published": a.published, "source": a.source}
    front = [f"{key}: {value}" for key, value in fields.items() if value]
    return "---\n" + "\n".join(front) + f"\n---\n# {a.title}\n\n{a.text}\n"

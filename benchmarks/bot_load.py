"""Answers per second of the Telegram bot under concurrent load, through the fake Bot API on 127.0.0.1.

    .venv/bin/python benchmarks/bot_load.py
    .venv/bin/python benchmarks/bot_load.py --questions 400 --chats 100 --backends onnx,torch

The real ``Application`` from ``qabot.bot.app.build_application`` polls the loopback fake Bot API
(``tests/fakes/telegram_api.py``) over HTTP, with one warm ``Answerer`` shared by every handler. All questions
(news-qa dev questions, from private chats and from groups by @mention) are queued at once; the clock runs from the
first one queued to the last answer sent. Reported: answers per second, time to each answer (p50, p95: queueing
included), and the same questions asked directly through ``Answerer.ask`` one after another, so the bot's own
overhead shows. Table on stdout, JSON to benchmarks/results/bot_load.json.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

os.environ["NO_PROXY"] = os.environ["no_proxy"] = "127.0.0.1,localhost"  # the fake Bot API is on loopback
sys.path.insert(0, str(Path(__file__).resolve().parent))
import common  # first: puts the repository on sys.path and sets offline mode
from pydantic import SecretStr

from qabot.answer import Answerer
from qabot.config import Settings
from qabot.embed import Embedder
from qabot.ingest import Ingestor
from tests.fakes.telegram_api import FakeBotApi, group_chat, private_chat, user
from tests.telegram.harness import running_bot


async def load_round(settings: Settings, answerer: Answerer, questions: list[str], chats: int) -> dict[str, Any]:
    """Queue every question at once, wait for every answer; answers/s and time to each answer."""
    async with FakeBotApi() as fake:
        s = settings.model_copy(update={"telegram_token": SecretStr(fake.token), "telegram_base_url": fake.base_url})
        async with running_bot(fake, s, answerer) as bot:
            # One warm-up question, so connection set-up and first-call costs are not in the numbers.
            fake.send_text(private_chat(user(1, "W")), user(1, "W"), questions[0])
            await fake.wait_for_call("sendMessage", 1, within=120)
            await bot.settle()
            fake.forget()
            t0 = time.perf_counter()
            for i, q in enumerate(questions):
                c = i % chats
                if c % 2 == 0:
                    sender = user(10_000 + c, f"P{c}")
                    fake.send_text(private_chat(sender), sender, q)
                else:
                    fake.send_text(group_chat(-5000 - c, f"Group {c}"), user(20_000 + i, "G"), f"@{fake.username} {q}")
            done: list[float] = []
            for n in range(1, len(questions) + 1):
                await fake.wait_for_call("sendMessage", n, within=600)
                done.append(time.perf_counter() - t0)
            await bot.settle()
            sent = len(fake.sent())
    total = done[-1]
    return {
        "answers": sent,
        "seconds": round(total, 2),
        "answers/s": round(len(questions) / total, 2),
        "to_answer_p50_s": round(common.percentile(done, 50), 2),
        "to_answer_p95_s": round(common.percentile(done, 95), 2),
    }


def direct(answerer: Answerer, questions: list[str]) -> float:
    """Answers per second through ``Answerer.ask``, one after another (no bot)."""
    with common.Timer() as t:
        for q in questions:
            answerer.ask(q)
    return len(questions) / t.seconds


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--questions", type=int, default=200, help="questions queued at once")
    p.add_argument("--chats", type=int, default=50, help="chats they come from (half private, half groups)")
    p.add_argument("--backends", default="onnx,torch", help="embedding backends to compare")
    p.add_argument("--index-dir", type=Path, default=None, help="an existing index (default: news-qa, built now)")
    p.add_argument("--out", type=Path, default=None)
    args = p.parse_args(argv)
    logging.getLogger("httpx").setLevel(logging.WARNING)  # Bot API URLs carry the token

    info = common.machine()
    print(common.machine_line(info), file=sys.stderr)
    tmp = tempfile.TemporaryDirectory(prefix="qabot-bench-bot-")
    index_dir = args.index_dir or Path(tmp.name) / "index"
    base = Settings(
        _env_file=None,  # type: ignore[call-arg]
        index_dir=index_dir,
        user_cooldown_seconds=0,  # a load test, not a flood test: let every question through
        group_budget_per_minute=100_000,
    )
    if args.index_dir is None:
        print("building a news-qa index…", file=sys.stderr, flush=True)
        Ingestor.from_settings(base).ingest_articles(common.news_articles())
    pool = [q.question for q in common.news_questions()]
    questions = [pool[i % len(pool)] for i in range(args.questions)]

    rows = []
    for backend in args.backends.split(","):
        settings = base.model_copy(update={"embed_backend": backend})
        embedder = Embedder.from_settings(settings)
        answerer = Answerer.from_settings(settings, embedder=embedder)
        for q in pool[:10]:
            answerer.ask(q)  # warm
        row: dict[str, Any] = {"backend": embedder.backend, "questions": len(questions), "chats": args.chats}
        row["direct answers/s"] = round(direct(answerer, pool), 2)
        row.update(asyncio.run(load_round(settings, answerer, questions, args.chats)))
        row["bot / direct"] = round(row["answers/s"] / row["direct answers/s"], 2)
        rows.append(row)
        print(f"  {row}", file=sys.stderr, flush=True)
    cols = ["backend", "questions", "chats", "answers/s", "direct answers/s", "bot / direct"]
    common.print_table(
        "Bot under load — " + common.machine_line(info), rows, [*cols, "to_answer_p50_s", "to_answer_p95_s"]
    )
    common.write_json("bot_load", {"machine": info, "rows": rows}, args.out)
    tmp.cleanup()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

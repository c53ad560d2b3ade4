"""A bounded soak of the Telegram bot: feeds refreshing every minute, 50 chats asking, an admin ingest midway.

    .venv/bin/python benchmarks/soak.py --minutes 5

The real ``Application`` (``qabot.bot.app.build_application``) polls the loopback fake Bot API
(``tests/fakes/telegram_api.py``) and refreshes its feed list every ``--refresh-seconds`` from a local HTTP server
(``tests/fakes/web_server.py``) whose feed gains a new story and drops its oldest one each period. 50 chats (half
private, half groups by @mention) ask in rounds, one question per chat per round, each round only after the last
one's answers are all out; halfway an admin sends ``/ingest URL`` of one more local page. The index starts as the
bundled samples.

Reported: questions asked and answers sent (must be equal), errors (answers that say "something went wrong",
failed Bot API calls, feed refresh failures; must be none), resident memory every half-minute (flat after the
warm-up), time to each answer (p50, p95). Table on stdout, JSON to benchmarks/results/soak.json. At most 15 minutes.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

os.environ["NO_PROXY"] = os.environ["no_proxy"] = "127.0.0.1,localhost"  # the fakes are on loopback
sys.path.insert(0, str(Path(__file__).resolve().parent))
import common  # first: puts the repository on sys.path and sets offline mode
from pydantic import SecretStr

from qabot.answer import Answerer
from qabot.cli.commands import samples_dir
from qabot.config import Settings
from qabot.embed import Embedder
from qabot.ingest import Ingestor
from qabot.render import telegram as th
from qabot.sources.feeds import FeedList
from tests.fakes.telegram_api import FakeBotApi, group_chat, private_chat, user
from tests.fakes.web_server import FakeWebServer
from tests.telegram.harness import running_bot
from tests.telegram.pages import article_page

CHATS = 50
ADMIN = user(42, "Ada")
TOWNS = ("Aldwick", "Fenwater", "Marlow", "Brindlewick", "Kestrel Bay", "Ormsby", "Thornleigh", "Castlemere")
SAMPLE_QUESTIONS = (
    "Why was Turkey removed from the F-35 programme?",
    "Who is the new head coach of Fenwater Rovers?",
    "How often do trams run in the evening in Port Aldwick?",
    "What is the capital of Peru?",
)


def story(n: int) -> tuple[str, str, str]:
    """The n-th feed story: (title, page, a question it answers)."""
    town = TOWNS[n % len(TOWNS)]
    title = f"{town} council approves new library wing number {n}"
    paragraphs = (
        f"The {town} town council approved a new library wing on Tuesday, project number {n}, at a cost of {n + 3} "
        "million crowns paid from the regional culture fund.",
        f"Building work on the {town} library wing will start in the autumn and take about {n % 5 + 2} years, the "
        "council's planning office said.",
    )
    return title, article_page(title, *paragraphs), f"What will the {town} library wing number {n} cost?"


class ChangingFeed:
    """A feed of the five newest stories; ``advance()`` adds one and drops the oldest (as a news site does)."""

    def __init__(self, web: FakeWebServer) -> None:
        self.web = web
        self.newest = 0
        self._lock = threading.Lock()
        for _ in range(5):
            self.advance()

    def advance(self) -> None:
        with self._lock:
            self.newest += 1
            _, page, _ = story(self.newest)
            self.web.route(f"/news/{self.newest}.html", page)
            items = "".join(
                f"<item><title>{story(n)[0]}</title><link>{self.web.url(f'/news/{n}.html')}</link>"
                f"<guid>{self.web.url(f'/news/{n}.html')}</guid></item>"
                for n in range(self.newest, max(0, self.newest - 5), -1)
            )
            body = (
                '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>Soak Post</title>'
                f"<link>{self.web.url('/')}</link><description>News</description>{items}</channel></rss>"
            )
            self.web.route("/feed.xml", body, content_type="application/rss+xml")

    def question(self, k: int) -> str:
        """A question about one of the stories already in the feed (or an older one, still indexed)."""
        with self._lock:
            return story(max(1, self.newest - k % 7))[2]


async def soak(settings: Settings, embedder: Embedder, minutes: float, refresh_s: float) -> dict[str, Any]:
    answerer = Answerer.from_settings(settings, embedder=embedder)
    ingestor = Ingestor.from_settings(settings, embedder=embedder)
    with FakeWebServer() as web:
        feed = ChangingFeed(web)
        FeedList(settings.index_dir).add(web.url("/feed.xml"))
        _, extra_page, extra_q = story(10_000)
        web.route("/admin/extra.html", extra_page)
        async with FakeBotApi() as fake:
            s = settings.model_copy(
                update={"telegram_token": SecretStr(fake.token), "telegram_base_url": fake.base_url}
            )
            async with running_bot(fake, s, answerer, ingestor=ingestor, refresh_interval=refresh_s) as bot:
                t0 = time.monotonic()
                end = t0 + minutes * 60
                times: list[float] = []
                rss: list[tuple[float, float]] = [(0.0, common.rss_mb())]
                asked = sent_total = wrong = failed = 0
                admin_done = False
                admin_reply = ""
                last_advance = t0
                round_no = 0
                while time.monotonic() < end:
                    now = time.monotonic()
                    if now - last_advance >= refresh_s:
                        feed.advance()
                        last_advance = now
                    if not admin_done and now - t0 >= minutes * 30:
                        fake.send_text(private_chat(ADMIN), ADMIN, f"/ingest {web.url('/admin/extra.html')}")
                        admin_done = True
                    sent_at: dict[int, float] = {}
                    for c in range(CHATS):
                        k = c + round_no
                        q = (
                            extra_q
                            if admin_done and k % 10 == 0
                            else SAMPLE_QUESTIONS[k % 4]
                            if k % 2
                            else feed.question(k)
                        )
                        if c % 2 == 0:
                            sender = user(10_000 + c, f"P{c}")
                            fake.send_text(private_chat(sender), sender, q)
                        else:
                            fake.send_text(
                                group_chat(-5000 - c, f"Group {c}"), user(20_000 + c, "G"), f"@{fake.username} {q}"
                            )
                        sent_at[c] = time.monotonic()
                        asked += 1
                    chat_ids = {c: (10_000 + c if c % 2 == 0 else -5000 - c) for c in range(CHATS)}
                    for c, chat_id in chat_ids.items():
                        call = await fake.wait_for_call("sendMessage", 1, within=300, chat_id=chat_id)
                        times.append(time.monotonic() - sent_at[c])
                        if th.SOMETHING_WRONG in call.result["text"]:
                            wrong += 1
                    await bot.settle()
                    round_no += 1
                    if admin_done and not admin_reply:  # its reply is waited for in the round that sent it
                        reply = await fake.wait_for_call("sendMessage", 1, within=300, chat_id=ADMIN["id"])
                        admin_reply = reply.result["text"]
                    sent_total += sum(len(fake.sent(cid)) for cid in chat_ids.values())
                    failed += sum(1 for c in fake.calls if c.error is not None)
                    fake.forget()  # the fake lives in this process: its records must not count as the bot's memory
                    if time.monotonic() - t0 - rss[-1][0] >= 30:
                        rss.append((round(time.monotonic() - t0), common.rss_mb()))
                rss.append((round(time.monotonic() - t0), common.rss_mb()))
                refreshes = bot.jobs.feeds.refreshes
                feed_errors = [f.last_error for f in FeedList(settings.index_dir).list() if f.last_error]
                elapsed = time.monotonic() - t0
    articles = answerer.store.stats().articles
    return {
        "minutes": round(elapsed / 60, 1),
        "rounds": round_no,
        "asked": asked,
        "answered": sent_total,
        "something went wrong": wrong,
        "failed Bot API calls": failed,
        "feed errors": len(feed_errors),
        "refreshes": refreshes,
        "stories published": feed.newest,
        "articles at end": articles,
        "admin ingest": admin_reply,
        "answer p50 s": round(common.percentile(times, 50), 2),
        "answer p95 s": round(common.percentile(times, 95), 2),
        "rss_mb": [(t, round(m, 1)) for t, m in rss],
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--minutes", type=float, default=5.0, help="how long to run (at most 15)")
    p.add_argument("--refresh-seconds", type=float, default=60.0, help="feed refresh period (the feed changes too)")
    p.add_argument("--out", type=Path, default=None)
    args = p.parse_args(argv)
    if not 0 < args.minutes <= 15:
        p.error("--minutes must be more than 0 and at most 15")
    logging.getLogger("httpx").setLevel(logging.WARNING)  # Bot API URLs carry the token
    info = common.machine()
    print(common.machine_line(info), file=sys.stderr)
    with tempfile.TemporaryDirectory(prefix="qabot-soak-") as tmp:
        settings = Settings(
            _env_file=None,  # type: ignore[call-arg]
            index_dir=Path(tmp) / "index",
            user_cooldown_seconds=0,  # a soak, not a flood test: every question is let through
            group_budget_per_minute=100_000,
            allow_private_urls=True,  # the feed and the admin's page are on 127.0.0.1
            admin_ids=[ADMIN["id"]],
        )
        embedder = Embedder.from_settings(settings)
        Ingestor.from_settings(settings, embedder=embedder).ingest_paths([samples_dir()])
        row = asyncio.run(soak(settings, embedder, args.minutes, args.refresh_seconds))
    print(f"  {row}", file=sys.stderr)
    cols = [k for k in row if k not in ("rss_mb", "admin ingest")]
    common.print_table("Soak — " + common.machine_line(info), [row], cols)
    print("admin ingest: " + row["admin ingest"])
    print("RSS over time (s, MB): " + ", ".join(f"{t}: {m}" for t, m in row["rss_mb"]))
    common.write_json("soak", {"machine": info, "row": row}, args.out)
    ok = row["asked"] == row["answered"] and not (row["something went wrong"] or row["failed Bot API calls"])
    return 0 if ok and not row["feed errors"] else 1


if __name__ == "__main__":
    raise SystemExit(main())

"""The bot's fixed texts follow the Telegram user's ``language_code``, end to end through the fake Bot API.

A German user gets German /help, /start, hints and refusals (in private and in groups: the user who wrote decides);
a regional code ("es-MX") reads as its language; a language without a translation ("ja") gets English; the command
menus are registered once per language. Quotes are never translated (``test_bot_e2e`` covers the answers).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from qabot.answer import Answerer
from qabot.answer.decline import ENGLISH_ONLY
from qabot.config import Settings
from qabot.embed import Embedder
from qabot.render import translations as tr
from qabot.render.common import DECLINE_TEXT, SUMMARY_LABEL
from tests.fakes.llm_server import FakeLlm
from tests.fakes.telegram_api import Call, FakeBotApi, group_chat, private_chat, user
from tests.telegram.harness import Harness, buttons, quotes_in, running_bot, visible

SettingsFactory = Callable[..., Settings]
JONAS = user(801, "Jonas", language_code="de")
ANN = user(802, "Ann")  # no language_code: English
F35_QUESTION = "why was Turkey removed from the F-35 program?"

GERMAN_FRIENDLY = "Gern geschehen – fragen Sie mich einfach alles zu den Artikeln."
SPANISH_FRIENDLY = "¡De nada! Pregúntame lo que quieras sobre los artículos."
ENGLISH_FRIENDLY = "Glad to help — ask me anything about the articles."


async def _say(bot: Harness, chat: dict, who: dict, text: str) -> Call:
    """Send ``text`` and return the bot's next message, once the update is completely handled."""
    before = len(bot.fake.sent())
    bot.fake.send_text(chat, who, text)
    reply = await bot.fake.wait_for_call("sendMessage", before + 1)
    await bot.settle()
    return reply


async def test_a_german_user_gets_german_help_start_hints_and_friendly_line(
    fake: FakeBotApi, bot_settings: SettingsFactory, answerer: object
) -> None:
    chat = private_chat(JONAS)
    async with running_bot(fake, bot_settings(), answerer) as bot:
        help_ = await _say(bot, chat, JONAS, "/help")
        start = await _say(bot, chat, JONAS, "/start")
        thanks = await _say(bot, chat, JONAS, "danke!")
        unknown = await _say(bot, chat, JONAS, "/frobnicate")
        new = await _say(bot, chat, JONAS, "/new")
        sources = await _say(bot, chat, JONAS, "/sources")

    assert visible(help_).startswith("So fragen Sie\nSchicken Sie mir in diesem Chat Ihre Frage als Nachricht")
    assert "<code>/ask@QA_Test_Bot Ihre Frage</code>" in help_.params["text"]
    assert "/new — ein neues Gespräch beginnen" in visible(help_)
    assert "Ich kenne 11 Artikel, der neueste vom 2025-10-20." in visible(start)
    assert visible(thanks) == GERMAN_FRIENDLY
    assert visible(unknown) == "Unbekannter Befehl /frobnicate; /help zeigt alle Befehle."
    assert visible(new) == "Neues Gespräch: Die nächste Frage beginnt von vorn."
    assert visible(sources).startswith("Die neuesten Artikel\n[1] ")


async def test_in_a_group_the_language_is_the_writers(
    fake: FakeBotApi, bot_settings: SettingsFactory, answerer: object
) -> None:
    group = group_chat(-1801)
    async with running_bot(fake, bot_settings(), answerer) as bot:
        german = await _say(bot, group, JONAS, f"/ask@{fake.username}")
        english = await _say(bot, group, ANN, f"/ask@{fake.username}")

    assert visible(german).startswith("Stellen Sie mir eine Frage zu den Nachrichten, z. B. /ask what happened")
    assert visible(english).startswith("Ask me a question about the news, e.g. /ask what happened")


async def test_added_to_a_group_the_note_is_in_the_language_of_whoever_added_the_bot(
    fake: FakeBotApi, bot_settings: SettingsFactory, answerer: object
) -> None:
    french = user(808, "Léa", language_code="fr")
    async with running_bot(fake, bot_settings(), answerer) as bot:
        fake.bot_member_update(group_chat(-1803), french, "left", "member")
        note = await fake.wait_for_call("sendMessage")
        await bot.settle()

    assert visible(note) == (
        "Bonjour ! Je réponds aux questions sur l'actualité en citant mes articles. Pour me poser une question ici, "
        "mentionnez @QA_Test_Bot, répondez à l'un de mes messages ou utilisez /ask@QA_Test_Bot votre question. "
        "Plus d'infos : /help."
    )


async def test_a_regional_code_reads_as_its_language_and_others_get_english(
    fake: FakeBotApi, bot_settings: SettingsFactory, answerer: object
) -> None:
    mexican, japanese, brazilian = (
        user(803, "Lupe", language_code="es-MX"),
        user(804, "Yui", language_code="ja"),
        user(805, "Rui", language_code="pt-br"),
    )
    async with running_bot(fake, bot_settings(), answerer) as bot:
        replies = [visible(await _say(bot, private_chat(u), u, "thanks!")) for u in (mexican, japanese, brazilian)]
        ann = visible(await _say(bot, private_chat(ANN), ANN, "thanks!"))

    assert replies == [SPANISH_FRIENDLY, ENGLISH_FRIENDLY, ENGLISH_FRIENDLY]
    assert ann == ENGLISH_FRIENDLY


async def test_an_answers_own_lines_are_in_the_askers_language_and_its_quotes_never_are(
    fake: FakeBotApi, bot_settings: SettingsFactory, sample_index: Path, embedder: Embedder
) -> None:
    with FakeLlm() as llm:
        settings = bot_settings(llm_url=llm.url)
        answerer = Answerer.from_settings(
            Settings(_env_file=None, index_dir=sample_index, llm_url=llm.url), embedder=embedder
        )
        async with running_bot(fake, settings, answerer) as bot:
            declined = await _say(bot, private_chat(JONAS), JONAS, "Who painted the Mona Lisa?")
            which_story = await _say(bot, private_chat(JONAS), JONAS, "when did that happen?")
            in_german = await _say(
                bot, private_chat(JONAS), JONAS, "Warum wurde die Türkei aus dem F-35-Programm ausgeschlossen?"
            )
            german = await _say(bot, private_chat(JONAS), JONAS, F35_QUESTION)
            english = await _say(bot, private_chat(ANN), ANN, F35_QUESTION)

    assert visible(declined) == "Die Artikel beantworten diese Frage nicht."
    assert visible(which_story).startswith("Welche Meldung meinen Sie?")  # no guess, and in German too
    assert visible(in_german) == ENGLISH_ONLY["de"]  # the question's language, as before
    label = "Zusammenfassung eines Sprachmodells, an den Zitaten geprüft:"
    assert f"<i>{label}</i>" in german.params["text"]
    assert f"<i>{SUMMARY_LABEL}</i>" in english.params["text"]
    assert quotes_in(german) == quotes_in(english)
    assert any("2019" in q and "removed" in q for q in quotes_in(german))  # the article's English, verbatim
    assert DECLINE_TEXT not in visible(german)


async def test_refusals_and_the_groups_rate_warning_are_in_the_writers_language(
    fake: FakeBotApi, bot_settings: SettingsFactory, answerer: object
) -> None:
    stranger, olga = user(806, "Ivan", language_code="ru"), user(807, "Olga", language_code="ru")
    group = group_chat(-1802)
    settings = bot_settings(allowed_users=[JONAS["id"], olga["id"]], group_budget_per_minute=1)
    async with running_bot(fake, settings, answerer) as bot:
        refusal = await _say(bot, private_chat(stranger), stranger, F35_QUESTION)
        admin = await _say(bot, private_chat(JONAS), JONAS, "/reload")
        await _say(bot, group, JONAS, f"@{fake.username} {F35_QUESTION}")
        too_fast = await _say(bot, group, olga, f"@{fake.username} {F35_QUESTION}")

    assert visible(refusal) == "Извините, это закрытый бот. Попросите доступ у его владельца."
    assert visible(admin) == "Entschuldigung, das dürfen nur die Administratoren des Bots."
    assert visible(too_fast).startswith("В этой группе спрашивают быстрее, чем мне разрешено отвечать.")


async def test_a_burst_and_the_vote_buttons_answer_in_the_users_language(
    fake: FakeBotApi, bot_settings: SettingsFactory, answerer: object
) -> None:
    chat = private_chat(JONAS)
    async with running_bot(fake, bot_settings(user_cooldown_seconds=0.05), answerer) as bot:
        for n in range(5):  # one answered at once, three waiting behind it, one skipped
            fake.send_text(chat, JONAS, f"{F35_QUESTION} ({n})")
        note = await fake.wait_for_call("sendMessage", 5)
        await bot.settle()
        first = fake.sent()[0]
        fake.press_button(first.result, JONAS, next(b for b in buttons(first) if b.startswith("fb:+:")))
        fake.press_button(first.result, JONAS, "fb:+:no-such-answer")
        fake.press_button(first.result, JONAS, "frobnicate")
        await fake.wait_for_call("answerCallbackQuery", 3)
        await bot.settle()

    assert visible(note) == (
        "Ich habe 1 weitere Frage übersprungen, die Sie geschickt haben, während ich geantwortet habe. "
        "Bitte schicken Sie sie noch einmal, eine nach der anderen."
    )
    notices = sorted(c.params["text"] for c in fake.calls_of("answerCallbackQuery", ok=True))
    assert notices == sorted(
        [
            "Danke! Ihr 👍 zählt.",
            "Diese Antwort ist zu alt, um sie zu bewerten.",
            "Dieser Knopf funktioniert nicht mehr. Fragen Sie noch einmal, um eine neue Antwort zu bekommen.",
        ]
    )


async def test_privacy_forget_and_stats_are_in_the_users_language(
    fake: FakeBotApi, bot_settings: SettingsFactory, answerer: object
) -> None:
    olga = user(807, "Olga", language_code="ru-RU")
    async with running_bot(fake, bot_settings(retention_days=21), answerer) as bot:
        policy = await _say(bot, private_chat(JONAS), JONAS, "/privacy")
        stats = await _say(bot, private_chat(JONAS), JONAS, "/stats")
        await _say(bot, private_chat(olga), olga, F35_QUESTION)
        forgot = await _say(bot, private_chat(olga), olga, "/forget")
        again = await _say(bot, private_chat(olga), olga, "/forget")

    assert visible(policy).startswith("Was dieser Bot speichert\n• Jede Frage, die Sie mir stellen,")
    assert "Alles wird nach 21 Tagen gelöscht." in visible(policy)
    assert "/forget löscht sofort Ihre Fragen" in visible(policy)
    assert visible(stats).startswith("11 Artikel, ")
    assert "Neuester Artikel: 2025-10-20" in visible(stats)
    assert visible(forgot) == "Я удалил всё, что хранил о вас: 1 вопрос, 0 голосов и наш разговор."
    assert visible(again) == "Удалять нечего: я не храню ваших вопросов, голосов или разговоров."


async def test_startup_registers_a_command_menu_per_language(
    fake: FakeBotApi, bot_settings: SettingsFactory, answerer: object
) -> None:
    async with running_bot(fake, bot_settings(), answerer):
        pass

    calls = [c.params for c in fake.calls_of("setMyCommands", ok=True)]
    menus = {(c.get("language_code"), (c.get("scope") or {}).get("type")): c["commands"] for c in calls}
    assert len(calls) == len(menus) == 2 * (1 + len(tr.LANGUAGES))  # each language once, privately and in groups
    for lang in (None, *tr.LANGUAGES):
        private, groups = menus[(lang, None)], menus[(lang, "all_group_chats")]
        assert [c["command"] for c in private] == ["start", "ask", "new", "sources", "stats", "privacy", "help"]
        assert [c["command"] for c in groups] == ["ask", "new", "sources", "stats", "privacy", "help"]
    assert calls[0].get("language_code") is None  # English, the default, first
    german = {c["command"]: c["description"] for c in menus[("de", None)]}
    assert german["ask"] == "Eine Frage zu den Nachrichten stellen"
    assert german["start"] == "Was dieser Bot kann"
    russian = {c["command"]: c["description"] for c in menus[("ru", "all_group_chats")]}
    assert russian["new"] == "Начать новый разговор"

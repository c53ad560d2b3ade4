"""The buttons under the bot's messages: 👍/👎 under an answer, its "More sources", and the pages that opens.

Every press is answered, an unknown or outdated one too (unanswered, a button keeps spinning). The votes and the
pages are ``qabot.bot.jobs``'s; this module reads the button's data and changes the message it is under.
"""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.error import BadRequest

from qabot.bot.feedback import Tally
from qabot.bot.paging import SourcesPage
from qabot.bot.sending import edit_text, lang_of, send
from qabot.render import telegram as th
from qabot.render import translations as tr

if TYPE_CHECKING:
    from qabot.bot.app import Context


async def on_feedback(update: Update, context: Context) -> None:
    """Store the vote, say which one counted, and show the new counts on the buttons (everyone sees them)."""
    query = update.callback_query
    _, sign, answer_id = (query.data or "").split(":", 2)
    vote = 1 if sign == "+" else -1
    tally = await context.state.jobs.vote(answer_id, query.from_user.id, vote)
    if tally is None or not tally.known:
        await query.answer(tr.text("feedback_down" if tally is None else "too_old_to_rate", lang_of(update)))
        return
    await query.answer(th.vote_notice(vote, tally.before, lang_of(update)))
    if tally.before != vote and isinstance(query.message, Message):
        await _edit_keyboard(query.message, [[_counted(b, tally) for b in row] for row in _rows(query.message)])


def _counted(button: InlineKeyboardButton, tally: Tally) -> InlineKeyboardButton:
    data = str(button.callback_data or "")
    if data.startswith(("fb:+:", "fb:-:")):
        up = data.startswith("fb:+:")
        return InlineKeyboardButton(th.vote_label(up, tally.up if up else tally.down), callback_data=data)
    return button


async def on_more(update: Update, context: Context) -> None:
    """``more:<id>`` under an answer opens its further sources in one new message, once; ``more:<id>:<page>``
    under that message turns its page in place. The page number in the button is the message's own cursor."""
    query = update.callback_query
    _, answer_id, *page_number = (query.data or "").split(":")
    jobs = context.state.jobs
    message = query.message
    if not isinstance(message, Message) or not all(n.isdigit() for n in page_number):
        await query.answer(tr.text("old_button", lang_of(update)))
        return
    opening = not page_number
    if opening and (opened := await jobs.open_sources(answer_id)) is not True:
        await query.answer(tr.text("sources_below" if opened is False else "no_more", lang_of(update)))
        return
    page = await jobs.sources_page(answer_id, int(page_number[0]) if page_number else 1)
    if page is None:
        await query.answer(tr.text("no_more", lang_of(update)))
        return
    await query.answer()
    keyboard = _page_keyboard(answer_id, page)
    if opening:
        await send(message, page.html, reply_markup=keyboard, do_quote=True)
        # The answer's own "More sources" goes: its further sources are now in the message under it.
        await _edit_keyboard(
            message, [[b for b in row if not str(b.callback_data).startswith("more:")] for row in _rows(message)]
        )
    else:
        await edit_text(message, page.html, keyboard)


def _page_keyboard(answer_id: str, page: SourcesPage) -> InlineKeyboardMarkup | None:
    row = []
    if page.page > 1:
        row.append(InlineKeyboardButton("◀ Back", callback_data=f"more:{answer_id}:{page.page - 1}"))
    if page.page < page.pages:
        row.append(InlineKeyboardButton("More ▶", callback_data=f"more:{answer_id}:{page.page + 1}"))
    return InlineKeyboardMarkup([row]) if row else None


def _rows(message: Message) -> list[list[InlineKeyboardButton]]:
    return [list(row) for row in message.reply_markup.inline_keyboard] if message.reply_markup else []


async def _edit_keyboard(message: Message, rows: list[list[InlineKeyboardButton]]) -> None:
    """Change the buttons under a message; "not modified" (a press at the same moment did it) is no error."""
    with contextlib.suppress(BadRequest):
        await message.edit_reply_markup(InlineKeyboardMarkup([row for row in rows if row]))


async def on_unknown_button(update: Update, context: Context) -> None:
    """Any other press (a button of an older version of the bot): answered, so it stops spinning."""
    await update.callback_query.answer(tr.text("old_button", lang_of(update)))


__all__ = ["on_feedback", "on_more", "on_unknown_button"]

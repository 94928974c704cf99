"""Inline mode: `@botname GPT` in any chat lists the archive's matching items, newest first,
and the one the reader picks is posted there as one message; with no words, the items of
the latest issue. Only published issues: what is shared is public."""

from __future__ import annotations

import logging

from sqlmodel import Session
from telegram import (
    InlineQueryResultArticle,
    InlineQueryResultsButton,
    InputTextMessageContent,
    LinkPreviewOptions,
    Update,
)
from telegram.constants import ParseMode
from telegram.ext import ContextTypes

from bot import storage
from bot.content.messages import issue_date, shared_text
from bot.delivery.broadcast import messages_of_text
from bot.handlers.common import services_of, texts_of
from bot.handlers.views import MAX_SEARCH_CHARS, MAX_SEARCH_TERMS, SEARCH_START, parse_terms
from bot.storage import IssueRecord, ItemRecord

log = logging.getLogger(__name__)

RESULTS_PER_ANSWER = 20  # Telegram takes at most 50; the reader scrolls for more
# How long Telegram may reuse an answer for the same words: a new issue shows within minutes.
CACHE_SECONDS = 300
DESCRIPTION_CHARS = 100  # Telegram shows about two lines under the title


async def inline_search(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Answer an inline query with a page of matching items (next_offset turns the page)."""
    query = update.inline_query
    assert query is not None  # registered for inline queries only
    t = texts_of(update, context)
    words = parse_terms(" ".join(query.query.split()))
    # The offset is the next_offset of our previous answer; anything else starts over.
    offset = query.offset
    page = int(offset) if offset.isascii() and offset.isdigit() and len(offset) < 6 else 0
    if len(words) > MAX_SEARCH_TERMS or len(query.query) > MAX_SEARCH_CHARS:
        too_long = t.search_too_long.format(terms=MAX_SEARCH_TERMS, chars=MAX_SEARCH_CHARS)
        button = InlineQueryResultsButton(too_long, start_parameter=SEARCH_START)
        await query.answer([], button=button, is_personal=True)  # the button is in their language
        return
    with services_of(context).session() as session:
        items, more = _found(session, words, page)
        results = _results(session, items)
    button = None
    if not results and page == 0:
        button = InlineQueryResultsButton(t.inline_none, start_parameter=SEARCH_START)
    await query.answer(
        results,
        cache_time=CACHE_SECONDS,
        # None, not "": with Defaults set, PTB sends an empty string as `[]`, an offset
        # Telegram would ask us for, and the answer would start over.
        next_offset=str(page + 1) if more else None,
        button=button,
        is_personal=button is not None,  # not cached for others: the button is in their language
    )
    log.info("inline query answered words=%d page=%d results=%d", len(words), page, len(results))


def _found(session: Session, words: list[str], page: int) -> tuple[list[ItemRecord], bool]:
    """A page of the items matching `words` (no words: the latest issue's), and whether
    there are more."""
    offset = page * RESULTS_PER_ANSWER
    if not words:
        latest = storage.latest_issue(session, published_only=True)
        items = storage.items_of(session, latest.id) if latest else []
        return items[offset : offset + RESULTS_PER_ANSWER], len(items) > offset + RESULTS_PER_ANSWER
    found = storage.search_items(session, words, RESULTS_PER_ANSWER, offset, published_only=True)
    return found.items, found.total > offset + len(found.items)


def _results(session: Session, items: list[ItemRecord]) -> list[InlineQueryResultArticle]:
    issues = {item.issue_id: storage.get_issue(session, item.issue_id) for item in items}
    return [
        _result(item, record) for item in items if (record := issues[item.issue_id]) is not None
    ]


def _result(item: ItemRecord, issue: IssueRecord) -> InlineQueryResultArticle:
    messages = messages_of_text(issue.raw_text, issue.file_name)
    text = shared_text([m for m in messages if m.item_number == item.number], issue.id, issue.title)
    about = " · ".join(part for part in (issue_date(issue.id), item.source) if part)
    description = f"{about}\n{' '.join(item.body_text.split())}"[:DESCRIPTION_CHARS]
    return InlineQueryResultArticle(
        id=f"{issue.id}-{item.number}",
        title=item.title or f"{item.number}.",
        description=description,
        input_message_content=_content(text, item.url),
    )


def _content(text: str, url: str | None) -> InputTextMessageContent:
    if url is None:  # no article to preview: the bot's default, no preview
        return InputTextMessageContent(text, parse_mode=ParseMode.HTML)
    # The preview shows the article the title links to; is_disabled is said outright, as
    # PTB would fill in the bot's default (no previews) field by field.
    preview = LinkPreviewOptions(is_disabled=False, url=url)
    return InputTextMessageContent(text, parse_mode=ParseMode.HTML, link_preview_options=preview)

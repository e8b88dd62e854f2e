"""Members' commands: /related, /cite (with autocomplete), /bibliography, the message context menus, and
answers to citation requests in threads ("source?", a mention of the bot)."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands
from discord.ext import commands
from rapidfuzz import fuzz, process

from bot.citations import Style
from bot.discord import embeds, render, triggers
from bot.discord.checks import UserError, rate_limit_check, rate_limited
from bot.discord.history import RecentMessages, members_text, read_history
from bot.discord.interactions import NO_MENTIONS, answer, defer
from bot.discord.ratelimit import RateLimiter
from bot.discord.views import PagesView, send_pages
from bot.domain import Message
from bot.engine import Engine
from bot.identifiers import normalize_text
from bot.retrieval.query import content_words
from bot.storage import Database, Work
from bot.storage.generation import Generation

if TYPE_CHECKING:
    from bot.discord.app import AlignBot

log = logging.getLogger(__name__)

STYLE_CHOICES = [app_commands.Choice(name=style.label, value=style.value) for style in Style]
QUESTION_MAX = 1000
# Seconds between checks of the knowledge base's generation: new works reach autocomplete that soon after any
# process stores them, and only they are read.
SUGGESTIONS_CHECK = 2.0


# --- autocomplete over titles and aliases --------------------------------------------------------------


@dataclass(frozen=True)
class Suggestion:
    key: str  # normalised text matched against what the user types
    label: str  # shown in Discord's list (at most 100 characters)
    value: str  # sent as the option value: something `Engine.cite` resolves exactly


def cite_value(title: str, arxiv_id: str | None, doi: str | None, url: str | None) -> str:
    """The shortest exact handle of a work that fits an option value (100 characters)."""
    if arxiv_id:
        return f"arXiv:{arxiv_id}"
    if doi and len(doi) <= 96:
        return f"doi:{doi}"
    if url and len(url) <= 100:
        return url
    return embeds.truncate(title, 100).rstrip("…")


def work_suggestions(work: Work) -> list[Suggestion]:
    """A work's title and aliases."""
    value = cite_value(work.title, work.arxiv_id, work.doi, work.url)
    year = f" ({work.year})" if work.year else ""
    suggestions = [Suggestion(normalize_text(work.title), embeds.truncate(work.title + year, 100), value)]
    for alias in work.aliases:
        suggestions.append(Suggestion(normalize_text(alias), embeds.truncate(f"{alias} — {work.title}", 100), value))
    return suggestions


class SuggestionList:
    """Titles and aliases of every work, kept at the knowledge base's generation like the engine's indexes:
    the first `follow` reads every work, later ones only the works changed since (by any process)."""

    def __init__(self) -> None:
        self.seen: Generation | None = None
        self.by_work: dict[str, list[Suggestion]] = {}
        self.items: list[Suggestion] = []

    def follow(self, db: Database) -> list[Suggestion]:
        """Runs in a worker thread (the first call reads the whole works table)."""
        now = db.generation()
        seen = self.seen
        if seen is not None and (seen.kb_id, seen.value) == (now.kb_id, now.value):
            return self.items
        known = seen is not None and seen.kb_id == now.kb_id and now.value > seen.value
        changed = db.changed_since(seen.value, now) if seen is not None and known else None
        if changed is None:
            self.by_work = {work.id: work_suggestions(work) for work in db.iter_works()}
        else:
            works = db.works(sorted(changed))
            for work_id in changed:
                work = works.get(work_id)
                if work is None:
                    self.by_work.pop(work_id, None)
                else:
                    self.by_work[work_id] = work_suggestions(work)
        self.items = [s for group in self.by_work.values() for s in group]
        self.seen = now
        return self.items


def build_suggestions(engine: Engine) -> list[Suggestion]:
    """Titles and aliases of every work, read now."""
    return SuggestionList().follow(engine.db)


def match_suggestions(suggestions: Sequence[Suggestion], current: str, limit: int = 25) -> list[Suggestion]:
    """The best matches for what the user has typed so far, one per work."""
    query = normalize_text(current)
    if not query:
        chosen = sorted(suggestions, key=lambda s: s.label.casefold())
    else:
        keys = [s.key for s in suggestions]
        hits = process.extract(query, keys, scorer=fuzz.WRatio, limit=limit * 4, score_cutoff=50)
        # Prefix matches first: people type the start of a title or alias.
        hits.sort(key=lambda h: (not keys[h[2]].startswith(query), -h[1]))
        chosen = [suggestions[index] for _key, _score, index in hits]
    out: list[Suggestion] = []
    seen: set[str] = set()
    for suggestion in chosen:
        if suggestion.value not in seen:
            seen.add(suggestion.value)
            out.append(suggestion)
        if len(out) >= limit:
            break
    return out


# --- the cog -----------------------------------------------------------------------------------------


class Research(commands.Cog):
    def __init__(self, bot: AlignBot) -> None:
        self.bot = bot
        self.settings = bot.settings
        self._suggestions: list[Suggestion] = []
        self._suggestion_list = SuggestionList()
        self._suggestions_at = float("-inf")
        self._suggestions_task: asyncio.Task[None] | None = None
        # At most one unprompted answer per channel or thread per cooldown: a busy thread full of
        # "source?" gets one reading list, not ten.
        cooldown = self.settings.reply_cooldown_seconds
        self.channel_limiter = RateLimiter(1, cooldown) if cooldown > 0 else None
        # One more than the context, so that the messages before a new one are known without another read.
        self.recent = RecentMessages(self.settings.context_messages + 1)
        self.menus = [
            app_commands.ContextMenu(name="Find related work", callback=self.find_related_menu),
            app_commands.ContextMenu(name="Cite papers mentioned", callback=self.cite_mentioned_menu),
        ]
        for menu in self.menus:
            menu.add_check(rate_limit_check)

    def cog_load(self) -> None:
        for menu in self.menus:
            self.bot.tree.add_command(menu)

    async def cog_unload(self) -> None:
        for menu in self.menus:
            self.bot.tree.remove_command(menu.name, type=menu.type)
        await self.bot.remove_cog(self.recent.qualified_name)

    # --- helpers -------------------------------------------------------------------------------------

    async def _history(self, channel: Any, *, limit: int, oldest_first: bool = False) -> list[Message]:
        """Members' messages in a channel or thread, read now, oldest first (bots' own answers are not context)."""
        if limit <= 0 or channel is None or not hasattr(channel, "history"):
            return []
        seen = await read_history(channel, limit=limit, oldest_first=oldest_first) or []
        return members_text(seen if oldest_first else seen[::-1])

    async def _context(self, channel: Any, before: discord.Message | None = None) -> list[Message]:
        """The channel's latest members' messages (before `before`), oldest first (`RecentMessages.context`)."""
        if channel is None or not hasattr(channel, "history"):
            return []
        return await self.recent.context(channel, self.settings.context_messages, before)

    async def _starter(self, thread: discord.Thread) -> Message | None:
        """The message a thread was started from, when it lives in the parent channel (not in a forum)."""
        parent = thread.parent
        if parent is None or isinstance(parent, discord.ForumChannel) or not hasattr(parent, "fetch_message"):
            return None
        try:
            message = await parent.fetch_message(thread.id)
        except discord.HTTPException:
            return None
        if message.author.bot or not message.content.strip():
            return None
        return Message(author=message.author.display_name, text=message.content)

    async def _ask(self, question: str, context: Sequence[Message] = ()) -> list[embeds.Page]:
        engine = self.bot.require_engine()
        result = await self.bot.run_engine(engine.ask, question, k=self.settings.max_results, context=list(context))
        return render.related_pages(result, self.settings.results_per_page)

    def _style(self, style: app_commands.Choice[str] | None) -> Style:
        return Style(style.value) if style is not None else self.settings.default_style

    # --- /related ------------------------------------------------------------------------------------

    @app_commands.command(name="related", description="Related work for a question, from the research knowledge base.")
    @app_commands.describe(question="What you want related work for, e.g. 'is chain-of-thought faithful?'")
    @rate_limited
    async def related(
        self, interaction: discord.Interaction, question: app_commands.Range[str, 1, QUESTION_MAX]
    ) -> None:
        if not question.strip():
            raise UserError("Please ask a question, e.g. `/related question: is chain-of-thought faithful?`")
        await defer(interaction)
        context: list[Message] = []
        if len(content_words(question)) < 2:  # a bare "this?" in a thread is about the thread
            context = await self._context(interaction.channel)
        pages = await self._ask(question, context)
        await send_pages(interaction, pages, timeout=self.settings.view_timeout_seconds)

    # --- /cite ---------------------------------------------------------------------------------------

    @app_commands.command(name="cite", description="A formatted citation for a paper or post.")
    @app_commands.describe(
        reference="A title, 'Turpin et al. 2023', an alias like 'the sleeper agents paper', or an arXiv id",
        style="Citation style (default APA)",
    )
    @app_commands.choices(style=STYLE_CHOICES)
    @rate_limited
    async def cite(
        self,
        interaction: discord.Interaction,
        reference: app_commands.Range[str, 1, 300],
        style: app_commands.Choice[str] | None = None,
    ) -> None:
        chosen = self._style(style)
        await defer(interaction)
        engine = self.bot.require_engine()
        # The channel's latest messages: "Open Problems" in a thread on interpretability is that field's paper.
        context = await self._context(interaction.channel)
        result = await self.bot.run_engine(engine.cite, reference, style=chosen, context=context)
        embed = render.cite_embed(result, chosen)
        await answer(interaction, embed=embed)

    @cite.autocomplete("reference")
    async def cite_autocomplete(self, interaction: discord.Interaction, current: str) -> list[app_commands.Choice[str]]:
        # Autocomplete cannot be deferred: answer from what is loaded, refresh in the background.
        self._refresh_suggestions()
        return [app_commands.Choice(name=s.label, value=s.value) for s in match_suggestions(self._suggestions, current)]

    def _refresh_suggestions(self, force: bool = False) -> None:
        stale = time.monotonic() - self._suggestions_at > SUGGESTIONS_CHECK
        running = self._suggestions_task is not None and not self._suggestions_task.done()
        if (stale or force) and not running and self.bot.engine is not None:
            self._suggestions_task = asyncio.get_running_loop().create_task(self._load_suggestions())

    async def _load_suggestions(self) -> None:
        try:
            engine = self.bot.require_engine()
            self._suggestions = await self.bot.run_engine(self._suggestion_list.follow, engine.db)
            self._suggestions_at = time.monotonic()
        except Exception:
            log.exception("could not load titles for autocomplete")

    @commands.Cog.listener()
    async def on_ready(self) -> None:
        self._refresh_suggestions(force=True)

    # --- /bibliography -------------------------------------------------------------------------------

    @app_commands.command(name="bibliography", description="Every work this thread has referred to so far.")
    @app_commands.describe(style="Citation style (default APA)")
    @app_commands.choices(style=STYLE_CHOICES)
    @rate_limited
    async def bibliography(
        self, interaction: discord.Interaction, style: app_commands.Choice[str] | None = None
    ) -> None:
        channel = interaction.channel
        if channel is None or not hasattr(channel, "history"):
            raise UserError("I can't read this channel. Use /bibliography in a thread.")
        chosen = self._style(style)
        await defer(interaction)
        is_thread = isinstance(channel, discord.Thread)
        limit = self.settings.bibliography_messages
        # A thread is read from its start; elsewhere the most recent messages are what "so far" means.
        messages = await self._history(channel, limit=limit, oldest_first=is_thread)
        if is_thread:
            starter = await self._starter(channel)  # type: ignore[arg-type]
            if starter is not None:
                messages.insert(0, starter)
        engine = self.bot.require_engine()
        result = await self.bot.run_engine(engine.bibliography, messages, style=chosen)
        pages = render.bibliography_pages(result, chosen, where="thread" if is_thread else "channel")
        await send_pages(interaction, pages, timeout=self.settings.view_timeout_seconds, bibtex_all=True)

    # --- context menus -------------------------------------------------------------------------------

    async def find_related_menu(self, interaction: discord.Interaction, message: discord.Message) -> None:
        text = message.content.strip()
        if not text:
            raise UserError("That message has no text to find related work for.")
        await defer(interaction)
        pages = await self._ask(text[:QUESTION_MAX])
        await send_pages(interaction, pages, timeout=self.settings.view_timeout_seconds)

    async def cite_mentioned_menu(self, interaction: discord.Interaction, message: discord.Message) -> None:
        text = message.content.strip()
        if not text:
            raise UserError("That message has no text, so it mentions no papers.")
        await defer(interaction)
        engine = self.bot.require_engine()
        thread = [Message(author=message.author.display_name, text=text)]
        result = await self.bot.run_engine(engine.bibliography, thread, style=self.settings.default_style)
        pages = render.mentioned_pages(result, self.settings.default_style)
        await send_pages(interaction, pages, timeout=self.settings.view_timeout_seconds, bibtex_all=True)

    # --- requests in threads -------------------------------------------------------------------------

    def _in_reply_channel(self, channel: Any) -> bool:
        wanted = set(self.settings.reply_channels)
        if not wanted:
            return False
        parent = getattr(channel, "parent", None)
        ids = {
            getattr(channel, "id", None),
            getattr(channel, "parent_id", None),
            getattr(channel, "category_id", None),
            getattr(parent, "category_id", None),
        }
        return bool(wanted & ids)

    def _addresses_bot(self, message: discord.Message) -> bool:
        me = self.bot.user
        if me is None:
            return False
        if any(user.id == me.id for user in message.mentions):
            return True
        # Members often pick the bot's managed role from the @ list instead of the bot itself.
        return any(role.tags is not None and role.tags.bot_id == me.id for role in message.role_mentions)

    @commands.Cog.listener()
    async def on_message(self, message: discord.Message) -> None:
        try:
            await self._maybe_answer(message)
        except Exception:  # a listener has no user to tell: log, never post a traceback
            log.exception("answering message %s in channel %s failed", message.id, message.channel.id)

    async def _maybe_answer(self, message: discord.Message) -> None:
        settings = self.settings
        if settings.reply_mode == "off" or message.guild is None:
            return
        if message.author.bot or message.webhook_id is not None:  # never itself, other bots or webhooks
            return
        if message.type not in (discord.MessageType.default, discord.MessageType.reply):
            return
        addressed = self._addresses_bot(message)
        if not addressed and (settings.reply_mode != "requests" or not self._in_reply_channel(message.channel)):
            return
        trigger = triggers.detect(message.content, addressed=addressed)
        if trigger is None:
            return
        channel_key = ("channel", message.channel.id)
        if not addressed and self.channel_limiter is not None and self.channel_limiter.retry_after(channel_key) > 0:
            log.debug("staying quiet in channel %s: answered recently", message.channel.id)
            return
        if self.bot.limiter.hit(("user", message.author.id)) > 0:
            log.debug("user %s is rate limited; not answering", message.author.id)
            return
        context = await self._context(message.channel, before=message)
        if not trigger.question.strip() and not context:
            return
        engine = self.bot.require_engine()
        async with message.channel.typing():
            result = await self.bot.run_engine(engine.ask, trigger.question, k=settings.max_results, context=context)
        if not result.confident and trigger.kind == "request" and not settings.reply_when_unsure:
            log.info("no confident match for a request in channel %s; staying quiet", message.channel.id)
            return
        if not addressed and self.channel_limiter is not None:
            self.channel_limiter.hit(channel_key)
        pages = render.related_pages(result, settings.results_per_page)
        view = PagesView(pages, owner_id=message.author.id, timeout=settings.view_timeout_seconds)
        kwargs: dict[str, Any] = {"embed": pages[0].embed, "allowed_mentions": NO_MENTIONS, "mention_author": False}
        if view.useful:
            kwargs["view"] = view
        else:
            view.stop()
        sent = await message.reply(**kwargs)
        view.message = sent


async def setup(bot: AlignBot) -> None:
    """The extension's entry point (`bot.load_extension("bot.discord.cogs.research")`)."""
    research = Research(bot)
    await bot.add_cog(research.recent)  # the context it reads, kept from events
    await bot.add_cog(research)

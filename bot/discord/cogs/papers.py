"""Moderators' `/paper add`: fetch a paper's metadata from arXiv, Semantic Scholar or OpenAlex into the
knowledge base, so that /related and /cite know it from then on."""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot import papers
from bot.discord import render
from bot.discord.checks import UserError, moderator_check, rate_limited
from bot.discord.interactions import EngineTimeout, answer, defer
from bot.metadata.errors import MetadataError
from bot.metadata.fetch import CLIENTS, default_source, parse_request

if TYPE_CHECKING:
    from bot.discord.app import AlignBot

log = logging.getLogger(__name__)

SOURCE_CHOICES = [
    app_commands.Choice(name="arXiv", value="arxiv"),
    app_commands.Choice(name="Semantic Scholar", value="s2"),
    app_commands.Choice(name="OpenAlex", value="openalex"),
]


class Papers(commands.Cog):
    paper = app_commands.Group(
        name="paper", description="Moderators: papers in the research knowledge base.", guild_only=True
    )

    def __init__(self, bot: AlignBot) -> None:
        self.bot = bot
        self.settings = bot.settings

    async def interaction_check(self, interaction: discord.Interaction, /) -> bool:  # type: ignore[override]
        """Adding to the shared knowledge base is for moderators; others get a polite refusal."""
        return await moderator_check(interaction)

    def _private(self, interaction: discord.Interaction) -> bool:
        """Answers are ephemeral except in the moderator channel, as for the other moderator commands."""
        return interaction.channel_id is None or interaction.channel_id != self.settings.moderator_channel

    @paper.command(name="add", description="Moderators: add a paper from arXiv, Semantic Scholar or OpenAlex.")
    @app_commands.describe(
        reference="An arXiv id or link, a DOI, an S2 or OpenAlex id, or a title to search for",
        source="Where to look it up (default: arXiv for arXiv ids, Semantic Scholar otherwise)",
    )
    @app_commands.choices(source=SOURCE_CHOICES)
    @rate_limited
    async def add(
        self,
        interaction: discord.Interaction,
        reference: app_commands.Range[str, 1, 300],
        source: app_commands.Choice[str] | None = None,
    ) -> None:
        chosen = source.value if source is not None else default_source(reference)
        api = CLIENTS[chosen].label
        try:
            parse_request(chosen, reference)  # offline: a bad reference is refused before anything is deferred
        except ValueError as exc:
            raise UserError(f"{exc}.") from exc
        await defer(interaction, ephemeral=self._private(interaction))
        engine = self.bot.require_engine()
        # A thread of its own, not the engine's small worker pool: a slow or hanging API must not hold up
        # the questions queued there. The fetch bounds itself (metadata_deadline_seconds); this is a backstop.
        limit = engine.settings.metadata.deadline_seconds + self.settings.engine_timeout_seconds
        try:
            result = await asyncio.wait_for(asyncio.to_thread(papers.Papers(engine).fetch, chosen, reference), limit)
        except TimeoutError as exc:
            raise EngineTimeout("paper add") from exc
        except MetadataError as exc:
            raise UserError(f"I couldn't add that paper. {exc}. Nothing was stored; please try again later.") from exc
        except ValueError as exc:
            raise UserError(f"{exc}.") from exc
        log.info(
            "/paper add %r from %s by user %s: %s",
            reference,
            chosen,
            interaction.user.id,
            ", ".join(f"{item.status} {item.work.id}" for item in result.works) or "nothing found",
        )
        await answer(interaction, embed=render.fetch_embed(result, api))


async def setup(bot: AlignBot) -> None:
    """The extension's entry point (`bot.load_extension("bot.discord.cogs.papers")`)."""
    await bot.add_cog(Papers(bot))

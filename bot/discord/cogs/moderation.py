"""Moderators' commands: /check (and the "Check submission" menu), /audit, /citedby, and the watcher that
checks new posts in the submission forums. Reports go to the moderator channel with review buttons."""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.discord import embeds, render
from bot.discord.checks import UserError, moderator_check
from bot.discord.interactions import NO_MENTIONS, answer, defer
from bot.discord.submissions import (
    ATTACHMENT_MAX_BYTES,
    ATTACHMENT_SUFFIXES,
    ForumPost,
    parse_ref,
    to_submission,
)
from bot.discord.views import ReviewButton, report_link, review_view, send_pages
from bot.moderation.schemas import Submission, guess_format
from bot.moderation.service import ModerationError

if TYPE_CHECKING:
    from bot.discord.app import AlignBot

log = logging.getLogger(__name__)

# A forum post's first message can arrive after the thread (large attachments): wait this long, in steps.
STARTER_RETRIES = (1.0, 2.0, 4.0)


class Moderation(commands.Cog):
    def __init__(self, bot: AlignBot) -> None:
        self.bot = bot
        self.settings = bot.settings
        self.menu = app_commands.ContextMenu(name="Check submission", callback=self.check_menu)
        self.menu.guild_only = True
        self.menu.add_check(moderator_check)

    def cog_load(self) -> None:
        self.bot.tree.add_command(self.menu)

    def cog_unload(self) -> None:
        self.bot.tree.remove_command(self.menu.name, type=self.menu.type)

    async def interaction_check(self, interaction: discord.Interaction, /) -> bool:  # type: ignore[override]
        """Every slash command here is for moderators; NotModerator becomes a polite refusal."""
        return await moderator_check(interaction)

    # --- helpers -------------------------------------------------------------------------------------

    def _private(self, interaction: discord.Interaction) -> bool:
        """Answers are ephemeral except in the moderator channel, where the team should see them."""
        return interaction.channel_id is None or interaction.channel_id != self.settings.moderator_channel

    async def _channel(self, channel_id: int) -> Any:
        channel = self.bot.get_channel(channel_id)
        if channel is None:
            try:
                channel = await self.bot.fetch_channel(channel_id)
            except discord.NotFound as exc:
                raise UserError("I can't find that channel or post.") from exc
            except discord.Forbidden as exc:
                raise UserError("I'm not allowed to read that channel or post.") from exc
        return channel

    async def _resolve(self, reference: str) -> discord.Message:
        """The message a pasted forum-post link, message link or thread id points at (a post's first message)."""
        ref = parse_ref(reference)
        if ref is None:
            raise UserError("Give a link to a forum post or message, or a thread id.")
        channel = await self._channel(ref.channel_id)
        if not hasattr(channel, "fetch_message"):
            raise UserError("That is a channel, not a post: give a forum post (thread) or a message link.")
        message_id = ref.message_id or channel.id  # a forum post's first message has the thread's id
        try:
            return await channel.fetch_message(message_id)
        except discord.NotFound as exc:
            raise UserError("I can't find that post's first message (was it deleted?).") from exc
        except discord.Forbidden as exc:
            raise UserError("I'm not allowed to read that post.") from exc

    async def _attachments(self, message: discord.Message) -> list[tuple[str, str]]:
        texts = []
        for attachment in message.attachments:
            suffix = attachment.filename[attachment.filename.rfind(".") :].lower() if "." in attachment.filename else ""
            if suffix not in ATTACHMENT_SUFFIXES or attachment.size > ATTACHMENT_MAX_BYTES:
                continue
            try:
                data = await attachment.read()
            except discord.HTTPException:
                log.warning("could not read attachment %s of message %s", attachment.filename, message.id)
                continue
            texts.append((attachment.filename, data.decode("utf-8", errors="replace")))
        return texts

    async def submission_for(self, message: discord.Message) -> Submission:
        """A forum post (or any message) as a moderation submission."""
        thread = message.channel if isinstance(message.channel, discord.Thread) else None
        starts_thread = thread is not None and thread.id == message.id
        first_line = (message.content.strip().splitlines() or ["(untitled)"])[0]
        post = ForumPost(
            thread_id=thread.id if thread is not None and starts_thread else message.id,
            title=thread.name if thread is not None and starts_thread else embeds.truncate(first_line, 100),
            author=message.author.name,
            content=message.content,
            attachments=await self._attachments(message),
            mentions={user.id: user.name for user in message.mentions},
            created_at=message.created_at,
        )
        return to_submission(post, forum=self.settings.submission_forum_name, members_forum=self.settings.members_forum)

    async def run_check(self, submission: Submission, guild_id: int | None) -> tuple[discord.Embed, int]:
        moderator = self.bot.require_moderator()
        intake = await self.bot.run_engine(moderator.receive, submission, origin="discord")
        detail = intake.detail
        assert detail is not None  # recorded: not a dry run
        return render.report_embed(detail, link_url=report_link(submission.id, guild_id)), detail.report_id

    async def post_report(
        self, embed: discord.Embed, report_id: int, interaction: discord.Interaction | None = None
    ) -> str | None:
        """Post a report with its review buttons: to the moderator channel, or as the command's answer when
        there is none or the command was used there. Returns a link to the posted report."""
        channel_id = self.settings.moderator_channel
        if channel_id is not None and (interaction is None or interaction.channel_id != channel_id):
            channel = await self._channel(channel_id)
            sent = await channel.send(embed=embed, view=review_view(report_id), allowed_mentions=NO_MENTIONS)
            return sent.jump_url
        if interaction is None:
            log.warning("report %s was recorded but no moderator channel is configured to post it", report_id)
            return None
        sent = await answer(interaction, embed=embed, view=review_view(report_id))
        return sent.jump_url

    async def _check_and_answer(self, interaction: discord.Interaction, message: discord.Message) -> None:
        submission = await self.submission_for(message)
        embed, report_id = await self.run_check(submission, interaction.guild_id)
        where = await self.post_report(embed, report_id, interaction)
        if self.settings.moderator_channel is not None and interaction.channel_id != self.settings.moderator_channel:
            await answer(interaction, content=f"Report {report_id} is in <#{self.settings.moderator_channel}>: {where}")

    # --- /check and "Check submission" -------------------------------------------------------------

    @app_commands.command(name="check", description="Moderators: run the moderation rules on a forum submission.")
    @app_commands.describe(submission="Link to the forum post (or its first message), or the post's thread id")
    @app_commands.guild_only()
    async def check(self, interaction: discord.Interaction, submission: app_commands.Range[str, 1, 300]) -> None:
        if parse_ref(submission) is None:
            raise UserError("Give a link to a forum post or message, or a thread id.")
        await defer(interaction, ephemeral=self._private(interaction))
        message = await self._resolve(submission)
        await self._check_and_answer(interaction, message)

    async def check_menu(self, interaction: discord.Interaction, message: discord.Message) -> None:
        await defer(interaction, ephemeral=self._private(interaction))
        await self._check_and_answer(interaction, message)

    # --- /audit ----------------------------------------------------------------------------------

    @app_commands.command(name="audit", description="Moderators: the related-work audit of a post.")
    @app_commands.describe(
        post="Link to the forum post or message (or a thread id)",
        file="Or the post as a Markdown or HTML file",
        title="The post's title (helps find related work)",
    )
    @app_commands.guild_only()
    async def audit(
        self,
        interaction: discord.Interaction,
        post: str | None = None,
        file: discord.Attachment | None = None,
        title: str | None = None,
    ) -> None:
        if (post is None) == (file is None):
            raise UserError("Give either a post link (or thread id) or a Markdown/HTML file.")
        await defer(interaction, ephemeral=self._private(interaction))
        if file is not None:
            suffix = file.filename[file.filename.rfind(".") :].lower() if "." in file.filename else ""
            body_format = ATTACHMENT_SUFFIXES.get(suffix)
            if body_format is None or file.size > ATTACHMENT_MAX_BYTES:
                raise UserError("The file must be Markdown (.md, .txt) or HTML (.html), at most 1 MB.")
            body = (await file.read()).decode("utf-8", errors="replace")
            heading, source = title or file.filename.rsplit(".", 1)[0], None
        else:
            assert post is not None
            message = await self._resolve(post)
            submission = await self.submission_for(message)
            body, body_format = submission.body, submission.body_format
            heading = title or submission.title
            source = message.jump_url
        if not body.strip():
            raise UserError("That post has no text to audit.")
        moderator = self.bot.require_moderator()
        result = await self.bot.run_engine(moderator.audit, body, body_format or guess_format(body), title=heading)
        await answer(interaction, embed=render.audit_embed(result, source))

    # --- /citedby --------------------------------------------------------------------------------

    @app_commands.command(name="citedby", description="Moderators: posts that cite a paper or page.")
    @app_commands.describe(reference="arXiv id, DOI, or a link in any form")
    @app_commands.guild_only()
    async def citedby(self, interaction: discord.Interaction, reference: app_commands.Range[str, 1, 300]) -> None:
        await defer(interaction, ephemeral=self._private(interaction))
        moderator = self.bot.require_moderator()
        try:
            result = await self.bot.run_engine(moderator.cited_by, reference)
        except ModerationError as exc:
            raise UserError(f"{exc}. Give an arXiv id, a DOI or a link.") from exc
        await send_pages(interaction, render.citedby_pages(result), timeout=self.settings.view_timeout_seconds)

    # --- new posts in the submission forums ------------------------------------------------------

    @commands.Cog.listener()
    async def on_thread_create(self, thread: discord.Thread) -> None:
        if thread.parent_id not in self.settings.submission_forums:
            return
        try:
            await self._check_new_post(thread)
        except Exception:  # nobody to tell but the log
            log.exception("checking new forum post %s failed", thread.id)

    async def _check_new_post(self, thread: discord.Thread) -> None:
        message = await self._first_message(thread)
        if message is None:
            log.warning("forum post %s has no first message to check", thread.id)
            return
        if message.author.bot:
            return
        submission = await self.submission_for(message)
        embed, report_id = await self.run_check(submission, thread.guild.id if thread.guild else None)
        await self.post_report(embed, report_id)

    async def _first_message(self, thread: discord.Thread) -> discord.Message | None:
        if thread.starter_message is not None:
            return thread.starter_message
        for wait in (*STARTER_RETRIES, None):
            try:
                return await thread.fetch_message(thread.id)
            except discord.NotFound:
                if wait is None:
                    return None
                await asyncio.sleep(wait)
        return None


async def setup(bot: AlignBot) -> None:
    """The extension's entry point (`bot.load_extension("bot.discord.cogs.moderation")`)."""
    await bot.add_cog(Moderation(bot))
    bot.add_dynamic_items(ReviewButton)  # review buttons keep working after a restart

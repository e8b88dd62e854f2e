"""Buttons and forms: result pages with BibTeX export, and the review buttons on moderation reports."""

from __future__ import annotations

import io
import logging
import re
from typing import TYPE_CHECKING, Any

import discord

from bot.discord import embeds, render
from bot.discord.checks import UserError, is_moderator
from bot.discord.embeds import Page
from bot.discord.interactions import NO_MENTIONS, answer, describe_error
from bot.discord.submissions import jump_url, thread_id_of
from bot.domain import RankedWork
from bot.exports import FILE_NAMES, ExportFormat, export
from bot.moderation.common import ModerationError

if TYPE_CHECKING:
    from bot.discord.app import AlignBot

log = logging.getLogger(__name__)


EXPORT_LABELS = {ExportFormat.bibtex: "BibTeX", ExportFormat.ris: "RIS", ExportFormat.csl_json: "CSL-JSON"}


class PagesView(discord.ui.View):
    """Previous / Next over result pages, and BibTeX, RIS and CSL-JSON exports of the works shown.

    Only the person who asked turns the shared message's pages; anyone else pressing a page button gets
    that page privately, so nobody can flip a page out from under the asker.
    """

    def __init__(self, pages: list[Page], *, owner_id: int, timeout: float, bibtex_all: bool = False) -> None:
        super().__init__(timeout=timeout)
        self.pages = pages
        self.owner_id = owner_id
        self.index = 0
        self.bibtex_all = bibtex_all  # a bibliography exports every work; related work, the page shown
        self.message: discord.Message | discord.WebhookMessage | None = None
        if len(pages) <= 1:
            self.remove_item(self.previous)
            self.remove_item(self.next)
        if not any(page.works for page in pages):
            for button in (self.bibtex, self.ris, self.csl_json):
                self.remove_item(button)
        self._sync_buttons()

    @property
    def useful(self) -> bool:
        return bool(self.children)

    def _sync_buttons(self) -> None:
        self.previous.disabled = self.index == 0
        self.next.disabled = self.index >= len(self.pages) - 1

    async def _turn(self, interaction: discord.Interaction, step: int) -> None:
        target = max(0, min(len(self.pages) - 1, self.index + step))
        if interaction.user.id != self.owner_id:
            await interaction.response.send_message(
                embed=self.pages[target].embed, ephemeral=True, allowed_mentions=NO_MENTIONS
            )
            return
        self.index = target
        self._sync_buttons()
        await interaction.response.edit_message(embed=self.pages[self.index].embed, view=self)

    @discord.ui.button(label="Previous", emoji="◀️", style=discord.ButtonStyle.secondary)
    async def previous(self, interaction: discord.Interaction, _button: discord.ui.Button[Any]) -> None:
        await self._turn(interaction, -1)

    @discord.ui.button(label="Next", emoji="▶️", style=discord.ButtonStyle.secondary)
    async def next(self, interaction: discord.Interaction, _button: discord.ui.Button[Any]) -> None:
        await self._turn(interaction, +1)

    @discord.ui.button(label="BibTeX", emoji="📋", style=discord.ButtonStyle.primary)
    async def bibtex(self, interaction: discord.Interaction, _button: discord.ui.Button[Any]) -> None:
        await self._export(interaction, ExportFormat.bibtex)

    @discord.ui.button(label=EXPORT_LABELS[ExportFormat.ris], style=discord.ButtonStyle.secondary)
    async def ris(self, interaction: discord.Interaction, _button: discord.ui.Button[Any]) -> None:
        await self._export(interaction, ExportFormat.ris)

    @discord.ui.button(label=EXPORT_LABELS[ExportFormat.csl_json], style=discord.ButtonStyle.secondary)
    async def csl_json(self, interaction: discord.Interaction, _button: discord.ui.Button[Any]) -> None:
        await self._export(interaction, ExportFormat.csl_json)

    async def _export(self, interaction: discord.Interaction, export_format: ExportFormat) -> None:
        works = self.works_to_export()
        messages = render.export_messages(works, export_format)
        if len(messages) <= 1:
            await interaction.response.send_message(
                messages[0] if messages else "No works to export.", ephemeral=True, allowed_mentions=NO_MENTIONS
            )
            return
        # Too long for one message: a file is easier to import than several code blocks.
        data = io.BytesIO(export(works, export_format).encode("utf-8"))
        await interaction.response.send_message(
            f"{EXPORT_LABELS[export_format]} for {len(works)} works:",
            file=discord.File(data, filename=FILE_NAMES[export_format]),
            ephemeral=True,
            allowed_mentions=NO_MENTIONS,
        )

    def works_to_export(self) -> list[RankedWork]:
        if self.bibtex_all:
            return [w for page in self.pages for w in page.works]
        return list(self.pages[self.index].works)

    async def on_timeout(self) -> None:
        for item in self.children:
            if isinstance(item, discord.ui.Button):
                item.disabled = True
        if self.message is not None:
            try:
                await self.message.edit(view=self)
            except discord.HTTPException:  # deleted, or the interaction token expired
                log.debug("could not disable buttons on an expired result message", exc_info=True)

    async def on_error(self, interaction: discord.Interaction, error: Exception, item: discord.ui.Item[Any]) -> None:
        await _report_component_error(interaction, error, "page button")


async def _report_component_error(interaction: discord.Interaction, error: BaseException, what: str) -> None:
    message, ours = describe_error(error)
    if ours:
        exc_info = (type(error), error, error.__traceback__)
        log.error("%s failed for user %s", what, interaction.user.id, exc_info=exc_info)
    try:
        if interaction.response.is_done():
            await interaction.followup.send(message, ephemeral=True, allowed_mentions=NO_MENTIONS)
        else:
            await interaction.response.send_message(message, ephemeral=True, allowed_mentions=NO_MENTIONS)
    except discord.HTTPException:
        log.warning("could not report a %s error to user %s", what, interaction.user.id)


async def send_pages(
    interaction: discord.Interaction, pages: list[Page], *, timeout: float, bibtex_all: bool = False
) -> discord.WebhookMessage:
    """The first page as the follow-up of a deferred interaction, with buttons when they are useful."""
    view = PagesView(pages, owner_id=interaction.user.id, timeout=timeout, bibtex_all=bibtex_all)
    if view.useful:
        message = await answer(interaction, embed=pages[0].embed, view=view)
        view.message = message
    else:
        view.stop()
        message = await answer(interaction, embed=pages[0].embed)
    return message


# --- moderation reviews ------------------------------------------------------------------------------

REVIEW_ACTIONS: dict[str, tuple[str, str, discord.ButtonStyle]] = {
    # custom-id action: (report status, label, style)
    "approve": ("approved", "Approve", discord.ButtonStyle.success),
    "changes": ("needs-changes", "Needs changes", discord.ButtonStyle.primary),
    "reject": ("rejected", "Reject", discord.ButtonStyle.danger),
}
REVIEW_TEMPLATE = r"alignbot:review:(?P<report>\d+):(?P<action>approve|changes|reject)"


def moderator_name(user: discord.abc.User) -> str:
    """Who decided, as the audit log keeps it: readable and unambiguous (names change, ids do not)."""
    return f"@{user.name} ({user.id})"


def report_link(submission_id: str, guild_id: int | None) -> str | None:
    thread_id = thread_id_of(submission_id)
    return jump_url(guild_id, thread_id) if thread_id else None


async def record_decision(interaction: discord.Interaction, report_id: int, status: str, reason: str) -> None:
    """Record a decision (who, when, why) and show it on the report message. The interaction is deferred."""
    bot: AlignBot = interaction.client  # type: ignore[assignment]
    moderator = bot.require_moderator()
    who = moderator_name(interaction.user)
    try:
        decision = await bot.run_engine(moderator.decide, report_id, status, who, reason)
    except ModerationError as exc:  # a report a later check superseded: say which one to decide on
        raise UserError(f"{exc}.") from exc
    detail = await bot.run_engine(moderator.review, report_id)
    log.info("report %s: %s -> %s by %s", report_id, decision.previous_status, decision.status, who)
    embed = render.report_embed(detail, link_url=report_link(detail.submission_id, interaction.guild_id))
    await interaction.edit_original_response(embed=embed, view=review_view(report_id))
    label = render.STATUS_LABEL.get(status, status)
    await interaction.followup.send(
        f"Recorded **{label}** on report {report_id}.", ephemeral=True, allowed_mentions=NO_MENTIONS
    )


class ReasonModal(discord.ui.Modal):
    """Asks why, for the decisions that need explaining to the author (needs changes, reject)."""

    def __init__(self, report_id: int, status: str) -> None:
        label = render.STATUS_LABEL.get(status, status)
        super().__init__(title=embeds.truncate(f"{label}: report {report_id}", 45))
        self.report_id = report_id
        self.status = status
        self.reason: discord.ui.TextInput[ReasonModal] = discord.ui.TextInput(
            label="Reason (kept in the audit log)",
            style=discord.TextStyle.paragraph,
            max_length=1000,
            required=True,
        )
        self.add_item(self.reason)

    async def on_submit(self, interaction: discord.Interaction) -> None:  # type: ignore[override]
        await interaction.response.defer()  # from a button: a deferred update of the report message
        await record_decision(interaction, self.report_id, self.status, self.reason.value)

    async def on_error(self, interaction: discord.Interaction, error: Exception) -> None:  # type: ignore[override]
        await _report_component_error(interaction, error, "review form")


class ReviewButton(discord.ui.DynamicItem[discord.ui.Button[Any]], template=REVIEW_TEMPLATE):
    """Approve / Needs changes / Reject on a report. The report id lives in the custom id, so the buttons
    work on reports posted before a restart."""

    def __init__(self, report_id: int, action: str) -> None:
        status, label, style = REVIEW_ACTIONS[action]
        super().__init__(discord.ui.Button(label=label, style=style, custom_id=f"alignbot:review:{report_id}:{action}"))
        self.report_id = report_id
        self.action = action
        self.status = status

    @classmethod
    async def from_custom_id(  # type: ignore[override]
        cls, interaction: discord.Interaction, item: discord.ui.Button[Any], match: re.Match[str], /
    ) -> ReviewButton:
        return cls(int(match["report"]), match["action"])

    async def interaction_check(self, interaction: discord.Interaction, /) -> bool:  # type: ignore[override]
        settings = interaction.client.settings  # type: ignore[attr-defined]
        if interaction.guild_id is not None and is_moderator(interaction.user, interaction.permissions, settings):
            return True
        await interaction.response.send_message(
            "Sorry, only moderators can decide on reports.", ephemeral=True, allowed_mentions=NO_MENTIONS
        )
        return False

    async def callback(self, interaction: discord.Interaction) -> None:  # type: ignore[override]
        try:
            if self.status == "approved":
                await interaction.response.defer()
                await record_decision(interaction, self.report_id, self.status, "Approved in Discord.")
            else:
                await interaction.response.send_modal(ReasonModal(self.report_id, self.status))
        except Exception as error:  # a dynamic item's view is generic: report here, not in a view handler
            await _report_component_error(interaction, error, "review button")


def review_view(report_id: int) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    for action in REVIEW_ACTIONS:
        view.add_item(ReviewButton(report_id, action))
    return view

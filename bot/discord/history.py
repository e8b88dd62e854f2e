"""The latest messages of recently used channels, kept from gateway events after one read of each channel.

/cite, /related and answers in threads read a channel's latest messages as context. Reading them from Discord's
API every time costs a request from the channel's rate-limit budget and a round trip before the answer; after
the first read a channel's messages are kept up to date from message, edit and delete events instead. What
the bot cannot have seen (a gap while it was disconnected) makes it read the channel again.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict, deque
from dataclasses import dataclass
from typing import Any

import discord
from discord.ext import commands

from bot.domain import Message

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SeenMessage:
    id: int  # Discord's snowflake: ordered by time
    author: str
    text: str
    bot: bool  # bots' messages (the bot's own answers too) are kept, so `limit` counts as Discord's does

    def context(self) -> Message | None:
        """The message as context: members' messages with text only."""
        return None if self.bot or not self.text.strip() else Message(author=self.author, text=self.text)


def seen_message(message: discord.Message) -> SeenMessage:
    return SeenMessage(message.id, message.author.display_name, message.content, message.author.bot)


def members_text(seen: list[SeenMessage]) -> list[Message]:
    """The messages that are context, in the order given."""
    return [m for m in (s.context() for s in seen) if m is not None]


async def read_history(
    channel: Any, *, limit: int, before: discord.abc.Snowflake | None = None, oldest_first: bool = False
) -> list[SeenMessage] | None:
    """A channel's messages from Discord's API, in the order asked for (newest first by default); None without
    permission to read it."""
    try:
        return [seen_message(m) async for m in channel.history(limit=limit, before=before, oldest_first=oldest_first)]
    except discord.Forbidden:
        log.info("no permission to read history in channel %s", getattr(channel, "id", "?"))
        return None


class RecentMessages(commands.Cog):
    """Per channel (or thread), its latest `per_channel` messages; at most `channels` channels, least recently
    used dropped first. A cog: the gateway's events keep it up to date."""

    def __init__(self, per_channel: int, channels: int = 256) -> None:
        self.per_channel = per_channel
        self.channels = channels
        self._kept: OrderedDict[int, deque[SeenMessage]] = OrderedDict()
        # Channels being read: the events that came meanwhile (the read may have missed them), or None when a
        # message was deleted meanwhile (the read may hold it).
        self._arrived: dict[int, list[SeenMessage] | None] = {}
        self._reads: dict[int, asyncio.Future[bool]] = {}  # the read under way per channel, shared (`_read`)

    async def context(self, channel: Any, limit: int, before: discord.Message | None = None) -> list[Message]:
        """Members' messages among the channel's latest `limit` (before `before`), oldest first: from what is
        kept, else read from Discord (its latest `per_channel` messages) and kept."""
        if limit <= 0:
            return []
        before_id = before.id if before is not None else None
        found = self.latest(channel.id, limit, before_id)
        if found is None:
            if not await self._read(channel):
                return []
            found = self.latest(channel.id, limit, before_id)
        if found is None:  # `before` is older than what was read (messages came after it meanwhile)
            found = members_text((await read_history(channel, limit=limit, before=before) or [])[::-1])
        return found

    async def _read(self, channel: Any) -> bool:
        """Read the channel's latest `per_channel` messages and keep them; False without permission. Callers
        asking at once share one read: a second read would cost another request, and its `reading` would drop
        the events the first one had buffered."""
        read = self._reads.get(channel.id)
        if read is None:
            read = self._reads[channel.id] = asyncio.ensure_future(self._read_now(channel))
            read.add_done_callback(lambda _: self._reads.pop(channel.id, None))
        return await asyncio.shield(read)  # a caller that gives up does not cancel the others' read

    async def _read_now(self, channel: Any) -> bool:
        self.reading(channel.id)
        seen = await read_history(channel, limit=self.per_channel)
        if seen is None:
            self.forget(channel.id)
            return False
        self.seed(channel.id, seen)
        return True

    def latest(self, channel_id: int, limit: int, before: int | None = None) -> list[Message] | None:
        """Members' messages among the channel's latest `limit` (older than message `before` if given), oldest
        first, as `channel.history(limit=limit, before=before)` would find them; None when that is not known
        here (the channel is not kept, or older messages than those kept would be needed)."""
        kept = self._kept.get(channel_id)
        if kept is None:
            return None
        older = [m for m in kept if before is None or m.id < before]
        if len(older) < limit and len(kept) == kept.maxlen:  # the channel may hold older ones than those kept
            return None
        self._kept.move_to_end(channel_id)
        return members_text(older[-limit:] if limit > 0 else [])

    def reading(self, channel_id: int) -> None:
        """The channel's history is about to be read: events from now on are kept for `seed`."""
        self._arrived[channel_id] = []

    def seed(self, channel_id: int, messages: list[SeenMessage]) -> None:
        """The channel's latest messages as read from its history (any order), with the events that came while
        it was read; nothing is kept when a message was deleted meanwhile."""
        arrived = self._arrived.pop(channel_id, [])
        if arrived is None:
            return
        latest = {m.id: m for m in [*messages, *arrived]}  # an event's version is the newer one
        self._kept[channel_id] = deque(
            sorted(latest.values(), key=lambda m: m.id)[-self.per_channel :], self.per_channel
        )
        self._kept.move_to_end(channel_id)
        while len(self._kept) > self.channels:
            self._kept.popitem(last=False)

    def add(self, channel_id: int, message: SeenMessage) -> None:
        kept = self._kept.get(channel_id)
        if kept is None:
            arrived = self._arrived.get(channel_id)
            if arrived is not None:
                arrived.append(message)
            return  # else not read yet: its first read fetches it
        if kept and message.id < kept[-1].id:  # arrived out of order: keep the deque sorted
            self.seed(channel_id, [*kept, message])
        elif not any(m.id == message.id for m in kept):
            kept.append(message)

    def edit(self, channel_id: int, message: SeenMessage) -> None:
        kept = self._kept.get(channel_id)
        if kept is None:
            self.add(channel_id, message)  # while the channel is read, the newer text wins in `seed`
        else:
            self._kept[channel_id] = deque((message if m.id == message.id else m for m in kept), self.per_channel)

    def delete(self, channel_id: int, message_ids: set[int]) -> None:
        """Deleted messages leave the channel's list; as fewer than `per_channel` are then kept, the channel is
        read again on next use (the older message that moves up was never kept)."""
        if channel_id in self._arrived:
            self._arrived[channel_id] = None
        kept = self._kept.get(channel_id)
        if kept is not None and any(m.id in message_ids for m in kept):
            del self._kept[channel_id]

    def forget(self, channel_id: int | None = None) -> None:
        """One channel (its read failed), or every channel: events were missed (a disconnect), so no kept list
        can be trusted, nor a read under way."""
        if channel_id is not None:
            self._kept.pop(channel_id, None)
            self._arrived.pop(channel_id, None)
            return
        self._kept.clear()
        self._arrived = dict.fromkeys(self._arrived)

    # --- the gateway's events ---------------------------------------------------------------------------

    @commands.Cog.listener()
    async def on_message(self, message: discord.Message) -> None:
        self.add(message.channel.id, seen_message(message))

    @commands.Cog.listener()
    async def on_raw_message_edit(self, payload: discord.RawMessageUpdateEvent) -> None:
        self.edit(payload.channel_id, seen_message(payload.message))

    @commands.Cog.listener()
    async def on_raw_message_delete(self, payload: discord.RawMessageDeleteEvent) -> None:
        self.delete(payload.channel_id, {payload.message_id})

    @commands.Cog.listener()
    async def on_raw_bulk_message_delete(self, payload: discord.RawBulkMessageDeleteEvent) -> None:
        self.delete(payload.channel_id, payload.message_ids)

    @commands.Cog.listener()
    async def on_disconnect(self) -> None:
        self.forget()  # events may be missed until the session is resumed or a new one starts

"""The latest messages of recently used channels, kept from gateway events after one read of each channel.

/cite, /related and answers in threads read a channel's latest messages as context. Reading them from Discord's
API every time costs a request from the channel's rate-limit budget and a round trip before the answer; after
the first read a channel's messages are kept up to date from message, edit and delete events instead. What
the bot cannot have seen (a gap while it was disconnected) makes it read the channel again.
"""

from __future__ import annotations

from collections import OrderedDict, deque
from dataclasses import dataclass

import discord

from bot.domain import Message


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


class RecentMessages:
    """Per channel (or thread), its latest `per_channel` messages; at most `channels` channels, least recently
    used dropped first."""

    def __init__(self, per_channel: int, channels: int = 256) -> None:
        self.per_channel = per_channel
        self.channels = channels
        self._kept: OrderedDict[int, deque[SeenMessage]] = OrderedDict()
        # Channels being read: the events that came meanwhile (the read may have missed them), or None when a
        # message was deleted meanwhile (the read may hold it).
        self._arrived: dict[int, list[SeenMessage] | None] = {}

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
        found = (m.context() for m in (older[-limit:] if limit > 0 else []))
        return [m for m in found if m is not None]

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

"""RecentMessages: what a channel's kept messages can answer, and when the channel must be read again."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from types import SimpleNamespace

from bot.discord.history import RecentMessages, SeenMessage
from bot.domain import Message


def seen(n: int, *, bot: bool = False, text: str | None = None) -> SeenMessage:
    return SeenMessage(n, f"user{n}", f"message {n}" if text is None else text, bot)


def texts(found: list[Message] | None) -> list[str] | None:
    return None if found is None else [m.text for m in found]


def test_an_unread_channel_is_unknown_and_events_do_not_make_it_known() -> None:
    recent = RecentMessages(per_channel=3)
    recent.add(1, seen(5))
    assert recent.latest(1, 2) is None


def test_latest_counts_every_message_as_history_does_but_returns_members_text_only() -> None:
    recent = RecentMessages(per_channel=4)
    recent.seed(1, [seen(4), seen(2), seen(3, bot=True), seen(1, text="  ")])
    assert texts(recent.latest(1, 3)) == ["message 2", "message 4"]  # 2, the bot's 3 and 4; the blank 1 is past
    assert texts(recent.latest(1, 0)) == []


def test_messages_before_a_new_one_need_one_more_kept_than_asked() -> None:
    recent = RecentMessages(per_channel=3)
    recent.seed(1, [seen(1), seen(2), seen(3)])
    assert texts(recent.latest(1, 2, before=3)) == ["message 1", "message 2"]
    # Three kept and all three asked for before message 3: message 0 may exist, so the channel must be read.
    assert recent.latest(1, 3, before=3) is None
    assert recent.latest(1, 4) is None


def test_a_short_channel_is_complete() -> None:
    recent = RecentMessages(per_channel=5)
    recent.seed(1, [seen(1), seen(2)])
    assert texts(recent.latest(1, 4, before=2)) == ["message 1"]


def test_events_keep_the_list_in_order_without_duplicates() -> None:
    recent = RecentMessages(per_channel=3)
    recent.seed(1, [seen(1), seen(3)])
    recent.add(1, seen(2))  # an event that arrived late
    recent.add(1, seen(3))  # and one seen twice
    recent.add(1, seen(4))
    assert texts(recent.latest(1, 3)) == ["message 2", "message 3", "message 4"]


def test_an_edit_changes_the_text_and_a_delete_forgets_the_channel() -> None:
    recent = RecentMessages(per_channel=3)
    recent.seed(1, [seen(1), seen(2)])
    recent.edit(1, seen(2, text="edited"))
    assert texts(recent.latest(1, 2)) == ["message 1", "edited"]
    recent.delete(1, {7})  # not kept: nothing changes
    assert texts(recent.latest(1, 2)) == ["message 1", "edited"]
    recent.delete(1, {1})
    assert recent.latest(1, 2) is None


def test_the_least_recently_used_channel_goes_first() -> None:
    recent = RecentMessages(per_channel=2, channels=2)
    recent.seed(1, [seen(1)])
    recent.seed(2, [seen(2)])
    assert recent.latest(1, 1) is not None  # channel 1 used: channel 2 is now the oldest
    recent.seed(3, [seen(3)])
    assert recent.latest(2, 1) is None
    assert recent.latest(1, 1) is not None and recent.latest(3, 1) is not None
    recent.forget()
    assert recent.latest(1, 1) is None and recent.latest(3, 1) is None


def test_events_during_a_read_are_merged_and_a_delete_during_it_keeps_nothing() -> None:
    recent = RecentMessages(per_channel=3)
    recent.reading(1)
    recent.add(1, seen(3))  # came after the read was sent: the read has 1 and 2 only
    recent.edit(1, seen(2, text="edited"))  # newer than what the read returns for 2
    recent.seed(1, [seen(1), seen(2)])
    assert texts(recent.latest(1, 3)) == ["message 1", "edited", "message 3"]

    recent.reading(2)
    recent.delete(2, {5})  # the read may still hold message 5
    recent.seed(2, [seen(5)])
    assert recent.latest(2, 1) is None

    recent.reading(3)
    recent.forget()  # a disconnect during the read
    recent.seed(3, [seen(6)])
    assert recent.latest(3, 1) is None

    recent.reading(4)
    recent.forget(4)  # the read failed: nothing is kept, later events are not buffered
    recent.add(4, seen(7))
    recent.seed(4, [seen(8)])
    assert texts(recent.latest(4, 1)) == ["message 8"]


class SlowChannel:
    """A channel whose history answers only when `release` is set, counting the reads."""

    def __init__(self) -> None:
        self.id = 9
        self.reads = 0
        self.asked = asyncio.Event()
        self.release = asyncio.Event()

    async def history(self, *, limit: int, before: object = None, oldest_first: bool = False) -> AsyncIterator:
        self.reads += 1
        self.asked.set()
        await self.release.wait()
        for n in (2, 1):  # newest first, as Discord answers
            author = SimpleNamespace(display_name=f"user{n}", bot=False)
            yield SimpleNamespace(id=n, content=f"message {n}", author=author)


def test_callers_asking_at_once_share_one_read_and_keep_what_arrived_meanwhile() -> None:
    async def scenario() -> tuple[list[Message], list[Message], int]:
        recent = RecentMessages(per_channel=3)
        channel = SlowChannel()
        first = asyncio.ensure_future(recent.context(channel, 3))
        await channel.asked.wait()
        recent.add(channel.id, seen(3))  # came after the read was sent
        second = asyncio.ensure_future(recent.context(channel, 3))
        await asyncio.sleep(0)
        channel.release.set()
        return await first, await second, channel.reads

    first, second, reads = asyncio.run(scenario())
    assert reads == 1
    assert [m.text for m in first] == [m.text for m in second] == ["message 1", "message 2", "message 3"]

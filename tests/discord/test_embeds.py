"""Discord's limits and the text helpers: an oversized embed is trimmed until it fits, long text is cut into
messages and entries into pages without losing anything."""

from __future__ import annotations

import discord
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.discord import embeds


def test_fit_trims_an_oversized_embed() -> None:
    embed = discord.Embed(title="t" * 300, description="d" * 5000)
    for _ in range(30):
        embed.add_field(name="n" * 300, value="v" * 2000)
    assert embeds.problems(embed)
    embeds.fit(embed)
    assert embeds.problems(embed) == []
    assert embed.description is not None and embed.description.endswith("…")


@settings(max_examples=60, deadline=None)
@given(st.text(min_size=0, max_size=6000), st.integers(min_value=20, max_value=2000))
def test_split_text_keeps_everything_within_the_limit(text: str, limit: int) -> None:
    pieces = embeds.split_text(text, limit)
    assert all(len(p) <= limit for p in pieces)
    assert "".join("".join(pieces).split()) == "".join(text.split())  # nothing lost but whitespace


@settings(max_examples=40, deadline=None)
@given(st.lists(st.text(min_size=1, max_size=1500), max_size=40), st.integers(min_value=1, max_value=10))
def test_pack_respects_count_and_budget(entries: list[str], most: int) -> None:
    groups = embeds.pack(entries, budget=3000, most=most)
    assert sum(len(g) for g in groups) == len(entries)
    for group in groups:
        assert 1 <= len(group) <= most
        assert len("\n\n".join(group)) <= 3000

"""Properties of reading list settings from the environment (`ALIGNBOT_DISCORD_REPLY_CHANNELS=1, 2`, a JSON
list, or one id): any text gives a list or a ValueError, which pydantic-settings reports as a settings error."""

from __future__ import annotations

import json

from hypothesis import example, given
from hypothesis import strategies as st

from bot.chat import split_list
from tests.properties import PURE

items = st.text(st.characters(exclude_characters=","), min_size=1, max_size=12).filter(lambda t: t.strip() == t and t)


@given(st.lists(items, max_size=6), st.sampled_from([",", ", ", " ,", " , "]))
@PURE
def test_comma_separated_items_read_back(values: list[str], separator: str) -> None:
    if values and values[0].startswith("["):
        values[0] = f"x{values[0]}"  # text opening with "[" is read as JSON
    assert split_list(separator.join(values)) == values


@given(st.lists(st.integers() | st.text(max_size=8), max_size=6))
@PURE
def test_json_lists_read_back(values: list[int | str]) -> None:
    assert split_list(f"  {json.dumps(values)} ") == values


@given(st.text(max_size=100) | st.integers(0, 10**20).map(lambda n: "[" * (n % 5000)))
@example("[" * 100_000)  # RecursionError escaped from json.loads
@PURE
def test_any_text_gives_a_list_or_a_value_error(text: str) -> None:
    try:
        value = split_list(text)
    except ValueError:
        return
    assert isinstance(value, list)

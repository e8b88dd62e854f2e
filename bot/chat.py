"""Small pieces every chat front end (Discord, Reddit) shares: list settings and social small talk."""

from __future__ import annotations

import json
from typing import Any

# What a mention with nothing to search for usually says ("thanks @bot", "lol"): not worth a reading list.
SOCIAL_WORDS = frozenset(
    "thanks thank thx ty tysm cheers hi hello hey lol ok okay nice cool great good bot bad wow yes no yep nope "
    "sorry".split()
)


def split_list(value: Any) -> Any:
    """A settings list from the environment: comma-separated ("a, b"), a JSON list, or one integer id."""
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("["):
            try:
                return json.loads(text)
            except RecursionError as exc:  # a ValueError, like json's own errors, becomes a settings error
                raise ValueError("the JSON list is nested too deeply") from exc
        return [part.strip() for part in text.split(",") if part.strip()]
    if isinstance(value, int):
        return [value]
    return value

"""Properties of reading Discord message text: when a message asks the bot for sources.

For any message: no exception, and the verdict depends only on the message as a request reads (no code,
quoted lines, links or mentions), so quoting someone, pinging people or pasting a link never changes it.
A request in the shapes members use ("Source?", "citation needed", "any papers on X?") triggers after
any neutral statement.
"""

from __future__ import annotations

import re

from hypothesis import example, given
from hypothesis import strategies as st

from bot.discord.triggers import Trigger, clean, detect, is_request, mentions_user
from tests.properties import PURE, elapsed

_PIECES = [
    "source?",
    "Source",
    "citation needed",
    "paper",
    "papers on",
    "related work",
    "any",
    "is there",
    "what",
    "?",
    ".",
    "!",
    "\n",
    "> ",
    "`",
    "```",
    "<@123>",
    "<@!42>",
    "<@&7>",
    "https://arxiv.org/abs/2401.05566",
    "open source",
    "did you read",
    "thanks",
    "’",
    " ",
]
messages = st.text(max_size=200) | st.lists(st.sampled_from(_PIECES) | st.text(max_size=6), max_size=30).map("".join)


@given(messages, st.booleans())
@PURE
def test_any_message_gives_a_verdict_on_its_cleaned_text(text: str, addressed: bool) -> None:
    cleaned = clean(text)
    assert cleaned == " ".join(cleaned.split())
    assert not re.search(r"<@[!&]?\d+>", cleaned)
    assert not re.search(r"https?://\S", cleaned)
    trigger = detect(text, addressed=addressed)
    assert trigger is None or trigger == Trigger("mention" if addressed else "request", cleaned)
    if not addressed:
        assert (trigger is not None) == is_request(text)


@given(messages, st.integers(0, 10**19), st.data())
@PURE
def test_pings_and_quoted_lines_do_not_change_the_verdict(text: str, user: int, data: st.DataObject) -> None:
    lines = text.split("\n")
    at = data.draw(st.integers(0, len(lines)))
    quote = data.draw(
        st.text(st.characters(exclude_characters="`\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"), max_size=20)
    )
    quoted = "\n".join([*lines[:at], f"> {quote}", *lines[at:]])
    # A ping at the end of a line (at its start it would stop a "> " line from being a quotation).
    at = data.draw(st.integers(0, len(lines) - 1))
    ping = data.draw(st.sampled_from(["<@{}>", "<@!{}>", "<@&{}>"])).format(user)
    pinged = "\n".join([*lines[:at], f"{lines[at]} {ping}", *lines[at + 1 :]])
    for changed in (quoted, pinged):
        assert clean(changed) == clean(text)
        assert is_request(changed) == is_request(text)
        assert detect(changed, addressed=True) == detect(text, addressed=True)


_NEUTRAL = ["the", "model", "reward", "agents", "learned", "to", "hide", "its", "reasoning", "in", "training", "we"]
statements = st.lists(st.lists(st.sampled_from(_NEUTRAL), min_size=1, max_size=8).map(" ".join), max_size=3).map(
    lambda sentences: " ".join(f"{s.capitalize()}." for s in sentences)
)
# Requests that stand as their own sentence. ("refs pls" without "?" counts only as a whole message: by
# design, a statement followed by words without a question mark is not taken for a request.)
REQUESTS = [
    "Source?",
    "source?",
    "citation needed",
    "[citation needed]",
    "Any sources?",
    "Is there a paper on reward hacking?",
    "What's the related work on this?",
    "what paper is this from?",
    "Where is this from?",
]


@given(statements, st.sampled_from(REQUESTS), st.sampled_from(["", " ", "\n", "\n\n"]))
@example("That seems wrong to me.", "Source?", " ")
@PURE
def test_a_request_after_any_statement_triggers(statement: str, request: str, gap: str) -> None:
    text = f"{statement}{gap}{request}".strip()
    assert is_request(text)
    assert detect(text) == Trigger("request", clean(text))


@given(statements)
@PURE
def test_statements_alone_do_not_trigger(statement: str) -> None:
    assert not is_request(statement)
    assert detect(statement) is None


@given(st.integers(0, 10**19), st.integers(0, 10**19), messages)
@PURE
def test_mentions_user_is_exact(user: int, other: int, text: str) -> None:
    assert mentions_user(f"{text} <@{user}>", user) and mentions_user(f"<@!{user}>{text}", user)
    if other != user and str(user) not in text:
        assert not mentions_user(f"{text} <@{other}>", user)


def test_long_adversarial_messages_are_judged_quickly() -> None:
    for text in ["\n" * 4_000, "`" * 4_000, "> " * 2_000, "any papers on " * 300, "source? " * 500, "<@" * 2_000]:
        _verdict, seconds = elapsed(lambda text=text: detect(text, addressed=True))
        assert seconds < 0.5, (text[:20], seconds)

"""What makes the bot answer in a thread, and what must not."""

from __future__ import annotations

import pytest

from bot.discord.triggers import clean, detect, is_request, mentions_user

REQUESTS = [
    "source?",
    "Source?",
    "citation?",
    "citation needed",
    "[citation needed]",
    "sources pls",
    "refs?",
    "sauce?",
    "got a source for that?",
    "What's the related work on this?",
    "whats the related work here?",
    "what’s the related work on this?",
    "Is there a paper on reward hacking?",
    "any papers about sycophancy in RLHF?",
    "Do you have a source for that?",
    "what paper is this from?",
    "Any sources?",
    "Are there any related papers?",
    "What should I read on mechanistic interpretability?",
    "Interesting claim. Source?",
    "That seems wrong to me. Source for that?",
    "is there any prior work on this?",
    "Any literature on deceptive alignment?",
    "Anyone know of research on goal misgeneralization?",
    "where is this from?",
    "Is there a citation for the 30% figure?",
    "Can someone recommend a paper on CoT faithfulness?",
    "Prior work?",
    "related work?",
]

NOT_REQUESTS = [
    "",
    "lol",
    "I added a citation to my post.",
    "The source code is on GitHub",
    "Is this open source?",
    "What's the source code for this?",
    "Did you read the paper?",
    "Do you think the paper on sleeper agents is right?",
    "Have you read the papers on this?",
    "what do you think about the paper?",
    "thanks for the sources!",
    "The related work section is long.",
    "How's the work on the project going?",
    "I cited Turpin et al. 2023 above",
    "This paper is great",
    "What's the paper's main claim?",
    "I'm writing a paper on this.",
    "Where is the meeting?",
    "any updates on this?",
    "Who wrote that?",
    "can we work on this together?",
    "The source.",
    "Is the link broken?",
    "Any workarounds for this?",
    "> source?\nI agree with this",  # quoting someone else's request
    "`source?`",
    "```\nsource?\n```",
    "see https://example.com/source?id=3",
]


@pytest.mark.parametrize("text", REQUESTS)
def test_requests_for_sources_trigger(text: str) -> None:
    assert is_request(text)
    trigger = detect(text)
    assert trigger is not None and trigger.kind == "request"


@pytest.mark.parametrize("text", NOT_REQUESTS)
def test_ordinary_messages_do_not_trigger(text: str) -> None:
    assert not is_request(text)
    assert detect(text) is None


def test_a_mention_with_a_topic_or_nothing_triggers() -> None:
    assert detect("<@123> deceptive alignment", addressed=True).question == "deceptive alignment"  # type: ignore[union-attr]
    bare = detect("<@123>", addressed=True)
    assert bare is not None and bare.kind == "mention" and bare.question == ""  # the thread is the topic
    assert detect("<@!123> source?", addressed=True).kind == "mention"  # type: ignore[union-attr]
    assert detect("hey <@123> is chain of thought faithful?", addressed=True) is not None


@pytest.mark.parametrize(
    "text", ["<@123> thanks", "thanks <@123>!", "<@123> lol", "ok <@123>", "<@123> nice, thank you"]
)
def test_a_mention_that_only_chats_does_not_trigger(text: str) -> None:
    assert detect(text, addressed=True) is None


def test_clean_removes_what_is_not_the_question() -> None:
    text = "<@123> see `code` and https://x.org/a?b\n> quoted line\nwhat about   reward hacking?"
    assert clean(text) == "see and what about reward hacking?"


def test_mentions_user() -> None:
    assert mentions_user("hi <@!123>", 123)
    assert mentions_user("<@123>", 123)
    assert not mentions_user("<@1234>", 123)
    assert not mentions_user("<@&123>", 1)

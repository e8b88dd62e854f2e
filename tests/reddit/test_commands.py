"""What does and does not ask the bot for something."""

from __future__ import annotations

import pytest

from bot.reddit.commands import Request, parse_request

COMMANDS = {"!related": "related", "!cite": "cite", "!bibliography": "bibliography"}


def parse(body: str) -> Request | None:
    return parse_request(body, "alignbot", COMMANDS)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (
            "u/alignbot what's the related work on debate?",
            Request("related", "what's the related work on debate?", "mention"),
        ),
        ("/u/AlignBot source?", Request("related", "source?", "mention")),
        ("Interesting claim. u/alignbot", Request("related", "Interesting claim.", "mention")),
        ("u/alignbot", Request("related", "", "mention")),
        ("!cite Jacovi & Goldberg", Request("cite", "Jacovi & Goldberg", "command")),
        ("  !CITE: Turpin et al. 2023", Request("cite", "Turpin et al. 2023", "command")),
        ("!related reward hacking\nin RL agents", Request("related", "reward hacking in RL agents", "command")),
        ("!bibliography", Request("bibliography", "", "command")),
        ("u/alignbot !cite the sleeper agents paper", Request("cite", "the sleeper agents paper", "mention")),
        ("> earlier point\n\n!cite Jacovi & Goldberg", Request("cite", "Jacovi & Goldberg", "command")),
    ],
)
def test_requests(body: str, expected: Request) -> None:
    assert parse(body) == expected


@pytest.mark.parametrize(
    "body",
    [
        "Great post, thanks for writing it up.",
        "Does anyone have a source for this?",  # no unprompted answers on Reddit
        "thanks u/alignbot!",
        "u/alignbotfan what do you think?",  # another account
        "see https://www.reddit.com/u/alignbot for its history",
        "> u/alignbot what about debate?\n\nI disagree with the quoted comment.",  # quoting a request
        "Type `!cite Jacovi` to get a citation",
        "```\nu/alignbot related work\n```\nok",
        "I use !cite often",  # a command only counts at the start
        "!citeable claims are rare",
        "",
    ],
)
def test_not_requests(body: str) -> None:
    assert parse(body) is None


def test_without_a_username_only_commands_count() -> None:
    assert parse_request("u/alignbot hi there?", None, COMMANDS) is None  # type: ignore[arg-type]
    assert parse_request("!cite X", None, COMMANDS) == Request("cite", "X", "command")  # type: ignore[arg-type]

"""Properties of reading Reddit comments for commands and mentions of the bot.

For any comment: a `Request` or None, never an exception, quickly (Reddit allows 10,000 characters).
A command with any arguments reads back as those arguments (whitespace folded), however it is cased or
spaced and whatever quoted lines precede it; quoted or code-formatted commands never trigger.
"""

from __future__ import annotations

from hypothesis import example, given
from hypothesis import strategies as st

from bot.reddit.commands import Kind, Request, parse_request
from tests.properties import PURE, elapsed

COMMANDS: dict[str, Kind] = {"!related": "related", "!cite": "cite", "!bibliography": "bibliography", "!refs": "cite"}

_PIECES = [
    "!cite",
    "!CITE:",
    "!related",
    "!bibliography",
    "u/alignbot",
    "/u/AlignBot",
    "u/alignbotfan",
    "thanks",
    "?",
    "> ",
    ">!",
    "!<",
    "`",
    "```",
    "~~~",
    "    ",
    "\t",
    "\n",
    " ",
    "Jacovi & Goldberg",
]
comments = st.text(max_size=200) | st.lists(st.sampled_from(_PIECES) | st.text(max_size=6), max_size=30).map("".join)


@given(comments, st.sampled_from(["alignbot", "AlignBot", None]))
@PURE
def test_any_comment_gives_a_request_or_none(body: str, username: str | None) -> None:
    request = parse_request(body, username, COMMANDS)
    if request is not None:
        assert request.kind in set(COMMANDS.values())
        assert "\n" not in request.text and request.text == request.text.strip()
        assert request.via == "command" or username is not None


# Arguments as people type them: words, punctuation, line breaks; never a code or quote marker.
argument_words = st.text(
    st.characters(exclude_categories=["Cs", "Cc", "Zl", "Zp"], exclude_characters="`>~!"), min_size=1, max_size=12
).filter(lambda w: w.strip() == w and w)
arguments = st.lists(st.tuples(argument_words, st.sampled_from([" ", "  ", "\n", " \n"])), max_size=6).map(
    lambda pairs: "".join(w + sep for w, sep in pairs).rstrip()
)


@given(
    st.sampled_from(sorted(COMMANDS)),
    st.sampled_from(["{c} {a}", "{c}: {a}", "{c}:\n{a}", "  {c} {a}", "{c}\t{a}"]),
    st.sampled_from([str.lower, str.upper, str.title]),
    arguments,
    st.sampled_from(["", "> earlier point\n\n", "> a\n> b\n", "\n\n"]),
)
@example("!cite", "{c} {a}", str.lower, "Jacovi & Goldberg", "")
@PURE
def test_a_command_reads_back_with_its_arguments(
    command: str, shape: str, case: object, argument: str, quoted: str
) -> None:
    body = quoted + shape.format(c=case(command), a=argument)  # type: ignore[operator]
    expected = Request(COMMANDS[command], " ".join(argument.split()), "command")
    assert parse_request(body, "alignbot", COMMANDS) == expected
    assert parse_request(body, None, COMMANDS) == expected


@given(st.sampled_from(sorted(COMMANDS)), arguments, st.sampled_from(["u/alignbot", "/u/AlignBot", "u/ALIGNBOT"]))
@PURE
def test_a_mention_then_a_command_is_that_command(command: str, argument: str, mention: str) -> None:
    expected = Request(COMMANDS[command], " ".join(argument.split()), "mention")
    assert parse_request(f"{mention} {command} {argument}", "alignbot", COMMANDS) == expected


@given(comments, st.sampled_from(["> ", ">", "    ", "\t"]), st.sampled_from(sorted(COMMANDS)), arguments)
@PURE
def test_quoted_or_indented_commands_never_trigger(before: str, marker: str, command: str, argument: str) -> None:
    """Quoting a request ("> !cite X") or showing it as code must not make the bot answer it."""
    body = "\n".join(f"{marker}{line}" for line in f"{command} {argument} u/alignbot".split("\n"))
    assert parse_request(body, "alignbot", COMMANDS) is None
    assert parse_request(f"`{command} {argument}`".replace("\n", " "), "alignbot", COMMANDS) is None


def test_long_comments_are_read_quickly() -> None:
    for body in ["\n" * 10_000, " \n" * 5_000, ">!" * 5_000, "```\n" * 2_500, "u/" * 5_000, "`" * 10_000]:
        _request, seconds = elapsed(lambda body=body: parse_request(body, "alignbot", COMMANDS))
        assert seconds < 0.2, (body[:12], seconds)

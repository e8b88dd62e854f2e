"""The strict answer filter alone: URL comparison, each rule, and properties over generated hostile Markdown."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from bot.answer_filter import cited_numbers, filter_answer, normalise_url
from bot.domain import RankedWork
from tests.hostile_answers import Leaks, count_leaks

ARXIV = "https://arxiv.org/abs/2307.13702"
RESULTS = [
    RankedWork(id="t:1", title="One", authors=["A B"], year=2023, url=ARXIV, score=0.9),
    RankedWork(id="t:2", title="Two", authors=["C D"], year=2022, url=None, score=0.8),
    RankedWork(id="t:3", title="Three", authors=["E F"], year=2021, url="https://example.org/p3/", score=0.7),
]


@pytest.mark.parametrize(
    ("url", "normal"),
    [
        ("HTTPS://WWW.ARXIV.ORG/abs/2307.13702/", "https://arxiv.org/abs/2307.13702"),
        ("https://arxiv.org:443/abs/2307.13702", "https://arxiv.org/abs/2307.13702"),
        ("http://Example.org:8080/p?q=1#f", "http://example.org:8080/p?q=1#f"),
        ("//evil.example/x", None),
        ("javascript:alert(1)", None),
        ("data:text/html,hi", None),
        ("www.evil.example/x", None),
        ("https://[::1", None),  # unparseable
        ("https://http:%5B", None),  # a port that is not a number (found by the property test below)
        ("https://example.org:x/p", None),
    ],
)
def test_normalise_url(url: str, normal: str | None) -> None:
    assert normalise_url(url) == normal


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # links of retrieved works survive in any spelling, as the work's own URL
        ("[the paper](HTTPS://WWW.ARXIV.ORG/abs/2307.13702/) [1]", f"the paper ({ARXIV}) [1]"),
        ("See https://example.org/p3 [3].", "See https://example.org/p3/ [3]."),
        (f"<{ARXIV}> [1]", f"{ARXIV} [1]"),
        (f"[1]({ARXIV}) and [3](https://evil.example)", "[1] and [3]"),
        # everything else loses its target
        ("[x](https://arxiv.org/abs/2307.13702.evil.example) [1]", "x [1]"),
        ("[x](http://arxiv.org/abs/2307.13702) [1]", "x [1]"),  # another scheme is another URL
        ("![a](https://evil.example/p.png) [1]", "a [1]"),
        # markers in every style, out-of-range ones dropped
        (
            "A [ 1 ], B 【3】, C [^2], D ［1］, E 〔3〕, F [2; 3], G [ 9 ].",
            "A [1], B [3], C [2], D [1], E [3], F [2][3], G.",
        ),
        ("(1) first and (2) second [1].", "(1) first and (2) second [1]."),  # parentheses enumerate: left alone
        # mentions
        (
            "@everyone, @Here, <@!123>, <@&45>, <#67>, @alice, u/bob, /u/carol, r/ControlProblem [1]",
            "everyone, Here, , , , alice, bob, carol, ControlProblem [1]",
        ),
        ("mail me at ada@example.org [1]", "mail me at [1]"),  # an e-mail is a mailto: link, not a work
        # structure: lists and paragraphs stay, code and HTML become text
        ("- one [1]\n- two [2]\n\nEnd [3].", "- one [1]\n\n- two [2]\n\nEnd [3]."),
        ("<b>bold</b> [1] <script>alert(1)</script>", "bold [1] alert(1)"),
        # a renderer links the text beside a code span on its own (found by the property test below)
        ("evil.io`[//` [1]", "`[//` [1]"),
    ],
)
def test_filter_rules(text: str, expected: str) -> None:
    assert filter_answer(text, RESULTS) == expected


def test_cited_numbers_reads_every_style() -> None:
    assert cited_numbers("[1] [ 2 ] 【3】 [^4] ［5］ [6, 7] [8-9] (10)") == [1, 2, 3, 4, 5, 6, 7, 8, 9]


# Pieces a hostile model could combine: markup, escapes, entities, schemes, hosts, markers, mentions.
PIECES = [
    "[",
    "]",
    "(",
    ")",
    "<",
    ">",
    "\\",
    "`",
    "*",
    "_",
    "!",
    "^",
    ":",
    "/",
    "//",
    "@",
    "#",
    "&",
    ";",
    " ",
    "\n",
    "\n\n",
    "- ",
    "1. ",
    "> ",
    "```\n",
    "&#64;",
    "&#91;",
    "&#93;",
    "&lt;",
    "&gt;",
    "\\[",
    "\\]",
    "https://",
    "HTTPS://",
    "http:",
    "javascript:",
    "data:",
    "mailto:",
    "www.",
    "evil.example",
    "evil.io",
    "arxiv.org",
    ARXIV,
    "/x",
    "[1]",
    "[7]",
    "[ 7 ]",
    "【8】",
    "[^9]",
    "［7］",
    "7",
    "0",
    "u/",
    "r/",
    "/u/",
    "spez",
    "everyone",
    "here",
    "<@",
    "123456789012345678",
    "<#",
    "[1]: ",
    " 'title'",
    "](",
    "<a href=",
    '"',
    "</a>",
    "\u200b",
]


@given(st.lists(st.sampled_from(PIECES), min_size=1, max_size=40).map("".join))
@example("evil.io`[//`")
@settings(max_examples=600, deadline=None, suppress_health_check=list(HealthCheck))
def test_nothing_hostile_survives_and_the_output_is_a_fixed_point(text: str) -> None:
    filtered = filter_answer(text, RESULTS)
    assert count_leaks(filtered, RESULTS) == Leaks(), (text, filtered)
    assert filter_answer(filtered, RESULTS) == filtered

"""The evasion suite: every disguise in `evasions.TECHNIQUES`, applied to a page, a forum post and a
knowledge-base abstract, is still flagged as not-own-content; originals and proper quotations are not."""

from __future__ import annotations

import random

import pytest

from bot.moderation.service import Moderator
from bot.moderation.text import parse_body

from .conftest import abstract, submission, text
from .evasions import TECHNIQUES, quoted_excerpt

# (source id the finding must name, its authors, its text as a reader sees it)
SOURCES = [
    ("zoe-evaluation-awareness", ["zoe"], parse_body(text("zoe_blog")).text),
    ("Cc1PublishedPost1", ["carol", "alice"], parse_body(text("carol_published")).text),
    ("arxiv:2305.04388", ["Miles Turpin", "Julian Michael"], abstract("arxiv:2305.04388")),
]


@pytest.mark.parametrize("technique", list(TECHNIQUES))
def test_disguised_copies_are_flagged(shared: Moderator, technique: str) -> None:
    for source_id, _authors, source_text in SOURCES:
        body, body_format = TECHNIQUES[technique](source_text, random.Random(technique))
        report = shared.check(submission(body=body, body_format=body_format), dry_run=True)
        flagged = [f for f in report.findings if f.rule == "not-own-content"]
        assert flagged, f"{technique} on {source_id} went unflagged"
        assert flagged[0].evidence["source"]["id"] == source_id


@pytest.mark.parametrize("technique", list(TECHNIQUES))
def test_disguising_an_original_flags_nothing(shared: Moderator, technique: str) -> None:
    body, body_format = TECHNIQUES[technique](parse_body(text("erin_original")).text, random.Random(technique))
    report = shared.check(submission(body=body, body_format=body_format), dry_run=True)
    assert not [f for f in report.findings if f.rule in {"not-own-content", "duplicate-post"}]


@pytest.mark.parametrize("style", ["markdown", "html"])
def test_quoted_excerpts_with_attribution_are_not_flagged(shared: Moderator, style: str) -> None:
    own = parse_body(text("erin_original")).text
    for source_id, authors, source_text in SOURCES:
        body, body_format = quoted_excerpt(own, source_text, source_id, authors, style)
        report = shared.check(submission(body=body, body_format=body_format), dry_run=True)
        assert not [f for f in report.findings if f.rule in {"not-own-content", "duplicate-post"}], source_id


def test_a_look_alike_handle_is_not_the_author(shared: Moderator) -> None:
    # "zоe" with a Cyrillic о: to a reader it is Zoe, but it is not her account, so her text is not its own.
    impostor = "z\u043ee"
    sub = submission(body=text("zoe_blog"), submitter=impostor, authors=[{"handle": impostor, "confirmed": True}])
    [finding] = [f for f in shared.check(sub, dry_run=True).findings if f.rule == "not-own-content"]
    assert finding.evidence["source"]["id"] == "zoe-evaluation-awareness"
    genuine = submission(body=text("zoe_blog"), submitter="Zoe", authors=[{"handle": "Zoe", "confirmed": True}])
    assert not [f for f in shared.check(genuine, dry_run=True).findings if f.rule == "not-own-content"]

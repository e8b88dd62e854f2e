"""The reverse link index: posts that cite a paper or page, by any of its identifiers."""

from __future__ import annotations

import pytest

from bot.moderation.service import ModerationError, Moderator


def test_cited_by_any_form_of_the_reference(fresh: Moderator) -> None:
    expected = {"Cc1PublishedPost1", "Dv1LesswrongHtml1"}  # a PDF link in a footnote; a DOI in FM HTML
    for ref in (
        "2304.03279",
        "arXiv:2304.03279v1",
        "https://arxiv.org/abs/2304.03279",
        "arxiv.org/pdf/2304.03279",
        "10.48550/arXiv.2304.03279",
    ):
        result = fresh.cited_by(ref)
        assert {p.post_id for p in result.posts} == expected, ref
    result = fresh.cited_by("2304.03279")
    assert result.work is not None and result.work.id == "arxiv:2304.03279"
    dave = next(p for p in result.posts if p.post_id == "Dv1LesswrongHtml1")
    assert dave.links == [
        {
            "url": "https://doi.org/10.48550/arXiv.2304.03279",
            "text": "MACHIAVELLI paper",
            "location": "footnote",
            "section": "",
        }
    ]
    assert [p.post_id for p in fresh.cited_by("https://alignmentforum.org/posts/ZyX9876543210abcd").posts] == [
        "Al1UnrelatedPost1"
    ]
    assert fresh.cited_by("2201.11903").posts == []
    with pytest.raises(ModerationError, match="not a link"):
        fresh.cited_by("the debate paper")

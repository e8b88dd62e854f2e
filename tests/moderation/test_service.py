"""Importing community data, the reverse link index, the review queue and the audit log, on real SQLite."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlmodel import select

from bot.moderation.schemas import RelatedWorkAudit
from bot.moderation.service import ModerationError, Moderator, load_submission
from bot.storage.tables.moderation import Member, Post, PostLink

from .conftest import FIXTURES, lightly_edit, submission, text


def test_members_import_reports_bad_lines_and_keeps_the_good_ones(fresh: Moderator) -> None:
    path = FIXTURES / "members_bad.jsonl"
    report = fresh.import_members(path)
    assert report.added == 2 and report.read == 6
    assert report.errors == [
        f"{path}:2: groups: Input should be a valid list",
        f"{path}:3: invalid JSON: Expecting ',' delimiter (column 34)",
        f"{path}:4: handle: Field required",
        f"{path}:6: role: unknown field",
    ]
    members = fresh.members(["frank", "judy", "alice", "gina"])
    assert set(members) == {"frank", "judy", "alice"}  # alice, imported before, is untouched


def test_members_reimport_updates(fresh: Moderator, tmp_path: Path) -> None:
    path = tmp_path / "m.jsonl"
    path.write_text(json.dumps({"handle": "ERIN", "name": "Erin Park", "groups": ["alignmentForum"]}) + "\n")
    report = fresh.import_members(path)
    assert (report.added, report.updated) == (0, 1)
    with fresh.session() as session:
        erin = session.get(Member, "erin")
    assert erin is not None and erin.groups == ["alignmentForum"] and erin.handle == "ERIN"


def test_posts_ingest_reports_bad_lines_and_indexes_links(fresh: Moderator) -> None:
    path = FIXTURES / "posts_bad.jsonl"
    report = fresh.ingest_posts(path)
    assert (report.read, report.added) == (5, 2)
    assert [e.split(": ", 1)[0] for e in report.errors] == [f"{path}:2", f"{path}:3", f"{path}:4"]
    assert "author: Field required" in report.errors[0]
    assert "posted_at" in report.errors[2]
    with fresh.session() as session:
        ok2 = session.get(Post, "ok-2")
        assert ok2 is not None and ok2.body_format == "html" and ok2.forum is None
        assert session.get(Post, "Cc1PublishedPost1") is not None  # earlier posts are untouched
    cited = fresh.cited_by("2305.04388")
    assert {p.post_id for p in cited.posts} == {"ok-1", "ok-2"}


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


def test_reingesting_a_post_replaces_its_links(fresh: Moderator, tmp_path: Path) -> None:
    path = tmp_path / "p.jsonl"
    record = {
        "id": "Al1UnrelatedPost1",
        "forum": "alignmentforum",
        "author": "alice",
        "title": "Edited",
        "body": "Now it cites https://arxiv.org/abs/2201.11903 only.",
        "url": None,
        "posted_at": None,
    }
    path.write_text(json.dumps(record) + "\n")
    assert fresh.ingest_posts(path).updated == 1
    with fresh.session() as session:
        keys = session.exec(select(PostLink.key).where(PostLink.post_id == "Al1UnrelatedPost1")).all()
    assert keys == ["arxiv:2201.11903"]
    assert fresh.cited_by("1805.00899").posts == []


def test_check_records_a_report_and_decisions_are_logged(fresh: Moderator) -> None:
    sub = submission(id="zoe-copy", body=lightly_edit(text("zoe_blog")))
    report = fresh.check(sub)
    assert report.report_id is not None
    [item] = fresh.queue()
    assert item.report_id == report.report_id and item.status == "open"
    assert item.rules == ["not-own-content"] and item.severity == "high"

    first = fresh.decide(report.report_id, "needs-changes", "mod-ann", "Please quote and attribute the text.")
    assert (first.previous_status, first.status) == ("open", "needs-changes")
    assert fresh.queue() == []
    assert [i.report_id for i in fresh.queue("needs-changes")] == [report.report_id]
    fresh.decide(report.report_id, "rejected", "mod-ben", "Copied from Zoe's blog without attribution.")

    detail = fresh.review(report.report_id)
    assert detail.status == "rejected"
    assert [(d.moderator, d.status) for d in detail.decisions] == [
        ("mod-ann", "needs-changes"),
        ("mod-ben", "rejected"),
    ]
    assert detail.findings[0].rule == "not-own-content"
    assert detail.submission["id"] == "zoe-copy"


def test_a_rejected_submission_is_caught_when_resubmitted(fresh: Moderator) -> None:
    report = fresh.check(submission(id="first-try"))
    fresh.decide(report.report_id, "rejected", "mod-ann", "Too speculative for the Alignment Forum.")
    again = fresh.check(submission(id="second-try", body=lightly_edit(text("erin_original"))))
    [dup] = [f for f in again.findings if f.rule == "duplicate-post"]
    assert dup.evidence["source"]["id"] == "first-try"
    assert dup.evidence["source"]["rejected_reason"] == "Too speculative for the Alignment Forum."
    assert "Too speculative" in dup.summary


def test_dry_run_records_nothing(fresh: Moderator) -> None:
    report = fresh.check(submission(body=lightly_edit(text("zoe_blog"))), dry_run=True)
    assert report.report_id is None and report.findings
    assert fresh.queue(None) == []


def test_decisions_are_validated(fresh: Moderator) -> None:
    report_id = fresh.check(submission()).report_id
    with pytest.raises(ModerationError, match="status must be one of"):
        fresh.decide(report_id, "deleted", "mod", "why")
    with pytest.raises(ModerationError, match="reason"):
        fresh.decide(report_id, "approved", "mod", "  ")
    with pytest.raises(ModerationError, match="moderator"):
        fresh.decide(report_id, "approved", "", "fine")
    with pytest.raises(ModerationError, match="no report 999"):
        fresh.decide(999, "approved", "mod", "fine")
    with pytest.raises(ModerationError, match="unknown rule"):
        fresh.check(submission(), rules={"spam"})
    assert fresh.review(report_id).decisions == []


def test_load_submission_errors_say_where(tmp_path: Path) -> None:
    bad_json = tmp_path / "a.json"
    bad_json.write_text('{"id": "x",\n  "forum": }')
    with pytest.raises(ModerationError, match=rf"{bad_json}:2:\d+: invalid JSON"):
        load_submission(bad_json)
    wrong = tmp_path / "b.json"
    data = submission().model_dump(mode="json")
    data["canonicalUrl"] = "https://x"
    data["authors"] = []
    wrong.write_text(json.dumps(data))
    with pytest.raises(ModerationError) as info:
        load_submission(wrong)
    assert "authors: List should have at least 1 item" in str(info.value)
    assert "canonicalUrl: unknown field" in str(info.value)


def test_related_work_audit_settles_the_two_paragraph_dispute(shared: Moderator) -> None:
    for name, fmt in (("related_work.md", "markdown"), ("related_work.html", "html")):
        audit = shared.audit((FIXTURES / name).read_text(encoding="utf-8"), fmt, title="CoT monitoring")
        assert isinstance(audit, RelatedWorkAudit)
        [section] = [s for s in audit.sections if s.kind == "related-work"]
        assert section.paragraphs == 2  # "it only spans two paragraphs" …
        assert section.footnotes == 3
        assert section.cited_total >= 10  # … "but it cites about ten works in the section and its footnotes"
        assert section.cited_in_footnotes >= 4
        resolved = {c.work.id for c in audit.citations if c.work}
        assert {
            "arxiv:2305.04388",  # "Turpin et al. (2023)", no link
            "arxiv:2201.11903",
            "arxiv:2212.03827",  # a link; the alias "CCS"
            "arxiv:2310.01405",
            "arxiv:2401.05566",  # "RepE"; a bare arXiv id
            "arxiv:2304.03279",
            "arxiv:1805.00899",
            "arxiv:2402.06782",  # footnotes: DOI, PDF link, arXiv DOI
            "arxiv:2309.08600",  # "Cunningham et al. 2023" in a footnote
        } <= resolved
        assert any(c.key == "url:https://annblog.example/cot-monitoring" for c in audit.citations)
        [lanham] = audit.uncited[:1]
        assert lanham.id == "arxiv:2307.13702"  # the faithfulness paper the post should have cited
        assert "similarity" in lanham.why
        assert all(u.id not in resolved for u in audit.uncited)


def test_audit_of_a_post_citing_nothing(shared: Moderator) -> None:
    audit = shared.audit("A thought with no references at all, about nothing in particular.", "markdown")
    assert audit.cited_count == 0 and audit.citations == [] and audit.sections == []


def test_changed_sketch_settings_resketch_stored_texts(fresh: Moderator) -> None:
    from bot.moderation.config import ModerationConfig

    config = ModerationConfig.model_validate({"sketch": {"window": 60, "bands": 16, "num_perm": 64}})
    other = Moderator(fresh.engine, config=config)
    sub = submission(id="again", body=text("carol_published"))
    [dup] = [f for f in other.check(sub, dry_run=True).findings if f.rule == "duplicate-post"]
    assert dup.evidence["source"]["id"] == "Cc1PublishedPost1"
    [own] = [
        f
        for f in other.check(submission(body=lightly_edit(text("zoe_blog"))), dry_run=True).findings
        if f.rule == "not-own-content"
    ]
    assert own.evidence["source"]["id"] == "zoe-evaluation-awareness"


def test_resketching_rereads_stored_bodies(fresh: Moderator) -> None:
    # Texts stored before hidden HTML was removed are read again from their bodies when their sketches
    # are rebuilt (any change of sketch settings or normalisation makes them stale).
    from sqlmodel import delete

    from bot.storage.tables.moderation import Post, TextSketch

    with fresh.session() as session:
        post = session.get(Post, "Dv1LesswrongHtml1")
        assert post is not None
        expected = post.text
        post.text = "stale text with hidden junk"
        session.add(post)
        session.execute(delete(TextSketch))
        session.commit()
    Moderator(fresh.engine, config=fresh.config).index()
    with fresh.session() as session:
        assert session.get(Post, "Dv1LesswrongHtml1").text == expected

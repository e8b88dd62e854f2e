"""Each rule both ways: it fires on the real case it exists for and stays quiet on the legitimate one."""

from __future__ import annotations

from bot.moderation.config import ModerationConfig
from bot.moderation.schemas import CheckReport, Finding
from bot.moderation.service import Moderator

from ..conftest import abstract, lightly_edit, submission, text


def fired(report: CheckReport, rule: str) -> list[Finding]:
    return [f for f in report.findings if f.rule == rule]


# --- coauthor-convenience -------------------------------------------------------------------------


def test_convenience_coauthor_who_has_not_confirmed(shared: Moderator) -> None:
    sub = submission(authors=[{"handle": "erin", "confirmed": True}, {"handle": "alice", "confirmed": False}])
    report = shared.check(sub, dry_run=True)
    [finding] = fired(report, "coauthor-convenience")
    assert finding.severity == "high"
    assert finding.evidence["author"] == {"handle": "erin", "member": False, "groups": []}
    assert finding.evidence["flagged_coauthors"][0]["handle"] == "alice"
    assert "has not confirmed co-authorship" in finding.evidence["flagged_coauthors"][0]["reasons"]
    assert "Remove alice" in finding.action and "erin" in finding.action
    assert finding.message.startswith("Hi erin")
    assert "normal route" in finding.message


def test_convenience_coauthor_who_confirmed_but_did_not_write_the_source(shared: Moderator) -> None:
    # Bob's own blog post, put on the members-only forum with member alice as co-author; alice confirmed,
    # but the text comes from a page only Bob wrote.
    sub = submission(
        title="Sparse autoencoder features drift during fine-tuning",
        body=text("bob_blog"),
        submitter="bob",
        authors=[{"handle": "bob", "confirmed": True}, {"handle": "alice", "confirmed": True}],
        canonical_url="https://bobbuilds.example/sae-drift",
    )
    report = shared.check(sub, dry_run=True)
    [finding] = fired(report, "coauthor-convenience")
    reasons = finding.evidence["flagged_coauthors"][0]["reasons"]
    assert any("not an author of the source" in r for r in reasons)
    assert finding.evidence["source"]["id"] == "bob-sae-drift"
    assert finding.evidence["source"]["containment"] > 0.9
    assert not fired(report, "coauthor-unconfirmed")


def test_convenience_quiet_for_genuine_collaborations(shared: Moderator) -> None:
    both_members = submission(
        submitter="alice", authors=[{"handle": "alice", "confirmed": True}, {"handle": "carol", "confirmed": False}]
    )
    confirmed_no_source = submission(
        authors=[{"handle": "erin", "confirmed": True}, {"handle": "alice", "confirmed": True}]
    )
    not_members_forum = submission(
        members_forum=False, authors=[{"handle": "erin", "confirmed": True}, {"handle": "alice", "confirmed": False}]
    )
    for sub in (both_members, confirmed_no_source, not_members_forum):
        assert not fired(shared.check(sub, dry_run=True), "coauthor-convenience")


def test_membership_is_matched_without_case(shared: Moderator) -> None:
    # members.jsonl spells the handle "Carol"; the submission says "carol".
    sub = submission(authors=[{"handle": "erin", "confirmed": True}, {"handle": "carol", "confirmed": False}])
    [finding] = fired(shared.check(sub, dry_run=True), "coauthor-convenience")
    assert finding.evidence["flagged_coauthors"][0]["handle"] == "carol"


# --- coauthor-unconfirmed --------------------------------------------------------------------------


def test_unconfirmed_coauthor(shared: Moderator) -> None:
    sub = submission(
        members_forum=False,
        authors=[
            {"handle": "erin", "confirmed": True},
            {"handle": "zoe", "confirmed": False},
            {"handle": "newcomer", "confirmed": True},
        ],
    )
    [finding] = fired(shared.check(sub, dry_run=True), "coauthor-unconfirmed")
    assert finding.evidence["coauthor"] == "zoe"
    assert finding.evidence["known_member"] is True
    assert "zoe" in finding.message


def test_confirmed_coauthors_are_quiet(shared: Moderator) -> None:
    sub = submission(authors=[{"handle": "erin", "confirmed": True}, {"handle": "zoe", "confirmed": True}])
    assert not fired(shared.check(sub, dry_run=True), "coauthor-unconfirmed")
    # The primary author's own confirmation is not a co-author question.
    alone = submission(authors=[{"handle": "erin", "confirmed": False}])
    assert not fired(shared.check(alone, dry_run=True), "coauthor-unconfirmed")


# --- not-own-content ------------------------------------------------------------------------------


def test_pasted_blog_post_with_light_edits(shared: Moderator) -> None:
    sub = submission(title="Evaluation awareness", body=lightly_edit(text("zoe_blog")))
    [finding] = fired(shared.check(sub, dry_run=True), "not-own-content")
    assert finding.severity == "high"
    assert finding.evidence["source"]["id"] == "zoe-evaluation-awareness"
    assert finding.evidence["source"]["kind"] == "page"
    assert 0.6 < finding.evidence["containment"] < 1.0  # edited, yet most of it is still Zoe's
    # One aligned passage: the swapped words ("models" → "systems") sit inside it, they do not cut it up.
    assert finding.evidence["passages"][0].startswith(
        "Over the past year a few labs have reported that their most capable systems"
    )
    assert "zoeq.example" in finding.message


def test_pasted_paper_abstract(shared: Moderator) -> None:
    body = "Interesting result I wanted to share.\n\n" + abstract("arxiv:2305.04388")
    [finding] = fired(shared.check(submission(body=body), dry_run=True), "not-own-content")
    assert finding.evidence["source"]["kind"] == "work"
    assert finding.evidence["source"]["id"] == "arxiv:2305.04388"
    assert "Miles Turpin" in finding.summary


def test_short_excerpt_of_a_long_text_is_found_by_containment(shared: Moderator) -> None:
    # The middle of Zoe's post, pasted alone: containment is total though overall similarity is not.
    words = text("zoe_blog").split()
    body = " ".join(words[80:270])
    [finding] = fired(shared.check(submission(body=body), dry_run=True), "not-own-content")
    assert finding.evidence["containment"] > 0.95
    assert finding.evidence["jaccard"] < 0.65


def test_own_paper_abstract_is_not_flagged(shared: Moderator) -> None:
    body = "Our new paper is out. Here is the abstract.\n\n" + abstract("arxiv:2305.04388")
    sub = submission(body=body, submitter="milesturpin", authors=[{"handle": "milesturpin", "confirmed": True}])
    assert not fired(shared.check(sub, dry_run=True), "not-own-content")


def test_quotation_is_not_flagged(shared: Moderator) -> None:
    quoted = "\n".join(f"> {line}" for line in abstract("arxiv:2305.04388").split(". "))
    body = (
        "Turpin and colleagues make a point I keep coming back to. Their abstract says:\n\n" + quoted + "\n\n"
        "What strikes me is how little of this is specific to multiple choice questions. If reasoning can be "
        "steered by a reordered option list, then monitors that read reasoning in agentic settings should "
        "expect even more rationalisation, because the space of unmentioned influences is far larger there. "
        "I would like to see the same experiment repeated with tool use and long horizons."
    )
    report = shared.check(submission(body=body), dry_run=True)
    assert not fired(report, "not-own-content")


def test_html_blockquote_is_not_flagged(shared: Moderator) -> None:
    body = (
        f"<blockquote><p>{abstract('arxiv:2304.03279')}</p></blockquote>"
        "<p>I think this benchmark deserves more use in oversight research, because every scene comes with "
        "labels for deception and power seeking, so a judge can be scored without reading transcripts. "
        "Below I sketch how I would use it to compare monitors trained on different amounts of data.</p>"
    )
    report = shared.check(submission(body=body, body_format="html"), dry_run=True)
    assert not fired(report, "not-own-content")


def test_original_post_is_quiet(shared: Moderator) -> None:
    report = shared.check(submission(), dry_run=True)
    assert [f.rule for f in report.findings] == ["related-work"]


# --- duplicate-post -------------------------------------------------------------------------------


def test_resubmission_of_rejected_post_shows_the_reason(shared: Moderator) -> None:
    sub = submission(
        id="new-attempt",
        body=lightly_edit(text("mallory_rejected")),
        submitter="mallory",
        authors=[{"handle": "mallory", "confirmed": True}],
    )
    [finding] = fired(shared.check(sub, dry_run=True), "duplicate-post")
    assert finding.evidence["source"]["id"] == "Mx1RejectedPost01"
    assert finding.evidence["resubmission_of_rejected"] is True
    assert finding.evidence["same_author"] is True
    assert "Does not engage with existing work" in finding.summary
    assert finding.summary.startswith("Resubmission of rejected post")


def test_same_text_posted_twice(shared: Moderator) -> None:
    sub = submission(
        id="again", body=text("carol_published"), submitter="carol", authors=[{"handle": "carol", "confirmed": True}]
    )
    [finding] = fired(shared.check(sub, dry_run=True), "duplicate-post")
    assert finding.evidence["source"]["id"] == "Cc1PublishedPost1"
    assert finding.evidence["jaccard"] > 0.95
    assert finding.evidence["resubmission_of_rejected"] is False
    # Carol's own earlier post is hers: a duplicate, not someone else's content.
    assert not fired(shared.check(sub, dry_run=True), "not-own-content")


def test_rechecking_a_stored_post_is_not_a_duplicate_of_itself(shared: Moderator) -> None:
    sub = submission(
        id="Cc1PublishedPost1",
        body=text("carol_published"),
        submitter="carol",
        authors=[{"handle": "carol", "confirmed": True}],
    )
    assert not fired(shared.check(sub, dry_run=True), "duplicate-post")


def test_duplicates_in_other_forums_can_be_ignored(kb_engine, shared: Moderator) -> None:
    config = ModerationConfig.model_validate({"rules": {"duplicate-post": {"same_forum_only": True}}})
    moderator = Moderator(kb_engine, config=config)
    sub = submission(
        id="again",
        forum="eaforum",
        body=text("carol_published"),
        submitter="carol",
        authors=[{"handle": "carol", "confirmed": True}],
    )
    assert not fired(moderator.check(sub, dry_run=True), "duplicate-post")
    assert fired(shared.check(sub, dry_run=True), "duplicate-post")


# --- crosspost-missing-canonical ------------------------------------------------------------------


def _bob_crosspost(**overrides):
    values = {
        "title": "SAE drift",
        "body": text("bob_blog"),
        "submitter": "bob",
        "members_forum": False,
        "forum": "lesswrong",
        "authors": [{"handle": "bob", "confirmed": True}],
    }
    values.update(overrides)
    return submission(**values)


def test_crosspost_without_canonical_link(shared: Moderator) -> None:
    report = shared.check(_bob_crosspost(), dry_run=True)
    [finding] = fired(report, "crosspost-missing-canonical")
    assert finding.evidence["source"]["url"] == "https://bobbuilds.example/sae-drift"
    assert "https://bobbuilds.example/sae-drift" in finding.message
    assert not fired(report, "not-own-content")  # it is Bob's own text


def test_crosspost_with_canonical_link_linkpost_or_link_in_body_is_quiet(shared: Moderator) -> None:
    with_canonical = _bob_crosspost(canonical_url="https://bobbuilds.example/sae-drift")
    linkpost = _bob_crosspost(url="https://bobbuilds.example/sae-drift")
    in_body = _bob_crosspost(
        body="*Crossposted from [my blog](https://bobbuilds.example/sae-drift/).*\n\n" + text("bob_blog")
    )
    for sub in (with_canonical, linkpost, in_body):
        assert not fired(shared.check(sub, dry_run=True), "crosspost-missing-canonical")


def test_someone_elses_text_is_not_a_crosspost(shared: Moderator) -> None:
    sub = submission(body=text("bob_blog"), forum="lesswrong", members_forum=False)
    report = shared.check(sub, dry_run=True)
    assert not fired(report, "crosspost-missing-canonical")
    assert fired(report, "not-own-content")


# --- related-work ---------------------------------------------------------------------------------


def test_related_work_is_advisory_and_counts_citations(shared: Moderator) -> None:
    body = text("erin_original") + "\n\nThis builds on [AI safety via debate](https://arxiv.org/abs/1805.00899)."
    report = shared.check(submission(body=body), dry_run=True)
    [finding] = fired(report, "related-work")
    assert finding.severity == "info"
    assert "never a reason to reject" in finding.action
    cited = {c["work"]["id"] for c in finding.evidence["citations"] if c["work"]}
    assert cited == {"arxiv:1805.00899"}
    uncited = [w["id"] for w in finding.evidence["uncited"]]
    assert "arxiv:2402.06782" in uncited  # the weak-judge debate paper, closest and not cited
    assert "arxiv:1805.00899" not in uncited
    assert all(w["why"] for w in finding.evidence["uncited"])


def test_disabled_rules_do_not_run(kb_engine, shared: Moderator) -> None:
    config = ModerationConfig.model_validate(
        {"rules": {"related-work": {"enabled": False}, "coauthor-unconfirmed": {"enabled": False}}}
    )
    moderator = Moderator(kb_engine, config=config)
    sub = submission(authors=[{"handle": "erin", "confirmed": True}, {"handle": "zoe", "confirmed": False}])
    assert moderator.check(sub, dry_run=True).findings == []
    assert {f.rule for f in shared.check(sub, dry_run=True).findings} == {"coauthor-unconfirmed", "related-work"}


def test_only_selected_rules(shared: Moderator) -> None:
    sub = submission(
        body=lightly_edit(text("zoe_blog")),
        authors=[{"handle": "erin", "confirmed": True}, {"handle": "alice", "confirmed": False}],
    )
    report = shared.check(sub, dry_run=True, rules={"not-own-content"})
    assert [f.rule for f in report.findings] == ["not-own-content"]

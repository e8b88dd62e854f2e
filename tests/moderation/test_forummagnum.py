"""The ForumMagnum GraphQL client against a fake server on the loopback interface serving real-shaped JSON."""

from __future__ import annotations

import pytest

from bot.moderation.forummagnum import ForumMagnumClient, ForumMagnumError, fetch, submission_from_post
from bot.moderation.service import Moderator

from .conftest import FORUM_DATA as DATA
from .conftest import FakeForum


def test_posts_are_paged_with_offset(forum: tuple[FakeForum, str]) -> None:
    fake, url = forum
    client = ForumMagnumClient(url, backoff=0)
    posts = list(client.posts(limit=3, page_size=2))
    assert [p["_id"] for p in posts] == [p["_id"] for p in DATA["posts"]]
    assert [r["variables"]["terms"] for r in fake.requests] == [
        {"view": "new", "limit": 2, "offset": 0},
        {"view": "new", "limit": 1, "offset": 2},
    ]
    assert "coauthorUserIds" in fake.requests[0]["query"] and "contents { html }" in fake.requests[0]["query"]
    af_only = list(client.posts(limit=10, af=True))
    assert [p["_id"] for p in af_only] == ["fmPost0000000002b"]


def test_users_come_in_one_aliased_request(forum: tuple[FakeForum, str]) -> None:
    fake, url = forum
    users = ForumMagnumClient(url).users(["uBob000000000001", "uAlice0000000001", "uNobody", "uBob000000000001"])
    assert set(users) == {"uBob000000000001", "uAlice0000000001"}
    assert users["uAlice0000000001"]["groups"] == ["alignmentForum", "alignmentVoters"]
    assert len(fake.requests) == 1
    assert fake.requests[0]["variables"] == {"id0": "uBob000000000001", "id1": "uAlice0000000001", "id2": "uNobody"}


def test_server_errors_are_retried_then_reported(forum: tuple[FakeForum, str]) -> None:
    fake, url = forum
    fake.fail_with = [503, 503]
    assert len(list(ForumMagnumClient(url, backoff=0, retries=2).posts(limit=1))) == 1
    assert len(fake.requests) == 3
    fake.fail_with = [503, 503, 503]
    with pytest.raises(ForumMagnumError, match="HTTP 503 after 3 tries"):
        list(ForumMagnumClient(url, backoff=0, retries=2).posts(limit=1))
    fake.graphql_error = 'Cannot query field "coauthorUserIds" on type "Post".'
    with pytest.raises(ForumMagnumError, match="GraphQL error: Cannot query field"):
        list(ForumMagnumClient(url, backoff=0).posts(limit=1))


def test_unreachable_server() -> None:
    with pytest.raises(ForumMagnumError, match=r"127\.0\.0\.1:9"):
        ForumMagnumClient("http://127.0.0.1:9/graphql", retries=0).query("{ x }")


def test_fetch_maps_posts_and_users_to_records(forum: tuple[FakeForum, str]) -> None:
    _fake, url = forum
    posts, members, user_ids = fetch(ForumMagnumClient(url, backoff=0), "lesswrong", limit=10)
    by_id = {p.id: p for p in posts}
    bob_post = by_id["fmPost0000000001a"]
    assert (bob_post.forum, bob_post.author, bob_post.authors) == ("lesswrong", "bob", ["bob", "alice"])
    assert bob_post.body_format == "html" and bob_post.body.startswith("<p>I spent")
    assert by_id["fmPost0000000002b"].forum == "alignmentforum"
    rejected = by_id["fmPost0000000003c"]
    assert (rejected.status, rejected.rejected_reason) == ("rejected", "LLM-written content without disclosure.")
    assert (rejected.url, rejected.canonical_url) == (
        "https://example.com/linkpost-target",
        "https://mallory.example/original",
    )
    groups = {m.handle: m.groups for m in members}
    assert groups == {
        "bob": [],
        "alice": ["alignmentForum", "alignmentVoters"],
        "carol": ["alignmentForum"],
        "mallory": [],
    }
    assert user_ids["alice"] == "uAlice0000000001"


def test_imported_forum_feeds_the_link_index_and_the_rules(forum: tuple[FakeForum, str], fresh: Moderator) -> None:
    _fake, url = forum
    client = ForumMagnumClient(url, backoff=0)
    posts, members, user_ids = fetch(client, "lesswrong", limit=10)
    fresh.store_members(members, user_ids=user_ids)
    assert fresh.store_posts(posts).added == 3
    cited = {p.post_id for p in fresh.cited_by("https://arxiv.org/abs/2304.03279").posts}
    assert "fmPost0000000002b" in cited  # an arXiv v2 link inside a ForumMagnum footnote

    # Bob's post, suggested for the Alignment Forum with member alice as co-author, checked as a submission.
    raw = next(p for p in DATA["posts"] if p["_id"] == "fmPost0000000001a")
    users = client.users([raw["userId"], *raw["coauthorUserIds"]])
    sub = submission_from_post(raw, users, "lesswrong")
    assert sub.members_forum and sub.forum == "alignmentforum"
    assert [(a.handle, a.confirmed) for a in sub.authors] == [("bob", True), ("alice", False)]
    report = fresh.check(sub, dry_run=True)
    rules = {f.rule for f in report.findings}
    assert {"coauthor-convenience", "coauthor-unconfirmed", "crosspost-missing-canonical"} <= rules
    # Bob's own text: never "not own content", and the stored copy of this very post is no duplicate.
    assert "not-own-content" not in rules and "duplicate-post" not in rules
    [convenience] = [f for f in report.findings if f.rule == "coauthor-convenience"]
    assert convenience.evidence["source"]["id"] == "bob-sae-drift"

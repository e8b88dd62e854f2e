"""Discord forum posts as moderation submissions, and the links and ids moderators paste."""

from __future__ import annotations

from bot.discord.submissions import ForumPost, parse_ref, to_submission


def test_parse_ref() -> None:
    assert parse_ref("https://discord.com/channels/1/22/333") == parse_ref("<https://discord.com/channels/1/22/333>")
    ref = parse_ref("see https://canary.discord.com/channels/1/22/333")
    assert ref is not None and (ref.guild_id, ref.channel_id, ref.message_id) == (1, 22, 333)
    assert parse_ref("https://discord.com/channels/1/22").message_id is None  # type: ignore[union-attr]
    assert parse_ref("123456789012345678").channel_id == 123456789012345678  # type: ignore[union-attr]
    assert parse_ref("hello") is None and parse_ref("12") is None


def test_to_submission_reads_coauthors_links_and_attachments() -> None:
    post = ForumPost(
        thread_id=9,
        title="  My post ",
        author="erin",
        content="Intro text.\n**Co-authors:** <@5> and bob, Erin\nLinkpost: <https://blog.example/post>\n"
        "Canonical: https://blog.example/original",
        attachments=[("full.md", "# Full text\n\nMore."), ("image.png", "binary"), ("page.html", "<p>x</p>")],
        mentions={5: "dana"},
    )
    submission = to_submission(post, forum="discord", members_forum=True)
    assert submission.id == "discord-9" and submission.title == "My post"
    assert [(a.handle, a.confirmed) for a in submission.authors] == [("erin", True), ("dana", False), ("bob", False)]
    assert submission.url == "https://blog.example/post"
    assert submission.canonical_url == "https://blog.example/original"
    assert submission.body.endswith("# Full text\n\nMore.") and "<p>" not in submission.body
    assert submission.members_forum is True
    only_file = to_submission(ForumPost(9, "t", "erin", "", [("p.html", "<p>Body</p>")]), forum="f")
    assert (only_file.body, only_file.body_format) == ("<p>Body</p>", "html")

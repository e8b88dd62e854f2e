"""The near-duplicate index: stored sketches, rebuilt when the settings or the way text is read change."""

from __future__ import annotations

from bot.moderation.service import Moderator
from bot.storage.tables.moderation import Post

from .conftest import lightly_edit, submission, text


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

    from bot.storage.tables.moderation import TextSketch

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

"""The reverse link index: stored posts that cite a paper or page, by any of its identifiers."""

from __future__ import annotations

from sqlmodel import col, select

from bot.moderation.common import ModerationError, Store, work_ref
from bot.moderation.links import link_key
from bot.moderation.schemas import CitedByResult, CitingPost
from bot.storage import WorkKey
from bot.storage.tables.moderation import Post, PostLink

_WORK_KEY_KINDS = ("arxiv:", "doi:", "post:", "url:")


def cited_by(store: Store, reference: str, *, published_only: bool = False) -> CitedByResult:
    """Posts that link `reference` (any of its work's keys). `published_only` is what anyone may see:
    no rejected, pending or members-only posts (their titles and authors are moderators' business)."""
    key = link_key(reference)
    if key is None:
        raise ModerationError(f"{reference!r} is not a link, arXiv id, DOI or forum post id")
    keys = {key}
    work = store.work_for_key(key)
    if work is not None:  # the same paper cited by its DOI, arXiv page or PDF link
        with store.session() as session:
            other = session.exec(select(WorkKey.key).where(WorkKey.work_id == work.id)).all()
        keys.update(k for k in other if k.startswith(_WORK_KEY_KINDS))
    query = select(PostLink, Post).join(Post, col(Post.id) == PostLink.post_id)
    query = query.where(col(PostLink.key).in_(sorted(keys)))
    if published_only:
        query = query.where(Post.status == "published")
    with store.session() as session:
        rows = session.exec(query.order_by(col(Post.posted_at).desc(), Post.id)).all()
    posts: dict[str, CitingPost] = {}
    for link, post in rows:
        entry = posts.setdefault(
            post.id,
            CitingPost(
                post_id=post.id,
                forum=post.forum,
                title=post.title,
                author=post.author,
                url=post.url,
                posted_at=post.posted_at,
                links=[],
            ),
        )
        entry.links.append({"url": link.url, "text": link.text, "location": link.location, "section": link.section})
    return CitedByResult(
        reference=reference, keys=sorted(keys), work=work_ref(work) if work else None, posts=list(posts.values())
    )

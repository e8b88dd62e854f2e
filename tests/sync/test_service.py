"""`sync_arxiv` and `sync_forum` on real engines against the fake servers: relevance, cursors, resuming, merging."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from bot.embedding import Embedder
from bot.engine import Engine
from bot.metadata.errors import MetadataResponseError
from bot.moderation.forummagnum import ForumMagnumClient
from bot.sync.filter import RelevanceFilter
from bot.sync.service import Interrupted, sync_arxiv, sync_forum
from bot.sync.state import SyncStore
from tests.metadata.conftest import snapshot

from .conftest import ON_TOPIC, PROFILE
from .fakes import XML_TYPE, FakeForumMagnum, FakeOAI, forum_post

CATEGORIES = ["cs.AI", "cs.CL"]
THRESHOLD = 0.35


@pytest.fixture(scope="module")
def relevance(embedder: Embedder) -> RelevanceFilter:
    return RelevanceFilter(embedder, PROFILE, THRESHOLD, nearest=1)


def titles(engine: Engine) -> set[str]:
    return {w.title for w in engine.db.iter_works()}


def test_the_filter_keeps_papers_on_the_profiles_topics(relevance: RelevanceFilter, oai: FakeOAI) -> None:
    from bot.domain import WorkRecord

    records = [WorkRecord(title=p.title, abstract=p.abstract) for p in oai.papers if not p.deleted]
    kept = {r.title for r in relevance.keep(records)}
    assert kept == {title for title, _ in ON_TOPIC}


def test_a_harvest_stores_the_relevant_papers_once_and_saves_its_cursor(
    make_engine: Callable[..., Engine], oai: FakeOAI, relevance: RelevanceFilter
) -> None:
    engine = make_engine()
    phases: list[tuple[str, int, int | None]] = []
    reports = sync_arxiv(
        engine, CATEGORIES, since="2026-11-01", relevance=relevance, progress=lambda *a: phases.append(a)
    )
    ai, cl = reports
    assert (ai.source, ai.seen, ai.kept, ai.added, ai.deleted) == ("arxiv:cs:cs:AI", 6, 6, 6, 1)
    assert (cl.source, cl.seen, cl.kept, cl.added, cl.unchanged) == ("arxiv:cs:cs:CL", 12, 6, 0, 6)  # cross-lists
    assert ai.complete and ai.next_from == "2026-12-01"  # the server's date when the harvest began
    assert titles(engine) == {title for title, _ in ON_TOPIC}
    assert phases[0] == ("arXiv cs:cs:AI", 4, 7)  # progress: records of the page, of the whole list
    cursor = SyncStore(engine.db).cursor("arxiv:cs:cs:AI")
    assert (cursor.next_from, cursor.token, cursor.seen, cursor.kept) == ("2026-12-01", None, 6, 6)

    # The next run starts from the cursor: nothing new, nothing stored twice.
    oai.requests.clear()
    again = sync_arxiv(engine, CATEGORIES, relevance=relevance)
    assert oai.list_requests()[0]["from"] == "2026-12-01"
    assert [r.added for r in again] == [0, 0] and engine.db.count_works() == 6


def test_a_first_run_needs_since(make_engine: Callable[..., Engine], relevance: RelevanceFilter) -> None:
    """After it, runs continue from the cursor: cron needs no dates."""
    with pytest.raises(ValueError, match=r"arxiv:cs:cs:AI has never been synced: give --since DATE"):
        sync_arxiv(make_engine(), ["cs.AI"], relevance=relevance)


def test_a_harvest_interrupted_half_way_resumes_with_no_loss_or_duplicate(
    make_engine: Callable[..., Engine], oai: FakeOAI, relevance: RelevanceFilter
) -> None:
    whole = make_engine("whole")
    sync_arxiv(whole, CATEGORIES, since="2026-11-01", until="2026-11-30", relevance=relevance)
    whole.embed_pending()

    engine = make_engine("interrupted")
    pages = 0

    def ctrl_c_after_two_pages(_phase: str, _advance: int, _total: int | None) -> None:
        nonlocal pages
        pages += 1
        if pages == 2:
            raise KeyboardInterrupt

    with pytest.raises(Interrupted) as stopped:
        sync_arxiv(
            engine,
            CATEGORIES,
            since="2026-11-01",
            until="2026-11-30",
            relevance=relevance,
            progress=ctrl_c_after_two_pages,
        )
    (ai,) = stopped.value.reports
    assert (ai.seen, ai.complete) == (6, True)  # cs.AI finished on its second page, before Ctrl-C
    oai.requests.clear()
    # The same command again: cs.AI, finished, continues from its cursor (its `until`); cs.CL starts at --since.
    resumed = sync_arxiv(engine, CATEGORIES, since="2026-11-01", until="2026-11-30", relevance=relevance)
    assert [r.resumed for r in resumed] == [False, False]
    assert [(q["set"], q["from"]) for q in oai.list_requests() if "set" in q] == [
        ("cs:cs:AI", "2026-11-30"),
        ("cs:cs:CL", "2026-11-01"),
    ]
    engine.embed_pending()
    assert snapshot(engine)[1:] == snapshot(whole)[1:]  # the same keys and vectors
    assert titles(engine) == titles(whole)


def test_a_harvest_killed_between_pages_resumes_from_the_saved_token(
    make_engine: Callable[..., Engine], oai: FakeOAI, relevance: RelevanceFilter
) -> None:
    engine = make_engine()
    # Page 1 of cs.CL is served, page 2 arrives cut off: the harvest stops with the cursor on page 2.
    query = {"verb": "ListRecords", "metadataPrefix": "arXiv", "set": "cs:cs:CL", "from": "2026-11-01"}
    oai.script = [oai.answer("/oai", query, b""), (200, {"Content-Type": XML_TYPE}, b"<OAI-PMH><ListRecords><rec")]
    with pytest.raises(MetadataResponseError, match="cannot be parsed"):
        sync_arxiv(engine, ["cs.CL"], since="2026-11-01", relevance=relevance)
    cursor = SyncStore(engine.db).cursor("arxiv:cs:cs:CL")
    assert cursor.token == "0001|4" and cursor.seen == 4
    stored = engine.db.count_works()
    oai.requests.clear()
    (report,) = sync_arxiv(engine, ["cs.CL"], relevance=relevance)
    assert report.resumed and report.complete
    assert oai.list_requests()[0] == {"verb": "ListRecords", "resumptionToken": "0001|4"}
    assert report.seen == 8 and stored + report.added == 6 == engine.db.count_works()


def test_an_expired_token_restarts_the_window(
    make_engine: Callable[..., Engine], oai: FakeOAI, relevance: RelevanceFilter
) -> None:
    engine = make_engine()
    store = SyncStore(engine.db)
    cursor = store.cursor("arxiv:cs:cs:CL")
    cursor.window_from, cursor.token = "2026-11-01", "0001|4"  # a harvest interrupted yesterday
    store.save(cursor)
    oai.expire_tokens()
    (report,) = sync_arxiv(engine, ["cs.CL"], relevance=relevance)
    assert report.token_restarts == 1 and report.complete and engine.db.count_works() == 6


def test_forum_posts_become_citable_works_and_merge_with_their_paper(
    make_engine: Callable[..., Engine], oai: FakeOAI, forum_server: FakeForumMagnum, relevance: RelevanceFilter
) -> None:
    engine = make_engine()
    sync_arxiv(engine, ["cs.AI"], since="2026-11-01", relevance=relevance)
    paper_title = ON_TOPIC[0][0]
    forum_server.posts = [
        forum_post(
            "aaaaaaaaaaaaaaaa1",
            f"[Paper] {paper_title}",
            "2026-11-25T09:00:00.000Z",
            author="Evan Hubinger",
            coauthors=("Carson Denison",),
            karma=211,
            af=True,
        ),
        forum_post(
            "bbbbbbbbbbbbbbbb2",
            "What failure looks like",
            "2026-11-26T12:00:00.000Z",
            author="paulfchristiano",
            karma=380,
        ),
        forum_post(
            "cccccccccccccccc3",
            "A linkpost about debate",
            "2026-11-27T12:00:00.000Z",
            karma=12,
            url="https://arxiv.org/abs/2611.01008v2",
        ),
    ]
    client = ForumMagnumClient(forum_server.url, backoff=0)
    report = sync_forum(engine, "lesswrong", client, since="2026-11-01", page_size=2)
    assert (report.seen, report.added, report.merged, report.complete) == (3, 1, 2, True)
    assert forum_server.terms() == [
        {"view": "old", "limit": 2, "offset": 0, "after": "2026-11-01"},
        {"view": "old", "limit": 2, "offset": 2, "after": "2026-11-01"},
    ]
    post = engine.db.work_for_key("post:bbbbbbbbbbbbbbbb2")
    assert post is not None
    assert (post.id, post.kind, post.authors, post.year, post.venue) == (
        "lw:bbbbbbbbbbbbbbbb2",
        "post",
        ["paulfchristiano"],
        2026,
        "LessWrong",
    )
    assert post.url == "https://www.lesswrong.com/posts/bbbbbbbbbbbbbbbb2/what-failure-looks-like"
    # The post of a paper is the paper: one work, found by the post's link too.
    paper = engine.db.work_for_key("arxiv:2611.01000")
    assert paper is not None and engine.db.work_for_key("post:aaaaaaaaaaaaaaaa1") == paper
    assert f"[Paper] {paper_title}" in paper.aliases and engine.db.count_works() == 7
    linkpost = engine.db.work_for_key("post:cccccccccccccccc3")
    assert linkpost is not None and linkpost.id == "arxiv:2611.01008"
    store = SyncStore(engine.db)
    assert (store.post("aaaaaaaaaaaaaaaa1").karma, store.post("aaaaaaaaaaaaaaaa1").work_id) == (211, paper.id)  # type: ignore[union-attr]
    assert store.cursor("forum:lesswrong").next_from == "2026-11-27T12:00:00.000Z"

    # Incremental: the next run asks for posts after the newest one stored.
    forum_server.posts.append(forum_post("dddddddddddddddd4", "New post on sandbagging", "2026-11-29T08:00:00.000Z"))
    forum_server.requests.clear()
    again = sync_forum(engine, "lesswrong", client)
    assert forum_server.terms()[0]["after"] == "2026-11-27T12:00:00.000Z"
    assert (again.seen, again.added) == (1, 1) and engine.db.count_works() == 8

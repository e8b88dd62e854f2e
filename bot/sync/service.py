"""`alignbot sync`: harvest new papers and posts into the knowledge base, incrementally and resumably.

Each source (an arXiv category set, a forum) has a cursor in the database (`bot.sync.state`). A run reads
pages, stores each page's records through the engine (`Engine.ingest_records`: the pipeline's identity and
merge rules, so a paper harvested twice, a paper on the reading list and a forum post of the same work each
end up as one work), then saves the cursor. Interrupted (Ctrl-C, kill, kill -9, a failed request), the next
run resumes from the last saved page; a page read twice merges into what is stored and changes nothing.
Vectors are computed once at the end of a run, as `ingest` does; an interrupted run leaves them to the next
run or `alignbot ingest`.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel

from bot.domain import IngestReport, Origin, WorkRecord
from bot.engine import Engine
from bot.identifiers import normalize_arxiv_id
from bot.ingest.pipeline import Progress
from bot.metadata.base import clean_text, year_of
from bot.moderation.forummagnum import ForumMagnumClient
from bot.storage.tables.sync import SyncCursor, SyncedPost
from bot.sync.client import ArxivOAIClient, OAIError, forum_posts_page, set_spec
from bot.sync.filter import RelevanceFilter
from bot.sync.state import SyncStore

log = logging.getLogger(__name__)

MAX_TOKEN_RESTARTS = 3  # an expired resumptionToken restarts the window; a server that keeps expiring them is broken
FORUM_PAGE = 50
SITE_NAMES = {"lesswrong": "LessWrong", "alignmentforum": "AI Alignment Forum", "eaforum": "EA Forum"}
SITE_ADDRESSES = {
    "lesswrong": "https://www.lesswrong.com",
    "alignmentforum": "https://www.alignmentforum.org",
    "eaforum": "https://forum.effectivealtruism.org",
}
# "[Paper] Title", "[Linkpost] Title", "New paper: Title": the work's title is what follows.
_TITLE_TAG = re.compile(
    r"^\s*(?:\[\s*(?:link\s*-?\s*post|paper|new paper|preprint|arxiv)\s*\]\s*:?|(?:new )?paper:)\s*", re.IGNORECASE
)


class SyncReport(BaseModel):
    source: str
    seen: int = 0  # records read from the source
    kept: int = 0  # of them, relevant enough to store
    added: int = 0
    merged: int = 0
    unchanged: int = 0
    deleted: int = 0  # withdrawn records the source still lists
    token_restarts: int = 0
    resumed: bool = False  # continued a run that was interrupted
    complete: bool = False
    next_from: str | None = None

    def count(self, result: IngestReport) -> None:
        self.added += result.added
        self.merged += result.merged
        self.unchanged += result.unchanged


class Interrupted(Exception):
    """The engine stopped a write on Ctrl-C/SIGTERM; everything up to the last saved cursor is stored."""

    def __init__(self, reports: list[SyncReport]) -> None:
        super().__init__("interrupted")
        self.reports = reports


def _no_progress(_phase: str, _advance: int, _total: int | None) -> None:
    return None


def _open_window(cursor: SyncCursor, since: str | None, until: str | None, report: SyncReport) -> None:
    """Resume an interrupted run; else start from the cursor, or from `since` for a source never synced.

    So the same command run again resumes exactly: a category finished before the interruption continues
    from its cursor instead of starting over at `since`.
    """
    if cursor.in_progress:
        report.resumed = True
        return
    cursor.window_from = cursor.next_from or since
    cursor.window_until = until
    cursor.token = None
    cursor.high_water = None


def _store(
    engine: Engine, records: list[WorkRecord], origin: Origin, report: SyncReport, reports: list[SyncReport]
) -> None:
    if not records:
        return
    # A public bibliographic source: it completes works but never overrides what the curated list says.
    result = engine.ingest_records(records, embed=False, origin=origin)
    if result.interrupted:
        raise Interrupted(reports)
    report.count(result)


def sync_arxiv(
    engine: Engine,
    categories: Sequence[str],
    *,
    since: str | None = None,
    until: str | None = None,
    relevance: RelevanceFilter | None = None,
    progress: Progress | None = None,
) -> list[SyncReport]:
    """Harvest each category's set from `since` (else where the last run ended) up to `until`, storing the
    relevant records. Raises ValueError for a first run without `since`, MetadataError when arXiv fails and
    Interrupted on Ctrl-C; in every case what was stored stays, and the next run resumes."""
    progress = progress or _no_progress
    specs = list(dict.fromkeys(set_spec(c) for c in categories))
    store = SyncStore(engine.db)
    cursors = {spec: store.cursor(f"arxiv:{spec}") for spec in specs}
    for spec, cursor in cursors.items():
        if not (since or cursor.next_from or cursor.in_progress):
            raise ValueError(f"arxiv:{spec} has never been synced: give --since DATE for its first run")
    reports: list[SyncReport] = []
    with ArxivOAIClient(engine.settings, limiter=engine.db) as client:
        try:
            for spec, cursor in cursors.items():
                report = SyncReport(source=cursor.source)
                reports.append(report)
                _open_window(cursor, since, until, report)
                _harvest_set(engine, client, spec, cursor, report, reports, store, relevance, progress)
        except KeyboardInterrupt:  # while reading or filtering: the last saved cursor is where we resume
            raise Interrupted(reports) from None
    return reports


def _harvest_set(
    engine: Engine,
    client: ArxivOAIClient,
    spec: str,
    cursor: SyncCursor,
    report: SyncReport,
    reports: list[SyncReport],
    store: SyncStore,
    relevance: RelevanceFilter | None,
    progress: Progress,
) -> None:
    label = f"arXiv {spec}"
    token = cursor.token
    while True:
        try:
            page = client.list_records(set_spec=spec, since=cursor.window_from, until=cursor.window_until, token=token)
        except OAIError as exc:
            # Tokens expire (arXiv's live a few hours): harvest the window again; stored records merge unchanged.
            if exc.code != "badResumptionToken" or report.token_restarts >= MAX_TOKEN_RESTARTS:
                raise
            log.warning("%s: resumption token expired; harvesting the window again", label)
            report.token_restarts += 1
            token = cursor.token = None
            continue
        if cursor.high_water is None:
            cursor.high_water = (page.response_date or "")[:10] or None
        kept = relevance.keep(page.records) if relevance is not None else list(page.records)
        _store(engine, kept, Origin(kind="fetch", name="arxiv"), report, reports)
        report.seen += len(page.records)
        report.kept += len(kept)
        report.deleted += page.deleted
        cursor.seen += len(page.records)
        cursor.kept += len(kept)
        cursor.token = token = page.token
        if token is None:
            # Datestamps have day granularity: the next run starts on the day this one began (or its `until`),
            # reading that day again rather than missing what changed later on it.
            cursor.next_from = cursor.window_until or cursor.high_water or cursor.window_from
            cursor.window_from = cursor.window_until = cursor.high_water = None
            report.complete = True
        store.save(cursor)
        report.next_from = cursor.next_from
        progress(label, len(page.records) + page.deleted, page.complete_size)
        if token is None:
            return


# --- forums ------------------------------------------------------------------------------------------------


def post_record(post: dict[str, Any], site: str) -> WorkRecord:
    """A ForumMagnum post as a citable work: kind `post`, authors by display name, its page as the link."""
    post_id = str(post["_id"])
    raw_title = clean_text(post.get("title")) or "(untitled)"
    title = _TITLE_TAG.sub("", raw_title).strip() or raw_title
    people = [post.get("user") or {}, *(post.get("coauthors") or [])]
    authors = [n for n in (clean_text(p.get("displayName")) for p in people if isinstance(p, dict)) if n]
    link = clean_text(post.get("url"))  # a linkpost's target: an arXiv link names the paper it is about
    arxiv_id = normalize_arxiv_id(link) if link else None
    slug = clean_text(post.get("slug")) or ""
    page = clean_text(post.get("pageUrl")) or f"{SITE_ADDRESSES[site]}/posts/{post_id}/{slug}".rstrip("/")
    venue = "AI Alignment Forum" if post.get("af") or site == "alignmentforum" else SITE_NAMES[site]
    return WorkRecord(
        # LessWrong and the Alignment Forum share one database and its post ids; the reading list says `lw:`.
        id=f"{'eaf' if site == 'eaforum' else 'lw'}:{post_id}",
        arxiv_id=arxiv_id,
        title=title,
        aliases=[raw_title] if title != raw_title else [],
        authors=authors,
        year=year_of(post.get("postedAt")),
        url=page,
        venue=venue,
        kind="post",
        source=f"forummagnum:{site}",
    )


def sync_forum(
    engine: Engine,
    site: str,
    client: ForumMagnumClient,
    *,
    since: str | None = None,
    progress: Progress | None = None,
    page_size: int = FORUM_PAGE,
) -> SyncReport:
    """Store the posts of `site` published after `since` (else after the newest post of the last run; the
    whole forum on a first run without `since`), oldest first, with their karma."""
    progress = progress or _no_progress
    store = SyncStore(engine.db)
    cursor = store.cursor(f"forum:{site}")
    report = SyncReport(source=cursor.source)
    _open_window(cursor, since, None, report)
    offset = int(cursor.token or 0)
    try:
        _read_forum(engine, site, client, cursor, offset, report, store, progress, page_size)
    except KeyboardInterrupt:
        raise Interrupted([report]) from None
    return report


def _read_forum(
    engine: Engine,
    site: str,
    client: ForumMagnumClient,
    cursor: SyncCursor,
    offset: int,
    report: SyncReport,
    store: SyncStore,
    progress: Progress,
    page_size: int,
) -> None:
    label = f"{SITE_NAMES[site]} posts"
    while True:
        posts = forum_posts_page(client, since=cursor.window_from, offset=offset, limit=page_size)
        published = [p for p in posts if not p.get("draft") and not p.get("isEvent")]
        records = [post_record(p, site) for p in published]
        _store(engine, records, Origin(kind="fetch", name=site), report, [report])
        store.save_posts(
            [
                SyncedPost(
                    post_id=str(p["_id"]),
                    site=site,
                    work_id=work.id,
                    karma=p.get("baseScore") if isinstance(p.get("baseScore"), int) else None,
                    posted_at=p.get("postedAt"),
                )
                for p, r in zip(published, records, strict=True)
                if (work := engine.db.work_for_key(f"post:{p['_id']}") or engine.db.work_for_key(f"id:{r.id}"))
            ]
        )
        report.seen += len(posts)
        report.kept += len(records)
        cursor.seen += len(posts)
        cursor.kept += len(records)
        offset += len(posts)
        newest = max((str(p["postedAt"]) for p in posts if p.get("postedAt")), default=None)
        cursor.high_water = max(filter(None, (cursor.high_water, newest)), default=None)
        if len(posts) < page_size:
            cursor.next_from = cursor.high_water or cursor.window_from
            cursor.window_from = cursor.window_until = cursor.high_water = cursor.token = None
            report.complete = True
        else:
            cursor.token = str(offset)
        store.save(cursor)
        report.next_from = cursor.next_from
        progress(label, len(posts), None)
        if report.complete:
            return

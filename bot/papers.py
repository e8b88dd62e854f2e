"""`Papers`: works from outside the knowledge base and what is known about one, as one service on the engine.

Live lookups (`fetch`), enrichment of stored works (`enrich`), incremental harvests (`sync_arxiv`,
`sync_forum`) and a work's provenance (`detail`). Front ends call these instead of reaching into the
engine's database; `bot.services.Services.papers` is the instance they get.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import closing
from pathlib import Path

from bot.engine import Engine
from bot.ingest.pipeline import Progress
from bot.ingest.provenance import WorkDetail, find_work, work_detail
from bot.metadata.enrich import SOURCES, EnrichReport, enrich
from bot.metadata.fetch import FetchResult, fetch_papers
from bot.moderation.forummagnum import ForumMagnumClient
from bot.sync.filter import RelevanceFilter, curated_profile, file_profile
from bot.sync.service import SyncReport, sync_arxiv, sync_forum


class Papers:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def fetch(
        self, source: str, query: str, *, limit: int = 1, refresh: bool = False, dry_run: bool = False
    ) -> FetchResult:
        """Look an identifier up, or search for words, in one API and store what comes back (see
        `bot.metadata.fetch.fetch_papers`: ValueError for a request that cannot be made, MetadataError when the
        API fails; nothing is stored then)."""
        return fetch_papers(self.engine, source, query, limit=limit, refresh=refresh, dry_run=dry_run)

    def enrich(
        self,
        *,
        sources: Sequence[str] = SOURCES,
        dry_run: bool = False,
        again: bool = False,
        limit: int | None = None,
        progress: Progress | None = None,
    ) -> EnrichReport:
        """Fill missing abstracts, author lists, venues and DOIs of stored works from the APIs."""
        return enrich(self.engine, sources=sources, dry_run=dry_run, again=again, limit=limit, progress=progress)

    def detail(self, reference: str) -> WorkDetail | None:
        """A stored work (by id, arXiv id, DOI or link) with each field's source and refused changes."""
        work = find_work(self.engine.db, reference)
        return work_detail(self.engine.db, work) if work is not None else None

    def relevance(self, match: Path | None = None) -> RelevanceFilter:
        """What `sync_arxiv` keeps: papers like those of `match` (a works file or topics), else the reading list's."""
        profile = file_profile(match) if match is not None else curated_profile(self.engine.db)
        return RelevanceFilter(self.engine.embedder, profile, self.engine.settings.metadata.sync_relevance_threshold)

    def sync_arxiv(
        self,
        categories: Sequence[str],
        *,
        since: str | None = None,
        until: str | None = None,
        match: Path | None = None,
        progress: Progress | None = None,
    ) -> list[SyncReport]:
        """New papers of arXiv categories, kept when relevant (see `bot.sync.service.sync_arxiv`)."""
        return sync_arxiv(
            self.engine, categories, since=since, until=until, relevance=self.relevance(match), progress=progress
        )

    def sync_forum(
        self, site: str, endpoint: str, *, since: str | None = None, progress: Progress | None = None
    ) -> SyncReport:
        """A ForumMagnum forum's posts as citable works, incrementally (see `bot.sync.service.sync_forum`)."""
        with closing(ForumMagnumClient(endpoint)) as client:
            return sync_forum(self.engine, site, client, since=since, progress=progress)

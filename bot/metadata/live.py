"""Live lookup of references a thread names but the knowledge base lacks (`ALIGNBOT_LIVE_LOOKUP`).

An unresolved quoted title or author-year citation is searched on arXiv, Semantic Scholar and OpenAlex
(in that order, through the existing clients) within `live_lookup_deadline_seconds` in all. A record is
accepted only when it agrees with what was written: the same title (or the title before its subtitle), and
for an author-year citation every cited surname among its authors (the first one first) and the same year.
Anything slower than the deadline, failing or disagreeing is dropped: the mention stays unresolved.
"""

from __future__ import annotations

import logging
import time
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout

from rapidfuzz import fuzz

from bot.domain import WorkRecord
from bot.identifiers import normalize_text, surname
from bot.metadata.arxiv import ArxivClient
from bot.metadata.base import MetadataClient
from bot.metadata.errors import MetadataError
from bot.metadata.openalex import OpenAlexClient
from bot.metadata.semantic_scholar import SemanticScholarClient
from bot.retrieval.reference import ParsedReference
from bot.settings import Settings

log = logging.getLogger(__name__)

CLIENTS: tuple[type[MetadataClient], ...] = (ArxivClient, SemanticScholarClient, OpenAlexClient)


def title_agrees(written: str, title: str) -> bool:
    """The title as written, allowing a dropped subtitle and a typo or two, not a different paper."""
    head = normalize_text(title.split(":")[0])
    written, title = normalize_text(written), normalize_text(title)
    if not written or not title:
        return False
    return written in {title, head} or fuzz.ratio(written, title) >= 92


def authors_agree(parsed: ParsedReference, record: WorkRecord) -> bool:
    names = [surname(a) for a in record.authors]
    if not parsed.surnames or not names or names[0] != parsed.surnames[0]:
        return False
    return all(s in names for s in parsed.surnames) and record.year == parsed.year


def agrees(query: str, kind: str, parsed: ParsedReference, record: WorkRecord) -> bool:
    if kind == "quote":
        return title_agrees(query, record.title)
    return authors_agree(parsed, record) and (not parsed.description or title_agrees(parsed.description, record.title))


def lookup(settings: Settings, query: str, kind: str, parsed: ParsedReference) -> WorkRecord | None:
    """The one record that agrees with a quoted title or author-year citation, or None; never raises."""
    if kind != "quote" and (not parsed.surnames or parsed.year is None):
        return None
    search = query if kind == "quote" else " ".join([*parsed.surnames, parsed.description, str(parsed.year)])
    deadline = time.monotonic() + settings.metadata.live_lookup_deadline_seconds
    # Each request is bounded by the clients' own timeouts; the pool bounds the whole lookup.
    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="live-lookup")
    try:
        for client_class in CLIENTS:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            future = pool.submit(_search, client_class, settings, search)
            try:
                records = future.result(timeout=remaining)
            except FutureTimeout:
                log.warning("live lookup of %r: %s did not answer in time", query, client_class.label)
                break
            matching = [r for r in records if agrees(query, kind, parsed, r)]
            if len(matching) == 1 or (matching and kind == "quote"):
                return matching[0]
    finally:
        pool.shutdown(wait=False, cancel_futures=True)
    return None


def _search(client_class: type[MetadataClient], settings: Settings, query: str) -> list[WorkRecord]:
    try:
        with client_class(settings) as client:
            return client.search(query, limit=5)
    except (MetadataError, ValueError) as exc:
        log.warning("live lookup on %s failed: %s", client_class.label, exc)
        return []

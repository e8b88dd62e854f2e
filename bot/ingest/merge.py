"""Merging one record into a work: who may set which field, and what is refused to protect curated works.

The curated list wins what it curates; public bibliographic records fill gaps and complete author lists;
everything else only adds. Every field changed records its origin in the work's `provenance`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from datetime import UTC, datetime

from bot.domain import PUBLIC_ORIGINS, Conflict, Origin, WorkRecord
from bot.identifiers import canonical_url, normalize_arxiv_id, normalize_text, surname
from bot.retrieval.corpus import embedding_text
from bot.storage import Work


def text_hash(text: str) -> str:
    return hashlib.blake2b(text.encode("utf-8"), digest_size=12).hexdigest()


def _union(existing: list[str], extra: Iterable[str | None]) -> list[str]:
    merged = list(existing)
    seen = {x.lower() for x in merged}
    for item in extra:
        if item and item.lower() not in seen:
            merged.append(item)
            seen.add(item.lower())
    return merged


def default_origin(record: WorkRecord) -> Origin:
    """The origin of a record handed over without one: the curated list if it says so, else untrusted records."""
    return Origin(kind="curated" if record.curated else "records", name=record.source or "unknown")


def _provenance(origin: Origin, at: datetime) -> dict[str, str]:
    return {"kind": origin.kind, "name": origin.name, "at": at.isoformat()}


def new_work(record: WorkRecord, work_id: str, origin: Origin | None = None) -> Work:
    origin = origin or default_origin(record)
    work = Work(
        id=work_id,
        kind=record.kind,
        title=record.title,
        authors=list(record.authors),
        year=record.year,
        abstract=record.abstract,
        summary=record.summary,
        url=record.url,
        venue=record.venue,
        arxiv_id=record.arxiv_id,
        doi=record.doi,
        aliases=_union([], record.aliases),
        topics=_union([], record.topics),
        sources=[record.source] if record.source else [],
        curated=origin.kind == "curated",
    )
    now = datetime.now(UTC)
    work.provenance = {f: _provenance(origin, now) for f in PROVENANCE_FIELDS if getattr(work, f) not in _EMPTY}
    work.text_hash = text_hash(embedding_text(work))
    return work


# What the curated list says about a work and nobody else may change on a curated work.
CURATED_FIELDS = ("title", "summary", "aliases", "topics", "kind")
# Bibliographic facts: the curated list (checked against public records) sets them; other sources fill gaps.
FACT_FIELDS = ("year", "url", "venue", "doi", "arxiv_id")
PROVENANCE_FIELDS = (*CURATED_FIELDS, *FACT_FIELDS, "authors", "abstract")
_EMPTY: tuple[object, ...] = (None, "", [])
_ONLY_CURATED = "a curated work's value is changed only by the curated list"


def _equivalent(field: str, stored: object, proposed: object) -> bool:
    if not isinstance(stored, str) or not isinstance(proposed, str):
        return False
    if field == "url":
        arxiv = normalize_arxiv_id(stored)
        return canonical_url(stored) == canonical_url(proposed) or (
            arxiv is not None and arxiv == normalize_arxiv_id(proposed)
        )
    a, b = normalize_text(stored), normalize_text(proposed)
    if field == "title":  # the short title before the subtitle is the same title
        return a.startswith(b) or b.startswith(a)
    return a == b or (field == "venue" and (a in b or b in a))


def _covers(longer: list[str], shorter: list[str]) -> bool:
    """Whether `longer` names everyone in `shorter` (by surname): a completion of it, not another list."""
    remaining = [surname(a) for a in longer]
    for author in shorter:
        name = surname(author)
        if name not in remaining:
            return False
        remaining.remove(name)
    return True


class _FieldMerge:
    """One record merged into a copy of a work, field by field, noting who set what and what was refused."""

    def __init__(self, work: Work, record: WorkRecord, origin: Origin) -> None:
        self.work = work.model_copy(deep=True)
        self.record = record
        self.origin = origin
        self.curated = origin.kind == "curated"
        # A write that is neither our list nor a public bibliographic record may not change a curated work.
        self.guarded = work.curated and not self.curated and origin.kind not in PUBLIC_ORIGINS
        self.now = datetime.now(UTC)
        self.conflicts: list[Conflict] = []
        self.changed = False

    def set(self, field: str, value: object) -> None:
        self.changed = True
        setattr(self.work, field, value)
        self.work.provenance = {**self.work.provenance, field: _provenance(self.origin, self.now)}

    def refuse(self, field: str, proposed: object, reason: str) -> None:
        stored = getattr(self.work, field)
        if _equivalent(field, stored, proposed):
            return  # another spelling of what we have (title casing, a versioned arXiv link): nothing to review
        self.conflicts.append(
            Conflict(
                work_id=self.work.id,
                field=field,
                stored=stored,
                proposed=proposed,
                origin=self.origin,
                reason=reason,
                at=self.now,
            )
        )

    def offer(self, field: str, value: object, *, wins: bool) -> None:
        """Set `field` when this origin wins it or it is empty; a guarded write that would change it is refused."""
        current = getattr(self.work, field)
        if value in _EMPTY:
            return
        if value == current:
            owner = self.work.provenance.get(field, {})
            if self.curated and owner.get("kind") != "curated":
                self.set(field, value)  # the same value, now vouched for by the curated list
            return
        fills_gap = current in _EMPTY and not (self.guarded and field in CURATED_FIELDS)
        if wins or fills_gap:
            self.set(field, value)
        elif self.guarded:
            self.refuse(field, value, _ONLY_CURATED)

    def authors(self) -> None:
        """The most complete list wins whatever its source (on a tie, the curated list's spelling)."""
        proposed, current = list(self.record.authors), self.work.authors
        if not proposed or proposed == current:
            return self.offer("authors", proposed, wins=False)
        longer = len(proposed) > len(current) or (self.curated and len(proposed) == len(current))
        if self.guarded and not (longer and _covers(proposed, current)):
            if not _covers(current, proposed):  # a shorter prefix of what we have is just less complete
                self.refuse("authors", proposed, "not a completion of the curated work's author list")
            return None
        if longer:
            self.set("authors", proposed)
        return None

    def abstract(self) -> None:
        """Abstracts fill gaps; a public record's fuller abstract also replaces a shorter one."""
        proposed, current = self.record.abstract, self.work.abstract
        fuller = self.origin.kind in PUBLIC_ORIGINS and len(proposed or "") > len(current or "")
        self.offer("abstract", proposed, wins=fuller)

    def names(self, field: str) -> None:
        """Aliases and topics: the curated list's own; elsewhere every source's, together."""
        proposed: list[str] = getattr(self.record, field)
        if self.curated:
            return self.offer(field, _union([], proposed), wins=True)
        merged = _union(getattr(self.work, field), proposed)
        if self.work.curated:
            if self.guarded and merged != getattr(self.work, field):
                self.refuse(field, [x for x in merged if x not in getattr(self.work, field)], _ONLY_CURATED)
            return None
        return self.offer(field, merged, wins=True)


def merge_record(work: Work, record: WorkRecord, origin: Origin | None = None) -> tuple[Work, list[Conflict]]:
    """`work` with `record` merged into a copy, and the changes refused because they would alter a curated work.

    The curated list wins what it curates (title, summary, aliases, topics, kind) and its bibliographic facts
    (year, link, venue, DOI); the most complete author list wins whatever its source; abstracts, venues and DOIs
    fill gaps from any source. Nothing is truncated. Every field changed records its origin in `provenance`.
    """
    merge = _FieldMerge(work, record, origin or default_origin(record))
    for field in ("title", "kind", "summary"):
        value = getattr(record, field)
        if field == "kind" and value == "paper" and not merge.curated:
            continue  # the default kind: a file or API record that says nothing about it proposes nothing
        merge.offer(field, value, wins=merge.curated)
    merge.authors()
    merge.abstract()
    for field in FACT_FIELDS:
        merge.offer(field, getattr(record, field), wins=merge.curated and field != "arxiv_id")
    merge.names("aliases")
    merge.names("topics")
    merged = merge.work
    merged.curated = merged.curated or merge.curated
    if merge.changed or not merge.conflicts:  # a write refused in full is not a source of the work
        merged.sources = _union(merged.sources, [record.source])
    merged.text_hash = text_hash(embedding_text(merged))
    return merged, merge.conflicts


def merge_into(work: Work, record: WorkRecord, origin: Origin | None = None) -> Work:
    """Merge a record into a copy of `work` (see `merge_record`)."""
    return merge_record(work, record, origin)[0]


def _same(a: Work, b: Work) -> bool:
    fields = set(Work.model_fields) - {"updated_at", "vector_hash"}
    return all(getattr(a, f) == getattr(b, f) for f in fields)

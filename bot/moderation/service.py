"""The moderation service every adapter calls: `Moderator(engine)`.

It owns the moderation tables on the engine's database, the near-duplicate index (stored texts'
LSH band keys, loaded once and updated as posts arrive) and the review queue. Nothing here acts on a
forum: `check` records a report for a moderator, `decide` records the moderator's decision.
"""

from __future__ import annotations

import json
import logging
import re
import threading
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
from pydantic import BaseModel, ValidationError
from sqlalchemy import delete, func
from sqlmodel import Session, SQLModel, col, select

from bot.engine import Engine
from bot.ingest.pipeline import text_hash
from bot.mentions import Mention, find_mentions
from bot.moderation.config import RULE_IDS, ModerationConfig, load_config
from bot.moderation.rules import CheckContext, SourceMatch, is_author, related_work_finding, run_rules
from bot.moderation.schemas import (
    REPORT_STATUSES,
    CheckReport,
    Citation,
    CitedByResult,
    CitingPost,
    DecisionRecord,
    Finding,
    ImportReport,
    MemberRecord,
    PostRecord,
    QueueItem,
    RelatedWorkAudit,
    ReportDetail,
    SectionStats,
    Submission,
    UncitedWork,
    WorkRef,
)
from bot.moderation.shingles import BandIndex, Shingled, overlap, query_windows, shingle, sketch, stored_windows
from bot.moderation.text import ParsedBody, link_key, parse_body
from bot.storage import Work, WorkKey
from bot.storage.tables.moderation import Decision, Member, Post, PostLink, Report, TextSketch, now

log = logging.getLogger(__name__)

_SEVERITY_ORDER = {"high": 0, "medium": 1, "low": 2, "info": 3}
_BATCH = 500
RecordT = TypeVar("RecordT", bound=BaseModel)
# Candidates below this on every overlap measure are noise from shared boilerplate; no rule uses them.
_MIN_MATCH = 0.1
_WORK_KEY_KINDS = ("arxiv:", "doi:", "post:", "url:")
_CITATION_SHAPE = re.compile(r"\bet\s*al\b|\b(?:19|20)\d\d\b")

Progress = Callable[[str, int, int | None], None]


class ModerationError(ValueError):
    """Bad input from a moderator or a file; the message says what and where."""


def read_jsonl(path: Path) -> Iterator[tuple[int, Any, str | None]]:
    """(line number, parsed object or None, error) for each non-blank line."""
    # Bytes that are not UTF-8 come through as lone surrogates, so the line is reported, not the import stopped.
    with path.open(encoding="utf-8", errors="surrogateescape") as handle:
        for line_no, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            column = next((n for n, c in enumerate(line, start=1) if "\udc80" <= c <= "\udcff"), None)
            if column is not None:
                yield line_no, None, f"{path}:{line_no}: not UTF-8 text (column {column})"
                continue
            try:
                yield line_no, json.loads(line.strip()), None
            except json.JSONDecodeError as exc:
                yield line_no, None, f"{path}:{line_no}: invalid JSON: {exc.msg} (column {exc.colno})"
            except RecursionError:
                yield line_no, None, f"{path}:{line_no}: invalid JSON: nested too deeply"


def validation_message(exc: ValidationError) -> str:
    parts = []
    for error in exc.errors():
        loc = ".".join(str(p) for p in error["loc"]) or "record"
        msg = "unknown field" if error["type"] == "extra_forbidden" else error["msg"]
        parts.append(f"{loc}: {msg}")
    return "; ".join(parts)


def load_submission(path: Path) -> Submission:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ModerationError(f"{path}:{exc.lineno}:{exc.colno}: invalid JSON: {exc.msg}") from exc
    except UnicodeDecodeError as exc:
        raise ModerationError(f"{path}: not UTF-8 text (byte {exc.start})") from exc
    except RecursionError as exc:
        raise ModerationError(f"{path}: invalid JSON: nested too deeply") from exc
    if not isinstance(data, dict):
        raise ModerationError(f"{path}: a submission is a JSON object, not {type(data).__name__}")
    try:
        return Submission.model_validate(data)
    except ValidationError as exc:
        raise ModerationError(f"{path}: {validation_message(exc)}") from exc


def _work_ref(work: Work) -> WorkRef:
    return WorkRef(id=work.id, title=work.title, authors=list(work.authors), year=work.year, url=work.url)


def _work_text(work: Work) -> str:
    return "\n\n".join(t for t in (work.abstract, work.summary) if t)


class Moderator:
    def __init__(self, engine: Engine, config: ModerationConfig | None = None, config_path: Path | None = None):
        self.engine = engine
        self.db = engine.db
        self.config_path = config_path or engine.settings.knowledge_dir / "moderation.yaml"
        self.config = config or load_config(self.config_path)
        self.params = self.config.sketch.params()
        self._lock = threading.RLock()
        self._index: BandIndex | None = None
        self._works_state: tuple[Any, ...] | None = None

    def session(self) -> Session:
        return self.db.session()

    # --- community data ------------------------------------------------------------------------

    def import_members(self, path: Path) -> ImportReport:
        """Members from JSON Lines; a bad line is reported as file:line and skipped."""
        return _import_jsonl(path, MemberRecord, self.store_members, _BATCH)

    def store_members(
        self,
        records: Iterable[MemberRecord],
        report: ImportReport | None = None,
        user_ids: dict[str, str] | None = None,
    ) -> ImportReport:
        records = list(records)
        if report is None:  # records given in memory (an API import), not read from a file
            report = ImportReport(read=len(records))
        if not records:
            return report
        with self.session() as session:
            for record in records:
                key = record.handle.casefold()
                row = session.get(Member, key)
                if row is None:
                    row = Member(key=key, handle=record.handle)
                    report.added += 1
                else:
                    report.updated += 1
                row.handle, row.name, row.groups, row.karma = record.handle, record.name, record.groups, record.karma
                if user_ids and record.handle in user_ids:
                    row.user_id = user_ids[record.handle]
                row.updated_at = now()
                session.add(row)
            session.commit()
        return report

    def members(self, handles: Iterable[str]) -> dict[str, Member]:
        keys = sorted({h.casefold() for h in handles})
        with self.session() as session:
            rows = session.exec(select(Member).where(col(Member.key).in_(keys))).all()
        return {row.key: row for row in rows}

    def ingest_posts(self, path: Path, progress: Progress | None = None) -> ImportReport:
        """Posts and pages from JSON Lines; a bad line is reported as file:line and skipped."""

        def store(batch: list[PostRecord], report: ImportReport) -> None:
            self.store_posts(batch, report, source=str(path))
            if progress and batch:
                progress("posts", len(batch), None)

        return _import_jsonl(path, PostRecord, store, 100)

    def store_posts(
        self, records: Iterable[PostRecord], report: ImportReport | None = None, source: str | None = None
    ) -> ImportReport:
        """Store posts with their links and sketches in one transaction per batch."""
        records = list(records)
        if report is None:
            report = ImportReport(read=len(records))
        if not records:
            return report
        prepared = []
        for record in records:
            parsed = parse_body(record.body, record.body_format or "markdown")
            text = parsed.text
            keys = sketch(stored_windows(shingle(text, self.params.shingle_size), self.params), self.params)
            prepared.append((record, parsed, text, keys))
        with self.session() as session:
            for record, parsed, text, keys in prepared:
                row = session.get(Post, record.id)
                if row is None:
                    row = Post(id=record.id, author=record.author, title=record.title, body=record.body)
                    report.added += 1
                else:
                    report.updated += 1
                    session.execute(delete(PostLink).where(col(PostLink.post_id) == record.id))
                row.forum, row.author, row.authors = record.forum, record.author, list(record.authors)
                row.title, row.body, row.body_format, row.text = record.title, record.body, record.body_format, text
                row.url, row.canonical_url, row.posted_at = record.url, record.canonical_url, record.posted_at
                row.status, row.rejected_reason = record.status, record.rejected_reason
                row.source, row.updated_at = source, now()
                session.add(row)
                session.flush()
                links = _link_rows(record.id, parsed)
                session.add_all(links)
                report.links += len(links)
                session.merge(self._sketch_row(f"post:{record.id}", text, keys))
            session.commit()
        with self._lock:
            if self._index is not None:
                for record, _parsed, _text, keys in prepared:
                    self._index.add(f"post:{record.id}", keys)
        return report

    def _sketch_row(self, name: str, text: str, keys: np.ndarray) -> TextSketch:
        return TextSketch(
            name=name,
            params=self.params.tag,
            text_hash=text_hash(text),
            windows=len(keys),
            keys=np.ascontiguousarray(keys, dtype=np.uint64).tobytes(),
        )

    # --- near-duplicate index --------------------------------------------------------------------

    def index(self, progress: Progress | None = None) -> BandIndex:
        """The LSH index over stored posts, pages and knowledge-base texts, built on first use."""
        with self._lock:
            with self.session() as session:
                # Changes to the knowledge base (new or merged works) show in this fingerprint.
                works_state = tuple(session.exec(select(func.count(), func.max(Work.updated_at))).one())
            if self._index is None:
                self._index = BandIndex(self.params)
                self._load_post_sketches(self._index)
            if self._works_state != works_state:
                self._sync_work_sketches(self._index, progress, first=self._works_state is None)
                self._works_state = works_state
            return self._index

    def _load_post_sketches(self, index: BandIndex) -> None:
        with self.session() as session:
            stale = session.exec(
                select(Post.id).where(
                    col(Post.id).not_in(
                        select(func.substr(TextSketch.name, 6)).where(
                            col(TextSketch.name).startswith("post:"), TextSketch.params == self.params.tag
                        )
                    )
                )
            ).all()
        for start in range(0, len(stale), 200):  # sketches made with other settings, or never made
            with self.session() as session:
                posts = session.exec(select(Post).where(col(Post.id).in_(stale[start : start + 200]))).all()
                for post in posts:
                    # Re-read from the body: how text is read (hidden HTML, say) may have changed with the sketch.
                    post.text = parse_body(post.body, post.body_format or "markdown").text
                    session.add(post)
                    keys = sketch(
                        stored_windows(shingle(post.text, self.params.shingle_size), self.params), self.params
                    )
                    session.merge(self._sketch_row(f"post:{post.id}", post.text, keys))
                session.commit()
        self._add_sketches(index, "post:")

    def _add_sketches(self, index: BandIndex, prefix: str, names: set[str] | None = None) -> None:
        last = prefix
        while True:
            with self.session() as session:
                query = (
                    select(TextSketch.name, TextSketch.keys)
                    .where(
                        col(TextSketch.name).startswith(prefix),
                        TextSketch.name > last,
                        TextSketch.params == self.params.tag,
                    )
                    .order_by(TextSketch.name)
                    .limit(5000)
                )
                rows = session.exec(query).all()
            if not rows:
                return
            for name, raw in rows:
                if names is None or name in names:
                    index.add(name, np.frombuffer(raw, dtype=np.uint64).reshape(-1, self.params.bands))
            last = rows[-1][0]

    def _sync_work_sketches(self, index: BandIndex, progress: Progress | None, first: bool) -> None:
        """Sketch knowledge-base abstracts and summaries that are new or changed since last time."""
        with self.session() as session:
            current = dict(session.exec(select(Work.id, Work.text_hash)).all())
            stored = dict(
                session.exec(
                    select(TextSketch.name, TextSketch.text_hash).where(
                        col(TextSketch.name).startswith("work:"), TextSketch.params == self.params.tag
                    )
                ).all()
            )
        todo = [wid for wid, h in current.items() if stored.get(f"work:{wid}") != h]
        if todo:
            log.info("sketching %d knowledge-base texts for duplicate search", len(todo))
        for start in range(0, len(todo), 500):
            works = self.db.works(todo[start : start + 500])
            rows = []
            for wid, work in works.items():
                text = _work_text(work)
                keys = sketch(stored_windows(shingle(text, self.params.shingle_size), self.params), self.params)
                row = self._sketch_row(f"work:{wid}", text, keys)
                row.text_hash = work.text_hash  # compared with Work.text_hash to find changed works
                rows.append(row)
            with self.session() as session:
                for row in rows:
                    session.merge(row)
                session.commit()
            if progress:
                progress("sketching knowledge base", len(works), len(todo))
        for name in stored:
            if name[5:] not in current:
                index.remove(name)
        self._add_sketches(index, "work:", None if first else {f"work:{wid}" for wid in todo})

    # --- checks ------------------------------------------------------------------------------------

    def _matches(self, submission: Submission, full: Shingled, own: Shingled) -> list[SourceMatch]:
        index = self.index()
        candidates = index.query(
            sketch(query_windows(full, self.params), self.params), limit=self.config.max_candidates
        )
        post_ids = [name[5:] for name, _ in candidates if name.startswith("post:")]
        work_ids = [name[5:] for name, _ in candidates if name.startswith("work:")]
        with self.session() as session:
            posts = {p.id: p for p in session.exec(select(Post).where(col(Post.id).in_(post_ids))).all()}
        works = self.db.works(work_ids)
        members = self.members(submission.handles)
        matches: list[SourceMatch] = []
        for name, _hits in candidates:
            kind, ident = name.split(":", 1)
            if kind == "post" and ident in posts:
                post = posts[ident]
                if post.id == submission.id:
                    continue  # re-checking a post that is already stored
                source_text = post.text
                match = SourceMatch(
                    kind="post" if post.forum else "page",
                    id=post.id,
                    title=post.title,
                    authors=list(post.authors),
                    url=post.url,
                    forum=post.forum,
                    status=post.status,
                    rejected_reason=post.rejected_reason,
                    posted_at=post.posted_at,
                )
            elif kind == "work" and ident in works:
                work = works[ident]
                source_text = _work_text(work)
                match = SourceMatch(kind="work", id=work.id, title=work.title, authors=list(work.authors), url=work.url)
            else:
                continue
            source = shingle(source_text, self.params.shingle_size)
            match.full = overlap(full, source, min_detail=_MIN_MATCH)
            if max(match.full.containment, match.full.coverage, match.full.jaccard) < _MIN_MATCH:
                continue
            match.own = overlap(own, source, min_detail=_MIN_MATCH)
            match.authored_by = {
                h for h in submission.handles if is_author(h, members.get(h.casefold()), match.authors)
            }
            matches.append(match)
        matches.sort(key=lambda m: (-(m.own.containment if m.own else 0), -(m.full.jaccard if m.full else 0)))
        return matches

    def check(self, submission: Submission, dry_run: bool = False, rules: set[str] | None = None) -> CheckReport:
        """Run the enabled rules on a submission and, unless `dry_run`, record the report as open."""
        if rules is not None:
            unknown = rules - set(RULE_IDS)
            if unknown:
                raise ModerationError(f"unknown rule(s): {', '.join(sorted(unknown))}")
        parsed = parse_body(submission.body, submission.body_format)
        k = self.params.shingle_size
        full, own = shingle(parsed.text, k), shingle(parsed.own_text, k)
        quoted = shingle(parsed.quoted_text, k)
        total = len(own) + len(quoted)
        matches = self._matches(submission, full, own)
        audit = None
        if self.config.rules.related_work.enabled and (rules is None or "related-work" in rules):
            audit = self._audit(parsed, submission.title)
        ctx = CheckContext(
            submission=submission,
            parsed=parsed,
            members=self.members(submission.handles),
            matches=matches,
            own_shingles=len(own),
            quoted_share=round(len(quoted) / total, 4) if total else 0.0,
            audit=audit,
            config=self.config,
        )
        findings = run_rules(ctx, rules)
        findings.sort(key=lambda f: _SEVERITY_ORDER[f.severity])
        report_id = None
        if not dry_run:
            with self.session() as session:
                row = Report(
                    submission_id=submission.id,
                    forum=submission.forum,
                    title=submission.title,
                    submitter=submission.submitter,
                    findings=[f.model_dump(mode="json") for f in findings],
                    submission=submission.model_dump(mode="json"),
                )
                session.add(row)
                session.commit()
                report_id = row.id
        return CheckReport(report_id=report_id, submission_id=submission.id, findings=findings)

    # --- related work --------------------------------------------------------------------------------

    def audit(self, body: str, body_format: str = "markdown", title: str | None = None) -> RelatedWorkAudit:
        return self._audit(parse_body(body, body_format), title)

    def audit_finding(
        self, body: str, body_format: str = "markdown", title: str | None = None, author: str = ""
    ) -> Finding:
        audit = self.audit(body, body_format, title)
        values = {"author": author, "forum": "", "title": title or ""}
        return related_work_finding(audit, self.config.rules.related_work, values)

    def _work_for_key(self, key: str | None) -> Work | None:
        if not key:
            return None
        doc = self.engine.corpus.doc_for_key(key)
        return self.engine.work(self.engine.corpus.ids[doc]) if doc is not None else None

    def _audit(self, parsed: ParsedBody, title: str | None) -> RelatedWorkAudit:
        engine = self.engine
        conf = self.config.rules.related_work
        citations: list[Citation] = []
        unresolved: list[str] = []
        units: list[tuple[str, str, str, list[Any]]] = []  # (location, section, text, links)
        for section in parsed.sections:
            location = "references" if section.kind == "references" else "body"
            if section.links:  # "## [Paper](https://…)": the heading itself cites
                units.append((location, section.heading, "", section.links))
            for paragraph in section.paragraphs:
                units.append((location, section.heading, paragraph.text, paragraph.links))
        for footnote in parsed.footnotes.values():
            section = next((link.section for link in footnote.links), None)
            if section is None:
                section = next((s.heading for s in parsed.sections if footnote.id in s.footnote_refs), "")
            units.append(("footnote", section, footnote.text, footnote.links))
        corpus = engine.corpus
        for location, section_heading, text, links in units:
            for link in links:
                work = self._work_for_key(link.key)
                citations.append(
                    Citation(
                        reference=link.url,
                        text=link.text,
                        kind="link" if "://" in link.url else "id",
                        location=location,
                        section=section_heading,
                        key=link.key,
                        work=_work_ref(work) if work else None,
                    )
                )
            if len(corpus) == 0:
                continue
            for mention in find_mentions(text, corpus):
                if mention.kind == "link":
                    continue  # links and ids were read from the markup above
                result = engine.cite(mention.text, alternatives=1)
                if result.confident and result.match is not None:
                    m = result.match
                    citations.append(
                        Citation(
                            reference=mention.text,
                            kind="mention",
                            location=location,
                            section=section_heading,
                            work=WorkRef(id=m.id, title=m.title, authors=m.authors, year=m.year, url=m.url),
                        )
                    )
                elif _looks_cited(mention) and mention.text not in unresolved:
                    unresolved.append(mention.text)
                    citations.append(
                        Citation(reference=mention.text, kind="mention", location=location, section=section_heading)
                    )

        def group(c: Citation) -> str:
            return f"work:{c.work.id}" if c.work else c.key or f"mention:{c.reference.casefold()}"

        cited_groups = {group(c) for c in citations}
        cited_ids = {c.work.id for c in citations if c.work}
        sections = []
        for section in parsed.sections:
            if section.kind == "other":
                continue
            in_text = {group(c) for c in citations if c.section == section.heading and c.location != "footnote"}
            in_notes = {group(c) for c in citations if c.section == section.heading and c.location == "footnote"}
            sections.append(
                SectionStats(
                    heading=section.heading,
                    kind=section.kind,
                    paragraphs=len(section.paragraphs),
                    words=sum(len(p.text.split()) for p in section.paragraphs),
                    footnotes=len(section.footnote_refs),
                    cited_in_section=len(in_text),
                    cited_in_footnotes=len(in_notes),
                    cited_total=len(in_text | in_notes),
                )
            )
        uncited: list[UncitedWork] = []
        query = " ".join([title or "", *parsed.own_text.split()[:300]]).strip()
        if conf.closest and query and len(corpus):
            result = engine.ask(query, k=min(50, conf.closest + len(cited_ids) + 5))
            for work in result.results:
                if work.id in cited_ids or work.score < conf.min_similarity:
                    continue
                why = f"similarity {work.score:.2f} to the post"
                if work.reason:
                    why += f"; it says: {work.reason}"
                uncited.append(
                    UncitedWork(
                        id=work.id,
                        title=work.title,
                        authors=work.authors,
                        year=work.year,
                        url=work.url,
                        score=work.score,
                        why=why,
                    )
                )
                if len(uncited) >= conf.closest:
                    break
        return RelatedWorkAudit(
            title=title,
            cited_count=len(cited_groups),
            cited_in_knowledge_base=len(cited_ids),
            citations=citations,
            unresolved_mentions=unresolved,
            sections=sections,
            uncited=uncited,
        )

    # --- reverse link index ------------------------------------------------------------------------

    def cited_by(self, reference: str, *, published_only: bool = False) -> CitedByResult:
        """Posts that link `reference` (any of its work's keys). `published_only` is what anyone may see:
        no rejected, pending or members-only posts (their titles and authors are moderators' business)."""
        key = link_key(reference)
        if key is None:
            raise ModerationError(f"{reference!r} is not a link, arXiv id, DOI or forum post id")
        keys = {key}
        work = self._work_for_key(key)
        if work is not None:  # the same paper cited by its DOI, arXiv page or PDF link
            with self.session() as session:
                other = session.exec(select(WorkKey.key).where(WorkKey.work_id == work.id)).all()
            keys.update(k for k in other if k.startswith(_WORK_KEY_KINDS))
        query = select(PostLink, Post).join(Post, col(Post.id) == PostLink.post_id)
        query = query.where(col(PostLink.key).in_(sorted(keys)))
        if published_only:
            query = query.where(Post.status == "published")
        with self.session() as session:
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
            reference=reference, keys=sorted(keys), work=_work_ref(work) if work else None, posts=list(posts.values())
        )

    # --- review queue and audit log ----------------------------------------------------------------

    def queue(self, status: str | None = "open") -> list[QueueItem]:
        if status is not None and status not in REPORT_STATUSES:
            raise ModerationError(f"status must be one of {', '.join(REPORT_STATUSES)}, not {status!r}")
        with self.session() as session:
            query = select(Report).order_by(Report.created_at, Report.id)
            if status is not None:
                query = query.where(Report.status == status)
            return [_queue_item(r) for r in session.exec(query).all()]

    def review(self, report_id: int) -> ReportDetail:
        with self.session() as session:
            report = session.get(Report, report_id)
            if report is None:
                raise ModerationError(f"no report {report_id}")
            decisions = session.exec(
                select(Decision).where(Decision.report_id == report_id).order_by(Decision.decided_at, Decision.id)
            ).all()
        return ReportDetail(
            **_queue_item(report).model_dump(),
            findings=[Finding.model_validate(f) for f in report.findings],
            submission=report.submission,
            decisions=[_decision(d) for d in decisions],
        )

    def decide(self, report_id: int, status: str, moderator: str, reason: str) -> DecisionRecord:
        """Record a moderator's decision. Approved and rejected submissions join the stored posts, so a
        later resubmission is caught as a duplicate with this rejection reason."""
        if status not in REPORT_STATUSES:
            raise ModerationError(f"status must be one of {', '.join(REPORT_STATUSES)}, not {status!r}")
        if not moderator.strip():
            raise ModerationError("a decision needs the moderator's name")
        if not reason.strip():
            raise ModerationError("a decision needs a reason")
        with self.session() as session:
            report = session.get(Report, report_id)
            if report is None:
                raise ModerationError(f"no report {report_id}")
            decision = Decision(
                report_id=report_id,
                previous_status=report.status,
                status=status,
                moderator=moderator.strip(),
                reason=reason.strip(),
            )
            report.status, report.updated_at = status, now()
            session.add(decision)
            session.add(report)
            session.commit()
            submission = Submission.model_validate(report.submission)
        if status in ("approved", "rejected"):
            self.store_posts(
                [
                    PostRecord(
                        id=submission.id,
                        forum=submission.forum,
                        author=submission.author,
                        authors=submission.handles,
                        title=submission.title,
                        body=submission.body,
                        body_format=submission.body_format,
                        url=submission.url,
                        canonical_url=submission.canonical_url,
                        posted_at=submission.posted_at,
                        status="published" if status == "approved" else "rejected",
                        rejected_reason=reason.strip() if status == "rejected" else None,
                    )
                ],
                source=f"report:{report_id}",
            )
        return _decision(decision)

    def stats(self) -> dict[str, int]:
        with self.session() as session:

            def count(model: type[SQLModel]) -> int:
                return session.exec(select(func.count()).select_from(model)).one()

            return {
                "members": count(Member),
                "posts": count(Post),
                "links": count(PostLink),
                "reports": count(Report),
                "decisions": count(Decision),
            }


def _import_jsonl(
    path: Path, model: type[RecordT], store: Callable[[list[RecordT], ImportReport], object], batch_size: int
) -> ImportReport:
    """Validate JSON Lines into `model` and store them in batches; bad lines become `file:line: reason`."""
    report = ImportReport()
    batch: list[RecordT] = []
    for line_no, obj, error in read_jsonl(path):
        report.read += 1
        if error is None:
            try:
                batch.append(model.model_validate(obj))
            except ValidationError as exc:
                error = f"{path}:{line_no}: {validation_message(exc)}"
        if error:
            report.errors.append(error)
        if len(batch) >= batch_size:
            store(batch, report)
            batch = []
    store(batch, report)
    return report


def _looks_cited(mention: Mention) -> bool:
    """Unresolved mentions count only as "X et al." or "X (2023)": "Hong Kong and Nairobi" is no reference."""
    return mention.kind == "author" and bool(_CITATION_SHAPE.search(mention.text))


def _link_rows(post_id: str, parsed: ParsedBody) -> list[PostLink]:
    rows, seen = [], set()
    for link in parsed.links:
        if link.key is None or (link.key, link.url, link.location) in seen:
            continue
        seen.add((link.key, link.url, link.location))
        rows.append(
            PostLink(
                post_id=post_id,
                key=link.key,
                url=link.url,
                text=link.text,
                location=link.location,
                section=link.section,
            )
        )
    return rows


def _queue_item(report: Report) -> QueueItem:
    fired = [f for f in report.findings if f.get("rule") != "related-work"]
    severity = min((f["severity"] for f in fired), key=lambda s: _SEVERITY_ORDER.get(s, 9), default=None)
    return QueueItem(
        report_id=report.id or 0,
        submission_id=report.submission_id,
        forum=report.forum,
        title=report.title,
        submitter=report.submitter,
        status=report.status,
        created_at=report.created_at,
        rules=list(dict.fromkeys(f["rule"] for f in fired)),
        severity=severity,
    )


def _decision(d: Decision) -> DecisionRecord:
    return DecisionRecord(
        id=d.id or 0,
        report_id=d.report_id,
        previous_status=d.previous_status,
        status=d.status,
        moderator=d.moderator,
        reason=d.reason,
        decided_at=d.decided_at,
    )


def dump(model: BaseModel) -> dict[str, Any]:
    return model.model_dump(mode="json")

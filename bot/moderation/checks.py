"""Running the rules on a submission: gather the facts once (parsed body, members, confirmed text matches,
the related-work audit), then let every enabled rule turn them into findings. Records nothing."""

from __future__ import annotations

from sqlmodel import col, select

from bot.moderation.audit import Auditor
from bot.moderation.common import ModerationError, Store, work_text
from bot.moderation.index import DuplicateIndex
from bot.moderation.members import Members
from bot.moderation.rules import CheckContext, SourceMatch, is_author, run_rules
from bot.moderation.schemas import Finding, Submission
from bot.moderation.shingles import Shingled, overlap, query_windows, shingle, sketch
from bot.moderation.text import parse_body
from bot.storage.tables.moderation import Post

# Candidates below this on every overlap measure are noise from shared boilerplate; no rule uses them.
_MIN_MATCH = 0.1


class Checker:
    def __init__(self, store: Store, index: DuplicateIndex, members: Members, auditor: Auditor) -> None:
        self.store = store
        self.index = index
        self.members = members
        self.auditor = auditor

    def validate_rules(self, rules: set[str] | None) -> None:
        if rules is not None:
            unknown = rules - set(self.store.config.rules.book.ids)
            if unknown:
                raise ModerationError(f"unknown rule(s): {', '.join(sorted(unknown))}")

    def run(self, submission: Submission, rules: set[str] | None = None, audit: bool = True) -> list[Finding]:
        """The findings of the enabled rules (or of `rules`), most severe first. `audit=False` skips the
        related-work audit (a submission whose body is not its own text)."""
        self.validate_rules(rules)
        config = self.store.config
        parsed = parse_body(submission.body, submission.body_format)
        k = self.store.params.shingle_size
        full, own = shingle(parsed.text, k), shingle(parsed.own_text, k)
        quoted = shingle(parsed.quoted_text, k)
        total = len(own) + len(quoted)
        wants_audit = audit and any(  # the audit is costly (a search): only for a rule that reads it
            rule.needs_audit and config.rules.rule(rule.id).enabled and (rules is None or rule.id in rules)
            for rule in config.rules.book
        )
        ctx = CheckContext(
            submission=submission,
            parsed=parsed,
            members=self.members.get(submission.handles),
            matches=self.matches(submission, full, own),
            own_shingles=len(own),
            quoted_share=round(len(quoted) / total, 4) if total else 0.0,
            audit=self.auditor.parsed(parsed, submission.title) if wants_audit else None,
            config=config,
        )
        findings = run_rules(ctx, rules)
        findings.sort(key=lambda f: f.severity, reverse=True)  # stable: rules keep their order within a severity
        return findings

    def matches(self, submission: Submission, full: Shingled, own: Shingled) -> list[SourceMatch]:
        """Stored texts the submission overlaps with, confirmed by aligned overlap, best first."""
        store, params = self.store, self.store.params
        candidates = self.index.get().query(
            sketch(query_windows(full, params), params), limit=store.config.max_candidates
        )
        post_ids = [name[5:] for name, _ in candidates if name.startswith("post:")]
        work_ids = [name[5:] for name, _ in candidates if name.startswith("work:")]
        with store.session() as session:
            posts = {p.id: p for p in session.exec(select(Post).where(col(Post.id).in_(post_ids))).all()}
        works = store.db.works(work_ids)
        members = self.members.get(submission.handles)
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
                source_text = work_text(work)
                match = SourceMatch(kind="work", id=work.id, title=work.title, authors=list(work.authors), url=work.url)
            else:
                continue
            source = shingle(source_text, params.shingle_size)
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

"""The engine every front end calls: `ask`, `cite`, `bibliography`, `ingest`.

Adapters (CLI, Discord, Reddit, HTTP) translate their input into these calls and render the pydantic
results; nothing else in them knows about storage or retrieval. Calls are thread-safe: adapters run
them in worker threads so event loops never block.
"""

from __future__ import annotations

import hashlib
import logging
import re
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot.citations import Style, format_citation
from bot.domain import (
    AskResult,
    BibliographyEntry,
    BibliographyResult,
    CiteResult,
    IngestReport,
    Message,
    Origin,
    RankedWork,
    UnresolvedMention,
    WorkRecord,
)
from bot.embedding import Embedder, embedder_for
from bot.exports import ExportFormat, export
from bot.identifiers import work_keys
from bot.ingest.parsers import ParseError, record_from_kb
from bot.ingest.vectorize import Progress, repair
from bot.ingest.writer import KnowledgeWriter
from bot.mentions import Mention, read_references
from bot.retrieval.corpus import CorpusIndex
from bot.retrieval.freshness import FollowedCorpus
from bot.retrieval.query import context_text, contextual_query
from bot.retrieval.reference import parse_reference
from bot.retrieval.resolve import Candidate, ReferenceResolver
from bot.retrieval.search import CONFIDENCE_HITS, HybridSearcher, best_sentence, confidence_score
from bot.settings import Settings
from bot.storage import Database, VectorStore, Work, open_vector_store

if TYPE_CHECKING:  # bot.answer (Markdown parsing, the LLM providers) is imported by `ask` only
    from bot.answer import LLMAnswerer

log = logging.getLogger(__name__)


def deciding_signals(candidate: Candidate) -> dict[str, float]:
    """The signals that gave a candidate its score: exact keys alone, or the others that scored at all."""
    if "exact" in candidate.signals:
        return {"exact": 1.0}
    return {name: round(value, 3) for name, value in candidate.signals.items() if value > 0}


class Engine:
    def __init__(
        self,
        settings: Settings,
        db: Database,
        vectors: VectorStore | None,
        embedder: Embedder,
        answerer: LLMAnswerer | None = None,
    ) -> None:
        self.settings = settings
        self.db = db
        self._vectors = vectors  # None: opened (and repaired) on first use, so cite or queue never load the store
        self._vectors_lock = threading.RLock()
        self.embedder = embedder
        self.answerer = answerer
        # Writes serialise under the knowledge base's writer lock (across processes: bot.ingest.writer);
        # index (re)builds take the index lock, so questions keep being answered from the previous index
        # while a long ingest runs.
        self.writer = KnowledgeWriter(db, lambda: self.vectors, embedder, on_change=self._invalidate)
        self._index_lock = threading.RLock()
        self._corpus = FollowedCorpus(db, self.lexical_index_path)  # follows every process's writes
        self._searcher: HybridSearcher | None = None
        self._resolver: ReferenceResolver | None = None

    @classmethod
    def open(
        cls, settings: Settings | None = None, *, embedder: Embedder | None = None, progress: Progress | None = None
    ) -> Engine:
        """Open the database and load the bundled reading list.

        The model and the vector store open on first use (the vector store then repairs any disagreement
        left by a crash), so commands that only read the database start without them.
        """
        settings = settings or Settings()
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        embedder = embedder or embedder_for(settings)
        db = Database(settings.sqlalchemy_url)
        answerer = None
        if settings.llm.provider:
            from bot.answer import LLMAnswerer

            answerer = LLMAnswerer(settings)
        engine = cls(settings, db, None, embedder, answerer)
        if settings.load_bundled_knowledge:
            engine.load_bundled_knowledge(progress=progress)
        return engine

    def close(self) -> None:
        self.db.close()

    @property
    def vectors(self) -> VectorStore:
        with self._vectors_lock:
            if self._vectors is None:
                self._vectors = open_vector_store(self.settings, self.embedder.name)
                try:
                    self.repair()
                except BaseException:
                    self._vectors = None  # unrepaired: try again, repair included, on the next use
                    raise
            return self._vectors

    # --- consistency ---------------------------------------------------------------------------

    def repair(self) -> dict[str, int]:
        """Make the vector store agree with the database after a crash or a lost server (see `vectorize.repair`)."""
        return repair(self.db, self.vectors)

    # --- ingestion -----------------------------------------------------------------------------

    def load_bundled_knowledge(self, progress: Progress | None = None) -> IngestReport | None:
        files = sorted(self.settings.knowledge_dir.glob("*.jsonl"))
        if not files:
            return None
        return self.ingest(files, curated=True, progress=progress)

    def ingest(
        self,
        paths: Iterable[Path],
        *,
        force: bool = False,
        curated: bool = False,
        progress: Progress | None = None,
        on_error: Callable[[ParseError], None] | None = None,
        embed: bool = True,
    ) -> IngestReport:
        """Ingest files (JSON Lines, .gz, arXiv snapshot, BibTeX), then embed what lacks vectors."""
        on_error = on_error or (lambda error: log.warning("%s", error))
        return self.writer.ingest_files(
            paths, force=force, curated=curated, progress=progress, on_error=on_error, embed=embed
        )

    def ingest_records(
        self, records: Iterable[WorkRecord | dict[str, Any]], *, embed: bool = True, origin: Origin | None = None
    ) -> IngestReport:
        """Ingest records given in memory (the HTTP API, live metadata clients) and embed the works they stored
        (what else is pending is the background worker's). Raises ValueError on a bad record. `origin` is who
        sends them (see `RecordMerger.store` in bot.ingest.pipeline); refused changes to curated works are in
        the report."""
        parsed = [r if isinstance(r, WorkRecord) else record_from_kb(r) for r in records]
        return self.writer.write(
            lambda merger, report, written: merger.store(parsed, report, origin=origin, written=written),
            "stored" if embed else "none",
        )

    def embed_pending(self, progress: Progress | None = None) -> IngestReport:
        """Embed whatever an interrupted ingest left without vectors."""
        return self.writer.write(lambda _merger, _report, _written: None, "all", progress)

    # --- indexes -------------------------------------------------------------------------------

    def _invalidate(self) -> None:
        self._corpus.stale()

    @property
    def generation_seen(self) -> int | None:
        """The knowledge base's generation this process's indexes show (None before the first read)."""
        return self._corpus.generation_seen

    def follow_generation(self) -> int | None:
        """Apply other processes' writes to loaded indexes now (for a heartbeat); the generation then seen."""
        return self._corpus.follow()

    @property
    def lexical_index_path(self) -> Path:
        """Beside the database: in the data directory, one file per database (several may share a directory)."""
        database = hashlib.sha256(self.db.url.encode()).hexdigest()[:12]
        return self.settings.data_dir / f"lexical-index-{database}.pickle"

    @property
    def corpus(self) -> CorpusIndex:
        return self._corpus.current()

    @property
    def searcher(self) -> HybridSearcher:
        corpus = self.corpus
        with self._index_lock:
            if self._searcher is None or self._searcher.corpus is not corpus:
                self._searcher = HybridSearcher(
                    corpus,
                    self.vectors,
                    self.embedder,
                    pool=self.settings.candidate_pool,
                    dense_weight=self.settings.dense_weight,
                )
            return self._searcher

    @property
    def resolver(self) -> ReferenceResolver:
        corpus = self.corpus
        with self._index_lock:
            if self._resolver is None or self._resolver.corpus is not corpus:
                self._resolver = ReferenceResolver(corpus, threshold=self.settings.cite_confidence_threshold)
            return self._resolver

    def warm_up(self) -> None:
        """Build the indexes and load the model now rather than on the first question."""
        _ = self.searcher, self.resolver
        self.embedder.encode(["warm-up"])

    # --- questions -----------------------------------------------------------------------------

    def work(self, work_id: str) -> Work | None:
        return self.db.works([work_id]).get(work_id)

    def _ranked(
        self, corpus: CorpusIndex, docs_scores: list[tuple[int, float]], query: str | None = None
    ) -> list[RankedWork]:
        """Works for document numbers of `corpus` (the snapshot the numbers came from: an ingest may swap it)."""
        works = self.db.works([corpus.ids[d] for d, _ in docs_scores])
        ranked = []
        for doc, score in docs_scores:
            work = works.get(corpus.ids[doc])
            if work is not None:
                reason = best_sentence(corpus, doc, query) if query else None
                ranked.append(work.ranked(score, reason))
        return ranked

    def ask(self, question: str, k: int = 5, context: Sequence[Message | str] = ()) -> AskResult:
        """Related work for a question, optionally read in the context of a thread's recent messages."""
        if not question.strip() and not context:
            raise ValueError("the question is empty")
        from bot.answer import RERANK_CANDIDATES, composed_answer  # Markdown and prompts: `ask` only

        k = max(1, min(k, 50))
        query = contextual_query(question, context)
        searcher = self.searcher
        reranking = self.answerer is not None and self.settings.llm.rerank
        hits = searcher.search(query, max(k, CONFIDENCE_HITS, RERANK_CANDIDATES if reranking else 0))
        confident = confidence_score(hits) >= self.settings.ask_confidence_threshold
        corpus = searcher.corpus
        results = self._ranked(corpus, [(h.doc, h.score) for h in hits], query)
        # One timeout covers the optional rerank and the answer together.
        deadline = time.monotonic() + self.settings.llm.timeout_seconds
        if reranking and self.answerer is not None:
            descriptions = [corpus.descriptions[corpus.position[work.id]] for work in results]
            results = self.answerer.rerank(query, results, descriptions, deadline, pinned=sum(h.exact for h in hits))
        results = results[:k]
        answer = composed_answer(query, results, confident)
        if confident and self.answerer is not None:
            descriptions = [corpus.descriptions[corpus.position[work.id]] for work in results]
            # The asker's words on the question line; the thread only as quoted, attributed data.
            answer = self.answerer.answer(question, results, descriptions, context, deadline) or answer
        return AskResult(query=question, confident=confident, results=results, answer=answer)

    def cite(
        self,
        reference: str,
        style: Style | str = Style.apa,
        alternatives: int = 3,
        export_format: ExportFormat | str | None = None,
        context: Sequence[Message | str] = (),
    ) -> CiteResult:
        """Resolve a reference as people write it to one work, with alternatives and a formatted citation
        (and the match as an `export_format` document when one is given). `context`, the thread's recent
        messages, orders works the reference fits nearly equally; it never makes a guess confident."""
        if not reference.strip():
            raise ValueError("the reference is empty")
        style = Style(style)
        resolver = self.resolver
        candidates = resolver.resolve(reference, n=alternatives + 1, context=context_text(context))
        ranked = self._ranked(resolver.corpus, [(c.doc, c.score) for c in candidates])
        confident = resolver.is_confident(candidates)
        match = ranked[0] if ranked else None
        signals = deciding_signals(candidates[0]) if candidates else {}
        fetched = None
        if not confident and self.settings.metadata.live_lookup:
            kind = "author" if parse_reference(reference, resolver.corpus).surnames else "quote"
            if found := self._fetch_missing(reference, kind):
                match, fetched = found
                confident, ranked, signals = True, [match], {"live": 1.0}
        return CiteResult(
            query=reference,
            confident=confident,
            match=match,
            alternatives=ranked[1:],
            formatted=format_citation(match, style) if match else None,
            fetched=fetched,
            signals=signals,
            export=export(ranked[:1], export_format) if export_format else None,
        )

    def _may_fetch(self, mention: Mention) -> bool:
        """Live lookup is on, and the mention is a quoted title or an author citation with a year."""
        if not self.settings.metadata.live_lookup or not mention.strong:
            return False
        return mention.kind == "quote" or (mention.kind == "author" and bool(re.search(r"\d{4}", mention.text)))

    def _fetch_missing(self, text: str, kind: str) -> tuple[RankedWork, str] | None:
        """A quoted title or author-year citation the knowledge base lacks, looked up live and stored."""
        from bot.metadata import live  # the clients load only when live lookup is on

        parsed = parse_reference(text, self.corpus, kind)
        record = live.lookup(self.settings, text, kind, parsed)
        if record is None:
            return None
        # Stored now, with its API as the record's source (provenance); embedded with the next ingest,
        # so answering never waits for the embedding model.
        self.ingest_records([record], embed=False)
        keys = work_keys(
            work_id=record.id, arxiv_id=record.arxiv_id, doi=record.doi, url=record.url, title=record.title
        )
        work = next((w for w in map(self.db.work_for_key, keys) if w is not None), None)
        return (work.ranked(1.0), record.source or "live") if work else None

    def bibliography(
        self,
        thread: str | Sequence[Message],
        style: Style | str = Style.apa,
        export_format: ExportFormat | str | None = None,
    ) -> BibliographyResult:
        """Every work a thread refers to, resolved, in order of first mention (and all of them as one
        `export_format` document when one is given)."""
        messages = [Message(text=thread)] if isinstance(thread, str) else list(thread)
        resolver = self.resolver
        entries: dict[str, BibliographyEntry] = {}
        unresolved: dict[str, UnresolvedMention] = {}
        for message in messages:
            for found in read_references(message.text, resolver, message.author):
                mention, best = found.mention, found.best
                if not found.reported:
                    continue  # a weak cue ("the … paper", a bare name) that named no work: not a reference
                guess = self._ranked(resolver.corpus, [(best.doc, best.score)]) if best else []
                fetched = None
                if (
                    not found.confident
                    and self._may_fetch(mention)
                    and (hit := self._fetch_missing(mention.text, mention.kind))
                ):
                    guess, fetched = [hit[0]], hit[1]
                if not found.confident and fetched is None:
                    if mention.text not in unresolved:
                        unresolved[mention.text] = UnresolvedMention(
                            text=mention.text,
                            kind=mention.kind,
                            author=mention.author,
                            best_guess=guess[0] if guess else None,
                        )
                    continue
                if not guess:
                    continue  # the work was deleted while the index was in use
                work = guess[0]
                if work.id not in entries:
                    entries[work.id] = BibliographyEntry(
                        mention=mention.text,
                        author=mention.author,
                        work=work,
                        formatted=format_citation(work, style),
                        fetched=fetched,
                    )
        works = [entry.work for entry in entries.values()]
        return BibliographyResult(
            entries=list(entries.values()),
            unresolved=list(unresolved.values()),
            export=export(works, export_format) if export_format else None,
        )

    def status(self, verify: bool = True) -> dict[str, Any]:
        """Sizes, locks and live processes; `verify`: count the vector store itself (see `knowledge_base_status`)."""
        from bot.processes import knowledge_base_status

        return knowledge_base_status(self, verify)

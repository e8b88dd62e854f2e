"""Hybrid related-work search: exact ids and links first, then BM25 and dense cosine fused.

Fusion is the learned linear model of bot.retrieval.fusion over per-candidate features (dense and lexical
scores, ranks, year, the cosine to the centroid of the first hits, a pseudo-relevance feedback, and the cosine
to the question's vector mapped by the learned query adapter), over the union of both candidate pools. Dense
similarity is also kept on its own: it is what says whether anything found is really about the question
(`confident`).
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from bot.embedding import Embedder
from bot.identifiers import exact_keys_in, normalize_text
from bot.retrieval.adapter import QueryAdapter, adapter_for
from bot.retrieval.corpus import CorpusIndex
from bot.retrieval.expand import AcronymExpander
from bot.retrieval.fusion import LinearFusion, default_fusion
from bot.retrieval.lexical import shared_idf, stems
from bot.storage import VectorStore, VectorStoreUnavailable

log = logging.getLogger(__name__)
# Without the vector store, this many lexical candidates are encoded per question (about half a second on a CPU).
FALLBACK_CANDIDATES = 30
ALIAS_WORDS = 6  # the longest alias phrase looked for in a question
CONFIDENCE_HITS = 5  # the hits whose cosines say whether anything found is about the question
QUERY_VECTORS_KEPT = 1024  # recent questions' vectors (1.5 kB each for MiniLM): a repeated question is not encoded
COMMON_ACRONYM_SHARE = 0.03  # an acronym used in more than this share of works is not expanded
# Pseudo-relevance feedback: the centroid of this many first-stage hits (fixed fusion), compared with each candidate.
FEEDBACK_DOCS = 10

_SENTENCE_SPLIT = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9\"'(\[])")


@dataclass
class Hit:
    doc: int
    score: float
    similarity: float  # dense cosine to the query; 1.0 for exact id or link matches
    exact: bool = False


class HybridSearcher:
    def __init__(
        self,
        corpus: CorpusIndex,
        vectors: VectorStore,
        embedder: Embedder,
        pool: int = 100,
        dense_weight: float = 0.88,
        fusion: LinearFusion | None = None,
        expand_acronyms: bool = True,
        adapter: QueryAdapter | None = None,
    ) -> None:
        self.corpus = corpus
        self.vectors = vectors
        self.embedder = embedder
        self.pool = pool
        self.dense_weight = dense_weight
        self.fusion = fusion or default_fusion(dense_weight)
        self.expand_acronyms = expand_acronyms
        self.adapter = adapter or adapter_for(embedder.name)
        self._expander: AcronymExpander | None = None
        # By document number, for building feature columns without a loop: year (0 when unknown), curated.
        self.years = np.array([year or 0 for year in corpus.years], dtype=np.float64)
        self.curated = np.array(corpus.curated, dtype=np.float64)

    @property
    def expander(self) -> AcronymExpander:
        """Acronyms the knowledge base defines, found on first use (a regex pass over every abstract).

        An acronym that many works use bare ("LLM", "AI", "RLHF") already matches as it is; spelling it out
        only dilutes the question (on the agenda queries it cost recall@20 0.261 -> 0.228), so it is left."""
        if self._expander is None:
            texts = (f"{t} {d}" for t, d in zip(self.corpus.titles, self.corpus.descriptions, strict=True))
            found = AcronymExpander.from_texts(texts)
            full = self.corpus.full
            cutoff = float(np.log(1 / COMMON_ACRONYM_SHARE))  # BM25 idf of a term in that share of works
            rare = {
                acronym: form
                for acronym, form in found.expansions.items()
                # "LLMs" stems apart from "LLM": either form used widely makes the acronym common.
                if min(full.idf(stems(f"{acronym} {acronym}s")).values(), default=0.0) >= cutoff
            }
            self._expander = AcronymExpander(rare)
        return self._expander

    def lexical(self, query: str, n: int) -> list[tuple[int, float]]:
        return self.corpus.full.search(query, n)

    def dense(self, query_vector: np.ndarray, n: int) -> list[tuple[int, float, np.ndarray]]:
        """The `n` nearest works as (document, cosine, stored vector), best first."""
        hits = []
        for work_id, similarity, vector in self.vectors.query_with_vectors(query_vector, n):
            doc = self.corpus.position.get(work_id)
            if doc is not None:  # a vector whose work was not loaded yet is skipped, not an error
                hits.append((doc, similarity, vector))
        return hits

    def exact(self, query: str) -> list[int]:
        docs = (self.corpus.doc_for_key(key) for key in exact_keys_in(query))
        return list(dict.fromkeys(d for d in docs if d is not None))

    def alias_docs(self, query: str) -> set[int]:
        """Works one of whose aliases the question names as a phrase ("the ELK report", "sleeper agents")."""
        words = normalize_text(query).split()
        found: set[int] = set()
        for size in range(1, min(ALIAS_WORDS, len(words)) + 1):
            for start in range(len(words) - size + 1):
                found.update(self.corpus.aliases.get(" ".join(words[start : start + size]), ()))
        return found

    def candidates(self, query: str) -> tuple[list[int], np.ndarray, np.ndarray]:
        """The candidate works of a question with their dense cosines and feature rows (see fusion.FEATURES)."""
        if self.expand_acronyms:
            query = self.expander.expand(query)
        query_vector = query_vector_of(self.embedder, query)
        lexical_hits = self.lexical(query, self.pool)
        lexical = dict(lexical_hits)
        titles = dict(self.corpus.title_index.search(query, self.pool))
        dense_hits: list[tuple[int, float, np.ndarray]] = []
        try:
            dense_hits = self.dense(query_vector, self.pool)
            vectors = {doc: vector for doc, _, vector in dense_hits}
            missing = [self.corpus.ids[doc] for doc in lexical.keys() | titles.keys() if doc not in vectors]
            # Lexical-only candidates lack a cosine: their stored vectors give it without encoding anything.
            for work_id, vector in self.vectors.get(missing).items():
                vectors[self.corpus.position[work_id]] = vector
        except VectorStoreUnavailable as exc:
            log.warning("%s; answering from lexical candidates re-ranked by encoding them now", exc)
            vectors = self.encoded_vectors(list(lexical)[:FALLBACK_CANDIDATES])
        similarity = {doc: float(vector @ query_vector) for doc, vector in vectors.items()}
        docs = list(similarity.keys() | lexical.keys())
        aliases = self.alias_docs(query)
        dense_rank = {doc: 1 / (1 + rank) for rank, (doc, _, _) in enumerate(dense_hits)}
        lexical_rank = {doc: 1 / (1 + rank) for rank, (doc, _) in enumerate(lexical_hits)}
        best_lexical = max(lexical.values(), default=1.0)
        best_title = max(titles.values(), default=1.0)
        best_similarity = max(similarity.values(), default=0.0)

        def column(values: dict[int, float]) -> np.ndarray:
            """One feature per candidate: its value in `values`, else 0."""
            return np.fromiter((values.get(doc, 0.0) for doc in docs), dtype=np.float64, count=len(docs))

        cosines, bm25, years = column(similarity), column(lexical), self.years[docs]
        stored = np.zeros((len(docs), len(query_vector)), dtype=np.float32)  # a work without a vector: zeros
        for row, doc in enumerate(docs):
            if doc in vectors:
                stored[row] = vectors[doc]
        # Feedback: how close each candidate is to the centroid of the fixed fusion's first hits. Its learned
        # weight is negative: among works equally close to the question, the ones in the middle of the pack
        # are the generic ones (a hubness correction, as CSLS does for cross-lingual retrieval).
        first_stage = self.dense_weight * cosines + (1 - self.dense_weight) * bm25 / best_lexical
        centroid = unit(stored[np.argsort(-first_stage, kind="stable")[:FEEDBACK_DOCS]].sum(axis=0))
        to_centroid = stored @ centroid
        adapted = stored @ self.adapter.apply(query_vector) if self.adapter else cosines
        matrix = np.column_stack(
            (  # in the order of fusion.FEATURES
                cosines,
                cosines - best_similarity,
                np.log1p(bm25),
                bm25 / best_lexical,
                column(titles) / best_title,
                column(dense_rank),
                column(lexical_rank),
                column(dict.fromkeys(aliases, 1.0)),
                np.where(years != 0, np.clip((years - 2010) / 15, 0.0, 1.0), 0.0),
                (years == 0).astype(np.float64),
                self.curated[docs],
                to_centroid,
                gap(to_centroid),
                adapted,
                gap(adapted),
            )
        )
        return docs, cosines, matrix

    def search(self, query: str, k: int) -> list[Hit]:
        exact_docs = self.exact(query)
        docs, cosines, matrix = self.candidates(query)
        scores = self.fusion.score(matrix) if docs else np.zeros(0)
        hits = [Hit(doc, 1.0, 1.0, exact=True) for doc in exact_docs]
        for row in np.argsort(-scores, kind="stable"):
            if len(hits) >= k:
                break
            if docs[row] not in exact_docs:
                hits.append(Hit(docs[row], float(scores[row]), float(cosines[row])))
        return hits

    def encoded_vectors(self, docs: list[int]) -> dict[int, np.ndarray]:
        """Vectors computed from the works' text, for when the vector store is down: slower, same meaning."""
        if not docs:
            return {}
        texts = [f"{self.corpus.titles[d].rstrip('.')}. {self.corpus.descriptions[d]}" for d in docs]
        return dict(zip(docs, self.embedder.encode(texts), strict=True))


@lru_cache(maxsize=QUERY_VECTORS_KEPT)
def query_vector_of(embedder: Embedder, query: str) -> np.ndarray:
    """A question's vector, remembered: encoding is most of a warm `ask`, and the same question comes back (a
    retry, another front end, another k). Read-only, as it is shared."""
    vector = embedder.encode([query])[0]
    vector.flags.writeable = False
    return vector


def gap(values: np.ndarray) -> np.ndarray:
    """Each value minus the largest (≤ 0): how far a candidate is behind the question's best."""
    return values - values.max() if len(values) else values


def unit(vector: np.ndarray) -> np.ndarray:
    """`vector` scaled to length 1 (the zero vector stays zero)."""
    norm = float(np.linalg.norm(vector))
    return vector / norm if norm > 0 else vector


def confidence_score(hits: list[Hit]) -> float:
    """What `ask`'s `confident` compares with its threshold: 1 for an exact id or link match, else the best
    dense cosine among the first CONFIDENCE_HITS. The best of five, not the top hit's, because the learned
    fusion may rank first a work whose cosine is lower (bench/confidence.py measured both)."""
    if not hits:
        return 0.0
    if hits[0].exact:
        return 1.0
    return max(h.similarity for h in hits[:CONFIDENCE_HITS])


def best_sentence(corpus: CorpusIndex, doc: int, query: str) -> str | None:
    """The sentence of a work's abstract or summary that shares the most informative terms with the query."""
    text = corpus.descriptions[doc]
    if not text:
        return None
    sentences = [s.strip() for s in _SENTENCE_SPLIT.split(text) if len(s.strip()) > 20] or [text.strip()]
    idf = corpus.full.idf(stems(query))
    best, best_score = sentences[0], -1.0
    for sentence in sentences:
        score = shared_idf(idf, sentence)
        if score > best_score:
            best, best_score = sentence, score
    return best if len(best) <= 300 else best[:297].rstrip() + "…"

"""Hybrid related-work search: exact ids and links first, then BM25 and dense cosine fused.

Fusion is a convex combination of the cosine similarity and the BM25 score divided by the query's best
BM25 score, over the union of both candidate pools. On the agenda benchmark (bench/quality.py) it beat
reciprocal-rank fusion, which ignores how far apart scores are. Dense similarity is also kept on its
own: it is what says whether anything found is really about the question (`confident`).
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass

import numpy as np

from bot.embedding import Embedder
from bot.identifiers import exact_keys_in
from bot.retrieval.corpus import CorpusIndex
from bot.storage import VectorStore, VectorStoreUnavailable

log = logging.getLogger(__name__)
# Without the vector store, this many lexical candidates are encoded per question (about half a second on a CPU).
FALLBACK_CANDIDATES = 30

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
    ) -> None:
        self.corpus = corpus
        self.vectors = vectors
        self.embedder = embedder
        self.pool = pool
        self.dense_weight = dense_weight

    def lexical(self, query: str, n: int) -> list[tuple[int, float]]:
        return self.corpus.full.search(query, n)

    def dense(self, query_vector: np.ndarray, n: int) -> list[tuple[int, float]]:
        hits = []
        for work_id, similarity in self.vectors.query(query_vector, n):
            doc = self.corpus.position.get(work_id)
            if doc is not None:  # a vector whose work was not loaded yet is skipped, not an error
                hits.append((doc, similarity))
        return hits

    def exact(self, query: str) -> list[int]:
        docs = (self.corpus.doc_for_key(key) for key in exact_keys_in(query))
        return list(dict.fromkeys(d for d in docs if d is not None))

    def search(self, query: str, k: int) -> list[Hit]:
        exact_docs = self.exact(query)
        query_vector = self.embedder.encode([query])[0]
        lexical = dict(self.lexical(query, self.pool))
        try:
            similarity = dict(self.dense(query_vector, self.pool))
            missing = [self.corpus.ids[doc] for doc in lexical if doc not in similarity]
            # Lexical-only candidates lack a cosine: their stored vectors give it without encoding anything.
            for work_id, vector in self.vectors.get(missing).items():
                similarity[self.corpus.position[work_id]] = float(vector @ query_vector)
        except VectorStoreUnavailable as exc:
            log.warning("%s; answering from lexical candidates re-ranked by encoding them now", exc)
            similarity = self.encoded_similarity(query_vector, list(lexical)[:FALLBACK_CANDIDATES])
        best_lexical = max(lexical.values(), default=1.0)
        alpha = self.dense_weight
        fused = {
            doc: alpha * similarity.get(doc, 0.0) + (1 - alpha) * lexical.get(doc, 0.0) / best_lexical
            for doc in similarity.keys() | lexical.keys()
        }
        hits = [Hit(doc, 1.0, 1.0, exact=True) for doc in exact_docs]
        for doc, score in sorted(fused.items(), key=lambda item: -item[1]):
            if len(hits) >= k:
                break
            if doc not in exact_docs:
                hits.append(Hit(doc, score, similarity.get(doc, 0.0)))
        return hits

    def encoded_similarity(self, query_vector: np.ndarray, docs: list[int]) -> dict[int, float]:
        """Cosines computed from the works' text, for when the vector store is down: slower, same meaning."""
        if not docs:
            return {}
        texts = [f"{self.corpus.titles[d].rstrip('.')}. {self.corpus.descriptions[d]}" for d in docs]
        return {doc: float(v @ query_vector) for doc, v in zip(docs, self.embedder.encode(texts), strict=True)}


def best_sentence(corpus: CorpusIndex, doc: int, query: str) -> str | None:
    """The sentence of a work's abstract or summary that shares the most informative terms with the query."""
    text = corpus.descriptions[doc]
    if not text:
        return None
    sentences = [s.strip() for s in _SENTENCE_SPLIT.split(text) if len(s.strip()) > 20] or [text.strip()]
    query_stems = corpus.full.stems(query)
    idf = corpus.full.idf(query_stems)
    best, best_score = sentences[0], -1.0
    for sentence in sentences:
        overlap = query_stems & corpus.full.stems(sentence)
        score = sum(idf.get(s, 0.0) for s in overlap)
        if score > best_score:
            best, best_score = sentence, score
    return best if len(best) <= 300 else best[:297].rstrip() + "…"

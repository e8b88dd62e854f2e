"""Hybrid related-work search: exact ids and links first, then BM25 and dense cosine fused by rank.

Reciprocal-rank fusion is used because BM25 scores and cosine similarities live on different scales;
ranks do not. Dense similarity is kept alongside, because it is what says whether anything found is
really about the question (`confident`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from bot.embedding import Embedder
from bot.identifiers import exact_keys_in
from bot.retrieval.corpus import CorpusIndex
from bot.storage import VectorStore

_SENTENCE_SPLIT = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9\"'(\[])")


@dataclass
class Hit:
    doc: int
    score: float
    similarity: float  # dense cosine to the query; 1.0 for exact id or link matches
    exact: bool = False


@dataclass(frozen=True)
class FusionWeights:
    lexical: float = 1.0
    dense: float = 1.0
    rrf_k: int = 60


class HybridSearcher:
    def __init__(
        self,
        corpus: CorpusIndex,
        vectors: VectorStore,
        embedder: Embedder,
        pool: int = 100,
        weights: FusionWeights | None = None,
    ) -> None:
        self.corpus = corpus
        self.vectors = vectors
        self.embedder = embedder
        self.pool = pool
        self.weights = weights or FusionWeights()

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
        dense = self.dense(query_vector, self.pool)
        lexical = self.lexical(query, self.pool)
        similarity = dict(dense)
        fused: dict[int, float] = {}
        w = self.weights
        for rank, (doc, _score) in enumerate(lexical):
            fused[doc] = fused.get(doc, 0.0) + w.lexical / (w.rrf_k + rank + 1)
        for rank, (doc, _sim) in enumerate(dense):
            fused[doc] = fused.get(doc, 0.0) + w.dense / (w.rrf_k + rank + 1)
        ranked = sorted(fused.items(), key=lambda item: -item[1])
        hits = [Hit(doc, 1.0, 1.0, exact=True) for doc in exact_docs]
        seen = set(exact_docs)
        missing = [self.corpus.ids[doc] for doc, _ in ranked[: k * 2] if doc not in similarity]
        # Lexical-only hits lack a cosine; fetch their stored vectors so confidence is judged alike.
        for work_id, vector in self.vectors.get(missing).items():
            similarity[self.corpus.position[work_id]] = float(vector @ query_vector)
        for doc, score in ranked:
            if doc not in seen:
                hits.append(Hit(doc, score, similarity.get(doc, 0.0)))
            if len(hits) >= k:
                break
        return hits[:k]


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

"""Fitting the query adapter (bot/retrieval/adapter.py), shared by bench/train_adapter.py, which writes it, and
bench/train_fusion.py, which trains the fusion on adapted features computed out of fold.

The adapter (I + A) minimises, for each question, the softmax cross-entropy of its gold works among all the
knowledge base's works (mapped cosine × TEMPERATURE), plus λ‖A‖²; the agendas weigh as much together as the
other questions (mentions, titles) together. The works alignment_core.jsonl holds only as Shallow Review gold
(LessWrong posts and other web pages: every `lw:` and `url:` record there is some agenda's gold) are left out of
the softmax, as gold and as negatives: with them in, the adapter learns to prefer pages like those, a prior of
how the benchmark corpus was built, not of the question (README, "Query adapter"). For the same reason the softmax
has one more parameter while fitting, a logit added to every work without an abstract, which is then dropped:
such works are three times as likely to be gold in that corpus, and without it the map learns to move questions
toward them (README, "Title-only gold").
"""

from __future__ import annotations

import numpy as np
import torch
from quality import without_abstract

from bot.engine import Engine
from bot.retrieval.adapter import QueryAdapter
from bot.retrieval.fusion import FEATURES
from bot.retrieval.search import query_vector_of

STRENGTH = 1.0  # λ, chosen by bench/train_adapter.py --cv (1 and 3 measured; README)
TEMPERATURE = 20.0  # cosines × this are the softmax's logits: MiniLM's cosines of related texts differ by ~0.1
STEPS = 300
LEARNING_RATE = 0.01
ADAPTED = [FEATURES.index("adapted_cosine"), FEATURES.index("adapted_gap")]
BENCHMARK_ONLY = ("id:lw:", "id:url:")  # id prefixes of the records the core corpus holds only as gold


class Works:
    """What fitting needs of a knowledge base: every work's stored vector in document order (zeros for a work
    without one) and which works stay out of the softmax."""

    def __init__(self, engine: Engine) -> None:
        corpus = engine.corpus
        found = engine.searcher.vectors.get(list(corpus.ids))
        self.vectors = np.zeros((len(corpus), engine.embedder.dimension), dtype=np.float32)
        for doc, work_id in enumerate(corpus.ids):
            if work_id in found:
                self.vectors[doc] = found[work_id]
        self.left_out = np.zeros(len(corpus), dtype=bool)
        for key, work_id in corpus.keys.items():
            if key.startswith(BENCHMARK_ONLY) and work_id in corpus.position:
                self.left_out[corpus.position[work_id]] = True
        self.title_only = without_abstract(corpus).astype(np.float32)
        self.engine = engine

    def question_vector(self, text: str) -> np.ndarray:
        """The vector `HybridSearcher.candidates` compares: of the question after acronym expansion."""
        searcher = self.engine.searcher
        return np.asarray(query_vector_of(searcher.embedder, searcher.expander.expand(text)), dtype=np.float32)

    def fit(self, queries: list[dict], strength: float = STRENGTH) -> np.ndarray:
        """(I + A) fitted on `queries` (train_fusion.rows dicts: their text, gold works and whether an agenda)."""
        left_out = set(np.flatnonzero(self.left_out))
        kept = [(q, sorted(q["gold_docs"] - left_out)) for q in queries]
        kept = [(q, gold) for q, gold in kept if gold]
        share = {kind: sum(q["agenda"] == kind for q, _ in kept) for kind in (True, False)}
        pairs = [(row, doc, 1 / len(gold) / share[q["agenda"]]) for row, (q, gold) in enumerate(kept) for doc in gold]
        asked = torch.tensor(np.stack([self.question_vector(q["text"]) for q, _ in kept]))
        rows, docs = torch.tensor([p[0] for p in pairs]), torch.tensor([p[1] for p in pairs])
        weights = torch.tensor([p[2] for p in pairs], dtype=torch.float32)
        works = torch.tensor(self.vectors)
        excluded = torch.tensor(np.where(self.left_out, -1e4, 0.0), dtype=torch.float32)
        title_only = torch.tensor(self.title_only)
        dimension = works.shape[1]
        change = torch.zeros(dimension, dimension, requires_grad=True)
        title_only_prior = torch.zeros(1, requires_grad=True)  # fitted, then dropped (see the module's docstring)
        optimiser = torch.optim.Adam([change, title_only_prior], lr=LEARNING_RATE)
        for _ in range(STEPS):
            optimiser.zero_grad()
            mapped = asked + asked @ change.T
            mapped = mapped / mapped.norm(dim=1, keepdim=True)
            logits = TEMPERATURE * mapped @ works.T + excluded + title_only_prior * title_only
            log_p = torch.log_softmax(logits, dim=1)
            loss = -(log_p[rows, docs] * weights).sum() + strength * (change**2).sum()
            loss.backward()
            optimiser.step()
        return (torch.eye(dimension) + change).detach().numpy()

    def adapted(self, query: dict, matrix: np.ndarray) -> dict:
        """The query's rows with the adapted features computed by `matrix`."""
        cosines = self.vectors[query["docs"]] @ QueryAdapter(matrix, "").apply(self.question_vector(query["text"]))
        rows = query["matrix"].copy()
        rows[:, ADAPTED[0]], rows[:, ADAPTED[1]] = cosines, cosines - cosines.max()
        return {**query, "matrix": rows}

    def out_of_fold(self, queries: list[dict], fold_of: dict[str, int], strength: float = STRENGTH) -> list[dict]:
        """Every query's adapted features computed by an adapter fitted without its fold, as a question the
        shipped adapter never saw gets them. A query outside every fold (csfcube's, from another knowledge
        base) keeps its rows."""
        result = {id(q): q for q in queries}
        for fold in sorted(set(fold_of.values())):
            matrix = self.fit([q for q in queries if fold_of.get(q["group"], fold) != fold], strength)
            for q in queries:
                if fold_of.get(q["group"]) == fold:
                    result[id(q)] = self.adapted(q, matrix)
        return [result[id(q)] for q in queries]

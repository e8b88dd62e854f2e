"""Does the whole abstract count? Passage vectors measured against the one 128-token vector per work.

Each work's vector covers its title, aliases, summary and the start of its abstract (128 tokens). Here every
abstract is also cut into sentence-aligned chunks of about CHUNK_WORDS words, each embedded after the title
("title. chunk"), and a work's dense score becomes the best of its vector and its passages. The fixed fusion
and the learned one re-rank the same candidates with that score in place of the cosine; the agenda queries
are scored as in bench/quality.py. Printed: passages embedded, the time it took, and recall/MRR with and
without passages.

Usage: python bench/passages.py [--data-dir DIR]
"""

from __future__ import annotations

import argparse
import re
import time
from pathlib import Path

import numpy as np
from quality import AGENDAS, heldout, load_jsonl, open_bench_engine, per_query

from bot.retrieval.fusion import FEATURES, LinearFusion, default_fusion

CHUNK_WORDS = 90
_SENTENCE = re.compile(r"(?<=[.!?])\s+")


def chunks(text: str) -> list[str]:
    """Sentence-aligned pieces of about CHUNK_WORDS words (a sentence longer than that is one piece)."""
    pieces, current = [], []
    for sentence in _SENTENCE.split(text):
        words = sentence.split()
        if current and len(current) + len(words) > CHUNK_WORDS:
            pieces.append(" ".join(current))
            current = []
        current.extend(words)
    if current:
        pieces.append(" ".join(current))
    return pieces


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data-dir", type=Path, default=Path(__file__).parent / "results" / "core-kb")
    args = parser.parse_args()
    engine = open_bench_engine(args.data_dir)
    corpus, searcher = engine.corpus, engine.searcher
    owners, texts = [], []
    for doc in range(len(corpus)):
        # The first chunk is (mostly) in the work's own vector already; the rest is what it drops.
        for piece in chunks(corpus.descriptions[doc])[1:]:
            owners.append(doc)
            texts.append(f"{corpus.titles[doc].rstrip('.')}. {piece}")
    start = time.perf_counter()
    vectors = engine.embedder.encode(texts)
    seconds = time.perf_counter() - start
    owner = np.array(owners)
    print(f"{len(texts)} extra passages for {len(set(owners))} of {len(corpus)} works, embedded in {seconds:.0f} s")

    keys, position = corpus.keys, corpus.position
    queries, gold, held = [], [], []
    for agenda in load_jsonl(AGENDAS):
        wanted = {position[keys[f"id:{g}"]] for g in agenda["gold_ids"] if keys.get(f"id:{g}") in position}
        if wanted:
            queries.append(agenda["query"])
            gold.append(wanted)
            held.append(heldout(agenda["query_id"]))
    cosine = FEATURES.index("cosine")
    fusions = {"fixed": LinearFusion.fixed(engine.settings.dense_weight), "learned": default_fusion(0.88)}
    ranked: dict[str, list[list[int]]] = {f"{n} {p}": [] for n in fusions for p in ("vector", "passages")}
    for query in queries:
        docs, _, matrix = searcher.candidates(query)
        query_vector = engine.embedder.encode([searcher.expander.expand(query)])[0]
        passage_scores = vectors @ query_vector
        best = {}
        for doc, score in zip(owner, passage_scores, strict=True):
            best[doc] = max(best.get(doc, -1.0), float(score))
        with_passages = matrix.copy()
        passage_best = np.array([best.get(doc, -1.0) for doc in docs])
        with_passages[:, cosine] = np.maximum(matrix[:, cosine], passage_best)
        for name, fusion in fusions.items():
            for label, features in (("vector", matrix), ("passages", with_passages)):
                order = np.argsort(-fusion.score(features), kind="stable")[:20]
                ranked[f"{name} {label}"].append([docs[i] for i in order])
    mask = np.array(held)
    print(f"{'ranking':20} {'recall@5':>9} {'recall@20':>10} {'MRR':>7}   held-out: recall@5  MRR")
    for name, lists in ranked.items():
        scores = per_query([[str(d) for d in docs] for docs in lists], [{str(g) for g in gs} for gs in gold])
        print(
            f"{name:20} {scores['recall@5'].mean():9.3f} {scores['recall@20'].mean():10.3f} "
            f"{scores['MRR'].mean():7.3f}   {scores['recall@5'][mask].mean():18.3f} {scores['MRR'][mask].mean():5.3f}"
        )
    engine.close()


if __name__ == "__main__":
    main()

"""Retrieval quality over ../shared/data/kb/alignment_core.jsonl, side by side with plain BM25 and dense.

- Agenda queries (76, Shallow Review 2025): recall@5, recall@20 and MRR against gold ids in the corpus.
- Informal link mentions: anchor text -> target, top-1 accuracy over pairs whose target is in the corpus.

Baselines use the same corpus and the same stored vectors: plain BM25 over title + abstract, and plain
dense cosine. Usage: python bench/quality.py [--data-dir DIR] (ingests the corpus on first use).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from bot.engine import Engine
from bot.retrieval.lexical import LexicalIndex
from bot.settings import Settings

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
CORE = SHARED / "kb" / "alignment_core.jsonl"
AGENDAS = SHARED / "shallow_review_2025_ai_safety" / "agenda_queries.jsonl"
MENTIONS = SHARED / "shallow_review_2025_ai_safety" / "informal_link_mentions.jsonl"


def open_bench_engine(data_dir: Path) -> Engine:
    """An engine over the corpus alone (no bundled reading list), ingested once and reused."""
    settings = Settings(
        data_dir=data_dir, load_bundled_knowledge=False, database_url=None, chroma_host=None, llm_provider=None
    )
    engine = Engine.open(settings)
    report = engine.ingest([CORE])
    if report.added:
        print(f"ingested {report.added} works into {data_dir}", file=sys.stderr)
    return engine


def load_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.open(encoding="utf-8") if line.strip()]


def metrics(ranked: list[list[str]], gold: list[set[str]]) -> dict[str, float]:
    r5 = r20 = mrr = 0.0
    for ids, wanted in zip(ranked, gold, strict=True):
        r5 += len(wanted & set(ids[:5])) / len(wanted)
        r20 += len(wanted & set(ids[:20])) / len(wanted)
        mrr += next((1 / (i + 1) for i, x in enumerate(ids) if x in wanted), 0.0)
    n = len(ranked)
    return {"recall@5": r5 / n, "recall@20": r20 / n, "MRR": mrr / n}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data-dir", type=Path, default=Path(__file__).parent / "results" / "core-kb")
    args = parser.parse_args()
    engine = open_bench_engine(args.data_dir)
    corpus = engine.corpus
    to_work = corpus.keys  # "id:<corpus id>" -> merged work id

    def work_of(corpus_id: str) -> str | None:
        return to_work.get(f"id:{corpus_id}")

    plain_bm25 = LexicalIndex([f"{corpus.titles[d]} {corpus.descriptions[d]}" for d in range(len(corpus))])

    def bm25_ids(query: str, n: int) -> list[str]:
        return [corpus.ids[d] for d, _ in plain_bm25.search(query, n)]

    def dense_ids(query: str, n: int) -> list[str]:
        vector = engine.embedder.encode([query])[0]
        return [work_id for work_id, _ in engine.vectors.query(vector, n)]

    def engine_ids(query: str, n: int) -> list[str]:
        return [w.id for w in engine.ask(query, k=n).results]

    agendas = load_jsonl(AGENDAS)
    queries, gold = [], []
    for agenda in agendas:
        wanted = {w for w in (work_of(g) for g in agenda["gold_ids"]) if w}
        if wanted:
            queries.append(agenda["query"])
            gold.append(wanted)
    methods = {"plain BM25": bm25_ids, "plain dense": dense_ids, "alignbot hybrid": engine_ids}
    agenda_results = {name: metrics([fn(q, 20) for q in queries], gold) for name, fn in methods.items()}

    mentions = [m for m in load_jsonl(MENTIONS) if work_of(m["target_id"])]
    pairs = list(dict.fromkeys((m["anchor_text"], work_of(m["target_id"])) for m in mentions))

    def top1(fn) -> float:  # type: ignore[no-untyped-def]
        return sum(1 for anchor, target in pairs if fn(anchor)[:1] == [target]) / len(pairs)

    mention_results = {
        "plain BM25": top1(lambda a: bm25_ids(a, 1)),
        "plain dense": top1(lambda a: dense_ids(a, 1)),
        "alignbot hybrid": top1(lambda a: [m.id] if (m := engine.cite(a).match) else []),
    }

    print(
        f"corpus: {len(corpus)} works; agenda queries with gold in corpus: {len(queries)}; "
        f"distinct mention pairs: {len(pairs)}"
    )
    print(f"{'method':18} {'recall@5':>9} {'recall@20':>10} {'MRR':>7} {'mention top-1':>14}")
    for name in methods:
        m = agenda_results[name]
        print(f"{name:18} {m['recall@5']:9.3f} {m['recall@20']:10.3f} {m['MRR']:7.3f} {mention_results[name]:14.3f}")
    ours = agenda_results["alignbot hybrid"]
    beats = all(
        ours[metric] > agenda_results[base][metric] for base in ("plain BM25", "plain dense") for metric in ours
    ) and all(mention_results["alignbot hybrid"] > mention_results[b] for b in ("plain BM25", "plain dense"))
    print(f"alignbot beats both baselines on every metric: {'yes' if beats else 'NO'}")


if __name__ == "__main__":
    main()

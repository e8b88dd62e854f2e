"""Retrieval quality over ../shared/data/kb/alignment_core.jsonl (or the 51k works), beside plain BM25 and dense.

- Agenda queries (76, Shallow Review 2025): recall@5, recall@20 and MRR against gold ids in the corpus.
- Informal link mentions: anchor text -> target, top-1 accuracy over pairs whose target is in the corpus, via
  `cite` with the anchor alone and with the agenda it was written in as the thread (`cite`'s `context`).

Baselines use the same corpus and the same stored vectors: plain BM25 over title + abstract, and plain
dense cosine. Each difference to a baseline is printed with a 95 % bootstrap interval over queries (76 are
few). The learned fusion (bench/train_fusion.py) never trains on the held-out third of the agendas
(`heldout`), so that third is also reported alone. Each agenda table is printed three times: as labelled; "as of
the Review", with the works dated after the Review's snapshot left out of every ranking before it is cut
(condensed lists, Sakai 2007): its editors could not list them, so where they rank is unjudged, not wrong; and
as of the Review over the works with an abstract, the title-only ones also left out of rankings and gold (the
corpus's title-only works are three times as likely to be gold: there, ranking them up gains nothing).
--levers adds one row per retrieval lever, switched on one at a time: fixed fusion without expansion (the old
ranking), + acronym expansion, + learned fusion.

Usage: python bench/quality.py [--data-dir DIR] [--corpus RECORDS] [--levers [--weights NAME=PATH ...]] [--latency]
(ingests the corpus on first use; --corpus ../shared/data/kb/alignment_kb.jsonl.gz measures at 51k works).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import time
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from bot.engine import Engine
from bot.identifiers import normalize_text
from bot.retrieval.corpus import CorpusIndex
from bot.retrieval.fusion import FEATURES, LinearFusion, default_fusion
from bot.retrieval.lexical import LexicalIndex
from bot.retrieval.search import query_vector_of
from bot.settings import Settings

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
CORE = SHARED / "kb" / "alignment_core.jsonl"
FULL = SHARED / "kb" / "alignment_kb.jsonl.gz"  # the 51k-record knowledge base
AGENDAS = SHARED / "shallow_review_2025_ai_safety" / "agenda_queries.jsonl"
MENTIONS = SHARED / "shallow_review_2025_ai_safety" / "informal_link_mentions.jsonl"
QUESTIONS = Path(__file__).parent / "confidence_questions.jsonl"


def open_bench_engine(data_dir: Path, corpus: Path = CORE) -> Engine:
    """An engine over one corpus alone (no bundled reading list), ingested once and reused."""
    settings = Settings(
        data_dir=data_dir, load_bundled_knowledge=False, database_url=None, chroma_host=None, llm_provider=None
    )
    engine = Engine.open(settings)
    report = engine.ingest([corpus])
    if report.added:
        print(f"ingested {report.added} works into {data_dir}", file=sys.stderr)
    return engine


def load_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.open(encoding="utf-8") if line.strip()]


LABEL_FIXES_FILE = Path(__file__).parent / "mention_label_fixes.jsonl"
# Anchors whose link points at another paper than the one they name by its exact title (the file says which).
LABEL_FIXES = {fix["anchor_text"]: fix for fix in load_jsonl(LABEL_FIXES_FILE)}


def corrected_pairs(pairs: list[tuple[str, str]], corpus: CorpusIndex) -> list[tuple[str, str]]:
    """The mention pairs with each mislabelled link replaced by the work its anchor names, or left out when
    that work is not in the corpus (as any pair whose target is not in the corpus is)."""
    by_title = {title: doc for doc, title in enumerate(corpus.norm_titles)}
    fixed = []
    for anchor, target in pairs:
        if anchor in LABEL_FIXES:
            doc = by_title.get(normalize_text(LABEL_FIXES[anchor]["names_title"]))
            if doc is None:
                continue
            target = corpus.ids[doc]
        fixed.append((anchor, target))
    return fixed


# The Shallow Review's repository snapshot is of 2025-12-12: no work first posted later can be its gold (none of
# the 685 outputs is). Every record dated after 2025 in both corpora has an arXiv id of 2601 or later (checked
# 2026-12-07), so the year says it; December 2025's works are kept, as the editors may have seen them.
REVIEW_YEAR = 2025
LIST_DEPTH = 200  # ranked this deep, so that a list still has 20 judged works once the unjudged are left out


def after_review(corpus: CorpusIndex) -> frozenset[int]:
    """The documents dated after the Review's snapshot: where they rank, its gold says nothing."""
    return frozenset(doc for doc, year in enumerate(corpus.years) if year and year > REVIEW_YEAR)


def without_abstract(corpus: CorpusIndex, docs: Iterable[int] | None = None) -> np.ndarray:
    """Per document (all, or `docs`), whether it is title-only: in the benchmark corpus such works are three times
    as likely to be agenda gold (the Review's outputs were added without abstracts), a trait of how it was built."""
    texts = corpus.descriptions if docs is None else (corpus.descriptions[doc] for doc in docs)
    return np.array([not text.strip() for text in texts], dtype=bool)


def judged_view(
    rankings: dict[str, list[list[str]]], gold: list[set[str]], unjudged: set[str]
) -> tuple[dict[str, dict[str, np.ndarray]], np.ndarray]:
    """Each method's per-query metrics with the `unjudged` works left out of its rankings and of the gold
    (condensed lists), over the queries with gold left; and which queries those are."""
    wanted = [g - unjudged for g in gold]
    has_gold = np.array([bool(g) for g in wanted])
    scores = {}
    for name, ranked in rankings.items():
        kept = [[i for i in ids if i not in unjudged][:20] for ids, w in zip(ranked, wanted, strict=True) if w]
        if short := sum(len(ids) < 20 for ids in kept):
            print(f"warning: {name}: {short} lists hold fewer than 20 works; raise LIST_DEPTH", file=sys.stderr)
        scores[name] = per_query(kept, [w for w in wanted if w])
    return scores, has_gold


def heldout(agenda_id: str) -> bool:
    """The third of the agendas no learned component is ever fitted or tuned on (stable across runs)."""
    return hashlib.sha256(agenda_id.encode()).digest()[0] % 3 == 0


def weights_from(path: Path) -> LinearFusion:
    """A fusion weight file, also one written for fewer features (an earlier version's): those it lacks get
    weight 0, so it ranks as it did."""
    data = json.loads(path.read_text(encoding="utf-8"))
    weights, mean, scale = np.zeros(len(FEATURES)), np.zeros(len(FEATURES)), np.ones(len(FEATURES))
    for n, name in enumerate(data["features"]):
        at = FEATURES.index(name)
        weights[at], mean[at], scale[at] = data["weights"][n], data["mean"][n], data["scale"][n]
    return LinearFusion(FEATURES, weights, mean, scale, float(data["bias"]))


def per_query(ranked: list[list[str]], gold: list[set[str]]) -> dict[str, np.ndarray]:
    """Each metric per query (recall@5, recall@20, reciprocal rank)."""
    r5, r20, rr = [], [], []
    for ids, wanted in zip(ranked, gold, strict=True):
        r5.append(len(wanted & set(ids[:5])) / len(wanted))
        r20.append(len(wanted & set(ids[:20])) / len(wanted))
        rr.append(next((1 / (i + 1) for i, x in enumerate(ids) if x in wanted), 0.0))
    return {"recall@5": np.array(r5), "recall@20": np.array(r20), "MRR": np.array(rr)}


def metrics(ranked: list[list[str]], gold: list[set[str]]) -> dict[str, float]:
    return {name: float(values.mean()) for name, values in per_query(ranked, gold).items()}


def bootstrap_interval(differences: np.ndarray, rounds: int = 2000, seed: int = 13) -> tuple[float, float]:
    """95 % percentile bootstrap interval of the mean of per-query differences."""
    rng = np.random.default_rng(seed)
    means = differences[rng.integers(0, len(differences), (rounds, len(differences)))].mean(axis=1)
    return float(np.percentile(means, 2.5)), float(np.percentile(means, 97.5))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data-dir", type=Path, default=Path(__file__).parent / "results" / "core-kb")
    parser.add_argument(
        "--corpus",
        type=Path,
        default=CORE,
        help=f"the knowledge base's records (default the core {CORE.name}; {FULL.name} for the 51k works)",
    )
    parser.add_argument("--levers", action="store_true", help="one row per retrieval lever, added one at a time")
    parser.add_argument("--latency", action="store_true", help="also time warm `ask` (k=5) against the old ranking")
    parser.add_argument(
        "--weights",
        nargs="*",
        default=[],
        metavar="NAME=PATH",
        help="with --levers, a row per other fusion weight file (one trained on fewer features scores the others 0)",
    )
    args = parser.parse_args()
    engine = open_bench_engine(args.data_dir, args.corpus)
    corpus, searcher = engine.corpus, engine.searcher
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
        # The search `ask` ranks by (its `k` stops at 50; the lists as of the Review need more).
        return [corpus.ids[hit.doc] for hit in searcher.search(query, n)]

    agendas = load_jsonl(AGENDAS)
    queries, gold, held = [], [], []
    for agenda in agendas:
        wanted = {w for w in (work_of(g) for g in agenda["gold_ids"]) if w}
        if wanted:
            queries.append(agenda["query"])
            gold.append(wanted)
            held.append(heldout(agenda["query_id"]))
    held_mask = np.array(held)
    methods = {"plain BM25": bm25_ids, "plain dense": dense_ids}
    if args.levers:
        fixed, learned = LinearFusion.fixed(engine.settings.dense_weight), default_fusion(engine.settings.dense_weight)
        levers = {"fixed fusion (old)": (fixed, False), "+ acronym expansion": (fixed, True)}
        for spec in args.weights:
            name, _, path = spec.partition("=")
            levers[name] = (weights_from(Path(path)), True)
        for name, (fusion, expand) in levers.items():

            def lever_ids(query: str, n: int, fusion: LinearFusion = fusion, expand: bool = expand) -> list[str]:
                searcher.fusion, searcher.expand_acronyms = fusion, expand
                try:
                    return engine_ids(query, n)
                finally:
                    searcher.fusion, searcher.expand_acronyms = learned, True

            methods[name] = lever_ids
    methods["alignbot hybrid"] = engine_ids
    rankings = {name: [fn(q, LIST_DEPTH) for q in queries] for name, fn in methods.items()}
    later = {corpus.ids[doc] for doc in after_review(corpus)}
    title_only = {corpus.ids[doc] for doc in np.flatnonzero(without_abstract(corpus))}
    views = {
        "as labelled": judged_view(rankings, gold, set()),
        f"as of the Review ({len(later)} later works left out)": judged_view(rankings, gold, later),
        # Here a ranking gains nothing by putting the title-only works first (`without_abstract`).
        f"as of the Review, works with an abstract ({len(title_only - later)} title-only works also left out)": (
            judged_view(rankings, gold, later | title_only)
        ),
    }
    agenda_scores = views["as labelled"][0]

    mentions = [m for m in load_jsonl(MENTIONS) if work_of(m["target_id"])]
    pairs = list(dict.fromkeys((m["anchor_text"], work_of(m["target_id"])) for m in mentions))

    corrected = corrected_pairs(pairs, corpus)

    def top1(fn, pairs: list[tuple[str, str]] = pairs) -> float:  # type: ignore[no-untyped-def]
        return sum(1 for anchor, target in pairs if fn(anchor)[:1] == [target]) / len(pairs)

    # Each link was written in an agenda's entry: that agenda ("name: summary") is the thread it was written in.
    agenda_text = {a["query_id"]: a["query"] for a in agendas}
    thread_of: dict[str, str] = {}
    for m in mentions:
        thread_of.setdefault(m["anchor_text"], agenda_text.get(m["item_id"], m["item_name"]))
    mention_methods = {
        "plain BM25": lambda a: bm25_ids(a, 1),
        "plain dense": lambda a: dense_ids(a, 1),
        "alignbot hybrid": lambda a: [m.id] if (m := engine.cite(a).match) else [],
        "alignbot, in its thread": lambda a: [m.id] if (m := engine.cite(a, context=[thread_of[a]]).match) else [],
    }
    mention_results = {name: top1(fn) for name, fn in mention_methods.items()}
    corrected_results = {name: top1(fn, corrected) for name, fn in mention_methods.items()}

    print(
        f"corpus: {len(corpus)} works; agenda queries with gold in corpus: {len(queries)} "
        f"({int(held_mask.sum())} held out); distinct mention pairs: {len(pairs)}"
    )
    splits = (("all agendas", np.ones_like(held_mask)), ("held-out agendas", held_mask))
    others = ("fixed fusion (old)", *(spec.partition("=")[0] for spec in args.weights)) if args.levers else ()
    for judged, (scores, has_gold) in views.items():
        for split, in_split in splits:
            mask = in_split[has_gold]
            print(f"\n{split}, {judged}{'' if has_gold.all() else f'; {int(mask.sum())} with gold left'}:")
            print(f"{'method':22} {'recall@5':>9} {'recall@20':>10} {'MRR':>7} {'mention top-1':>14}")
            for name in methods:
                m = {metric: values[mask].mean() for metric, values in scores[name].items()}
                mention = f"{mention_results[name]:14.3f}" if name in mention_results else f"{'':14}"
                print(f"{name:22} {m['recall@5']:9.3f} {m['recall@20']:10.3f} {m['MRR']:7.3f} {mention}")
            ours = scores["alignbot hybrid"]
            for base in ("plain BM25", "plain dense", *others):
                cells = []
                for metric in ours:
                    difference = (ours[metric] - scores[base][metric])[mask]
                    low, high = bootstrap_interval(difference)
                    cells.append(f"{metric} {difference.mean():+.3f} [{low:+.3f}, {high:+.3f}]")
                print(f"  alignbot - {base:18}: " + "; ".join(cells))
    print(
        f"\ntitle-only works among the first 20, as labelled ({len(title_only) / len(corpus):.3f} of the corpus): "
        + ", ".join(
            f"{name} {np.mean([sum(i in title_only for i in ids[:20]) / 20 for ids in ranked]):.3f}"
            for name, ranked in rankings.items()
        )
    )
    ours_mean = {metric: values.mean() for metric, values in agenda_scores["alignbot hybrid"].items()}
    beats = all(
        ours_mean[metric] > agenda_scores[base][metric].mean()
        for base in ("plain BM25", "plain dense")
        for metric in ours_mean
    ) and all(mention_results["alignbot hybrid"] > mention_results[b] for b in ("plain BM25", "plain dense"))
    print(
        f"\nmention top-1 as labelled ({len(pairs)} pairs): "
        + ", ".join(f"{name} {value:.3f}" for name, value in mention_results.items())
        + "\n  'in its thread': `cite` given the agenda the link was written in (name: summary) as the thread"
    )
    print(
        f"mention top-1 with the links of {len(LABEL_FIXES)} anchors corrected ({LABEL_FIXES_FILE.name}; "
        f"{len(corrected)} pairs): " + ", ".join(f"{name} {value:.3f}" for name, value in corrected_results.items())
    )
    print(f"\nalignbot beats both baselines on every metric (all agendas): {'yes' if beats else 'NO'}")
    if args.latency:
        questions = [*queries, *(json.loads(line)["question"] for line in QUESTIONS.open(encoding="utf-8"))]
        fixed, learned = LinearFusion.fixed(engine.settings.dense_weight), searcher.fusion
        rankings = [("old ranking", fixed, False), ("alignbot hybrid", learned, True)]
        timings: dict[str, list[float]] = {name: [] for name, _, _ in rankings}
        for question in questions[:10]:  # warm
            engine.ask(question, k=5)
        # The two rankings take turns question by question (the machine's load then weighs on both alike),
        # and every timed question is encoded, as one never asked before.
        for n, question in enumerate(questions):
            for name, fusion, expand in rankings if n % 2 == 0 else rankings[::-1]:
                searcher.fusion, searcher.expand_acronyms = fusion, expand
                query_vector_of.cache_clear()
                start = time.perf_counter()
                engine.ask(question, k=5)
                timings[name].append((time.perf_counter() - start) * 1000)
        searcher.fusion, searcher.expand_acronyms = learned, True
        for name, values in timings.items():
            p50, p95 = np.percentile(values, [50, 95])
            print(f"warm ask over {len(values)} questions, {name:16}: p50 {p50:.0f} ms, p95 {p95:.0f} ms")


if __name__ == "__main__":
    main()

"""Trains the learned fusion (bot/retrieval/fusion_weights.json) on public data only, cross-validated.

Training queries: the agenda queries of the Shallow Review 2025 (../shared/data/shallow_review_2025_ai_safety/)
outside the held-out third (`quality.heldout`, by a hash of the agenda id; never used here), and, with
--mentions, the informal link mentions whose agenda is not held out (anchor text -> the linked work). Every
candidate `HybridSearcher.candidates` returns for a query is a row (the features the product computes);
rows are labelled by whether the work is gold, and weighted so each query counts once. The model is an
L2-regularised logistic regression; its strength is chosen by 5-fold cross-validation grouped by agenda
(mentions follow their agenda's fold), scored by MRR over the validation agendas.

Printed: cross-validated recall@5 / MRR of the fixed fusion and the learned one per regularisation strength.
The chosen weights are written with their provenance. The held-out agendas are scored by bench/quality.py.

Usage: python bench/train_fusion.py [--data-dir DIR] [--mentions] [--write [--out PATH]] [--compare FEATURE ...]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
from quality import AGENDAS, MENTIONS, bootstrap_interval, heldout, load_jsonl, open_bench_engine
from sklearn.linear_model import LogisticRegression

from bot.retrieval.fusion import FEATURES, WEIGHTS_PATH, LinearFusion

FOLDS = 5
STRENGTHS = (0.01, 0.1, 1.0, 10.0)
REPEATS = 3  # fold assignments averaged by --compare: one split of 54 agendas is a noisy estimate


def ranking_metrics(scores: np.ndarray, labels: np.ndarray, total_gold: int) -> tuple[float, float]:
    """(recall@5, reciprocal rank) of one query's candidates; gold never retrieved counts as missed."""
    order = np.argsort(-scores, kind="stable")
    ranked = labels[order]
    recall5 = ranked[:5].sum() / total_gold
    first = np.flatnonzero(ranked)
    return float(recall5), float(1 / (first[0] + 1)) if len(first) else 0.0


def fit(queries: list[dict], strength: float, used: list[int]) -> LinearFusion:
    """Logistic regression on the `used` feature columns; the others get weight 0."""
    matrix = np.vstack([q["matrix"] for q in queries])
    labels = np.concatenate([q["labels"] for q in queries])
    weights = np.concatenate([np.full(len(q["labels"]), 1 / len(q["labels"])) for q in queries])
    mean, scale = np.zeros(len(FEATURES)), np.ones(len(FEATURES))
    mean[used], scale[used] = matrix[:, used].mean(axis=0), matrix[:, used].std(axis=0)
    scale[scale == 0] = 1.0
    model = LogisticRegression(C=strength, max_iter=2000)
    model.fit(((matrix - mean) / scale)[:, used], labels, sample_weight=weights * len(queries))
    coefficients = np.zeros(len(FEATURES))
    coefficients[used] = model.coef_[0]
    return LinearFusion(FEATURES, coefficients, mean, scale, float(model.intercept_[0]))


def evaluate(queries: list[dict], fusion: LinearFusion) -> tuple[float, float]:
    results = [ranking_metrics(fusion.score(q["matrix"]), q["labels"], q["gold"]) for q in queries if q["agenda"]]
    return float(np.mean([r[0] for r in results])), float(np.mean([r[1] for r in results]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data-dir", type=Path, default=Path(__file__).parent / "results" / "core-kb")
    parser.add_argument("--mentions", action="store_true", help="also train on informal link mentions")
    parser.add_argument("--write", action="store_true", help=f"write the chosen weights to {WEIGHTS_PATH}")
    parser.add_argument("--out", type=Path, default=WEIGHTS_PATH, help="where --write writes (to compare variants)")
    parser.add_argument(
        "--known-items", type=int, default=0, metavar="N", help="also train on N works' titles as queries (seeded)"
    )
    parser.add_argument("--without", nargs="*", default=[], choices=FEATURES, help="features left out (weight 0)")
    parser.add_argument(
        "--compare",
        nargs="+",
        default=[],
        choices=FEATURES,
        help="also cross-validate without these features on the same candidates: per-agenda differences with "
        "95 %% bootstrap intervals (one lever at a time, free of run-to-run noise in the candidates)",
    )
    args = parser.parse_args()
    used = [i for i, name in enumerate(FEATURES) if name not in args.without]
    engine = open_bench_engine(args.data_dir)
    searcher, keys = engine.searcher, engine.corpus.keys
    position = engine.corpus.position

    def gold_docs(ids: list[str]) -> set[int]:
        return {position[keys[f"id:{i}"]] for i in ids if f"id:{i}" in keys and keys[f"id:{i}"] in position}

    def rows(text: str, gold: set[int], group: str, agenda: bool) -> dict | None:
        if not gold:
            return None
        docs, _, matrix = searcher.candidates(text)
        labels = np.array([doc in gold for doc in docs], dtype=float)
        return {"matrix": matrix, "labels": labels, "gold": len(gold), "group": group, "agenda": agenda}

    queries = []
    for agenda in load_jsonl(AGENDAS):
        if not heldout(agenda["query_id"]):
            queries.append(rows(agenda["query"], gold_docs(agenda["gold_ids"]), agenda["query_id"], True))
    if args.mentions:
        pairs = {(m["anchor_text"], m["target_id"], m["item_id"]) for m in load_jsonl(MENTIONS)}
        for anchor, target, item in sorted(pairs):
            if not heldout(item):
                queries.append(rows(anchor, gold_docs([target]), item, False))
    if args.known_items:
        # Known-item search: a work asked for by its title must come first whatever its year. Works that are
        # gold of a held-out agenda are skipped, so nothing about those agendas is seen.
        held_gold = set().union(*(gold_docs(a["gold_ids"]) for a in load_jsonl(AGENDAS) if heldout(a["query_id"])))
        pool = [d for d in range(len(engine.corpus)) if d not in held_gold]
        for doc in np.random.default_rng(13).choice(pool, size=args.known_items, replace=False):
            queries.append(rows(engine.corpus.titles[doc].lower(), {int(doc)}, f"title:{doc}", False))
    queries = [q for q in queries if q is not None]
    groups = sorted({q["group"] for q in queries})
    fold_of = {group: n % FOLDS for n, group in enumerate(groups)}
    print(
        f"training queries: {sum(q['agenda'] for q in queries)} agendas, {sum(not q['agenda'] for q in queries)} "
        f"mentions and titles; {sum(len(q['labels']) for q in queries)} candidate rows"
    )

    def cross_validated(make) -> tuple[float, float]:  # type: ignore[no-untyped-def]
        per_fold = []
        for fold in range(FOLDS):
            train = [q for q in queries if fold_of[q["group"]] != fold]
            test = [q for q in queries if fold_of[q["group"]] == fold]
            per_fold.append((evaluate(test, make(train)), sum(q["agenda"] for q in test)))
        total = sum(n for _, n in per_fold)
        return tuple(sum(m[i] * n for m, n in per_fold) / total for i in range(2))  # type: ignore[return-value]

    print(f"{'model':24} {'CV recall@5':>12} {'CV MRR':>8}")
    fixed = cross_validated(lambda _: LinearFusion.fixed(engine.settings.dense_weight))
    print(f"{'fixed 0.88/0.12':24} {fixed[0]:12.3f} {fixed[1]:8.3f}")
    scored = {}
    for strength in STRENGTHS:
        scored[strength] = cross_validated(lambda train, c=strength: fit(train, c, used))
        print(f"{f'logistic C={strength}':24} {scored[strength][0]:12.3f} {scored[strength][1]:8.3f}")
    best = max(STRENGTHS, key=lambda c: (scored[c][1], scored[c][0]))
    fusion = fit(queries, best, used)
    print("weights (standardised):", {f: round(float(w), 3) for f, w in zip(FEATURES, fusion.weights, strict=True)})
    if args.compare:
        fewer = [i for i in used if FEATURES[i] not in args.compare]

        def per_agenda(columns: list[int]) -> np.ndarray:
            """Recall@5, recall@20 and reciprocal rank of each agenda when its fold is held out, averaged over
            REPEATS assignments of groups to folds (the first the one above, then seeded shuffles)."""
            total: dict[int, np.ndarray] = {}
            for repeat in range(REPEATS):
                order = np.random.default_rng(repeat).permutation(len(groups)) if repeat else range(len(groups))
                folds = {groups[g]: n % FOLDS for n, g in enumerate(order)}
                for fold in range(FOLDS):
                    model = fit([q for q in queries if folds[q["group"]] != fold], best, columns)
                    for n, q in enumerate(queries):
                        if q["agenda"] and folds[q["group"]] == fold:
                            scores = model.score(q["matrix"])
                            recall5, reciprocal = ranking_metrics(scores, q["labels"], q["gold"])
                            top20 = q["labels"][np.argsort(-scores, kind="stable")[:20]]
                            total[n] = total.get(n, 0) + np.array([recall5, top20.sum() / q["gold"], reciprocal])
            return np.array([total[n] / REPEATS for n in sorted(total)])

        with_them, without = per_agenda(used), per_agenda(fewer)
        cells = []
        for column, metric in enumerate(("recall@5", "recall@20", "MRR")):
            difference = with_them[:, column] - without[:, column]
            low, high = bootstrap_interval(difference)
            cells.append(
                f"{metric} {without[:, column].mean():.3f} -> {with_them[:, column].mean():.3f}, "
                f"{difference.mean():+.3f} [{low:+.3f}, {high:+.3f}]"
            )
        print(
            f"CV ({REPEATS} fold assignments) at C={best}, with - without {' '.join(args.compare)}: " + "; ".join(cells)
        )
    if args.write:
        provenance = {
            "trained_by": " ".join(
                [
                    "bench/train_fusion.py",
                    *(["--mentions"] if args.mentions else []),
                    *([f"--known-items {args.known_items}"] if args.known_items else []),
                    *(["--without", *args.without] if args.without else []),
                ]
            ),
            "trained_on": f"{sum(q['agenda'] for q in queries)} agenda queries (held-out third excluded)"
            + (", link mentions" if args.mentions else "")
            + (f", {args.known_items} works' titles" if args.known_items else "")
            + f" ({sum(not q['agenda'] for q in queries)} non-agenda queries)",
            "regularisation_C": best,
            "cv_recall_at_5": round(scored[best][0], 4),
            "cv_mrr": round(scored[best][1], 4),
        }
        args.out.write_text(fusion.to_json(**provenance) + "\n", encoding="utf-8")
        print(f"wrote {args.out}")
    engine.close()


if __name__ == "__main__":
    main()

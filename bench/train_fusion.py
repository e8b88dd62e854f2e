"""Trains the learned fusion (bot/retrieval/fusion_weights.json) on public data only, cross-validated.

Training queries: the agenda queries of the Shallow Review 2025 (../shared/data/shallow_review_2025_ai_safety/)
outside the held-out third (`quality.heldout`, by a hash of the agenda id; never used here), and, with
--mentions, the informal link mentions whose agenda is not held out (anchor text -> the linked work). Every
candidate `HybridSearcher.candidates` returns for a query is a row (the features the product computes);
rows are labelled by whether the work is gold, and weighted so each query counts once. With --known-items N,
N seeded works' titles are known-item queries. With --csfcube DIR, csfcube's 50 graded query-by-example
queries (../shared/data/csfcube_benchmark/; each question the query paper's title and its sentences of the
asked facet) are asked of a separate knowledge base of csfcube's pooled papers, built once in DIR by the
product's ingest; works graded >= 2 of 3 are gold and the query paper is never a row. They are in every
training fold and never scored; --csfcube-weight W counts each as W agenda queries, and --csfcube-no-years keeps
their years out of the year features' weights (csfcube is 1990s-2019 work; measured: README, "csfcube as
training data"). Each training question's adapted features (bot/retrieval/adapter.py) come from an adapter fitted
without its fold (bench/adapter_fit.py), as a question the shipped adapter never saw gets them. The model is an
L2-regularised logistic regression; its strength is chosen by 5-fold cross-validation grouped by agenda
(mentions follow their agenda's fold), scored by MRR over the validation agendas. It is fitted with a NUISANCE
column beside the features, whether the work lacks an abstract, whose weight is then dropped: in the benchmark
corpus such works are three times as likely to be gold, a trait of how it was built, not of relevance.

Printed: cross-validated recall@5 / MRR of the fixed fusion and the learned one per regularisation strength.
The chosen weights are written with their provenance. The held-out agendas are scored by bench/quality.py.

--compare FEATURE ... (or csfcube) cross-validates with and without those features (or the csfcube queries,
each side at its own chosen strength) on the same candidates, three fold assignments, per-agenda bootstrap
intervals.

Usage: python bench/train_fusion.py [--data-dir DIR] [--mentions] [--known-items N] [--csfcube DIR
       [--csfcube-weight W] [--csfcube-no-years]] [--write [--out PATH]] [--compare FEATURE|csfcube ...]
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

import numpy as np
from adapter_fit import ADAPTED, Works
from quality import (
    AGENDAS,
    MENTIONS,
    SHARED,
    bootstrap_interval,
    heldout,
    load_jsonl,
    open_bench_engine,
    without_abstract,
)
from sklearn.linear_model import LogisticRegression

from bot.engine import Engine
from bot.retrieval.fusion import FEATURES, WEIGHTS_PATH, LinearFusion

FOLDS = 5
STRENGTHS = (0.01, 0.1, 1.0, 10.0)
REPEATS = 3  # fold assignments averaged by --compare: one split of 54 agendas is a noisy estimate
CSFCUBE = SHARED / "csfcube_benchmark"
CSFCUBE_RELEVANT = 2  # csfcube's graded relevance 0-3: its authors count >= 2 as relevant
TRAIN_ONLY = -1  # the fold of query groups that are always trained on and never scored (csfcube's)
# Fitted beside the features and dropped from the shipped model: a column that absorbs what the benchmark corpus
# rewards for the wrong reason. Works without an abstract are three times as likely to be agenda gold there (the
# Review's outputs were added title-only; README, "Title-only gold"), and without this column the weights learn
# that through whatever goes with a short record, which ranks title-only works up in any knowledge base.
NUISANCE = ("no_abstract",)


def csfcube_engine(data_dir: Path) -> Engine:
    """An engine over the csfcube papers some query's candidate pool holds, built once in `data_dir`. The
    query papers outside every pool are left out: a user asking for work related to their paper rarely has it
    in the knowledge base, and a question that finds itself first would skew the features normalised by the
    question's best (cosine_gap, bm25, bm25_title) and the feedback centroid."""
    records = data_dir / "csfcube_pooled.jsonl"
    if not records.exists():
        pooled = set().union(*(q["candidate_pool"] for q in load_jsonl(CSFCUBE / "queries.jsonl")))
        data_dir.mkdir(parents=True, exist_ok=True)
        with records.open("w", encoding="utf-8") as out:
            for paper in load_jsonl(CSFCUBE / "corpus.jsonl"):
                if paper["id"] in pooled:
                    if not 1800 <= (paper.get("year") or 1800) <= 2100:  # one S2 record says 801
                        paper["year"] = None
                    out.write(json.dumps(paper) + "\n")
    return open_bench_engine(data_dir, records)


def ranking_metrics(scores: np.ndarray, labels: np.ndarray, total_gold: int) -> tuple[float, float]:
    """(recall@5, reciprocal rank) of one query's candidates; gold never retrieved counts as missed."""
    order = np.argsort(-scores, kind="stable")
    ranked = labels[order]
    recall5 = ranked[:5].sum() / total_gold
    first = np.flatnonzero(ranked)
    return float(recall5), float(1 / (first[0] + 1)) if len(first) else 0.0


def agenda_metrics(scores: np.ndarray, query: dict) -> list[float]:
    """[recall@5, recall@20, reciprocal rank] of one query's candidates ranked by `scores`."""
    recall5, reciprocal = ranking_metrics(scores, query["labels"], query["gold"])
    top20 = query["labels"][np.argsort(-scores, kind="stable")[:20]]
    return [recall5, top20.sum() / query["gold"], reciprocal]


def difference_cells(without: np.ndarray, with_them: np.ndarray) -> list[str]:
    """Per metric of two agenda × `agenda_metrics` arrays: both means and the difference with its interval."""
    cells = []
    for column, metric in enumerate(("recall@5", "recall@20", "MRR")):
        difference = with_them[:, column] - without[:, column]
        low, high = bootstrap_interval(difference)
        cells.append(
            f"{metric} {without[:, column].mean():.3f} -> {with_them[:, column].mean():.3f}, "
            f"{difference.mean():+.3f} [{low:+.3f}, {high:+.3f}]"
        )
    return cells


def fit(queries: list[dict], strength: float, used: list[int]) -> LinearFusion:
    """Logistic regression on the `used` feature columns and the NUISANCE ones; the others get weight 0, and the
    NUISANCE weights are dropped (the shipped model scores every work as if it had the training rows' mean there)."""
    matrix = np.vstack([np.column_stack((q["matrix"], q["nuisance"])) for q in queries])
    used = [*used, *range(len(FEATURES), matrix.shape[1])]
    # A feature a query's rows must not train (its "silent" columns) is set to the other rows' mean there:
    # standardised to 0, those rows add nothing to that feature's weight while they still train the others.
    for column in {c for q in queries for c in q.get("silent", ())}:
        silent = np.concatenate([np.full(len(q["labels"]), column in q.get("silent", ())) for q in queries])
        matrix[silent, column] = matrix[~silent, column].mean()
    labels = np.concatenate([q["labels"] for q in queries])
    weights = np.concatenate([np.full(len(q["labels"]), q.get("weight", 1.0) / len(q["labels"])) for q in queries])
    mean, scale = np.zeros(matrix.shape[1]), np.ones(matrix.shape[1])
    mean[used], scale[used] = matrix[:, used].mean(axis=0), matrix[:, used].std(axis=0)
    scale[scale == 0] = 1.0
    model = LogisticRegression(C=strength, max_iter=2000)
    model.fit(((matrix - mean) / scale)[:, used], labels, sample_weight=weights * len(queries))
    coefficients = np.zeros(matrix.shape[1])
    coefficients[used] = model.coef_[0]
    shipped = slice(len(FEATURES))
    return LinearFusion(FEATURES, coefficients[shipped], mean[shipped], scale[shipped], float(model.intercept_[0]))


def evaluate(queries: list[dict], fusion: LinearFusion) -> tuple[float, float]:
    results = [ranking_metrics(fusion.score(q["matrix"]), q["labels"], q["gold"]) for q in queries if q["agenda"]]
    return float(np.mean([r[0] for r in results])), float(np.mean([r[1] for r in results]))


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data-dir", type=Path, default=Path(__file__).parent / "results" / "core-kb")
    parser.add_argument("--mentions", action="store_true", help="also train on informal link mentions")
    parser.add_argument("--write", action="store_true", help=f"write the chosen weights to {WEIGHTS_PATH}")
    parser.add_argument("--out", type=Path, default=WEIGHTS_PATH, help="where --write writes (to compare variants)")
    parser.add_argument(
        "--known-items", type=int, default=0, metavar="N", help="also train on N works' titles as queries (seeded)"
    )
    parser.add_argument(
        "--csfcube",
        type=Path,
        metavar="DIR",
        help="also train on csfcube's 50 graded queries, over a knowledge base of its papers built in DIR",
    )
    parser.add_argument(
        "--csfcube-weight", type=float, default=1.0, metavar="W", help="each csfcube query counts W agenda queries"
    )
    parser.add_argument(
        "--csfcube-no-years", action="store_true", help="csfcube's years do not train the year features"
    )
    parser.add_argument("--without", nargs="*", default=[], choices=FEATURES, help="features left out (weight 0)")
    parser.add_argument(
        "--compare",
        nargs="+",
        default=[],
        choices=(*FEATURES, "csfcube"),
        help="also cross-validate without these features (or without the csfcube training queries) on the same "
        "candidates: per-agenda differences with 95 %% bootstrap intervals (one lever at a time, free of "
        "run-to-run noise in the candidates)",
    )
    args = parser.parse_args()
    if "csfcube" in args.compare and not args.csfcube:
        parser.error("--compare csfcube needs --csfcube DIR")
    return args


def gold_docs(engine: Engine, ids: list[str]) -> set[int]:
    keys, position = engine.corpus.keys, engine.corpus.position
    return {position[keys[f"id:{i}"]] for i in ids if f"id:{i}" in keys and keys[f"id:{i}"] in position}


class Question(NamedTuple):
    text: str
    gold: set[int]
    group: str  # what cross-validation keeps in one fold: an agenda with its link mentions, a title
    agenda: bool  # scored; the others only train


def questions(engine: Engine, mentions: bool, known_items: int) -> list[Question]:
    """The training questions: the agendas outside the held-out third, their link mentions (anchor text -> the
    linked work) with `mentions`, and `known_items` seeded works' titles."""
    found = [
        Question(agenda["query"], gold_docs(engine, agenda["gold_ids"]), agenda["query_id"], True)
        for agenda in load_jsonl(AGENDAS)
        if not heldout(agenda["query_id"])
    ]
    if mentions:
        pairs = {(m["anchor_text"], m["target_id"], m["item_id"]) for m in load_jsonl(MENTIONS)}
        found += [Question(a, gold_docs(engine, [t]), item, False) for a, t, item in sorted(pairs) if not heldout(item)]
    if known_items:
        # Known-item search: a work asked for by its title must come first whatever its year. Works that are
        # gold of a held-out agenda are skipped, so nothing about those agendas is seen.
        held_gold = set().union(
            *(gold_docs(engine, a["gold_ids"]) for a in load_jsonl(AGENDAS) if heldout(a["query_id"]))
        )
        pool = [d for d in range(len(engine.corpus)) if d not in held_gold]
        for doc in np.random.default_rng(13).choice(pool, size=known_items, replace=False):
            found.append(Question(engine.corpus.titles[doc].lower(), {int(doc)}, f"title:{doc}", False))
    return [q for q in found if q.gold]


def rows(
    engine: Engine, text: str, gold: set[int], group: str, agenda: bool, skip: frozenset[int] = frozenset()
) -> dict | None:
    """The question's candidates as training rows, but those in `skip`."""
    gold = gold - skip
    if not gold:
        return None
    docs, _, matrix = engine.searcher.candidates(text)
    kept = [row for row, doc in enumerate(docs) if doc not in skip]
    labels = np.array([docs[row] in gold for row in kept], dtype=float)
    return {
        "matrix": matrix[kept],
        "nuisance": without_abstract(engine.corpus, (docs[row] for row in kept)).astype(float)[:, None],  # NUISANCE
        "labels": labels,
        "gold": len(gold),
        "group": group,
        "agenda": agenda,
        "text": text,
        "docs": np.array([docs[row] for row in kept]),
        "gold_docs": gold,
    }


def question_rows(engine: Engine, mentions: bool, known_items: int) -> list[dict]:
    """The candidate rows of `questions`, each a training query."""
    found = (rows(engine, *question) for question in questions(engine, mentions, known_items))
    return [q for q in found if q is not None]


def training_queries(engine: Engine, args: argparse.Namespace) -> list[dict]:
    """Every training query's candidate rows: `questions`, then csfcube's with --csfcube."""
    queries = question_rows(engine, args.mentions, args.known_items)
    if args.csfcube:
        csfcube = csfcube_queries(args.csfcube, args.csfcube_weight, args.csfcube_no_years)
        queries.extend(q for q in csfcube if q is not None)
    return queries


def csfcube_queries(data_dir: Path, weight: float, no_years: bool) -> list[dict | None]:
    """Query by example as a user would ask it: the paper's title and its sentences of the asked facet
    (background, method or result). The query paper itself is never a row (it is not asked for)."""
    cube = csfcube_engine(data_dir)
    queries = []
    for query in load_jsonl(CSFCUBE / "queries.jsonl"):
        q = rows(
            cube,
            f"{query['query_paper_title']}. {query['query']}",
            gold_docs(cube, [p for p, grade in query["relevance"].items() if grade >= CSFCUBE_RELEVANT]),
            f"csfcube:{query['query_id']}",
            False,
            frozenset(gold_docs(cube, [query["query_paper_id"]])),
        )
        if q is not None:
            q["weight"] = weight
            if no_years:
                q["silent"] = (FEATURES.index("recency"), FEATURES.index("no_year"))
        queries.append(q)
    cube.close()
    return queries


def is_csfcube(query: dict) -> bool:
    return query["group"].startswith("csfcube:")


@dataclass
class CrossValidation:
    """The training queries with their fold assignment: groups (an agenda with its mentions, a title) by fold;
    csfcube's queries have none, so they are in every training fold and never scored."""

    queries: list[dict]
    groups: list[str] = field(init=False)
    fold_of: dict[str, int] = field(init=False)

    def __post_init__(self) -> None:
        self.groups = sorted({q["group"] for q in self.queries if not is_csfcube(q)})
        self.fold_of = {group: n % FOLDS for n, group in enumerate(self.groups)}

    def scores(self, make: Callable[[list[dict]], LinearFusion], pool: list[dict]) -> tuple[float, float]:
        """Cross-validated (recall@5, MRR) over the agendas of `pool`, of the models `make` fits per fold."""
        per_fold = []
        for fold in range(FOLDS):
            train = [q for q in pool if self.fold_of.get(q["group"], TRAIN_ONLY) != fold]
            test = [q for q in pool if self.fold_of.get(q["group"], TRAIN_ONLY) == fold]
            per_fold.append((evaluate(test, make(train)), sum(q["agenda"] for q in test)))
        total = sum(n for _, n in per_fold)
        return tuple(sum(m[i] * n for m, n in per_fold) / total for i in range(2))  # type: ignore[return-value]

    def chosen_strength(self, pool: list[dict], columns: list[int], label: str) -> tuple[float, dict[float, tuple]]:
        """The L2 strength with the best cross-validated MRR (then recall@5), each printed."""
        scored = {}
        for strength in STRENGTHS:
            scored[strength] = self.scores(lambda train, c=strength: fit(train, c, columns), pool)
            print(f"{f'{label}logistic C={strength}':32} {scored[strength][0]:12.3f} {scored[strength][1]:8.3f}")
        return max(STRENGTHS, key=lambda c: (scored[c][1], scored[c][0])), scored

    def per_agenda(self, pool: list[dict], columns: list[int], strength: float) -> np.ndarray:
        """Recall@5, recall@20 and reciprocal rank of each agenda when its fold is held out, averaged over
        REPEATS assignments of groups to folds (the first the one above, then seeded shuffles)."""
        agendas = [q for q in self.queries if q["agenda"]]
        total = np.zeros((len(agendas), 3))
        for repeat in range(REPEATS):
            order = np.random.default_rng(repeat).permutation(len(self.groups)) if repeat else range(len(self.groups))
            folds = {self.groups[g]: n % FOLDS for n, g in enumerate(order)}
            for fold in range(FOLDS):
                model = fit([q for q in pool if folds.get(q["group"], TRAIN_ONLY) != fold], strength, columns)
                for n, q in enumerate(agendas):
                    if folds[q["group"]] == fold:
                        total[n] += agenda_metrics(model.score(q["matrix"]), q)
        return total / REPEATS


def weights_of(fusion: LinearFusion) -> dict[str, float]:
    return {f: round(float(w), 3) for f, w in zip(FEATURES, fusion.weights, strict=True)}


def compare(cv: CrossValidation, left_out: list[str], used: list[int], best: float, dense_weight: float) -> None:
    """Prints per-agenda CV differences with and without the features (or the csfcube queries) `left_out`."""
    queries = cv.queries
    fewer = [i for i in used if FEATURES[i] not in left_out]
    # Without a training source the model is what that training set alone would ship: its own strength.
    without_pool = [q for q in queries if "csfcube" not in left_out or not is_csfcube(q)]
    without_best = best
    if len(without_pool) < len(queries):
        without_best, _ = cv.chosen_strength(without_pool, fewer, "without csfcube: ")
        print(f"weights without csfcube (C={without_best}):", weights_of(fit(without_pool, without_best, fewer)))
    with_them, without = cv.per_agenda(queries, used, best), cv.per_agenda(without_pool, fewer, without_best)
    cells = difference_cells(without, with_them)
    print(
        f"CV ({REPEATS} fold assignments) at C={best} (without: C={without_best}), with - without "
        f"{' '.join(left_out)}: " + "; ".join(cells)
    )
    if len(without_pool) < len(queries):
        scored_on_csfcube(queries, fit(without_pool, without_best, fewer), used, best, dense_weight)


def scored_on_csfcube(
    queries: list[dict], without: LinearFusion, used: list[int], best: float, dense_weight: float
) -> None:
    """The other way round: csfcube's own questions (long, paper-like), each ranked by a model that never saw
    its query paper (folds by query paper) against the model that never saw csfcube and the fixed fusion."""
    cube = [q for q in queries if is_csfcube(q)]
    papers = sorted({q["group"].split("_")[0] for q in cube})
    fold_of_paper = {paper: n % FOLDS for n, paper in enumerate(papers)}
    scored: dict[str, list[tuple[float, float]]] = {"fixed": [], "without": [], "with": []}
    for fold in range(FOLDS):
        held = [q for q in cube if fold_of_paper[q["group"].split("_")[0]] == fold]
        model = fit([q for q in queries if all(q is not h for h in held)], best, used)
        for q in held:
            for name, fusion in (("fixed", LinearFusion.fixed(dense_weight)), ("without", without), ("with", model)):
                scored[name].append(ranking_metrics(fusion.score(q["matrix"]), q["labels"], q["gold"]))
    on_cube = {name: np.array(values) for name, values in scored.items()}
    cells = []
    for column, metric in enumerate(("recall@5", "MRR")):
        learned = on_cube["without"][:, column] - on_cube["fixed"][:, column]
        difference = on_cube["with"][:, column] - on_cube["without"][:, column]
        (low, high), (learned_low, learned_high) = bootstrap_interval(difference), bootstrap_interval(learned)
        cells.append(
            f"{metric} fixed {on_cube['fixed'][:, column].mean():.3f} -> without "
            f"{on_cube['without'][:, column].mean():.3f}, {learned.mean():+.3f} [{learned_low:+.3f}, "
            f"{learned_high:+.3f}] -> with {on_cube['with'][:, column].mean():.3f}, "
            f"{difference.mean():+.3f} [{low:+.3f}, {high:+.3f}]"
        )
    print(f"csfcube's {len(cube)} queries (CV by query paper): " + "; ".join(cells))


def provenance(args: argparse.Namespace, queries: list[dict], best: float, scored: tuple[float, float]) -> dict:
    """What the weight file records of how it was made."""
    flags = [
        *(["--mentions"] if args.mentions else []),
        *([f"--known-items {args.known_items}"] if args.known_items else []),
        *(["--csfcube DIR"] if args.csfcube else []),
        *([f"--csfcube-weight {args.csfcube_weight}"] if args.csfcube and args.csfcube_weight != 1 else []),
        *(["--csfcube-no-years"] if args.csfcube and args.csfcube_no_years else []),
        *(["--without", *args.without] if args.without else []),
    ]
    return {
        "trained_by": " ".join(["bench/train_fusion.py", *flags]),
        "trained_on": f"{sum(q['agenda'] for q in queries)} agenda queries (held-out third excluded)"
        + (", link mentions" if args.mentions else "")
        + (f", {args.known_items} works' titles" if args.known_items else "")
        + (", csfcube's graded queries" if args.csfcube else "")
        + f" ({sum(not q['agenda'] for q in queries)} non-agenda queries)",
        "regularisation_C": best,
        "nuisance_dropped": list(NUISANCE),
        "cv_recall_at_5": round(scored[0], 4),
        "cv_mrr": round(scored[1], 4),
    }


def main() -> None:
    args = arguments()
    used = [i for i, name in enumerate(FEATURES) if name not in args.without]
    engine = open_bench_engine(args.data_dir)
    dense_weight = engine.settings.dense_weight
    cv = CrossValidation(training_queries(engine, args))
    if engine.searcher.adapter is not None and set(ADAPTED) & set(used):
        # In-sample adapted features look better than a new question's: the fusion would over-trust them.
        cv.queries = Works(engine).out_of_fold(cv.queries, cv.fold_of)
    queries = cv.queries
    print(
        f"training queries: {sum(q['agenda'] for q in queries)} agendas, {sum(not q['agenda'] for q in queries)} "
        f"mentions, titles and csfcube queries; {sum(len(q['labels']) for q in queries)} candidate rows"
    )
    print(f"{'model':32} {'CV recall@5':>12} {'CV MRR':>8}")
    fixed = cv.scores(lambda _: LinearFusion.fixed(dense_weight), queries)
    print(f"{'fixed 0.88/0.12':32} {fixed[0]:12.3f} {fixed[1]:8.3f}")
    best, scored = cv.chosen_strength(queries, used, "")
    fusion = fit(queries, best, used)
    print("weights (standardised):", weights_of(fusion))
    if args.compare:
        compare(cv, args.compare, used, best, dense_weight)
    if args.write:
        args.out.write_text(fusion.to_json(**provenance(args, queries, best, scored[best])) + "\n", encoding="utf-8")
        print(f"wrote {args.out}")
    engine.close()


if __name__ == "__main__":
    main()

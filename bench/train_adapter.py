"""Trains the query adapter (bot/retrieval/query_adapter.npz) on public data only (bench/adapter_fit.py says
how), and measures it inside the learned fusion with nested cross-validation.

Training questions: bench/train_fusion.py's (the Shallow Review agendas outside the held-out third, their link
mentions, 200 seeded works' titles; never a held-out agenda).

--cv: nested cross-validation over the training agendas (train_fusion.py's 5 folds grouped by agenda). For each
fold, the fusion is fitted on the other folds as train_fusion.py fits the shipped one (their adapted features
out of fold, each from an adapter fitted without the fold scored and without its own), with and without the two
adapted features; the fold's agendas are ranked with an adapter fitted on the other folds. Per-agenda differences
with 95 % bootstrap intervals, for each λ given.
--write fits on all training questions and writes the file with its provenance; then retrain the fusion
(train_fusion.py --mentions --known-items 200 --write), which reads the adapter's features.

Usage: python bench/train_adapter.py [--data-dir DIR] [--strength λ ...] [--cv] [--write [--out PATH]]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
from adapter_fit import ADAPTED, STRENGTH, Works
from quality import open_bench_engine
from train_fusion import FOLDS, CrossValidation, agenda_metrics, difference_cells, fit, question_rows

from bot.retrieval.adapter import ADAPTER_PATH, QueryAdapter
from bot.retrieval.fusion import FEATURES

KNOWN_ITEMS = 200
FUSION_STRENGTH = 10.0  # the shipped fusion's C (fusion_weights.json)


def nested_cv(works: Works, queries: list[dict], strength: float) -> None:
    cv = CrossValidation(queries)
    columns = {
        "without": [i for i in range(len(FEATURES)) if i not in ADAPTED],
        "with": list(range(len(FEATURES))),
    }
    agendas = [q for q in queries if q["agenda"]]
    results = {name: np.zeros((len(agendas), 3)) for name in columns}
    for fold in range(FOLDS):
        train = [q for q in queries if cv.fold_of[q["group"]] != fold]
        inner = {group: n for group, n in cv.fold_of.items() if n != fold}
        matrix = works.fit(train, strength)
        fitted_on = works.out_of_fold(train, inner, strength)
        models = {name: fit(fitted_on, FUSION_STRENGTH, used) for name, used in columns.items()}
        for n, q in enumerate(agendas):
            if cv.fold_of[q["group"]] == fold:
                scored = works.adapted(q, matrix)
                for name, model in models.items():
                    results[name][n] = agenda_metrics(model.score(scored["matrix"]), q)
    cells = difference_cells(results["without"], results["with"])
    print(f"nested CV, λ={strength}, fusion without -> with the adapter: " + "; ".join(cells), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data-dir", type=Path, default=Path(__file__).parent / "results" / "core-kb")
    parser.add_argument("--strength", type=float, nargs="+", default=[STRENGTH], help="λ, the L2 weight on A")
    parser.add_argument("--cv", action="store_true", help="nested cross-validation inside the fusion")
    parser.add_argument("--write", action="store_true", help=f"fit on every training question, write {ADAPTER_PATH}")
    parser.add_argument("--out", type=Path, default=ADAPTER_PATH)
    args = parser.parse_args()
    engine = open_bench_engine(args.data_dir)
    works = Works(engine)
    queries = question_rows(engine, mentions=True, known_items=KNOWN_ITEMS)
    print(f"{len(queries)} training questions, {len(works.vectors)} works ({works.left_out.sum()} out of the softmax)")
    if args.cv:
        for strength in args.strength:
            nested_cv(works, queries, strength)
    if args.write:
        strength = args.strength[0]
        matrix = works.fit(queries, strength)
        QueryAdapter(matrix, engine.embedder.name).save(
            args.out,
            trained_by=f"bench/train_adapter.py --strength {strength} --write",
            trained_on=f"{sum(q['agenda'] for q in queries)} agenda queries (held-out third excluded), link "
            f"mentions, {KNOWN_ITEMS} works' titles; lw:/url: records of alignment_core left out of the softmax; "
            "a logit for works without an abstract fitted beside the map and dropped",
        )
        print(f"wrote {args.out} (‖A‖ = {np.linalg.norm(matrix - np.eye(len(matrix))):.3f})")
    engine.close()


if __name__ == "__main__":
    main()

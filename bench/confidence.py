"""How honest `ask`'s `confident` is, on forum-style questions labelled answerable or not.

bench/confidence_questions.jsonl holds 171 questions written for this benchmark: 86 about topics the alignment
literature covers (answerable from ../shared/data/kb/alignment_core.jsonl), 85 off-topic or about research
topics that knowledge base lacks. A third (by a hash of the text) is held out and never used for tuning.

Printed per split: the share of answerable questions marked unconfident and of unanswerable ones marked
confident (targets: each at most 1 in 20), for the threshold in the settings and for the one that minimises the
larger of the two rates on the dev split (the calibration; copy it into `ask_confidence_threshold`). Two other
scores are calibrated and printed beside it: the top hit's cosine (the decision before the learned fusion) and the
top hit's fused score.

Usage: python bench/confidence.py [--data-dir DIR] (ingests the corpus on first use, as bench/quality.py does).
"""

from __future__ import annotations

import argparse
import json
from itertools import pairwise
from pathlib import Path

from quality import open_bench_engine

from bot.retrieval.search import confidence_score

QUESTIONS = Path(__file__).parent / "confidence_questions.jsonl"


def rates(scores: list[float], answerable: list[bool], threshold: float) -> tuple[float, float]:
    """(answerable marked unconfident, unanswerable marked confident) at `threshold`."""
    missed = [s < threshold for s, a in zip(scores, answerable, strict=True) if a]
    false = [s >= threshold for s, a in zip(scores, answerable, strict=True) if not a]
    return sum(missed) / max(1, len(missed)), sum(false) / max(1, len(false))


def calibrate(scores: list[float], answerable: list[bool]) -> float:
    """The cut between two observed scores with the smallest worse-of-two error rate, then the smallest sum."""
    candidates = sorted(set(scores))
    cuts = [(a + b) / 2 for a, b in pairwise(candidates)] or candidates
    return min(cuts, key=lambda t: (max(rates(scores, answerable, t)), sum(rates(scores, answerable, t))))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data-dir", type=Path, default=Path(__file__).parent / "results" / "core-kb")
    args = parser.parse_args()
    engine = open_bench_engine(args.data_dir)
    rows = [json.loads(line) for line in QUESTIONS.open(encoding="utf-8") if line.strip()]
    for row in rows:
        hits = engine.searcher.search(row["question"], 5)
        exact = bool(hits) and hits[0].exact
        # What `ask` decides on (the best cosine of the top five), and alternatives measured beside it.
        row["score"] = confidence_score(hits)
        row["top hit cosine"] = 1.0 if exact else (hits[0].similarity if hits else 0.0)
        row["fused score"] = 1.0 if exact else (hits[0].score if hits else 0.0)
    dev = [r for r in rows if r["split"] == "dev"]
    held = [r for r in rows if r["split"] == "heldout"]
    calibrated = calibrate([r["score"] for r in dev], [r["answerable"] for r in dev])
    current = engine.settings.ask_confidence_threshold
    print(f"questions: {len(dev)} dev, {len(held)} held out; corpus {len(engine.corpus)} works")
    print(f"{'threshold':30} {'split':8} {'answerable unconfident':>23} {'unanswerable confident':>23}")
    candidates = [
        ("score", f"settings ({current:.3f})", current),
        ("score", f"calibrated ({calibrated:.3f})", calibrated),
    ]
    for alternative in ("top hit cosine", "fused score"):
        cut = calibrate([r[alternative] for r in dev], [r["answerable"] for r in dev])
        candidates.append((alternative, f"{alternative} ({cut:.3f})", cut))
    for key, name, threshold in candidates:
        for split, part in (("dev", dev), ("held-out", held)):
            missed, false = rates([r[key] for r in part], [r["answerable"] for r in part], threshold)
            print(f"{name:30} {split:8} {missed:23.3f} {false:23.3f}")
    engine.close()


if __name__ == "__main__":
    main()

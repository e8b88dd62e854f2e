"""Precision and recall of `alignbot sync arxiv`'s relevance filter on labelled arXiv papers, beside baselines.

    nice -n 10 python bench/sync_relevance.py [--data ../shared/data] [--negatives 6000]

Labels (all from ../shared/data, none shipped with the product):
- relevant: arXiv papers with an abstract that people curating alignment work filed as such: the 2025 Shallow
  Review's outputs and its candidates a reviewer marked relevant, StampyAI's alignment arXiv list, the Lenz
  AI-safety list and the TAI Safety Bibliography;
- not relevant: the candidates the reviewers' model labelled "not relevant" or a reviewer rejected, and papers
  of the general LLM streams in kb/ (LLM-Bible, the daily cs.CL/cs.AI crawl) that are on none of those lists.
  Some of these are alignment papers nobody listed, so precision here is a lower bound.
Papers on our reading list are left out (the profile would find itself). Each paper falls in the tuning or the
held-out half by a hash of its arXiv id; K and the threshold are chosen on the tuning half only (best F1) and
every figure printed is from the held-out half.

Baselines in the same run: category only (keep every paper of the harvested categories: what a sync without a
filter stores) and keywords (an alignment keyword regex over title and abstract).
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import random
import re
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from bot.domain import WorkRecord
from bot.embedding import embedder_for
from bot.identifiers import normalize_arxiv_id
from bot.ingest.parsers import parse_path
from bot.settings import REPO_ROOT, Settings
from bot.sync.filter import file_profile, work_text

KEYWORDS = re.compile(
    r"\balign|\bsafety\b|\bsafe\b|interpretab|deceptive|deception|jailbreak|\brlhf\b|human feedback|reward hack"
    r"|reward model|sycophan|red[- ]team|oversight|corrigib|misalign|scheming|sandbagging|faithful|monitor"
    r"|existential|catastrophic risk|power[- ]seeking|goal misgeneral|specification gaming|backdoor|honest",
    re.IGNORECASE,
)
READING_LIST = REPO_ROOT / "knowledge" / "reading_list.jsonl"
PREVALENCE = 0.05  # a guess at the share of alignment papers in a cs.AI + cs.CL day, for the last column


def rows(path: Path) -> Iterator[dict]:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                yield json.loads(line)


def arxiv_of(row: dict) -> str | None:
    raw = row.get("arxiv_id") or ""
    return normalize_arxiv_id(str(raw)) if raw else None


def held_out(arxiv_id: str) -> bool:
    return hashlib.blake2b(arxiv_id.encode(), digest_size=2).digest()[0] % 2 == 1


def labelled(data: Path, negatives: int) -> tuple[dict[str, str], dict[str, int]]:
    """{arXiv id: text} and {arXiv id: 1 relevant / 0 not}."""
    review = data / "shallow_review_2025_ai_safety"
    stampy = data / "stampy_alignment_research_dataset"
    texts: dict[str, str] = {}
    labels: dict[str, int] = {}
    listed: set[str] = set()  # on any alignment list, whatever its label: never a negative

    def add(row: dict, label: int) -> None:
        arxiv_id = arxiv_of(row)
        if arxiv_id and row.get("abstract") and row.get("title") and arxiv_id not in labels:
            texts[arxiv_id] = work_text(row["title"], row["abstract"])
            labels[arxiv_id] = label

    for row in rows(review / "arxiv_candidates_annotated.jsonl"):
        listed.add(arxiv_of(row) or "")
        if row.get("curated_is_relevant") == "y":
            add(row, 1)
        elif row.get("llm_relevance") == "not relevant" or row.get("curated_is_relevant") == "n":
            add(row, 0)
    for path in (
        review / "outputs.jsonl",
        review / "lenz_ai_safety_papers.jsonl",
        stampy / "arxiv_alignment_papers.jsonl",
        stampy / "tai_safety_bibliography.jsonl",
    ):
        for row in rows(path):
            listed.add(arxiv_of(row) or "")
            add(row, 1)
    pool = [
        row
        for row in rows(data / "kb" / "alignment_kb.jsonl.gz")
        if row.get("source", "").startswith(("llm-bible/", "dw-dengwei/")) and arxiv_of(row) not in listed
    ]
    random.Random(12).shuffle(pool)
    for row in pool[:negatives]:
        add(row, 0)
    ours = {r.arxiv_id for r in _reading_list_records() if r.arxiv_id}
    for arxiv_id in ours & set(labels):
        del labels[arxiv_id], texts[arxiv_id]
    return texts, labels


def _reading_list_records() -> list[WorkRecord]:
    return [item for _line, item in parse_path(READING_LIST) if isinstance(item, WorkRecord)]


def prf(kept: np.ndarray, truth: np.ndarray) -> tuple[float, float, float, float]:
    """Precision, recall, F1 and the false-positive rate."""
    tp = float((kept & truth).sum())
    fp = float((kept & ~truth).sum())
    precision = tp / max(1.0, tp + fp)
    recall = tp / max(1.0, float(truth.sum()))
    f1 = 2 * precision * recall / max(1e-9, precision + recall)
    fpr = fp / max(1.0, float((~truth).sum()))
    return precision, recall, f1, fpr


def at_prevalence(recall: float, fpr: float, prevalence: float = PREVALENCE) -> float:
    """The precision the same recall and false-positive rate give where `prevalence` of papers are relevant."""
    return recall * prevalence / max(1e-9, recall * prevalence + fpr * (1 - prevalence))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=REPO_ROOT.parent / "shared" / "data")
    parser.add_argument("--negatives", type=int, default=6000)
    args = parser.parse_args()

    texts, labels = labelled(args.data, args.negatives)
    ids = sorted(labels)
    truth = np.array([labels[i] == 1 for i in ids])
    test = np.array([held_out(i) for i in ids])
    print(
        f"labelled papers: {len(ids)} ({int(truth.sum())} relevant); tuning {int((~test).sum())}, "
        f"held out {int(test.sum())} ({int((truth & test).sum())} relevant)"
    )

    settings = Settings()
    embedder = embedder_for(settings)
    profile = embedder.encode(file_profile(READING_LIST))
    started = time.perf_counter()
    vectors = embedder.encode([texts[i] for i in ids])
    print(f"embedded {len(ids)} papers in {time.perf_counter() - started:.0f} s")
    similarity = np.sort(vectors @ profile.T, axis=1)[:, ::-1]

    best = (0.0, 1, 0.0)
    for nearest in (1, 3, 5, 10, 20):
        scores = similarity[:, :nearest].mean(axis=1)
        for threshold in np.arange(0.20, 0.70, 0.01):
            f1 = prf(scores[~test] >= threshold, truth[~test])[2]
            if f1 > best[0]:
                best = (f1, nearest, float(threshold))
    _, nearest, threshold = best
    scores = similarity[:, :nearest].mean(axis=1)
    print(f"tuned on the tuning half: K={nearest}, threshold={threshold:.2f} (setting sync_relevance_threshold)\n")

    keyword = np.array([bool(KEYWORDS.search(texts[i])) for i in ids])
    results = {
        "category only (keep all)": np.ones(len(ids), dtype=bool),
        "keywords": keyword,
        f"embedding, K={nearest}, t={threshold:.2f}": scores >= threshold,
        f"embedding, K={nearest}, t={settings.metadata.sync_relevance_threshold:.2f} (setting)": scores
        >= settings.metadata.sync_relevance_threshold,
    }
    print(f"{'held-out half':44} precision  recall    F1   FP rate  precision@{PREVALENCE:.0%}")
    for name, kept in results.items():
        p, r, f, fpr = prf(kept[test], truth[test])
        print(f"{name:44} {p:9.3f} {r:7.3f} {f:6.3f} {fpr:8.3f} {at_prevalence(r, fpr):12.3f}")


if __name__ == "__main__":
    main()

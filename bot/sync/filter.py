"""Which harvested papers the community wants: relevance to a profile of works it already curates.

The profile is the curated reading list in the knowledge base (`--topics`), or the works (JSON Lines, BibTeX)
or topic descriptions (plain text, one a line) of a file (`--match FILE`). A paper's score is the mean cosine
similarity (all-MiniLM-L6-v2, the engine's embedder) of its title and abstract to its K nearest profile
entries. Papers scoring at least the threshold (`ALIGNBOT_SYNC_RELEVANCE_THRESHOLD`) are kept. K and the
threshold were chosen on the tuning half of labelled records and measured on the held-out half:
`bench/sync_relevance.py`, figures in README.md.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from bot.domain import WorkRecord
from bot.embedding import Embedder
from bot.ingest.parsers import ParseError, parse_path
from bot.storage import Database

NEAREST = 1  # chosen on the tuning half (1, 3, 5, 10 and 20 were tried): bench/sync_relevance.py


def work_text(title: str, description: str | None) -> str:
    """What papers and profile entries are compared by: the title first (the embedder reads 128 tokens)."""
    return " ".join(p for p in (title.rstrip(".") + ".", description or "") if p)


def record_text(record: WorkRecord) -> str:
    return work_text(record.title, record.abstract or record.summary)


def curated_profile(db: Database) -> list[str]:
    """The reading list as stored: every curated work's title and our summary (or its abstract)."""
    return [work_text(w.title, w.summary or w.abstract) for w in db.iter_works() if w.curated]


def file_profile(path: Path) -> list[str]:
    """Works of a JSON Lines / BibTeX file, or one topic description per line of any other text file.

    Raises ValueError naming the file and line of the first bad record, or saying the file holds nothing.
    """
    if path.suffix.lower() in {".jsonl", ".json", ".ndjson", ".gz", ".bib"}:
        texts = []
        for _line, item in parse_path(path):
            if isinstance(item, ParseError):
                raise ValueError(str(item))
            texts.append(work_text(item.title, item.summary or item.abstract))
    else:
        texts = [line.strip() for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    if not texts:
        raise ValueError(f"{path}: no works or topics to match against")
    return texts


class RelevanceFilter:
    def __init__(self, embedder: Embedder, profile: Sequence[str], threshold: float, nearest: int = NEAREST) -> None:
        if not profile:
            raise ValueError("the relevance profile is empty: no curated works (load the reading list) and no --match")
        self.embedder = embedder
        self.threshold = threshold
        self.nearest = max(1, min(nearest, len(profile)))
        self.profile = embedder.encode(list(profile))

    def scores(self, records: Sequence[WorkRecord]) -> np.ndarray:
        """Each record's relevance: mean cosine similarity to its nearest profile entries."""
        if not records:
            return np.zeros(0, dtype=np.float32)
        similarity = self.embedder.encode([record_text(r) for r in records]) @ self.profile.T
        nearest = np.partition(similarity, -self.nearest, axis=1)[:, -self.nearest :]
        return nearest.mean(axis=1)

    def keep(self, records: Sequence[WorkRecord]) -> list[WorkRecord]:
        return [r for r, s in zip(records, self.scores(records), strict=True) if s >= self.threshold]

"""An in-memory view of every work: the arrays and lookup tables that fast retrieval needs.

Built from the database at start and after each ingest. Exact lookups (keys, aliases, surnames) are
dictionary hits; the two BM25 indexes cover free text (`full`) and titles with aliases (`titles`).
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field

from bot.identifiers import normalize_text, surname
from bot.retrieval.lexical import LexicalIndex
from bot.storage import Database, Work

_ET_AL = re.compile(r"[\s,]+et\.?\s*al\b\.?", re.IGNORECASE)


@dataclass
class CorpusIndex:
    ids: list[str] = field(default_factory=list)
    titles: list[str] = field(default_factory=list)
    norm_titles: list[str] = field(default_factory=list)
    years: list[int | None] = field(default_factory=list)
    surnames: list[list[str]] = field(default_factory=list)
    curated: list[bool] = field(default_factory=list)
    descriptions: list[str] = field(default_factory=list)
    # Normalised aliases, topics and curated summary: what says who made a work ("the Apollo scheming evals").
    notes: list[str] = field(default_factory=list)
    aliases: dict[str, list[int]] = field(default_factory=dict)
    by_surname: dict[str, list[int]] = field(default_factory=dict)
    keys: dict[str, str] = field(default_factory=dict)
    position: dict[str, int] = field(default_factory=dict)
    full: LexicalIndex = field(default_factory=lambda: LexicalIndex([]))
    title_index: LexicalIndex = field(default_factory=lambda: LexicalIndex([]))

    def __len__(self) -> int:
        return len(self.ids)

    @classmethod
    def build(cls, db: Database) -> CorpusIndex:
        index = cls()
        alias_docs: dict[str, list[int]] = defaultdict(list)
        surname_docs: dict[str, list[int]] = defaultdict(list)
        full_texts: list[str] = []
        title_texts: list[str] = []
        for doc, work in enumerate(db.iter_works()):
            index.ids.append(work.id)
            index.titles.append(work.title)
            index.norm_titles.append(normalize_text(work.title))
            index.years.append(work.year)
            # "Timo Schick et al." (an author list cut short by its source) is Schick, not "al".
            names = [s for s in (surname(_ET_AL.sub("", a)) for a in work.authors) if s]
            index.surnames.append(names)
            index.curated.append(work.curated)
            index.descriptions.append(work.description)
            index.notes.append(normalize_text(" ".join([*work.aliases, *work.topics, work.summary or ""])))
            for name in set(names):
                surname_docs[name].append(doc)
            for alias in work.aliases:
                alias_docs[normalize_text(alias)].append(doc)
            full_texts.append(full_text(work))
            title_texts.append(" ".join([work.title, *work.aliases]))
        index.aliases = dict(alias_docs)
        index.by_surname = dict(surname_docs)
        index.position = {work_id: doc for doc, work_id in enumerate(index.ids)}
        index.keys = db.key_map()
        index.full = LexicalIndex(full_texts)
        index.title_index = LexicalIndex(title_texts)
        return index

    def doc_for_key(self, key: str) -> int | None:
        work_id = self.keys.get(key)
        return self.position.get(work_id) if work_id else None


def full_text(work: Work) -> str:
    """What lexical search reads: the title counts twice, as titles carry the most signal per word."""
    return " ".join([work.title, work.title, *work.aliases, *work.topics, work.summary or "", work.abstract or ""])


def embedding_text(work: Work) -> str:
    """What the dense vector is computed from. The first 128 tokens count, so the title comes first."""
    parts = [work.title.rstrip(".") + "."]
    if work.aliases:
        parts.append("Also known as " + "; ".join(work.aliases[:4]) + ".")
    parts.append(work.summary or "")
    parts.append(work.abstract or "")
    return " ".join(p for p in parts if p)

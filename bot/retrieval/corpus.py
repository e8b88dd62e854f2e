"""An in-memory view of every work: the arrays and lookup tables that fast retrieval needs.

Built from the database after each ingest and saved beside it (`load_or_build`), keyed by the knowledge
base's fingerprint: a command that finds the saved index current loads it in milliseconds instead of reading
every work. Exact lookups (keys, aliases, surnames) are dictionary hits; the two BM25 indexes cover free text
(`full`) and titles with aliases (`titles`).
"""

from __future__ import annotations

import logging
import os
import pickle
import re
import tempfile
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from bot.identifiers import normalize_text, surname
from bot.retrieval.lexical import LexicalIndex
from bot.storage import Database, Work

_ET_AL = re.compile(r"[\s,]+et\.?\s*al\b\.?", re.IGNORECASE)
log = logging.getLogger(__name__)
# Bumped when the saved layout changes, so an index written by another version is rebuilt, never misread.
_FORMAT = 1


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

    @classmethod
    def load_or_build(cls, db: Database, path: Path) -> CorpusIndex:
        """The index saved at `path` if it was built from the knowledge base as it is now, else a new one
        (then saved). The fingerprint is read before building, so a write during the build leaves the saved
        index keyed to the older state: the next load rebuilds it rather than serving stale results."""
        fingerprint = (_FORMAT, db.kb_fingerprint())  # the path names the database (no password in the file)
        try:
            with path.open("rb") as file:
                saved_fingerprint, index = pickle.load(file)
            if saved_fingerprint == fingerprint:
                return index
        except FileNotFoundError:
            pass
        except Exception as exc:  # a truncated or foreign file is only a cache: rebuild it
            log.warning("%s: unreadable saved index (%s), rebuilding", path, exc)
        index = cls.build(db)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            # Written whole, then renamed: a reader in another process sees the old file or the new, never half.
            with tempfile.NamedTemporaryFile(dir=path.parent, prefix=path.name, delete=False) as file:
                pickle.dump((fingerprint, index), file, protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(file.name, path)
        except OSError as exc:  # a read-only data directory still answers, from the index in memory
            log.warning("%s: cannot save the lexical index (%s)", path, exc)
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

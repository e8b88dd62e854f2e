"""An in-memory view of every work: the arrays and lookup tables that fast retrieval needs.

Built from the database and saved beside it (`load_or_build`) with the knowledge base's generation (see
bot.storage.generation): a command that finds the saved index current loads it in milliseconds instead of
reading every work, and one a few writes behind applies just those (`follow`). Exact lookups (keys, aliases,
surnames) are dictionary hits; the two BM25 indexes cover free text (`full`) and titles with aliases (`titles`).

Document numbers only grow: a changed work gets a new number and its old one is emptied, so numbers a reader
holds stay valid. `follow` returns a new index and never changes one in use.
"""

from __future__ import annotations

import copy
import logging
import os
import pickle
import re
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass, field, fields
from pathlib import Path

from bot.identifiers import arxiv_year, given_name, normalize_text, surname
from bot.retrieval.lexical import LexicalIndex
from bot.storage import Database, Work
from bot.storage.generation import Generation

_ET_AL = re.compile(r"[\s,]+et\.?\s*al\b\.?", re.IGNORECASE)
log = logging.getLogger(__name__)
# Bumped when the saved layout changes, so an index written by another version is rebuilt, never misread.
_FORMAT = 4
# Changed works applied incrementally before the whole index is rebuilt (the BM25 delta is scored per query).
COMPACT_AT = 500
COMPACT_SHARE = 0.05


@dataclass
class CorpusIndex:
    ids: list[str] = field(default_factory=list)
    titles: list[str] = field(default_factory=list)
    norm_titles: list[str] = field(default_factory=list)
    years: list[int | None] = field(default_factory=list)
    # The year of a work's arXiv preprint, which people cite as often as its venue's ("Burns et al. 2022").
    preprint_years: list[int | None] = field(default_factory=list)
    surnames: list[list[str]] = field(default_factory=list)
    # Authors' first given names, and every one known: threads call people by them ("Paul's ELK report").
    given_names: list[list[str]] = field(default_factory=list)
    known_given_names: set[str] = field(default_factory=set)
    curated: list[bool] = field(default_factory=list)
    # "paper", "post", "report", … (Work.kind): "the grokking post" is the post, not the paper of that name.
    kinds: list[str] = field(default_factory=list)
    descriptions: list[str] = field(default_factory=list)
    # Normalised aliases, topics and curated summary: what says who made a work ("the Apollo scheming evals").
    notes: list[str] = field(default_factory=list)
    aliases: dict[str, list[int]] = field(default_factory=dict)
    by_surname: dict[str, list[int]] = field(default_factory=dict)
    keys: dict[str, str] = field(default_factory=dict)
    position: dict[str, int] = field(default_factory=dict)
    full: LexicalIndex = field(default_factory=lambda: LexicalIndex([]))
    title_index: LexicalIndex = field(default_factory=lambda: LexicalIndex([]))
    # The knowledge base and generation the index shows (kb_id "" : unknown, the index is rebuilt on follow).
    kb_id: str = ""
    generation: int = 0

    def __len__(self) -> int:
        return len(self.ids)

    def _append(self, works: Iterable[Work], shared: bool = False) -> tuple[list[str], list[str]]:
        """Number the works from len(self) on; returns their full texts and title texts for the BM25 indexes.
        `shared`: the lookup lists may belong to another index too, so a list is copied before it grows."""
        copied: set[tuple[str, str]] = set()

        def add(lookup: dict[str, list[int]], kind: str, name: str, doc: int) -> None:
            if shared and (kind, name) not in copied:
                lookup[name] = list(lookup.get(name, ()))
                copied.add((kind, name))
            lookup.setdefault(name, []).append(doc)

        full_texts: list[str] = []
        title_texts: list[str] = []
        for work in works:
            doc = len(self.ids)
            self.ids.append(work.id)
            self.position[work.id] = doc
            self.titles.append(work.title)
            self.norm_titles.append(normalize_text(work.title))
            self.years.append(work.year)
            self.preprint_years.append(arxiv_year(work.arxiv_id))
            # "Timo Schick et al." (an author list cut short by its source) is Schick, not "al".
            authors = [_ET_AL.sub("", a) for a in author_names(work.authors)]
            names = [s for s in map(surname, authors) if s]
            self.surnames.append(names)
            given = [given_name(a) for a in authors]  # one per author, "" for an initial: given[0] is the first's
            self.given_names.append(given)
            self.known_given_names.update(g for g in given if g)
            self.curated.append(work.curated)
            self.kinds.append(work_kind(work))
            self.descriptions.append(work.description)
            self.notes.append(normalize_text(" ".join([*work.aliases, *work.topics, work.summary or ""])))
            for name in set(names):
                add(self.by_surname, "surname", name, doc)
            for alias in work.aliases:
                add(self.aliases, "alias", normalize_text(alias), doc)
            full_texts.append(full_text(work))
            title_texts.append(" ".join([work.title, *work.aliases]))
        return full_texts, title_texts

    @classmethod
    def build(cls, db: Database) -> CorpusIndex:
        # Read first: a write during the build is then applied again by the next `follow` (which is idempotent).
        now = db.generation()
        index = cls(kb_id=now.kb_id, generation=now.value)
        full_texts, title_texts = index._append(db.iter_works())
        index.keys = db.key_map()
        index.full = LexicalIndex(full_texts)
        index.title_index = LexicalIndex(title_texts)
        return index

    def follow(self, db: Database, now: Generation | None = None) -> CorpusIndex:
        """This index brought to the database's generation `now`: itself when current, the changed works
        applied when a few changed, else rebuilt (another knowledge base, a pruned log, a large delta)."""
        now = now or db.generation()
        if (now.kb_id, now.value) == (self.kb_id, self.generation):
            return self
        # Another knowledge base, or this one restored from an older backup: nothing to follow from.
        known = now.kb_id == self.kb_id and now.value > self.generation
        changed = db.changed_since(self.generation, now) if known else None
        limit = max(COMPACT_AT, int(COMPACT_SHARE * self.full.main_size))
        if changed is None or self.full.delta_size + len(changed) > limit:
            return type(self).build(db)
        return self.updated(db, changed, now)

    def updated(self, db: Database, changed: set[str], now: Generation) -> CorpusIndex:
        """A new index with the current version of the `changed` works (those gone from the database removed)."""
        new = copy.copy(self)
        for per_work in fields(self):  # every list holds one entry per document
            if isinstance(value := getattr(self, per_work.name), list):
                setattr(new, per_work.name, list(value))
        new.known_given_names = set(self.known_given_names)  # a name of a removed work stays known: harmless
        new.keys, new.position = dict(self.keys), dict(self.position)
        old = sorted(self.position[work_id] for work_id in changed if work_id in self.position)
        gone = set(old)
        # Lookup lists naming an old document are copied without it; the others are shared with this index.
        new.by_surname = self._without(self.by_surname, gone, {name for doc in old for name in self.surnames[doc]})
        new.aliases = self._without(self.aliases, gone, None)
        for doc in old:
            del new.position[self.ids[doc]]
            new.titles[doc] = new.norm_titles[doc] = new.descriptions[doc] = new.notes[doc] = new.kinds[doc] = ""
            new.surnames[doc], new.given_names[doc], new.curated[doc] = [], [], False
            new.years[doc] = new.preprint_years[doc] = None
        works = db.works(sorted(changed))
        full_texts, title_texts = new._append((works[work_id] for work_id in sorted(works)), shared=True)
        new.keys.update(db.keys_of(sorted(works)))
        new.full = self.full.updated(full_texts, old)
        new.title_index = self.title_index.updated(title_texts, old)
        new.kb_id, new.generation = now.kb_id, now.value
        return new

    @staticmethod
    def _without(lookup: dict[str, list[int]], gone: set[int], names: set[str] | None) -> dict[str, list[int]]:
        """A copy of a name -> documents lookup whose lists are safe to append to, without the `gone` documents
        (`names`: the only entries that can hold them, when known)."""
        copied = dict(lookup)
        for name in lookup if names is None else names & lookup.keys():
            docs = lookup[name]
            if names is not None or gone.intersection(docs):
                kept = [d for d in docs if d not in gone]
                if kept:
                    copied[name] = kept
                else:
                    del copied[name]
        return copied

    @classmethod
    def load_or_build(cls, db: Database, path: Path) -> CorpusIndex:
        """The index saved at `path` brought to the database's generation: loaded as is when current, the
        few changes since applied when behind, else built anew. Saved again when it changed."""
        now = db.generation()
        saved: CorpusIndex | None = None
        try:
            with path.open("rb") as file:
                saved_format, saved = pickle.load(file)
            if saved_format != _FORMAT:
                saved = None
        except FileNotFoundError:
            pass
        except Exception as exc:  # a truncated or foreign file is only a cache: rebuild it
            log.warning("%s: unreadable saved index (%s), rebuilding", path, exc)
        index = saved.follow(db, now) if saved is not None else cls.build(db)
        if index is not saved:
            index.save(path)
        return index

    def save(self, path: Path) -> None:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            # Written whole, then renamed: a reader in another process sees the old file or the new, never half.
            with tempfile.NamedTemporaryFile(dir=path.parent, prefix=path.name, delete=False) as file:
                pickle.dump((_FORMAT, self), file, protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(file.name, path)
        except OSError as exc:  # a read-only data directory still answers, from the index in memory
            log.warning("%s: cannot save the lexical index (%s)", path, exc)

    def doc_for_key(self, key: str) -> int | None:
        work_id = self.keys.get(key)
        return self.position.get(work_id) if work_id else None


# Hosts of forum and blog posts: imported records of posts often carry the default kind "paper".
_POST_HOST = re.compile(
    r"^https?://(?:[\w-]+\.)*(?:lesswrong\.com|alignmentforum\.org|forum\.effectivealtruism\.org|substack\.com"
    r"|medium\.com|blogspot\.com|wordpress\.com)/|^https?://[^/]*\bblog\b|^https?://[^/]+/blog/"
)


def work_kind(work: Work) -> str:
    """The work's kind, "post" for a record kept as the default "paper" whose link is a forum or blog post."""
    if work.kind == "paper" and (work.id.startswith("lw:") or _POST_HOST.match(work.url or "")):
        return "post"
    return work.kind


def author_names(authors: list[str]) -> list[str]:
    """One name per author: an entry that is itself a list of "First Last" names, comma-separated (a BibTeX
    author field written with commas for "and"), is split; "Last, First" and "Last, First, Jr." are one name."""
    names = []
    for author in authors:
        parts = [p.strip() for p in author.split(",")]
        if len(parts) >= 3 and all(len(p.split()) >= 2 for p in parts):
            names.extend(parts)
        else:
            names.append(author)
    return names


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

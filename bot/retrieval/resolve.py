"""Reference resolution: turn what people write in threads into one work, with a confidence.

"Jacovi & Goldberg", "Turpin et al. 2023", "the sleeper agents paper", "RepE", a half-remembered
title, an arXiv id or link. Signals, cheapest first: exact keys (ids, DOIs, links), aliases, author
surnames with year, and title similarity over BM25 title candidates. No embeddings: a reference is a
name, not a description, and this path must answer in milliseconds.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from rapidfuzz import fuzz, process

from bot.identifiers import exact_keys_in, normalize_text
from bot.retrieval.corpus import CorpusIndex

_YEAR = re.compile(r"\b(19[5-9]\d|20[0-4]\d)[a-z]?\b")
_ET_AL = re.compile(r"\bet\s*al\b\.?", re.IGNORECASE)
_WRAPPER_HEAD = re.compile(r"^(?:the|that|this|a|an)\s+", re.IGNORECASE)
_WRAPPER_TAIL = re.compile(r"\s+(?:paper|post|article|work|report|preprint|study|essay)s?$", re.IGNORECASE)
_CONNECTORS = {"and", "&", "et", "al", "with"}


@dataclass
class Candidate:
    doc: int
    score: float
    signals: dict[str, float] = field(default_factory=dict)


@dataclass
class ParsedReference:
    title_text: str  # normalised reference without wrapper words ("the … paper"), as a title would read
    text: str  # the same without years and "et al.", for author citations
    year: int | None
    surnames: list[str]
    et_al: bool


def parse_reference(reference: str, corpus: CorpusIndex) -> ParsedReference:
    # Whitespace folded first: on a long run of it, `\s+…$` below would backtrack quadratically.
    text = " ".join(reference.split()).strip("\"'“”‘’`*_[]() ")
    text = _WRAPPER_TAIL.sub("", _WRAPPER_HEAD.sub("", text)).strip()
    title_text = normalize_text(text)
    years = [int(y) for y in _YEAR.findall(text)]
    et_al = bool(_ET_AL.search(text))
    cited = _ET_AL.sub(" ", _YEAR.sub(" ", text))
    cited = re.sub(r"['’]s\b", "", re.sub(r"[()\[\],;]", " ", cited))
    words = cited.replace("&", " & ").split()
    surnames = _surnames(words, corpus)
    # It reads as an author citation when it is (nearly) all names, or names with "et al.", "&", a year.
    named = _words(surnames)
    others = [w for w in words if w.lower() not in _CONNECTORS and normalize_text(w) not in named]
    cue = et_al or bool(years) or "&" in words or any(w.lower() == "and" for w in words)
    if not surnames or len(others) > (2 if cue else 0):
        surnames = []
    return ParsedReference(
        title_text=title_text,
        text=normalize_text(cited),
        year=years[-1] if years else None,
        surnames=surnames,
        et_al=et_al,
    )


def _surnames(words: list[str], corpus: CorpusIndex) -> list[str]:
    """Known surnames among the words, capitalised as written: "Turpin", and with particles "van der Weij"."""
    surnames: list[str] = []
    i = 0
    while i < len(words):
        for size in (3, 2, 1):
            part = words[i : i + size]
            name = normalize_text(" ".join(part))
            if len(part) == size and part[-1][:1].isupper() and name in corpus.by_surname and name not in _CONNECTORS:
                surnames.append(name)
                i += size
                break
        else:
            i += 1
    return surnames


def _words(surnames: list[str]) -> set[str]:
    """The normalised words of surnames, as a set: looked up once per word of a possibly long reference."""
    return {word for name in surnames for word in name.split()}


def title_similarity(reference: str, title: str) -> float:
    """1.0 for the same title; high for a clear fragment or a slightly wrong title; low otherwise."""
    if not reference or not title:
        return 0.0
    if reference == title:
        return 1.0
    ref_words = reference.split()
    if len(ref_words) >= 2 and f" {reference} " in f" {title} ":
        # A whole-word fragment: "looking inward", "language models dont always say what they think".
        return 0.8 + 0.15 * min(1.0, len(reference) / len(title)) + (0.04 if title.startswith(reference) else 0.0)
    ratio = fuzz.ratio(reference, title) / 100
    token_set = fuzz.token_set_ratio(reference, title) / 100
    coverage = min(1.0, len(reference) / max(1, len(title)))
    return max(ratio, token_set * (0.6 + 0.3 * coverage))


class ReferenceResolver:
    def __init__(self, corpus: CorpusIndex, title_pool: int = 40) -> None:
        self.corpus = corpus
        self.title_pool = title_pool
        self.short_titles = _short_title_aliases(corpus)
        self.names = sorted(corpus.aliases.keys() | self.short_titles.keys())

    def resolve(self, reference: str, n: int = 5) -> list[Candidate]:
        """Candidates best first, each scored in [0, 1]."""
        corpus = self.corpus
        exact = [corpus.doc_for_key(key) for key in exact_keys_in(reference)]
        exact_docs = list(dict.fromkeys(d for d in exact if d is not None))
        if exact_docs:
            return [Candidate(d, 1.0, {"exact": 1.0}) for d in exact_docs[:n]]

        parsed = parse_reference(reference, corpus)
        if not parsed.title_text:
            return []
        candidates: dict[int, Candidate] = {}

        def add(doc: int) -> Candidate:
            if doc not in candidates:
                candidates[doc] = Candidate(doc, 0.0)
            return candidates[doc]

        for name in {parsed.title_text, parsed.text} - {""}:
            for doc in corpus.aliases.get(name, []):
                add(doc).signals["alias"] = 1.0
            for doc in self.short_titles.get(name, []):
                add(doc).signals.setdefault("alias", 0.92)
            if parsed.surnames or parsed.year:
                continue  # "Turpin et al. 2023" is one letter-edit from "Turner et al. 2023": no fuzzy names
            # Near-misses of a known name: "generalisation", a dropped hyphen or letter.
            for near, ratio, _ in process.extract(name, self.names, scorer=fuzz.ratio, score_cutoff=88, limit=3):
                for doc in corpus.aliases.get(near, []) + self.short_titles.get(near, []):
                    add(doc).signals.setdefault("alias", 0.92 * ratio / 100)
        for surname in parsed.surnames:
            for doc in corpus.by_surname.get(surname, []):
                add(doc)
        named = _words(parsed.surnames)
        title_query = " ".join(w for w in parsed.title_text.split() if w not in named)
        for doc, _score in corpus.title_index.search(title_query or parsed.title_text, self.title_pool):
            add(doc)

        for candidate in candidates.values():
            candidate.score = self._score(candidate, parsed)
        ranked = sorted(candidates.values(), key=lambda c: (-c.score, not corpus.curated[c.doc]))
        return ranked[:n]

    def _score(self, candidate: Candidate, parsed: ParsedReference) -> float:
        corpus = self.corpus
        doc = candidate.doc
        signals = candidate.signals
        title = corpus.norm_titles[doc]
        year = corpus.years[doc]
        year_score = None
        if parsed.year is not None:
            year_score = 1.0 if year == parsed.year else 0.5 if year and abs(year - parsed.year) == 1 else 0.0
            signals["year"] = year_score
        # As a title (or a known name): the year, if any, may be part of the title or a citation year.
        signals["title"] = max(title_similarity(parsed.title_text, title), title_similarity(parsed.text, title))
        title_score = max(signals["title"], signals.get("alias", 0.0) * 0.97)
        if year_score is not None and title_similarity(parsed.title_text, title) < signals["title"]:
            title_score -= 0.1 * (1 - year_score)  # the year was a citation year, and it disagrees
        score = title_score
        if parsed.surnames:
            # As an author citation: "Turpin et al. 2023", "Jacovi & Goldberg", "Smith and Chughtai".
            authors = corpus.surnames[doc]
            found = [s for s in parsed.surnames if s in authors]
            author_score = len(found) / len(parsed.surnames)
            if authors and parsed.surnames[0] == authors[0]:
                author_score = min(1.0, author_score + 0.15)
            elif author_score:
                author_score *= 0.8  # the authors people name are normally the first ones
            if not parsed.et_al and len(parsed.surnames) >= 2 and len(authors) == len(parsed.surnames):
                author_score = min(1.0, author_score + 0.1)  # "A & B" names every author
            signals["authors"] = author_score
            parts = [(0.6, author_score)]
            named = _words(parsed.surnames)
            rest = [w for w in parsed.text.split() if w not in named]
            if rest:
                parts.append((0.3, title_similarity(" ".join(rest), title)))
            if year_score is not None:
                parts.append((0.25, year_score))
            score = max(score, sum(w * v for w, v in parts) / sum(w for w, _ in parts))
        if corpus.curated[doc]:
            score += 0.02  # works on our reading list are the ones people mean when a name is ambiguous
        return min(1.0, score)


def _short_title_aliases(corpus: CorpusIndex) -> dict[str, list[int]]:
    """Short names implied by titles: "Sleeper Agents: Training…" → "sleeper agents", "STACK: …" → "stack"."""
    aliases: dict[str, list[int]] = {}
    for doc, title in enumerate(corpus.titles):
        head, sep, _tail = title.partition(":")
        if sep and 1 <= len(head.split()) <= 4:
            aliases.setdefault(normalize_text(head), []).append(doc)
    return aliases

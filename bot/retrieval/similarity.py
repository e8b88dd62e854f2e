"""How alike a reference and a work's title or names are: the cheap string measures `cite` scores with."""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Iterable

from rapidfuzz import fuzz, process

from bot.identifiers import normalize_text


def title_similarity(reference: str, title: str) -> float:
    """1.0 for the same title; high for a clear fragment or a slightly wrong title; low otherwise."""
    if not reference or not title:
        return 0.0
    if reference == title:
        return 1.0
    ref_words = reference.split()
    if len(ref_words) >= 2 and f" {reference} " in f" {title} ":
        # A whole-word fragment: "looking inward", "language models dont always say what they think".
        # Two words of a long title are a topic, not a name: the score grows with the part of the title given.
        coverage = min(1.0, len(reference) / len(title))
        return 0.7 + 0.25 * coverage + (0.04 if title.startswith(reference) else 0.0)
    ratio = fuzz.ratio(reference, title) / 100
    token_set = fuzz.token_set_ratio(reference, title) / 100
    coverage = min(1.0, len(reference) / max(1, len(title)))
    return max(ratio, token_set * (0.6 + 0.3 * coverage))


def stem(word: str) -> str:
    return word[:6] if len(word) > 6 else word.rstrip("s")


def description_match(description: str, stems: set[str]) -> float:
    """Share of the descriptive words (crudely stemmed) among a work's stems: "ccs" in its aliases."""
    wanted = {stem(w) for w in description.split()}
    return len(wanted & stems) / len(wanted) if wanted else 0.0


class NearNames:
    """Known names (aliases, short titles), their near-misses ("generalisation", a dropped hyphen or letter) and
    their other word forms ("mesa optimizer" for "mesa optimization"; `filler` words do not count)."""

    def __init__(self, names: Iterable[str], filler: frozenset[str] = frozenset()) -> None:
        self.names = sorted(names)
        self.filler = filler
        # By length: a ratio of 88 needs the lengths within 12 % of their sum, a fifth of the names at 51k works.
        self._by_length = sorted(range(len(self.names)), key=lambda i: len(self.names[i]))
        self._lengths = [len(self.names[i]) for i in self._by_length]
        self._names_by_length = [self.names[i] for i in self._by_length]
        self._by_stems: dict[str, list[str]] = {}
        for name in self.names:
            if key := self._stems_of(name):
                self._by_stems.setdefault(key, []).append(name)

    def _stems_of(self, name: str) -> str:
        """The stems of a name's words, filler words left out: "model organisms of misalignment" and "model
        organism misalignment" read alike. Empty under two words: one word's stem, its first six letters,
        collides too often."""
        found = [stem(word) for word in name.split() if word not in self.filler]
        return " ".join(found) if len(found) >= 2 else ""

    def same_stems(self, name: str) -> list[str]:
        """The known names whose words (filler left out) have the stems of `name`'s."""
        key = self._stems_of(name)
        return self._by_stems.get(key, []) if key else []

    def near(self, name: str, cutoff: float = 88, limit: int = 3) -> list[tuple[str, float]]:
        """What `process.extract(name, self.names, scorer=fuzz.ratio, score_cutoff=cutoff, limit=limit)` says
        (ties in name order), from only the names whose length can reach the cutoff."""
        share = cutoff / 100
        lo = bisect_left(self._lengths, len(name) * share / (2 - share) - 1)
        hi = bisect_right(self._lengths, len(name) * (2 - share) / share + 1)
        window = self._names_by_length[lo:hi]
        found = process.extract(name, window, scorer=fuzz.ratio, score_cutoff=cutoff, limit=None)
        found.sort(key=lambda f: (-f[1], self._by_length[lo + f[2]]))
        return [(near, ratio) for near, ratio, _ in found[:limit]]


def short_title_names(titles: Iterable[str]) -> dict[str, list[int]]:
    """Short names implied by titles: "Sleeper Agents: Training…" → "sleeper agents", "STACK: …" → "stack"."""
    names: dict[str, list[int]] = {}
    for doc, title in enumerate(titles):
        head, sep, _tail = title.partition(":")
        if sep and 1 <= len(head.split()) <= 4:
            names.setdefault(normalize_text(head), []).append(doc)
    return names

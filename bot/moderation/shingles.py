"""Word shingles, MinHash signatures, a compact banded LSH index, and aligned overlap confirmation.

Words are the comparison words of `normalize.py` (invisible characters, compatibility forms, case,
marks and look-alike letters folded away), so disguised copies shingle like their originals.

Why windows: a plain MinHash of a whole text estimates Jaccard similarity, which is small when a short
post is lifted from a long page (or a long post quotes a short abstract). Stored texts are therefore
sketched as consecutive windows of `window` shingles, and a checked text is queried with overlapping
windows (step window/3). Any copied passage longer than about one window then lines up with a stored
window at high Jaccard, whichever text is longer. Candidates are always confirmed on the full texts by
`overlap`, which aligns words (substituted words included), so the LSH only has to be fast and have high
recall: 3-word shingles and bands of 2 rows keep a copy with every 5th word changed (a quarter of its
shingles shared) a candidate.

Why not `datasketch.MinHashLSH`: it keeps a Python dict entry per band per window, several KB each;
at 100,000 posts that is gigabytes. Here the band keys live in sorted numpy arrays (bands × 12 bytes
per window) and lookups are `searchsorted`. Signatures use datasketch's own permutations, so they are
the same numbers `datasketch.MinHash` computes (a test checks this).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np
import xxhash

from bot.moderation.normalize import NORMALIZATION, comparison_words

_MIX = np.uint64(0x9E3779B97F4A7C15)
_AFFINE32_MAX = np.uint32(0xFFFFFFFF)


@dataclass(frozen=True)
class SketchParams:
    shingle_size: int = 3
    num_perm: int = 128
    bands: int = 64
    window: int = 100
    seed: int = 1

    @property
    def rows(self) -> int:
        return self.num_perm // self.bands

    @property
    def tag(self) -> str:
        """Stored sketches made with other parameters (or another text normalisation) are recomputed, never mixed."""
        return f"{NORMALIZATION}-k{self.shingle_size}-p{self.num_perm}-b{self.bands}-w{self.window}-s{self.seed}"


@lru_cache(maxsize=200_000)
def _word_hash(word: str) -> int:
    return xxhash.xxh64_intdigest(word.encode())


@dataclass
class Shingled:
    """A text as ordered shingle hashes, with the way back from a shingle to the original words."""

    tokens: list[str]  # the original whitespace-separated tokens, for showing passages
    origin: np.ndarray  # normalised word index → token index
    hashes: np.ndarray  # uint32 shingle hash at each word position (len = words - k + 1)
    k: int
    unique: np.ndarray = field(init=False)  # the distinct shingle hashes, sorted
    first: np.ndarray = field(init=False)  # where each of them first occurs (aligns this text with another)

    def __post_init__(self) -> None:
        self.unique, self.first = np.unique(self.hashes, return_index=True)

    def __len__(self) -> int:
        return len(self.unique)

    def passage(self, first: int, last: int, max_words: int = 60) -> str:
        """The original text of normalised words first..last (inclusive)."""
        start, end = int(self.origin[first]), int(self.origin[min(last, len(self.origin) - 1)])
        words = self.tokens[start : end + 1]
        if len(words) > max_words:
            half = max_words // 2
            return " ".join([*words[:half], "…", *words[-half:]])
        return " ".join(words)


def shingle(text: str, k: int = SketchParams.shingle_size) -> Shingled:
    tokens = text.split()
    words: list[str] = []
    origin: list[int] = []
    for i, token in enumerate(tokens):
        for word in comparison_words(token):
            words.append(word)
            origin.append(i)
    if not words:
        return Shingled(tokens, np.zeros(0, np.int64), np.zeros(0, np.uint32), k)
    wh = np.fromiter((_word_hash(w) for w in words), dtype=np.uint64, count=len(words))
    if len(words) < k:  # a very short text is one shingle
        k_eff, n = len(words), 1
    else:
        k_eff, n = k, len(words) - k + 1
    h = np.zeros(n, dtype=np.uint64)
    for j in range(k_eff):  # polynomial combination of k word hashes; wraps mod 2**64 on purpose
        h = h * _MIX + wh[j : j + n]
    h ^= h >> np.uint64(29)
    h *= np.uint64(0xBF58476D1CE4E5B9)
    h ^= h >> np.uint64(32)
    return Shingled(tokens, np.asarray(origin, np.int64), (h & np.uint64(0xFFFFFFFF)).astype(np.uint32), k)


@lru_cache(maxsize=8)
def _permutations(num_perm: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    from datasketch import MinHash  # imports scipy (a second): only when a text is first shingled

    a, b = MinHash(num_perm=num_perm, seed=seed, scheme="affine32").permutations
    return a.astype(np.uint32), b.astype(np.uint32)


@lru_cache(maxsize=8)
def _band_multipliers(rows: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed + 7919)
    return rng.integers(1, 2**63, size=rows, dtype=np.uint64) | np.uint64(1)


def minhash(hashes: np.ndarray, params: SketchParams) -> np.ndarray:
    """The MinHash signature (uint32[num_perm]) of a set of 32-bit shingle hashes.

    Same numbers as `datasketch.MinHash(scheme="affine32")` fed the same hashes: its finaliser, its
    permutations, uint32 arithmetic that wraps on purpose.
    """
    a, b = _permutations(params.num_perm, params.seed)
    from datasketch.minhash import _fmix

    hv = _fmix(np.asarray(hashes, dtype=np.uint32), 32)
    sig = np.full(params.num_perm, _AFFINE32_MAX, dtype=np.uint32)
    for start in range(0, hv.size, 4096):  # bounded memory for very long texts
        sig = np.minimum(sig, (hv[start : start + 4096, None] * a + b).min(axis=0))
    return sig


def band_keys(signatures: np.ndarray, params: SketchParams) -> np.ndarray:
    """uint64[windows, bands]: one hash per band of `rows` consecutive signature values."""
    sigs = np.atleast_2d(signatures).astype(np.uint64)
    mult = _band_multipliers(params.rows, params.seed)
    shaped = sigs.reshape(len(sigs), params.bands, params.rows)
    keys = (shaped * mult).sum(axis=2, dtype=np.uint64)
    keys ^= keys >> np.uint64(31)
    return keys


def stored_windows(s: Shingled, params: SketchParams) -> list[np.ndarray]:
    """Consecutive windows of shingles; a short tail joins the previous window."""
    n, w = len(s.hashes), params.window
    if n <= w:
        return [s.hashes] if n else []
    bounds = list(range(0, n, w))
    if n - bounds[-1] < w // 2:
        bounds.pop()
    return [s.hashes[start : (bounds[i + 1] if i + 1 < len(bounds) else n)] for i, start in enumerate(bounds)]


def query_windows(s: Shingled, params: SketchParams) -> list[np.ndarray]:
    """Overlapping windows (step window/3), so every stored window has one query window near its alignment."""
    n, w = len(s.hashes), params.window
    if n <= w:
        return [s.hashes] if n else []
    step = max(1, w // 3)
    starts = list(range(0, n - w + 1, step))
    if starts[-1] != n - w:
        starts.append(n - w)
    return [s.hashes[start : start + w] for start in starts]


def sketch(windows: Sequence[np.ndarray], params: SketchParams) -> np.ndarray:
    if not windows:
        return np.zeros((0, params.bands), dtype=np.uint64)
    return band_keys(np.stack([minhash(np.unique(w), params) for w in windows]), params)


class BandIndex:
    """Band keys of every stored window in per-band sorted arrays; new entries are merged in on query."""

    def __init__(self, params: SketchParams) -> None:
        self.params = params
        self.names: list[str] = []
        self._position: dict[str, int] = {}
        self._alive: list[bool] = []
        self._sorted_keys = np.zeros((params.bands, 0), dtype=np.uint64)
        self._sorted_owner = np.zeros((params.bands, 0), dtype=np.int32)
        self._pending_keys: list[np.ndarray] = []
        self._pending_owner: list[np.ndarray] = []

    def __len__(self) -> int:
        return sum(self._alive)

    def __contains__(self, name: str) -> bool:
        return name in self._position and self._alive[self._position[name]]

    @property
    def windows(self) -> int:
        return self._sorted_keys.shape[1] + sum(len(k) for k in self._pending_keys)

    def nbytes(self) -> int:
        return int(self._sorted_keys.nbytes + self._sorted_owner.nbytes)

    def add(self, name: str, keys: np.ndarray) -> None:
        """Add (or replace) the windows of one text."""
        self.remove(name)
        doc = len(self.names)
        self.names.append(name)
        self._alive.append(True)
        self._position[name] = doc
        if len(keys):
            self._pending_keys.append(np.asarray(keys, dtype=np.uint64).reshape(-1, self.params.bands))
            self._pending_owner.append(np.full(len(keys), doc, dtype=np.int32))

    def add_many(self, names: Sequence[str], keys: Sequence[np.ndarray]) -> None:
        for name, k in zip(names, keys, strict=True):
            self.add(name, k)

    def remove(self, name: str) -> None:
        doc = self._position.pop(name, None)
        if doc is not None:
            self._alive[doc] = False

    def _merge_pending(self) -> None:
        if not self._pending_keys:
            return
        keys = np.concatenate(self._pending_keys).T  # bands × n
        owner = np.concatenate(self._pending_owner)
        self._pending_keys, self._pending_owner = [], []
        bands = self.params.bands
        new_keys = np.empty((bands, self._sorted_keys.shape[1] + keys.shape[1]), dtype=np.uint64)
        new_owner = np.empty(new_keys.shape, dtype=np.int32)
        for b in range(bands):
            order = np.argsort(keys[b], kind="stable")
            add_k, add_o = keys[b][order], owner[order]
            if self._sorted_keys.shape[1] == 0:
                new_keys[b], new_owner[b] = add_k, add_o
                continue
            at = np.searchsorted(self._sorted_keys[b], add_k)
            new_keys[b] = np.insert(self._sorted_keys[b], at, add_k)
            new_owner[b] = np.insert(self._sorted_owner[b], at, add_o)
        self._sorted_keys, self._sorted_owner = new_keys, new_owner

    def query(self, keys: np.ndarray, limit: int = 50) -> list[tuple[str, int]]:
        """Stored texts sharing a band with any query window, most shared bands first."""
        self._merge_pending()
        if self._sorted_keys.shape[1] == 0 or len(keys) == 0:
            return []
        hits: list[np.ndarray] = []
        for b in range(self.params.bands):
            column = self._sorted_keys[b]
            lo = np.searchsorted(column, keys[:, b], side="left")
            hi = np.searchsorted(column, keys[:, b], side="right")
            for i in np.nonzero(hi > lo)[0]:
                hits.append(self._sorted_owner[b, lo[i] : hi[i]])
        if not hits:
            return []
        docs, counts = np.unique(np.concatenate(hits), return_counts=True)
        order = np.argsort(-counts, kind="stable")
        found = [(self.names[d], int(c)) for d, c in zip(docs[order], counts[order], strict=True) if self._alive[d]]
        return found[:limit]


@dataclass
class Overlap:
    shared: int  # distinct shingles in both texts
    jaccard: float  # of the two shingle sets
    containment: float  # share of the checked text's words that are aligned with the source
    coverage: float  # share of the source's words that are aligned with the checked text
    passages: list[str]


# Words that differ between two runs of shared shingles are still counted as copied when they are at most
# this many, and the two runs are as far apart in the source as in the checked text (one word more or
# less): that is a copy with words substituted, not two stock phrases that happen to recur.
MAX_GAP = 3


def _members(values: np.ndarray, sorted_set: np.ndarray) -> np.ndarray:
    """values ∈ sorted_set, by binary search: no sort of either array, unlike np.isin."""
    at = np.minimum(np.searchsorted(sorted_set, values), sorted_set.size - 1)
    return sorted_set[at] == values


def _span(s: Shingled) -> int:
    """Words a shingle covers (fewer when the whole text is shorter than a shingle)."""
    return min(s.k, len(s.origin))


def aligned_words(a: Shingled, b: Shingled) -> np.ndarray:
    """bool per word of `a`: inside a shingle that `b` has, or in a short substituted gap between two such
    shingles that sit the same distance apart in `b` (the alignment that confirms the gap is a copy)."""
    n_words, k = len(a.origin), _span(a)
    covered = np.zeros(n_words, dtype=bool)
    if not n_words or not len(b.hashes):
        return covered
    inside = _members(a.hashes, b.unique)
    starts = np.nonzero(inside)[0]
    if not starts.size:
        return covered
    marks = np.zeros(n_words + 1, dtype=np.int32)
    np.add.at(marks, starts, 1)
    np.add.at(marks, np.minimum(starts + k, n_words), -1)
    covered = np.cumsum(marks[:-1]) > 0
    # Where each of a's shared shingles first occurs in b.
    first_in_b = np.full(len(a.hashes), -1, dtype=np.int64)
    first_in_b[starts] = b.first[np.searchsorted(b.unique, a.hashes[starts])]
    padded = np.concatenate([[True], covered, [True]]).astype(np.int8)
    edges = np.diff(padded)
    gap_start, gap_end = np.nonzero(edges == -1)[0], np.nonzero(edges == 1)[0]  # [start, end) uncovered
    # The shared shingles that end just before a gap and start just after it (a gap at either end of the
    # text has no such pair), and how far apart the same two shingles are in b.
    left, right = gap_start - k, gap_end
    pair = (left >= 0) & (right < len(a.hashes))
    pair[pair] &= inside[left[pair]] & inside[right[pair]]
    gap = gap_end - gap_start
    gap_in_b = np.full(len(gap), -1, dtype=np.int64)
    gap_in_b[pair] = first_in_b[right[pair]] - (first_in_b[left[pair]] + k)
    filled = pair & (gap <= MAX_GAP) & (gap_in_b >= 0) & (gap_in_b <= MAX_GAP) & (np.abs(gap_in_b - gap) <= 1)
    for start, end in zip(gap_start[filled], gap_end[filled], strict=True):
        covered[start:end] = True
    return covered


def overlap(query: Shingled, source: Shingled, max_passages: int = 3, *, min_detail: float = 0.1) -> Overlap:
    """Aligned overlap between a checked text and a source, with the copied passages as evidence.

    Containment and coverage count words, not shingles: with every fifth word changed no 5-word shingle
    survives, but every unchanged word still sits in a shared 3-word shingle and the changed ones sit in
    gaps that line up in both texts. Most LSH candidates share only stock phrases; below `min_detail` on
    every measure the passages are not worth computing, which keeps confirming 30 candidates cheap.
    """
    if len(query) == 0 or len(source) == 0:
        return Overlap(0, 0.0, 0.0, 0.0, [])
    shared = int(np.count_nonzero(_members(query.unique, source.unique)))
    if not shared:
        return Overlap(0, 0.0, 0.0, 0.0, [])
    in_query = aligned_words(query, source)
    in_source = aligned_words(source, query)
    result = Overlap(
        shared=shared,
        jaccard=round(shared / (len(query) + len(source) - shared), 4),
        containment=round(float(in_query.mean()), 4),
        coverage=round(float(in_source.mean()), 4),
        passages=[],
    )
    if max(result.jaccard, result.containment, result.coverage) < min_detail:
        return result
    # Runs of aligned words are the copied passages; the longest are the evidence.
    padded = np.concatenate([[False], in_query, [False]]).astype(np.int8)
    edges = np.diff(padded)
    starts, ends = np.nonzero(edges == 1)[0], np.nonzero(edges == -1)[0] - 1
    runs = sorted(zip(starts, ends, strict=True), key=lambda r: r[0] - r[1])[:max_passages]
    result.passages = [query.passage(int(start), int(end)) for start, end in sorted(runs)]
    return result

"""BM25 over a list of texts (bm25s with the Snowball English stemmer), updatable without a rebuild.

bm25s builds an immutable index (a sparse matrix of precomputed scores). Documents added later go to a small
delta scored at query time with the main index's formula and statistics, and documents removed are masked;
`updated` returns a new index sharing the main one, so readers of the old one are never disturbed. The
owner rebuilds (compacts) when the delta grows (`delta_size`). Until then the main index's term statistics
stay those of its build: a few hundred changed works among thousands move BM25 scores negligibly.
"""

from __future__ import annotations

import copy
import re
import sys
from collections.abc import Sequence

import numpy as np
import Stemmer

# bm25s tries `import scipy.sparse` for an index backend (csc_backend="scipy") this index never uses, and that
# import is a fifth of a second of every cold `cite`: hide scipy from bm25s's import unless it is loaded already.
# (This module is imported at start-up, in the main thread, before any other thread could want scipy.)
_hide_scipy = "scipy" not in sys.modules
if _hide_scipy:
    sys.modules["scipy"] = None  # type: ignore[assignment]  # makes `import scipy…` raise ImportError
try:
    import bm25s
    from bm25s.stopwords import STOPWORDS_EN
    from bm25s.tokenization import Tokenizer
finally:
    if _hide_scipy:
        del sys.modules["scipy"]

_STEMMER = Stemmer.Stemmer("english")
_TOKEN = re.compile(r"(?u)\b\w\w+\b")  # bm25s's default token pattern
_STOPWORDS = frozenset(STOPWORDS_EN)


_VOCABULARY = ("word_to_stem", "stem_to_sid", "word_to_id")


def _tokenizer() -> Tokenizer:
    return Tokenizer(stemmer=_STEMMER, stopwords="en", lower=True)


class LexicalIndex:
    def __init__(self, texts: list[str]) -> None:
        self.size = len(texts)  # documents numbered 0..size-1: the main index's, then the delta's
        self.main_size = self.size
        self.tokenizer = _tokenizer()
        self.retriever = bm25s.BM25()
        self.document_frequency: np.ndarray = np.zeros(0, dtype=np.int64)
        self.main_vocabulary = 0  # token ids below this are in the main index
        self.average_length = 1.0
        # The delta: one entry per (document, distinct token), sorted by token for slicing at query time.
        self.delta_docs = np.zeros(0, dtype=np.int64)
        self.delta_tokens = np.zeros(0, dtype=np.int64)
        self.delta_counts = np.zeros(0, dtype=np.float32)
        self.delta_lengths = np.zeros(0, dtype=np.float32)  # by document - main_size
        self.removed = np.zeros(0, dtype=np.int64)  # document numbers no longer in the corpus
        if texts:
            token_ids = self.tokenizer.tokenize(texts, return_as="ids", show_progress=False)
            self.retriever.index(token_ids, show_progress=False)
            self.main_vocabulary = len(self.retriever.scores["indptr"]) - 1
            self.average_length = float(np.mean([len(doc) for doc in token_ids]))
            unique_per_doc = np.concatenate([np.unique(np.asarray(doc, dtype=np.int64)) for doc in token_ids])
            self.document_frequency = np.bincount(unique_per_doc, minlength=len(self.tokenizer.get_vocab_dict()))
        self._empty_token = self.tokenizer.get_vocab_dict().get("")

    @property
    def delta_size(self) -> int:
        """Documents added since the main index was built."""
        return self.size - self.main_size

    def __getstate__(self) -> dict[str, object]:
        # The tokenizer holds the stemmer, a C object pickle cannot save: keep its vocabulary only.
        state = dict(self.__dict__)
        state["tokenizer"] = {name: getattr(self.tokenizer, name) for name in _VOCABULARY}
        return state

    def __setstate__(self, state: dict[str, object]) -> None:
        vocabulary = state.pop("tokenizer")
        self.__dict__.update(state)
        self.tokenizer = _tokenizer()
        for name, value in vocabulary.items():  # type: ignore[attr-defined]
            setattr(self.tokenizer, name, value)

    def updated(self, added: Sequence[str], removed: Sequence[int] = ()) -> LexicalIndex:
        """A new index: this one's documents, those numbered `removed` gone, and `added` numbered from `size` on."""
        new = copy.copy(self)  # the main bm25s index is shared; what changes below is replaced, not mutated
        new.tokenizer = _tokenizer()
        for name in _VOCABULARY:
            setattr(new.tokenizer, name, getattr(self.tokenizer, name).copy())
        if removed:
            new.removed = np.union1d(self.removed, np.asarray(removed, dtype=np.int64))
        if added:
            token_ids = new.tokenizer.tokenize(list(added), update_vocab=True, return_as="ids", show_progress=False)
            docs, tokens, counts = [self.delta_docs], [self.delta_tokens], [self.delta_counts]
            for offset, doc in enumerate(token_ids):
                distinct, count = np.unique(np.asarray(doc, dtype=np.int64), return_counts=True)
                docs.append(np.full(len(distinct), self.size + offset, dtype=np.int64))
                tokens.append(distinct)
                counts.append(count.astype(np.float32))
            order = np.argsort(np.concatenate(tokens), kind="stable")
            new.delta_docs = np.concatenate(docs)[order]
            new.delta_tokens = np.concatenate(tokens)[order]
            new.delta_counts = np.concatenate(counts)[order]
            lengths = np.asarray([len(doc) for doc in token_ids], dtype=np.float32)
            new.delta_lengths = np.concatenate([self.delta_lengths, lengths])
            if self.main_size == 0:  # no main index to take the average document length from
                new.average_length = float(new.delta_lengths.mean())
            vocabulary = len(new.tokenizer.get_vocab_dict())
            frequency = np.zeros(vocabulary, dtype=np.int64)
            frequency[: len(self.document_frequency)] = self.document_frequency
            np.add.at(frequency, np.concatenate(tokens[1:]), 1)
            new.document_frequency = frequency
            new.size = self.size + len(added)
            if new._empty_token is None:
                new._empty_token = new.tokenizer.get_vocab_dict().get("")
        return new

    def search(self, query: str, k: int) -> list[tuple[int, float]]:
        """Up to `k` (document index, BM25 score) pairs with a positive score, best first."""
        if self.size == 0:
            return []
        # The stream, not the list: the list form wraps the same generator in a progress bar, even a hidden one.
        token_ids = next(self.tokenizer.tokenize([query], update_vocab=False, return_as="stream"))
        known = [t for t in token_ids if t != self._empty_token]
        if not known:
            return []
        scores = np.zeros(self.size, dtype=np.float32)
        in_main = [t for t in known if t < self.main_vocabulary]
        if in_main:
            scores[: self.main_size] = self.retriever.get_scores_from_ids(in_main)
        if self.delta_size:
            self._score_delta(known, scores)
        if len(self.removed):
            scores[self.removed] = 0.0
        k = min(k, self.size)
        top = np.argpartition(-scores, k - 1)[:k] if k < self.size else np.arange(self.size)
        top = top[np.argsort(-scores[top], kind="stable")]
        top = top[scores[top] > 0]
        return list(zip(top.tolist(), scores[top].tolist(), strict=True))

    def _score_delta(self, token_ids: list[int], scores: np.ndarray) -> None:
        """Add the delta documents' BM25 scores (bm25s's Lucene variant, k1 and b of the main index)."""
        k1, b = self.retriever.k1, self.retriever.b
        starts = np.searchsorted(self.delta_tokens, token_ids, side="left")
        ends = np.searchsorted(self.delta_tokens, token_ids, side="right")
        for token, start, end in zip(token_ids, starts, ends, strict=True):
            if start == end:
                continue
            docs, counts = self.delta_docs[start:end], self.delta_counts[start:end]
            lengths = self.delta_lengths[docs - self.main_size]
            saturation = counts / (k1 * ((1 - b) + b * lengths / self.average_length) + counts)
            scores[docs] += self._idf(int(self.document_frequency[token])) * saturation

    def _idf(self, df: int) -> float:
        return float(np.log(1 + (self.size - df + 0.5) / (df + 0.5)))

    def idf(self, stems: set[str]) -> dict[str, float]:
        """BM25 inverse document frequency of each stem (of `stems`); stems the corpus never uses get the maximum."""
        vocab = self.tokenizer.get_vocab_dict()
        idf = {}
        for stem in stems:
            df = int(self.document_frequency[vocab[stem]]) if stem in vocab else 0
            idf[stem] = self._idf(df)
        return idf


def stems(text: str) -> set[str]:
    """The stemmed, stop-word-free terms of a text, as bm25s tokenizes for the lexical indexes (same token
    pattern, stop words and stemmer) but without its per-call overhead: it runs per sentence and per candidate."""
    words = [w for w in _TOKEN.findall(text.lower()) if w not in _STOPWORDS]
    return set(_STEMMER.stemWords(words))


def shared_idf(idf: dict[str, float], text: str) -> float:
    """The idf mass of the terms in `idf` (a question's or thread's, from `LexicalIndex.idf`) that `text` uses."""
    return sum(idf[s] for s in idf.keys() & stems(text))

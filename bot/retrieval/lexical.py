"""BM25 over a list of texts (bm25s with the Snowball English stemmer)."""

from __future__ import annotations

import sys

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
    from bm25s.tokenization import Tokenizer
finally:
    if _hide_scipy:
        del sys.modules["scipy"]

_STEMMER = Stemmer.Stemmer("english")


_VOCABULARY = ("word_to_stem", "stem_to_sid", "word_to_id")


def _tokenizer() -> Tokenizer:
    return Tokenizer(stemmer=_STEMMER, stopwords="en", lower=True)


class LexicalIndex:
    def __init__(self, texts: list[str]) -> None:
        self.size = len(texts)
        self.tokenizer = _tokenizer()
        self.retriever = bm25s.BM25()
        self.document_frequency: np.ndarray = np.zeros(0, dtype=np.int32)
        if texts:
            token_ids = self.tokenizer.tokenize(texts, return_as="ids", show_progress=False)
            self.retriever.index(token_ids, show_progress=False)
            unique_per_doc = np.concatenate([np.unique(np.asarray(doc, dtype=np.int64)) for doc in token_ids])
            self.document_frequency = np.bincount(unique_per_doc, minlength=len(self.tokenizer.get_vocab_dict()))
        self._empty_token = self.tokenizer.get_vocab_dict().get("")

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

    def search(self, query: str, k: int) -> list[tuple[int, float]]:
        """Up to `k` (document index, BM25 score) pairs with a positive score, best first."""
        if self.size == 0:
            return []
        token_ids = self.tokenizer.tokenize([query], update_vocab=False, return_as="ids", show_progress=False)
        known = [t for t in token_ids[0] if t != self._empty_token]
        if not known:
            return []
        # n_threads=0 scores in this thread: any other value starts a thread pool on every call.
        docs, scores = self.retriever.retrieve(
            [known], k=min(k, self.size), show_progress=False, n_threads=0, backend_selection="numpy"
        )
        return [(int(d), float(s)) for d, s in zip(docs[0], scores[0], strict=True) if s > 0]

    def stems(self, text: str) -> set[str]:
        """The stemmed, stop-word-free terms of a text, as this index sees them."""
        return set(bm25s.tokenize(text, stopwords="en", stemmer=_STEMMER, return_ids=False, show_progress=False)[0])

    def idf(self, stems: set[str]) -> dict[str, float]:
        """BM25 inverse document frequency of each stem; stems the corpus never uses get the maximum."""
        vocab = self.tokenizer.get_vocab_dict()
        idf = {}
        for stem in stems:
            df = int(self.document_frequency[vocab[stem]]) if stem in vocab else 0
            idf[stem] = float(np.log(1 + (self.size - df + 0.5) / (df + 0.5)))
        return idf

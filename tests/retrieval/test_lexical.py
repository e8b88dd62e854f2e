"""The BM25 index updated in place of a rebuild: documents added to the delta rank as a rebuilt index ranks
them, removed ones are never returned, and the index being read is never changed."""

from __future__ import annotations

import json

from bot.retrieval.lexical import LexicalIndex, stems
from bot.settings import Settings

READING_LIST = Settings().knowledge_dir / "reading_list.jsonl"


def texts() -> list[str]:
    """Titles and summaries of the bundled reading list (about 500 works)."""
    rows = [json.loads(line) for line in READING_LIST.read_text().splitlines() if line.strip()]
    return [" ".join([row["title"], row["title"], row.get("summary") or ""]) for row in rows]


QUERIES = ["chain of thought faithfulness", "reward hacking", "sleeper agents deceptive", "language models"]


def test_added_documents_rank_as_in_a_rebuilt_index() -> None:
    corpus = texts()
    assert len(corpus) >= 400
    rebuilt = LexicalIndex(corpus)
    updated = LexicalIndex(corpus[:-20]).updated(corpus[-20:])
    assert updated.size == rebuilt.size and updated.delta_size == 20
    for query in QUERIES:
        expected, got = rebuilt.search(query, 5), updated.search(query, 5)
        assert [d for d, _ in got] == [d for d, _ in expected], query
        for (_, want), (_, have) in zip(expected, got, strict=True):
            assert abs(want - have) <= 0.05 * want, query  # the main index's statistics lack the delta's
    assert updated.idf(stems("deceptive")) == rebuilt.idf(stems("deceptive"))


def test_a_document_only_in_the_delta_is_found_by_new_words() -> None:
    index = LexicalIndex(texts()).updated(["Quokkas and wombats"])
    assert index.search("wombat", 3) == [(index.size - 1, index.search("wombat", 3)[0][1])]
    assert LexicalIndex([]).updated(["Quokkas and wombats"]).search("quokka", 1)[0][0] == 0


def test_removed_documents_are_not_returned_and_the_old_index_is_unchanged() -> None:
    corpus = texts()
    index = LexicalIndex(corpus)
    best = index.search("chain of thought", 1)[0][0]
    updated = index.updated([corpus[best] + " zyxquokka"], removed=[best])
    assert best not in [d for d, _ in updated.search("chain of thought", 10)]
    assert updated.search("chain of thought zyxquokka", 1)[0][0] == len(corpus)
    assert index.search("chain of thought", 1)[0][0] == best and index.size == len(corpus)
    assert index.search("zyxquokka", 3) == []  # the new word went to the new index's vocabulary only


def test_stems_are_the_terms_the_index_is_built_from() -> None:
    # `stems` reimplements bm25s's tokenizer without its per-call overhead: idf lookups rely on the two agreeing.
    import bm25s

    from bot.retrieval.lexical import _STEMMER

    for text in (
        "Sleeper Agents: Training Deceptive LLMs that Persist Through Safety-Training (2024)",
        "Chain-of-thought isn't always faithful; models' explanations are_often post-hoc. CoT 42 x",
        "Über die Mächtigkeit — naïve Bayes, l'apprentissage, 機械学習 and the the a",
    ):
        tokenized = bm25s.tokenize(text, stopwords="en", stemmer=_STEMMER, return_ids=False, show_progress=False)
        assert stems(text) == set(tokenized[0])

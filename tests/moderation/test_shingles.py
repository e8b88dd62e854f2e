"""Shingles, MinHash (checked against datasketch itself), the banded LSH index and exact overlap."""

from __future__ import annotations

import numpy as np
from datasketch import MinHash
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.moderation.shingles import (
    BandIndex,
    SketchParams,
    aligned_words,
    minhash,
    overlap,
    query_windows,
    shingle,
    sketch,
    stored_windows,
)

from .conftest import lightly_edit, text

P = SketchParams()


def _index(names: list[str]) -> BandIndex:
    index = BandIndex(P)
    for name in names:
        index.add(name, sketch(stored_windows(shingle(text(name)), P), P))
    return index


def _query(index: BandIndex, body: str) -> list[str]:
    return [name for name, _ in index.query(sketch(query_windows(shingle(body), P), P))]


def test_signature_is_datasketchs() -> None:
    s = shingle(text("zoe_blog"))
    reference = MinHash(num_perm=P.num_perm, seed=P.seed, hashfunc=int)
    reference.update_batch([int(h) for h in s.unique])
    assert np.array_equal(minhash(s.unique, P), reference.hashvalues)


def test_shingles_ignore_case_and_punctuation() -> None:
    a = shingle("The model, when prompted, explains its reasoning step by step.")
    b = shingle("the model when prompted explains its REASONING step-by-step")
    assert np.array_equal(a.unique, b.unique)
    assert len(shingle("")) == 0
    assert len(shingle("two words")) == 1  # a text shorter than a shingle is one shingle


def test_lsh_finds_edited_copies_and_excerpts_but_not_unrelated_texts() -> None:
    index = _index(["zoe_blog", "bob_blog", "mallory_rejected", "carol_published"])
    assert _query(index, lightly_edit(text("bob_blog")))[0] == "bob_blog"
    excerpt = " ".join(text("zoe_blog").split()[60:280])
    assert _query(index, excerpt)[0] == "zoe_blog"
    assert _query(index, text("erin_original")) == []


def test_index_replace_remove_and_add_after_query() -> None:
    index = _index(["zoe_blog"])
    assert _query(index, text("zoe_blog")) == ["zoe_blog"]
    index.add("bob_blog", sketch(stored_windows(shingle(text("bob_blog")), P), P))  # merged into sorted arrays
    assert _query(index, text("bob_blog")) == ["bob_blog"]
    assert _query(index, text("zoe_blog")) == ["zoe_blog"]
    index.add("zoe_blog", sketch(stored_windows(shingle(text("mallory_rejected")), P), P))  # replaced text
    assert _query(index, text("zoe_blog")) == []
    assert _query(index, text("mallory_rejected")) == ["zoe_blog"]
    index.remove("bob_blog")
    assert _query(index, text("bob_blog")) == []
    assert len(index) == 1 and "bob_blog" not in index


def test_overlap_measures_and_passages() -> None:
    source = shingle(text("zoe_blog"))
    words = text("zoe_blog").split()
    pasted = shingle(" ".join(["Some", "words", "of", "my", "own", "first.", *words[100:160]]))
    o = overlap(pasted, source)
    assert o.containment > 0.9
    assert o.coverage < 0.25
    assert o.passages == [" ".join(words[100:160])]  # the copied words, as written
    longer = overlap(shingle(" ".join(words[100:200])), source)
    assert longer.passages == [" ".join([*words[100:130], "…", *words[170:200]])]
    assert overlap(shingle(text("erin_original")), source).containment < 0.1


def test_windows_cover_the_whole_text() -> None:
    s = shingle(text("bob_blog"))
    stored = stored_windows(s, P)
    assert sum(len(w) for w in stored) == len(s.hashes)
    assert all(len(w) >= P.window // 2 for w in stored)
    queries = query_windows(s, P)
    assert np.array_equal(queries[-1], s.hashes[-P.window :])


@settings(max_examples=40, deadline=None)
@given(st.lists(st.text(alphabet="abcdefghij", min_size=1, max_size=6), min_size=1, max_size=300))
def test_a_text_is_fully_contained_in_itself(words: list[str]) -> None:
    s = shingle(" ".join(words))
    o = overlap(s, s)
    assert o.containment == o.coverage == o.jaccard == 1.0


def _replace_every(words: list[str], nth: int) -> list[str]:
    return [f"other{i}" if (i + 1) % nth == 0 else w for i, w in enumerate(words)]


def test_substituted_words_are_aligned_with_the_source() -> None:
    words = text("zoe_blog").split()
    source = shingle(" ".join(words))
    for nth in (4, 5, 8):
        o = overlap(shingle(" ".join(_replace_every(words, nth))), source)
        assert o.containment > 0.97 and o.coverage > 0.97, nth
        assert o.jaccard < 0.6  # the shingle sets alone say much less
    # Every other word changed is no longer a copy of the text.
    assert overlap(shingle(" ".join(_replace_every(words, 2))), source).containment < 0.1


def test_gaps_are_filled_only_where_both_texts_line_up() -> None:
    source = shingle("one of the main reasons is cost and another one of the main ideas is speed")
    # The same stock phrases, with different words between them than in the source: nothing to fill.
    checked = shingle("one of the main xx yy zz ww one of the main")
    covered = aligned_words(checked, source)
    assert covered.tolist() == [True] * 4 + [False] * 4 + [True] * 4
    # The same distance apart as in the source: a substitution, filled.
    assert aligned_words(shingle("one of the main reasons is money and another one"), source).all()

"""Properties of reference resolution (what `cite` and the bibliography do with "Turpin et al. 2023", an id,
a half-remembered title) over the bundled reading list.

For any reference: an answer in milliseconds, candidates best first with scores in [0, 1], each work once.
A work named by any written form of its arXiv id, DOI or link is the answer, with score 1.0.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import example, given
from hypothesis import strategies as st
from rapidfuzz import fuzz, process

from bot.retrieval.corpus import CorpusIndex
from bot.retrieval.reference import parse_reference
from bot.retrieval.resolve import ReferenceResolver
from bot.retrieval.similarity import NearNames, stem, title_similarity
from tests.properties import PURE, elapsed, reading_list_corpus, short_id


@pytest.fixture(scope="module")
def corpus() -> Iterator[CorpusIndex]:
    with tempfile.TemporaryDirectory(prefix="resolve-properties-") as directory:
        yield reading_list_corpus(Path(directory))


@pytest.fixture(scope="module")
def resolver(corpus: CorpusIndex) -> ReferenceResolver:
    return ReferenceResolver(corpus)


_PIECES = ["Turpin", "Hubinger", "Jacovi", "Goldberg", "et al.", "&", "and", "2023", "(2024)", "the", "paper", "'s"]
references = st.text(max_size=120) | st.lists(
    st.sampled_from(_PIECES) | st.text(max_size=8), min_size=1, max_size=12
).map(" ".join)


@given(references, st.integers(1, 8))
@example("the paper", 5)
@example("  \n\t ", 3)
@PURE
def test_candidates_are_ranked_scored_and_distinct(resolver: ReferenceResolver, reference: str, n: int) -> None:
    candidates = resolver.resolve(reference, n=n)
    assert len(candidates) <= n
    assert len({c.doc for c in candidates}) == len(candidates)
    assert all(0 <= c.doc < len(resolver.corpus) for c in candidates)
    assert all(0.0 <= c.score <= 1.0 for c in candidates)
    assert [c.score for c in candidates] == sorted((c.score for c in candidates), reverse=True)


@given(references)
@PURE
def test_parsed_reference_is_normalised(corpus: CorpusIndex, reference: str) -> None:
    parsed = parse_reference(reference, corpus)
    assert parsed.title_text == " ".join(parsed.title_text.split())
    assert all(s in corpus.by_surname for s in parsed.surnames)
    assert parsed.year is None or 1950 <= parsed.year <= 2049


@given(st.data())
@PURE
def test_a_work_named_by_its_id_or_link_is_the_answer(resolver: ReferenceResolver, data: st.DataObject) -> None:
    corpus = resolver.corpus
    keyed = sorted(k for k in corpus.keys if k.startswith(("arxiv:", "doi:")))
    key = data.draw(st.sampled_from(keyed))
    kind, ident = key.split(":", 1)
    if kind == "arxiv":
        form = data.draw(
            st.sampled_from(["{}", "arXiv:{}", "arXiv:{}v2", "https://arxiv.org/abs/{}v1", "https://arxiv.org/pdf/{}"])
        )
    else:
        form = data.draw(st.sampled_from(["{}", "doi:{}", "https://doi.org/{}"]))
        ident = data.draw(st.sampled_from([ident, ident.upper()]))
    written = form.format(ident)
    before = data.draw(st.sampled_from(["", "see ", "cf. (", "the paper at "]))
    after = data.draw(st.sampled_from(["", ")", ".", " for details"]))
    [best, *_] = resolver.resolve(f"{before}{written}{after}")
    assert corpus.ids[best.doc] == corpus.keys[key] and best.score == 1.0


@given(st.data())
@PURE
def test_author_year_citations_of_a_work_find_it(resolver: ReferenceResolver, data: st.DataObject) -> None:
    """ "Surname et al. YEAR" of a work on the reading list has that work among its first candidates."""
    corpus = resolver.corpus
    doc = data.draw(st.sampled_from([d for d in range(len(corpus)) if corpus.surnames[d] and corpus.years[d]]))
    first = corpus.surnames[doc][0]
    # As written in citations: "Turpin", "van der Weij" (particles in lower case).
    name = " ".join(
        part if part in {"van", "von", "der", "de", "den", "del", "da", "di", "le", "la", "du"} else part.capitalize()
        for part in first.split()
    )
    shape = data.draw(st.sampled_from(["{} et al. {}", "{} et al. ({})", "{} et al., {}", "{} ({})"]))
    reference = shape.format(name, corpus.years[doc])
    # Several works can share a first author and year; they all score alike, so look past them.
    same = sum(
        1 for d in range(len(corpus)) if corpus.surnames[d][:1] == [first] and corpus.years[d] == corpus.years[doc]
    )
    candidates = resolver.resolve(reference, n=same + 2)
    assert doc in [c.doc for c in candidates], (reference, corpus.titles[doc])


@pytest.mark.parametrize("reference", ["van der Weij (2024)", "van der Weij et al. 2024", "Van der Weij & Hofstätter"])
def test_surnames_with_particles_count_as_authors(resolver: ReferenceResolver, reference: str) -> None:
    """Found by the property above: "van der Weij" was looked up word by word, and no word is a surname."""
    corpus = resolver.corpus
    sandbagging = next(d for d, title in enumerate(corpus.titles) if title.startswith("AI Sandbagging"))
    assert parse_reference(reference, corpus).surnames[0] == "van der weij"
    assert resolver.resolve(reference)[0].doc == sandbagging


@given(st.text(max_size=60), st.text(max_size=60))
@PURE
def test_title_similarity_is_a_score(reference: str, title: str) -> None:
    score = title_similarity(reference, title)
    assert 0.0 <= score <= 1.0
    assert title_similarity(title, title) == (1.0 if title else 0.0)


@pytest.mark.parametrize(
    "reference",
    [
        "[^1]: a\n" + "  \n" * 20_000 + "x",  # a run of whitespace: `\s+…$` backtracked for minutes
        "a" + " " * 50_000 + "paper",
        "Turpin\n" * 5_000,  # surnames looked up in a list, once per word and candidate
        "Turpin et al. " * 1_500,
        "Smith and " * 2_000,
        "!?.,;:()[]{}\"'" * 1_500,
    ],
    ids=short_id,
)
def test_resolving_adversarial_references_is_fast(resolver: ReferenceResolver, reference: str) -> None:
    _candidates, seconds = elapsed(lambda: resolver.resolve(reference))
    assert seconds < 1.5, seconds


_NAME_PIECES = ["sleeper", "agents", "agent", "ccs", "repe", "grokking", "-", " ", "s", "a", "e", "generalisation"]
names = st.lists(st.sampled_from(_NAME_PIECES) | st.text("abcdeghst -", max_size=6), max_size=6).map("".join)


@given(st.lists(names, max_size=60), names, st.sampled_from([60, 88, 95]), st.integers(1, 4))
@example(["aaab", "b"], "ab", 60, 1)  # a tie between a longer name and a shorter one that sorts after it
@PURE
def test_near_names_are_what_a_full_scan_finds(known: list[str], name: str, cutoff: int, limit: int) -> None:
    """Looking only at names of a length that can reach the cutoff changes no answer, nor the order of ties."""
    index = NearNames(known)
    scan = process.extract(name, index.names, scorer=fuzz.ratio, score_cutoff=cutoff, limit=limit)
    assert index.near(name, cutoff, limit) == [(near, ratio) for near, ratio, _ in scan]


FILLER = frozenset({"of", "the", "paper"})


def test_same_stems_reads_other_word_forms_of_names_of_two_words_or_more() -> None:
    index = NearNames(["mesa optimization", "model organisms of misalignment", "christiano"], FILLER)
    assert index.same_stems("mesa optimizer") == ["mesa optimization"]
    assert index.same_stems("the mesa optimisation paper") == ["mesa optimization"]
    assert index.same_stems("model organism misalignment") == ["model organisms of misalignment"]
    assert index.same_stems("christian") == []  # one word: its stem is its first six letters
    assert index.same_stems("mesa") == index.same_stems("of the paper") == []


_WORDS = ["of", "model", "models", "agent", "agents", "agentic"]
word_names = st.lists(st.sampled_from(_WORDS), min_size=1, max_size=3).map(" ".join)


@given(st.sets(word_names, min_size=1, max_size=12), st.data())
@PURE
def test_same_stems_is_what_a_full_scan_finds(known: set[str], data: st.DataObject) -> None:
    # Mostly a known name in another word form, so that most examples have names to find.
    base = data.draw(st.sampled_from(sorted(known)))
    forms = [base, base.replace("models", "model"), base.replace("agent", "agents"), f"of {base}"]
    name = data.draw(st.sampled_from(forms) | word_names)

    def key(text: str) -> list[str]:
        return [stem(word) for word in text.split() if word not in FILLER]

    expected = sorted(k for k in known if len(key(k)) >= 2 and key(k) == key(name))
    assert sorted(NearNames(known, FILLER).same_stems(name)) == expected

"""Properties of finding references in thread messages ("Turpin et al. (2023)", "Jacovi & Goldberg", links,
quoted titles, known names) and of reading a thread file.

For any text: the finder is fast, and each mention is really in the message where it says it starts (so
the bibliography quotes what people wrote, in the order they wrote it). Citations written in the shapes
people use are found whatever surrounds them.
"""

from __future__ import annotations

import json
import operator
import re
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import assume, example, given
from hypothesis import strategies as st

from bot.domain import Message
from bot.identifiers import normalize_text
from bot.mentions import Mention, content_words, find_mentions, parse_thread
from bot.retrieval.corpus import CorpusIndex
from tests.properties import PURE, elapsed, reading_list_corpus, short_id

_WORD = re.compile(r"[\w\-']+")


@pytest.fixture(scope="module")
def corpus() -> Iterator[CorpusIndex]:
    with tempfile.TemporaryDirectory(prefix="mentions-properties-") as directory:
        yield reading_list_corpus(Path(directory))


def assert_in_text(text: str, mention: Mention) -> None:
    """The mention is what the message says at `start` (after the spaces and punctuation trimmed off it)."""
    assert 0 <= mention.start < len(text)
    if mention.kind == "name":  # a known name, matched word by word: the same words, in order, from `start`
        # Both sides split alike: a span may run over a link ("the Turpin https://arxiv.org/abs/… paper").
        words = _WORD.findall(mention.text)
        assert _WORD.findall(text[mention.start :])[: len(words)] == words
    else:
        assert text[mention.start :].startswith(mention.text), (mention, text)


def check(text: str, corpus: CorpusIndex) -> list[Mention]:
    mentions = find_mentions(text, corpus, author="ana")
    assert [m.start for m in mentions] == sorted(m.start for m in mentions)
    assert len({(m.text, m.kind) for m in mentions}) == len(mentions)
    for mention in mentions:
        assert mention.text and mention.author == "ana"
        assert_in_text(text, mention)
    return mentions


# Text in the shapes references take, plus anything.
_PIECES = [
    "Turpin",
    "Hubinger",
    "Jacovi",
    "Goldberg",
    "Smith",
    "O'Brien",
    "Müller",
    "et al.",
    "et al",
    "etal",
    "&",
    "and",
    "(2023)",
    "2023",
    "2023a",
    ",",
    ".",
    "(",
    ")",
    '"',
    "“",
    "”",
    "'",
    "the",
    "paper",
    "post",
    "sleeper agents",
    "RepE",
    "CCS",
    "RLHF",
    "https://arxiv.org/abs/2401.05566",
    "https://example.org/a_(b)",
    "arXiv:2305.04388",
    "10.1145/3442188.3445922",
    " ",
    "\n",
]
messages = st.lists(st.sampled_from(_PIECES) | st.text(max_size=6), max_size=30).map(" ".join) | st.text(max_size=200)


@given(messages)
@example('"see https://x.org/a b" Smith et al.')
@example("Smith https://example.org/x et al.")
@example("the Turpin https://arxiv.org/abs/2401.05566 paper")
@PURE
def test_mentions_are_in_the_message_in_order(corpus: CorpusIndex, text: str) -> None:
    check(text, corpus)


_CAP = st.sampled_from("ABCDEFGHIJKLMNOPQRSTUVWXYZÉÖ")
surnames = st.builds(
    operator.add, _CAP, st.text(st.sampled_from("abcdefghijklmnopqrstuvwxyzéü"), min_size=2, max_size=10)
)
years = st.integers(1950, 2049).map(str)
# Prose words are never a family name's particles: "de Aaa & Bbb" is rightly read as the names "de Aaa", "Bbb".
NAME_PARTICLES = {"van", "von", "der", "den", "de", "du", "ter", "ten"}
prose = st.lists(
    st.text(st.sampled_from("abcdefghij"), min_size=1, max_size=8).filter(lambda w: w not in NAME_PARTICLES),
    max_size=8,
).map(" ".join)


@given(
    prose,
    surnames,
    years,
    prose,
    st.sampled_from(["{s} et al. ({y})", "{s} et al. {y}", "{s} et al., {y}", "{s} ({y})"]),
)
@example("as shown by", "Turpin", "2023", "we know", "{s} et al. ({y})")
@example("as shown by", "Özdemir", "2023", "", "{s} et al., {y}")  # only A-Z opened a name
@PURE
def test_author_citations_are_found_in_any_prose(
    corpus: CorpusIndex, before: str, surname: str, year: str, after: str, shape: str
) -> None:
    citation = shape.format(s=surname, y=year)
    text = f"{before} {citation} {after}".strip()
    mentions = check(text, corpus)
    assert any(m.kind == "author" and m.text == citation for m in mentions), (citation, mentions)


@given(prose, surnames, surnames, prose)
@PURE
def test_two_author_citations_are_found(corpus: CorpusIndex, before: str, first: str, second: str, after: str) -> None:
    # A word that is a work's name ("Clip & Bert") reads as two works, not two authors (bot/mentions.py).
    assume(not any(normalize_text(name) in corpus.aliases for name in (first, second)))
    citation = f"{first} & {second}"
    mentions = check(f"{before} {citation} {after}", corpus)
    assert any(m.text == citation and m.kind == "names" for m in mentions), mentions


@given(prose, st.lists(st.text(st.sampled_from("abcdefghij"), min_size=2, max_size=8), min_size=2, max_size=6), prose)
@PURE
def test_quoted_titles_are_found(corpus: CorpusIndex, before: str, title_words: list[str], after: str) -> None:
    title = " ".join(title_words)
    assume(content_words(title))  # stop words alone ("he be") are never a title
    mentions = check(f'{before} "{title}" {after}', corpus)
    assert any(m.kind == "quote" and m.text == title for m in mentions)


@pytest.mark.parametrize(
    "text",
    [
        "Aaaa " * 4_000,
        "A" + "a" * 20_000,
        "Smith et al. " * 1_500,
        "Smith and " * 2_000,
        "!?.,;:()[]{}\"'" * 1_500,
        '"' + "a " * 10_000,
        "the " * 5_000 + "paper",
        "Smith" + " " * 20_000 + "et al.",
        "sleeper agents " * 2_000,
        "*ab cd* " * 5_000,  # each quote was checked against every earlier one
        "“ab cd” " * 5_000,
        "(Zou et al.) " * 3_000,
    ],
    ids=short_id,
)
def test_finding_mentions_in_adversarial_text_is_fast(corpus: CorpusIndex, text: str) -> None:
    _mentions, seconds = elapsed(lambda: find_mentions(text, corpus))
    assert seconds < 2, seconds


# --- threads -----------------------------------------------------------------------------------------------------

message_texts = st.text(min_size=1, max_size=40).filter(str.strip)


@given(st.lists(st.tuples(st.none() | st.text(max_size=10), message_texts), max_size=6))
@PURE
def test_a_json_thread_reads_back_message_by_message(messages_: list[tuple[str | None, str]]) -> None:
    raw = json.dumps([{"author": a, "text": t} if a is not None else t for a, t in messages_])
    assert parse_thread(raw) == [Message(author=a, text=t) for a, t in messages_]


@given(st.lists(message_texts.map(lambda t: " ".join(t.split())), min_size=1, max_size=6))
@PURE
def test_a_plain_thread_is_one_message_a_paragraph(paragraphs: list[str]) -> None:
    if paragraphs[0].startswith("["):
        paragraphs[0] = f"x{paragraphs[0]}"  # a plain thread opening with "[" is read as JSON
    assert parse_thread("\n\n".join(paragraphs)) == [Message(text=p) for p in paragraphs]


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=10),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from(["author", "text", "x"]), inner),
    max_leaves=8,
)


@given(
    st.text(max_size=200)
    | st.lists(json_values, max_size=4).map(json.dumps)
    | st.builds(lambda n: "[" * n + "]" * n, st.integers(900, 5_000))
)
@example("[" * 100_000)  # RecursionError escaped from json.loads
@example('[{"author": 5, "text": "hi"}]')  # a pydantic error of four lines, naming no message
@PURE
def test_any_thread_text_gives_messages_or_a_value_error(raw: str) -> None:
    try:
        messages_ = parse_thread(raw)
    except ValueError as exc:
        assert str(exc) and "\n" not in str(exc)
    else:
        assert all(isinstance(m, Message) for m in messages_)


# Every way people open and close a quoted or emphasised title, and punctuation that may sit around it.
_QUOTE_MARKS = [
    ("“", "”"), ('"', '"'), ("‘", "’"), ("'", "'"), ("«", "»"), ("»", "«"), ("„", "“"), ("″", "″"),
    ("′", "′"), ("*", "*"), ("**", "**"), ("_", "_"), ("<em>", "</em>"), ("<i>", "</i>"), ("「", "」"),
]  # fmt: skip
_AROUND = st.text(st.sampled_from(" ,.;:!?()[]{}-–—…'\"“”‘’«»*_<>/\\"), max_size=4)
_STOP_WORDS = ["the", "of", "and", "a", "to", "in", "is", "it", "that", "this", "on", "for", "with", "as", "what"]


@given(
    prose,
    _AROUND,
    st.sampled_from(_QUOTE_MARKS),
    st.lists(st.sampled_from(["Sleeper", "Agents", "Don’t", "Models'", "Always", "Say", "What", "Think"]), min_size=2),
    st.sampled_from(_QUOTE_MARKS),
    _AROUND,
    prose,
)
@example("as", " ", ("‘", "’"), ["Language", "Models", "Don’t", "Always", "Say"], ("‘", "’"), ",", "")
@PURE
def test_any_unicode_quoting_and_nesting_never_crashes(
    corpus: CorpusIndex,
    before: str,
    left: str,
    outer: tuple[str, str],
    words: list[str],
    inner: tuple[str, str],
    right: str,
    after: str,
) -> None:
    title = " ".join(words)
    text = f"{before}{left}{outer[0]}{inner[0]}{title}{inner[1]}{outer[1]}{right}{after}"
    mentions = check(text, corpus)
    # Every quote found is a stretch of the title (an apostrophe inside never ends it early), unless the
    # punctuation around it brings quote marks of its own.
    for mention in mentions:
        if mention.kind == "quote" and outer == inner and not re.search(r"[\"'“”‘’«»*_<>]", left + right):
            assert mention.text in title or title in mention.text, (mention, text)


@given(
    prose,
    st.sampled_from(_QUOTE_MARKS),
    st.lists(st.sampled_from(_STOP_WORDS), min_size=1, max_size=8).map(" ".join),
    prose,
)
@PURE
def test_stop_word_only_spans_never_become_references(
    corpus: CorpusIndex, before: str, marks: tuple[str, str], stop_words: str, after: str
) -> None:
    text = f"{before} {marks[0]}{stop_words}{marks[1]} {after}. The {stop_words} paper."
    for mention in check(text, corpus):
        assert set(mention.text.lower().split()) - set(_STOP_WORDS) - {"paper"}, mention

"""Related-work search (`Engine.ask`) over the bundled reading list."""

import numpy as np
import pytest

from bot.domain import Message
from bot.embedding import Embedder
from bot.engine import Engine
from bot.retrieval.fusion import FEATURES
from bot.retrieval.query import contextual_query
from bot.retrieval.search import FEEDBACK_DOCS, HybridSearcher, query_vector_of


def titles(result) -> list[str]:  # type: ignore[no-untyped-def]
    return [w.title.lower() for w in result.results]


def test_on_topic_question_is_confident_with_relevant_papers(engine: Engine) -> None:
    result = engine.ask("Is the chain-of-thought of a language model a faithful account of its reasoning?", k=5)
    assert result.confident
    assert len(result.results) == 5
    assert sum("faithful" in t or "say what they think" in t for t in titles(result)) >= 2
    top = result.results[0]
    assert top.reason and top.reason in (engine.work(top.id).description)  # type: ignore[union-attr]
    assert result.answer.startswith(f'Closest related work: "{top.title}"')


@pytest.mark.parametrize(
    ("question", "expected_arxiv"),
    [
        ("models that fake alignment during training to avoid being modified", "2412.14093"),
        ("backdoored deceptive models that survive safety training", "2401.05566"),
        ("sparse autoencoders for finding interpretable features in superposition", None),
    ],
)
def test_known_topics_find_their_landmark_papers(engine: Engine, question: str, expected_arxiv: str | None) -> None:
    result = engine.ask(question, k=5)
    assert result.confident
    if expected_arxiv:
        assert expected_arxiv in [w.arxiv_id for w in result.results]
    else:
        assert any("sparse" in t or "monosemantic" in t or "dictionary" in t for t in titles(result))


def test_off_topic_question_says_nothing_matches(engine: Engine) -> None:
    result = engine.ask("what is a good recipe for sourdough bread with a crispy crust", k=3)
    assert not result.confident
    assert result.answer.startswith("No paper in the knowledge base matches; closest:")
    assert len(result.results) == 3  # the closest are still listed, marked as such


def test_exact_ids_and_links_come_first(engine: Engine) -> None:
    result = engine.ask("what cites https://arxiv.org/abs/2401.05566v1 and related ideas?", k=3)
    assert result.results[0].arxiv_id == "2401.05566"
    assert result.results[0].score == 1.0
    assert result.confident


def test_bare_request_is_answered_from_the_thread_context(engine: Engine) -> None:
    thread = [
        Message(
            author="ana",
            text="I keep seeing models whose chain of thought does not reflect the real reason "
            "for their answer: the CoT looks plausible but is unfaithful.",
        ),
        Message(author="ben", text="yeah, that's a big deal for monitoring"),
    ]
    bare = engine.ask("source?", k=5, context=thread)
    assert bare.query == "source?"
    assert bare.confident
    assert any("faithful" in t or "say what they think" in t for t in titles(bare))
    without_context = engine.ask("source?", k=5)
    assert titles(without_context) != titles(bare)


def test_contextual_query_keeps_specific_questions() -> None:
    context = [Message(text="Completely different discussion about reward hacking in RL agents")]
    assert contextual_query("related work on sparse autoencoders?", context) == "related work on sparse autoencoders?"
    assert "reward hacking" in contextual_query("what's the related work here?", context)


def test_empty_question_is_an_error(engine: Engine) -> None:
    with pytest.raises(ValueError):
        engine.ask("  ")


def test_a_bare_request_reads_the_askers_own_message_before_more_recent_ones() -> None:
    thread = [
        Message(author="ana", text="Does anyone know work on reward hacking by coding agents?"),
        Message(author="ben", text="Unrelated, but the conference deadline moved to Friday afternoon"),
        Message(author="cy", text="Lunch plans: pizza or noodles downtown today?"),
        Message(author="ana", text="source?"),
    ]
    query = contextual_query("source?", thread)
    assert query.startswith("Does anyone know work on reward hacking")  # the asker's, though two messages older
    assert "pizza" in query and "deadline" not in query  # then the most recent other message
    # Without knowing the asker (plain strings), recency alone decides.
    plain = contextual_query("source?", [m.text for m in thread[:3]])
    assert plain.startswith("Lunch plans") and "deadline" in plain and "reward hacking" not in plain


class CountingEmbedder:
    """The real model, counting what it is asked to encode."""

    def __init__(self, inner: Embedder) -> None:
        self.inner, self.name, self.dimension = inner, inner.name, inner.dimension
        self.texts: list[str] = []

    def encode(self, texts: list[str]) -> np.ndarray:
        self.texts += texts
        return self.inner.encode(texts)


def test_a_repeated_question_is_encoded_once(engine: Engine) -> None:
    counting = CountingEmbedder(engine.embedder)
    searcher = HybridSearcher(engine.corpus, engine.vectors, counting)  # type: ignore[arg-type]
    question = "reward hacking by language models trained with human feedback"
    first = searcher.search(question, 5)
    again = searcher.search(question, 5)
    assert counting.texts == [question]
    assert [(h.doc, h.score) for h in again] == [(h.doc, h.score) for h in first]
    assert query_vector_of(counting, question).flags.writeable is False  # type: ignore[arg-type]  # shared


def test_feature_rows_follow_the_feature_definitions(engine: Engine) -> None:
    searcher = engine.searcher
    docs, cosines, matrix = searcher.candidates("is the encoded reasoning paper about chain-of-thought faithfulness?")
    assert matrix.shape == (len(docs), len(FEATURES)) and len(docs) > 10
    column = {name: matrix[:, i] for i, name in enumerate(FEATURES)}
    assert np.array_equal(column["cosine"], cosines)
    assert np.allclose(column["cosine_gap"], cosines - cosines.max())
    assert column["bm25"].max() == 1.0 and np.array_equal(column["bm25_log"] > 0, column["bm25"] > 0)
    assert column["dense_rank"].max() == 1.0 and column["lexical_rank"].max() == 1.0  # 1 / (1 + rank 0)
    for row, doc in enumerate(docs):
        year = engine.corpus.years[doc]
        assert column["no_year"][row] == (0.0 if year else 1.0)
        assert column["recency"][row] == (min(1.0, max(0.0, (year - 2010) / 15)) if year else 0.0)
        assert column["curated"][row] == float(engine.corpus.curated[doc])
        named = "Preventing Language Models From Hiding" in engine.corpus.titles[doc]  # alias "encoded reasoning paper"
        assert column["alias_hit"][row] == float(named)
    assert column["alias_hit"].sum() == 1


def test_the_feedback_columns_follow_their_definition(engine: Engine) -> None:
    counting = CountingEmbedder(engine.embedder)
    searcher = HybridSearcher(engine.corpus, engine.vectors, counting)  # type: ignore[arg-type]
    question = "watching a model's written chain of thought for signs that it plans to deceive its overseers"
    docs, cosines, matrix = searcher.candidates(question)
    assert counting.texts == [question]  # the feedback encodes nothing more: it reuses the stored vectors
    column = {name: matrix[:, i] for i, name in enumerate(FEATURES)}
    stored = engine.vectors.get([engine.corpus.ids[doc] for doc in docs])
    vectors = np.stack([stored[engine.corpus.ids[doc]] for doc in docs])
    assert np.allclose(cosines, vectors @ query_vector_of(counting, question), atol=1e-5)  # type: ignore[arg-type]
    first_stage = 0.88 * cosines + 0.12 * column["bm25"]  # the fixed fusion picks the feedback works
    centroid = vectors[np.argsort(-first_stage, kind="stable")[:FEEDBACK_DOCS]].mean(axis=0)
    assert np.allclose(column["centroid_cosine"], vectors @ (centroid / np.linalg.norm(centroid)), atol=1e-5)
    assert not np.allclose(column["centroid_cosine"], cosines, atol=0.01)
    assert column["centroid_gap"].max() == 0.0
    assert np.allclose(column["centroid_gap"], column["centroid_cosine"] - column["centroid_cosine"].max())

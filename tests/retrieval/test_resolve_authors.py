"""Author-year citations where the knowledge base holds several works a citation could mean."""

from __future__ import annotations

import json

import pytest

from bot.domain import IngestReport
from bot.ingest.pipeline import RecordMerger, ingest_file
from bot.mentions import find_mentions
from bot.retrieval.corpus import CorpusIndex
from bot.retrieval.resolve import ReferenceResolver
from bot.storage import Database

CURATED = [
    {"id": "arxiv:2402.06363", "title": "StruQ: Defending Against Prompt Injection with Structured Queries",
     "authors": ["Sizhe Chen", "Julien Piet"], "year": 2024, "aliases": ["Chen et al. 2024", "StruQ"]},
    {"id": "arxiv:2202.05262", "title": "Locating and Editing Factual Associations in GPT",
     "authors": ["Kevin Meng", "David Bau"], "year": 2022, "aliases": ["ROME"]},
    {"id": "arxiv:2210.07229", "title": "Mass-Editing Memory in a Transformer",
     "authors": ["Kevin Meng", "Arnab Sen Sharma"], "year": 2022, "aliases": ["MEMIT"]},
]  # fmt: skip
IMPORTED = [
    {"id": "arxiv:2401.01335", "title": "Self-Play Fine-Tuning Converts Weak Language Models to Strong Language Models",
     "authors": ["Zixiang Chen", "Yihe Deng"], "year": 2024},
    {"id": "arxiv:1909.08053", "title": "Megatron-LM: Training Multi-Billion Parameter Language Models",
     "authors": ["Mohammad Shoeybi", "Mostofa Patwary"], "year": 2019},
    {"id": "arxiv:2004.14602", "title": "Large Scale Multi-Actor Generative Dialog Modeling",
     "authors": ["Alex Boyd", "Raul Puri", "Mohammad Shoeybi"], "year": 2020},
]  # fmt: skip


@pytest.fixture(scope="module")
def resolver(tmp_path_factory: pytest.TempPathFactory) -> ReferenceResolver:
    directory = tmp_path_factory.mktemp("resolve-authors")
    db = Database(f"sqlite:///{directory / 'kb.db'}")
    report = IngestReport()
    for name, records, curated in (("curated", CURATED, True), ("imported", IMPORTED, False)):
        path = directory / f"{name}.jsonl"
        path.write_text("\n".join(json.dumps(r) for r in records), encoding="utf-8")
        ingest_file(db, RecordMerger(db), path, report, curated=curated)
    assert not report.errors, report.errors
    corpus = CorpusIndex.build(db)
    db.close()
    return ReferenceResolver(corpus)


def test_an_alias_that_is_an_author_citation_does_not_decide_between_namesakes(resolver: ReferenceResolver) -> None:
    # Our list calls StruQ "Chen et al. 2024", but so could a thread mean another Chen's 2024 paper.
    candidates = resolver.resolve("Chen et al. 2024", kind="author")
    assert {resolver.corpus.ids[c.doc] for c in candidates[:2]} == {"arxiv:2402.06363", "arxiv:2401.01335"}
    assert not resolver.is_confident(candidates, "author")
    # A name that is no citation still names the work outright.
    struq = resolver.resolve("StruQ", kind="name")
    assert resolver.corpus.ids[struq[0].doc] == "arxiv:2402.06363"
    assert resolver.is_confident(struq, "name")


def test_et_al_names_the_first_author_over_a_matching_year(resolver: ReferenceResolver) -> None:
    # Shoeybi is first author of Megatron-LM (2019) and third author of a 2020 paper: "Shoeybi et al. 2020" is
    # a year off for the first (arXiv and venue years differ) but names the first author of only that one.
    candidates = resolver.resolve("Shoeybi et al. 2020", kind="author")
    assert resolver.corpus.ids[candidates[0].doc] == "arxiv:1909.08053"


def test_a_gloss_in_parentheses_before_an_author_citation_is_part_of_the_reference(
    resolver: ReferenceResolver,
) -> None:
    text = "For editing, see ROME (model editing) (Meng et al.) and its sequel."
    (mention,) = find_mentions(text, resolver.corpus)
    assert mention.text == "ROME (model editing) (Meng et al.)"
    candidates = resolver.resolve(mention.text, kind=mention.kind)
    assert resolver.corpus.ids[candidates[0].doc] == "arxiv:2202.05262"

"""Fixtures for `alignbot sync`: fake OAI-PMH and ForumMagnum servers, and real engines pointed at them."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.embedding import Embedder
from bot.engine import Engine
from tests.conftest import engines_built

from .fakes import FakeForumMagnum, FakeOAI, Paper

# Papers on the community's topics and papers on others, as a cs.AI/cs.CL day mixes them.
ON_TOPIC = [
    (
        "Sleeper agents persist through safety training",
        "We train language models with hidden backdoors that "
        "behave deceptively when triggered, and safety fine-tuning and adversarial training fail to remove it.",
    ),
    (
        "Measuring chain-of-thought faithfulness in reasoning models",
        "We test whether the reasoning a language model "
        "writes reflects the computation behind its answer, and find hints it uses but does not mention.",
    ),
    (
        "Reward hacking in reinforcement learning from human feedback",
        "Policies optimised against a learned reward "
        "model exploit its errors; we measure reward hacking and propose mitigations for RLHF.",
    ),
    (
        "Sparse autoencoders find interpretable features in language models",
        "Dictionary learning on the residual "
        "stream yields monosemantic features that help mechanistic interpretability of transformer circuits.",
    ),
    (
        "Scalable oversight through debate between AI systems",
        "Two models argue for opposing answers and a weaker "
        "judge decides, a way to supervise systems more capable than their overseers.",
    ),
    (
        "Detecting scheming and sandbagging in frontier models",
        "We evaluate whether frontier AI models strategically "
        "underperform on dangerous capability evaluations or pursue hidden goals against their developers.",
    ),
]
OFF_TOPIC = [
    (
        "Graph neural networks for protein structure prediction",
        "We predict three-dimensional protein folds from "
        "amino-acid sequences with an equivariant graph network trained on crystallography data.",
    ),
    (
        "A lightweight tokenizer for low-resource morphology",
        "We segment words of agglutinative languages into "
        "morphemes with a small finite-state model and report gains in machine translation BLEU.",
    ),
    (
        "Solving vehicle routing with constraint programming",
        "Large neighbourhood search over a constraint model "
        "improves delivery routes for fleets with time windows in logistics benchmarks.",
    ),
    (
        "Named entity recognition for clinical notes in Spanish",
        "We annotate hospital discharge summaries and train "
        "a biomedical entity tagger for diseases, drugs and procedures.",
    ),
    (
        "Efficient retrieval-augmented question answering over tables",
        "We index spreadsheet cells and retrieve "
        "them for a reader model, improving accuracy on table question answering datasets.",
    ),
    (
        "Planning-domain induction from household robot demonstrations",
        "We learn PDDL action schemas from "
        "demonstrations of kitchen tasks and use a classical planner to generalise to new goals.",
    ),
]
PROFILE = [
    "Deceptive alignment and sleeper agents: models that hide misaligned goals during training.",
    "Chain-of-thought faithfulness: whether a model's stated reasoning reflects its actual computation.",
    "Reward hacking and specification gaming in RLHF.",
    "Mechanistic interpretability: features, circuits and sparse autoencoders.",
    "Scalable oversight: debate, amplification and supervising stronger models.",
    "Dangerous capability evaluations, scheming and sandbagging.",
]


def day_of_papers() -> list[Paper]:
    """Twelve cs.AI/cs.CL papers of one week, interleaved on and off topic, one of them withdrawn."""
    papers = []
    for n, ((on_title, on_abstract), (off_title, off_abstract)) in enumerate(zip(ON_TOPIC, OFF_TOPIC, strict=True)):
        day = f"2026-11-{21 + n % 3:02d}"
        papers.append(Paper(f"2611.{1000 + 2 * n:05d}", on_title, on_abstract, categories="cs.AI cs.CL", datestamp=day))
        papers.append(Paper(f"2611.{1001 + 2 * n:05d}", off_title, off_abstract, categories="cs.CL", datestamp=day))
    papers.append(Paper("2611.09999", "Withdrawn", "", datestamp="2026-11-22", deleted=True))
    return papers


@pytest.fixture
def oai() -> Iterator[FakeOAI]:
    fake = FakeOAI(day_of_papers(), page_size=4)
    yield fake
    fake.stop()


@pytest.fixture
def forum_server() -> Iterator[FakeForumMagnum]:
    fake = FakeForumMagnum([])
    yield fake
    fake.stop()


def sync_settings(oai: FakeOAI, **overrides: Any) -> dict[str, Any]:
    """Our settings pointed at the fakes: no pacing, quick retries."""
    return {
        "arxiv_oai_url": oai.url,
        "arxiv_min_interval_seconds": 0.0,
        "metadata_retries": 2,
        "metadata_backoff_seconds": 0.01,
        "sync_deadline_seconds": 10.0,
        "sync_read_timeout_seconds": 2.0,
        **overrides,
    }


@pytest.fixture
def make_engine(tmp_path: Path, embedder: Embedder, oai: FakeOAI) -> Iterator[Callable[..., Engine]]:
    """Real engines (SQLite or PostgreSQL, Chroma, MiniLM) whose settings point at the fakes."""
    yield from engines_built(tmp_path, embedder, functools.partial(sync_settings, oai))

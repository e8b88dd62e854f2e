"""Acronym expansion learned from the knowledge base's own abstracts."""

import json
from pathlib import Path

from bot.engine import Engine
from bot.retrieval.expand import AcronymExpander, long_form

ABSTRACTS = [
    "We train sparse autoencoders (SAEs) on the residual stream and find interpretable features.",
    "Sparse autoencoders (SAEs) decompose activations; we scale them to a frontier model.",
    "Is a model's chain-of-thought (CoT) faithful? We intervene on the CoT and measure the answer.",
    "Chain of thought (CoT) monitoring can catch reward hacking in agentic coding tasks.",
    "Reinforcement learning from human feedback (RLHF) optimises a learned reward model (RM).",
    "We study reinforcement learning from human feedback (RLHF) at scale.",
    "A one-off acronym: quantum widget fabrication (QWF) appears once only.",
]


def test_acronyms_defined_by_several_abstracts_are_learned_with_their_long_form() -> None:
    expander = AcronymExpander.from_texts(ABSTRACTS)
    assert expander.expansions["SAE"] == "sparse autoencoder"
    assert expander.expansions["CoT"] == "chain of thought"
    assert expander.expansions["RLHF"] == "reinforcement learning from human feedback"
    assert "QWF" not in expander.expansions  # seen once: not the field's vocabulary
    assert "RM" not in expander.expansions


def test_a_question_gets_the_long_forms_of_the_acronyms_it_uses() -> None:
    expander = AcronymExpander.from_texts(ABSTRACTS)
    expanded = expander.expand("are SAEs useful for CoT monitoring?")
    assert expanded == "are SAEs useful for CoT monitoring? (sparse autoencoder; chain of thought)"
    # Already spelled out, unknown, or lower-case words are left alone.
    assert expander.expand("sparse autoencoder (SAE) scaling") == "sparse autoencoder (SAE) scaling"
    assert expander.expand("what about the cot of a baby?") == "what about the cot of a baby?"


def test_long_forms_by_initials_or_by_letters_in_order() -> None:
    assert long_form("PPO", "we fine-tune it with proximal policy optimization") == "proximal policy optimization"
    assert long_form("SAE", "we train sparse autoencoders") == "sparse autoencoders"
    assert long_form("XYZ", "nothing here fits the letters") is None


def _record(n: int, title: str, abstract: str) -> dict[str, object]:
    return {"id": f"test:{n}", "title": title, "authors": [f"Author {n}"], "year": 2024, "abstract": abstract}


def test_ask_spells_out_the_knowledge_bases_rare_acronyms(empty_engine: Engine, tmp_path: Path) -> None:
    records = [
        _record(1, "Measuring reasoning traces", "We prompt with chain-of-thought (CoT) and perturb the CoT steps."),
        _record(2, "Monitoring reasoning for misbehaviour", "A chain of thought (CoT) monitor reads agent traces."),
        _record(3, "When explanations are unfaithful", "Chain of thought explanations often misstate the real reason."),
    ]
    records += [
        _record(10 + n, f"Scaling study {n}", f"Large language models (LLMs) trained on corpus {n} get better.")
        for n in range(8)
    ]
    topics = ["protein folding", "soil erosion", "tidal energy", "bird migration", "glacier melt", "coral reefs"]
    records += [
        _record(100 + n, f"A survey of {topics[n % 6]} number {n}", f"We review {topics[n % 6]} in region {n}.")
        for n in range(110)
    ]
    source = tmp_path / "acronyms.jsonl"
    source.write_text("\n".join(json.dumps(r) for r in records), encoding="utf-8")
    empty_engine.ingest([source])
    searcher = empty_engine.searcher
    assert searcher.expander.expansions == {"CoT": "chain of thought"}  # LLM: used bare in 7 % of works
    question = "papers on CoT"
    expanded = [w.title for w in empty_engine.ask(question, k=3).results]
    searcher.expand_acronyms = False
    try:
        plain = [w.title for w in empty_engine.ask(question, k=3).results]
    finally:
        searcher.expand_acronyms = True
    # The third work never says "CoT": only the spelled-out question finds it.
    assert "When explanations are unfaithful" in expanded
    assert "When explanations are unfaithful" not in plain

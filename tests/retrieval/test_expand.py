"""Acronym expansion learned from the knowledge base's own abstracts."""

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

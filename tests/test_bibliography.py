"""Finding every work a thread refers to (`Engine.bibliography`) and not inventing any."""

from bot.domain import Message
from bot.engine import Engine
from bot.mentions import parse_thread

THREAD = [
    Message(author="ana", text="Most faithfulness researchers quote Jacovi & Goldberg for the definition."),
    Message(
        author="ben",
        text="There's also the introspection angle (eg 'Looking Inward'), and "
        "https://arxiv.org/abs/2305.04388v2 showed biased CoT explanations.",
    ),
    Message(author="cy", text="RepE and ActAdd are the steering references; Hubinger et al. 2024 for backdoors."),
    Message(author="ana", text="And Jacovi & Goldberg again, plus arXiv:2401.05566."),
]


def test_thread_references_are_all_found_once_in_order(engine: Engine) -> None:
    result = engine.bibliography(THREAD)
    found = [e.work.arxiv_id for e in result.entries]
    assert found == ["2004.03685", "2410.13787", "2305.04388", "2310.01405", "2308.10248", "2401.05566"]
    assert result.entries[0].author == "ana" and result.entries[0].mention == "Jacovi & Goldberg"
    assert all(e.formatted.startswith(e.work.authors[0].split()[-1]) for e in result.entries)


def test_ordinary_prose_gives_no_references(engine: Engine) -> None:
    prose = (
        "I think the control agenda is promising, and Debate and Steering are words we use a lot. "
        "Anna and Bob met in 2023 to talk about alignment, interpretability and deception. "
        "The paper was good. Some said 'it works fine' and others disagreed. Version 2.1 ships soon."
    )
    result = engine.bibliography(prose)
    assert result.entries == []
    assert result.unresolved == []  # "Anna and Bob" is not a citation that failed to resolve


def test_unknown_author_citations_are_reported_unresolved(engine: Engine) -> None:
    result = engine.bibliography("As Zyxwv et al. (2021) argued, and see https://example.com/unknown-paper.")
    assert result.entries == []
    unresolved = {u.text: u for u in result.unresolved}
    assert unresolved["Zyxwv et al. (2021)"].kind == "author"
    assert unresolved["https://example.com/unknown-paper"].kind == "link"
    assert unresolved["https://example.com/unknown-paper"].best_guess is None


def test_bibtex_style(engine: Engine) -> None:
    result = engine.bibliography("see Turpin et al. 2023", style="bibtex")
    assert result.entries[0].formatted.startswith("@inproceedings{turpinLanguage2023,")


def test_parse_thread_formats() -> None:
    assert parse_thread('[{"author": "a", "text": "hi"}, "plain"]') == [
        Message(author="a", text="hi"),
        Message(text="plain"),
    ]
    assert [m.text for m in parse_thread("first\n\nsecond\nline")] == ["first", "second\nline"]
    try:
        parse_thread('[{"author": "a"}]')
    except ValueError as exc:
        assert "message 1" in str(exc)
    else:  # pragma: no cover
        raise AssertionError("a message without text must be rejected")

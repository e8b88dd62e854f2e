import bibtexparser
import bibtexparser.middlewares as m

from bot.citations import FORMATTERS, Style, acl, apa, bibtex, format_citation, short_citation
from bot.domain import RankedWork

TURPIN = RankedWork(
    id="arxiv:2305.04388",
    arxiv_id="2305.04388",
    title="Language Models Don't Always Say What They Think",
    authors=["Miles Turpin", "Julian Michael", "Ethan Perez", "Samuel R. Bowman"],
    year=2023,
    url="https://arxiv.org/abs/2305.04388",
    venue=None,
    score=1.0,
)
POST = RankedWork(
    id="lw:x",
    title="AGI Ruin: A List of Lethalities",
    authors=["Eliezer Yudkowsky"],
    year=2022,
    url="https://www.lesswrong.com/posts/uMQ3cqWDPHhjtiesc",
    score=1.0,
)


def test_apa() -> None:
    assert apa(TURPIN) == (
        "Turpin, M., Michael, J., Perez, E., & Bowman, S. R. (2023). Language Models Don't Always Say What They "
        "Think. arXiv preprint arXiv:2305.04388. https://arxiv.org/abs/2305.04388"
    )
    assert (
        apa(POST)
        == "Yudkowsky, E. (2022). AGI Ruin: A List of Lethalities. https://www.lesswrong.com/posts/uMQ3cqWDPHhjtiesc"
    )


def test_acl() -> None:
    assert acl(TURPIN).startswith(
        "Miles Turpin, Julian Michael, Ethan Perez, and Samuel R. Bowman. 2023. Language Models Don't Always Say"
    )
    assert "arXiv preprint arXiv:2305.04388." in acl(TURPIN)


def test_bibtex_round_trips_through_a_bibtex_parser() -> None:
    entry = bibtex(TURPIN.model_copy(update={"title": "Braces {and} ampersands & co"}))
    library = bibtexparser.parse_string(entry, append_middleware=[m.SeparateCoAuthors()])
    assert not library.failed_blocks
    parsed = library.entries[0]
    assert parsed.key == "turpinBraces2023"
    assert parsed.fields_dict["eprint"].value == "2305.04388"
    assert parsed.fields_dict["author"].value == [
        "Turpin, Miles",
        "Michael, Julian",
        "Perez, Ethan",
        "Bowman, Samuel R.",
    ]


def test_short_citation() -> None:
    assert short_citation(TURPIN) == "Turpin et al., 2023"
    assert short_citation(POST) == "Yudkowsky, 2022"


def test_titles_ending_in_a_question_mark_get_no_extra_period() -> None:
    work = TURPIN.model_copy(update={"title": "How Should We Define and Evaluate Faithfulness?", "venue": "ACL 2020"})
    assert "Faithfulness? ACL 2020." in apa(work)
    assert "Faithfulness? In ACL 2020." in acl(work)


def test_every_style_has_a_formatter_and_a_name() -> None:
    assert set(FORMATTERS) == set(Style)
    assert [style.label for style in Style] == ["APA", "ACL", "BibTeX"]
    assert format_citation(TURPIN, "acl") == acl(TURPIN) and format_citation(TURPIN) == apa(TURPIN)

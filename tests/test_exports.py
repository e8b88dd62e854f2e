"""Exports people import (BibTeX, CSL-JSON, RIS), read back by real parsers, and long author lists."""

import json

import bibtexparser
import bibtexparser.middlewares as m
import jsonschema
import pytest
import rispy

from bot.citations import acl, apa, bibtex_key, unique_bibtex_keys
from bot.domain import RankedWork
from bot.exports import ExportFormat, export
from tests.test_citations import TURPIN as TURPIN_PREPRINT

TURPIN = TURPIN_PREPRINT.model_copy(update={"venue": "NeurIPS 2023", "kind": "inproceedings"})
ELK = RankedWork(
    id="lw:qHCDysDnvhteW7kRd",
    title="Eliciting Latent Knowledge: How to Tell if Your Eyes Deceive You",
    authors=["Paul Christiano", "Ajeya Cotra", "Mark Xu"],
    year=2021,
    url="https://www.alignmentforum.org/posts/qHCDysDnvhteW7kRd",
    venue="Alignment Research Center",
    kind="report",
    score=1.0,
)
FAILURE = RankedWork(
    id="lw:HBxe6wdjxK239zajf",
    title="What failure looks like",
    authors=["Paul Christiano"],
    year=2019,
    url="https://www.alignmentforum.org/posts/HBxe6wdjxK239zajf/what-failure-looks-like",
    venue="AI Alignment Forum",
    kind="post",
    score=1.0,
)
BELINKOV = RankedWork(
    id="arxiv:2102.12452",
    arxiv_id="2102.12452",
    title="Probing Classifiers: Promises, Shortcomings, and Advances",
    authors=["Yonatan Belinkov"],
    year=2022,
    venue="Computational Linguistics",
    kind="article",
    doi="10.1162/coli_a_00422",
    score=1.0,
)
SLEEPER = RankedWork(
    id="arxiv:2401.05566",
    arxiv_id="2401.05566",
    title="Sleeper Agents: Training Deceptive LLMs that Persist Through Safety Training",
    authors=[f"Given{n} Family{n}" for n in range(1, 40)],
    year=2024,
    url="https://arxiv.org/abs/2401.05566",
    kind="preprint",
    score=1.0,
)
WORKS = [TURPIN, ELK, FAILURE, BELINKOV, SLEEPER]

# The parts of the CSL-JSON schema (citation-style-language/schema, csl-data.json) that these exports use.
CSL_TYPES = ["article", "article-journal", "book", "paper-conference", "post", "post-weblog", "report", "webpage"]
YEAR = {"type": "integer"}
CSL_NAME = {
    "type": "object",
    "properties": {"family": {"type": "string"}, "given": {"type": "string"}, "literal": {"type": "string"}},
    "anyOf": [{"required": ["family"]}, {"required": ["literal"]}],
    "additionalProperties": False,
}
CSL_SCHEMA = {
    "type": "array",
    "items": {
        "type": "object",
        "required": ["id", "type"],
        "properties": {
            "id": {"type": "string"},
            "type": {"enum": CSL_TYPES},
            "title": {"type": "string"},
            "author": {"type": "array", "items": CSL_NAME},
            "issued": {
                "type": "object",
                "properties": {
                    "date-parts": {"type": "array", "items": {"type": "array", "items": {"type": "integer"}}}
                },
                "required": ["date-parts"],
            },
            "container-title": {"type": "string"},
            "publisher": {"type": "string"},
            "number": {"type": "string"},
            "DOI": {"type": "string"},
            "URL": {"type": "string"},
        },
        "additionalProperties": False,
    },
}


def test_bibtex_round_trips_with_the_right_entry_types() -> None:
    library = bibtexparser.parse_string(export(WORKS, "bibtex"), append_middleware=[m.SeparateCoAuthors()])
    assert not library.failed_blocks
    entries = {e.key: e for e in library.entries}
    assert list(entries) == [
        "turpinLanguage2023",
        "christianoEliciting2021",
        "christianoFailure2019",
        "belinkovProbing2022",
        "family1Sleeper2024",
    ]
    types = {key: e.entry_type for key, e in entries.items()}
    assert types == {
        "turpinLanguage2023": "inproceedings",
        "christianoEliciting2021": "techreport",  # the ELK report is not a conference paper
        "christianoFailure2019": "misc",
        "belinkovProbing2022": "article",
        "family1Sleeper2024": "misc",
    }
    fields = {key: e.fields_dict for key, e in entries.items()}
    assert fields["turpinLanguage2023"]["booktitle"].value == "NeurIPS 2023"
    assert fields["christianoEliciting2021"]["institution"].value == "Alignment Research Center"
    assert "booktitle" not in fields["christianoEliciting2021"]
    assert fields["christianoFailure2019"]["howpublished"].value == "AI Alignment Forum"
    assert fields["belinkovProbing2022"]["journal"].value == "Computational Linguistics"
    assert fields["family1Sleeper2024"]["eprint"].value == "2401.05566"
    assert len(fields["family1Sleeper2024"]["author"].value) == 39  # BibTeX lists every author


def test_bibtex_keys_are_better_bibtex_style_and_deduplicated() -> None:
    assert bibtex_key(TURPIN) == "turpinLanguage2023"
    assert bibtex_key(TURPIN.model_copy(update={"title": "The Ôdd Case of a Title"})) == "turpinOdd2023"
    assert bibtex_key(TURPIN.model_copy(update={"authors": [], "year": None})) == "anonLanguage"
    other = TURPIN.model_copy(update={"id": "arxiv:2305.00001", "title": "Language Models Can Explain Neurons"})
    assert unique_bibtex_keys([TURPIN, other, TURPIN, ELK]) == [
        "turpinLanguage2023",
        "turpinLanguage2023a",
        "turpinLanguage2023b",
        "christianoEliciting2021",
    ]
    # Stable: the same work gets the same key in every export and every format.
    assert unique_bibtex_keys([TURPIN]) == unique_bibtex_keys([TURPIN, ELK])[:1]


def test_csl_json_is_valid_csl_data() -> None:
    items = json.loads(export(WORKS, ExportFormat.csl_json))
    jsonschema.validate(items, CSL_SCHEMA)
    by_id = {item["id"]: item for item in items}
    assert [i["type"] for i in items] == ["paper-conference", "report", "post", "article-journal", "article"]
    assert by_id["turpinLanguage2023"]["author"][3] == {"family": "Bowman", "given": "Samuel R."}
    assert by_id["turpinLanguage2023"]["issued"] == {"date-parts": [[2023]]}
    assert by_id["christianoEliciting2021"]["publisher"] == "Alignment Research Center"
    assert by_id["belinkovProbing2022"]["DOI"] == "10.1162/coli_a_00422"
    assert len(by_id["family1Sleeper2024"]["author"]) == 39


def test_ris_round_trips_through_rispy() -> None:
    text = export(WORKS, ExportFormat.ris)
    assert text.startswith("TY  - CPAPER\n")
    records = rispy.loads(text)
    assert [r["type_of_reference"] for r in records] == ["CPAPER", "RPRT", "ELEC", "JOUR", "UNPB"]
    assert [r["id"] for r in records] == [
        "turpinLanguage2023",
        "christianoEliciting2021",
        "christianoFailure2019",
        "belinkovProbing2022",
        "family1Sleeper2024",
    ]
    assert records[0]["authors"] == ["Turpin, Miles", "Michael, Julian", "Perez, Ethan", "Bowman, Samuel R."]
    assert records[0]["secondary_title"] == "NeurIPS 2023"
    assert records[1]["publisher"] == "Alignment Research Center"
    assert records[3]["doi"] == "10.1162/coli_a_00422"
    assert len(records[4]["authors"]) == 39


@pytest.mark.parametrize("export_format", list(ExportFormat))
def test_no_works_export_an_empty_document(export_format: ExportFormat) -> None:
    assert export([], export_format).strip() in {"", "[]"}


def test_apa_lists_twenty_authors_then_an_ellipsis_and_the_last() -> None:
    text = apa(SLEEPER)
    assert "Family19, G., … Family39, G. (2024)" in text
    assert "Family20," not in text
    twenty = SLEEPER.model_copy(update={"authors": SLEEPER.authors[:20]})
    assert "Family19, G., & Family20, G. (2024)" in apa(twenty)


def test_acl_lists_every_author() -> None:
    text = acl(SLEEPER)
    assert all(f"Given{n} Family{n}" in text for n in range(1, 40))
    assert "Given38 Family38, and Given39 Family39. 2024." in text

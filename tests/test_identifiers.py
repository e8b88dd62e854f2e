import pytest

from bot.identifiers import (
    arxiv_year,
    canonical_url,
    exact_keys_in,
    given_name,
    normalize_arxiv_id,
    normalize_doi,
    surname,
    work_keys,
)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2305.04388", "2305.04388"),
        ("2305.04388v3", "2305.04388"),
        ("arXiv:2305.04388v2", "2305.04388"),
        ("https://arxiv.org/abs/2401.05566", "2401.05566"),
        ("http://arxiv.org/pdf/2401.05566v2.pdf", "2401.05566"),
        ("arxiv.org/html/2412.14093v1", "2412.14093"),
        ("hep-th/9901001v1", "hep-th/9901001"),
        ("1234.567", None),
        ("sleeper agents", None),
    ],
)
def test_normalize_arxiv_id(value: str, expected: str | None) -> None:
    assert normalize_arxiv_id(value) == expected


def test_normalize_doi_from_url_and_prefix() -> None:
    assert normalize_doi("https://doi.org/10.18653/V1/2020.acl-main.386.") == "10.18653/v1/2020.acl-main.386"
    assert normalize_doi("doi:10.1145/3442188.3445922") == "10.1145/3442188.3445922"
    assert normalize_doi("no doi here") is None


def test_canonical_url_ignores_scheme_www_slash_and_fragment() -> None:
    assert canonical_url("http://www.Example.org/a/b/#x") == canonical_url("https://example.org/a/b")


def test_exact_keys_in_text_finds_ids_links_and_dois_but_not_numbers() -> None:
    text = (
        "See arXiv:2305.04388 and https://arxiv.org/abs/2401.05566v2, also 2412.14093v1 and "
        "doi 10.1145/3442188.3445922 plus https://www.lesswrong.com/posts/uMQ3cqWDPHhjtiesc/agi-ruin. "
        "Pi is 3.14159 and version 1.2345 is out."
    )
    assert exact_keys_in(text) == [
        "arxiv:2401.05566",
        "post:uMQ3cqWDPHhjtiesc",
        "arxiv:2305.04388",
        "arxiv:2412.14093",
        "doi:10.1145/3442188.3445922",
    ]


@pytest.mark.parametrize(
    ("author", "expected"),
    [
        ("Samuel R. Bowman", "bowman"),
        ("Bowman, Samuel R.", "bowman"),
        ("Teun van der Weij", "van der weij"),
        ("Jan Kulveit Jr", "kulveit"),
        ("Sören Mindermann", ["soren", "mindermann"][1]),
    ],
)
def test_surname(author: str, expected: str) -> None:
    assert surname(author) == expected


def test_work_keys_skip_short_generic_titles() -> None:
    keys = work_keys(work_id="bib:x", arxiv_id=None, doi=None, url=None, title="Introduction")
    assert keys == ["id:bib:x"]
    keys = work_keys(
        work_id=None,
        arxiv_id="2305.04388",
        doi=None,
        url="https://arxiv.org/abs/2305.04388",
        title="Language Models Don't Always Say What They Think",
    )
    assert keys[0] == "arxiv:2305.04388"
    assert "title:language models dont always say what they think" in keys


@pytest.mark.parametrize(
    ("arxiv_id", "year"),
    [("2212.03827", 2022), ("0704.0001", 2007), ("1312.6199", 2013), ("hep-th/9901001", 1999),
     ("cs/0112017", 2001), ("math/9108001", 1991), (None, None), ("", None)],
)  # fmt: skip
def test_arxiv_year_is_read_from_the_id(arxiv_id: str | None, year: int | None) -> None:
    assert arxiv_year(arxiv_id) == year


@pytest.mark.parametrize(
    ("author", "expected"),
    [("Paul Christiano", "paul"), ("Christiano, Paul F.", "paul"), ("P. Christiano", ""), ("Plato", ""),
     ("Ian J. Goodfellow", "ian"), ("Élodie Müller", "elodie")],
)  # fmt: skip
def test_given_name(author: str, expected: str) -> None:
    assert given_name(author) == expected

"""Properties of identifier parsing: every written form of an arXiv id or DOI, in any surrounding text, is found
and normalised to one key, and every normal form is a fixed point."""

from __future__ import annotations

import operator

from hypothesis import example, given
from hypothesis import strategies as st

from bot.identifiers import (
    canonical_url,
    exact_keys_in,
    normalize_arxiv_id,
    normalize_doi,
    normalize_text,
    surname,
    work_keys,
)
from tests.properties import PURE, elapsed

# --- arXiv ids ---------------------------------------------------------------------------------------------------

# Plain integer draws rather than `from_regex`: several times faster, and the same ids.
new_style_ids = st.builds(
    lambda yy, mm, number, width: f"{yy:02d}{mm:02d}.{number % 10**width:0{width}d}",
    st.integers(7, 29),
    st.integers(1, 12),
    st.integers(0, 99_999),
    st.sampled_from([4, 5]),
)
_ARCHIVES = ["hep-th", "hep-ph", "gr-qc", "cond-mat", "quant-ph", "math", "cs", "physics", "q-bio", "nlin", "astro-ph"]
old_numbers = st.integers(0, 9_999_999).map(lambda n: f"{n:07d}")
old_style_ids = st.builds(lambda archive, number: f"{archive}/{number}", st.sampled_from(_ARCHIVES), old_numbers)
arxiv_ids = st.one_of(new_style_ids, old_style_ids)


@st.composite
def written_arxiv(draw: st.DrawFn, arxiv_id: str) -> str:
    """One way people write the id: bare, `arXiv:`, an abs/pdf/html link, with or without a version."""
    version = draw(st.sampled_from(["", "v1", "v2", "v13"]))
    prefix = draw(
        st.sampled_from(
            [
                "",
                "arXiv:",
                "arxiv:",
                "ARXIV:",
                "arXiv: ",
                "https://arxiv.org/abs/",
                "http://arxiv.org/abs/",
                "https://www.arxiv.org/abs/",
                "arxiv.org/abs/",
                "https://arxiv.org/pdf/",
                "https://arxiv.org/html/",
                "https://export.arxiv.org/abs/",
            ]
        )
    )
    suffix = ".pdf" if "/pdf/" in prefix and draw(st.booleans()) else ""
    return f"{prefix}{arxiv_id}{version}{suffix}"


# Text around an id: words and the punctuation ids are written between, never glued to the id's digits.
filler = st.lists(st.sampled_from([*"abcxyz ,;:!?()[]\n\t", "see ", "and ", "é", "—"]), max_size=12).map("".join)


@given(st.text(max_size=200))
@example("arxiv: 2301.00001")
@example("HEP-TH/9901001v2")
@example("math.GT/0309136")
@PURE
def test_arxiv_normalisation_is_idempotent(value: str) -> None:
    normal = normalize_arxiv_id(value)
    if normal is not None:
        assert normalize_arxiv_id(normal) == normal
        assert normalize_arxiv_id(f"arXiv:{normal}") == normal
        assert normalize_arxiv_id(f"https://arxiv.org/abs/{normal}v3") == normal


@given(arxiv_ids.flatmap(lambda i: st.tuples(st.just(i), written_arxiv(i))))
@example(("2301.00001", "arXiv: 2301.00001"))
@example(("hep-th/9901001", "arXiv:hep-th/9901001v2"))
@PURE
def test_every_written_form_normalises_to_the_id(case: tuple[str, str]) -> None:
    arxiv_id, written = case
    assert normalize_arxiv_id(written) == arxiv_id


@given(arxiv_ids.flatmap(lambda i: st.tuples(st.just(i), written_arxiv(i))), filler, filler)
@example(("hep-th/9901001", "arXiv:hep-th/9901001v2"), "see", ".")
@example(("cs/0101001", "arxiv.org/abs/cs/0101001"), "(", ")")
@PURE
def test_ids_written_in_text_are_found(case: tuple[str, str], before: str, after: str) -> None:
    arxiv_id, written = case
    if "/" in arxiv_id and written.startswith(arxiv_id):
        # A bare "hep-th/9901001" in prose reads as a path as much as an id: only prefixed old-style ids count.
        return
    assert f"arxiv:{arxiv_id}" in exact_keys_in(f"{before} {written} {after}")


@given(st.sampled_from(_ARCHIVES), old_numbers, st.sampled_from(["", ".AI", ".GT", ".lg"]), st.data())
@PURE
def test_old_style_ids_have_one_normal_form(archive: str, number: str, subject: str, data: st.DataObject) -> None:
    """Case and the subject class ("math.GT/0309136") do not make another work: arXiv's id is "math/0309136"."""
    spelled = data.draw(st.sampled_from([archive, archive.upper(), archive.title()])) + subject
    assert normalize_arxiv_id(f"{spelled}/{number}") == f"{archive}/{number}"
    assert normalize_arxiv_id(f"https://arxiv.org/abs/{spelled}/{number}v2") == f"{archive}/{number}"


def test_numbers_that_are_not_ids_are_not_found() -> None:
    assert exact_keys_in("version 1.2345 and pi 3.14159 and 12345.6789 and 2301.00001.2") == []


# --- DOIs --------------------------------------------------------------------------------------------------------

_DOI_SUFFIX_CHARS = st.sampled_from(list("abcdefghijklmnopqrstuvwxyzABCDEFXYZ0123456789-._;:/"))
doi_suffixes = st.one_of(
    st.text(_DOI_SUFFIX_CHARS, min_size=1, max_size=25),
    # Elsevier-style suffixes carry balanced parentheses: 10.1016/0004-3702(91)90053-M.
    st.builds(
        lambda issn, year, item, check: f"{issn // 10**4:04d}-{issn % 10**4:04d}({year:02d}){item:05d}-{check}",
        st.integers(0, 10**8 - 1),
        st.integers(0, 99),
        st.integers(0, 99_999),
        st.sampled_from("0123456789XM"),
    ),
).filter(lambda s: s[-1] not in ".,;:" and s[0] not in "/")
dois = st.builds(lambda reg, suffix: f"10.{reg}/{suffix}", st.integers(1000, 999_999_999), doi_suffixes)


@given(st.text(max_size=200))
@PURE
def test_doi_normalisation_is_idempotent(value: str) -> None:
    normal = normalize_doi(value)
    if normal is not None:
        assert normal == normal.lower()
        assert normalize_doi(normal) == normal
        assert normalize_doi(f"https://doi.org/{normal}") == normal


@given(dois, st.sampled_from(["", "doi:", "DOI: ", "https://doi.org/", "http://dx.doi.org/", "https://doi.org/"]))
@example("10.1016/0004-3702(91)90053-M", "")
@example("10.1016/S0140-6736(20)30183-5", "https://doi.org/")
@PURE
def test_doi_forms_normalise_to_the_doi(doi: str, prefix: str) -> None:
    assert normalize_doi(f"{prefix}{doi}") == doi.lower()


@given(dois, st.sampled_from(["", "doi:", "https://doi.org/"]), filler, st.sampled_from(["", ".", ",", ")", ";"]))
@example("10.1016/0004-3702(91)90053-M", "", "(see", ")")
@example("10.1016/0004-3702(91)90053-M", "https://doi.org/", "", "")  # the link kept its "(91)…"
@PURE
def test_dois_written_in_text_are_found(doi: str, prefix: str, before: str, punctuation: str) -> None:
    text = f"{before} {prefix}{doi}{punctuation} and more"
    assert f"doi:{doi.lower()}" in exact_keys_in(text)


# --- other normal forms ------------------------------------------------------------------------------------------

url_parts = st.tuples(
    st.sampled_from(["https://", "http://", ""]),
    st.sampled_from(["", "www.", "WWW."]),
    st.builds(
        "{}{}.{}".format,
        st.sampled_from(["a", "lesswrong", "my-blog", "x0"]),
        st.integers(0, 9),
        st.sampled_from(["org", "com"]),
    ),
    st.lists(st.text(st.sampled_from("aZ09_~%.-"), min_size=1, max_size=6), max_size=3).map(
        lambda segments: "".join(f"/{s}" for s in segments)
    ),
    st.sampled_from(["", "/"]),
    st.sampled_from(["", "?a=1", "?q=x&b=2"]),
    st.sampled_from(["", "#top"]),
)
urls = url_parts.map("".join)


# A pasted link with prose after it: "(see https://example.org/x).", "https://x.org/a #top".
pasted_urls = st.builds(operator.add, urls, st.text(st.sampled_from(" .,;)#/\t\n"), max_size=4))


@given(st.one_of(pasted_urls, st.text(max_size=80)))
@example("0.org/./")  # a slash, a dot, a slash: the first pass left "/."
@example("0 #")  # the fragment went and left a space behind
@example("www.www.example.org")
@example("https://[unclosed")  # urlsplit raises ValueError on it
@PURE
def test_canonical_url_is_idempotent(url: str) -> None:
    once = canonical_url(url)
    assert canonical_url(once) == once


@given(url_parts)
@PURE
def test_canonical_url_ignores_scheme_www_fragment_and_trailing_slash(parts: tuple[str, ...]) -> None:
    scheme, www, host, path, slash, query, fragment = parts
    other = "".join(["http://" if scheme == "https://" else "https://", "" if www else "www.", host, path])
    other += ("" if slash else "/") + query + ("" if fragment else "#section")
    assert canonical_url("".join(parts)) == canonical_url(other)


@given(st.text(max_size=200))
@PURE
def test_text_normal_form_is_idempotent_ascii(text: str) -> None:
    normal = normalize_text(text)
    assert normalize_text(normal) == normal
    assert normal.isascii() and normal == normal.lower() and "  " not in normal


@given(st.text(max_size=80))
@PURE
def test_surname_is_part_of_the_normal_name(author: str) -> None:
    name = surname(author)
    assert name == normalize_text(name)
    if name and "," not in author:
        assert f" {name} " in f" {normalize_text(author)} "


@given(
    st.one_of(st.none(), st.text(max_size=20)),
    st.one_of(st.none(), arxiv_ids),
    st.one_of(st.none(), dois),
    st.one_of(st.none(), urls),
    st.one_of(st.none(), st.text(max_size=60)),
)
@PURE
def test_work_keys_are_unique_and_typed(
    work_id: str | None, arxiv_id: str | None, doi: str | None, url: str | None, title: str | None
) -> None:
    keys = work_keys(work_id=work_id, arxiv_id=arxiv_id, doi=doi, url=url, title=title)
    assert len(keys) == len(set(keys))
    assert all(k.split(":", 1)[0] in {"id", "arxiv", "doi", "post", "url", "title"} for k in keys)
    if arxiv_id:
        assert f"arxiv:{arxiv_id}" in keys


@given(
    st.lists(
        st.sampled_from([*"0123456789.:/ abv()[]\n", "arXiv:", "10.", "https://", "doi.org/", "arxiv.org/abs/"]),
        max_size=120,
    ).map("".join)
)
@example("see https://[::1 and http://[x")
@PURE
def test_finding_keys_never_fails_and_keys_are_normal(text: str) -> None:
    keys = exact_keys_in(text)
    assert len(keys) == len(set(keys))
    for key in keys:
        kind, value = key.split(":", 1)
        if kind == "arxiv":
            assert normalize_arxiv_id(value) == value
        elif kind == "doi":
            assert normalize_doi(value) == value


def test_finding_keys_in_long_adversarial_text_is_fast() -> None:
    texts = ["10.1000/" + "a" * 50_000, "1234.5678" * 5_000, "http://" + "a(" * 25_000, "arXiv:" * 10_000]
    for text in texts:
        _keys, seconds = elapsed(lambda text=text: exact_keys_in(text))
        assert seconds < 1.0, (text[:30], seconds)

"""Post bodies: sections, footnotes (Markdown and ForumMagnum HTML), quotations and link keys."""

from __future__ import annotations

import pytest

from bot.moderation.text import link_key, parse_body

from .conftest import FIXTURES


@pytest.mark.parametrize(
    "reference",
    [
        "2304.03279",
        "arXiv:2304.03279v2",
        "arxiv.org/abs/2304.03279",
        "https://arxiv.org/abs/2304.03279v3",
        "https://arxiv.org/pdf/2304.03279v1.pdf",
        "http://www.arxiv.org/html/2304.03279",
        "10.48550/arXiv.2304.03279",
        "https://doi.org/10.48550/arxiv.2304.03279",
    ],
)
def test_every_form_of_an_arxiv_reference_has_one_key(reference: str) -> None:
    assert link_key(reference) == "arxiv:2304.03279"


def test_other_keys() -> None:
    assert link_key("https://doi.org/10.1038/nature14539") == "doi:10.1038/nature14539"
    assert link_key("doi:10.1038/nature14539") == "doi:10.1038/nature14539"
    assert link_key("https://www.lesswrong.com/posts/abcdefghijklmnopq/some-slug") == "post:abcdefghijklmnopq"
    assert link_key("abcdefghijklmnopq") == "post:abcdefghijklmnopq"
    assert link_key("https://www.Example.com/blog/post/#comments") == "url:https://example.com/blog/post"
    assert link_key("bobbuilds.example/sae-drift") == "url:https://bobbuilds.example/sae-drift"
    assert link_key("not a reference") is None


def _stats(parsed):
    section = next(s for s in parsed.sections if s.kind == "related-work")
    keys = {link.key for link in parsed.links}
    return section, keys


@pytest.mark.parametrize("name,fmt", [("related_work.md", "markdown"), ("related_work.html", "html")])
def test_related_work_post_in_both_formats(name: str, fmt: str) -> None:
    parsed = parse_body((FIXTURES / name).read_text(encoding="utf-8"), fmt)
    section, keys = _stats(parsed)
    assert section.heading == "Related work"
    assert len(section.paragraphs) == 2
    assert len(parsed.footnotes) == 3
    assert len(section.footnote_refs) == 3  # all three footnotes are referred to from the section
    assert {
        "arxiv:2201.11903",
        "arxiv:2401.05566",
        "url:https://annblog.example/cot-monitoring",
        "arxiv:2304.03279",
        "arxiv:1805.00899",
        "post:abcdefghijklmnopq",
        "arxiv:2402.06782",
    } <= keys
    footnote_links = [link for link in parsed.links if link.location == "footnote"]
    assert {link.section for link in footnote_links} == {"Related work"}
    irving = next(link for link in footnote_links if link.key == "arxiv:1805.00899")
    assert irving.text == "Irving, Christiano and Amodei (2018)"  # link text is kept for search
    # The footnote markers do not leak into the text, and the quotation is set apart.
    assert "[1]" not in parsed.text and "^" not in parsed.text
    assert parsed.quoted_text == "Faithful reasoning is reasoning that actually caused the answer."
    assert "Faithful reasoning" not in parsed.own_text


def test_markdown_and_html_versions_agree() -> None:
    md = parse_body((FIXTURES / "related_work.md").read_text(encoding="utf-8"), "markdown")
    html = parse_body((FIXTURES / "related_work.html").read_text(encoding="utf-8"), "html")
    assert sorted(link.key for link in md.links) == sorted(link.key for link in html.links)
    assert [s.heading for s in md.sections] == [s.heading for s in html.sections]
    assert md.own_text.split() == html.own_text.split()


def test_reference_list_section() -> None:
    body = "Intro text.\n\n## References\n\n1. Turpin et al. 2023. https://arxiv.org/abs/2305.04388\n"
    parsed = parse_body(body)
    [link] = parsed.links
    assert link.location == "references" and link.key == "arxiv:2305.04388"
    assert parsed.sections[-1].kind == "references"


def test_inline_q_is_a_quotation_and_plain_text_is_not() -> None:
    parsed = parse_body("<p><q>A long sentence someone else wrote, quoted inline.</q></p><p>My words.</p>", "html")
    assert parsed.quoted_text == "A long sentence someone else wrote, quoted inline."
    assert parsed.own_text == "My words."


def test_footnote_definitions_without_references_are_kept() -> None:
    parsed = parse_body("Text without markers.\n\n[^x]: An orphan note citing https://arxiv.org/abs/2201.11903.\n")
    assert [f.text for f in parsed.footnotes.values()] == ["An orphan note citing https://arxiv.org/abs/2201.11903."]
    assert [link.key for link in parsed.links] == ["arxiv:2201.11903"]


def test_scripts_and_relative_links_are_ignored() -> None:
    parsed = parse_body(
        '<p>Hi <a href="/users/bob">bob</a></p><script>var x = "https://evil.example";</script>', "html"
    )
    assert parsed.links == []
    assert parsed.text == "Hi bob"


def test_unknown_format_is_an_error() -> None:
    with pytest.raises(ValueError, match="body_format"):
        parse_body("x", "rst")


@pytest.mark.parametrize(
    "hidden",
    [
        '<span style="display:none">{}</span>',
        '<span style="DISPLAY: None !important">{}</span>',
        '<span style="visibility:hidden">{}</span>',
        '<span style="font-size: 0px">{}</span>',
        '<span style="opacity:0">{}</span>',
        '<span style="color: transparent">{}</span>',
        '<span style="height:0;overflow:hidden">{}</span>',
        '<span style="position:absolute; left:-10000px">{}</span>',
        '<span style="display:/**/none">{}</span>',
        "<span hidden>{}</span>",
        '<span aria-hidden="true">{}</span>',
        "<template>{}</template>",
        '<span class="gone">{}</span>',
        "<script>{}</script>",
        "<style>{}</style>",
    ],
)
def test_hidden_html_is_not_text(hidden: str) -> None:
    style = "<style>.gone { display: none }</style>"
    assert (
        parse_body(f"{style}<p>Visible {hidden.format('junk <b>words</b>')} text.</p>", "html").text == "Visible text."
    )
    markdown = f"{style}\n\nVisible {hidden.format('junk words')} text.\n"
    assert parse_body(markdown, "markdown").text == "Visible text."


def test_styles_that_do_not_hide_keep_the_text() -> None:
    body = (
        '<p><span style="font-size: small">small</span> <span style="height:0">overflowing</span> '
        '<span style="opacity:0.5">faded</span> <span class="shown">shown</span></p>'
    )
    assert parse_body(body, "html").text == "small overflowing faded shown"

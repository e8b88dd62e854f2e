"""Properties of reading post bodies (Markdown and HTML, as forums and members submit them).

For any body: parsing finishes quickly and never raises, footnote markers never leak into the text, and
every link carries the key `link_key` gives its URL. For generated posts: every link written in the post is
in the link list, in the section it was written in, and every footnote is counted once, numbered in order
of first reference.
"""

from __future__ import annotations

import re

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from bot.moderation.text import parse_body
from tests.properties import PURE, elapsed, short_id

_MARKERS = ("\ue000", "\ue001")  # the parser's private footnote markers

# --- any body ----------------------------------------------------------------------------------------------------

# Tag soup: fragments of the markup people and ForumMagnum produce, in any order, unbalanced.
_FRAGMENTS = [
    "<p>",
    "</p>",
    "<div>",
    "</div>",
    "<span>",
    "</span>",
    "<blockquote>",
    "</blockquote>",
    "<q>",
    "</q>",
    "<h2>",
    "</h2>",
    "<ul><li>",
    "</li>",
    "<ol>",
    "<br>",
    "<hr>",
    "<table><tr><td>",
    "<strong>",
    "</strong>",
    "<a href='https://arxiv.org/abs/2304.03279'>",
    '<a href="https://example.org/a(b)">',
    "<a href='#fn1'>",
    "<a>",
    "</a>",
    "<sup class='footnote-ref'>",
    "</sup>",
    "<span class='footnote-reference' data-footnote-id='x'>",
    "<ol class='footnote-section'>",
    "<li class='footnote-item' id='fnx'>",
    "<section class='footnotes'>",
    "</section>",
    "<a class='footnote-backref'>",
    "<script>",
    "</script>",
    "<!--",
    "-->",
    "&amp;",
    "&#0;",
    "\n",
    "\n\n",
    "> ",
    "# ",
    "## Related work\n",
    "- ",
    "1. ",
    "**",
    "`",
    "```\n",
    "[^1]",
    "[^1]: note https://doi.org/10.1000/xyz\n",
    "[^",
    "[x](https://example.org/x)",
    "[x](",
    "https://lesswrong.com/posts/abcdefghijklmnopq/x",
    "arXiv:2401.05566",
    "10.1016/0004-3702(91)90053-M",
    "Turpin et al. (2023)",
    "text",
    " ",
]
soup = st.lists(st.sampled_from(_FRAGMENTS) | st.text(max_size=8), max_size=40).map("".join)


def check_well_formed(body: str, body_format: str) -> None:
    parsed = parse_body(body, body_format)
    if not any(m in body for m in _MARKERS):
        assert not any(m in parsed.text for m in _MARKERS)
    numbers = [f.number for f in parsed.footnotes.values()]
    assert numbers == list(range(1, len(numbers) + 1))
    assert [f.id for f in parsed.footnotes.values()] == list(parsed.footnotes)
    for section in parsed.sections:
        for paragraph in section.paragraphs:
            assert paragraph.text == " ".join(paragraph.text.split())
            assert paragraph.text or paragraph.footnote_refs  # a paragraph of a footnote reference alone
    for link in parsed.links:
        assert link.location in {"body", "footnote", "references"}
        assert link.key is None or link.key.split(":", 1)[0] in {"arxiv", "doi", "post", "url"}


@given(soup | st.text(max_size=300), st.sampled_from(["markdown", "html"]))
@example("<div>" * 3_000 + "x", "html")  # RecursionError in the section walker
@example("<blockquote>" * 2_000 + "x", "markdown")
@example("<p><a href='https://[x'>a</a></p>", "html")  # urlsplit raises on an unclosed "["
@PURE
def test_any_body_parses(body: str, body_format: str) -> None:
    check_well_formed(body, body_format)


def test_an_unknown_format_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="body_format"):
        parse_body("text", "rst")


@pytest.mark.parametrize(
    ("body", "body_format"),
    [
        ("[^" * 60_000, "markdown"),  # each "[^" scanned to the end of the text: minutes for a 200 KB post
        (" ".join(f"10.1000/{i}" for i in range(10_000)), "markdown"),  # a DOI scan per DOI found
        (" ".join(f"arXiv:2301.{i:05d}" for i in range(10_000)), "html"),
        ("<div>" * 5_000 + "x", "html"),
    ],
    ids=short_id,
)
def test_adversarial_bodies_parse_in_linear_time(body: str, body_format: str) -> None:
    _parsed, seconds = elapsed(lambda: parse_body(body, body_format))
    assert seconds < 5, seconds  # each took 10 s to minutes before; linear now, well under a second


# --- generated posts ---------------------------------------------------------------------------------------------

words = st.text(st.sampled_from("abcdefghijklmnopqrstuvwxyzé"), min_size=1, max_size=8)
# URLs as written in Markdown sources: markdown-it keeps these characters as they are in the href.
urls = st.builds(
    lambda scheme, host, path, query: f"{scheme}{host}{path}{query}",
    st.sampled_from(["https://", "http://"]),
    st.sampled_from(["example.org", "www.lesswrong.com", "arxiv.org", "blog.example.com"]),
    st.lists(st.text(st.sampled_from("abcXYZ0189_-"), min_size=1, max_size=8), max_size=3).map(
        lambda parts: "".join(f"/{p}" for p in parts)
    ),
    st.sampled_from(["", "?a=1", "?a=1&b=2"]),
)


@st.composite
def markdown_posts(draw: st.DrawFn) -> tuple[str, list[tuple[str, str]], dict[str, list[str]]]:
    """(post, [(url, section heading)], {footnote label: urls in it}), with links inline, bare and autolinked."""
    blocks: list[str] = []
    links: list[tuple[str, str]] = []
    heading = ""
    labels = draw(st.lists(st.text(st.sampled_from("abc123_-.é"), min_size=1, max_size=4), max_size=4, unique=True))
    footnotes = {label: draw(st.lists(urls, max_size=2)) for label in labels}
    for _ in range(draw(st.integers(1, 5))):
        if draw(st.booleans()):
            heading = " ".join(draw(st.lists(words, min_size=1, max_size=3)))
            if draw(st.booleans()):  # link roundups: "## [Paper title](https://…)"
                url = draw(urls)
                links.append((url, heading))
                blocks.append(f"## [{heading}]({url})")
            else:
                blocks.append(f"## {heading}")
        parts: list[str] = []
        for _ in range(draw(st.integers(1, 6))):
            kind = draw(st.sampled_from(["word", "inline", "bare", "autolink", "footnote"]))
            if kind == "word":
                parts.append(draw(words))
            elif kind == "footnote" and labels:
                parts.append(f"claim[^{draw(st.sampled_from(labels))}]")
            elif kind != "footnote":
                url = draw(urls)
                text = " ".join(draw(st.lists(words, min_size=1, max_size=2)))
                if kind == "bare":  # CommonMark reads "/_x_" in running text as emphasis, so no "_" here
                    url = url.replace("_", "-")
                links.append((url, heading))
                parts.append({"inline": f"[{text}]({url})", "bare": f"{url}", "autolink": f"<{url}>"}[kind])
        prefix = draw(st.sampled_from(["", "> ", "- "]))
        blocks.append(prefix + " ".join(parts))
    for label, targets in footnotes.items():
        blocks.append(f"[^{label}]: a note " + " ".join(f"[source]({u})" for u in targets))
    return "\n\n".join(blocks), links, footnotes


@given(markdown_posts())
@example(
    (
        "see[^a.b] and[^a_b]\n\n[^a.b]: a note [source](https://x.org/1)\n\n[^a_b]: a note [source](https://x.org/2)",
        [],
        {"a.b": ["https://x.org/1"], "a_b": ["https://x.org/2"]},
    )
)
@PURE
def test_links_and_footnotes_of_a_markdown_post_are_all_found(
    post: tuple[str, list[tuple[str, str]], dict[str, list[str]]],
) -> None:
    body, written, footnotes = post
    parsed = parse_body(body, "markdown")
    body_links = [(link.url, link.section) for link in parsed.links if link.location != "footnote"]
    for url, heading in written:
        assert (url, heading) in body_links
    # Every footnote once with its own links, numbered by first reference, then the ones never referred to.
    assert len(parsed.footnotes) == len(footnotes)
    footnote_urls = sorted(link.url for link in parsed.links if link.location == "footnote")
    assert footnote_urls == sorted(u for targets in footnotes.values() for u in targets)
    referenced = list(dict.fromkeys(re.findall(r"\[\^([^\]]+)\](?!:)", body)))
    refs = list(dict.fromkeys(ref for section in parsed.sections for ref in section.footnote_refs))
    assert len(refs) == len(referenced)
    assert list(parsed.footnotes)[: len(refs)] == refs


@st.composite
def html_posts(draw: st.DrawFn) -> tuple[str, list[str], int]:
    """A ForumMagnum (CKEditor) post: anchors in nested blocks, footnote references and the footnote list."""
    anchors = draw(st.lists(urls, max_size=6))
    count = draw(st.integers(0, 4))
    pieces = []
    for url in anchors:
        inner = f'<a href="{url}">{draw(words)}</a>'
        tags = ["p", "div", "blockquote", "li", "span", "strong", "td", "h2", "q"]
        for tag in draw(st.lists(st.sampled_from(tags), max_size=3)):
            inner = f"<{tag}>{inner}</{tag}>"
        pieces.append(inner)
    for n in range(1, count + 1):
        pieces.append(
            f'<p>claim<span class="footnote-reference" data-footnote-reference="" data-footnote-index="{n}" '
            f'data-footnote-id="id{n}" role="doc-noteref" id="fnrefid{n}"><sup><a href="#fnid{n}">[{n}]</a></sup>'
            "</span></p>"
        )
    items = "".join(
        f'<li class="footnote-item" data-footnote-item="" data-footnote-index="{n}" data-footnote-id="id{n}" '
        f'role="doc-endnote" id="fnid{n}"><span class="footnote-back-link"><sup><strong><a href="#fnrefid{n}">^</a>'
        f'</strong></sup></span><div class="footnote-content"><p>note {n}</p></div></li>'
        for n in range(1, count + 1)
    )
    if count:
        pieces.append(
            f'<ol class="footnote-section footnotes" data-footnote-section="" role="doc-endnotes">{items}</ol>'
        )
    return "".join(pieces), anchors, count


@given(html_posts())
@example(('<a href="https://example.org">a</a>', ["https://example.org"], 0))  # counted twice
@example(('<p><strong><a href="https://example.org">a</a></strong></p>', ["https://example.org"], 0))  # lost
@PURE
def test_links_and_footnotes_of_an_html_post_are_all_found(post: tuple[str, list[str], int]) -> None:
    body, anchors, count = post
    parsed = parse_body(body, "html")
    assert sorted(link.url for link in parsed.links) == sorted(anchors)
    assert [f.text for f in parsed.footnotes.values()] == [f"note {n}" for n in range(1, count + 1)]
    refs = [ref for section in parsed.sections for ref in section.footnote_refs]
    assert refs == list(parsed.footnotes)
    assert "^" not in parsed.text and "[1]" not in parsed.text

"""Post bodies (Markdown or ForumMagnum HTML) → plain text, sections, links, footnotes and quotations.

Markdown is rendered to HTML first so both formats go through one walker: what counts as a quotation,
a footnote or a reference list is then decided in one place. Footnotes are recognised in the shapes
people actually submit: Markdown `[^1]` / `[^1]: …`, markdown-it / Pandoc `section.footnotes`, and
the CKEditor markup ForumMagnum (LessWrong, Alignment Forum, EA Forum) stores
(`span.footnote-reference` … `ol.footnote-section li.footnote-item`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal

from markdown_it import MarkdownIt
from selectolax.lexbor import LexborHTMLParser, LexborNode

from bot.identifiers import DOI_RE, URL_RE, exact_keys_in
from bot.moderation.hidden import remove_hidden
from bot.moderation.links import link_key

__all__ = ["Link", "ParsedBody", "link_key", "parse_body", "remove_hidden"]

BodyFormat = Literal["markdown", "html"]

# Footnote references are swapped for these markers before text is read, so the reference "[1]" does
# not pollute the text while we still know which paragraph referred to which footnote.
_REF_OPEN, _REF_CLOSE = "\ue000", "\ue001"
_REF_MARK = re.compile(f"{_REF_OPEN}([^{_REF_CLOSE}]*){_REF_CLOSE}")

# A label holds no "[": besides being Markdown's rule, it keeps "[^[^[^…" linear (each "[^" would scan to the end).
_MD_FOOTNOTE_DEF = re.compile(r"^\[\^([^\]\s\[]+)\]:[ \t]?(.*(?:\n(?:[ \t]{2,}|\t).*|\n[ \t]*(?=\n[ \t]{2,}))*)", re.M)
_MD_FOOTNOTE_REF = re.compile(r"\[\^([^\]\s\[]+)\](?!:)")

# Headings that open a related-work discussion, and those that open a plain reference list.
RELATED_HEADING = re.compile(
    r"\b(related|prior|previous|existing|past)\s+(work|research|literature|approaches)\b|\bliterature\b|"
    r"\bbackground\b|\bcomparison to\b",
    re.IGNORECASE,
)
REFERENCES_HEADING = re.compile(
    r"^\s*(references|bibliography|works cited|citations|sources|further reading)\b", re.IGNORECASE
)

_HEADINGS = {"h1", "h2", "h3", "h4", "h5", "h6"}
_CONTAINERS = {
    "html",
    "body",
    "div",
    "section",
    "article",
    "main",
    "header",
    "footer",
    "aside",
    "nav",
    "ul",
    "ol",
    "dl",
    "table",
    "thead",
    "tbody",
    "tfoot",
    "tr",
    "figure",
    "details",
    "center",
    "span",
}
_SKIP = {"script", "style", "noscript", "template", "head", "svg", "math", "button", "form"}
_FOOTNOTE_SECTIONS = (
    "section.footnotes, div.footnotes, ol.footnotes, ol.footnote-section, [data-footnote-section], [role=doc-endnotes]"
)
_FOOTNOTE_REFS = "span.footnote-reference, sup.footnote-ref, [role=doc-noteref], a.footnote-ref"
_BACKLINKS = "a.footnote-backref, .footnote-back-link, [data-footnote-back-link], [role=doc-backlink]"


@dataclass
class Link:
    url: str
    text: str
    location: Literal["body", "footnote", "references"]
    section: str  # heading of the section the link is in ("" before the first heading)
    key: str | None  # exact key (`arxiv:…`, `doi:…`, `post:…`, `url:…`), see `link_key`


@dataclass
class Paragraph:
    text: str
    quoted: bool
    links: list[Link] = field(default_factory=list)
    footnote_refs: list[str] = field(default_factory=list)

    @property
    def citation_text(self) -> str:
        """The text with every link target appended, so reference finders see both anchor and URL."""
        return " ".join([self.text, *(f"<{link.url}>" for link in self.links)])


@dataclass
class Section:
    heading: str
    level: int
    paragraphs: list[Paragraph] = field(default_factory=list)
    links: list[Link] = field(default_factory=list)  # in the heading itself: "## [Sleeper Agents](https://…)"

    @property
    def kind(self) -> Literal["related-work", "references", "other"]:
        if REFERENCES_HEADING.search(self.heading):
            return "references"
        if RELATED_HEADING.search(self.heading):
            return "related-work"
        return "other"

    @property
    def footnote_refs(self) -> list[str]:
        return list(dict.fromkeys(ref for p in self.paragraphs for ref in p.footnote_refs))


@dataclass
class Footnote:
    id: str
    number: int
    text: str
    links: list[Link] = field(default_factory=list)

    @property
    def citation_text(self) -> str:
        return " ".join([self.text, *(f"<{link.url}>" for link in self.links)])


@dataclass
class ParsedBody:
    sections: list[Section]
    footnotes: dict[str, Footnote]

    @property
    def paragraphs(self) -> list[Paragraph]:
        return [p for s in self.sections for p in s.paragraphs]

    @property
    def text(self) -> str:
        """All prose, quotations and footnotes included: what a duplicate is judged on."""
        return "\n\n".join([*(p.text for p in self.paragraphs), *(f.text for f in self.footnotes.values())])

    @property
    def own_text(self) -> str:
        """The prose outside quotations (blockquotes, <q>): what authorship is judged on."""
        return "\n\n".join(
            [*(p.text for p in self.paragraphs if not p.quoted), *(f.text for f in self.footnotes.values())]
        )

    @property
    def quoted_text(self) -> str:
        return "\n\n".join(p.text for p in self.paragraphs if p.quoted)

    @property
    def links(self) -> list[Link]:
        body = [link for s in self.sections for link in [*s.links, *(link for p in s.paragraphs for link in p.links)]]
        return body + [link for f in self.footnotes.values() for link in f.links]


def markdown_to_html(markdown: str) -> str:
    """CommonMark with raw HTML allowed, plus footnotes rendered in the markdown-it-footnote shape."""
    md = MarkdownIt("commonmark", {"html": True}).enable("table")
    definitions: dict[str, str] = {}

    def take(match: re.Match[str]) -> str:
        definitions[match.group(1)] = re.sub(r"\n[ \t]+", "\n", match.group(2)).strip()
        return ""

    body = _MD_FOOTNOTE_DEF.sub(take, markdown)
    order: list[str] = []

    def ref(match: re.Match[str]) -> str:
        label = match.group(1)
        if label not in definitions:
            return match.group(0)
        if label not in order:
            order.append(label)
        return f'<sup class="footnote-ref"><a href="#fn-{_html_attr(label)}">[{order.index(label) + 1}]</a></sup>'

    body = _MD_FOOTNOTE_REF.sub(ref, body)
    html = md.render(body)
    labels = order + [label for label in definitions if label not in order]
    if labels:
        items = "".join(f'<li id="fn-{_html_attr(label)}">{md.render(definitions[label])}</li>' for label in labels)
        html += f'<section class="footnotes"><ol>{items}</ol></section>'
    return html


def _html_attr(value: str) -> str:
    # One id for one label: "a.b" and "a_b" must not become the same footnote (one of them would be lost).
    return re.sub(r"[^A-Za-z0-9\-]", lambda m: f"_{ord(m[0]):x}_", value)


def parse_body(body: str, body_format: BodyFormat | str = "markdown") -> ParsedBody:
    if body_format not in ("markdown", "html"):
        raise ValueError(f"body_format must be 'markdown' or 'html', not {body_format!r}")
    html = markdown_to_html(body) if body_format == "markdown" else body
    tree = LexborHTMLParser(html)
    root = tree.body or tree.root
    if root is None:
        return ParsedBody(sections=[Section("", 0)], footnotes={})
    remove_hidden(tree)
    for node in tree.css(_BACKLINKS):
        node.decompose()
    # Footnote references become markers; their targets are read from the href ("#fn-x" → "fn-x").
    for node in tree.css(_FOOTNOTE_REFS):
        anchor = node if node.tag == "a" else node.css_first("a[href^='#']")
        target = (anchor.attributes.get("href") or "").lstrip("#") if anchor else ""
        if not target:
            target = node.attributes.get("data-footnote-id") or ""
            target = f"fn{target}" if target else ""
        node.replace_with(f"{_REF_OPEN}{target}{_REF_CLOSE}" if target else "")
    footnotes: dict[str, Footnote] = {}
    for container in tree.css(_FOOTNOTE_SECTIONS):
        if container.parent is None:  # already taken as part of an enclosing footnote section
            continue
        for item in container.css("li"):
            fid = item.attributes.get("id") or f"fn{item.attributes.get('data-footnote-id') or len(footnotes) + 1}"
            if fid in footnotes:
                continue
            walker = _Walker(location="footnote")
            walker.walk(item, quoted=False)
            paragraphs = walker.sections[0].paragraphs + [p for s in walker.sections[1:] for p in s.paragraphs]
            text = " ".join(p.text for p in paragraphs).strip()
            links = [link for s in walker.sections for link in [*s.links, *(k for p in s.paragraphs for k in p.links)]]
            footnotes[fid] = Footnote(id=fid, number=len(footnotes) + 1, text=text, links=links)
        container.decompose()
    walker = _Walker(location="body")
    walker.walk(root, quoted=False)
    for fid in list(footnotes):
        # Links in footnotes belong to the section that refers to the footnote.
        section = next((s for s in walker.sections if fid in s.footnote_refs), None)
        for link in footnotes[fid].links:
            link.section = section.heading if section else ""
    return ParsedBody(sections=walker.sections, footnotes=footnotes)


# Blocks nested deeper than this are read as one paragraph each: the walk recurses, and a post of a few
# thousand nested <div>s must not end in RecursionError.
_MAX_DEPTH = 100


class _Walker:
    """Reads block elements in document order into sections of paragraphs."""

    def __init__(self, location: Literal["body", "footnote"]) -> None:
        self.location = location
        self.sections: list[Section] = [Section("", 0)]

    def walk(self, node: LexborNode, quoted: bool, depth: int = 0) -> None:
        loose: list[LexborNode] = []  # inline content directly inside a container forms one paragraph
        for child in _children(node):
            tag = child.tag
            if tag in _SKIP or tag == "-comment":
                continue
            if tag in _HEADINGS or tag in _CONTAINERS or tag in {"blockquote", "li", "p", "pre", "hr"} | _CELLS:
                self._flush(loose, quoted)
                loose = []
            if tag in _HEADINGS:
                self._heading(child, int(tag[1]))
            elif tag == "blockquote":
                self._nested(child, True, depth)
            elif tag == "span" and not _has_block(child):
                loose.append(child)
            elif tag in _CONTAINERS or (tag == "li" and _has_block(child)):
                self._nested(child, quoted, depth)
            elif tag in {"p", "li", "pre"} | _CELLS:
                if tag == "p" and self.location == "body" and _is_pseudo_heading(child):
                    self._heading(child, 6)
                else:
                    self._paragraph([child], quoted)
            elif tag == "hr":
                continue
            else:
                loose.append(child)
        self._flush(loose, quoted)

    def _nested(self, node: LexborNode, quoted: bool, depth: int) -> None:
        if depth < _MAX_DEPTH:
            self.walk(node, quoted, depth + 1)
        else:
            self._paragraph([node], quoted)

    def _flush(self, nodes: list[LexborNode], quoted: bool) -> None:
        if nodes:
            self._paragraph(nodes, quoted)

    def _heading(self, node: LexborNode, level: int) -> None:
        section = Section(_clean(_REF_MARK.sub("", node.text(deep=True))), level)
        self.sections.append(section)
        # A heading may itself cite: link roundups title each entry "## [Paper](https://arxiv.org/abs/…)".
        section.links = self._links([node], section.heading, section)

    def _paragraph(self, nodes: list[LexborNode], quoted: bool) -> None:
        raw = "".join(_node_text(n) for n in nodes)
        refs = _REF_MARK.findall(raw)
        text = _clean(_REF_MARK.sub("", raw))
        # An inline <q> that is most of the paragraph makes it a quotation, like a blockquote does.
        q_chars = sum(len(_clean(q.text(deep=True))) for n in nodes for q in _css(n, "q"))
        quoted = quoted or (bool(text) and q_chars >= 0.8 * len(text))
        if not text and not refs:
            return
        section = self.sections[-1]
        links = self._links(nodes, text, section)
        section.paragraphs.append(Paragraph(text=text, quoted=quoted, links=links, footnote_refs=refs))

    def _links(self, nodes: list[LexborNode], text: str, section: Section) -> list[Link]:
        """Anchors in the nodes, then bare URLs, arXiv ids and DOIs written in their text."""
        location = self.location
        if location == "body" and section.kind == "references":
            location = "references"
        links: list[Link] = []
        seen: set[str] = set()
        for node in nodes:
            for anchor in _css(node, "a[href]"):
                href = (anchor.attributes.get("href") or "").strip()
                if not href.lower().startswith(("http://", "https://")):
                    continue
                seen.add(href)
                links.append(Link(href, _clean(anchor.text(deep=True)), location, section.heading, link_key(href)))
        for url in URL_RE.findall(text):  # bare URLs written as text
            url = url.rstrip(".,;:")  # a closing parenthesis is only in the match when its opening one is
            if url not in seen:
                seen.add(url)
                links.append(Link(url, "", location, section.heading, link_key(url)))
        without_urls = URL_RE.sub(" ", text)
        # DOIs as written (case kept), found once: a scan per key would be quadratic in a long reference list.
        written: dict[str, str] = {}
        for match in DOI_RE.finditer(without_urls):
            written.setdefault(match.group(1).lower(), match.group(1))
        for key in exact_keys_in(without_urls):  # bare "arXiv:2304.03279" and DOIs
            ident = key.split(":", 1)[1]
            shown = written.get(ident, ident)
            links.append(Link(shown, "", location, section.heading, link_key(key.replace("arxiv:", "arXiv:"))))
        return links


_CELLS = {"td", "th", "dd", "dt", "figcaption", "caption"}
_BLOCKS = _HEADINGS | _CONTAINERS - {"span"} | {"p", "li", "pre", "blockquote"} | _CELLS


def _children(node: LexborNode) -> list[LexborNode]:
    out = []
    child = node.child
    while child is not None:
        out.append(child)
        child = child.next
    return out


def _has_block(node: LexborNode) -> bool:
    return any(c.tag in _BLOCKS for c in _children(node))


def _css(node: LexborNode, selector: str) -> list[LexborNode]:
    if node.tag in {"-text", "-comment"}:
        return []
    found = list(node.css(selector))
    # selectolax 1.x matches the node itself, older versions only its descendants: count it once either way
    # (by identity: nodes compare equal when their HTML is equal).
    if node.tag and _matches_self(node, selector) and all(n.mem_id != node.mem_id for n in found):
        found.insert(0, node)
    return found


def _matches_self(node: LexborNode, selector: str) -> bool:
    if selector == "a[href]":
        return node.tag == "a" and "href" in node.attributes
    return node.tag == selector


def _node_text(node: LexborNode) -> str:
    if node.tag == "br":
        return "\n"
    return node.text(deep=True, separator="") if node.tag != "-text" else (node.text_content or "")


def _is_pseudo_heading(node: LexborNode) -> bool:
    """ForumMagnum authors often write headings as a short paragraph that is all bold."""
    text = _clean(node.text(deep=True))
    if not text or len(text) > 80 or (text.endswith((".", ":")) and len(text.split()) > 6):
        return False
    strong = "".join(s.text(deep=True) for s in node.css("strong, b"))
    return _clean(strong) == text


def _clean(text: str) -> str:
    return " ".join(text.replace("\xa0", " ").split())

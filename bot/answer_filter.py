"""The strict filter every LLM answer passes before any front end sees it.

The model's Markdown is parsed (markdown-it, the CommonMark parser) and rebuilt as plain prose:
- links, autolinks and bare URLs (found by linkify-it, the matcher Markdown renderers use, plus `www.`
  hosts of any domain) survive only when they point at one of the retrieved works; every other link
  keeps its label and loses its target (protocol-relative, `javascript:`, `data:`, reference-style alike);
- images and raw HTML are dropped, emphasis and code keep their markup as text;
- citation markers in every bracket style (`[ 7 ]`, `【8】`, `[^9]`, `［7］`, `[2, 7]`, `[1-3]`) become
  `[n]`, and numbers that name no retrieved work are removed;
- mentions are stripped: Discord `<@id>`, `<@&id>`, `<#id>`, any `@name` (`@everyone`, `@here`, forum
  pings) and Reddit `u/`, `/u/`, `r/`, `/r/` prefixes.

The result is parsed again and filtered until it no longer changes, so what reaches a front end is a
fixed point: Markdown whose only links are retrieved works' URLs, whatever escaping trick the model used.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from urllib.parse import urlsplit, urlunsplit

from linkify_it import LinkifyIt
from markdown_it import MarkdownIt
from markdown_it.tree import SyntaxTreeNode

from bot.domain import RankedWork

# Opening and closing brackets a model may put around a citation number (ASCII, full-width, CJK).
_OPEN, _CLOSE = "[［【〔〖〘⟦", "]］】〕〗〙⟧"
CITATION = re.compile(
    rf"[{re.escape(_OPEN)}]\s*\^?\s*(\d+(?:\s*[,;–-]\s*\^?\s*\d+)*)\s*[{re.escape(_CLOSE)}]"
)  # [1], [ 7 ], [^9], 【8】, [1, 2], [1-3]
_DISCORD_MENTION = re.compile(r"<(?:@[!&]?|#)\d*>")  # <@id>, <@!id>, <@&role>, <#channel>
# @everyone, @here (anywhere), @name (not the @ of an e-mail address). An underscore before it does not make an
# e-mail: it may be Markdown emphasis, which a renderer drops ("_[_@name" shows "[@name").
_AT_MENTION = re.compile(r"(?<![^\W_])(?<![.+-])[@＠]|[@＠](?=(?:everyone|here)\b)", re.IGNORECASE)
_REDDIT_MENTION = re.compile(r"(?<![A-Za-z0-9])/?[uUrR]/")  # u/name, /u/name, r/sub, /r/sub
# URLs linkify-it does not take (IP literals; after a symbol such as "^" or "`"), which some autolinkers do.
_UNMATCHED_URL = re.compile(r"(?i)[a-z][a-z0-9+.-]*://\S*|(?<![a-z0-9.-])www\.[a-z0-9]\S*")
_URL_END = ("", " ", "\n", ".", ",", ";", ":", "!", "?", ")")  # characters no autolinker takes into a URL's end
_URL_START = ("", " ", "\n", "(", "[", "<", '"', "'")  # characters no autolinker takes into a URL's start
_MAX_PASSES = 5


def _linkifier() -> LinkifyIt:
    linkify = LinkifyIt()
    # Reddit, GitHub and Discourse link "www." hosts of any domain; linkify-it alone knows only common TLDs.
    host_and_path = linkify.re["src_host_port_strict"] + linkify.re["src_path"]
    return linkify.add("www.", {"validate": re.compile(host_and_path, re.IGNORECASE)})


_LINKIFY = _linkifier()
_PARSER = MarkdownIt("commonmark", {"html": True})
_PARSER.validateLink = lambda _url: True  # every link becomes a link node, so every one is judged below


def normalise_url(url: str) -> str | None:
    """The comparable form of an http(s) URL (scheme and host lower-cased, no `www.`, no trailing slash);
    None for anything else: protocol-relative, `javascript:`, `data:`, bare hosts."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port  # read lazily: raises for a port that is not a number ("https://host:%5B")
    except ValueError:
        return None
    scheme, host = parts.scheme.lower(), (parts.hostname or "").lower()
    if scheme not in ("http", "https") or not host:
        return None
    host = host.removeprefix("www.")
    if port and port != {"http": 80, "https": 443}[scheme]:
        host = f"{host}:{port}"
    return urlunsplit((scheme, host, parts.path.rstrip("/"), parts.query, parts.fragment))


class AnswerFilter:
    """Filters one answer against the works it may cite (numbered from 1 in `results` order)."""

    def __init__(self, results: Sequence[RankedWork]) -> None:
        self.count = len(results)
        self.allowed: dict[str, str] = {}  # normalised URL -> the work's own URL
        for work in results:
            key = normalise_url(work.url) if work.url else None
            if key is not None:
                self.allowed.setdefault(key, work.url or "")

    def __call__(self, text: str) -> str:
        for _ in range(_MAX_PASSES):
            filtered = self._pass(text)
            if filtered == text:
                break
            text = filtered
        else:
            return ""  # still changing after layers of escapes: no answer (the caller falls back to its own)
        return text

    def allowed_url(self, url: str) -> str | None:
        key = normalise_url(url)
        return self.allowed.get(key) if key else None

    # --- one pass: structure, then text ----------------------------------------------------------

    def _pass(self, text: str) -> str:
        root = SyntaxTreeNode(_PARSER.parse(text))
        blocks = [block for block in self._blocks(root) if block.strip()]
        return "\n\n".join(blocks).strip()

    def _blocks(self, node: SyntaxTreeNode, prefix: str = "") -> Iterable[str]:
        for child in node.children:
            if child.type == "inline":
                yield prefix + self._inline(child.children)
            elif child.type in ("code_block", "fence"):
                yield prefix + self._text(child.content)
            elif child.type == "html_block":
                continue
            elif child.type == "list_item":
                marker = f"{child.info}{child.markup}" if child.info else "-"
                yield from self._blocks(child, f"{marker} ")
            else:  # paragraphs, headings, lists, quotes: their text, one block each
                yield from self._blocks(child, prefix)

    def _inline(self, nodes: Sequence[SyntaxTreeNode]) -> str:
        """Inline nodes as text: runs of plain text are filtered together; links are judged one by one."""
        out: list[str] = []
        run: list[str] = []
        for node in nodes:
            if node.type == "link":
                out += [self._text("".join(run)), self._link(node)]
                run = []
            else:
                run.append(self._plain(node))
        out.append(self._text("".join(run)))
        return "".join(out)

    def _plain(self, node: SyntaxTreeNode) -> str:
        """A non-link inline node as the text a reader would see, markup kept as characters."""
        if node.type == "text":
            # A renderer linkifies each text token on its own: "_evil.io_" and "evil.io`[//`" show a link to
            # evil.io where linkify-it finds none in the string as a whole.
            return self._text(node.content, prose=False)
        if node.type == "code_inline":
            return node.markup + node.content + node.markup
        if node.type in ("softbreak", "hardbreak"):
            return "\n"
        if node.type in ("em", "strong", "s"):
            return node.markup + "".join(self._plain(c) for c in node.children) + node.markup
        if node.type == "image":  # its alt text only: an image fetches its URL when shown
            return "".join(self._plain(c) for c in node.children)
        if node.type == "link":  # a link nested in a label (not valid Markdown, but be sure)
            return "".join(self._plain(c) for c in node.children)
        return ""  # html_inline and anything unknown

    def _link(self, node: SyntaxTreeNode) -> str:
        label = self._text("".join(self._plain(c) for c in node.children)).strip()
        cited = re.fullmatch(r"\^?(\d+)", label.strip("[]"))
        if cited:  # [1](url) or a reference link [1]: a citation marker
            return self._markers(cited.group(1))
        url = self.allowed_url(str(node.attrs.get("href", "")))
        if url is None:
            return label
        if label and normalise_url(label) != normalise_url(url):
            return f"{label} ({url})"
        return url

    # --- text: URLs, citations, mentions -----------------------------------------------------------

    def _text(self, text: str, prose: bool = True) -> str:
        """`text` with its links judged and, with `prose`, its other URLs, mentions and markers too."""
        keep = self._prose if prose else str
        pieces, last = [], 0
        for match in _LINKIFY.match(text) or []:
            pieces.append(keep(text[last : match.index]))
            allowed = self.allowed_url(match.url) if match.schema.lower() in ("http:", "https:") else None
            if allowed and text[match.last_index : match.last_index + 1] not in _URL_END:
                allowed += " "  # what follows must not extend the URL for a more greedy autolinker
            if allowed and text[match.index - 1 : match.index] not in _URL_START:
                allowed = " " + allowed  # nor what comes before it ("www." + "https://…" is another host)
            pieces.append(allowed or "")
            last = match.last_index
        pieces.append(keep(text[last:]))
        return "".join(pieces)

    def _prose(self, text: str) -> str:
        text = _UNMATCHED_URL.sub("", text)
        previous = None
        while previous != text:  # removing one mention must not join the parts of another
            previous = text
            text = _DISCORD_MENTION.sub("", text)
            text = _AT_MENTION.sub("", text)
            text = _REDDIT_MENTION.sub("", text)
        text = CITATION.sub(lambda m: self._markers(m.group(1)), text)
        return re.sub(r"[ \t]{2,}", " ", text).replace(" .", ".")

    def _markers(self, numbers_text: str) -> str:
        """`[n]` for each cited number that names a retrieved work; a short range is expanded."""
        numbers: list[int] = []
        for part in re.split(r"[,;]", numbers_text):
            bounds = [int(n) for n in re.findall(r"\d+", part)]  # "7" or a range "1-3"
            first, last = bounds[0], bounds[-1]
            numbers += range(first, last + 1) if 0 <= last - first <= self.count else [first, last]
        kept = [n for n in dict.fromkeys(numbers) if 1 <= n <= self.count]
        return "".join(f"[{n}]" for n in kept)


def filter_answer(text: str, results: Sequence[RankedWork]) -> str:
    """The answer with only retrieved works' links, in-range `[n]` citations and no mentions ("" when it
    does not settle within five passes)."""
    return AnswerFilter(results)(text)


def cited_numbers(text: str) -> list[int]:
    """Every number of every citation marker in `text`, in any bracket style (what a reader sees as one)."""
    numbers = []
    for match in CITATION.finditer(text):
        numbers += [int(n) for n in re.findall(r"\d+", match.group(1))]
    return numbers

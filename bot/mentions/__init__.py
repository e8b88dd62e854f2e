"""Finding the works a discussion refers to, as people write them.

A span becomes a candidate reference only with a real cue: a link or id (bare, Markdown or HTML); an author
citation ("Turpin et al. (2023)", "Jacovi & Goldberg", "Burns's CCS paper", "RepE (Zou et al.)"); a quoted
or emphasised span that reads as a title (curly or straight quotes, primes, guillemets, *Markdown*,
<em>HTML</em>, with apostrophes inside); "the … paper/post/report"; a known alias used as a name. Candidates
next to each other ("Perez et al., the model-written evals paper", "Nanda et al. on grokking") are read as one
reference. Ordinary phrases never become references: only cued spans are considered, and the weak cues (a
name, "the … paper", a sentence-case quote) count only when they resolve with confidence.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

from bot.domain import Message
from bot.identifiers import ARXIV_IN_TEXT_RE, DOI_RE, URL_RE, normalize_text
from bot.mentions.names import LOWER, STOP, TITLE_MINOR, UPPER, WORD, known_names
from bot.retrieval.corpus import CorpusIndex
from bot.retrieval.resolve import Candidate, ReferenceResolver

_NAME = rf"[{UPPER}][{LOWER}][^\W\d_]*(?:[-'’][{UPPER}]?[^\W\d_]+)?"
# With the particles of a family name, often written in lower case: "van der Weij et al.", "de Haan (2019)".
_SURNAME = rf"(?:(?i:van|von|der|den|de|du|ter|ten)\s+){{0,2}}{_NAME}"
_YEAR = r"(?:19|20)\d\d[a-z]?"
_ET_AL = r"et\s*al\.?"
AUTHOR_CITATION = re.compile(
    rf"\b(?:{_SURNAME}\s+(?:{_ET_AL}|(?:&|and)\s+{_SURNAME}(?:\s+{_ET_AL})?)(?:['’]s?)?(?:,?\s*\(?{_YEAR}\)?)?"
    rf"|{_SURNAME},?\s*\({_YEAR}\)|{_SURNAME},\s+{_YEAR})"
)
# "(Zou et al.)", "(Hubinger, 2024)" right after a name or description: the author of what was just named.
_PAREN_AUTHOR = re.compile(
    rf"\(\s*({_SURNAME}(?:\s+{_ET_AL}(?:,?\s*{_YEAR})?|\s+(?:&|and)\s+{_SURNAME}(?:,?\s*{_YEAR})?|,?\s*{_YEAR}))\s*\)"
)
# A word of a title or description named before "paper": joined by slashes ("the OpenAI/Apollo anti-scheming
# paper"), with a title's punctuation ("Sleeper Agents: Training…", "What Does BERT Look At?"), or a gloss in
# parentheses ("the SHIFT (sparse feature circuits) paper").
_TITLE_WORD = r"[\w\-’'/:?!&]+"
_DESCRIPTION_WORD = rf"(?:{_TITLE_WORD}|\([^()\n]{{1,40}}\))"
# "Burns's CCS paper", "Turner’s Reward is not the optimization target post".
_POSSESSIVE = re.compile(
    rf"\b({_SURNAME})['’]s?\s+(?:{_TITLE_WORD}\s+){{0,20}}?(?:paper|post|report|preprint)\b"
    r"(?:\s+(?:on|about)\s+(?:[\w\-]+\s+){0,3}[\w\-]+)?"
)
# Up to five words before "(Zou et al.)", back to punctuation or a word that starts a clause; a gloss in
# parentheses counts as a word: "ROME (model editing) (Meng et al.)".
_CLAUSE = r"(?:in|see|as|cf|by|of|from|with|like|per|and|or|is|are|was|were|that|which|also|e\.g\.|i\.e\.)"
_DESCRIBED_BEFORE = re.compile(
    rf"(?:^|[,.;:!?(\[]\s*|\b{_CLAUSE}\s+)((?:(?!{_CLAUSE}\b)(?:[\w\-’']+|\([^()\n]{{1,40}}\))\s+){{1,5}})$",
    re.IGNORECASE,
)
# A Title Case title, written without quotes: before "(Burns et al.)" or after "Turpin et al.'s". Capitalised
# words (with a title's colon or question mark) and the minor words a title keeps in lower case.
_CAPITALISED = rf"[{UPPER}0-9][\w\-’'/]*[:?!]?"
_MINOR = r"(?:a|an|the|and|or|of|to|in|on|for|with|by|at|from|as|is|are|via|vs\.?|do|does|not|without|through|into)"
_TITLE_AFTER = re.compile(rf"\s+{_CAPITALISED}(?:\s+(?:{_CAPITALISED}|{_MINOR}))*\s+{_CAPITALISED}")
_TITLE_BEFORE = re.compile(rf"(?<![\w\-’'])({_CAPITALISED}(?:\s+(?:{_CAPITALISED}|{_MINOR})){{2,25}}\s+)$")
# "(ai et al. 2025)", "(contributors 2019)": a name in lower case, as some BibTeX sources write it, is a citation
# in parentheses with a year.
_LOWER_AUTHOR = re.compile(rf"\(\s*([{LOWER}][{LOWER}\-]+)(\s+{_ET_AL})?,?\s+{_YEAR}\s*\)")
# "Zeiler 2012": a bare name and year is a citation when the name is an author's in the knowledge base.
_NAME_YEAR = re.compile(rf"\b({_SURNAME})\s+\(?({_YEAR})\b")
THE_X_PAPER = re.compile(
    rf"\b(?:the|their|his|her|that|this)\s+((?:{_DESCRIPTION_WORD}\s+){{0,20}}?{_DESCRIPTION_WORD})\s+"
    r"(?:paper|post|report|preprint|article)s?\b"
    r"(?:\s+(?:on|about)\s+(?:[\w\-]+\s+){0,3}[\w\-]+)?",
    re.IGNORECASE,
)
# "the framework of the post", "the new idea in a paper", "this is an awesome paper": a paper's part, or a sentence
# about one, not a work named by its description.
_NOT_DESCRIBED = re.compile(
    r"^(?:is|was|are|were|be)\b|\b(?:of|in|from|on|for|to|by|with|at|the|a|an|this|that|its|their|our|his|her)$",
    re.IGNORECASE,
)
# "Nanda et al. on grokking": the topic after an author citation says which of their works.
_ON_TOPIC = re.compile(r"\s+(?:on|about)\s+((?:[\w\-]+\s+){0,3}[\w\-]+)")
_MD_LINK = re.compile(r"\[([^\[\]\n]{0,300})\]\(\s*<?([^()\s<>]+(?:\([^()\s]*\)[^()\s<>]*)*)>?(?:\s+\"[^\"]*\")?\s*\)")
_HTML_LINK = re.compile(r"<a\s[^>]*?href\s*=\s*[\"']([^\"']+)[\"'][^>]*>(.*?)</a\s*>", re.IGNORECASE | re.DOTALL)
_HTML_TAG = re.compile(r"</?[a-zA-Z][^<>]{0,200}>")
# Opening and closing quote marks, and emphasis, that may surround a title. Single quotes and primes close
# only where no letter follows, so "Don’t" inside ‘Language Models Don’t Always Say What They Think’ stays.
_QUOTE_PAIRS = [
    ("“", "”"), ("„", "“"), ("„", "”"), ("”", "”"), ('"', '"'), ("«", "»"), ("»", "«"), ("‹", "›"),
    ("″", "″"), ("‘", "’"), ("‚", "‘"), ("'", "'"), ("′", "′"), ("`", "`"), ("「", "」"), ("『", "』"),
]  # fmt: skip
_QUOTED = [
    re.compile(
        rf"(?<![\w{re.escape(o)}]){re.escape(o)}(?=\S)"
        rf"((?:[^\n{re.escape(o + c)}]|['’′](?=\w))+?)"  # an apostrophe before a letter does not close
        rf"(?<=\S){re.escape(c)}(?!\w)"
    )
    for o, c in _QUOTE_PAIRS
]
_QUOTE_MARKS = "".join(sorted({m for pair in _QUOTE_PAIRS for m in pair} | set("*_")))
_EMPHASIS = [
    re.compile(r"(?<![\w*])\*\*(?=\S)([^\n*]+?)(?<=\S)\*\*(?![\w*])"),
    re.compile(r"(?<![\w*])\*(?=[^\s*])([^\n*]+?)(?<=[^\s*])\*(?![\w*])"),
    re.compile(r"(?<![\w_])__(?=\S)([^\n_]+?)(?<=\S)__(?![\w_])"),
    re.compile(r"(?<![\w_])_(?=[^\s_])([^\n_]+?)(?<=[^\s_])_(?![\w_])"),
    re.compile(r"<(em|i|cite|q)>\s*([^<>\n]+?)\s*</\1\s*>", re.IGNORECASE),
]
# Capitalised words before a year that are no one's name: "In March 2023", "Since 2019".
_NOT_NAMES = frozenset(
    "in on since by from until before after during around about january february march april may june july "
    "august september october november december spring summer autumn fall winter early late mid the of "
    "for and or to at as this that".split()
)
# Lower-case words before a year in parentheses that some author's surname shares: "(see 2019)", "(ca. 2020)".
_LOWER_NOT_NAMES = frozenset("see also cf ca circa till until no to first last est ed vol version updated".split())
_ABBREVIATIONS = frozenset("vs al etc eg ie fig no dr mr ms st cf approx".split())


def _heading(text: str, match: re.Match[str]) -> bool:
    """Bold text alone on its line ("**Algorithmic efficiency**") heads a section, and so does bold text that starts
    a line and ends in a full stop or colon ("**Takeoff speeds.** A common disagreement…"); it cites no title."""
    line_start, line_end = text.rfind("\n", 0, match.start()) + 1, text.find("\n", match.end())
    after = text[match.end() : line_end if line_end >= 0 else len(text)]
    bold = match.group(0)[:2] in {"**", "__"}
    run_in = match.group(0)[:-2].rstrip().endswith((".", ":"))
    return bold and not text[line_start : match.start()].strip(" \t#>") and (run_in or not after.strip(" \t:."))


# Words that cite what is quoted next: "(see «Score-based pullback Riemannian geometry»)", 'the paper "…"'.
_CITED_BEFORE = re.compile(
    rf"\b(?:see(?:\s+also)?|cf\.?|titled|entitled|paper|preprint|article)\s*[:,]?\s*[{re.escape(_QUOTE_MARKS)}\s]*$",
    re.IGNORECASE,
)

KINDS = ("link", "author", "names", "quote", "name")


@dataclass(frozen=True)
class Mention:
    text: str
    kind: str  # "link", "author" (with "et al." or a year), "names" ("A & B"), "quote", "name"
    author: str | None = None
    start: int = 0  # offset in the message, so references are listed in the order they were made
    end: int = -1  # end offset in the message (-1: start + len(text))
    titled: bool = False  # a quote that reads as a title (Title Case): worth reporting when it does not resolve

    @property
    def strong(self) -> bool:
        """Shapes that are certainly meant as references: worth reporting when they do not resolve."""
        return self.kind in {"link", "author"} or self.titled


@dataclass
class FoundReference:
    """One mention read from a message, with what the resolver made of it."""

    mention: Mention
    candidates: list[Candidate] = field(default_factory=list)
    confident: bool = False

    @property
    def best(self) -> Candidate | None:
        return self.candidates[0] if self.candidates else None

    @property
    def reported(self) -> bool:
        """In the bibliography: resolved with confidence, or a strong mention listed as unresolved."""
        return self.confident or self.mention.strong


def parse_thread(raw: str) -> list[Message]:
    """A thread given as a JSON list of {author, text} messages, or as plain text (one message a paragraph)."""
    stripped = raw.strip()
    if stripped.startswith("["):
        try:
            data = json.loads(stripped)
        except json.JSONDecodeError as exc:
            raise ValueError(f"thread JSON is invalid at line {exc.lineno} column {exc.colno}: {exc.msg}") from exc
        except RecursionError as exc:
            raise ValueError("thread JSON is nested too deeply") from exc
        messages = []
        for n, item in enumerate(data, start=1):
            if isinstance(item, str):
                messages.append(Message(text=item))
            elif (
                isinstance(item, dict)
                and isinstance(item.get("text"), str)
                and isinstance(item.get("author"), str | None)
            ):
                messages.append(Message(author=item.get("author"), text=item["text"]))
            else:
                raise ValueError(
                    f"thread message {n} must be a string or an object with a 'text' string (and an 'author' string)"
                )
        return messages
    return [Message(text=p.strip()) for p in re.split(r"\n\s*\n", raw) if p.strip()]


def _blank(text: str, start: int, end: int) -> str:
    """Spaces over a span, so offsets found later still point into the original text."""
    return text[:start] + " " * (end - start) + text[end:]


def content_words(text: str) -> list[str]:
    return [w for w in (normalize_text(w) for w in WORD.findall(text)) if w and w not in STOP]


def reads_as_title(span: str) -> bool:
    """Title Case, a few words, one phrase: "Sleeper Agents: Training Deceptive LLMs…", not "the answer is A"."""
    words = WORD.findall(span)
    if not 2 <= len(words) <= 30 or len(content_words(span)) < 2 or _has_sentence_break(span):
        return False
    if not words[0][:1].isupper() and not words[0][:1].isdigit():
        return False
    if ":" in span and len(words) >= 4:
        return True  # "Personalize to generalize: Towards …": sentence-case titles keep the colon shape
    major = [w for w in words[1:] if w.lower() not in TITLE_MINOR]
    return bool(major) and sum(w[:1].isupper() or w[:1].isdigit() for w in major) >= 0.7 * len(major)


def reads_as_sentence_title(span: str) -> bool:
    """A sentence-case title ("Score-based pullback Riemannian geometry"): one phrase of three words or more
    starting with a capital. Only read as a title where the text cites it ("see …", "the paper …")."""
    words = WORD.findall(span)
    return (
        3 <= len(words) <= 30
        and len(content_words(span)) >= 2
        and (words[0][:1].isupper() or words[0][:1].isdigit())
        and not _has_sentence_break(span)
        and not span.rstrip().endswith((".", "!", "?"))
    )


def _has_sentence_break(span: str) -> bool:
    """Two sentences ("The answer is A. Response: …"), not "In-context vs. In-weight Learning"."""
    return (
        any(match.group(1).lower() not in _ABBREVIATIONS for match in re.finditer(r"(\w+)[.!?]\s+[A-Z]", span))
        or span.count(":") > 1
    )


def find_mentions(text: str, corpus: CorpusIndex, author: str | None = None) -> list[Mention]:
    """Candidate references in one message, in the order they appear."""
    mentions: list[Mention] = []

    def add(start: int, end: int, kind: str, titled: bool = False) -> None:
        found = text[start:end]
        # Nested quote marks belong to the quoting, not to the title: “‘Sleeper Agents’”.
        edge = " ,.;" + (_QUOTE_MARKS + ":" if kind == "quote" else "")
        stripped = found.lstrip(edge)
        start += len(found) - len(stripped)
        found = stripped.rstrip(edge + ":")
        if found.count(")") > found.count("("):  # "Turpin et al., 2023)"
            found = found.rstrip(")")
        if found.count("(") > found.count(")"):  # "(Turpin et al., 2023"
            found = found.lstrip("(")
            start = text.index(found, start)
        if found:
            mentions.append(Mention(found, kind, author, start, start + len(found), titled))

    # Links first, in every markup; then everything they cover is blanked out.
    rest = text
    for match in _HTML_LINK.finditer(text):
        add(match.start(), match.end(), "link")
        rest = _blank(rest, *match.span())
    for match in _MD_LINK.finditer(rest):
        if URL_RE.match(match.group(2)) or ARXIV_IN_TEXT_RE.search(match.group(2)):
            add(match.start(), match.end(), "link")
            rest = _blank(rest, *match.span())
    for pattern, group in ((URL_RE, 0), (ARXIV_IN_TEXT_RE, 0), (DOI_RE, 1)):
        for match in pattern.finditer(rest):
            add(*match.span(group), "link")
            rest = _blank(rest, *match.span())
    # Emphasis and quotes, before tags are blanked: <em>Title</em> is a quote.
    quoted: list[tuple[int, int]] = []
    inside = bytearray(len(text))  # 1 where a quote already found covers the text: nested marks are not new quotes

    def quote(start: int, end: int, at: int) -> None:
        if not inside[at]:
            quoted.append((start, end))
            inside[start:end] = b"\x01" * (end - start)

    for pattern in _EMPHASIS:
        for match in pattern.finditer(rest):
            if not _heading(rest, match):
                quote(*match.span(match.lastindex or 1), match.start())
    rest = _HTML_TAG.sub(lambda m: " " * len(m.group(0)), rest)
    for pattern in _QUOTED:
        for match in pattern.finditer(rest):
            quote(*match.span(1), match.start(1))
    for start, end in sorted(quoted):
        span = rest[start:end]
        if len(content_words(span)) >= 1 and len(WORD.findall(span)) >= 2 and len(span) <= 300:
            cited_as = _CITED_BEFORE.search(rest, max(0, start - 40), start)
            add(start, end, "quote", titled=reads_as_title(span) or bool(cited_as and reads_as_sentence_title(span)))
    plain = rest
    for start, end in quoted:
        plain = _blank(plain, start, end)  # a citation inside a quoted example sentence is the example's

    cited: list[tuple[int, int, str]] = []
    for match in AUTHOR_CITATION.finditer(plain):
        # "Sarah and Tom" is only a citation if it resolves; with "et al." or a year it surely is one.
        kind = "author" if re.search(r"et\s*al|\d{4}", match.group(0)) else "names"
        # "Not All Attention Is All You Need (2021)": one unknown name after a title is the title's last word.
        one_unknown = not re.search(r"et\s*al|&|\band\b", match.group(0)) and (
            normalize_text(re.sub(_YEAR, " ", match.group(0))) not in corpus.by_surname
        )
        if one_unknown and _TITLE_BEFORE.search(plain, max(0, match.start() - 250), match.start()):
            continue
        if kind == "names" and any(normalize_text(w) in corpus.aliases for w in WORD.findall(match.group(0))):
            continue  # "RepE and ActAdd" are two works' names, not two authors
        if kind == "names" and re.match(rf"\s+[{UPPER}][{LOWER}]", plain[match.end() :]):
            continue  # "Brown and Catherine Olsson": the second name goes on, so these are people, not a citation
        end = match.end()
        if re.search(r"['’]s?$", match.group(0)) and (title := _TITLE_AFTER.match(plain, end)):
            end = title.end()  # "Turpin et al.'s Language Models Don't Always Say What They Think"
        cited.append((match.start(), end, kind))
    for match in _PAREN_AUTHOR.finditer(plain):
        # "weak-to-strong generalization (Burns et al.)": the words before say which of their works.
        # A whole Title Case title may come before it: "Sparse Autoencoders Find Highly Interpretable Features".
        # With a year, "(Hubinger et al., 2024)" is an in-text citation of the claim before it: lower-case words
        # there are the claim, not a description of the work.
        before = _TITLE_BEFORE.search(plain, max(0, match.start() - 250), match.start())
        if not before and not re.search(_YEAR, match.group(1)):
            before = _DESCRIBED_BEFORE.search(plain, max(0, match.start() - 80), match.start())
        cited.append((before.start(1) if before else match.start(1), match.end(), "author"))
    for match in _POSSESSIVE.finditer(plain):
        known = normalize_text(match.group(1)) in corpus.by_surname
        cited.append((match.start(), match.end(), "author" if known else "names"))
    for match in _NAME_YEAR.finditer(plain):
        name = match.group(1)
        known = normalize_text(name) in corpus.by_surname and name.lower() not in _NOT_NAMES
        if known and not any(s <= match.start() < e for s, e, _ in cited):
            cited.append((match.start(), match.end(), "author"))
    for match in _LOWER_AUTHOR.finditer(plain):
        name = match.group(1)
        # A known author's name ("since", "circa" are no one's); with "et al." it is a name whoever it is.
        known = match.group(2) or normalize_text(name) in corpus.by_surname
        if known and name not in _NOT_NAMES and name not in STOP and name not in _LOWER_NOT_NAMES:
            cited.append((match.start(), match.end(), "author"))
    described = [
        m for m in THE_X_PAPER.finditer(plain) if content_words(m.group(1)) and not _NOT_DESCRIBED.search(m.group(1))
    ]
    # "the The Basic AI Drives paper": a Title Case title of three words or more named as a paper is a strong
    # reference, reported when it does not resolve (as a quoted title is).
    titles = [m.span() for m in described if len(WORD.findall(m.group(1))) >= 3 and reads_as_title(m.group(1))]
    named = [(start, end, "name") for _phrase, start, end in known_names(plain, corpus)]
    for start, end, kind in _joined(plain, cited + [(*m.span(), "name") for m in described] + named):
        add(start, end, kind, titled=kind == "name" and any(start <= s and e <= end for s, e in titles))
    # "Kaleem's post [An elephant in the room](https://…)": the words before a link introduce it.
    link_starts = [m.start for m in mentions if m.kind == "link"]
    mentions = [
        m
        for m in mentions
        if m.kind == "link" or not any(re.fullmatch(r"[\s:,]*", text[m.end : s]) for s in link_starts if s >= m.end)
    ]
    # One mention per span (the strongest kind), and a reference repeated in a message counts once.
    by_span = {(m.start, m.end): m for m in sorted(mentions, key=lambda m: KINDS.index(m.kind), reverse=True)}
    unique = {(m.text, m.kind): m for m in sorted(by_span.values(), key=lambda m: -m.start)}
    return sorted(unique.values(), key=lambda m: m.start)


def _joined(text: str, spans: list[tuple[int, int, str]]) -> list[tuple[int, int, str]]:
    """Overlapping or adjacent cues read as one reference: "Burns's CCS paper", "RepE (Zou et al.)",
    "Perez et al., the model-written evals paper", "Nanda et al. on grokking"."""
    rank = {"author": 0, "names": 1, "name": 2}
    merged: list[list] = []
    for start, end, kind in sorted(spans):
        if merged:
            last = merged[-1]
            gap = text[last[1] : start]
            if start <= last[1] or re.fullmatch(r"\s*(?:,\s*|['’]s?\s*|\(\s*)?", gap):
                last[1] = max(last[1], end)
                last[2] = min(last[2], kind, key=rank.__getitem__)
                continue
        merged.append([start, end, kind])
    joined = []
    for start, end, kind in merged:
        if kind in {"author", "names"} and (topic := _ON_TOPIC.match(text, end)):
            end = topic.end()
        if text[start:end].count("(") > text[start:end].count(")") and text[end : end + 1] == ")":
            end += 1
        joined.append((start, end, kind))
    return joined


def read_references(
    text: str, resolver: ReferenceResolver, author: str | None = None, n: int = 4
) -> list[FoundReference]:
    """Every mention in one message with its candidates and whether the best one is a confident answer.

    The bibliography shows the confident ones and lists the strong rest as unresolved; `reported` says which.
    """
    references = []
    for mention in find_mentions(text, resolver.corpus, author):
        candidates = resolver.resolve(mention.text, n=n, kind=mention.kind)
        references.append(FoundReference(mention, candidates, resolver.is_confident(candidates, mention.kind)))
    return references

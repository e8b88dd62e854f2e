"""What a written reference says: "Turpin et al. 2023", "Burns's CCS paper", "the sleeper agents paper (Hubinger
et al.)" read into the words a title would have, the cited surnames (those the knowledge base knows), the year,
organisations, the descriptive words and the kind of work named. Scoring these against works is resolve.py's.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from bot.identifiers import normalize_text
from bot.retrieval.corpus import CorpusIndex

_YEAR = re.compile(r"\b(19[5-9]\d|20[0-4]\d)[a-z]?\b")
_ET_AL = re.compile(r"\bet\s*al\b\.?", re.IGNORECASE)
# "An et al. 2024", "A & B" are names, not articles.
_WRAPPER_HEAD = re.compile(r"^(?:the|that|this|their|his|her|a|an)\s+(?!et\s*al\b|&|and\s)", re.IGNORECASE)
_WRAPPER_TAIL = re.compile(
    r"\s+(paper|post|article|work|report|preprint|study|essay)s?(?=$|\s+(?:on|about)\s)", re.IGNORECASE
)
_CONNECTORS = {"and", "&", "et", "al", "with", "on", "about", "the", "by", "from", "s"}
# Collective authors ("Gemini Team", "Wikipedia contributors") name no one: "(Team, 2023)" could be any team's.
_COLLECTIVE = {"team", "teams", "group", "consortium", "collaboration", "contributors", "committee", "council", "staff"}
# Makers of works people name instead of authors. Matched against aliases and notes, never titles: "OpenAI"
# in a reference must not pull "OpenAI Gym".
ORGANISATIONS = (
    "google deepmind", "deepmind", "anthropic", "openai", "redwood research", "redwood", "apollo research",
    "apollo", "metr", "palisade research", "palisade", "miri", "far ai", "eleutherai", "conjecture", "uk aisi",
    "aisi", "cais", "epoch ai", "goodfire", "transluce", "meta ai", "arc evals",
)  # fmt: skip
_ORG_RE = re.compile(r"\b(?:" + "|".join(re.escape(o) for o in ORGANISATIONS) + r")\b")
# Words that describe rather than name: dropped before matching a description against a work. With the
# qualifiers and dates people put around a name: "the famous attention paper", "the sleeper agents paper from
# last January".
FILLER = frozenset(
    "a an the of on in for to and or with by from about at as is are was its their this that these those new "
    "latest recent paper post report preprint study work article essay technical s "
    "famous classic seminal original influential popular infamous well known early earlier old last year month "
    "week ago january february march april may june july august september october november december".split()
)


# Venues and archives cited after a title: "…, NeurIPS 2017", "…, Transformer Circuits Thread".
_VENUE_WORDS = frozenset(
    "arxiv preprint neurips nips icml iclr acl emnlp naacl eacl coling aaai ijcai cvpr iccv eccv colm tmlr jmlr "
    "pmlr proceedings proc conference journal workshop symposium openreview lesswrong forum thread distill nature "
    "science blog".split()
)


@dataclass
class ParsedReference:
    title_text: str  # normalised reference without wrapper words ("the … paper"), as a title would read
    text: str  # the same without years and "et al.", for author citations
    year: int | None
    surnames: list[str]
    et_al: bool
    every_author: bool = False  # "A & B", "A and B": the names are all the authors
    given_name: str = ""  # an owner's one name, some author's first name: "paul" in "Paul's ELK report"
    organisations: list[str] = field(default_factory=list)
    description: str = ""  # what is left after names, year, organisations and filler: "ccs", "many shot jailbreaking"
    work_kind: str | None = None  # "post" in "the grokking post": the kind of work named
    # The description's words outside asides in parentheses ("(esp. Sections 4.3-4.5)") and a venue after the title
    # ("…, FAccT 2023"): what a title-like reference says the work is.
    own_words: str = ""


_OWNER = re.compile(r"([^'’()]+?)['’]s?\s(.*)$")
_PARENTHESISED = re.compile(r"\(([^()]*)\)")


def _unpunctuated(text: str) -> str:
    """Brackets, commas and semicolons as spaces, possessive endings dropped: "Burns's CCS (Burns)"."""
    return re.sub(r"['’]s\b|(?<=s)['’](?=\s)", "", re.sub(r"[()\[\],;]", " ", text))


def strip_wrappers(text: str) -> str:
    return _WRAPPER_TAIL.sub("", _WRAPPER_HEAD.sub("", text)).strip()


def parse_reference(reference: str, corpus: CorpusIndex, kind: str | None = None) -> ParsedReference:
    # Whitespace folded first: on a long run of it, `\s+…$` below would backtrack quadratically.
    text = " ".join(reference.split()).strip("\"'“”‘’`*_[]()«»„‚′″ ")
    tail = _WRAPPER_TAIL.search(text)
    text = strip_wrappers(text)
    title_text = normalize_text(text)
    years = [int(y) for y in _YEAR.findall(text)] if kind != "quote" else []
    et_al = bool(_ET_AL.search(text))
    cited = _ET_AL.sub(" ", _YEAR.sub(" ", text)) if kind != "quote" else text
    possessive = bool(re.search(r"\w['’]s?\s", cited)) or "(" in cited
    # "Hadfield-Menell's Cooperative Inverse Reinforcement Learning": the names are the owner's (and those of an
    # "(Author et al.)"); capitalised words after a possessive name the work, not its authors.
    owner = _OWNER.match(cited)
    name_text = f"{owner.group(1)} {' '.join(_PARENTHESISED.findall(owner.group(2)))}" if owner else cited
    cited, name_text = _unpunctuated(cited), _unpunctuated(name_text)
    words = cited.replace("&", " & ").split()
    surnames = _surnames(name_text.replace("&", " & ").split(), corpus) if kind != "quote" else []
    if not surnames and kind == "author":
        # BibTeX sources write some authors in lower case: "(ai et al. 2025)" ("Sand. ai").
        surnames = _surnames(name_text.replace("&", " & ").split(), corpus, any_case=True)
    # It reads as an author citation when it is (nearly) all names, or names with a cue: "et al.", "&", "and", a
    # year, a possessive, parentheses; when the mention finder found it as one; or when an owner's name ("Hubinger's
    # …") is followed by words describing the work, however many.
    named = _words(surnames)
    others = [w for w in words if w.lower() not in _CONNECTORS and normalize_text(w) not in named]
    joined = "&" in words or any(w.lower() == "and" for w in words)
    cue = et_al or bool(years) or joined or possessive
    allowed = 8 if kind in {"author", "names"} or (kind == "name" and cue) or owner else 2 if cue else 0
    if not surnames or len(others) > allowed:
        surnames = []
    norm_cited = normalize_text(cited)
    organisations = _ORG_RE.findall(norm_cited)
    rest = _ORG_RE.sub(" ", norm_cited)
    given_name = ""
    if owner and kind != "quote":
        # "Paul's ELK report": forums call people by their first names ("Ryan" is someone's surname too).
        first = normalize_text(owner.group(1))
        if owner.group(1).strip()[:1].isupper() and first in corpus.known_given_names and first not in FILLER:
            given_name = first if surnames in ([], [first]) else ""
    named = _words(surnames) | (set(normalize_text(owner.group(1)).split()) if owner and surnames else set())
    named |= {given_name} - {""}
    description = " ".join(w for w in rest.split() if w not in named and w not in FILLER)
    outside = set(normalize_text(_without_venue(_PARENTHESISED.sub(" ", reference))).split()) - _VENUE_WORDS
    return ParsedReference(
        title_text=title_text,
        text=norm_cited,
        year=years[-1] if years else None,
        surnames=surnames,
        et_al=et_al,
        every_author=joined and not et_al and len(surnames) >= 2,
        given_name=given_name,
        organisations=organisations,
        description=description,
        work_kind=tail.group(1).lower() if tail else None,
        own_words=" ".join(w for w in description.split() if w in outside),
    )


def _without_venue(reference: str) -> str:
    """The reference without the trailing parts that name a venue: "Grokking: …, 1st … Workshop, ICLR 2021"; such a
    part ends in a year or holds a venue word."""
    parts = re.split(r"[,;]|\.\s", reference)
    while len(parts) > 1 and _names_a_venue(parts[-1]):
        parts.pop()
    return " ".join(parts)


def _names_a_venue(part: str) -> bool:
    words = normalize_text(part).split()
    return bool(_VENUE_WORDS.intersection(words)) or bool(words and re.fullmatch(r"(?:19|20)\d\d", words[-1]))


def _surnames(words: list[str], corpus: CorpusIndex, any_case: bool = False) -> list[str]:
    """Known surnames among the words, capitalised as written: "Turpin", and with particles "van der Weij";
    a double-barrelled name as the knowledge base keeps it when it is not known whole ("Brown-Cohen": "cohen").
    `any_case`: lower-case words too (an author citation's name written in lower case), never filler words."""
    surnames: list[str] = []
    i = 0
    while i < len(words):
        for size in (3, 2, 1):
            part = words[i : i + size]
            if len(part) < size or not (any_case or part[-1][:1].isupper()) or part[-1].isupper():
                continue  # "CCS", "RepE"-like acronyms are names of works, not people
            forms = [normalize_text(" ".join(part))]
            if size == 1 and "-" in part[0]:
                forms.append(normalize_text(part[0].rsplit("-", 1)[1]))
            name = next((f for f in forms if f in corpus.by_surname), None)
            if any_case and name in FILLER:
                name = None
            if name and name not in _CONNECTORS and name not in _COLLECTIVE and not _ORG_RE.fullmatch(name):
                surnames.append(name)
                i += size
                break
        else:
            i += 1
    return surnames


def _words(surnames: list[str]) -> set[str]:
    """The normalised words of surnames, as a set: looked up once per word of a possibly long reference."""
    return {word for name in surnames for word in name.split()}

"""Formatted citations: APA 7, ACL (ACL Anthology style) and BibTeX (Better BibTeX-style keys)."""

from __future__ import annotations

import re
import string
from collections.abc import Callable, Sequence
from enum import StrEnum

import bibtexparser
from bibtexparser.library import Library
from bibtexparser.model import Entry, Field
from unidecode import unidecode

from bot.domain import RankedWork
from bot.identifiers import surname


class Style(StrEnum):
    """A citation style: the CLI's `--style`, the HTTP API's `style` and Discord's style choices list these."""

    apa = "apa"
    acl = "acl"
    bibtex = "bibtex"

    @property
    def label(self) -> str:
        """The style's name as people write it (Discord's choices and footers)."""
        return {"bibtex": "BibTeX"}.get(self.value, self.value.upper())


def split_name(author: str) -> tuple[str, str]:
    """(given names, family name) of an author written 'First Last' or 'Last, First'."""
    if "," in author:
        last, first = (p.strip() for p in author.split(",", 1))
        return first, last
    family = surname(author)
    words = author.split()
    n_family = max(1, len(family.split()))
    return " ".join(words[:-n_family]), " ".join(words[-n_family:])


def inverted_names(authors: Sequence[str]) -> list[str]:
    """'Family, Given' forms of the names, as BibTeX and RIS write authors."""
    return [f"{family}, {given}" if given else family for given, family in map(split_name, authors)]


def _initials(given: str) -> str:
    parts = re.split(r"[\s]+", given.strip())
    out = []
    for part in parts:
        if not part:
            continue
        hyphenated = [p for p in part.split("-") if p]
        out.append("-".join(f"{p[0]}." for p in hyphenated))
    return " ".join(out)


def _link(work: RankedWork) -> str | None:
    if work.doi:
        return f"https://doi.org/{work.doi}"
    return work.url


ARXIV_VENUES = frozenset({"arxiv", "arxiv.org", "arxiv preprint"})  # venues that say "preprint", nothing more


def _venue(work: RankedWork) -> str | None:
    if work.venue and work.venue.lower() not in ARXIV_VENUES:
        return work.venue
    if work.arxiv_id:
        return f"arXiv preprint arXiv:{work.arxiv_id}"
    return work.venue


def _sentence(title: str) -> str:
    """A title as a sentence: a final period unless it already ends in '?', '!' or '.'."""
    title = title.strip()
    return title if title.endswith(("?", "!", ".")) else f"{title}."


def apa(work: RankedWork) -> str:
    names = []
    for author in work.authors:
        given, family = split_name(author)
        names.append(f"{family}, {_initials(given)}".rstrip(", ") if given else family)
    if len(names) > 20:
        authors = ", ".join(names[:19]) + ", … " + names[-1]
    elif len(names) > 1:
        authors = ", ".join(names[:-1]) + ", & " + names[-1]
    else:
        authors = names[0] if names else ""
    year = f"({work.year})" if work.year else "(n.d.)"
    title = _sentence(work.title)
    venue = _venue(work)
    parts = [f"{authors} {year}." if authors else f"{title} {year}.", title if authors else ""]
    if venue:
        parts.append(f"{venue}.")
    link = _link(work)
    if link:
        parts.append(link)
    return " ".join(p for p in parts if p)


def acl(work: RankedWork) -> str:
    names = work.authors
    authors = ", ".join(names[:-1]) + ", and " + names[-1] if len(names) > 2 else " and ".join(names)
    parts = [f"{authors}." if authors else "", f"{work.year}." if work.year else "", _sentence(work.title)]
    venue = _venue(work)
    if venue:
        parts.append(f"{venue if venue.startswith('arXiv') else 'In ' + venue}.")
    link = _link(work)
    if link:
        parts.append(link)
    return " ".join(p for p in parts if p)


# Words a Better BibTeX key skips when it takes a title's first word: articles, prepositions, conjunctions.
_KEY_SKIP_WORDS = frozenset(
    "a an the and or but nor of on in at to for from by with as into onto via vs is are do does how why what".split()
)
# Venues that are forums or blogs: a work of unknown kind there is cited as a post (@misc), not a paper.
FORUM_VENUES = frozenset({"lesswrong", "ai alignment forum", "alignment forum", "effective altruism forum", "ea forum"})


def bibtex_key(work: RankedWork) -> str:
    """A Better BibTeX-style key: first author's surname (lower case, ASCII) + the title's first significant
    word + year, e.g. `turpinLanguage2023`. Stable: it depends only on the work's own metadata."""
    family = split_name(work.authors[0])[1] if work.authors else "anon"
    words = re.findall(r"[A-Za-z0-9]+", unidecode(work.title))
    first_word = next((w for w in words if w.lower() not in _KEY_SKIP_WORDS), words[0] if words else "")
    surname_part = re.sub(r"[^a-z0-9]", "", unidecode(family).lower()) or "anon"
    return surname_part + first_word[:1].upper() + first_word[1:] + str(work.year or "")


def unique_bibtex_keys(works: Sequence[RankedWork]) -> list[str]:
    """The works' keys in order, de-duplicated as Better BibTeX does: the first work keeps its key, later
    works with the same key get a, b, c… appended."""
    keys: list[str] = []
    taken: set[str] = set()
    for work in works:
        base = key = bibtex_key(work)
        suffixes = iter(string.ascii_lowercase)
        while key in taken:
            key = base + next(suffixes, "z")
        taken.add(key)
        keys.append(key)
    return keys


def work_type(work: RankedWork) -> str:
    """The work's entry type (`bot.domain.WORK_KINDS`), deciding from the venue for a generic "paper"."""
    if work.kind != "paper":
        return work.kind
    venue = (work.venue or "").lower()
    if venue in FORUM_VENUES:
        return "post"
    if not venue or venue in ARXIV_VENUES:
        return "preprint"
    return "inproceedings"


def _bib_escape(value: str) -> str:
    # "%" starts a LaTeX comment (the rest of the field is lost) and "~" is a non-breaking space.
    value = value.replace("\\", "\\textbackslash{}").replace("{", "\\{").replace("}", "\\}").replace("&", "\\&")
    return value.replace("%", "\\%").replace("~", "\\textasciitilde{}")


# BibTeX entry type and the field that names the venue, per kind. Forum posts and preprints are @misc
# (howpublished), as Zotero and arXiv export them; a report is a @techreport of its institution.
_BIBTEX_TYPES = {
    "post": ("misc", "howpublished"),
    "preprint": ("misc", None),
    "report": ("techreport", "institution"),
    "article": ("article", "journal"),
    "inproceedings": ("inproceedings", "booktitle"),
    "book": ("book", "publisher"),
}


def bibtex_entry(work: RankedWork, key: str | None = None) -> Entry:
    """The work as a bibtexparser entry; `key` overrides the work's own key (de-duplicated exports)."""
    entry_type, venue_field = _BIBTEX_TYPES[work_type(work)]
    fields = [Field("title", "{" + _bib_escape(work.title) + "}")]
    if work.authors:
        fields.append(Field("author", _bib_escape(" and ".join(inverted_names(work.authors)))))
    if work.year:
        fields.append(Field("year", str(work.year)))
    if venue_field and work.venue and work.venue.lower() not in ARXIV_VENUES:
        fields.append(Field(venue_field, _bib_escape(work.venue)))
    if work.arxiv_id:
        fields += [Field("eprint", work.arxiv_id), Field("archivePrefix", "arXiv")]
    if work.doi:
        fields.append(Field("doi", work.doi))
    if work.url:
        fields.append(Field("url", work.url))
    return Entry(entry_type, key or bibtex_key(work), fields)


def bibtex_document(works: Sequence[RankedWork]) -> str:
    """A .bib file of the works, one entry each, keys de-duplicated."""
    entries = [bibtex_entry(w, k) for w, k in zip(works, unique_bibtex_keys(works), strict=True)]
    layout = bibtexparser.BibtexFormat()
    layout.indent = "  "
    layout.block_separator = "\n"
    return bibtexparser.write_string(Library(entries), bibtex_format=layout)


def bibtex(work: RankedWork) -> str:
    return bibtex_document([work]).strip()


def format_citation(work: RankedWork, style: Style | str = Style.apa) -> str:
    return FORMATTERS[Style(style)](work)


FORMATTERS: dict[Style, Callable[[RankedWork], str]] = {Style.apa: apa, Style.acl: acl, Style.bibtex: bibtex}


def short_citation(work: RankedWork) -> str:
    """'Turpin et al., 2023' style, for answers and one-line lists."""
    names = [split_name(a)[1] for a in work.authors]
    if len(names) >= 3:
        who = f"{names[0]} et al."
    elif len(names) == 2:
        who = f"{names[0]} & {names[1]}"
    else:
        who = names[0] if names else "Anon."
    return f"{who}, {work.year}" if work.year else who

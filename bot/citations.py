"""Formatted citations: APA, ACL (ACL Anthology style) and BibTeX."""

from __future__ import annotations

import re
from enum import StrEnum

from unidecode import unidecode

from bot.domain import RankedWork
from bot.identifiers import surname


class Style(StrEnum):
    apa = "apa"
    acl = "acl"
    bibtex = "bibtex"


def _split_name(author: str) -> tuple[str, str]:
    """(given names, family name) of an author written 'First Last' or 'Last, First'."""
    if "," in author:
        last, first = (p.strip() for p in author.split(",", 1))
        return first, last
    family = surname(author)
    words = author.split()
    n_family = max(1, len(family.split()))
    return " ".join(words[:-n_family]), " ".join(words[-n_family:])


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


def _venue(work: RankedWork) -> str | None:
    if work.venue and work.venue.lower() not in {"arxiv", "arxiv.org", "arxiv preprint"}:
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
        given, family = _split_name(author)
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


def bibtex_key(work: RankedWork) -> str:
    family = _split_name(work.authors[0])[1] if work.authors else "anon"
    first_word = next(
        (
            w
            for w in re.findall(r"[A-Za-z]+", unidecode(work.title))
            if w.lower() not in {"a", "an", "the", "on", "of", "in", "and", "for", "to"}
        ),
        "work",
    )
    return re.sub(r"[^a-z0-9]", "", unidecode(family).lower()) + str(work.year or "") + first_word.lower()


def _bib_escape(value: str) -> str:
    # "%" starts a LaTeX comment (the rest of the field is lost) and "~" is a non-breaking space.
    value = value.replace("\\", "\\textbackslash{}").replace("{", "\\{").replace("}", "\\}").replace("&", "\\&")
    return value.replace("%", "\\%").replace("~", "\\textasciitilde{}")


def bibtex(work: RankedWork) -> str:
    fields: list[tuple[str, str]] = [("title", "{" + _bib_escape(work.title) + "}")]
    if work.authors:
        fields.append(
            (
                "author",
                _bib_escape(
                    " and ".join(
                        f"{family}, {given}" if given else family for given, family in map(_split_name, work.authors)
                    )
                ),
            )
        )
    if work.year:
        fields.append(("year", str(work.year)))
    entry_type = "misc"
    if work.venue and work.venue.lower() not in {"arxiv", "arxiv.org"}:
        entry_type = "inproceedings"
        fields.append(("booktitle", _bib_escape(work.venue)))
    if work.arxiv_id:
        fields += [("eprint", work.arxiv_id), ("archivePrefix", "arXiv")]
    if work.doi:
        fields.append(("doi", work.doi))
    if work.url:
        fields.append(("url", work.url))
    body = ",\n".join(f"  {name} = {{{value}}}" for name, value in fields)
    return f"@{entry_type}{{{bibtex_key(work)},\n{body}\n}}"


def format_citation(work: RankedWork, style: Style | str = Style.apa) -> str:
    style = Style(style)
    return {Style.apa: apa, Style.acl: acl, Style.bibtex: bibtex}[style](work)


def short_citation(work: RankedWork) -> str:
    """'Turpin et al., 2023' style, for answers and one-line lists."""
    names = [_split_name(a)[1] for a in work.authors]
    if len(names) >= 3:
        who = f"{names[0]} et al."
    elif len(names) == 2:
        who = f"{names[0]} & {names[1]}"
    else:
        who = names[0] if names else "Anon."
    return f"{who}, {work.year}" if work.year else who

"""Reference-manager exports of works: BibTeX, CSL-JSON and RIS, the formats Zotero, Mendeley and pandoc import.

Every format gives each work the same de-duplicated Better BibTeX-style key (BibTeX key, CSL `id`, RIS `ID`),
so a document cited with keys from one export finds them in the others.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from enum import StrEnum
from typing import Any

import rispy

from bot.citations import ARXIV_VENUES, bibtex_document, inverted_names, split_name, unique_bibtex_keys, work_type
from bot.domain import RankedWork


class ExportFormat(StrEnum):
    bibtex = "bibtex"
    csl_json = "csl-json"
    ris = "ris"


# CSL item types (CSL 1.0.2) per kind: Zotero exports preprints as "article" and forum posts as "post".
_CSL_TYPES = {
    "post": "post",
    "preprint": "article",
    "report": "report",
    "article": "article-journal",
    "inproceedings": "paper-conference",
    "book": "book",
}
# RIS reference types per kind (the RIS spec's TY values; ELEC for web pages and forum posts).
_RIS_TYPES = {
    "post": "ELEC",
    "preprint": "UNPB",
    "report": "RPRT",
    "article": "JOUR",
    "inproceedings": "CPAPER",
    "book": "BOOK",
}


def _csl_name(author: str) -> dict[str, str]:
    given, family = split_name(author)
    return {"family": family, "given": given} if given else {"literal": family}


def csl_item(work: RankedWork, key: str) -> dict[str, Any]:
    kind = work_type(work)
    item: dict[str, Any] = {"id": key, "type": _CSL_TYPES[kind], "title": work.title}
    if work.authors:
        item["author"] = [_csl_name(a) for a in work.authors]
    if work.year:
        item["issued"] = {"date-parts": [[work.year]]}
    if work.venue and work.venue.lower() not in ARXIV_VENUES:
        item["publisher" if kind == "report" else "container-title"] = work.venue
    if work.arxiv_id and kind == "preprint":  # how Zotero writes an arXiv preprint
        item["number"] = f"arXiv:{work.arxiv_id}"
        item["publisher"] = "arXiv"
    if work.doi:
        item["DOI"] = work.doi
    if work.url:
        item["URL"] = work.url
    return item


def csl_json(works: Sequence[RankedWork]) -> str:
    items = [csl_item(w, k) for w, k in zip(works, unique_bibtex_keys(works), strict=True)]
    return json.dumps(items, ensure_ascii=False, indent=2) + "\n"


def ris_record(work: RankedWork, key: str) -> dict[str, Any]:
    kind = work_type(work)
    record: dict[str, Any] = {"type_of_reference": _RIS_TYPES[kind], "id": key, "title": work.title}
    if work.authors:
        record["authors"] = inverted_names(work.authors)
    if work.year:
        record["year"] = str(work.year)
    if work.venue and work.venue.lower() not in ARXIV_VENUES:
        # T2 is the journal or proceedings title in RIS; PB the institution of a report.
        record["publisher" if kind == "report" else "secondary_title"] = work.venue
    if work.arxiv_id and kind == "preprint":
        record["number"] = f"arXiv:{work.arxiv_id}"
    if work.doi:
        record["doi"] = work.doi
    if work.url:
        record["urls"] = [work.url]
    return record


class _RisWriter(rispy.RisWriter):
    """rispy's writer without its "1.", "2." record counters, which are not RIS (EndNote adds them)."""

    def set_header(self, count: int) -> str:
        return ""


def ris(works: Sequence[RankedWork]) -> str:
    records = [ris_record(w, k) for w, k in zip(works, unique_bibtex_keys(works), strict=True)]
    return rispy.dumps(records, implementation=_RisWriter).lstrip("\n") if records else ""


def export(works: Sequence[RankedWork], export_format: ExportFormat | str) -> str:
    """The works as one document in `export_format`."""
    writer = {ExportFormat.bibtex: bibtex_document, ExportFormat.csl_json: csl_json, ExportFormat.ris: ris}
    return writer[ExportFormat(export_format)](works)


FILE_NAMES = {
    ExportFormat.bibtex: "references.bib",
    ExportFormat.csl_json: "references.json",
    ExportFormat.ris: "references.ris",
}

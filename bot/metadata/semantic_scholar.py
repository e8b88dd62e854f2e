"""The Semantic Scholar Academic Graph API (api.semanticscholar.org/graph/v1): `/paper/{id}` and `/paper/search`.

Good for DOIs and titles across all fields, with venues and external ids. Fields are always requested
explicitly (the API returns only paperId and title otherwise). With `ALIGNBOT_S2_API_KEY` requests carry
`x-api-key` and get the key's own rate (1 request/s to start); without one they share a public pool that
often answers 429, which is retried.
"""

from __future__ import annotations

import re
from typing import Any, ClassVar
from urllib.parse import quote

from bot.domain import WorkRecord
from bot.identifiers import normalize_arxiv_id, normalize_doi
from bot.metadata.base import (
    MetadataClient,
    clean_text,
    exact_arxiv_id,
    exact_doi,
    json_body,
    make_record,
    shape_error,
    split_doi,
    venue_name,
    year_of,
)
from bot.settings import Settings

FIELDS = "paperId,externalIds,url,title,abstract,venue,year,publicationDate,journal,publicationVenue,authors"
_PAPER_ID = re.compile(r"^[0-9a-f]{40}$", re.IGNORECASE)
_S2_URL = re.compile(r"semanticscholar\.org/paper/(?:[^/?#]+/)?([0-9a-f]{40})\b", re.IGNORECASE)
# Prefixed ids the Graph API resolves itself; the prefix is matched case-insensitively and sent canonical.
_PREFIXES = {
    "corpusid": "CorpusId",
    "pmid": "PMID",
    "pmcid": "PMCID",
    "acl": "ACL",
    "mag": "MAG",
    "url": "URL",
}
_PREFIXED = re.compile(rf"^({'|'.join(_PREFIXES)}):(\S+)$", re.IGNORECASE)


class SemanticScholarClient(MetadataClient):
    name: ClassVar[str] = "s2"
    label: ClassVar[str] = "Semantic Scholar"
    key_setting: ClassVar[str | None] = "ALIGNBOT_S2_API_KEY"

    @staticmethod
    def min_interval(settings: Settings) -> float:
        return settings.metadata.s2_min_interval_seconds

    def headers(self, settings: Settings) -> dict[str, str]:
        key = settings.metadata.s2_api_key.get_secret_value() if settings.metadata.s2_api_key else ""
        return {"x-api-key": key} if key else {}

    @classmethod
    def parse_identifier(cls, text: str) -> str | None:
        text = text.strip()
        if not text or any(c.isspace() for c in text):
            return None
        if _PAPER_ID.match(text):
            return text.lower()
        if match := _S2_URL.search(text):
            return match.group(1).lower()
        if match := _PREFIXED.match(text):
            return f"{_PREFIXES[match.group(1).lower()]}:{match.group(2)}"
        if arxiv_id := exact_arxiv_id(text):
            return f"arXiv:{arxiv_id}"
        if doi := exact_doi(text):
            return f"DOI:{doi}"
        if text.lower().startswith(("http://", "https://")):
            return f"URL:{text}"  # the API resolves links to arXiv, ACL Anthology, ACM, bioRxiv and more
        return None

    @classmethod
    def known_keys(cls, identifier: str) -> list[str]:
        kind, _, value = identifier.partition(":")
        if kind == "arXiv":
            return [f"arxiv:{value}"]
        if kind == "DOI":
            return [f"doi:{value}"]
        if _PAPER_ID.match(identifier):
            return [f"id:s2:{identifier}"]
        return []

    def lookup(self, identifier: str) -> WorkRecord | None:
        url = f"{self.settings.metadata.s2_api_url.rstrip('/')}/paper/{quote(identifier, safe=':/')}"
        response = self.http.get(url, {"fields": FIELDS}, accept=frozenset({404}))
        if response.status == 404:
            return None
        body = json_body(self.label, response)
        if not isinstance(body, dict):
            raise shape_error(self.label, "a paper is not a JSON object")
        record = self._record(body)
        if record is None:
            raise shape_error(self.label, "the paper has no paperId or title")
        return record

    def search(self, query: str, limit: int = 5) -> list[WorkRecord]:
        # The search endpoint matches nothing for hyphenated words; the API docs say to use spaces.
        params = {"query": " ".join(query.replace("-", " ").split()), "limit": str(limit), "fields": FIELDS}
        response = self.http.get(f"{self.settings.metadata.s2_api_url.rstrip('/')}/paper/search", params)
        body = json_body(self.label, response)
        if not isinstance(body, dict):
            raise shape_error(self.label, "the search answer is not a JSON object")
        data = body.get("data", [])  # absent when nothing matched
        if not isinstance(data, list) or not all(isinstance(p, dict) for p in data):
            raise shape_error(self.label, "'data' is not a list of papers")
        return [r for r in (self._record(p) for p in data) if r is not None][:limit]

    def _record(self, paper: dict[str, Any]) -> WorkRecord | None:
        paper_id, title = clean_text(paper.get("paperId")), clean_text(paper.get("title"))
        if not paper_id or not title:
            return None
        ids = paper.get("externalIds") if isinstance(paper.get("externalIds"), dict) else {}
        arxiv_raw, doi_raw = ids.get("ArXiv"), ids.get("DOI")
        arxiv_id = normalize_arxiv_id(arxiv_raw) if isinstance(arxiv_raw, str) else None
        arxiv_id, doi = split_doi(arxiv_id, normalize_doi(doi_raw) if isinstance(doi_raw, str) else None)
        authors = paper.get("authors") if isinstance(paper.get("authors"), list) else []
        journal = paper.get("journal") if isinstance(paper.get("journal"), dict) else {}
        publication_venue = paper.get("publicationVenue") if isinstance(paper.get("publicationVenue"), dict) else {}
        if arxiv_id:
            url = f"https://arxiv.org/abs/{arxiv_id}"
        elif doi:
            url = f"https://doi.org/{doi}"
        else:
            url = clean_text(paper.get("url"))
        return make_record(
            self.label,
            id=f"s2:{paper_id.lower()}",
            arxiv_id=arxiv_id,
            doi=doi,
            title=title,
            authors=[clean_text(a.get("name")) for a in authors if isinstance(a, dict)],
            year=year_of(paper.get("year")) or year_of(paper.get("publicationDate")),
            abstract=clean_text(paper.get("abstract")),
            url=url,
            venue=venue_name(journal.get("name"), publication_venue.get("name"), paper.get("venue")),
            source="semantic-scholar",
        )

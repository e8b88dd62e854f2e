"""The OpenAlex API (api.openalex.org): `/works/{id}` and `/works?search=`.

Good for DOIs of journal and conference papers in every field, with open-access locations. Abstracts
come as an inverted index (word -> positions), rebuilt here. arXiv ids come from arXiv's DOI
(10.48550/arXiv.…) or an arxiv.org location; an arXiv id is looked up through that DOI. The contact
email goes in `mailto` (OpenAlex's "polite pool"); an API key, if set, in `api_key`.
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
from bot.metadata.errors import MetadataResponseError
from bot.settings import Settings

SELECT = "id,doi,title,display_name,publication_year,authorships,abstract_inverted_index,primary_location,locations"
_WORK_ID = re.compile(r"^(?:https?://(?:api\.)?openalex\.org/(?:works/)?)?(W\d+)/?$", re.IGNORECASE)
MAX_ABSTRACT_WORDS = 20_000  # positions beyond this are not an abstract (and would cost memory to place)


def abstract_from_index(api: str, index: Any) -> str | None:
    """The abstract from OpenAlex's `abstract_inverted_index` ({"word": [positions]})."""
    if index is None:
        return None
    if not isinstance(index, dict):
        raise shape_error(api, "'abstract_inverted_index' is not an object")
    placed: dict[int, str] = {}
    for word, positions in index.items():
        if not isinstance(positions, list) or not all(
            isinstance(p, int) and not isinstance(p, bool) for p in positions
        ):
            raise shape_error(api, "'abstract_inverted_index' positions are not lists of numbers")
        for position in positions:
            if not 0 <= position < MAX_ABSTRACT_WORDS:
                raise MetadataResponseError(api, f"sent an abstract index with position {position}")
            placed[position] = word
    return clean_text(" ".join(placed[p] for p in sorted(placed)))


class OpenAlexClient(MetadataClient):
    name: ClassVar[str] = "openalex"
    label: ClassVar[str] = "OpenAlex"
    key_setting: ClassVar[str | None] = "ALIGNBOT_OPENALEX_API_KEY"

    @staticmethod
    def min_interval(settings: Settings) -> float:
        return settings.metadata.openalex_min_interval_seconds

    def params(self, settings: Settings) -> dict[str, str]:
        params: dict[str, str] = {}
        if settings.metadata.contact_email:
            params["mailto"] = settings.metadata.contact_email
        if settings.metadata.openalex_api_key and settings.metadata.openalex_api_key.get_secret_value():
            params["api_key"] = settings.metadata.openalex_api_key.get_secret_value()
        return params

    @classmethod
    def parse_identifier(cls, text: str) -> str | None:
        text = text.strip()
        if not text or any(c.isspace() for c in text):
            return None
        if match := _WORK_ID.match(text):
            return match.group(1).upper()
        if arxiv_id := exact_arxiv_id(text):
            return f"doi:10.48550/arxiv.{arxiv_id}"
        if doi := exact_doi(text):
            return f"doi:{doi}"
        return None

    @classmethod
    def known_keys(cls, identifier: str) -> list[str]:
        if identifier.startswith("doi:"):
            arxiv_id, doi = split_doi(None, identifier[4:])
            return [f"arxiv:{arxiv_id}"] if arxiv_id else [f"doi:{doi}"]
        return [f"id:openalex:{identifier}"]

    def lookup(self, identifier: str) -> WorkRecord | None:
        url = f"{self.settings.metadata.openalex_api_url.rstrip('/')}/works/{quote(identifier, safe=':/')}"
        response = self.http.get(url, {"select": SELECT}, accept=frozenset({404}))
        if response.status == 404:
            return None
        body = json_body(self.label, response)
        if not isinstance(body, dict):
            raise shape_error(self.label, "a work is not a JSON object")
        record = self._record(body)
        if record is None:
            raise shape_error(self.label, "the work has no id or title")
        return record

    def search(self, query: str, limit: int = 5) -> list[WorkRecord]:
        params = {"search": query, "per_page": str(limit), "select": SELECT}
        response = self.http.get(f"{self.settings.metadata.openalex_api_url.rstrip('/')}/works", params)
        body = json_body(self.label, response)
        if not isinstance(body, dict):
            raise shape_error(self.label, "the search answer is not a JSON object")
        results = body.get("results")
        if not isinstance(results, list) or not all(isinstance(w, dict) for w in results):
            raise shape_error(self.label, "'results' is not a list of works")
        return [r for r in (self._record(w) for w in results) if r is not None][:limit]

    def _record(self, work: dict[str, Any]) -> WorkRecord | None:
        match = _WORK_ID.match(str(work.get("id") or ""))
        title = clean_text(work.get("title")) or clean_text(work.get("display_name"))
        if match is None or not title:
            return None
        work_id = match.group(1).upper()
        doi = normalize_doi(work["doi"]) if isinstance(work.get("doi"), str) else None
        locations = [loc for loc in work.get("locations") or [] if isinstance(loc, dict)]
        primary = work.get("primary_location") if isinstance(work.get("primary_location"), dict) else {}
        arxiv_id = None
        for location in [primary, *locations]:
            for link in (location.get("landing_page_url"), location.get("pdf_url")):
                if isinstance(link, str) and "arxiv.org/" in link.lower():
                    arxiv_id = arxiv_id or normalize_arxiv_id(link)
        arxiv_id, doi = split_doi(arxiv_id, doi)
        authorships = work.get("authorships") if isinstance(work.get("authorships"), list) else []
        authors = []
        for authorship in authorships:
            if isinstance(authorship, dict):
                author = authorship.get("author") if isinstance(authorship.get("author"), dict) else {}
                authors.append(clean_text(author.get("display_name")) or clean_text(authorship.get("raw_author_name")))
        source = primary.get("source") if isinstance(primary.get("source"), dict) else {}
        if arxiv_id:
            url = f"https://arxiv.org/abs/{arxiv_id}"
        elif doi:
            url = f"https://doi.org/{doi}"
        else:
            url = clean_text(primary.get("landing_page_url")) or f"https://openalex.org/{work_id}"
        return make_record(
            self.label,
            id=f"openalex:{work_id}",
            arxiv_id=arxiv_id,
            doi=doi,
            title=title,
            authors=authors,
            year=year_of(work.get("publication_year")),
            abstract=abstract_from_index(self.label, work.get("abstract_inverted_index")),
            url=url,
            venue=venue_name(source.get("display_name")),
            source="openalex",
        )

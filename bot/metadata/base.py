"""The interface every metadata client implements, and what the clients share to build work records.

A client knows one API: which inputs are its identifiers (`parse_identifier`), how to look one up and how
to search, and how to turn the API's answer into `WorkRecord`s. It never touches storage: the fetch
service (`bot.metadata.fetch`) decides what to ask and hands the records to the engine.
"""

from __future__ import annotations

import json
import re
from abc import ABC, abstractmethod
from typing import Any, ClassVar

from pydantic import ValidationError

from bot.domain import WorkRecord
from bot.identifiers import normalize_arxiv_id, normalize_doi
from bot.metadata.errors import MetadataResponseError
from bot.metadata.http import MetadataHTTP, Response, SlotReserver
from bot.settings import Settings

# A DOI as the whole input: bare, `doi:`-prefixed, or a doi.org link.
_EXACT_DOI = re.compile(r"^(?:doi:\s*|https?://(?:dx\.)?doi\.org/)?(10\.\d{4,9}/\S+)$", re.IGNORECASE)
# arXiv's own DataCite DOIs name the arXiv id: 10.48550/arXiv.2305.04388.
_ARXIV_DOI = re.compile(r"^10\.48550/arxiv\.(.+)$", re.IGNORECASE)


def clean_text(value: Any) -> str | None:
    """A string with runs of whitespace (arXiv wraps titles and abstracts at ~80 columns) folded to one space."""
    if not isinstance(value, str):
        return None
    text = " ".join(value.split())
    return text or None


def exact_doi(text: str) -> str | None:
    """The DOI when `text` is a DOI and nothing else (a DOI inside a sentence is a search, not an id)."""
    match = _EXACT_DOI.match(text.strip())
    return normalize_doi(match.group(1)) if match else None


def exact_arxiv_id(text: str) -> str | None:
    """The arXiv id (no version) when `text` is an arXiv id, `arXiv:` id, arXiv link or arXiv DOI alone."""
    text = text.strip()
    if not text or any(c.isspace() for c in text):
        return None
    doi = exact_doi(text)
    if doi:
        return arxiv_id_from_doi(doi)
    return normalize_arxiv_id(text)


def arxiv_id_from_doi(doi: str | None) -> str | None:
    match = _ARXIV_DOI.match(doi or "")
    return normalize_arxiv_id(match.group(1)) if match else None


def split_doi(arxiv_id: str | None, doi: str | None) -> tuple[str | None, str | None]:
    """(arXiv id, DOI) with arXiv's own DOI turned into the arXiv id: it names the preprint, and keeping it
    as the DOI would block the journal DOI a later record brings (the first DOI of a work wins)."""
    from_doi = arxiv_id_from_doi(doi)
    if from_doi:
        return arxiv_id or from_doi, None
    return arxiv_id, doi


def venue_name(*candidates: Any) -> str | None:
    """The first real venue: arXiv is where the preprint lives, not where it was published."""
    for candidate in candidates:
        name = clean_text(candidate)
        if name and "arxiv" not in name.lower():
            return name
    return None


def year_of(value: Any) -> int | None:
    """A plausible publication year from an int or a date string ("2023-05-07T17:00:00Z")."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        year = value
    elif isinstance(value, str) and re.match(r"^\d{4}", value.strip()):
        year = int(value.strip()[:4])
    else:
        return None
    return year if 1000 <= year <= 2100 else None


def make_record(api: str, **fields: Any) -> WorkRecord:
    """A WorkRecord, or MetadataResponseError when the API's values do not make one. Author lists are kept whole
    (a cut list cites its last listed author as the last author); the record's own caps bound them."""
    fields["authors"] = [a for a in fields.get("authors") or [] if a]
    try:
        return WorkRecord(**fields)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        raise MetadataResponseError(api, f"sent a paper we cannot use ({problems})") from exc


def json_body(api: str, response: Response) -> Any:
    """The parsed JSON of a response, or a MetadataResponseError saying what came instead."""
    try:
        return json.loads(response.content)
    except ValueError:
        pass
    start = response.content.lstrip()[:200].lower()
    if start.startswith((b"<!doctype html", b"<html")) or "html" in response.content_type:
        raise MetadataResponseError(api, "sent an HTML page instead of JSON (an outage or a proxy page?)")
    if not start:
        raise MetadataResponseError(api, "sent an empty response instead of JSON")
    raise MetadataResponseError(api, "sent a response that is not valid JSON (cut off?)")


def shape_error(api: str, what: str) -> MetadataResponseError:
    return MetadataResponseError(api, f"sent JSON of an unexpected shape: {what}")


class MetadataClient(ABC):
    """One metadata API behind the common interface: `lookup` an identifier, `search` free text."""

    name: ClassVar[str]  # the source name in commands and the API: "arxiv", "s2", "openalex"
    label: ClassVar[str]  # the API's name in messages: "arXiv"
    key_setting: ClassVar[str | None] = None  # the setting to check when the API refuses access

    def __init__(
        self,
        settings: Settings,
        *,
        limiter: SlotReserver | None = None,
    ) -> None:
        self.settings = settings
        self.http = MetadataHTTP(
            api=self.label,
            slot=self.name,
            interval=self.min_interval(settings),
            settings=settings,
            limiter=limiter,
            headers=self.headers(settings),
            params=self.params(settings),
            key_setting=self.key_setting,
        )

    @staticmethod
    @abstractmethod
    def min_interval(settings: Settings) -> float:
        """Seconds between two requests to this API, from all processes together."""

    def headers(self, settings: Settings) -> dict[str, str]:
        return {}

    def params(self, settings: Settings) -> dict[str, str]:
        """Query parameters sent with every request (OpenAlex's `mailto`)."""
        return {}

    @classmethod
    @abstractmethod
    def parse_identifier(cls, text: str) -> str | None:
        """The API's identifier named by `text`, or None when `text` is a search query.

        Raises ValueError when `text` is an identifier this API cannot look up (a DOI given to arXiv).
        """

    @classmethod
    def known_keys(cls, identifier: str) -> list[str]:
        """Knowledge-base keys (`arxiv:…`, `doi:…`, `id:…`) the identifier names: checked before any request."""
        return []

    @abstractmethod
    def lookup(self, identifier: str) -> WorkRecord | None:
        """The work `identifier` names, or None when the API has no such work."""

    @abstractmethod
    def search(self, query: str, limit: int = 5) -> list[WorkRecord]:
        """The API's best matches for a free-text query, best first."""

    def close(self) -> None:
        self.http.close()

    def __enter__(self) -> MetadataClient:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

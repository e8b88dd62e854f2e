"""The arXiv API (export.arxiv.org/api/query): Atom feeds for `id_list=` lookups and `search_query=` searches.

Quirks handled here, all seen in the wild: errors come as a feed with one entry titled "Error" (with HTTP
200 in the documented API, HTTP 400 in the current one); an unknown but well-formed id gives an empty feed
or an entry without id or title; entries come in any order. XML from the network is parsed with
defusedxml (no entity expansion, no external entities).
"""

from __future__ import annotations

import re
from typing import ClassVar
from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

from bot.domain import WorkRecord
from bot.identifiers import normalize_arxiv_id, normalize_doi
from bot.metadata.base import MetadataClient, clean_text, exact_arxiv_id, exact_doi, make_record, year_of
from bot.metadata.errors import MetadataRequestError, MetadataResponseError
from bot.metadata.http import Response
from bot.settings import Settings

ATOM = "http://www.w3.org/2005/Atom"
ARXIV = "http://arxiv.org/schemas/atom"
OPENSEARCH = "http://a9.com/-/spec/opensearch/1.1/"
NS = {"atom": ATOM, "arxiv": ARXIV, "opensearch": OPENSEARCH}
# arXiv's own categories (cs.LG, hep-th, math.GT), as opposed to the ACM and MSC codes also sent as <category>.
_ARXIV_CATEGORY = re.compile(r"^[a-z][a-z\-]*(?:\.[A-Za-z][A-Za-z\-]*)?$")
# Fielded queries (`ti:`, `au:` …) are passed through as written; anything else is searched word by word.
_FIELDED = re.compile(r"\b(?:ti|au|abs|co|jr|cat|rn|id|all):", re.IGNORECASE)
_QUERY_WORDS = 12  # more words AND-ed together find nothing
# Words that carry no topic; AND-ing them in only risks matching nothing.
_STOP_WORDS = frozenset(
    "a an and are as at be by do does for from how in into is it its of on or our that the their this through "
    "to via we what when which why with".split()
)


def search_query(text: str) -> str:
    """An arXiv `search_query` for free text: every word must appear (arXiv ORs nothing by default)."""
    if _FIELDED.search(text):
        return text
    words = [
        w
        for w in re.findall(r"[^\W_]+(?:[-'][^\W_]+)*", text)
        if (len(w) > 1 or w.isdigit()) and w.lower() not in _STOP_WORDS
    ]
    return " AND ".join(f"all:{w}" for w in words[:_QUERY_WORDS]) or f"all:{text}"


class ArxivClient(MetadataClient):
    name: ClassVar[str] = "arxiv"
    label: ClassVar[str] = "arXiv"

    @staticmethod
    def min_interval(settings: Settings) -> float:
        return settings.metadata.arxiv_min_interval_seconds

    @classmethod
    def parse_identifier(cls, text: str) -> str | None:
        arxiv_id = exact_arxiv_id(text)
        if arxiv_id:
            return arxiv_id
        if exact_doi(text):
            raise ValueError("arXiv looks papers up by arXiv id, not by DOI: use the s2 or openalex source for a DOI")
        return None

    @classmethod
    def known_keys(cls, identifier: str) -> list[str]:
        return [f"arxiv:{identifier}"]

    def lookup(self, identifier: str) -> WorkRecord | None:
        # The id without version: the knowledge base keeps a work, and its newest version describes it best.
        response = self.http.get(
            self.settings.metadata.arxiv_api_url, {"id_list": identifier, "max_results": "1"}, accept=frozenset({400})
        )
        for record in self._records(response, identifier):
            if record.arxiv_id and record.arxiv_id.lower() == identifier.lower():
                return record
        return None

    def search(self, query: str, limit: int = 5) -> list[WorkRecord]:
        params = {
            "search_query": search_query(query),
            "start": "0",
            "max_results": str(limit),
            "sortBy": "relevance",
            "sortOrder": "descending",
        }
        response = self.http.get(self.settings.metadata.arxiv_api_url, params, accept=frozenset({400}))
        return self._records(response, query)[:limit]

    # --- the Atom feed -------------------------------------------------------------------------------

    def _feed(self, response: Response) -> Element:
        try:
            root = fromstring(response.content)
        except DefusedXmlException as exc:  # entity declarations: no Atom feed has them; a billion laughs does
            raise MetadataResponseError(self.label, "sent XML with entity declarations, which we do not parse") from exc
        except ParseError as exc:
            kind = "an HTML page" if b"<html" in response.content[:500].lower() else "XML that cannot be parsed"
            raise MetadataResponseError(self.label, f"sent {kind} instead of an Atom feed ({exc})") from exc
        if root.tag.rpartition("}")[2].lower() == "html":
            raise MetadataResponseError(self.label, "sent an HTML page instead of an Atom feed (an outage page?)")
        if root.tag != f"{{{ATOM}}}feed":
            raise MetadataResponseError(self.label, f"sent XML that is not an Atom feed (root <{root.tag}>)")
        return root

    def _records(self, response: Response, asked: str) -> list[WorkRecord]:
        feed = self._feed(response)
        entries = feed.findall("atom:entry", NS)
        for entry in entries:
            if _is_error(entry):
                message = clean_text(entry.findtext("atom:summary", None, NS)) or "unknown error"
                raise MetadataRequestError(self.label, f"refused {asked!r}: {message}")
        if response.status >= 400:  # a 400 without an error entry: still a refusal
            raise MetadataRequestError(self.label, f"refused {asked!r} (HTTP {response.status})")
        return [r for r in (self._record(e) for e in entries) if r is not None]

    def _record(self, entry: Element) -> WorkRecord | None:
        arxiv_id = normalize_arxiv_id(entry.findtext("atom:id", "", NS))
        title = clean_text(entry.findtext("atom:title", None, NS))
        if not arxiv_id or not title:  # how arXiv answers an unknown but well-formed id
            return None
        authors = [clean_text(a.findtext("atom:name", None, NS)) for a in entry.findall("atom:author", NS)]
        doi_text = entry.findtext("arxiv:doi", None, NS) or next(
            (link.get("href", "") for link in entry.findall("atom:link", NS) if link.get("title") == "doi"), None
        )
        primary = entry.find("arxiv:primary_category", NS)
        terms = [primary.get("term", "")] if primary is not None else []
        terms += [c.get("term", "") for c in entry.findall("atom:category", NS)]
        categories = list(dict.fromkeys(t for t in terms if _ARXIV_CATEGORY.match(t)))
        return make_record(
            self.label,
            id=f"arxiv:{arxiv_id}",
            arxiv_id=arxiv_id,
            doi=normalize_doi(doi_text) if doi_text else None,
            title=title,
            authors=authors,
            year=year_of(entry.findtext("atom:published", None, NS)),
            abstract=clean_text(entry.findtext("atom:summary", None, NS)),
            url=f"https://arxiv.org/abs/{arxiv_id}",
            venue=clean_text(entry.findtext("arxiv:journal_ref", None, NS)),
            topics=categories,
            source="arxiv-api",
        )


def _is_error(entry: Element) -> bool:
    """arXiv's error entries: id under /api/errors, title "Error" (a paper titled "Error" has an arXiv id)."""
    entry_id = entry.findtext("atom:id", "", NS)
    title = clean_text(entry.findtext("atom:title", None, NS))
    return "/api/errors" in entry_id or (title == "Error" and normalize_arxiv_id(entry_id) is None)

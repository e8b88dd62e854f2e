"""Clients for the sources `alignbot sync` harvests: arXiv's OAI-PMH interface and ForumMagnum forums.

arXiv (https://info.arxiv.org/help/oa/): base URL `https://oaipmh.arxiv.org/oai`; every category is a set
named `group:archive:CATEGORY` (`cs:cs:AI`, `stat:stat:ML`, `physics:hep-th`), whole groups are sets too
(`cs`); `from`/`until` select by datestamp (the last change of a record's metadata, day granularity), so an
incremental harvest starts where the previous one began. Pages come with a resumptionToken, which expires;
flow control is HTTP 503 with Retry-After. Errors come as `<error code="…">` in an OAI-PMH answer:
`noRecordsMatch` is an empty harvest, `badResumptionToken` an expired token. Requests go through
`MetadataHTTP` (pacing shared with the arXiv API: arXiv's terms count all its APIs together, retries,
deadline); XML is parsed with defusedxml.

ForumMagnum (LessWrong, the Alignment Forum, the EA Forum): posts through the moderation layer's GraphQL
client, with the fields a citable work needs (karma, page URL, authors' display names).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from typing import Any
from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

from bot.domain import WorkRecord
from bot.identifiers import normalize_arxiv_id, normalize_doi
from bot.metadata.base import clean_text, make_record, split_doi, venue_name, year_of
from bot.metadata.errors import MetadataError, MetadataRequestError, MetadataResponseError
from bot.metadata.http import MetadataHTTP, SlotReserver
from bot.moderation.forummagnum import ForumMagnumClient
from bot.settings import Settings

OAI = "http://www.openarchives.org/OAI/2.0/"
FORMATS = {"arXiv": "http://arxiv.org/OAI/arXiv/", "arXivRaw": "http://arxiv.org/OAI/arXivRaw/"}
LABEL = "arXiv OAI-PMH"
# Archives with their own top-level group; every other archive (hep-th, cond-mat, quant-ph …) is in `physics`.
_GROUPS = frozenset({"cs", "econ", "eess", "math", "q-bio", "q-fin", "stat"})
_CATEGORY = re.compile(r"^([a-z][a-z\-]*)(?:\.([A-Za-z][A-Za-z\-]*))?$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def set_spec(category: str) -> str:
    """The OAI-PMH set of an arXiv category: cs.AI → cs:cs:AI, hep-th → physics:hep-th; a set spec or a
    group (`cs`) passes as it is. Raises ValueError for anything else."""
    category = category.strip()
    if ":" in category:
        return category
    match = _CATEGORY.match(category)
    if not match:
        raise ValueError(f"{category!r} is not an arXiv category (cs.AI, cs.CL, stat.ML, hep-th …)")
    archive, sub = match.groups()
    if sub is None:
        return archive if archive in _GROUPS else f"physics:{archive}"
    group = archive if archive in _GROUPS else "physics"
    return f"{group}:{archive}:{sub}"


def oai_date(value: str) -> str:
    """A `from`/`until` date as arXiv takes them (YYYY-MM-DD); raises ValueError with what is wrong."""
    value = value.strip()
    if not _DATE.match(value):
        raise ValueError(f"{value!r} is not a date (YYYY-MM-DD)")
    return value


class OAIError(MetadataRequestError):
    """An OAI-PMH `<error>`: `code` is the protocol's (badResumptionToken, badArgument …)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(LABEL, f"{code}: {message}" if message else code)
        self.code = code


@dataclass
class OAIPage:
    records: list[WorkRecord] = field(default_factory=list)
    deleted: int = 0  # records arXiv withdrew: nothing to store
    token: str | None = None  # the next page's resumptionToken; None on the last page
    complete_size: int | None = None  # records in the whole list, when the server says
    response_date: str | None = None


class ArxivOAIClient:
    """ListRecords pages from arXiv's OAI-PMH interface."""

    def __init__(self, settings: Settings, *, limiter: SlotReserver | None = None) -> None:
        self.url = settings.metadata.arxiv_oai_url
        self.prefix = settings.metadata.arxiv_oai_metadata_prefix
        # A harvest may wait out arXiv's 503 flow control: a Retry-After within the page deadline is honoured.
        sources = settings.metadata
        paced = settings.model_copy(
            update={
                "metadata": sources.model_copy(
                    update={
                        "deadline_seconds": sources.sync_deadline_seconds,
                        "max_backoff_seconds": sources.sync_deadline_seconds,
                        "read_timeout_seconds": sources.sync_read_timeout_seconds,
                    }
                )
            }
        )
        self.http = MetadataHTTP(
            api=LABEL,
            slot="arxiv",
            interval=settings.metadata.arxiv_min_interval_seconds,
            settings=paced,
            limiter=limiter,
        )

    def close(self) -> None:
        self.http.close()

    def __enter__(self) -> ArxivOAIClient:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def list_records(
        self, *, set_spec: str, since: str | None = None, until: str | None = None, token: str | None = None
    ) -> OAIPage:
        """One page: the first of a window (`since`…`until` in `set_spec`), or the one `token` names."""
        if token is not None:
            params = {"verb": "ListRecords", "resumptionToken": token}
        else:
            params = {"verb": "ListRecords", "metadataPrefix": self.prefix, "set": set_spec}
            if since:
                params["from"] = since
            if until:
                params["until"] = until
        response = self.http.get(self.url, params, accept=frozenset({400, 404, 422}))
        return parse_page(response.content, self.prefix, status=response.status)


def _root(content: bytes) -> Element:
    try:
        root = fromstring(content)
    except DefusedXmlException as exc:
        raise MetadataResponseError(LABEL, "sent XML with entity declarations, which we do not parse") from exc
    except ParseError as exc:
        kind = "an HTML page" if b"<html" in content[:500].lower() else "XML that cannot be parsed"
        raise MetadataResponseError(LABEL, f"sent {kind} instead of an OAI-PMH answer ({exc})") from exc
    if root.tag.rpartition("}")[2].lower() == "html":
        raise MetadataResponseError(LABEL, "sent an HTML page instead of an OAI-PMH answer (an outage page?)")
    if root.tag != f"{{{OAI}}}OAI-PMH":
        raise MetadataResponseError(LABEL, f"sent XML that is not an OAI-PMH answer (root <{root.tag}>)")
    return root


def parse_page(content: bytes, prefix: str = "arXiv", *, status: int = 200) -> OAIPage:
    """A ListRecords answer as records; raises OAIError for a protocol error, MetadataResponseError for XML
    we cannot read (the page is then not stored, and the cursor stays where it was)."""
    root = _root(content)
    page = OAIPage(response_date=clean_text(root.findtext(f"{{{OAI}}}responseDate")))
    errors = root.findall(f"{{{OAI}}}error")
    if errors:
        code = errors[0].get("code", "unknown")
        if code == "noRecordsMatch":
            return page
        raise OAIError(code, clean_text(errors[0].text) or "")
    if status >= 400:
        raise MetadataRequestError(LABEL, f"refused the request (HTTP {status})")
    listing = root.find(f"{{{OAI}}}ListRecords")
    if listing is None:
        raise MetadataResponseError(LABEL, "sent an answer without <ListRecords>")
    for record in listing.findall(f"{{{OAI}}}record"):
        header = record.find(f"{{{OAI}}}header")
        if header is not None and header.get("status") == "deleted":
            page.deleted += 1
            continue
        metadata = record.find(f"{{{OAI}}}metadata")
        if metadata is None or len(metadata) == 0:
            raise MetadataResponseError(LABEL, "sent a record without metadata")
        page.records.append(_record(metadata[0], prefix))
    token = listing.find(f"{{{OAI}}}resumptionToken")
    if token is not None:
        page.token = clean_text(token.text)  # an empty token marks the last page
        size = token.get("completeListSize")
        page.complete_size = int(size) if size and size.isdigit() else None
    return page


def _record(element: Element, prefix: str) -> WorkRecord:
    ns = FORMATS.get(prefix, FORMATS["arXiv"])

    def text(name: str) -> str | None:
        return clean_text(element.findtext(f"{{{ns}}}{name}"))

    raw_id = text("id") or ""
    arxiv_id = normalize_arxiv_id(raw_id)
    if not arxiv_id:
        raise MetadataResponseError(LABEL, f"sent a record whose id {raw_id!r} is not an arXiv id")
    if prefix == "arXivRaw":
        # "A. Author, B. Author and C. Author"; the first version's date is the submission.
        authors = [a.strip() for a in re.split(r",\s*|\s+and\s+", text("authors") or "") if a.strip()]
        first = element.find(f"{{{ns}}}version/{{{ns}}}date")
        year = _rfc822_year(first.text if first is not None else None)
    else:
        authors = [
            " ".join(
                filter(None, (clean_text(a.findtext(f"{{{ns}}}{part}")) for part in ("forenames", "keyname", "suffix")))
            )
            for a in element.findall(f"{{{ns}}}authors/{{{ns}}}author")
        ]
        year = year_of(text("created"))
    arxiv_id, doi = split_doi(arxiv_id, normalize_doi(text("doi") or "") if text("doi") else None)
    return make_record(
        LABEL,
        id=f"arxiv:{arxiv_id}",
        arxiv_id=arxiv_id,
        doi=doi,
        title=text("title") or "",
        authors=authors,
        year=year,
        abstract=text("abstract"),
        url=f"https://arxiv.org/abs/{arxiv_id}",
        venue=venue_name(text("journal-ref")),
        topics=(text("categories") or "").split(),
        source="arxiv-oai",
    )


def _rfc822_year(value: str | None) -> int | None:
    try:
        return parsedate_to_datetime(value).year if value else None
    except (TypeError, ValueError):
        return None


# --- ForumMagnum -------------------------------------------------------------------------------------------

SITES = ("lesswrong", "alignmentforum", "eaforum")
# Oldest first, so a cursor (the last post stored) only moves forward, and posts published during a sync
# land after the pages already read.
SYNC_POSTS_QUERY = """
query AlignbotSyncPosts($terms: JSON) {
  posts(input: {terms: $terms}) {
    results { _id title slug pageUrl postedAt baseScore af url userId coauthorUserIds draft isEvent
              user { displayName } coauthors { displayName } }
  }
}
"""


def forum_endpoint(site: str, url: str | None, settings: Settings) -> str:
    """The GraphQL endpoint: the URL given (a forum's address gets `/graphql`), else the site's setting."""
    if site not in SITES:
        raise ValueError(f"unknown site {site!r}: use {', '.join(SITES)}")
    if not url:
        return str(getattr(settings.metadata, f"{site}_graphql_url"))
    url = url.rstrip("/")
    return url if url.endswith("/graphql") else f"{url}/graphql"


def forum_posts_page(client: ForumMagnumClient, *, since: str | None, offset: int, limit: int) -> list[dict[str, Any]]:
    """One page of posts published after `since`, oldest first."""
    terms: dict[str, Any] = {"view": "old", "limit": limit, "offset": offset}
    if since:
        terms["after"] = since
    data = client.query(SYNC_POSTS_QUERY, {"terms": terms})
    results = (data.get("posts") or {}).get("results")
    if not isinstance(results, list):
        raise MetadataError("ForumMagnum", f"{client.endpoint} answered without a list of posts")
    return [p for p in results if isinstance(p, dict) and p.get("_id") and p.get("title")]

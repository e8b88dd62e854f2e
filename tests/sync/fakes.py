"""Fake arXiv OAI-PMH and ForumMagnum GraphQL servers on 127.0.0.1 (a free port), answering like the real ones.

OAI-PMH: `ListRecords` over generated papers in arXiv's `arXiv` metadata format, selected by set
(`cs:cs:AI`), `from`/`until` (datestamps), paged with resumptionTokens that carry `cursor` and
`completeListSize` (an empty token on the last page), `<error code="noRecordsMatch">` for an empty
selection and `badResumptionToken` for an expired or unknown token, deleted records as headers with
`status="deleted"`. `script` makes the next requests fail (a 503 with Retry-After, an HTML page, cut-off XML).

ForumMagnum: the `posts` query with `view: "old"`, `after`, `offset` and `limit` terms, posts carrying
`user`/`coauthors` display names and `baseScore`.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit
from xml.sax.saxutils import escape

Answer = tuple[int, dict[str, str], bytes]
XML_TYPE = "text/xml; charset=utf-8"
RESPONSE_DATE = "2026-12-01T10:00:00Z"


@dataclass
class Paper:
    arxiv_id: str
    title: str
    abstract: str
    authors: list[tuple[str, str]] = field(default_factory=lambda: [("Ada", "Lovelace")])  # (forenames, keyname)
    categories: str = "cs.AI"
    created: str = "2026-11-20"
    datestamp: str = "2026-11-21"
    deleted: bool = False
    doi: str | None = None
    journal_ref: str | None = None

    def sets(self) -> list[str]:
        return [f"cs:cs:{c.split('.', 1)[1]}" for c in self.categories.split() if c.startswith("cs.")]


def record_xml(paper: Paper) -> str:
    """One `<record>` as arXiv's OAI-PMH interface writes it (metadataPrefix=arXiv)."""
    specs = "".join(f"<setSpec>{s}</setSpec>" for s in paper.sets())
    status = ' status="deleted"' if paper.deleted else ""
    header = (
        f"<header{status}><identifier>oai:arXiv.org:{paper.arxiv_id}</identifier>"
        f"<datestamp>{paper.datestamp}</datestamp>{specs}</header>"
    )
    if paper.deleted:
        return f"<record>{header}</record>"
    authors = "".join(
        f"<author><keyname>{escape(last)}</keyname><forenames>{escape(first)}</forenames></author>"
        for first, last in paper.authors
    )
    extra = f"<doi>{paper.doi}</doi>" if paper.doi else ""
    extra += f"<journal-ref>{escape(paper.journal_ref)}</journal-ref>" if paper.journal_ref else ""
    return (
        f"<record>{header}<metadata>"
        '<arXiv xmlns="http://arxiv.org/OAI/arXiv/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
        'xsi:schemaLocation="http://arxiv.org/OAI/arXiv/ https://oaipmh.arxiv.org/OAI/arXiv.xsd">'
        f"<id>{paper.arxiv_id}</id><created>{paper.created}</created><updated>{paper.datestamp}</updated>"
        f"<authors>{authors}</authors><title>{escape(paper.title)}</title>"
        f"<categories>{paper.categories}</categories><comments>12 pages</comments>{extra}"
        "<license>http://creativecommons.org/licenses/by/4.0/</license>"
        f"<abstract>  {escape(paper.abstract)}\n</abstract></arXiv></metadata></record>"
    )


def oai_document(body: str, request: dict[str, str], base: str) -> bytes:
    attributes = "".join(f' {k}="{escape(v)}"' for k, v in request.items())
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<OAI-PMH xmlns="http://www.openarchives.org/OAI/2.0/" '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
        'xsi:schemaLocation="http://www.openarchives.org/OAI/2.0/ http://www.openarchives.org/OAI/2.0/OAI-PMH.xsd">'
        f"<responseDate>{RESPONSE_DATE}</responseDate><request{attributes}>{base}/oai</request>{body}</OAI-PMH>"
    ).encode()


class _Server:
    """A threaded HTTP server on loopback whose handler calls `self.answer(method, path, query, body)`."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.script: list[Answer] = []  # answers for the next requests, before the real ones
        self.lock = threading.Lock()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _serve(self, body: bytes) -> None:
                parts = urlsplit(self.path)
                query = dict(parse_qsl(parts.query, keep_blank_values=True))
                with fake.lock:
                    fake.requests.append({"path": parts.path, "query": query, "body": body})
                    scripted = fake.script.pop(0) if fake.script else None
                status, headers, content = scripted or fake.answer(parts.path, query, body)
                self.send_response(status)
                for name, value in {"Content-Length": str(len(content)), **headers}.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(content)

            def do_GET(self) -> None:
                self._serve(b"")

            def do_POST(self) -> None:
                self._serve(self.rfile.read(int(self.headers.get("Content-Length", 0))))

            def log_message(self, *_args: Any) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)

    def answer(self, path: str, query: dict[str, str], body: bytes) -> Answer:  # pragma: no cover - overridden
        raise NotImplementedError


class FakeOAI(_Server):
    def __init__(self, papers: list[Paper], page_size: int = 3) -> None:
        self.papers = papers
        self.page_size = page_size
        self.tokens: dict[str, tuple[list[Paper], int, dict[str, str]]] = {}
        self.delay = 0.0  # seconds each answer takes, as a real page does
        super().__init__()

    @property
    def url(self) -> str:
        return f"{self.base}/oai"

    def list_requests(self) -> list[dict[str, str]]:
        return [r["query"] for r in self.requests]

    def expire_tokens(self) -> None:
        """As arXiv does after a while: every token issued so far becomes a badResumptionToken."""
        self.tokens.clear()

    def answer(self, path: str, query: dict[str, str], body: bytes) -> Answer:
        time.sleep(self.delay)
        if path != "/oai":
            return 404, {"Content-Type": "text/plain"}, b"Not Found"
        if query.get("verb") != "ListRecords":
            return self._error(query, "badVerb", "Illegal OAI verb")
        token = query.get("resumptionToken")
        if token is not None:
            if set(query) != {"verb", "resumptionToken"}:
                return self._error(query, "badArgument", "resumptionToken is an exclusive argument")
            if token not in self.tokens:
                return self._error(query, "badResumptionToken", f"Bad or expired resumption token: {token}")
            selected, offset, first = self.tokens[token]
        else:
            if query.get("metadataPrefix") != "arXiv":
                return self._error(query, "cannotDisseminateFormat", "Metadata format not supported")
            since, until, wanted = query.get("from", ""), query.get("until", "9999"), query.get("set")
            selected = [
                p
                for p in self.papers
                if since <= p.datestamp <= until and (wanted is None or wanted == "cs" or wanted in p.sets())
            ]
            if not selected:
                return self._error(query, "noRecordsMatch", "No records match the request")
            offset, first = 0, query
        page = selected[offset : offset + self.page_size]
        end = offset + len(page)
        if end < len(selected):
            next_token = f"{len(self.tokens) + 1:04d}|{end}"
            self.tokens[next_token] = (selected, end, first)
            token_xml = f'<resumptionToken cursor="{offset}" completeListSize="{len(selected)}">{next_token}'
            token_xml += "</resumptionToken>"
        else:
            token_xml = f'<resumptionToken cursor="{offset}" completeListSize="{len(selected)}"/>'
        body_xml = "<ListRecords>" + "".join(record_xml(p) for p in page) + token_xml + "</ListRecords>"
        return 200, {"Content-Type": XML_TYPE}, oai_document(body_xml, query, self.base)

    def _error(self, query: dict[str, str], code: str, message: str) -> Answer:
        body = f'<error code="{code}">{escape(message)}</error>'
        return 200, {"Content-Type": XML_TYPE}, oai_document(body, query, self.base)


class FakeForumMagnum(_Server):
    def __init__(self, posts: list[dict[str, Any]]) -> None:
        self.posts = posts
        super().__init__()

    @property
    def url(self) -> str:
        return f"{self.base}/graphql"

    def terms(self) -> list[dict[str, Any]]:
        return [json.loads(r["body"])["variables"]["terms"] for r in self.requests if r["body"]]

    def answer(self, path: str, query: dict[str, str], body: bytes) -> Answer:
        payload = json.loads(body)
        terms = payload["variables"]["terms"]
        if "posts(input: {terms: $terms})" not in payload["query"] or terms.get("view") != "old":
            return 400, {"Content-Type": "application/json"}, b'{"errors": [{"message": "Unknown query"}]}'
        after = terms.get("after") or ""
        posts = sorted((p for p in self.posts if p["postedAt"] > after), key=lambda p: p["postedAt"])
        page = posts[terms["offset"] : terms["offset"] + terms["limit"]]
        content = json.dumps({"data": {"posts": {"results": page, "__typename": "MultiPostOutput"}}}).encode()
        return 200, {"Content-Type": "application/json"}, content


def forum_post(
    post_id: str,
    title: str,
    posted_at: str,
    author: str = "Ana Author",
    coauthors: tuple[str, ...] = (),
    karma: int = 42,
    af: bool = False,
    url: str | None = None,
) -> dict[str, Any]:
    """A post as ForumMagnum's GraphQL answers our sync query."""
    slug = "-".join(title.lower().split())[:40]
    return {
        "_id": post_id,
        "title": title,
        "slug": slug,
        "pageUrl": f"https://www.lesswrong.com/posts/{post_id}/{slug}",
        "postedAt": posted_at,
        "baseScore": karma,
        "af": af,
        "userId": "u" + post_id[:8],
        "coauthorUserIds": [f"c{i}" for i, _ in enumerate(coauthors)],
        "draft": False,
        "isEvent": False,
        "url": url,
        "user": {"displayName": author, "__typename": "User"},
        "coauthors": [{"displayName": name, "__typename": "User"} for name in coauthors],
        "__typename": "Post",
    }

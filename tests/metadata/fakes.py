"""Fake arXiv, Semantic Scholar and OpenAlex servers in one HTTP server on 127.0.0.1 (a free port).

They answer the requests our clients send the way the real APIs do, from real-shaped fixtures in
`fixtures/` (abstracts shortened): Atom feeds with the Atom, arXiv and OpenSearch namespaces (including
arXiv's error entry and its empty feed for an unknown id), Graph API paper JSON, OpenAlex work JSON with
an `abstract_inverted_index`. Every request is recorded with its arrival time, so tests measure pacing
at the server. `script` makes the next requests fail: a status with headers and body, a hang, a dropped
connection, or an answer trickled out byte by byte.
"""

from __future__ import annotations

import json
import re
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

FIXTURES = Path(__file__).parent / "fixtures"
ATOM_TYPE = "application/atom+xml; charset=utf-8"
JSON_TYPE = "application/json"

ARXIV_IDS = {"2305.04388": "arxiv_2305.04388.xml", "hep-ex/0307015": "arxiv_hep-ex_0307015.xml"}
_ARXIV_WELL_FORMED = re.compile(r"^(?:\d{4}\.\d{4,5}|[a-z\-]+(?:\.[A-Z]{2})?/\d{7})(?:v\d+)?$")
S2_PAPERS = {
    "doi:10.1145/3442188.3445922": "s2_paper_doi.json",
    "6d9727f1f058614cada3fe296eeebd8ec4fc512a": "s2_paper_doi.json",
    "corpusid:262580630": "s2_paper_doi.json",
    "arxiv:2305.04388": "s2_paper_arxiv.json",
    "8f6a6a6b5b0ad2b1b6c37de5ccb0b6dbd4a3f2b7": "s2_paper_arxiv.json",
}
OPENALEX_WORKS = {
    "w3128646645": "openalex_work_doi.json",
    "doi:10.1145/3442188.3445922": "openalex_work_doi.json",
    "w4376504155": "openalex_work_arxiv.json",
    "doi:10.48550/arxiv.2305.04388": "openalex_work_arxiv.json",
}

Answer = tuple[int, dict[str, str], bytes]


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def json_answer(status: int, body: Any, headers: dict[str, str] | None = None) -> Answer:
    return status, {"Content-Type": JSON_TYPE, **(headers or {})}, json.dumps(body).encode()


HTML_PAGE: Answer = (
    200,
    {"Content-Type": "text/html; charset=utf-8"},
    b"<!DOCTYPE html><html><head><title>502 Bad Gateway</title></head><body><h1>Bad Gateway</h1></body></html>",
)


@dataclass
class Seen:
    at: float  # time.monotonic() when the request arrived
    api: str  # "arxiv", "s2" or "openalex"
    path: str  # after the API's prefix, unquoted
    query: dict[str, str]
    headers: dict[str, str]


class FakeApis:
    """The three APIs under /arxiv, /s2 and /openalex. `settings()` points our settings at them."""

    def __init__(self) -> None:
        self.requests: list[Seen] = []
        self.script: list[Any] = []  # answers for the next requests: Answer, "hang", "drop" or ("trickle", s)
        self.release = threading.Event()  # set to end hanging answers
        self._lock = threading.Lock()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                fake._handle(self)

            def log_message(self, *_args: Any) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def start(self) -> FakeApis:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)

    def settings(self, **overrides: Any) -> dict[str, Any]:
        """Settings fields for `make_settings`: our URLs, no pacing, quick timeouts and retries."""
        values: dict[str, Any] = {
            "arxiv_api_url": f"{self.base}/arxiv/api/query",
            "s2_api_url": f"{self.base}/s2/graph/v1",
            "openalex_api_url": f"{self.base}/openalex",
            "arxiv_min_interval_seconds": 0.0,
            "s2_min_interval_seconds": 0.0,
            "openalex_min_interval_seconds": 0.0,
            "metadata_contact_email": "ops@alignbot.test",
            "metadata_connect_timeout_seconds": 1.0,
            "metadata_read_timeout_seconds": 0.5,
            "metadata_deadline_seconds": 10.0,
            "metadata_retries": 2,
            "metadata_backoff_seconds": 0.01,
            "metadata_max_backoff_seconds": 2.0,
        }
        values.update(overrides)
        return values

    def to(self, api: str) -> list[Seen]:
        with self._lock:
            return [r for r in self.requests if r.api == api]

    # --- answering ---------------------------------------------------------------------------------

    def _handle(self, handler: BaseHTTPRequestHandler) -> None:
        parts = urlsplit(handler.path)
        api, _, rest = parts.path.lstrip("/").partition("/")
        seen = Seen(
            at=time.monotonic(),
            api=api,
            path="/" + unquote(rest),
            query=dict(parse_qsl(parts.query, keep_blank_values=True)),
            headers={k.lower(): v for k, v in handler.headers.items()},
        )
        with self._lock:
            self.requests.append(seen)
            scripted = self.script.pop(0) if self.script else None
        if scripted == "hang":
            self.release.wait(timeout=30)  # never answers while the test runs; ends at teardown
            handler.close_connection = True
            return
        if scripted == "drop":
            handler.close_connection = True
            handler.connection.close()
            return
        if isinstance(scripted, tuple) and scripted[0] == "trickle":
            self._trickle(handler, float(scripted[1]), self.answer(seen))
            return
        status, headers, body = scripted if scripted is not None else self.answer(seen)
        handler.send_response(status)
        for name, value in {"Content-Length": str(len(body)), **headers}.items():
            handler.send_header(name, value)
        handler.end_headers()
        handler.wfile.write(body)

    def _trickle(self, handler: BaseHTTPRequestHandler, seconds: float, answer: Answer) -> None:
        """A valid answer sent one byte at a time over `seconds`: each read is quick, the whole is slow."""
        status, headers, body = answer
        handler.send_response(status)
        for name, value in {"Content-Length": str(len(body)), **headers}.items():
            handler.send_header(name, value)
        handler.end_headers()
        pause = seconds / max(1, len(body))
        try:
            for byte in body:
                if self.release.wait(timeout=pause):
                    return
                handler.wfile.write(bytes([byte]))
                handler.wfile.flush()
        except OSError:  # the client gave up: that is the point
            return

    def answer(self, seen: Seen) -> Answer:
        """What the real API answers to this request."""
        if seen.api == "arxiv" and seen.path == "/api/query":
            return self._arxiv(seen.query)
        if seen.api == "s2" and seen.path.startswith("/graph/v1/paper/"):
            return self._s2(seen.path.removeprefix("/graph/v1/paper/"))
        if seen.api == "openalex" and seen.path.startswith("/works"):
            return self._openalex(seen.path.removeprefix("/works").lstrip("/"), seen.query)
        return json_answer(404, {"error": "Not Found"})

    def _arxiv(self, query: dict[str, str]) -> Answer:
        ids = [i for i in query.get("id_list", "").split(",") if i]
        if not ids:
            return 200, {"Content-Type": ATOM_TYPE}, fixture("arxiv_search.xml")
        wanted = re.sub(r"v\d+$", "", ids[0])
        if wanted in ARXIV_IDS:
            return 200, {"Content-Type": ATOM_TYPE}, fixture(ARXIV_IDS[wanted])
        if not _ARXIV_WELL_FORMED.match(ids[0]):  # the current API: 400 with the error entry
            body = fixture("arxiv_error.xml").replace(b"1234.12345", ids[0].encode())
            return 400, {"Content-Type": ATOM_TYPE}, body
        return 200, {"Content-Type": ATOM_TYPE}, fixture("arxiv_empty.xml")

    def _s2(self, paper: str) -> Answer:
        if paper == "search":
            return 200, {"Content-Type": JSON_TYPE}, fixture("s2_search.json")
        name = S2_PAPERS.get(paper.lower())
        if name is None:
            return json_answer(404, {"error": f"Paper with id {paper} not found"})
        return 200, {"Content-Type": JSON_TYPE}, fixture(name)

    def _openalex(self, work: str, query: dict[str, str]) -> Answer:
        if not work:
            if "search" not in query:
                return json_answer(400, {"error": "Invalid query parameters error.", "message": "search missing"})
            return 200, {"Content-Type": JSON_TYPE}, fixture("openalex_search.json")
        key = work.lower().replace("https://doi.org/", "doi:")
        name = OPENALEX_WORKS.get(key)
        if name is None:
            return json_answer(404, {"error": "Not Found", "message": f"Work {work} not found"})
        return 200, {"Content-Type": JSON_TYPE}, fixture(name)

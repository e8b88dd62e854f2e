"""A fake Reddit on 127.0.0.1 for praw: the endpoints the bot uses, with real-shaped JSON.

It serves the OAuth token, subreddit listings (`/r/a+b/comments`, `/r/a+b/new`, honouring `before` and
`limit` as the streams use them), submissions with their comment trees (`/comments/{id}`, and with
`/_/{comment}` the comment in its context), `/api/info`, and the writes: `/api/comment` (the reply
appears in the thread and the stream, as on Reddit), `/api/mod/notes`, `/api/mod/conversations` and
`/api/report`. Every request is recorded (method, path, query, form) for tests to assert on, and the
server can be told to answer the next requests with 429 or 5xx, before or after doing what was asked.
"""

from __future__ import annotations

import itertools
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

# Ids are unique across the whole test session: the bot's database outlives one fake server.
_IDS = itertools.count(36**5 + 1000)
_DIGITS = "0123456789abcdefghijklmnopqrstuvwxyz"
RATE_HEADERS = {"x-ratelimit-remaining": "595.0", "x-ratelimit-used": "5", "x-ratelimit-reset": "300"}


def new_id() -> str:
    n, out = next(_IDS), ""
    while n:
        n, digit = divmod(n, 36)
        out = _DIGITS[digit] + out
    return out


@dataclass
class Recorded:
    method: str
    path: str  # without the query, leading slash kept, trailing slash removed
    query: dict[str, str]
    form: dict[str, str]
    headers: dict[str, str]


@dataclass
class Failure:
    status: int
    count: int
    method: str | None = None
    path: str | None = None  # a prefix of the request path
    headers: dict[str, str] = field(default_factory=dict)
    body: str = ""
    apply: bool = False  # do what was asked, then fail anyway (a 5xx after Reddit stored the reply)

    def matches(self, method: str, path: str) -> bool:
        return (self.method is None or self.method == method) and (self.path is None or path.startswith(self.path))


def listing(children: list[dict[str, Any]], after: str | None = None) -> dict[str, Any]:
    return {
        "kind": "Listing",
        "data": {
            "after": after,
            "dist": len(children),
            "modhash": None,
            "geo_filter": "",
            "children": children,
            "before": None,
        },
    }


class FakeReddit:
    def __init__(self, bot_name: str = "alignbot") -> None:
        self.bot_name = bot_name
        self.things: dict[str, dict[str, Any]] = {}  # fullname -> data
        self.order: list[str] = []  # fullnames in creation order
        self.requests: list[Recorded] = []
        self.failures: list[Failure] = []
        self.tokens: set[str] = set()
        self.on_request: Callable[[Recorded], None] | None = None
        self.lock = threading.RLock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, name="fake-reddit", daemon=True)

    # --- lifecycle -----------------------------------------------------------------------------------

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> FakeReddit:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)

    # --- content -------------------------------------------------------------------------------------

    def add_submission(
        self,
        subreddit: str,
        author: str | None,
        title: str,
        selftext: str = "",
        *,
        url: str | None = None,
        crosspost_of: str | None = None,
        created: float | None = None,
    ) -> str:
        """A submission; a self-post unless `url` is given; a crosspost of the t3 fullname `crosspost_of`."""
        sid = new_id()
        created = created or time.time()
        slug = "_".join("".join(c for c in word if c.isalnum()) for word in title.lower().split()[:6])
        permalink = f"/r/{subreddit}/comments/{sid}/{slug}/"
        data: dict[str, Any] = {
            "approved_at_utc": None,
            "subreddit": subreddit,
            "selftext": selftext,
            "author_fullname": f"t2_{author}" if author else None,
            "saved": False,
            "title": title,
            "subreddit_name_prefixed": f"r/{subreddit}",
            "hidden": False,
            "name": f"t3_{sid}",
            "link_flair_text": None,
            "score": 1,
            "is_self": url is None and crosspost_of is None,
            "created": created,
            "domain": f"self.{subreddit}",
            "selftext_html": f'<div class="md"><p>{selftext}</p></div>' if selftext else None,
            "likes": None,
            "archived": False,
            "is_crosspostable": True,
            "over_18": False,
            "spoiler": False,
            "locked": False,
            "subreddit_id": f"t5_{subreddit.lower()}",
            "removed_by_category": None,
            "id": sid,
            "author": author or "[deleted]",
            "num_comments": 0,
            "permalink": permalink,
            "url": url or f"https://www.reddit.com{permalink}",
            "stickied": False,
            "created_utc": created,
            "num_crossposts": 0,
            "mod_reports": [],
            "user_reports": [],
        }
        if url is not None:
            data["domain"] = urlsplit(url).netloc
        if crosspost_of is not None:
            parent = self.things[crosspost_of]
            data["crosspost_parent"] = crosspost_of
            data["crosspost_parent_list"] = [dict(parent)]
            data["url"] = parent["permalink"]
            data["domain"] = f"self.{parent['subreddit']}"
        self._add(f"t3_{sid}", data)
        return f"t3_{sid}"

    def add_comment(
        self, submission: str, author: str | None, body: str, *, parent: str | None = None, created: float | None = None
    ) -> str:
        """A comment on the submission `submission` (t3 fullname), replying to `parent` (t1) if given."""
        cid = new_id()
        created = created or time.time()
        post = self.things[submission]
        parent_id = parent or submission
        depth = 0 if parent is None else self.things[parent]["depth"] + 1
        data: dict[str, Any] = {
            "subreddit_id": post["subreddit_id"],
            "approved_at_utc": None,
            "author_is_blocked": False,
            "edited": False,
            "link_title": post["title"],
            "author_fullname": f"t2_{author}" if author else None,
            "saved": False,
            "id": cid,
            "gilded": 0,
            "archived": False,
            "no_follow": True,
            "author": author or "[deleted]",
            "num_comments": post["num_comments"],
            "parent_id": parent_id,
            "score": 1,
            "over_18": False,
            "controversiality": 0,
            "body": body,
            "link_id": submission,
            "replies": "",
            "subreddit": post["subreddit"],
            "link_author": post["author"],
            "likes": None,
            "link_permalink": f"https://www.reddit.com{post['permalink']}",
            "is_submitter": author == post["author"],
            "body_html": f'<div class="md"><p>{body}</p></div>',
            "stickied": False,
            "subreddit_name_prefixed": f"r/{post['subreddit']}",
            "name": f"t1_{cid}",
            "created": created,
            "permalink": f"{post['permalink']}{cid}/",
            "locked": False,
            "created_utc": created,
            "depth": depth,
            "collapsed": False,
            "mod_reports": [],
            "user_reports": [],
        }
        post["num_comments"] += 1
        self._add(f"t1_{cid}", data)
        return f"t1_{cid}"

    def _add(self, fullname: str, data: dict[str, Any]) -> None:
        with self.lock:
            self.things[fullname] = data
            self.order.append(fullname)

    def fail(
        self,
        status: int,
        count: int = 1,
        *,
        method: str | None = None,
        path: str | None = None,
        headers: dict[str, str] | None = None,
        body: str = "",
        apply: bool = False,
    ) -> None:
        """Answer the next `count` requests matching `method` and path prefix `path` with `status`
        (0: close the connection without an answer)."""
        with self.lock:
            self.failures.append(Failure(status, count, method, path, dict(headers or {}), body, apply))

    # --- what the bot sent ---------------------------------------------------------------------------

    def sent(self, method: str | None = None, path: str | None = None) -> list[Recorded]:
        with self.lock:
            return [
                r
                for r in self.requests
                if (method is None or r.method == method) and (path is None or r.path.startswith(path))
            ]

    def replies_to(self, fullname: str) -> list[dict[str, Any]]:
        return [self.things[f] for f in self.order if f.startswith("t1_") and self.things[f]["parent_id"] == fullname]

    # --- JSON shapes ---------------------------------------------------------------------------------

    def _thing(self, fullname: str, *, with_replies: set[str] | None = None, all_replies: bool = False) -> dict:
        """A t1/t3 object; comments carry replies as Reddit nests them ("" when none)."""
        data = dict(self.things[fullname])
        kind = fullname[:2]
        if kind == "t1":
            children = [
                f
                for f in self.order
                if f.startswith("t1_")
                and self.things[f]["parent_id"] == fullname
                and (all_replies or (with_replies is not None and f in with_replies))
            ]
            data["replies"] = (
                listing([self._thing(c, with_replies=with_replies, all_replies=all_replies) for c in children])
                if children
                else ""
            )
        return {"kind": kind, "data": data}

    def _subreddit_listing(self, subs: str, kind: str, query: dict[str, str]) -> dict[str, Any]:
        wanted = {s.casefold() for s in subs.split("+")}
        items = [
            f
            for f in reversed(self.order)
            if f.startswith(kind + "_") and self.things[f]["subreddit"].casefold() in wanted
        ]
        before = query.get("before")
        if before:
            # Newer than `before`: what the stream asks for after its first poll.
            items = items[: items.index(before)] if before in items else []
        limit = int(query.get("limit") or 25)
        return listing([self._thing(f) for f in items[:limit]])

    def _submission_page(self, sid: str, focus: str | None) -> list[dict[str, Any]]:
        fullname = f"t3_{sid}"
        if fullname not in self.things:
            raise KeyError(fullname)
        head = listing([self._thing(fullname)])
        if focus is None:
            top = [f for f in self.order if f.startswith("t1_") and self.things[f]["parent_id"] == fullname]
            return [head, listing([self._thing(f, all_replies=True) for f in top])]
        # A comment in context: its ancestors, each holding the next, down to it and all its replies.
        chain = [focus]
        while self.things[chain[0]]["parent_id"].startswith("t1_"):
            chain.insert(0, self.things[chain[0]]["parent_id"])
        return [head, listing([self._focus(chain)])]

    def _focus(self, chain: list[str]) -> dict[str, Any]:
        if len(chain) == 1:
            return self._thing(chain[0], all_replies=True)
        node = self._thing(chain[0], with_replies=set())
        node["data"]["replies"] = listing([self._focus(chain[1:])])
        return node

    def _create_comment(self, form: dict[str, str]) -> tuple[int, Any]:
        parent = form.get("thing_id", "")
        if parent not in self.things:
            return 200, {"json": {"errors": [["DELETED_COMMENT", "that comment has been deleted", "parent"]]}}
        submission = parent if parent.startswith("t3_") else self.things[parent]["link_id"]
        if self.things[submission]["locked"]:
            return 403, {"message": "Forbidden", "error": 403}
        fullname = self.add_comment(submission, self.bot_name, form.get("text", ""), parent=parent)
        return 200, {"json": {"errors": [], "data": {"things": [self._thing(fullname)]}}}

    def _mod_note(self, form: dict[str, str]) -> tuple[int, Any]:
        note_id = f"ModNote_{new_id()}-c0fe-4542-be9d-4008991a853a"
        return 200, {
            "created": {
                "subreddit_id": f"t5_{form.get('subreddit', '').lower()}",
                "operator_id": f"t2_{self.bot_name}",
                "mod_action_data": {"action": None, "reddit_id": None, "details": None, "description": None},
                "subreddit": form.get("subreddit"),
                "user": form.get("user"),
                "operator": self.bot_name,
                "id": note_id,
                "user_note_data": {
                    "note": form.get("note"),
                    "reddit_id": form.get("reddit_id"),
                    "label": form.get("label"),
                },
                "user_id": f"t2_{form.get('user')}",
                "created_at": int(time.time()),
                "type": "NOTE",
            }
        }

    def _modmail(self, form: dict[str, str]) -> tuple[int, Any]:
        conversation_id, message_id = new_id(), new_id()
        now = time.strftime("%Y-%m-%dT%H:%M:%S.000000+00:00", time.gmtime())
        author = {
            "isMod": True,
            "isAdmin": False,
            "name": self.bot_name,
            "isOp": True,
            "isParticipant": False,
            "isApproved": False,
            "isHidden": False,
            "id": 12345,
            "isDeleted": False,
        }
        internal = "to" not in form
        return 201, {
            "conversation": {
                "isAuto": False,
                "participant": {},
                "objIds": [{"id": message_id, "key": "messages"}],
                "isRepliable": True,
                "lastUserUpdate": None,
                "isInternal": internal,
                "lastModUpdate": now,
                "authors": [author],
                "lastUpdated": now,
                "participantSubreddit": {},
                "legacyFirstMessageId": None,
                "state": 0,
                "conversationType": "internal" if internal else "sr_user",
                "lastUnread": None,
                "owner": {"displayName": form.get("srName"), "type": "subreddit", "id": "t5_owner"},
                "subject": form.get("subject"),
                "id": conversation_id,
                "isHighlighted": False,
                "numMessages": 1,
            },
            "messages": {
                message_id: {
                    "body": f'<!-- SC_OFF --><div class="md"><p>{form.get("body")}</p></div><!-- SC_ON -->',
                    "author": author,
                    "isInternal": internal,
                    "date": now,
                    "bodyMarkdown": form.get("body"),
                    "id": message_id,
                    "participatingAs": "moderator",
                }
            },
            "user": {},
            "modActions": {},
        }

    def answer(self, method: str, path: str, query: dict[str, str], form: dict[str, str]) -> tuple[int, Any]:
        parts = [p for p in path.split("/") if p]
        if method == "POST" and path == "/api/v1/access_token":
            token = f"fake-token-{new_id()}"
            self.tokens.add(token)
            return 200, {"access_token": token, "token_type": "bearer", "expires_in": 86400, "scope": "*"}
        if method == "GET" and len(parts) == 3 and parts[0] == "r" and parts[2] in ("comments", "new"):
            return 200, self._subreddit_listing(parts[1], "t1" if parts[2] == "comments" else "t3", query)
        if method == "GET" and parts[:1] == ["comments"] and len(parts) in (2, 3, 4):
            focus = f"t1_{parts[3]}" if len(parts) == 4 else None
            if focus is not None and focus not in self.things:
                return 200, [listing([]), listing([])]
            try:
                return 200, self._submission_page(parts[1], focus)
            except KeyError:
                return 404, {"message": "Not Found", "error": 404}
        if method == "GET" and path == "/api/info":
            ids = [i for i in query.get("id", "").split(",") if i in self.things]
            return 200, listing([self._thing(i) for i in ids])
        if method == "POST" and path == "/api/comment":
            return self._create_comment(form)
        if method == "POST" and path == "/api/mod/notes":
            return self._mod_note(form)
        if method == "POST" and path == "/api/mod/conversations":
            return self._modmail(form)
        if method == "POST" and path == "/api/report":
            return 200, {"json": {"errors": []}}
        return 404, {"message": "Not Found", "error": 404}

    # --- HTTP ----------------------------------------------------------------------------------------

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def _serve(self, method: str) -> None:
                split = urlsplit(self.path)
                path = "/" + split.path.strip("/").removesuffix(".json")
                query = {k: v[-1] for k, v in parse_qs(split.query).items()}
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length).decode("utf-8") if length else ""
                form = {k: v[-1] for k, v in parse_qs(raw, keep_blank_values=True).items()}
                record = Recorded(method, path, query, form, {k.lower(): v for k, v in self.headers.items()})
                with fake.lock:
                    fake.requests.append(record)
                    failure = next((f for f in fake.failures if f.count > 0 and f.matches(method, path)), None)
                    if failure is not None:
                        failure.count -= 1
                if fake.on_request is not None:
                    fake.on_request(record)
                if failure is not None and failure.status == 0:
                    self.close_connection = True  # no answer at all: the client sees the connection drop
                    return
                if failure is not None and not failure.apply:
                    self._send(failure.status, failure.body, failure.headers)
                    return
                if path != "/api/v1/access_token":
                    token = self.headers.get("Authorization", "").removeprefix("bearer ")
                    if token not in fake.tokens:
                        self._send(401, json.dumps({"message": "Unauthorized", "error": 401}), {})
                        return
                elif not self.headers.get("Authorization", "").startswith("Basic "):
                    self._send(401, json.dumps({"message": "Unauthorized", "error": 401}), {})
                    return
                with fake.lock:
                    status, payload = fake.answer(method, path, query, form)
                if failure is not None:  # it was done; the client is told otherwise
                    self._send(failure.status, failure.body, failure.headers)
                    return
                self._send(status, json.dumps(payload), RATE_HEADERS)

            def _send(self, status: int, body: str, headers: dict[str, str]) -> None:
                data = body.encode("utf-8")
                self.send_response(status)
                self.send_header("Content-Type", "application/json; charset=UTF-8")
                self.send_header("Content-Length", str(len(data)))
                for name, value in headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:
                self._serve("GET")

            def do_POST(self) -> None:
                self._serve("POST")

            def log_message(self, *_args: Any) -> None:
                pass

        return Handler

"""A small client for the ForumMagnum GraphQL API (LessWrong, the Alignment Forum, the EA Forum).

It reads posts (with `userId`, `coauthorUserIds`, `af`, `reviewForAlignmentUserId`,
`suggestForAlignmentUserIds`, `url`, `canonicalSource`, `fmCrosspost`, `contents.html`) and their
authors (with `groups`, e.g. "alignmentForum"), and turns them into the records the moderation layer
imports. Authors are fetched in one request per batch using GraphQL aliases, not one request each.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import httpx

from bot.moderation.schemas import MemberRecord, PostRecord, Submission, SubmissionAuthor

POST_FIELDS = """
  _id title slug pageUrl postedAt userId coauthorUserIds af reviewForAlignmentUserId
  suggestForAlignmentUserIds url canonicalSource fmCrosspost rejected rejectedReason
  contents { html }
"""
POSTS_QUERY = f"""
query AlignbotPosts($terms: JSON) {{
  posts(input: {{terms: $terms}}) {{
    results {{ {POST_FIELDS} }}
  }}
}}
"""
USER_FIELDS = "_id username displayName groups karma"


class ForumMagnumError(RuntimeError):
    pass


class ForumMagnumClient:
    def __init__(
        self,
        endpoint: str,
        *,
        http: httpx.Client | None = None,
        timeout: float = 30.0,
        retries: int = 3,
        backoff: float = 1.0,
        user_agent: str = "alignbot-moderation/0.1",
    ) -> None:
        self.endpoint = endpoint
        self.http = http or httpx.Client(timeout=timeout, headers={"User-Agent": user_agent})
        self.retries = retries
        self.backoff = backoff

    def close(self) -> None:
        self.http.close()

    def query(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        """POST one GraphQL request; retries rate limits and server errors, raises on GraphQL errors."""
        payload = {"query": query, "variables": variables or {}}
        attempt = 0
        while True:
            retry_after: str | None = None
            try:
                response = self.http.post(self.endpoint, json=payload)
            except httpx.TransportError as exc:
                if attempt >= self.retries:
                    raise ForumMagnumError(f"{self.endpoint}: {exc}") from exc
            else:
                if response.status_code != 429 and response.status_code < 500:
                    break
                if attempt >= self.retries:
                    raise ForumMagnumError(f"{self.endpoint}: HTTP {response.status_code} after {attempt + 1} tries")
                retry_after = response.headers.get("Retry-After")
            wait = self.backoff * 2**attempt
            if retry_after and retry_after.isdigit():
                wait = max(wait, float(retry_after))
            time.sleep(min(wait, 60.0))
            attempt += 1
        if response.status_code >= 400:
            raise ForumMagnumError(f"{self.endpoint}: HTTP {response.status_code}: {response.text[:200]}")
        try:
            body = response.json()
        except ValueError as exc:
            raise ForumMagnumError(f"{self.endpoint}: the answer is not JSON") from exc
        if body.get("errors"):
            messages = "; ".join(str(e.get("message", e)) for e in body["errors"])
            raise ForumMagnumError(f"{self.endpoint}: GraphQL error: {messages}")
        return body.get("data") or {}

    def posts(
        self,
        *,
        limit: int = 100,
        page_size: int = 50,
        view: str = "new",
        af: bool | None = None,
        after: datetime | None = None,
    ) -> Iterator[dict[str, Any]]:
        """Posts newest first, paged with `offset` until `limit` posts or the end."""
        offset = 0
        while offset < limit:
            terms: dict[str, Any] = {"view": view, "limit": min(page_size, limit - offset), "offset": offset}
            if af is not None:
                terms["af"] = af
            if after is not None:
                terms["after"] = after.isoformat()
            results = ((self.query(POSTS_QUERY, {"terms": terms}).get("posts") or {}).get("results")) or []
            yield from results
            if len(results) < terms["limit"]:
                return
            offset += len(results)

    def users(self, user_ids: list[str], batch: int = 50) -> dict[str, dict[str, Any]]:
        """Users by _id; unknown ids are simply absent."""
        found: dict[str, dict[str, Any]] = {}
        ids = list(dict.fromkeys(i for i in user_ids if i))
        for start in range(0, len(ids), batch):
            chunk = ids[start : start + batch]
            params = ", ".join(f"$id{i}: String" for i in range(len(chunk)))
            fields = "\n".join(
                f"  u{i}: user(input: {{selector: {{_id: $id{i}}}}}) {{ result {{ {USER_FIELDS} }} }}"
                for i in range(len(chunk))
            )
            data = self.query(
                f"query AlignbotUsers({params}) {{\n{fields}\n}}", {f"id{i}": uid for i, uid in enumerate(chunk)}
            )
            for i in range(len(chunk)):
                user = (data.get(f"u{i}") or {}).get("result")
                if user and user.get("_id"):
                    found[user["_id"]] = user
        return found


def member_from_user(user: dict[str, Any]) -> MemberRecord:
    return MemberRecord(
        handle=user.get("username") or user["_id"],
        name=user.get("displayName"),
        groups=[g for g in user.get("groups") or [] if isinstance(g, str)],
        karma=int(user["karma"]) if isinstance(user.get("karma"), int | float) else None,
    )


def _handle(users: dict[str, dict[str, Any]], user_id: str | None) -> str:
    user = users.get(user_id or "") or {}
    return user.get("username") or user_id or "unknown"


def post_record(post: dict[str, Any], users: dict[str, dict[str, Any]], site: str) -> PostRecord:
    """A stored post. Alignment Forum posts (`af`) belong to the members-only forum, others to `site`."""
    author = _handle(users, post.get("userId"))
    coauthors = [_handle(users, uid) for uid in post.get("coauthorUserIds") or []]
    return PostRecord(
        id=post["_id"],
        forum="alignmentforum" if post.get("af") else site,
        author=author,
        authors=[author, *coauthors],
        title=post.get("title") or "(untitled)",
        body=((post.get("contents") or {}).get("html")) or "",
        body_format="html",
        url=post.get("url") or None,
        canonical_url=post.get("canonicalSource") or None,
        posted_at=post.get("postedAt"),
        status="rejected" if post.get("rejected") else "published",
        rejected_reason=post.get("rejectedReason") or None,
    )


def submission_from_post(
    post: dict[str, Any], users: dict[str, dict[str, Any]], site: str, confirmed: set[str] | None = None
) -> Submission:
    """A post awaiting review (e.g. suggested for the Alignment Forum) as a submission to check.

    The API does not say whether a co-author agreed to be listed; pass the ids known to have
    confirmed, otherwise co-authors count as unconfirmed.
    """
    confirmed = confirmed or set()
    author_id = post.get("userId")
    asks_af = bool(post.get("af") or post.get("suggestForAlignmentUserIds") or post.get("reviewForAlignmentUserId"))
    crosspost = post.get("fmCrosspost") or {}
    canonical = post.get("canonicalSource") or None
    if (
        not canonical
        and isinstance(crosspost, dict)
        and crosspost.get("isCrosspost")
        and not crosspost.get("hostedHere")
    ):
        canonical = f"crosspost:{crosspost.get('foreignPostId')}"  # the original lives on the other forum
    return Submission(
        id=post["_id"],
        forum="alignmentforum" if asks_af else site,
        title=post.get("title") or "(untitled)",
        body=((post.get("contents") or {}).get("html")) or "",
        body_format="html",
        url=post.get("url") or None,
        canonical_url=canonical,
        submitter=_handle(users, author_id),
        authors=[SubmissionAuthor(handle=_handle(users, author_id), confirmed=True)]
        + [
            SubmissionAuthor(handle=_handle(users, uid), confirmed=uid in confirmed)
            for uid in post.get("coauthorUserIds") or []
        ],
        members_forum=asks_af,
        posted_at=post.get("postedAt"),
    )


def fetch(
    client: ForumMagnumClient, site: str, *, limit: int = 100, af: bool | None = None, after: datetime | None = None
) -> tuple[list[PostRecord], list[MemberRecord], dict[str, str]]:
    """Posts and their authors as records; also the handle → ForumMagnum user id map."""
    posts = list(client.posts(limit=limit, af=af, after=after))
    ids = [uid for p in posts for uid in [p.get("userId"), *(p.get("coauthorUserIds") or [])] if uid]
    users = client.users(ids)
    members = [member_from_user(u) for u in users.values()]
    return (
        [post_record(p, users, site) for p in posts],
        members,
        {m.handle: uid for uid, m in zip(users, members, strict=True)},
    )

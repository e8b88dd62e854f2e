"""The HTTP layer every metadata client shares: polite pacing, retries, timeouts and a deadline.

- Pacing: before every request (retries included) a slot is reserved with a `SlotReserver`. Bots pass the
  `Database`, whose `reserve_slot` hands out slots atomically to every process sharing it, so several bot
  instances together still make at most one arXiv request every 3 s. `LocalSlots` does the same within
  one process for scripts that use a client without a database.
- Retries: 429, 5xx, lost connections and timeouts are retried with exponential backoff plus jitter,
  never sooner than the server's Retry-After; a Retry-After beyond our cap ends the call instead of
  being cut short (honouring it would block the caller for minutes; ignoring it would get us blocked).
- Time: connect and read timeouts per request, and one deadline for the whole call (slot waits, retries,
  a server that trickles bytes), so a caller never waits longer than `metadata_deadline_seconds`.
"""

from __future__ import annotations

import email.utils
import json
import random
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from typing import Protocol

import httpx

from bot.metadata.errors import (
    MetadataConnectionError,
    MetadataError,
    MetadataHTTPError,
    MetadataRateLimited,
    MetadataRequestError,
    MetadataResponseError,
    MetadataTimeout,
)
from bot.settings import Settings

MAX_RESPONSE_BYTES = 5_000_000  # a metadata answer is kilobytes; anything this big is not one
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})


class SlotReserver(Protocol):
    """Hands out request slots: `reserve_slot(api, interval)` returns the seconds to wait before sending."""

    def reserve_slot(self, name: str, interval: float) -> float: ...


class LocalSlots:
    """Request slots shared by the threads of one process (the database does this across processes)."""

    def __init__(self) -> None:
        self._next: dict[str, float] = {}
        self._lock = threading.Lock()

    def reserve_slot(self, name: str, interval: float) -> float:
        with self._lock:
            now = time.monotonic()
            start = max(now, self._next.get(name, now))
            self._next[name] = start + interval
            return start - now


_LOCAL_SLOTS = LocalSlots()  # one per process, so two clients of the same API in one process still share


def user_agent(contact_email: str | None) -> str:
    """A descriptive User-Agent with a contact address, as arXiv, Semantic Scholar and OpenAlex ask for."""
    try:
        ours = version("alignbot")
    except PackageNotFoundError:  # pragma: no cover - running from a source tree without installing
        ours = "0"
    contact = f"; mailto:{contact_email}" if contact_email else ""
    return f"alignbot/{ours} (AI-alignment research assistant; metadata for a community knowledge base{contact})"


def retry_after_seconds(value: str | None) -> float | None:
    """Seconds from a Retry-After header: a number of seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


@dataclass(frozen=True)
class Response:
    """A complete answer, read within the deadline and the size limit."""

    status: int
    content: bytes
    content_type: str
    url: str
    retry_after: float | None = None

    def text(self) -> str:
        return self.content.decode("utf-8", errors="replace")


def error_detail(content: bytes, limit: int = 200) -> str:
    """The message in an API's JSON error body (`{"error": …}` or `{"message": …}`), if there is one."""
    try:
        body = json.loads(content)
    except ValueError:
        return ""
    if not isinstance(body, dict):
        return ""
    parts = [body[k] for k in ("error", "message") if isinstance(body.get(k), str) and body[k].strip()]
    return " ".join(" — ".join(dict.fromkeys(parts)).split())[:limit]


class _DeadlinePassed(Exception):
    pass


def _tries(n: int) -> str:
    return "1 try" if n == 1 else f"{n} tries"


def _after(failure: MetadataError, attempts: int) -> MetadataError:
    """The last failure, its message saying how often we tried."""
    message = f"{failure.message} ({_tries(attempts)})"
    if isinstance(failure, MetadataHTTPError):
        return type(failure)(failure.api, message, failure.status)
    return type(failure)(failure.api, message)


class MetadataHTTP:
    """GET requests to one API, paced, retried and bounded in time."""

    def __init__(
        self,
        *,
        api: str,
        slot: str,
        interval: float,
        settings: Settings,
        limiter: SlotReserver | None = None,
        headers: dict[str, str] | None = None,
        params: dict[str, str] | None = None,
        key_setting: str | None = None,
    ) -> None:
        self.api = api
        self.slot = slot
        self.interval = interval
        self.limiter: SlotReserver = limiter if limiter is not None else _LOCAL_SLOTS
        self.connect_timeout = settings.metadata.connect_timeout_seconds
        self.read_timeout = settings.metadata.read_timeout_seconds
        self.deadline = settings.metadata.deadline_seconds
        self.retries = settings.metadata.retries
        self.backoff = settings.metadata.backoff_seconds
        self.max_backoff = settings.metadata.max_backoff_seconds
        self.params = dict(params or {})
        self.key_setting = key_setting  # named in the message when the API refuses us (401/403)
        self.client = httpx.Client(
            headers={"User-Agent": user_agent(settings.metadata.contact_email), **(headers or {})},
            follow_redirects=True,  # OpenAlex answers a merged work with a redirect to the surviving one
        )

    def close(self) -> None:
        self.client.close()

    def get(self, url: str, params: dict[str, str] | None = None, *, accept: frozenset[int] = frozenset()) -> Response:
        """GET `url`; statuses in `accept` (404 for a lookup, say) are returned rather than raised.

        Raises MetadataTimeout, MetadataConnectionError, MetadataRateLimited, MetadataHTTPError or
        MetadataRequestError, each with a message naming the API and what happened.
        """
        query = {**self.params, **(params or {})}
        deadline = time.monotonic() + self.deadline
        attempt = 0
        failure: MetadataError | None = None
        while True:
            if not self._wait_for_slot(deadline):
                if failure is not None:  # a retry that no longer fits: the last failure is the news
                    raise _after(failure, attempt)
                raise MetadataTimeout(
                    self.api,
                    f"no request slot free within the {self.deadline:g} s allowed: other fetches are queued "
                    f"(at most one request every {self.interval:g} s); please try again later",
                )
            attempt += 1
            asked = 0.0
            try:
                response = self._send(url, query, deadline)
            except _DeadlinePassed:
                raise MetadataTimeout(
                    self.api, f"took longer than the {self.deadline:g} s allowed ({_tries(attempt)})"
                ) from None
            except httpx.ConnectTimeout:
                failure = MetadataTimeout(self.api, f"could not connect within {self.connect_timeout:g} s")
            except httpx.TimeoutException:
                failure = MetadataTimeout(self.api, f"did not answer within {self.read_timeout:g} s")
            except httpx.TransportError as exc:
                failure = MetadataConnectionError(self.api, f"could not be reached ({type(exc).__name__}: {exc})")
            else:
                if response.status < 400 or response.status in accept:
                    return response
                if response.status not in RETRY_STATUSES:
                    raise self._refusal(response)
                asked = response.retry_after or 0.0
                if asked > self.max_backoff:
                    raise MetadataRateLimited(
                        self.api,
                        f"asked us to wait {asked:.0f} s (HTTP {response.status}); please try again later",
                        response.status,
                    )
                if response.status == 429:
                    failure = MetadataRateLimited(self.api, "kept rate-limiting us (HTTP 429)", 429)
                else:
                    failure = MetadataHTTPError(
                        self.api, f"answered HTTP {response.status} (a server error)", response.status
                    )
            if attempt > self.retries:
                raise _after(failure, attempt)
            # Exponential backoff with jitter (so instances that failed together do not retry together),
            # never sooner than the server asked.
            delay = min(self.max_backoff, self.backoff * 2 ** (attempt - 1) * random.uniform(1.0, 1.5))
            delay = max(delay, asked)
            if time.monotonic() + delay >= deadline:
                raise _after(failure, attempt)
            time.sleep(delay)

    def _wait_for_slot(self, deadline: float) -> bool:
        """Reserve the next request slot and sleep until it; False (without sleeping) when it is past the deadline."""
        wait = self.limiter.reserve_slot(self.slot, self.interval)
        if time.monotonic() + wait >= deadline:
            return False
        if wait > 0:
            time.sleep(wait)
        return True

    def _send(self, url: str, params: dict[str, str], deadline: float) -> Response:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise _DeadlinePassed
        timeout = httpx.Timeout(
            connect=min(self.connect_timeout, remaining),
            read=min(self.read_timeout, remaining),
            write=min(self.read_timeout, remaining),
            pool=min(self.connect_timeout, remaining),
        )
        with self.client.stream("GET", url, params=params, timeout=timeout) as response:
            chunks: list[bytes] = []
            size = 0
            # Read in chunks so that a server trickling bytes cannot hold us past the deadline, and a
            # huge answer is refused before it fills memory.
            for chunk in response.iter_bytes():
                size += len(chunk)
                if size > MAX_RESPONSE_BYTES:
                    raise MetadataResponseError(
                        self.api, f"sent more than {MAX_RESPONSE_BYTES // 1_000_000} MB; that is not a metadata answer"
                    )
                chunks.append(chunk)
                if time.monotonic() > deadline:
                    raise _DeadlinePassed
            return Response(
                status=response.status_code,
                content=b"".join(chunks),
                content_type=response.headers.get("content-type", ""),
                url=str(response.url),
                retry_after=retry_after_seconds(response.headers.get("retry-after")),
            )

    def _refusal(self, response: Response) -> MetadataError:
        """An error status not worth retrying, as the error that says what to do about it."""
        detail = error_detail(response.content)
        said = f": {detail}" if detail else ""
        if response.status in (401, 403):
            hint = f"; check {self.key_setting}" if self.key_setting else ""
            return MetadataHTTPError(self.api, f"refused access (HTTP {response.status}){said}{hint}", response.status)
        if response.status in (400, 414, 422):
            return MetadataRequestError(self.api, f"refused the request (HTTP {response.status}){said}")
        return MetadataHTTPError(self.api, f"answered HTTP {response.status}{said}", response.status)

"""What the API shows to whom (#15 items 4 and 5): open reads list only published posts, /metrics needs a
token, the CDN-loading docs pages are off, and client addresses come from trusted proxies only."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import delete

from bot.engine import Engine
from bot.http.app import create_app
from bot.http.config import ServerSettings
from bot.moderation.schemas import PostRecord
from bot.moderation.service import Moderator
from bot.storage.shared import RateBucket
from tests.http.conftest import bearer, settings
from tests.live_server import serve

TARGET = "https://example.org/exposure-test-target"


@pytest.fixture(scope="module")
def cited_posts(moderator: Moderator) -> dict[str, str]:
    """Posts by status that all link TARGET: title -> status."""
    statuses = {"published": "published", "rejected": "rejected", "pending": "pending", "members": "members-only"}
    moderator.store_posts(
        [
            PostRecord(
                id=f"exposure-{name}",
                forum="alignmentforum",
                author=f"author-{name}",
                title=f"Exposure test post ({name})",
                body=f"A short note that links [the target]({TARGET}) for the {name} case.",
                status=status,
            )
            for name, status in statuses.items()
        ],
        source="test",
    )
    return {f"Exposure test post ({name})": status for name, status in statuses.items()}


def titles(response: httpx.Response) -> set[str]:
    assert response.status_code == 200, response.text
    return {post["title"] for post in response.json()["posts"]}


def test_open_reads_of_cited_by_list_published_posts_only(
    mod_engine: Engine, moderator: Moderator, cited_posts: dict[str, str], secrets: dict[str, str]
) -> None:
    app = create_app(mod_engine, moderator, settings(open_reads=True))
    published = {title for title, status in cited_posts.items() if status == "published"}
    with TestClient(app) as client:
        anonymous = client.get(f"/v1/citedby/{TARGET}")
        assert titles(anonymous) == published
        assert "author-rejected" not in anonymous.text and "author-pending" not in anonymous.text
        assert titles(client.get(f"/v1/citedby/{TARGET}", headers=bearer(secrets["read"]))) == published
        assert titles(client.get(f"/v1/citedby/{TARGET}", headers=bearer(secrets["write"]))) == published
        # Moderators see every post, whatever its status.
        assert titles(client.get(f"/v1/citedby/{TARGET}", headers=bearer(secrets["moderate"]))) == set(cited_posts)


def test_metrics_need_the_metrics_scope_unless_open(mod_app: FastAPI, mod_engine: Engine, moderator: Moderator) -> None:
    store = mod_app.state.ctx.tokens
    scraper = store.create("prometheus", ["metrics"])[1]
    reader = store.create("metrics-test-reader", ["read"])[1]
    with TestClient(mod_app) as client:
        missing = client.get("/metrics")
        assert missing.status_code == 401 and missing.json()["error"] == "missing API token"
        refused = client.get("/metrics", headers=bearer(reader))
        assert refused.status_code == 403 and "'metrics' scope" in refused.json()["error"]
        allowed = client.get("/metrics", headers=bearer(scraper))
        assert allowed.status_code == 200 and "alignbot_works " in allowed.text
    with TestClient(create_app(mod_engine, moderator, settings(metrics_open=True))) as client:
        assert client.get("/metrics").status_code == 200


def test_docs_pages_are_off_unless_configured(mod_app: FastAPI, mod_engine: Engine, moderator: Moderator) -> None:
    with TestClient(mod_app) as client:
        assert client.get("/docs").status_code == 404
        assert client.get("/redoc").status_code == 404
        assert client.get("/openapi.json").status_code == 200  # the spec itself is same-origin JSON
    with TestClient(create_app(mod_engine, moderator, settings(docs=True))) as client:
        docs = client.get("/docs")
        assert docs.status_code == 200 and "swagger-ui" in docs.text


# --- client addresses behind proxies (a real server on loopback: the peer is 127.0.0.1) ------------------


@pytest.fixture
def limited_server(request: pytest.FixtureRequest, mod_engine: Engine, moderator: Moderator) -> Iterator[str]:
    """A live server with open reads and two anonymous requests per address, configured by the test's param."""
    server_settings = settings(open_reads=True, anonymous_rate_per_minute=2, **request.param)
    with mod_engine.db.engine.begin() as connection:  # limits live in the database: start from full buckets
        connection.execute(delete(RateBucket.__table__))  # type: ignore[attr-defined]
    with serve(create_app(mod_engine, moderator, server_settings)) as url:
        yield url


def cite_as(url: str, forwarded_for: str | None) -> int:
    headers = {"X-Forwarded-For": forwarded_for} if forwarded_for else {}
    return httpx.post(f"{url}/v1/cite", json={"reference": "Turpin"}, headers=headers, timeout=30).status_code


@pytest.mark.parametrize(
    "limited_server",
    [{"trusted_proxies": ["127.0.0.1"]}, {"trust_proxy_headers": True}],
    ids=["trusted-proxies", "deprecated-trust-proxy-headers"],
    indirect=True,
)
def test_the_client_is_the_rightmost_untrusted_forwarded_address(limited_server: str) -> None:
    # The client forges the leftmost entries; the proxy appends the address it saw (203.0.113.7).
    codes = [cite_as(limited_server, f"198.51.100.{n}, 203.0.113.7") for n in range(3)]
    assert codes == [200, 200, 429]
    assert cite_as(limited_server, "203.0.113.8") == 200  # another client has its own limit
    # Behind a second trusted hop (the proxy itself is behind a load balancer on the same host).
    chain = [cite_as(limited_server, f"198.51.100.{n}, 203.0.113.9, 127.0.0.1") for n in range(3)]
    assert chain == [200, 200, 429]


@pytest.mark.parametrize("limited_server", [{}], ids=["no-proxy"], indirect=True)
def test_without_trusted_proxies_forwarded_headers_are_ignored(limited_server: str) -> None:
    codes = [cite_as(limited_server, f"203.0.113.{n}") for n in range(3)]
    assert codes == [200, 200, 429]  # every request is from 127.0.0.1, whatever it claims


def test_trusted_proxies_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ALIGNBOT_HTTP_TRUSTED_PROXIES", "10.0.0.1, 172.16.0.0/12,::1")
    assert ServerSettings(_env_file=None).proxy_networks() == ["10.0.0.1", "172.16.0.0/12", "::1"]  # type: ignore[call-arg]
    monkeypatch.setenv("ALIGNBOT_HTTP_TRUSTED_PROXIES", "10.0.0.1, proxy.internal")
    with pytest.raises(ValueError, match=r"'proxy\.internal' is not an IP address or network"):
        ServerSettings(_env_file=None)  # type: ignore[call-arg]

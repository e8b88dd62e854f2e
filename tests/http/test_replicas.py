"""Two replicas of `alignbot serve` (real processes on loopback) on one database behave as one server: a
token's rate limit is shared, a moderator's page session works on either, a webhook delivery is answered once."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from bot.http.tokens import TokenStore
from bot.storage import Database
from tests.backends import BACKENDS
from tests.conftest import make_settings
from tests.http.conftest import bearer, submission
from tests.live_server import serve_process

RATE_PER_MINUTE = 6  # one request every 10 s once the burst is spent
BURST = 4


@pytest.fixture(scope="module")
def replicas(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str, Path]]:
    data_dir = tmp_path_factory.mktemp("replicas")
    env = {**BACKENDS.env(data_dir), "ALIGNBOT_HTTP_RATE_BURST": str(BURST)}
    with serve_process(env) as first, serve_process(env) as second:
        yield first, second, data_dir


def database(data_dir: Path) -> Database:
    return Database(make_settings(data_dir).sqlalchemy_url)


def test_a_token_gets_its_limit_once_across_replicas(replicas: tuple[str, str, Path]) -> None:
    first, second, data_dir = replicas
    _info, secret = TokenStore(database(data_dir)).create("plugin", ["read"], RATE_PER_MINUTE)
    statuses: list[tuple[str, int]] = []
    started = time.monotonic()
    for n in range(3 * BURST):
        url = (first, second)[n % 2]
        response = httpx.post(
            f"{url}/v1/cite", json={"reference": "sleeper agents"}, headers=bearer(secret), timeout=30
        )
        statuses.append((url, response.status_code))
        if response.status_code == 429:
            assert int(response.headers["Retry-After"]) >= 1
    elapsed = time.monotonic() - started
    accepted = [url for url, status in statuses if status != 429]
    assert {status for _url, status in statuses} <= {200, 429}
    # In memory, each replica would have accepted BURST requests (2 * BURST in all).
    refilled = int(elapsed * RATE_PER_MINUTE / 60)
    assert BURST <= len(accepted) <= BURST + refilled, statuses
    assert set(accepted) == {first, second}  # both served the token, from one bucket


def login(url: str, secret: str) -> httpx.Cookies:
    with httpx.Client(base_url=url, timeout=30) as client:
        form = client.get("/login")
        csrf = re.search(r'name="csrf" value="([^"]+)"', form.text)
        assert csrf is not None, form.text
        response = client.post("/login", data={"token": secret, "csrf": csrf.group(1), "next": "/queue"})
        assert response.status_code == 303 and response.headers["location"] == "/queue", response.text
        return client.cookies


def test_a_moderator_session_works_on_every_replica(replicas: tuple[str, str, Path]) -> None:
    first, second, data_dir = replicas
    _info, secret = TokenStore(database(data_dir)).create("ana", ["moderate"])
    cookies = login(first, secret)
    for url in (second, first):
        page = httpx.get(f"{url}/queue", cookies=cookies, timeout=30)
        assert page.status_code == 200 and "ana" in page.text, page.text[:500]
    # Logging out on one replica ends the session on both.
    csrf = re.search(r'name="csrf" value="([^"]+)"', httpx.get(f"{first}/queue", cookies=cookies, timeout=30).text)
    assert csrf is not None
    httpx.post(f"{second}/logout", data={"csrf": csrf.group(1)}, cookies=cookies, timeout=30)
    for url in (first, second):
        page = httpx.get(f"{url}/queue", cookies=cookies, timeout=30)
        assert page.status_code == 303 and page.headers["location"].startswith("/login")


def test_a_webhook_delivery_is_answered_once_across_replicas(replicas: tuple[str, str, Path]) -> None:
    first, second, data_dir = replicas
    _info, secret = TokenStore(database(data_dir)).create("forum", ["write"])
    event = {"event": "post.created", "delivery_id": "d-replica", "submission": submission(id="replica-1")}
    answer = httpx.post(f"{first}/v1/webhooks/forum", json=event, headers=bearer(secret), timeout=60)
    assert answer.status_code == 200 and answer.json()["queued"] is True, answer.text
    retry = httpx.post(f"{second}/v1/webhooks/forum", json=event, headers=bearer(secret), timeout=60)
    assert retry.status_code == 200 and retry.json() == {**answer.json(), "queued": False}

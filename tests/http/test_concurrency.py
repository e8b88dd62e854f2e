"""50 related-work requests at once through the real app over loopback: every one answered, and answered as
when the same questions are asked one at a time.

The app is what `alignbot serve` runs (`create_app` over the real engine: the bundled reading list, the real
MiniLM), served by uvicorn on a free loopback port. Its handlers run in FastAPI's threadpool, so the engine is
called from many threads at once. No latency assertions here: bench/load.py measures those.
"""

from __future__ import annotations

import asyncio

import httpx
from fastapi import FastAPI

from bot.domain import AskResult
from bot.settings import REPO_ROOT
from tests.live_server import serve

from .conftest import bearer

QUESTIONS = REPO_ROOT / "bench" / "questions.txt"  # the load test's questions


def questions() -> list[str]:
    lines = [line.strip() for line in QUESTIONS.read_text(encoding="utf-8").splitlines()]
    return [line for line in lines if line and not line.startswith("#")]


async def ask_all(base: str, secret: str, asked: list[str]) -> tuple[list[httpx.Response], list[httpx.Response]]:
    """The questions one at a time, then all at once, each on its own connection as separate clients would."""
    limits = httpx.Limits(max_connections=len(asked), max_keepalive_connections=len(asked))
    async with httpx.AsyncClient(
        base_url=base, headers=bearer(secret), timeout=600, limits=limits, trust_env=False
    ) as client:
        sequential = [await client.post("/v1/related", json={"question": q, "k": 5}) for q in asked]
        concurrent = await asyncio.gather(*(client.post("/v1/related", json={"question": q, "k": 5}) for q in asked))
    return sequential, list(concurrent)


def test_fifty_concurrent_asks_are_all_answered_as_when_asked_one_at_a_time(
    read_app: FastAPI, read_secret: str
) -> None:
    asked = questions()
    assert len(asked) == 50 == len(set(asked))
    # The test app allows 1,000 requests at once per token (the default burst, 30, would turn 20 into 429s).
    assert read_app.state.ctx.settings.rate_burst >= len(asked)
    with serve(read_app) as base:
        sequential, concurrent = asyncio.run(ask_all(base, read_secret, asked))

    confident = []
    for question, one, many in zip(asked, sequential, concurrent, strict=True):
        assert one.status_code == 200, (question, one.text)
        assert many.status_code == 200, (question, many.text)
        assert many.headers["content-type"] == "application/json"
        alone, loaded = AskResult.model_validate_json(one.content), AskResult.model_validate_json(many.content)
        assert loaded.query == question  # each answer belongs to its own request
        assert loaded.results, question
        assert loaded.results[0].id == alone.results[0].id, question
        assert loaded.confident == alone.confident, question
        assert [r.id for r in loaded.results] == [r.id for r in alone.results], question
        assert loaded.answer == alone.answer, question
        confident.append(loaded.confident)
    # Both kinds of answer are among them, so both were compared.
    assert 0 < sum(confident) < len(asked), confident

"""Load test of the HTTP app: N concurrent related-work requests, next to the same N sent one at a time.

Starts `alignbot serve` in a subprocess on a free loopback port over a fresh data directory (SQLite, embedded
Chroma, the bundled MiniLM; the first start ingests and embeds the bundled reading list), creates a read token
with `alignbot token create` as users do, and POSTs /v1/related for each question of bench/questions.txt (50
different questions): first one at a time (the baseline), then all at once. Prints p50/p95/max latency,
throughput and errors side by side, and whether the concurrent answers are the baseline's.

Rate limit: a token may make 30 requests at once (ALIGNBOT_HTTP_RATE_BURST) and 120 a minute by default, so 20
of 50 simultaneous requests would get 429 and the run would measure the limiter. The server here runs with
ALIGNBOT_HTTP_RATE_BURST and ALIGNBOT_HTTP_RATE_PER_MINUTE raised (printed with the results).

Usage: python bench/load.py [--questions FILE] [--k 5]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
import numpy as np
from pydantic import ValidationError

from bot.domain import AskResult

QUESTIONS = Path(__file__).resolve().parent / "questions.txt"
WARM_UP = ["reward model overoptimization", "honesty of language models", "interpretability of attention heads"]
# Generous enough that no request of this run is limited: the run measures the app, not the token bucket.
RATE_PER_MINUTE = 100_000
RATE_BURST = 1_000
# Settings that would point the server at other stores or an LLM: the run uses its own SQLite and Chroma.
FOREIGN = ("DATABASE_URL", "CHROMA_HOST", "CHROMA_PORT", "ALIGNBOT_")


@dataclass
class Sample:
    question: str
    ms: float
    status: int | None
    result: AskResult | None
    error: str | None


def load_questions(path: Path) -> list[str]:
    lines = [line.strip() for line in path.read_text(encoding="utf-8").splitlines()]
    questions = [line for line in lines if line and not line.startswith("#")]
    if len(set(questions)) != len(questions):
        raise SystemExit(f"{path}: questions repeat")
    return questions


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def alignbot(*args: str) -> list[str]:
    # The `alignbot` console script's own app, run by this interpreter (so the same installation).
    return [sys.executable, "-m", "bot.cli", *args]


def server_env(data_dir: Path, port: int) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(FOREIGN)}
    env.update(
        ALIGNBOT_DATA_DIR=str(data_dir),
        ALIGNBOT_HTTP_PORT=str(port),
        ALIGNBOT_HTTP_RATE_PER_MINUTE=str(RATE_PER_MINUTE),
        ALIGNBOT_HTTP_RATE_BURST=str(RATE_BURST),
    )
    return env


def create_token(env: dict[str, str], cwd: Path) -> str:
    done = subprocess.run(
        alignbot("token", "create", "load-test", "--scope", "read"),
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        check=True,
        timeout=300,
    )
    return done.stdout.strip().splitlines()[-1]


def peak_rss_mb(pid: int) -> float | None:
    """The process's peak resident memory (Linux), for sizing containers."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    line = next((line for line in status.splitlines() if line.startswith("VmHWM:")), None)
    return int(line.split()[1]) / 1024 if line else None


def wait_healthy(base: str, server: subprocess.Popen[bytes], log: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"alignbot serve exited with {server.returncode}:\n{log.read_text()[-3000:]}")
        try:
            if httpx.get(f"{base}/healthz", timeout=2, trust_env=False).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.5)
    raise SystemExit(f"alignbot serve did not become healthy within {timeout:.0f}s:\n{log.read_text()[-3000:]}")


async def ask(client: httpx.AsyncClient, question: str, k: int) -> Sample:
    start = time.perf_counter()
    try:
        response = await client.post("/v1/related", json={"question": question, "k": k})
    except httpx.HTTPError as exc:
        return Sample(question, (time.perf_counter() - start) * 1000, None, None, f"{type(exc).__name__}: {exc}")
    ms = (time.perf_counter() - start) * 1000
    if response.status_code != 200:
        return Sample(question, ms, response.status_code, None, response.text[:200])
    try:
        return Sample(question, ms, 200, AskResult.model_validate_json(response.content), None)
    except ValidationError as exc:  # a 200 that is not the documented schema counts as an error
        return Sample(question, ms, 200, None, f"invalid answer: {exc.errors()[0]['msg']}")


async def one_at_a_time(client: httpx.AsyncClient, questions: list[str], k: int) -> tuple[list[Sample], float]:
    start = time.perf_counter()
    samples = [await ask(client, q, k) for q in questions]
    return samples, time.perf_counter() - start


async def all_at_once(client: httpx.AsyncClient, questions: list[str], k: int) -> tuple[list[Sample], float]:
    start = time.perf_counter()
    samples = await asyncio.gather(*(ask(client, q, k) for q in questions))
    return list(samples), time.perf_counter() - start


def summary(samples: list[Sample], wall: float) -> dict[str, str]:
    ms = [s.ms for s in samples]
    errors = [s for s in samples if s.error is not None]
    statuses: dict[str, int] = {}
    for s in errors:
        statuses[str(s.status or "no answer")] = statuses.get(str(s.status or "no answer"), 0) + 1
    detail = f" ({', '.join(f'{n}x {status}' for status, n in sorted(statuses.items()))})" if errors else ""
    p50, p95 = np.percentile(ms, [50, 95], method="nearest")
    return {
        "p50 latency": f"{p50:.0f} ms",
        "p95 latency": f"{p95:.0f} ms",
        "max latency": f"{max(ms):.0f} ms",
        "wall time": f"{wall:.2f} s",
        "throughput": f"{len(samples) / wall:.1f} req/s",
        "errors": f"{len(errors)}/{len(samples)}{detail}",
    }


def same_answers(a: list[Sample], b: list[Sample]) -> int:
    """Questions whose two answers agree on confidence and the ranked works."""

    def key(s: Sample) -> tuple[bool, list[str]] | None:
        return None if s.result is None else (s.result.confident, [r.id for r in s.result.results])

    by_question = {s.question: key(s) for s in b}
    return sum(1 for s in a if key(s) is not None and key(s) == by_question.get(s.question))


async def measure(base: str, token: str, questions: list[str], k: int) -> tuple[dict[str, str], dict[str, str], int]:
    # One connection per concurrent request, as many separate forum clients would open.
    limits = httpx.Limits(max_connections=len(questions), max_keepalive_connections=len(questions))
    async with httpx.AsyncClient(
        base_url=base,
        headers={"Authorization": f"Bearer {token}"},
        timeout=httpx.Timeout(600),
        limits=limits,
        trust_env=False,
    ) as client:
        for question in WARM_UP:  # first requests pay for lazy imports and cold caches; not counted
            warm = await ask(client, question, k)
            if warm.error:
                raise SystemExit(f"warm-up request failed: {warm.status} {warm.error}")
        baseline, baseline_wall = await one_at_a_time(client, questions, k)
        loaded, loaded_wall = await all_at_once(client, questions, k)
    return summary(loaded, loaded_wall), summary(baseline, baseline_wall), same_answers(loaded, baseline)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--questions", type=Path, default=QUESTIONS, help="one question a line (# comments)")
    parser.add_argument("--k", type=int, default=5, help="works per answer (the API's default is 5)")
    parser.add_argument("--startup-timeout", type=float, default=900, help="seconds to wait for the server")
    args = parser.parse_args()
    questions = load_questions(args.questions)
    load_before = os.getloadavg()

    with tempfile.TemporaryDirectory(prefix="alignbot-load-") as tmp:
        work = Path(tmp)  # also the working directory: no developer `.env` is read
        port = free_port()
        env = server_env(work / "data", port)
        token = create_token(env, work)
        log = work / "serve.log"
        started = time.perf_counter()
        with log.open("wb") as out:
            server = subprocess.Popen(
                alignbot("serve", "--host", "127.0.0.1", "--port", str(port)),
                env=env,
                cwd=work,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        base = f"http://127.0.0.1:{port}"
        try:
            wait_healthy(base, server, log, args.startup_timeout)
            ready_s = time.perf_counter() - started
            health = httpx.get(f"{base}/healthz", timeout=5, trust_env=False).json()
            loaded, baseline, agreeing = asyncio.run(measure(base, token, questions, args.k))
            rss = peak_rss_mb(server.pid)
        finally:
            server.send_signal(signal.SIGINT)  # uvicorn's graceful shutdown
            try:
                server.wait(timeout=60)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()
    load_after = os.getloadavg()

    n = len(questions)
    print(
        f"alignbot serve on {base}: SQLite + embedded Chroma + bundled MiniLM, {health['works']} works, "
        f"ready in {ready_s:.0f} s (first start: ingests and embeds the reading list), "
        f"peak RSS {f'{rss:.0f} MB' if rss else 'unknown'}"
    )
    print(
        f"rate limit raised for this run: ALIGNBOT_HTTP_RATE_BURST={RATE_BURST}, "
        f"ALIGNBOT_HTTP_RATE_PER_MINUTE={RATE_PER_MINUTE} (defaults 30 and 120 would answer 20 of 50 "
        "simultaneous requests with 429)"
    )
    print(
        f"machine: {os.cpu_count()} CPUs, load average {load_before[0]:.2f} before and {load_after[0]:.2f} after; "
        f"POST /v1/related with k={args.k}, {n} different questions ({args.questions.name}), 3 warm-up requests"
    )
    print()
    print(f"| measure | {n} concurrent | baseline: the same {n} one at a time |")
    print("|---|---|---|")
    for name in loaded:
        print(f"| {name} | {loaded[name]} | {baseline[name]} |")
    print(f"| answers equal to the baseline's (confidence and ranked works) | {agreeing}/{n} | |")
    print()
    print(json.dumps({"concurrent": loaded, "baseline": baseline, "agreeing": agreeing, "n": n}))


if __name__ == "__main__":
    main()

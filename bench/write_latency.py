"""Latency of a one-record `POST /v1/papers` on a large knowledge base with a backlog of pending vectors.

    nice -n 10 python bench/write_latency.py [--works 51000] [--pending 10000] [--posts 30] [--baseline-cap 60]

The knowledge base is generated without embedding (works and keys written in bulk, as the record phase would
store them): `--works` works of which `--pending` lack a vector; the others have a random unit vector (a write
never reads them; the vector store must merely agree with the database). The app is the real one
(`bot.http.app.create_app`), served by uvicorn on loopback, the client a real HTTP client.

- bounded (this version): each POST embeds the one work it stored; measured with the background worker idle
  and with it embedding the backlog in the same process (what `alignbot serve` does).
- baseline (before): the same write embedding every pending work, as writes did. One such request is run for
  at most `--baseline-cap` seconds; its time is extrapolated from the rate it embedded at.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

import httpx
import numpy as np

from bot.domain import IngestReport, WorkRecord
from bot.engine import Engine
from bot.http.app import create_app
from bot.http.config import ServerSettings
from bot.http.tokens import TokenStore
from bot.ingest.pipeline import new_work, record_keys
from bot.moderation.service import Moderator
from bot.processes import Background
from bot.settings import Settings
from tests.live_server import serve

TOPICS = ["reward hacking", "interpretability", "oversight", "deception", "robustness", "evaluations", "control"]


def generate(engine: Engine, works: int, pending: int, chunk: int = 5000) -> float:
    """Write `works` works and their keys in bulk; the first `works - pending` get a random unit vector in Chroma
    and are marked as embedded (so the store's repair agrees), the rest wait for theirs."""
    started = time.monotonic()
    rng = np.random.default_rng(0)
    dimension = engine.embedder.encode(["dimension"]).shape[1]
    store = engine.vectors  # opened (and checked against the database) while both are empty
    for start in range(0, works, chunk):
        new, keys = [], []
        for i in range(start, min(works, start + chunk)):
            topic = TOPICS[i % len(TOPICS)]
            record = WorkRecord(
                id=f"gen:{i}",
                title=f"Generated study {i} of {topic} in setting {i * 7919 % 100003}",
                authors=[f"A. Author{i % 997}", f"B. Writer{i % 389}"],
                year=1990 + i % 36,
                abstract=f"We examine {topic} under condition {i}.",
            )
            work = new_work(record, record.id or "")
            if i < works - pending:
                work.vector_hash = work.text_hash
            new.append(work)
            keys += [(key, work.id) for key in {*record_keys(record), f"id:{work.id}"}]
        engine.db.write_batch(new, [], keys)
        embedded = [work.id for work in new if work.vector_hash]
        vectors = rng.standard_normal((len(embedded), dimension)).astype(np.float32)
        store.upsert(embedded, vectors / np.linalg.norm(vectors, axis=1, keepdims=True))
    return time.monotonic() - started


def post_latencies(url: str, token: str, posts: int, prefix: str) -> list[float]:
    headers = {"Authorization": f"Bearer {token}"}
    latencies = []
    with httpx.Client(timeout=600) as client:
        for n in range(posts):
            record = {"id": f"{prefix}:{n}", "title": f"A new paper {prefix} {n} on scalable oversight", "year": 2026}
            started = time.monotonic()
            response = client.post(f"{url}/v1/papers", json={"records": [record]}, headers=headers)
            latencies.append(time.monotonic() - started)
            response.raise_for_status()
            assert response.json()["added"] == 1 and response.json()["embedded"] == 1, response.text
    return latencies


def summary(latencies: list[float]) -> dict[str, float]:
    return {
        "n": len(latencies),
        "p50_ms": round(statistics.median(latencies) * 1000, 1),
        "p95_ms": round(np.percentile(latencies, 95, method="nearest") * 1000, 1),
        "max_ms": round(max(latencies) * 1000, 1),
    }


def baseline(engine: Engine, cap: float) -> dict[str, float]:
    """Today's write (before this change): store the record, then embed everything pending, capped at `cap` s."""
    started = time.monotonic()
    stop_at = started + cap

    def capped(phase: str, _advance: int, _total: int | None) -> None:
        if phase == "embedding" and time.monotonic() > stop_at:
            raise KeyboardInterrupt

    pending = engine.db.count_needing_vectors() + 1
    report: IngestReport = engine.writer.write(
        lambda merger, rep, written: merger.store(
            [WorkRecord(id="base:1", title="A new paper base on scalable oversight")], rep, written=written
        ),
        "all",
        capped,
    )
    took = time.monotonic() - started
    rate = report.embedded / took if took else 0.0
    return {
        "pending": pending,
        "embedded_in_cap": report.embedded,
        "seconds_run": round(took, 1),
        "estimated_seconds": round(pending / rate, 1) if rate else float("inf"),
        "finished": not report.interrupted,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--works", type=int, default=51_000)
    parser.add_argument("--pending", type=int, default=10_000)
    parser.add_argument("--posts", type=int, default=30)
    parser.add_argument("--baseline-cap", type=float, default=60.0, help="Seconds the baseline request may run.")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="alignbot-writes-") as tmp:
        settings = Settings(data_dir=Path(tmp), load_bundled_knowledge=False, llm_provider=None)
        engine = Engine.open(settings)
        generated = generate(engine, args.works, args.pending)
        _info, token = TokenStore(engine.db).create("bench", ["read", "write"], rate_per_minute=1_000_000)
        app = create_app(engine, Moderator(engine), ServerSettings(open_reads=True))
        engine.embedder.encode(["warm-up"])
        _ = engine.vectors
        result: dict[str, object] = {
            "works": engine.db.count_works(),
            "pending_vectors": engine.db.count_needing_vectors(),
            "generated_in_s": round(generated, 1),
        }
        with serve(app) as url:
            post_latencies(url, token, 3, "warm")
            result["bounded_worker_idle"] = summary(post_latencies(url, token, args.posts, "idle"))
            background = Background(engine, "bench").start()
            time.sleep(3)  # the worker has started on the backlog
            result["bounded_worker_embedding"] = summary(post_latencies(url, token, args.posts, "busy"))
            background.stop()
            result["worker_embedded_meanwhile"] = background.worker.embedded if background.worker else 0
        result["baseline_embed_all_pending"] = baseline(engine, args.baseline_cap)
        engine.close()
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()

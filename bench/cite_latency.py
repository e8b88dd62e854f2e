"""Warm `cite` latency (Engine.cite, as the bots and the HTTP API call it) beside the baseline, in the same run.

The references are the labelled mentions of bench/mentions_labelled.jsonl (both splits), each cited once per
round. The baseline is this code with bm25s's `retrieve` called as before the fix (`n_threads=1`, which starts
a thread pool on every query); the two alternate reference by reference, so that a busy machine slows both
alike. Target (issue #11): p95 <= 20 ms warm on the 9k core KB.

The knowledge base is a data directory made by `alignbot ingest` (e.g. a copy of the core KB: the engine
writes its saved lexical index there). Usage: python bench/cite_latency.py --data-dir DIR [--rounds 3]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import bm25s

from bot.engine import Engine
from bot.settings import Settings

LABELLED = Path(__file__).parent / "mentions_labelled.jsonl"


@contextmanager
def thread_pool_per_query() -> Iterator[None]:
    """bm25s's retrieve as the baseline called it: `n_threads=1` runs each query in a new thread pool."""
    original = bm25s.BM25.retrieve

    def retrieve(self: bm25s.BM25, *args: object, **kwargs: object) -> object:
        kwargs["n_threads"] = 1
        kwargs.pop("backend_selection", None)
        return original(self, *args, **kwargs)

    bm25s.BM25.retrieve = retrieve  # type: ignore[method-assign]
    try:
        yield
    finally:
        bm25s.BM25.retrieve = original  # type: ignore[method-assign]


def timed_ms(call: Callable[[], object]) -> tuple[float, float]:
    """Wall and CPU (all threads: the baseline scores in a pool thread) milliseconds of one call."""
    started, cpu = time.perf_counter(), time.process_time()
    call()
    return (time.perf_counter() - started) * 1000, (time.process_time() - cpu) * 1000


def percentiles(times: list[float]) -> tuple[float, float, float]:
    """p50, p95, max."""
    return statistics.median(times), statistics.quantiles(times, n=20)[-1], max(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()

    records = [json.loads(line) for line in LABELLED.open(encoding="utf-8")]
    references = [r["text"][m["start"] : m["end"]] for r in records for m in r["mentions"]]
    engine = Engine.open(Settings.load(args.data_dir))
    started = time.perf_counter()
    engine.cite("warm-up")  # loads (or builds and saves) the lexical indexes
    print(f"{len(engine.resolver.corpus)} works; index ready in {time.perf_counter() - started:.1f} s", file=sys.stderr)
    for reference in references[:50]:
        engine.cite(reference)

    times: dict[str, list[tuple[float, float]]] = {"baseline (thread pool per query)": [], "now (n_threads=0)": []}
    for round_number in range(args.rounds):
        for i, reference in enumerate(references):
            now = lambda reference=reference: engine.cite(reference)  # noqa: E731
            first_baseline = (i + round_number) % 2 == 0
            for variant in ["baseline", "now"] if first_baseline else ["now", "baseline"]:
                if variant == "baseline":
                    with thread_pool_per_query():
                        times["baseline (thread pool per query)"].append(timed_ms(now))
                else:
                    times["now (n_threads=0)"].append(timed_ms(now))
    works = len(engine.resolver.corpus)
    engine.close()

    print(f"\nwarm `cite`, {len(references)} labelled references x {args.rounds} rounds, {works} works")
    print("| code | p50 wall | p95 wall | max wall | p50 CPU | p95 CPU |\n|---|---|---|---|---|---|")
    for name, values in times.items():
        p50, p95, worst = percentiles([wall for wall, _ in values])
        cpu50, cpu95, _ = percentiles([cpu for _, cpu in values])
        print(f"| {name} | {p50:.1f} ms | {p95:.1f} ms | {worst:.0f} ms | {cpu50:.1f} ms | {cpu95:.1f} ms |")


if __name__ == "__main__":
    main()

"""Cost of bringing the lexical index up to date after a write, beside the full rebuild it replaces, in the
same run on the same knowledge base.

Baseline: `CorpusIndex.build` (what every process did after any write before the generation counter). Measured:
`CorpusIndex.follow` after writes of 1, 10 and 100 works (read the generation and the change log, fetch the
changed works, update the lookups and the BM25 delta); loading the saved index when unchanged; the cheap
generation check every read makes; and query latency with a delta beside none. The 51k figures are linear
extrapolations of the measured parts that grow with the knowledge base (a rebuild; the copy an update makes).

The knowledge base is written to (synthetic works, made up here): run it on a copy, e.g.
`cp -a /work/wt/corekb /tmp/kb`.

Usage: nice -n 10 python bench/index_update.py --data-dir /tmp/kb [--runs 3]
"""

from __future__ import annotations

import argparse
import gc
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path

from bot.engine import Engine
from bot.retrieval.corpus import CorpusIndex
from bot.settings import Settings

QUERIES = ["reward hacking in reinforcement learning", "sleeper agents", "chain of thought faithfulness"]
TARGET_WORKS = 51_000


def timed(action: Callable[[], object], runs: int) -> tuple[float, object]:
    """Median wall seconds of `runs` calls, and the last result."""
    times, result = [], None
    for _ in range(runs):
        gc.collect()  # a collection of the previous run's garbage is not this run's cost
        start = time.perf_counter()
        result = action()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def synthetic(prefix: str, count: int) -> list[dict[str, object]]:
    return [
        {
            "id": f"bench:{prefix}:{n}",
            "title": f"Incremental index benchmark work {prefix} number {n} on reward modelling",
            "authors": ["Bench Marker"],
            "year": 2026,
            "abstract": "A synthetic record written by bench/index_update.py to measure index updates.",
        }
        for n in range(count)
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    engine = Engine.open(Settings(data_dir=args.data_dir, load_bundled_knowledge=False))
    db = engine.db
    works = db.count_works()
    print(f"knowledge base: {works} works ({db.engine.url.render_as_string(hide_password=True)})")

    rebuild, index = timed(lambda: CorpusIndex.build(db), args.runs)
    assert isinstance(index, CorpusIndex)
    print(f"baseline  full rebuild (CorpusIndex.build)          {rebuild * 1000:9.1f} ms")

    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "index.pickle"
        index.save(path)
        load, _ = timed(lambda: CorpusIndex.load_or_build(db, path), args.runs)
    check, _ = timed(db.generation, 20)
    print(f"load saved index, unchanged (load_or_build)         {load * 1000:9.1f} ms")
    print(f"generation check (one primary-key read)             {check * 1000:9.2f} ms")

    _ = [index.full.search(q, 100) for q in QUERIES]  # warm: the first query pays one-time costs
    search_plain, _ = timed(lambda: [index.full.search(q, 100) for q in QUERIES], args.runs)
    prefix = uuid.uuid4().hex[:8]
    updates: dict[int, float] = {}
    current = index
    for count in (1, 10, 100):
        engine.ingest_records(synthetic(f"{prefix}-{count}", count), embed=False)
        # Every run follows from the same old index: the work is the same each time.
        base = current
        seconds, followed = timed(lambda base=base: base.follow(db), args.runs)  # type: ignore[misc]
        assert isinstance(followed, CorpusIndex) and followed.full.delta_size >= base.full.delta_size + count
        updates[count] = seconds
        current = followed
        print(f"incremental update after a write of {count:3d} works   {seconds * 1000:9.1f} ms")
    search_delta, _ = timed(lambda: [current.full.search(q, 100) for q in QUERIES], args.runs)
    delta = current.full.delta_size
    per_query = (search_delta - search_plain) / len(QUERIES)
    print(
        f"query, no delta / delta of {delta} works            {search_plain / len(QUERIES) * 1000:6.2f} ms / "
        f"{search_delta / len(QUERIES) * 1000:6.2f} ms ({per_query * 1000:+.2f} ms)"
    )

    scale = TARGET_WORKS / works
    print(f"\nat {TARGET_WORKS} works (linear extrapolation):")
    print(f"  full rebuild                 ~{rebuild * scale:7.2f} s")
    print(
        f"  update after 1 / 100 works   ~{updates[1] * scale * 1000:7.1f} ms / ~{updates[100] * scale * 1000:.1f} ms"
    )
    print(f"  speed-up for a 1-work write   {rebuild / updates[1]:7.0f}x (measured here)")


if __name__ == "__main__":
    main()

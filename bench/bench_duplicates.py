"""Near-duplicate check latency against 100,000 stored posts: windowed MinHash/LSH + exact confirmation,
next to brute-force exact containment measured in the same run.

Stored posts are generated at run time from the 100 real EA Forum posts in
../shared/data/ea_forum_posts_sample_2025 (never copied into the repo): each strings together runs of 1–3
real sentences drawn from all bodies (150–1,200 words) with 3% of its words replaced, so posts share
phrases and sentences the way posts on the same topics do, without being copies of each other. Queries
are what moderators see: light edits (5% of words) of stored posts, excerpts (half, at least 200 words)
of stored posts, and new text (the test fixtures' posts) that matches nothing. A duplicate query is
answered correctly when its source post is among the confirmed matches (containment or Jaccard >= 0.5);
a new text when nothing reaches 0.5.

    python bench/bench_duplicates.py                 # 100,000 posts, 200 queries
    python bench/bench_duplicates.py --posts 20000   # quicker
"""

from __future__ import annotations

import argparse
import gc
import json
import re
import resource
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bot.moderation.shingles import (  # noqa: E402
    BandIndex,
    Shingled,
    SketchParams,
    overlap,
    query_windows,
    shingle,
    sketch,
    stored_windows,
)

DEFAULT_SOURCE = REPO.parent / "shared" / "data" / "ea_forum_posts_sample_2025" / "posts.jsonl"
FRESH_TEXTS = REPO / "tests" / "moderation" / "fixtures" / "texts"


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def perturb(words: list[str], rate: float, vocab: list[str], rng: np.random.Generator) -> list[str]:
    out = list(words)
    for i in np.nonzero(rng.random(len(out)) < rate)[0]:
        out[i] = vocab[rng.integers(len(vocab))]
    return out


def make_post(sentences: list[str], vocab: list[str], rng: np.random.Generator) -> str:
    target = int(rng.integers(150, 1200))
    parts: list[str] = []
    words = 0
    while words < target:
        start = int(rng.integers(len(sentences)))
        run = sentences[start : start + int(rng.integers(1, 4))]
        parts.extend(run)
        words += sum(len(r.split()) for r in run)
    return " ".join(perturb(" ".join(parts).split()[:target], 0.03, vocab, rng))


def stored(hashes: np.ndarray, params: SketchParams) -> Shingled:
    """A stored post as `overlap` reads it, rebuilt from its shingle hashes (its words are not needed)."""
    return Shingled([], np.arange(len(hashes) + params.shingle_size - 1), hashes, params.shingle_size)


def check(
    index: BandIndex, shingles: list[np.ndarray], text: str, params: SketchParams, limit: int
) -> dict[int, float]:
    """What `Moderator.check` does for duplicates: shingle, sketch, LSH lookup, aligned confirmation."""
    q = shingle(text, params.shingle_size)
    candidates = index.query(sketch(query_windows(q, params), params), limit=limit)
    confirmed = {}
    for name, _hits in candidates:
        o = overlap(q, stored(shingles[int(name)], params))
        if max(o.containment, o.jaccard) >= 0.5:
            confirmed[int(name)] = max(o.containment, o.jaccard)
    return confirmed


def brute_force(
    all_hashes: np.ndarray, owner: np.ndarray, n_posts: int, text: str, params: SketchParams
) -> dict[int, float]:
    """Exact containment of the query in every stored post, vectorised over one flat array."""
    q = shingle(text, params.shingle_size)
    mask = np.isin(all_hashes, q.unique)
    containment = np.bincount(owner[mask], minlength=n_posts) / max(1, len(q))
    return {int(i): float(containment[i]) for i in np.nonzero(containment >= 0.5)[0]}


def correct(confirmed: dict[int, float], expected: int | None) -> bool:
    return expected in confirmed if expected is not None else not confirmed


def pct(values: list[float], q: float) -> float:
    return float(np.percentile(values, q)) if values else float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--posts", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--baseline-queries", type=int, default=20)
    parser.add_argument("--source", type=Path, default=DEFAULT_SOURCE)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    if not args.source.is_file():
        sys.exit(f"{args.source}: not found (the EA Forum sample lives in ../shared/data)")

    params = SketchParams()
    rng = np.random.default_rng(args.seed)
    bodies = [json.loads(line)["body"] for line in args.source.open(encoding="utf-8")]
    sentences = [s for body in bodies for s in re.split(r"(?<=[.!?])\s+", " ".join(body.split())) if s]
    vocab = sorted({w for body in bodies for w in body.split()})

    print(
        f"building {args.posts:,} posts from {len(sentences):,} sentences of {len(bodies)} real posts …",
        file=sys.stderr,
    )
    t0 = time.perf_counter()
    index = BandIndex(params)
    shingles: list[np.ndarray] = []
    texts: dict[int, str] = {}
    sources = set(rng.choice(args.posts, size=args.queries, replace=False).tolist())
    words_total = 0
    for i in range(args.posts):
        text = make_post(sentences, vocab, rng)
        s = shingle(text, params.shingle_size)
        words_total += len(s.hashes)
        index.add(str(i), sketch(stored_windows(s, params), params))
        shingles.append(s.hashes)
        if i in sources:
            texts[i] = text
        if (i + 1) % 20_000 == 0:
            print(f"  {i + 1:,} posts, {time.perf_counter() - t0:.0f}s", file=sys.stderr)
    index.query(np.zeros((1, params.bands), dtype=np.uint64))  # merge into the sorted arrays now
    build = time.perf_counter() - t0

    # Queries: a third light edits of stored posts, a third excerpts of stored posts, a third new text.
    fresh = [p.read_text(encoding="utf-8") for p in sorted(FRESH_TEXTS.glob("*.md"))]
    queries: list[tuple[str, str, int | None]] = []
    for n, i in enumerate(sorted(sources)):
        kind = ("edited copy", "excerpt", "new text")[n % 3]
        words = texts[i].split()
        if kind == "edited copy":
            queries.append((kind, " ".join(perturb(words, 0.05, vocab, rng)), i))
        elif kind == "excerpt":
            length = max(200, len(words) // 2)
            start = int(rng.integers(0, max(1, len(words) - length)))
            queries.append((kind, " ".join(words[start : start + length]), i))
        else:
            queries.append((kind, fresh[n % len(fresh)], None))

    for _kind, text, _ in queries[:5]:  # warm caches as a long-running bot would be
        check(index, shingles, text, params, 30)
    latencies: dict[str, list[float]] = {"all": []}
    found: dict[str, list[bool]] = {}
    for kind, text, expected in queries:
        t = time.perf_counter()
        confirmed = check(index, shingles, text, params, 30)
        ms = (time.perf_counter() - t) * 1000
        latencies["all"].append(ms)
        latencies.setdefault(kind, []).append(ms)
        found.setdefault(kind, []).append(correct(confirmed, expected))

    print("building the brute-force baseline (one flat array of every shingle) …", file=sys.stderr)
    unique = [np.unique(s) for s in shingles]
    all_hashes = np.concatenate(unique)
    owner = np.repeat(np.arange(len(unique), dtype=np.int32), [len(s) for s in unique])
    gc.collect()
    base_lat: list[float] = []
    base_ok: list[bool] = []
    for _kind, text, expected in queries[: args.baseline_queries]:
        t = time.perf_counter()
        confirmed = brute_force(all_hashes, owner, len(shingles), text, params)
        base_lat.append((time.perf_counter() - t) * 1000)
        base_ok.append(correct(confirmed, expected))

    print()
    print(
        f"stored posts: {args.posts:,} ({words_total / args.posts:,.0f} shingles each on average), "
        f"LSH windows: {index.windows:,}, params: {params.tag}"
    )
    print(
        f"LSH build: {build:.1f}s for all posts; band index {index.nbytes() / 2**20:,.0f} MiB; "
        f"peak RSS {rss_mb():,.0f} MiB"
    )
    print()
    header = f"{'method':44} {'queries':>7} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8} {'correct':>8}"
    print(header)
    print("-" * len(header))
    for kind in ("edited copy", "excerpt", "new text"):
        lat = latencies.get(kind, [])
        ok = found.get(kind, [])
        print(
            f"{'MinHash/LSH + exact confirmation: ' + kind:44} {len(lat):>7} {pct(lat, 50):>8.1f} "
            f"{pct(lat, 95):>8.1f} {max(lat, default=0):>8.1f} {sum(ok):>4}/{len(ok):<3}"
        )
    lat = latencies["all"]
    all_ok = [x for v in found.values() for x in v]
    print(
        f"{'MinHash/LSH + exact confirmation: all':44} {len(lat):>7} {pct(lat, 50):>8.1f} {pct(lat, 95):>8.1f} "
        f"{max(lat):>8.1f} {sum(all_ok):>4}/{len(all_ok):<3}"
    )
    print(
        f"{'brute-force exact containment (numpy)':44} {len(base_lat):>7} {pct(base_lat, 50):>8.1f} "
        f"{pct(base_lat, 95):>8.1f} {max(base_lat, default=0):>8.1f} {sum(base_ok):>4}/{len(base_ok):<3}"
    )


if __name__ == "__main__":
    main()

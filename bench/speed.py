"""Speed and memory on this machine, each next to a baseline measured in the same run.

- ingest docs/s over ../shared/data/kb/alignment_core.jsonl vs the raw encode rate of the same model
  on the same texts (target: ingest >= 90% of raw encode);
- warm `ask` p95 (target <= 150 ms) and `cite` p95 (target <= 50 ms) over that corpus;
- peak memory (max RSS);
- with --full: the 51k-record alignment_kb.jsonl.gz, time until lexical search works and total time.

Usage: python bench/speed.py [--full] [--sample N]
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from bot.embedding import embedder_for
from bot.engine import Engine
from bot.ingest.parsers import parse_path
from bot.ingest.pipeline import new_work
from bot.retrieval.corpus import embedding_text
from bot.settings import Settings

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
CORE = SHARED / "kb" / "alignment_core.jsonl"
FULL = SHARED / "kb" / "alignment_kb.jsonl.gz"
AGENDAS = SHARED / "shallow_review_2025_ai_safety" / "agenda_queries.jsonl"
MENTIONS = SHARED / "shallow_review_2025_ai_safety" / "informal_link_mentions.jsonl"


def settings_for(data_dir: Path) -> Settings:
    return Settings(
        data_dir=data_dir, load_bundled_knowledge=False, database_url=None, chroma_host=None, llm_provider=None
    )


def raw_encode_rate(texts: list[str]) -> float:
    settings = Settings()
    embedder = embedder_for(settings)
    embedder.encode(texts[:64])  # warm-up
    start = time.perf_counter()
    for i in range(0, len(texts), 256):  # the same batch size the pipeline hands the model
        embedder.encode(texts[i : i + 256])
    return len(texts) / (time.perf_counter() - start)


def timed_calls(fn, inputs: list[str]) -> list[float]:  # type: ignore[no-untyped-def]
    times = []
    for item in inputs:
        start = time.perf_counter()
        fn(item)
        times.append((time.perf_counter() - start) * 1000)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--full", action="store_true", help="also ingest the 51k-record knowledge base")
    parser.add_argument("--full-only", action="store_true", help="only the 51k-record knowledge base")
    parser.add_argument("--sample", type=int, default=2000, help="texts for the raw encode baseline")
    args = parser.parse_args()
    rows: list[tuple[str, str, str, str]] = []

    if not args.full_only:
        rows += core_rows(args.sample)
    if args.full or args.full_only:
        rows += full_rows()
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    rows.append(("peak memory (max RSS)", f"{peak_mb:.0f} MB", "", ""))
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    header = ("measure", "alignbot", "baseline (same run)", "note")
    widths = [max(w, len(h)) for w, h in zip(widths, header, strict=True)]
    for row in [header, tuple("-" * w for w in widths), *rows]:
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)))
    sys.stdout.flush()


def core_rows(sample_size: int) -> list[tuple[str, str, str, str]]:
    rows: list[tuple[str, str, str, str]] = []
    records = [item for _, item in parse_path(CORE) if not isinstance(item, Exception)]
    sample = random.Random(7).sample(records, min(sample_size, len(records)))
    texts = [embedding_text(new_work(r, r.id or "x")) for r in sample]
    encode_rate = raw_encode_rate(texts)

    with tempfile.TemporaryDirectory() as tmp:
        engine = Engine.open(settings_for(Path(tmp)))
        start = time.perf_counter()
        report = engine.ingest([CORE])
        ingest_seconds = time.perf_counter() - start
        works = engine.db.count_works()
        ingest_rate = report.read / ingest_seconds
        rows.append(
            (
                "ingest alignment_core (docs/s)",
                f"{ingest_rate:.1f}",
                f"raw encode {encode_rate:.1f}",
                f"{ingest_rate / encode_rate:.0%} of raw (target >= 90%)",
            )
        )
        rows.append(
            (
                "ingest alignment_core (total)",
                f"{ingest_seconds:.0f} s",
                f"{report.read} records",
                f"{works} works after merging",
            )
        )

        engine.warm_up()
        agendas = [json.loads(line)["query"] for line in AGENDAS.open()]
        questions = [
            *agendas,
            "chain of thought faithfulness",
            "sleeper agents",
            "reward hacking in RL",
            "sparse autoencoders",
            "scalable oversight with debate",
            "AI control protocols",
            "situational awareness evals",
        ]
        for q in questions[:5]:
            engine.ask(q)
        ask_ms = timed_calls(lambda q: engine.ask(q, k=5), questions)
        anchors = list(dict.fromkeys(json.loads(line)["anchor_text"] for line in MENTIONS.open()))
        references = [
            *anchors,
            "Turpin et al. 2023",
            "Jacovi & Goldberg",
            "arXiv:2305.04388",
            "the sleeper agents paper",
        ]
        for r in references[:5]:
            engine.cite(r)
        cite_ms = timed_calls(engine.cite, references)
        # Baseline for ask: the bare dense lookup (encode the query + one Chroma query), which ask contains.
        dense_ms = timed_calls(lambda q: engine.vectors.query(engine.embedder.encode([q])[0], 100), questions)
        p50, p95 = np.percentile(ask_ms, [50, 95], method="nearest")
        rows.append(
            (
                "warm ask (ms)",
                f"p50 {p50:.0f}, p95 {p95:.0f}",
                f"dense lookup alone p95 {np.percentile(dense_ms, 95, method='nearest'):.0f}",
                "target p95 <= 150",
            )
        )
        lexical_ms = timed_calls(lambda r: engine.corpus.title_index.search(r, 40), references)
        p50, p95 = np.percentile(cite_ms, [50, 95], method="nearest")
        rows.append(
            (
                "warm cite (ms)",
                f"p50 {p50:.1f}, p95 {p95:.1f}",
                f"title BM25 alone p95 {np.percentile(lexical_ms, 95, method='nearest'):.1f}",
                "target p95 <= 50",
            )
        )
        engine.close()

    return rows


def full_rows() -> list[tuple[str, str, str, str]]:
    rows: list[tuple[str, str, str, str]] = []
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        engine = Engine.open(settings_for(Path(tmp)))
        phase1 = engine.ingest([FULL], embed=False)
        hits = engine.corpus.full.search("deceptive alignment", 10)
        searchable = time.perf_counter() - start
        embedded = engine.embed_pending()
        total = time.perf_counter() - start
        rows.append(
            (
                "alignment_kb.jsonl.gz: lexical search ready",
                f"{searchable:.0f} s",
                f"{phase1.read} records, {len(hits)} hits",
                "target < 60 s",
            )
        )
        rows.append(
            (
                "alignment_kb.jsonl.gz: fully ingested",
                f"{total / 60:.1f} min",
                f"{embedded.embedded / (total - searchable):.1f} docs/s embedding",
                "target < 15 min",
            )
        )
        engine.close()
    return rows


if __name__ == "__main__":
    main()

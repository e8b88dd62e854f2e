"""Throughput of `alignbot sync arxiv` against a fake OAI-PMH server serving 10,000 generated records.

    nice -n 10 python bench/sync_speed.py [--records 10000] [--page 1000]

The fake answers like arXiv's OAI-PMH interface (arXiv metadata format, 1,000 records a page with resumption
tokens, as arXiv pages them) with no pacing: what is measured is our side, records per second harvested,
parsed, filtered and stored. Against the real arXiv a page costs at least 3 s (its terms), i.e. at most
~333 records/s arrive. In the same run, baselines: the same records ingested from a JSON Lines file (today's
way of adding papers in bulk, records only), and a sync without the relevance filter (category only).
Vectors of the stored works are computed afterwards (as `sync` and `ingest` do): timed apart, for the filtered run
only (for the others they are the same encoding work, 10,000 texts, that bench/speed.py measures).
"""

from __future__ import annotations

import argparse
import json
import random
import tempfile
import time
from pathlib import Path

from bot.embedding import embedder_for
from bot.engine import Engine
from bot.settings import REPO_ROOT, Settings
from bot.sync.filter import RelevanceFilter, file_profile
from bot.sync.service import sync_arxiv
from tests.sync.fakes import FakeOAI, Paper

READING_LIST = REPO_ROOT / "knowledge" / "reading_list.jsonl"  # the profile `--topics` uses, from its file
SAFETY = [
    "deceptive alignment",
    "reward hacking",
    "chain-of-thought faithfulness",
    "sparse autoencoder features",
    "scalable oversight via debate",
    "jailbreak robustness",
    "sycophancy in RLHF",
    "dangerous capability evaluations",
]
OTHER = [
    "protein structure prediction",
    "machine translation for low-resource languages",
    "table question answering",
    "vehicle routing",
    "clinical named entity recognition",
    "speech recognition",
    "code completion latency",
    "recommender systems",
    "time-series forecasting",
    "graph partitioning",
]


def generated(n: int, share_on_topic: float = 0.1) -> list[Paper]:
    """Papers with titles and abstracts made from topic phrases; about `share_on_topic` of them on our topics."""
    rng = random.Random(7)
    papers = []
    for i in range(n):
        topic = rng.choice(SAFETY) if rng.random() < share_on_topic else rng.choice(OTHER)
        other = rng.choice(OTHER)
        title = f"On {topic}: a study of {other} number {i}"
        abstract = (
            f"We study {topic} in large models. Our method improves {other} by {rng.randint(2, 40)} percent "
            f"over strong baselines on {rng.randint(3, 12)} benchmarks, and we release code and data."
        )
        author = [("Ada", f"Author{i % 997}")]
        papers.append(Paper(f"2611.{10000 + i:05d}", title, abstract, authors=author, datestamp="2026-11-21"))
    return papers


def as_jsonl(papers: list[Paper], path: Path) -> None:
    with path.open("w", encoding="utf-8") as handle:
        for p in papers:
            record = {"id": f"arxiv:{p.arxiv_id}", "title": p.title, "abstract": p.abstract, "authors": ["Ada X"]}
            handle.write(json.dumps(record) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--records", type=int, default=10_000)
    parser.add_argument("--page", type=int, default=1000)
    args = parser.parse_args()

    papers = generated(args.records)
    fake = FakeOAI(papers, page_size=args.page)
    defaults = Settings()
    embedder = embedder_for(defaults)
    print(f"{args.records} records, {args.page} a page, fake OAI-PMH on 127.0.0.1, no pacing", flush=True)
    print(f"{'':42} {'read':>6} {'stored':>7} {'seconds':>8} {'records/s':>10} {'embedding s':>12}", flush=True)

    def row(label: str, read: int, stored: int, seconds: float, embedding: str = "") -> None:
        print(f"{label:42} {read:6d} {stored:7d} {seconds:8.1f} {read / seconds:10.0f} {embedding:>12}", flush=True)

    with tempfile.TemporaryDirectory(prefix="sync-bench-") as directory:

        def engine(name: str) -> Engine:
            settings = Settings(
                data_dir=Path(directory) / name,
                arxiv_oai_url=fake.url,
                arxiv_min_interval_seconds=0.0,
                llm_provider=None,
                load_bundled_knowledge=False,
            )
            return Engine.open(settings, embedder=embedder)

        # Baseline: the same records from a file.
        kb = engine("file")
        source = Path(directory) / "records.jsonl"
        as_jsonl(papers, source)
        started = time.perf_counter()
        report = kb.ingest([source], embed=False)
        row("ingest from a JSON Lines file (baseline)", report.read, report.added, time.perf_counter() - started)
        kb.close()

        for label, filtered in (("sync, category only (no filter)", False), ("sync with the relevance filter", True)):
            kb = engine(label.split()[-1])
            relevance = (
                RelevanceFilter(embedder, file_profile(READING_LIST), defaults.metadata.sync_relevance_threshold)
                if filtered
                else None
            )
            started = time.perf_counter()
            (result,) = sync_arxiv(kb, ["cs.AI"], since="2026-11-01", relevance=relevance)
            seconds = time.perf_counter() - started
            embedding = ""
            if filtered:
                started = time.perf_counter()
                kb.embed_pending()
                embedding = f"{time.perf_counter() - started:.1f}"
            row(label, result.seen, result.added, seconds, embedding)
            kb.close()
    fake.stop()


if __name__ == "__main__":
    main()

"""Warm `ask` latency of this checkout beside another (e.g. `main`), paired question by question, same run.

Two worker processes, one per checkout, each over its own copy of a knowledge base, answer the same
questions in turns (the order within each pair alternates), so both see the same machine load at the same
moments. Each worker times `engine.ask(question, k)` itself (no pipe overhead) and reports the top-k ids,
so the run also proves whether the rankings are the same. Questions: the agenda queries, the confidence
questions and bench/questions.txt (about 300).

    python bench/ask_latency.py --kb DIR [--baseline-code DIR] [--profile N]
    python bench/ask_latency.py --kb CORE_KB --make-large DIR    (the 51k-work KB for timing; see make_large_kb)

--kb: a knowledge base (a data directory with the SQLite database and embedded Chroma, e.g. a copy of the one
bench/quality.py builds); it is copied per worker, never written. --baseline-code: the checkout to compare
with (its `bot` package is put first on the path); without it only this checkout is timed. --profile N
prints cProfile's top functions over N questions in this process instead.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import pstats
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared" / "data"
AGENDAS = SHARED / "shallow_review_2025_ai_safety" / "agenda_queries.jsonl"
BENCH = Path(__file__).resolve().parent
# Not among the timed questions: a question asked twice would be answered from the query-vector cache.
WARM_UP = ["reward model overoptimization", "honesty of language models", "interpretability of attention heads"]


def questions() -> list[str]:
    found = []
    if AGENDAS.exists():
        found += [json.loads(line)["query"] for line in AGENDAS.open(encoding="utf-8") if line.strip()]
    found += [json.loads(line)["question"] for line in (BENCH / "confidence_questions.jsonl").open(encoding="utf-8")]
    lines = (BENCH / "questions.txt").read_text(encoding="utf-8").splitlines()
    found += [line.strip() for line in lines if line.strip() and not line.startswith("#")]
    return list(dict.fromkeys(found))


def open_engine(data_dir: Path):  # type: ignore[no-untyped-def]
    from bot.engine import Engine
    from bot.settings import Settings

    settings = Settings(
        data_dir=data_dir, load_bundled_knowledge=False, database_url=None, chroma_host=None, llm_provider=None
    )
    engine = Engine.open(settings)
    engine.warm_up()
    return engine


def serve(data_dir: Path, k: int) -> None:
    """Worker: one question a line on stdin, one JSON line back (milliseconds and the top-k ids)."""
    engine = open_engine(data_dir)
    for question in WARM_UP:
        engine.ask(question, k=k)
    import bot

    print(json.dumps({"ready": True, "code": str(Path(bot.__file__).parent.parent)}), flush=True)
    for line in sys.stdin:
        question = json.loads(line)
        start, cpu_start = time.perf_counter(), time.process_time()
        result = engine.ask(question, k=k)
        ms, cpu_ms = (time.perf_counter() - start) * 1000, (time.process_time() - cpu_start) * 1000
        # Untimed: the dense candidates, to tell a ranking change from Chroma's approximate index answering
        # differently (vectors still in its log are added to the graph anew on each open: not reproducible).
        searcher = engine.searcher
        vector = engine.embedder.encode([searcher.expander.expand(question)])[0]
        dense = engine.vectors.query(vector, searcher.pool)
        ids = [w.id for w in result.results]
        print(json.dumps({"ms": ms, "cpu_ms": cpu_ms, "ids": ids, "dense": dense}), flush=True)


def make_large_kb(target: Path, core_kb: Path) -> None:
    """A 51k-work knowledge base for timing: bench/mentions_kb.py's `full` records (alignment_kb.jsonl.gz and
    the reading list), with the core KB's vectors for the works both hold and random unit vectors for the rest
    (embedding 41k more works takes most of an hour of this machine). Rankings over it mean nothing."""
    from mentions_kb import open_kb

    target.mkdir(parents=True, exist_ok=True)
    database = target / "alignbot.sqlite3"
    if not database.exists():
        shutil.copyfile(Path(open_kb("full").url.removeprefix("sqlite:///")), database)
    engine, core = open_engine(target), open_engine(core_kb)
    ids = engine.corpus.ids
    rng = np.random.default_rng(51)
    copied = 0
    for start in range(0, len(ids), 2000):
        chunk = [work_id for work_id in ids[start : start + 2000] if work_id in engine.corpus.position]
        known = core.vectors.get(chunk)
        copied += len(known)
        random = rng.standard_normal((len(chunk), 384)).astype(np.float32)
        random /= np.linalg.norm(random, axis=1, keepdims=True)
        engine.vectors.upsert(chunk, np.stack([known.get(w, r) for w, r in zip(chunk, random, strict=True)]))
    print(f"{target}: {engine.vectors.count()} vectors, {copied} of them the core KB's", file=sys.stderr)


class Worker:
    def __init__(self, name: str, code: Path, kb: Path, scratch: Path, k: int) -> None:
        self.name = name
        data_dir = scratch / name
        shutil.copytree(kb, data_dir, ignore=shutil.ignore_patterns("*.lock"))
        env = {**os.environ, "PYTHONPATH": str(code)}
        command = [sys.executable, str(Path(__file__).resolve()), "--serve", str(data_dir), "--k", str(k)]
        self.process = subprocess.Popen(
            command, env=env, cwd=code, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )
        self.ms: list[float] = []
        self.cpu_ms: list[float] = []  # CPU time of the whole process (the model's threads included)
        self.ids: dict[str, list[str]] = {}
        self.dense: dict[str, list[list]] = {}

    def ready(self) -> None:
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        if not line or not json.loads(line).get("ready"):
            raise SystemExit(f"{self.name}: worker failed to start")
        print(f"{self.name}: bot from {json.loads(line)['code']}", file=sys.stderr)

    def ask(self, question: str) -> None:
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.write(json.dumps(question) + "\n")
        self.process.stdin.flush()
        reply = json.loads(self.process.stdout.readline())
        self.ms.append(reply["ms"])
        self.cpu_ms.append(reply["cpu_ms"])
        self.ids[question] = reply["ids"]
        self.dense[question] = reply["dense"]

    def close(self) -> None:
        assert self.process.stdin is not None
        self.process.stdin.close()
        self.process.wait(timeout=60)


def profile(kb: Path, k: int, count: int) -> None:
    with tempfile.TemporaryDirectory() as scratch:
        data_dir = Path(scratch) / "kb"
        shutil.copytree(kb, data_dir, ignore=shutil.ignore_patterns("*.lock"))
        engine = open_engine(data_dir)
        asked = questions()
        for question in WARM_UP:
            engine.ask(question, k=k)
        profiler = cProfile.Profile()
        start = time.perf_counter()
        profiler.enable()
        for question in asked[:count]:
            engine.ask(question, k=k)
        profiler.disable()
        count = min(count, len(asked))
        print(f"{count} asks: {(time.perf_counter() - start) * 1000 / count:.1f} ms each")
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(45)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--kb", type=Path, help="knowledge base data directory (copied, never written)")
    parser.add_argument("--baseline-code", type=Path, help="checkout to compare with (e.g. main)")
    parser.add_argument("--k", type=int, default=5)
    parser.add_argument("--profile", type=int, metavar="N", help="cProfile N asks of this checkout instead")
    parser.add_argument("--make-large", type=Path, metavar="DIR", help="build the 51k-work timing KB in DIR from --kb")
    parser.add_argument("--serve", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        return serve(args.serve, args.k)
    if args.kb is None:
        parser.error("--kb is required")
    if args.make_large:
        return make_large_kb(args.make_large, args.kb)
    if args.profile:
        return profile(args.kb, args.k, args.profile)
    asked = questions()
    with tempfile.TemporaryDirectory() as scratch:
        workers = [Worker("this checkout", REPO, args.kb, Path(scratch), args.k)]
        if args.baseline_code:
            workers.append(Worker("baseline", args.baseline_code.resolve(), args.kb, Path(scratch), args.k))
        for worker in workers:
            worker.ready()
        load_before = os.getloadavg()
        for n, question in enumerate(asked):
            for worker in workers if n % 2 == 0 else workers[::-1]:
                worker.ask(question)
        load_after = os.getloadavg()
        for worker in workers:
            worker.close()
    load = f"load average {load_before[0]:.1f} -> {load_after[0]:.1f}"
    print(f"{len(asked)} different questions, each asked once, k={args.k}, warm; {load}")
    for worker in workers:
        wall_50, wall_95 = np.percentile(worker.ms, [50, 95], method="nearest")
        cpu_50, cpu_95 = np.percentile(worker.cpu_ms, [50, 95], method="nearest")
        wall = f"p50 {wall_50:6.1f} ms  p95 {wall_95:6.1f} ms"
        cpu = f"p50 {cpu_50:5.1f} ms  p95 {cpu_95:5.1f} ms"
        print(f"{worker.name:14} wall {wall}  max {max(worker.ms):6.1f} ms | CPU {cpu}")
    if len(workers) == 2:
        ours, base = workers
        comparable = [q for q in asked if ours.dense[q] == base.dense[q]]
        different = [q for q in comparable if ours.ids[q] != base.ids[q]]
        print(
            f"same top-{args.k} ids (in order) on {len(comparable) - len(different)} of the {len(comparable)} "
            f"questions whose dense candidates Chroma returned identically to both "
            f"({len(asked) - len(comparable)} others: its approximate index differed between the two opens)"
        )
        print(f"  all questions, whatever Chroma returned: {sum(ours.ids[q] == base.ids[q] for q in asked)} same")
        for question in different[:10]:
            print(f"  differs: {question[:70]!r}\n    this: {ours.ids[question]}\n    base: {base.ids[question]}")


if __name__ == "__main__":
    main()

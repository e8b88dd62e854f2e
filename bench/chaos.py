"""Chaos: four processes on one knowledge base, writers killed with SIGKILL, and what is left checked exactly.

    nice -n 10 python bench/chaos.py [--duration 120] [--kills 2] [--records 400] [--database-url URL]
        [--chroma-host H --chroma-port P] [--bundled]

Processes: two `alignbot ingest` of overlapping files, `alignbot serve` taking one-record `POST /v1/papers`
continuously (some of them records the files hold too) and running the background embedding worker, and a
reader process citing and asking continuously. Twice, at random moments, one writer (an ingest or the server)
is killed with SIGKILL and started again, as an operator or a supervisor would. At the end the ingests finish,
the worker embeds what is pending, and the result is checked:

- survivors: no process that was not killed exits with an error; the server stops within 2 s of SIGTERM;
- every work is stored once (the expected ids exactly, no `#2` duplicates) with one vector (Chroma's ids are
  the database's), none pending;
- the reader never got an error, and no POST got a 5xx.

`tests/test_chaos.py` runs a shorter version on the test's backends.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

REPO = Path(__file__).resolve().parent.parent
TOPICS = ["reward hacking", "interpretability", "scalable oversight", "deceptive alignment", "robustness", "evals"]


def record(i: int, prefix: str = "t") -> dict[str, Any]:
    topic = TOPICS[i % len(TOPICS)]
    return {
        "id": f"{prefix}:{i}",
        "title": f"Chaos study {prefix}{i}: {topic} under concurrent writers, variant {i * 7919 % 1000}",
        "authors": [f"A. Author{i}", f"B. Writer{i % 13}"],
        "year": 2000 + i % 25,
        "abstract": f"We study {topic} in setting {i}.",
    }


def write_jsonl(path: Path, ids: range) -> Path:
    path.write_text("".join(json.dumps(record(i)) + "\n" for i in ids))
    return path


def free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Proc:
    name: str
    argv: list[str]
    env: dict[str, str]
    log: Path
    writer: bool
    restart_on_kill: bool = True
    process: subprocess.Popen[bytes] | None = None
    killed: int = 0
    failures: list[str] = field(default_factory=list)
    done: bool = False

    def start(self) -> None:
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(self.argv, env=self.env, stdout=log, stderr=subprocess.STDOUT, cwd=REPO)

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def kill(self) -> None:
        assert self.process is not None
        self.process.kill()
        self.process.wait()
        self.killed += 1

    def check(self) -> None:
        """Note a crash (a non-zero exit not caused by us); a finished ingest is done."""
        if self.process is None or self.process.poll() is None:
            return
        code = self.process.returncode
        if code == 0:
            self.done = True
        else:
            self.failures.append(f"{self.name} exited with {code} (see {self.log})")
            self.done = True


def reader_main(data_dir: Path, port: int, titles_file: Path, stop_file: Path) -> None:
    """The reader process: cite through its own engine and ask through the server, until `stop_file` appears."""
    from bot.engine import Engine
    from bot.settings import Settings

    engine = Engine.open(Settings.load(data_dir))
    titles = json.loads(titles_file.read_text())
    rng = random.Random(7)
    asked = errors = 0
    messages: list[str] = []
    while not stop_file.exists():
        title = rng.choice(titles)
        try:
            engine.cite(title)
            response = httpx.post(f"http://127.0.0.1:{port}/v1/related", json={"question": title, "k": 3}, timeout=30)
            if response.status_code >= 500:
                raise RuntimeError(f"/v1/related answered {response.status_code}: {response.text[:200]}")
        except httpx.TransportError:
            pass  # the server is being restarted after a kill: not the reader's error
        except Exception as exc:  # what the chaos test counts
            errors += 1
            messages.append(f"{type(exc).__name__}: {exc}"[:300])
        asked += 1
        time.sleep(0.05)
    print(json.dumps({"asked": asked, "errors": errors, "messages": messages[:5]}), flush=True)


def run(*, env: dict[str, str], **options: Any) -> dict[str, Any]:
    """One chaos run on the stores `env` names (ALIGNBOT_DATA_DIR, DATABASE_URL, CHROMA_HOST, …); returns the
    figures and every failure found (empty `failures`: passed)."""
    saved = dict(os.environ)
    os.environ.update(env)  # this process checks the same stores its children use
    try:
        return _run(env=env, **options)
    finally:
        os.environ.clear()
        os.environ.update(saved)


def _run(
    *,
    duration: float,
    kills: int,
    records: int,
    env: dict[str, str],
    work_dir: Path,
    bundled: bool = False,
    seed: int = 1,
    say: Any = print,
) -> dict[str, Any]:
    rng = random.Random(seed)
    data_dir = Path(env["ALIGNBOT_DATA_DIR"])
    env = {**os.environ, **env, "PYTHONPATH": str(REPO), "ALIGNBOT_LOAD_BUNDLED_KNOWLEDGE": str(bundled).lower()}
    half = records // 2
    file_a = write_jsonl(work_dir / "a.jsonl", range(0, records))
    file_b = write_jsonl(work_dir / "b.jsonl", range(half, records + half))
    expected = {f"t:{i}" for i in range(records + half)}
    cli = [sys.executable, "-m", "bot.cli"]

    # One database, migrated and given a write token before the processes start.
    from bot.engine import Engine
    from bot.http.tokens import TokenStore
    from bot.settings import Settings

    settings = Settings.load(data_dir)
    setup = Engine.open(settings.model_copy(update={"load_bundled_knowledge": False}))
    _info, token = TokenStore(setup.db).create("chaos", ["read", "write"], rate_per_minute=1_000_000)
    port = free_port()
    titles = work_dir / "titles.json"
    titles.write_text(json.dumps([record(i)["title"] for i in range(0, records + half, 3)]))
    stop_file = work_dir / "stop"

    procs = [
        Proc("ingest-a", [*cli, "ingest", str(file_a)], env, work_dir / "ingest-a.log", writer=True),
        Proc("ingest-b", [*cli, "ingest", str(file_b)], env, work_dir / "ingest-b.log", writer=True),
        Proc("serve", [*cli, "serve", "--port", str(port), "--open-reads"], env, work_dir / "serve.log", writer=True),
        Proc(
            "reader",
            [sys.executable, __file__, "--reader", str(data_dir), str(port), str(titles), str(stop_file)],
            env,
            work_dir / "reader.log",
            writer=False,
        ),
    ]
    by_name = {p.name: p for p in procs}
    # The server first: the chaos starts once it answers (opening the engine and its indexes takes a while).
    by_name["serve"].start()
    up_by = time.monotonic() + 300
    while time.monotonic() < up_by:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200:
                break
        except httpx.TransportError:
            time.sleep(0.5)
    for proc in procs:
        if proc.process is None:
            proc.start()

    posted = post_errors = 0
    post_messages: list[str] = []
    stop_posting = threading.Event()
    uncertain: set[str] = set()  # posts whose answer was lost with a killed server

    def poster() -> None:
        nonlocal posted, post_errors
        i = 0
        headers = {"Authorization": f"Bearer {token}"}
        while not stop_posting.is_set():
            # Every third post is a record a file holds too: the same work from two writers at once.
            body = record(rng.randrange(records + half)) if i % 3 == 0 else record(i, prefix="p")
            try:
                response = httpx.post(
                    f"http://127.0.0.1:{port}/v1/papers", json={"records": [body]}, headers=headers, timeout=60
                )
            except httpx.TransportError:
                # Not up yet, or killed and restarting: a request that was sent may or may not have been stored.
                uncertain.add(body["id"])
                time.sleep(0.5)
                continue
            if response.status_code >= 500:
                post_errors += 1
                post_messages.append(f"{response.status_code}: {response.text[:200]}")
            elif response.status_code == 200:
                posted += 1
                if body["id"].startswith("p:"):
                    expected.add(body["id"])
            i += 1
            time.sleep(0.2)

    posting = threading.Thread(target=poster, daemon=True)
    posting.start()

    started = time.monotonic()
    kill_times = sorted(rng.uniform(0.2 * duration, 0.8 * duration) for _ in range(kills))
    killed: list[str] = []
    while time.monotonic() - started < duration:
        elapsed = time.monotonic() - started
        if kill_times and elapsed >= kill_times[0]:
            kill_times.pop(0)
            victims = [p for p in procs if p.writer and p.alive()]
            if victims:
                victim = rng.choice(victims)
                victim.kill()
                killed.append(f"{victim.name}@{elapsed:.0f}s")
                say(f"killed {victim.name} at {elapsed:.1f}s; starting it again")
                victim.start()
        for proc in procs:
            if proc.alive() or proc.done:
                continue
            proc.check()
        time.sleep(0.2)
    stop_posting.set()
    posting.join(timeout=70)

    # The ingests finish their files (a killed one was started again and resumes from its checkpoint).
    deadline = time.monotonic() + max(300.0, duration * 3)
    for name in ("ingest-a", "ingest-b"):
        proc = by_name[name]
        assert proc.process is not None
        try:
            proc.process.wait(timeout=max(1.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            proc.failures.append(f"{name} did not finish")
            proc.kill()
        proc.check()

    # The server's worker embeds what is left.
    from bot.storage import Database

    db = Database(settings.sqlalchemy_url)
    while db.count_needing_vectors() and time.monotonic() < deadline:
        time.sleep(1)
    pending = db.count_needing_vectors()

    stop_file.touch()
    reader = by_name["reader"]
    assert reader.process is not None
    reader.process.wait(timeout=60)
    reader.check()
    read = json.loads(reader.log.read_text().strip().splitlines()[-1]) if reader.log.read_text().strip() else {}

    serve = by_name["serve"]
    assert serve.process is not None
    status = subprocess.run([*cli, "status", "--json"], env=env, cwd=REPO, capture_output=True, text=True)
    signalled = time.monotonic()
    serve.process.send_signal(signal.SIGTERM)
    serve.process.wait(timeout=30)
    serve_stop = time.monotonic() - signalled
    serve_code = serve.process.returncode

    works = {work.id: work for work in db.iter_works()}
    ids = set(works)
    from bot.storage import open_vector_store

    # Opened without the engine's repair, which would hide a disagreement this run must report.
    store = open_vector_store(settings, setup.embedder.name)
    vectors = store.all_ids()
    # One vector each, and findable: a work's own vector finds the work (a sample, for time).
    sample = rng.sample(sorted(vectors & ids), min(100, len(vectors & ids)))
    unfindable = [w for w, v in store.get(sample).items() if store.query(v, 1)[0][0] != w]
    db.close()
    setup.close()
    reading_list = {w for w in ids if works[w].curated} if bundled else set()
    failures = [f for p in procs for f in p.failures if p.name != "serve"]
    if serve_code not in (0, -signal.SIGTERM):
        failures.append(f"serve exited with {serve_code} on SIGTERM (see {serve.log})")
    if serve_stop > 2.0:
        failures.append(f"serve took {serve_stop:.1f}s to stop after SIGTERM")
    missing, extra = expected - ids, ids - expected - reading_list - uncertain
    if missing or extra:
        failures.append(
            f"works: {len(missing)} missing {sorted(missing)[:5]}, {len(extra)} unexpected {sorted(extra)[:5]}"
        )
    if vectors != ids:
        failures.append(f"vectors: {len(ids - vectors)} works without one, {len(vectors - ids)} of unknown works")
    if unfindable:
        failures.append(f"{len(unfindable)} of {len(sample)} sampled vectors not found by their own query")
    if pending:
        failures.append(f"{pending} works still waiting for vectors")
    if read.get("errors", 1) or not read.get("asked"):
        failures.append(f"reader: {read}")
    if post_errors:
        failures.append(f"{post_errors} POST /v1/papers failed: {post_messages[:3]}")
    if status.returncode != 0:
        failures.append(f"status failed: {status.stderr[-500:]}")
    return {
        "duration_s": duration,
        "killed": killed,
        "works": len(ids),
        "vectors": len(vectors),
        "pending": pending,
        "posted": posted,
        "reader_asked": read.get("asked", 0),
        "reader_errors": read.get("errors"),
        "serve_stop_s": round(serve_stop, 2),
        "failures": failures,
    }


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--reader":
        data_dir, port, titles, stop_file = sys.argv[2:6]
        reader_main(Path(data_dir), int(port), Path(titles), Path(stop_file))
        return
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--duration", type=float, default=120.0, help="Seconds of chaos (default 120).")
    parser.add_argument("--kills", type=int, default=2, help="Writers killed with SIGKILL (default 2).")
    parser.add_argument("--records", type=int, default=400, help="Records per file; the files overlap by half.")
    parser.add_argument("--database-url", help="PostgreSQL URL (default: SQLite in the data directory).")
    parser.add_argument("--chroma-host", help="A Chroma server (default: embedded Chroma in the data directory).")
    parser.add_argument("--chroma-port", type=int, default=8000)
    parser.add_argument("--bundled", action="store_true", help="Load the bundled reading list too.")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="alignbot-chaos-") as tmp:
        work_dir = Path(tmp)
        env = {"ALIGNBOT_DATA_DIR": str(work_dir / "kb")}
        if args.database_url:
            env["DATABASE_URL"] = args.database_url
        if args.chroma_host:
            env.update(CHROMA_HOST=args.chroma_host, CHROMA_PORT=str(args.chroma_port))
            env["ALIGNBOT_CHROMA_COLLECTION"] = f"chaos{os.getpid()}"
        result = run(
            duration=args.duration,
            kills=args.kills,
            records=args.records,
            env=env,
            work_dir=work_dir,
            bundled=args.bundled,
            seed=args.seed,
        )
        print(json.dumps(result, indent=2))
        if result["failures"]:
            for log in sorted(work_dir.glob("*.log")):
                print(f"--- {log.name} (tail)\n{log.read_text()[-1500:]}", file=sys.stderr)
            sys.exit(1)


if __name__ == "__main__":
    main()

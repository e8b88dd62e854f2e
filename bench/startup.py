"""Cold wall time of each command, beside `python -c pass` and beside a baseline checkout, in the same run.

Each command runs in a fresh process (median of --runs): `cite`, `status`, `queue`, `decide`, `ask`, `serve`
until /healthz answers 200, and the Discord bot's start path up to where it would connect to the gateway
(`alignbot discord` as the CLI runs it: open the engine, build the bot, run its setup hook; the gateway itself is
unreachable here). Targets: cite/status/queue/decide <= 1.0 s, ask <= 3 s, serve ready <= 5 s, discord <= 5 s.

The package is byte-compiled first (`compileall`), as `pip install` does. The knowledge base is made once by the
caller: `alignbot ingest --data-dir DIR alignment_core.jsonl` with the code under test (and likewise for the
baseline's data directory, which may be the same). A baseline is any checkout, e.g.
`git archive 6816376 | tar -x -C /tmp/base`.

Usage: python bench/startup.py --data-dir DIR [--baseline CODE_DIR --baseline-data-dir DIR] [--runs 3]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
TARGETS = {"cite": 1.0, "status": 1.0, "queue": 1.0, "decide": 1.0, "ask": 3.0, "serve": 5.0, "discord": 5.0}
# What the `alignbot` console script runs; each command runs in the checkout under test (`-c` puts the current
# directory first on sys.path).
CLI = [sys.executable, "-c", "from bot.cli import app; app()"]

# The Discord command's path (bot/discord/cli.py) up to bot.run(), plus the setup hook bot.run() would await.
DISCORD_START = """
import asyncio, sys
from pathlib import Path
import bot.cli
from bot.discord.app import create_bot
from bot.discord.config import DiscordSettings
from bot.engine import Engine
from bot.settings import Settings
engine = Engine.open(Settings.load(Path(sys.argv[1])))
discord_bot = create_bot(DiscordSettings(sync_commands=False), engine=engine)
asyncio.run(discord_bot.setup_hook())
"""

SUBMISSION = {
    "id": "bench-startup-1",
    "forum": "alignment",
    "title": "Do chain-of-thought explanations reflect the model's reasoning?",
    "body": "We test whether stated reasoning changes when a biasing feature is added to the prompt.",
    "submitter": "bench",
    "authors": [{"handle": "bench"}],
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def child_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def timed(argv: list[str], env: dict[str, str], code: Path) -> tuple[float, float]:
    """(wall, CPU) seconds of one run. CPU time is what the command costs when other processes share the
    cores: on a busy machine the wall time is mostly waiting for a core."""
    start, cpu = time.perf_counter(), child_cpu()
    result = subprocess.run(argv, env=env, cwd=code, capture_output=True, text=True, timeout=900)
    elapsed = time.perf_counter() - start
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(argv[-4:])}: exit {result.returncode}: {result.stderr[-1500:]}")
    return elapsed, child_cpu() - cpu


def serve_ready(env: dict[str, str], data_dir: Path, code: Path) -> float:
    port = free_port()
    start = time.perf_counter()
    server = subprocess.Popen(
        [*CLI, "serve", "--port", str(port), "--host", "127.0.0.1", "--data-dir", str(data_dir)],
        env=env,
        cwd=code,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        while time.perf_counter() - start < 600:
            if server.poll() is not None:
                raise RuntimeError(f"serve exited {server.returncode}: {server.stderr.read()[-1500:]!r}")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as response:
                    if response.status == 200:
                        return time.perf_counter() - start
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("serve: /healthz never answered")
    finally:
        server.terminate()
        server.wait(30)


def report_id(env: dict[str, str], data_dir: Path, code: Path) -> str:
    """A report in the review queue for `decide` to act on: one `check` of a made-up submission."""
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as file:
        json.dump(SUBMISSION, file)
    result = subprocess.run(
        [*CLI, "check", file.name, "--json", "--data-dir", str(data_dir)],
        env=env,
        cwd=code,
        capture_output=True,
        text=True,
    )
    os.unlink(file.name)
    if result.returncode not in (0, 1):
        raise RuntimeError(f"check: exit {result.returncode}: {result.stderr[-1500:]}")
    return str(json.loads(result.stdout)["report_id"])


def measure(code: Path, data_dir: Path, runs: int) -> dict[str, tuple[float, float | None]]:
    # As installed: pip compiles every module to bytecode, which a checkout run with PYTHONDONTWRITEBYTECODE=1
    # (as here) never gets, so each start would compile the package's sources again (a few tenths of a second).
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(code / "bot")], check=True, capture_output=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith("ALIGNBOT_")}
    env |= {"PYTHONPATH": str(code), "ALIGNBOT_DATA_DIR": str(data_dir), "ALIGNBOT_LLM_PROVIDER": ""}
    env |= {"ALIGNBOT_HTTP_OPEN_READS": "true"}
    report = report_id(env, data_dir, code)
    commands = {
        "python -c pass": [sys.executable, "-c", "pass"],
        "cite": [*CLI, "cite", "Turpin et al. 2023", "--json"],
        "status": [*CLI, "status", "--json"],
        "queue": [*CLI, "queue", "--all", "--json"],
        "decide": [*CLI, "decide", report, "open", "--by", "bench", "--reason", "startup benchmark"],
        "ask": [*CLI, "ask", "is a model's chain of thought a faithful account of its reasoning?", "--json"],
        "discord": [sys.executable, "-c", DISCORD_START, str(data_dir)],
    }
    medians: dict[str, tuple[float, float | None]] = {}
    for name, argv in commands.items():
        wall, cpu = zip(*(timed(argv, env, code) for _ in range(runs)), strict=True)
        medians[name] = statistics.median(wall), statistics.median(cpu)
        print(f"  {name:15} {medians[name][0]:6.2f} s wall {medians[name][1]:6.2f} s CPU", file=sys.stderr, flush=True)
    medians["serve"] = statistics.median(serve_ready(env, data_dir, code) for _ in range(runs)), None
    print(f"  {'serve':15} {medians['serve'][0]:6.2f} s wall", file=sys.stderr, flush=True)
    return medians


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--baseline", type=Path, help="A checkout of the code to compare with.")
    parser.add_argument("--baseline-data-dir", type=Path, help="Its knowledge base [default: --data-dir].")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()

    results = {}
    if args.baseline:
        print("baseline:", file=sys.stderr)
        results["baseline"] = measure(args.baseline, args.baseline_data_dir or args.data_dir, args.runs)
    print("this checkout:", file=sys.stderr)
    results["now"] = measure(REPO, args.data_dir, args.runs)

    def cell(figures: tuple[float, float | None]) -> str:
        wall, cpu = figures
        return f"{wall:.2f} s ({cpu:.2f} s CPU)" if cpu is not None else f"{wall:.2f} s"

    baseline = results.get("baseline")
    print(f"| command (wall, median of {args.runs}) | {'baseline | ' if baseline else ''}now | target (wall) |")
    print(f"|---|{'---|' if baseline else ''}---|---|")
    for name, now in results["now"].items():
        target = TARGETS.get(name)
        verdict = f"≤ {target} s: {'met' if now[0] <= target else 'missed'}" if target else ""
        print(f"| {name} | {cell(baseline[name]) + ' | ' if baseline else ''}{cell(now)} | {verdict} |")


if __name__ == "__main__":
    main()

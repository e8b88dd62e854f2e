"""`alignbot ingest` of a random sample of the 51k-record knowledge base: wall time and CPU time per record, for
this tree and a baseline tree (e.g. a `git worktree` of main) in the same run, alternating.

Each run ingests into a data directory that already holds the bundled reading list (its embedding is set apart:
every fresh data directory pays it once), so the figures are the sample's own. CPU time (user + system of the
`alignbot` process and its threads) is less inflated than wall time by other jobs on a busy machine; the load
average is printed beside every run.

Usage: python bench/ingest_rate.py [--sample 2000] [--baseline ../main-checkout] [--rounds 1]
"""

from __future__ import annotations

import argparse
import gzip
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parents[1]
FULL = HERE.parent / "shared" / "data" / "kb" / "alignment_kb.jsonl.gz"


def run_cli(tree: Path, *args: str) -> tuple[float, float, str]:
    """Wall seconds, CPU seconds and the summary line of `python -m bot.cli ARGS` run from `tree`."""
    env = {**os.environ, "PYTHONPATH": str(tree)}
    # Output goes to a file, not a pipe: the process is reaped with wait4 (for its own CPU time) before anything
    # is read, and a pipe's buffer, once full of warnings about bad records, would block it forever.
    with tempfile.TemporaryFile() as log:
        start = time.perf_counter()
        process = subprocess.Popen([sys.executable, "-m", "bot.cli", *args], cwd=tree, env=env, stdout=log, stderr=log)
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - start
        process.returncode = os.waitstatus_to_exitcode(status)  # reaped here: Popen must not wait for it again
        log.seek(0)
        output = log.read().decode(errors="replace")
    if process.returncode != 0:
        raise SystemExit(f"{tree}: {' '.join(args)} failed:\n{output}")
    summary = next((line for line in output.splitlines() if "records read" in line), "")
    return wall, usage.ru_utime + usage.ru_stime, summary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sample", type=int, default=2000, help="records drawn at random (seed 16)")
    parser.add_argument("--baseline", type=Path, help="a source tree to compare with (e.g. a checkout of main)")
    parser.add_argument("--rounds", type=int, default=1)
    args = parser.parse_args()
    trees = {"this tree": HERE}
    if args.baseline:
        trees = {"baseline": args.baseline.resolve(), **trees}
    with gzip.open(FULL, "rt", encoding="utf-8") as handle:
        lines = handle.readlines()
    sample = random.Random(16).sample(lines, min(args.sample, len(lines)))
    with tempfile.TemporaryDirectory(prefix="ingest-rate-") as tmp:
        sample_path = Path(tmp) / "sample.jsonl"
        sample_path.write_text("".join(sample), encoding="utf-8")
        print(f"{len(sample)} records of {FULL.name}; {os.cpu_count()} CPUs")
        rates: dict[str, list[float]] = {name: [] for name in trees}
        for round_ in range(args.rounds):
            for name, tree in trees.items() if round_ % 2 == 0 else reversed(trees.items()):
                seeded = Path(tmp) / f"seeded-{name}"
                if not seeded.exists():  # the bundled reading list, embedded once per tree
                    wall, cpu, _ = run_cli(tree, "ingest", "--data-dir", str(seeded))
                    print(f"{name:10} reading list alone: {wall:6.1f} s wall, {cpu:6.1f} s CPU")
                data_dir = Path(tmp) / "run"
                shutil.rmtree(data_dir, ignore_errors=True)
                shutil.copytree(seeded, data_dir)
                load = os.getloadavg()[0]
                wall, cpu, summary = run_cli(tree, "ingest", "--data-dir", str(data_dir), str(sample_path))
                rates[name].append(len(sample) / cpu)
                print(
                    f"{name:10} {wall:6.1f} s wall, {cpu:6.1f} s CPU: {len(sample) / wall:5.1f} records/s, "
                    f"{len(sample) / cpu:5.1f} records per CPU-second (load {load:.1f} -> {os.getloadavg()[0]:.1f})"
                )
                print(f"{'':10} {summary}", flush=True)
        if args.baseline:
            ratio = max(rates["this tree"]) / max(rates["baseline"])
            print(f"records per CPU-second, best of each: {ratio:.2f}x the baseline")


if __name__ == "__main__":
    main()

"""Hostile-LLM answers through the answer filter and every front end, beside the filter of commit 6816376.

Each attack of tests/hostile_answers.py (those issue #15 reports and 20+ more) is what the model answers
for a question whose retrieved works are the first five of the bundled reading list. The answer goes
through a filter (today's: `bot.answer_filter`; baseline: `keep_valid_citations` as of 6816376, loaded
from git) and then through each front end's renderer (the current ones for both, so the difference is
the filter's). Counted in what a reader gets: foreign link targets, citation markers naming no retrieved
work, and pings. No model, no stores: it runs in a second.

Usage: python bench/hostile_llm.py [--baseline-commit 6816376] [--verbose]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import types
from collections.abc import Callable
from pathlib import Path

from bot.answer import composed_answer
from bot.answer_filter import filter_answer
from bot.discord import render as discord_render
from bot.domain import AskResult, RankedWork
from bot.reddit import render as reddit_render
from tests.hostile_answers import ATTACKS, PREFIX, Leaks, count_leaks

REPO = Path(__file__).resolve().parents[1]
Filter = Callable[[str, list[RankedWork]], str]


def baseline_filter(commit: str) -> Filter:
    """`keep_valid_citations` exactly as it was at `commit`."""
    source = subprocess.check_output(["git", "-C", str(REPO), "show", f"{commit}:bot/answer.py"], text=True)
    module = types.ModuleType(f"answer_{commit}")
    exec(compile(source, f"{commit}:bot/answer.py", "exec"), module.__dict__)  # our own history, from git
    return module.keep_valid_citations


def retrieved_works() -> list[RankedWork]:
    lines = (REPO / "knowledge" / "reading_list.jsonl").read_text(encoding="utf-8").splitlines()[:5]
    records = [json.loads(line) for line in lines]
    return [
        RankedWork(
            id=r["id"],
            title=r["title"],
            authors=r["authors"],
            year=r.get("year"),
            url=r.get("url"),
            arxiv_id=r.get("arxiv_id"),
            doi=r.get("doi"),
            score=0.8,
        )
        for r in records
    ]


def front_ends(answer: str, results: list[RankedWork]) -> dict[str, str]:
    """What each front end shows for an answer (the engine's text is what HTTP JSON and the CLI return)."""
    result = AskResult(query="Is chain of thought faithful?", confident=True, results=results, answer=answer)
    pages = discord_render.related_pages(result)
    discord_text = "\n\n".join(
        [p.embed.description or "" for p in pages] + [str(f.value) for p in pages for f in p.embed.fields]
    )
    assert answer != composed_answer(result.query, results, True)
    return {"engine/http": answer, "discord": discord_text, "reddit": reddit_render.render_ask(result)}


def measure(name: str, answer_filter: Filter, results: list[RankedWork], verbose: bool) -> dict[str, Leaks]:
    totals: dict[str, Leaks] = {}
    for attack, text in ATTACKS:
        answer = answer_filter(f"{PREFIX} {text}", results)
        for front_end, output in front_ends(answer, results).items():
            leaks = count_leaks(output, results)
            totals[front_end] = totals.get(front_end, Leaks()) + leaks
            if verbose and leaks.total:
                print(f"  {name} {attack} {front_end}: {leaks}", file=sys.stderr)
    return totals


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline-commit", default="6816376")
    parser.add_argument("--verbose", action="store_true", help="print every leaking attack")
    args = parser.parse_args()
    results = retrieved_works()
    baseline = baseline_filter(args.baseline_commit)
    rows = {
        f"baseline ({args.baseline_commit})": measure("baseline", baseline, results, args.verbose),
        "answer_filter": measure("filter", filter_answer, results, args.verbose),
    }
    print(f"{len(ATTACKS)} hostile answers, {len(results)} retrieved works")
    print(f"{'filter':<22} {'front end':<12} {'foreign links':>13} {'bad citations':>13} {'pings':>6}")
    for name, totals in rows.items():
        for front_end, leaks in totals.items():
            print(f"{name:<22} {front_end:<12} {leaks.foreign_links:>13} {leaks.bad_citations:>13} {leaks.pings:>6}")


if __name__ == "__main__":
    main()

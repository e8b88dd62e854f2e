"""Confident citations `bibliography` makes in real prose, today's code beside a git revision's (main).

Real prose is full of quoted and emphasised terms ("_label noise_", "by magic"), headings and phrases such as "the
rest of this post", where a reader finds no reference at all. Nothing here is labelled in advance: each run reads
the Alignment Newsletter's summaries and opinions (../shared/data/stampy_alignment_research_dataset, 2018–22) and
the EA Forum sample posts (../shared/data/ea_forum_posts_sample_2025), both as they were written, and prints how
many confident answers that are not links each code gives. Where the two disagree, it prints each answer with the
verdict a person gave it (bench/prose_verdicts.jsonl: "right" when the passage refers to that work, "wrong"
otherwise, and "unjudged" for an answer nobody has judged yet: judge those before reading the totals).
The newsletter over the 9k KB was read to find the failures; the 51k KB and the forum posts were checked after.
Usage: python -m bench.prose_citations [--kb core|full] [--baseline REV]
"""

from __future__ import annotations

import argparse
import json
import subprocess
from collections import Counter
from pathlib import Path

from bench.mentions import REPO, SHARED, Reader, main_corpus, main_reader, new_reader
from bench.mentions_kb import corpus_for
from bot.identifiers import normalize_text
from bot.retrieval.corpus import CorpusIndex

NEWSLETTER = SHARED / "stampy_alignment_research_dataset" / "alignment_newsletter.jsonl"
FORUM = SHARED / "ea_forum_posts_sample_2025" / "posts.jsonl"
VERDICTS = Path(__file__).parent / "prose_verdicts.jsonl"


def texts() -> dict[str, list[str]]:
    """Each source's passages as written: a newsletter entry's summary and opinion, a forum post's body."""
    newsletter = [json.loads(line) for line in NEWSLETTER.open(encoding="utf-8")]
    forum = [json.loads(line) for line in FORUM.open(encoding="utf-8")]
    return {
        "Alignment Newsletter": [t for entry in newsletter for t in (entry.get("summary"), entry.get("opinion")) if t],
        "EA Forum posts": [post["body"] for post in forum if post.get("body")],
    }


def verdict_key(mention: str, title: str) -> tuple[str, str]:
    return normalize_text(mention), normalize_text(title)


def confident(read: Reader, text: str) -> set[tuple[int, int, int | None]]:
    return {(f.start, f.end, f.guess) for f in read(text) if f.confident}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--kb", choices=["core", "full"], default="core")
    parser.add_argument("--baseline", default="main", help="git revision measured beside today's code (main)")
    args = parser.parse_args()
    commit = subprocess.run(
        ["git", "rev-parse", "--short", args.baseline], cwd=REPO, check=True, capture_output=True, text=True
    ).stdout.strip()
    corpus: CorpusIndex = corpus_for(args.kb)
    old_read, _ = main_reader(main_corpus(corpus, args.kb, commit), commit)
    new_read, _ = new_reader(corpus)
    verdicts = {}
    for line in VERDICTS.open(encoding="utf-8"):
        judged = json.loads(line)
        verdicts[verdict_key(judged["mention"], judged["title"])] = judged["verdict"]
    print(f"KB {args.kb}: {len(corpus)} works; confident answers that are not links")
    print(f"| source | passages | {args.baseline} ({commit}) | alignbot | only {commit}: right / wrong / unjudged "
          "| only alignbot: right / wrong / unjudged |\n|---|---|---|---|---|---|")  # fmt: skip
    changed = []
    for source, passages in texts().items():
        totals, only = Counter(), {"old": Counter(), "new": Counter()}
        for text in passages:
            # Links name their work exactly; both codes read them alike.
            old = {a for a in confident(old_read, text) if "://" not in text[a[0] : a[1]]}
            new = {a for a in confident(new_read, text) if "://" not in text[a[0] : a[1]]}
            totals["old"] += len(old)
            totals["new"] += len(new)
            for side, answers in (("old", old - new), ("new", new - old)):
                for start, end, doc in sorted(answers):
                    title = corpus.titles[doc] if doc is not None else ""
                    verdict = verdicts.get(verdict_key(text[start:end], title), "unjudged")
                    only[side][verdict] += 1
                    changed.append((side, verdict, text[start:end], title, text[max(0, start - 80) : end + 40]))
        cells = [" / ".join(str(only[side][v]) for v in ("right", "wrong", "unjudged")) for side in ("old", "new")]
        print(f"| {source} | {len(passages)} | {totals['old']} | {totals['new']} | {cells[0]} | {cells[1]} |")
    print(f"\nanswers only one code gives ({commit} / alignbot), with their verdicts:")
    for side, verdict, mention, title, passage in changed:
        where = " ".join(passage.split())
        print(f"  {'only ' + commit if side == 'old' else 'only alignbot'} [{verdict}] {mention!r} -> {title[:70]}")
        print(f"      …{where}…")


if __name__ == "__main__":
    main()

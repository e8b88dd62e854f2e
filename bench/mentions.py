"""Mention finding and reference resolution on bench/mentions_labelled.jsonl, today's code beside baselines.

For each sentence, a *found* reference is what `bibliography` reports: a confidently resolved mention, or a
strong one listed as unresolved. Per split (dev, held-out):
- mention precision: found references that overlap a labelled mention (the rest are invented);
- recall: labelled mentions overlapped by a found reference;
- top-1: labelled mentions whose target is in the KB (and unambiguous) whose found reference's best work is it;
  an author-year citation is ambiguous when its first author and year name several works of the KB measured
  (more of them at 51k than at 9k); "top-1 (all)" counts those too;
- confident precision: confident answers that name the labelled target (an invented one counts as wrong);
- `cite` latency (warm) over the labelled mention texts.
Baselines, loaded from git (bot/mentions.py, bot/retrieval/resolve.py) and measured in the same run: the code
before issue 11 (commit 6816376) and `main`.
Usage: python bench/mentions.py [--kb core|full] [--show dev]  (builds the KB under /tmp on first use).
"""

from __future__ import annotations

import argparse
import functools
import importlib.util
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

from bench.mentions_kb import REPO, SHARED, corpus_for, open_kb
from bot.identifiers import normalize_text
from bot.mentions import read_references
from bot.retrieval.corpus import CorpusIndex
from bot.retrieval.resolve import ReferenceResolver

LABELLED = Path(__file__).parent / "mentions_labelled.jsonl"
BIB_ENTRIES = SHARED / "bib_citation_entries" / "entries.jsonl"
ISSUE_BASELINE = "6816376"  # the code before issue 11


@dataclass
class Found:
    start: int
    end: int
    guess: int | None  # document number of the best candidate
    confident: bool


Reader = Callable[[str], list[Found]]


def baseline_module(commit: str, path: str, name: str, replace: dict[str, str] | None = None) -> ModuleType:
    """`path` as it was at `commit`, loaded as module `name` (`replace`: its imports of other baseline modules)."""
    source = subprocess.run(
        ["git", "show", f"{commit}:{path}"], cwd=REPO, check=True, capture_output=True, text=True
    ).stdout
    for old, new in (replace or {}).items():
        source = source.replace(old, new)
    file = Path(tempfile.mkdtemp()) / f"{name}.py"
    file.write_text(source, encoding="utf-8")
    spec = importlib.util.spec_from_file_location(name, file)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up while the class is made
    spec.loader.exec_module(module)
    return module


def git_has(commit: str, path: str) -> bool:
    return subprocess.run(["git", "cat-file", "-e", f"{commit}:{path}"], cwd=REPO, capture_output=True).returncode == 0


def issue_baseline_reader(corpus: CorpusIndex) -> tuple[Reader, Callable[[str], object]]:
    """`bibliography` before issue 11: find_mentions, resolve, and the engine's confidence rule."""
    mentions = baseline_module(ISSUE_BASELINE, "bot/mentions.py", "issue_baseline_mentions")
    resolve = baseline_module(ISSUE_BASELINE, "bot/retrieval/resolve.py", "issue_baseline_resolve")
    resolver = resolve.ReferenceResolver(corpus)

    def confident(candidates: list) -> bool:
        if not candidates or candidates[0].score < 0.6:
            return False
        if "exact" in candidates[0].signals:
            return True
        return len(candidates) == 1 or candidates[0].score - candidates[1].score >= 0.04

    def read(text: str) -> list[Found]:
        found = []
        for mention in mentions.find_mentions(text, corpus):
            candidates = resolver.resolve(mention.text, n=2)
            sure = confident(candidates)
            if sure or mention.strong:
                guess = candidates[0].doc if candidates else None
                found.append(Found(mention.start, mention.start + len(mention.text), guess, sure))
        return found

    return read, lambda reference: resolver.resolve(reference, n=4)


def reader_of(resolver: ReferenceResolver, read_references: Callable) -> tuple[Reader, Callable[[str], object]]:
    def read(text: str) -> list[Found]:
        return [
            Found(r.mention.start, r.mention.end, r.best.doc if r.best else None, r.confident)
            for r in read_references(text, resolver)
            if r.reported
        ]

    return read, lambda reference: resolver.resolve(reference, n=4)


def main_corpus(corpus: CorpusIndex, kb: str, commit: str) -> CorpusIndex:
    """The KB's index as `commit` builds it (its own bot/retrieval/corpus.py), numbered as today's index is,
    so that the baseline reads what it read: today's index may know more about each work."""
    if not subprocess.run(["git", "diff", "--quiet", commit, "--", "bot/retrieval/corpus.py"], cwd=REPO).returncode:
        return corpus
    module = baseline_module(commit, "bot/retrieval/corpus.py", "main_corpus")
    root = Path("/tmp/alignbot-mentions-kb")
    index = module.CorpusIndex.load_or_build(open_kb(kb, root), root / f"{kb}.{commit}.index.pickle")
    assert index.ids == corpus.ids, "the baseline's index numbers the works differently"
    return index


def baseline_resolve(commit: str, prefix: str = "main", replace: dict[str, str] | None = None) -> ModuleType:
    """bot/retrieval/resolve.py at `commit` with the modules it reads references with (reference.py,
    similarity.py) at that commit too, those it had: loaded as `<prefix>_resolve` and so on."""
    replace = dict(replace or {})
    for part in ("similarity", "reference"):
        if git_has(commit, f"bot/retrieval/{part}.py"):
            baseline_module(commit, f"bot/retrieval/{part}.py", f"{prefix}_{part}", replace)
            replace[f"from bot.retrieval.{part} import"] = f"from {prefix}_{part} import"
    return baseline_module(commit, "bot/retrieval/resolve.py", f"{prefix}_resolve", replace)


def main_reader(corpus: CorpusIndex, commit: str) -> tuple[Reader, Callable[[str], object]]:
    """`bibliography`'s reading at `commit` (main): its resolver and mention finder, loaded from git."""
    own_corpus = {"from bot.retrieval.corpus import": "from main_corpus import"} if "main_corpus" in sys.modules else {}
    resolve = baseline_resolve(commit, "main", own_corpus)
    to_resolve = {"from bot.retrieval.resolve import": "from main_resolve import"}
    if git_has(commit, "bot/retrieval/reference.py"):
        to_resolve["from bot.retrieval.reference import"] = "from main_reference import"
    if git_has(commit, "bot/mentions.py"):
        mentions = baseline_module(commit, "bot/mentions.py", "main_mentions", to_resolve)
    else:  # the package (bot/mentions/__init__.py and names.py)
        baseline_module(commit, "bot/mentions/names.py", "main_names", to_resolve)
        package = {**to_resolve, "from bot.mentions.names import": "from main_names import"}
        mentions = baseline_module(commit, "bot/mentions/__init__.py", "main_mentions", package)
    return reader_of(resolve.ReferenceResolver(corpus), mentions.read_references)


def new_reader(corpus: CorpusIndex) -> tuple[Reader, Callable[[str], object]]:
    return reader_of(ReferenceResolver(corpus), read_references)


def same_work(corpus: CorpusIndex, doc: int | None, target: str | None) -> bool:
    """The guess is the target work, or a duplicate record of it the merge kept apart (the same title)."""
    if doc is None or target is None or target not in corpus.position:
        return False
    return corpus.ids[doc] == target or corpus.norm_titles[doc] == corpus.norm_titles[corpus.position[target]]


_TITLES: dict[int, dict[str, str]] = {}
_FIRST_AUTHOR_YEAR: dict[int, dict[tuple[str, int], set[str]]] = {}


def _titles(corpus: CorpusIndex) -> dict[str, str]:
    if id(corpus) not in _TITLES:
        _TITLES[id(corpus)] = {title: corpus.ids[doc] for doc, title in enumerate(corpus.norm_titles)}
    return _TITLES[id(corpus)]


@functools.cache
def bib_titles() -> dict[str, str]:
    """Target key -> normalised title of the BibTeX entries the author-year citations were made from."""
    titles = {}
    for line in BIB_ENTRIES.open(encoding="utf-8"):
        entry = json.loads(line)
        key = f"arxiv:{entry['arxiv_id']}" if entry.get("arxiv_id") else f"id:{entry['id']}"
        titles[key] = normalize_text(entry["title"])
    return titles


def target_of(corpus: CorpusIndex, mention: dict, text: str) -> str | None:
    """The labelled work; else the work of the KB that bears exactly its title: for a quoted title labelled
    absent (from the 9k KB), the work of a larger KB with that title (quoting it and citing that work is right,
    not an invented citation); for a BibTeX entry's author-year citation, a record of it the KB keeps under
    another key ("Weiss et al. 2021" is QA-Align, stored without the entry's id)."""
    if mention["target"]:
        if (key := corpus.keys.get(mention["target"])) is not None:
            return key
        title = bib_titles().get(mention["target"]) if mention["kind"] == "author" else None
        return _titles(corpus).get(title) if title else None
    if mention["kind"] == "quote":
        span = re.sub(r"</?[a-zA-Z][^<>]*>", "", text[mention["start"] : mention["end"]])  # <em>…</em>
        quoted = normalize_text(span.strip("\"'“”‘’`*_«»„‚ "))
        return _titles(corpus).get(quoted)
    return None


def ambiguous_in(corpus: CorpusIndex, mention: dict, text: str) -> bool:
    """An author-year citation whose first author and year name several works of this KB: any of them may be
    meant (the labels mark those of the 9k KB; the 51k KB has more)."""
    if mention.get("ambiguous"):
        return True
    citation = text[mention["start"] : mention["end"]]
    year = re.search(r"\b(?:19|20)\d\d\b", citation)
    name = re.match(r"\(?\s*([^\d(),&]+?)(?:\s+et\s*al\b|\s+(?:&|and)\s|\s*,|\s*\(|\s+(?:19|20)\d\d)", citation)
    if mention["kind"] != "author" or not year or not name:
        return False
    if id(corpus) not in _FIRST_AUTHOR_YEAR:
        works: dict[tuple[str, int], set[str]] = {}
        for doc, names in enumerate(corpus.surnames):
            if names and corpus.years[doc] is not None:
                works.setdefault((names[0], corpus.years[doc]), set()).add(corpus.norm_titles[doc])
        _FIRST_AUTHOR_YEAR[id(corpus)] = works
    return len(_FIRST_AUTHOR_YEAR[id(corpus)].get((normalize_text(name.group(1)), int(year.group(0))), ())) > 1


def evaluate(records: list[dict], corpus: CorpusIndex, read: Reader, show: bool = False) -> dict[str, float]:
    found_total = found_matched = gold_total = gold_found = 0
    top1_total = top1_right = confident_total = confident_right = all_total = all_right = 0
    for record in records:
        text = record["text"]
        found = read(text)
        gold = record["mentions"]
        for f in found:
            hits = [g for g in gold if f.start < g["end"] and g["start"] < f.end]
            found_total += 1
            found_matched += bool(hits)
            if show and not hits:
                print(f"  invented: {text[f.start : f.end]!r} in {text[:120]!r}")
            if f.confident:
                confident_total += 1
                target = target_of(corpus, hits[0], text) if hits else None
                right = same_work(corpus, f.guess, target)
                confident_right += right
                if show and not right:
                    guess = corpus.titles[f.guess][:70] if f.guess is not None else None
                    print(f"  confident wrong: {text[f.start : f.end]!r} -> {guess!r}")
        for g in gold:
            gold_total += 1
            overlapping = sorted(
                (f for f in found if f.start < g["end"] and g["start"] < f.end), key=lambda f: not f.confident
            )
            gold_found += bool(overlapping)
            if show and not overlapping:
                print(f"  missed: {text[g['start'] : g['end']]!r}")
            target = target_of(corpus, g, text)
            if target is None:
                continue
            guess = overlapping[0].guess if overlapping else None
            right = same_work(corpus, guess, target)
            all_total += 1
            all_right += right
            if ambiguous_in(corpus, g, text):
                continue
            top1_total += 1
            top1_right += right
            if show and overlapping and not right:
                title = corpus.titles[guess][:70] if guess is not None else None
                said = text[overlapping[0].start : overlapping[0].end]
                print(f"  top-1 wrong: {text[g['start'] : g['end']]!r} (read {said!r}) -> {title!r}")
    return {
        "mention precision": found_matched / max(1, found_total),
        "recall": gold_found / max(1, gold_total),
        "top-1 (in KB)": top1_right / max(1, top1_total),
        "top-1 (all)": all_right / max(1, all_total),
        "confident precision": confident_right / max(1, confident_total),
        "found": found_total,
        "gold": gold_total,
        "in KB": top1_total,
        "all in KB": all_total,
        "confident": confident_total,
    }


def calibration(records: list[dict], corpus: CorpusIndex, thresholds: list[float]) -> list[tuple[float, int, float]]:
    """Confident-answer precision on `records` if `confident` needed each score threshold (margin rules kept)."""
    resolver = ReferenceResolver(corpus, threshold=0.0)
    answers: list[tuple[float, bool]] = []  # (score of a confident answer at threshold 0, right)
    for record in records:
        for found in read_references(record["text"], resolver):
            if not found.confident or found.best is None:
                continue
            m = found.mention
            hits = [g for g in record["mentions"] if m.start < g["end"] and g["start"] < m.end]
            target = target_of(corpus, hits[0], record["text"]) if hits else None
            answers.append((found.best.score, same_work(corpus, found.best.doc, target)))
    rows = []
    for threshold in thresholds:
        kept = [right for score, right in answers if score >= threshold]
        rows.append((threshold, len(kept), sum(kept) / max(1, len(kept))))
    return rows


def latency_ms(cite: Callable[[str], object], references: list[str]) -> tuple[float, float, float]:
    """p50 and p95 wall time and p95 CPU time (what a loaded machine does not inflate) of warm calls, in ms."""
    for reference in references[:20]:
        cite(reference)  # warm
    wall, cpu = [], []
    for reference in references:
        started, started_cpu = time.perf_counter(), time.thread_time()
        cite(reference)
        wall.append((time.perf_counter() - started) * 1000)
        cpu.append((time.thread_time() - started_cpu) * 1000)
    return statistics.median(wall), statistics.quantiles(wall, n=20)[-1], statistics.quantiles(cpu, n=20)[-1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--kb", choices=["core", "full"], default="core")
    parser.add_argument("--show", choices=["dev", "heldout"], help="print the errors of the new code on a split")
    parser.add_argument("--baseline", default="main", help="git revision measured beside today's code (main)")
    args = parser.parse_args()
    started = time.perf_counter()
    corpus = corpus_for(args.kb)
    print(f"KB {args.kb}: {len(corpus)} works (index {time.perf_counter() - started:.0f} s)", file=sys.stderr)
    records = [json.loads(line) for line in LABELLED.open(encoding="utf-8")]
    references = [r["text"][m["start"] : m["end"]] for r in records for m in r["mentions"]]
    commit = subprocess.run(
        ["git", "rev-parse", "--short", args.baseline], cwd=REPO, check=True, capture_output=True, text=True
    ).stdout.strip()
    readers = {
        f"before #11 ({ISSUE_BASELINE})": issue_baseline_reader(corpus),
        f"{args.baseline} ({commit})": main_reader(main_corpus(corpus, args.kb, commit), commit),
        "alignbot": new_reader(corpus),
    }
    rows = []
    for split in ("dev", "heldout"):
        part = [r for r in records if r["split"] == split]
        for name, (read, _cite) in readers.items():
            show = args.show == split and name == "alignbot"
            rows.append((split, name, evaluate(part, corpus, read, show)))
    print(f"\nKB {args.kb} ({len(corpus)} works); {LABELLED.name}: {len(records)} sentences; load {os.getloadavg()}\n")
    print(
        "| split | code | mention precision | recall | top-1 (in KB) | top-1 (all) | confident precision "
        "| found / gold / in KB (all) |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for split, name, m in rows:
        print(
            f"| {split} | {name} | {m['mention precision']:.3f} | {m['recall']:.3f} | {m['top-1 (in KB)']:.3f} | "
            f"{m['top-1 (all)']:.3f} | {m['confident precision']:.3f} ({m['confident']:.0f}) | "
            f"{m['found']:.0f} / {m['gold']:.0f} / {m['in KB']:.0f} ({m['all in KB']:.0f}) |"
        )
    dev = [r for r in records if r["split"] == "dev"]
    print("\ncalibration on dev (alignbot): threshold -> confident answers, precision")
    for threshold, count, precision in calibration(dev, corpus, [0.6, 0.65, 0.7, 0.72, 0.75, 0.8, 0.85, 0.9]):
        print(f"  {threshold:.2f}: {count} answers, precision {precision:.3f}")
    print()
    for round_ in (1, 2):  # alternating, so a burst of load on the machine hits every reader alike
        for name, (_read, cite) in readers.items():
            p50, p95, cpu95 = latency_ms(cite, references)
            print(
                f"warm cite ({name}, {len(references)} references, round {round_}): "
                f"p50 {p50:.1f} ms, p95 {p95:.1f} ms (CPU p95 {cpu95:.1f} ms)"
            )
    print(f"load average {os.getloadavg()}")


if __name__ == "__main__":
    main()

"""Works named by nickname in other word forms, and by a nickname after a wrong author, today's `cite` resolver
beside a git revision's (main by default), over the bundled reading list.

References are made from the reading list's own aliases of two words or more (not author citations): each alias
with one word in another form ("mesa-optimization" → "mesa-optimizer", "-isation", a plural dropped or added),
written three ways: bare, "the … paper", and "<first author>'s … paper"; and each work's whole title, alone and
with its venue and year ("Toy Models of Superposition, Transformer Circuits Thread 2022"). Top-1 and
confident answers are counted against the work whose alias (or title) it is; a confident answer naming another
work is a wrong citation. Another set
names each alias as it is after the first author of another work of the list who did not write it ("Everitt's
sleeper agents paper"): the reference contradicts itself, so a confident answer there claims more than it knows.
Each set is reported on all its works and on a held-out third of them (by a hash of the work's id): the weights
of the first change measured here (README, "Nicknames in other word forms") were chosen before the split existed;
later tuning should use the other two thirds only.

A last set is other works' titles: those of the 51k-work KB in ../shared/data/kb that read like a listed title
(rapidfuzz ratio 80–99 after normalising: "CMMLU: Measuring Massive Multitask Language Understanding in
Chinese", "Not All Attention Is All You Need"), by another first author and without the listed work's arXiv id.
None of them is on the list, so every confident answer there is a wrong citation (skipped without ../shared).

Usage: python -m bench.name_variants [--baseline REV]
"""

from __future__ import annotations

import argparse
import gzip
import json
import re
import subprocess
import tempfile
from pathlib import Path

import numpy as np
from rapidfuzz import fuzz, process

from bench.mentions import REPO, SHARED, baseline_resolve
from bench.quality import heldout  # the same stable hash split, here of work ids
from bot.engine import Engine
from bot.identifiers import normalize_text, surname
from bot.retrieval.resolve import ReferenceResolver
from bot.settings import Settings

READING_LIST = REPO / "knowledge" / "reading_list.jsonl"
FULL_KB = SHARED / "kb" / "alignment_kb.jsonl.gz"
OTHER_WORKS = "titles of other works (51k KB look-alikes)"
WORD_FORMS = [
    (r"ization$", "izer"), (r"isation$", "iser"), (r"ization$", "isation"), (r"ing$", "ed"), (r"s$", ""),
    (r"([^s])$", r"\1s"), (r"ation$", "ations"), (r"ness$", ""), (r"ive$", "ion"),
]  # fmt: skip


def word_forms(alias: str) -> set[str]:
    """The alias with one word of more than four letters in another form."""
    words = alias.split()
    found = set()
    for n, word in enumerate(words):
        for pattern, replacement in WORD_FORMS:
            if len(word) > 4 and re.search(pattern, word):
                found.add(" ".join([*words[:n], re.sub(pattern, replacement, word), *words[n + 1 :]]))
    return found - {alias}


def reference_sets(records: list[dict]) -> dict[str, list[tuple[str, str]]]:
    """Each set's (reference, the id of the work meant) pairs."""
    first_authors = {r["authors"][0].split()[-1] for r in records if r.get("authors")}
    sets: dict[str, list[tuple[str, str]]] = {"bare": [], "the … paper": [], "author's … paper": []}
    sets["whole title"] = [(record["title"], record["id"]) for record in records]
    sets["whole title, venue year"] = [
        (f"{r['title']}, {r['venue']}" + ("" if re.search(r"\d{4}", r["venue"]) else f" {r['year']}"), r["id"])
        for r in records
        if r.get("venue") and r.get("year")
    ]
    misattributed: list[tuple[str, str]] = []
    for record in records:
        surnames = {a.split()[-1] for a in record.get("authors") or []}
        for alias in record.get("aliases") or []:
            if len(alias.split()) < 2 or re.search(r"\d{4}|et al|['’()]", alias):
                continue
            for form in sorted(word_forms(alias)):
                sets["bare"].append((form, record["id"]))
                sets["the … paper"].append((f"the {form} paper", record["id"]))
                if surnames:
                    sets["author's … paper"].append(
                        (f"{record['authors'][0].split()[-1]}'s {form} paper", record["id"])
                    )
            other = sorted(first_authors - surnames)
            if other:  # one per alias, picked by a stable hash
                misattributed.append((f"{other[sum(map(ord, alias)) % len(other)]}'s {alias} paper", record["id"]))
    sets["another author's … paper (misattributed)"] = misattributed
    if FULL_KB.is_file():
        sets[OTHER_WORKS] = look_alike_titles(records)
    return sets


def look_alike_titles(records: list[dict]) -> list[tuple[str, str]]:
    """(title of a work not on the list, id of the listed work it reads like): see the module's docstring."""
    listed = [normalize_text(r["title"]) for r in records]
    arxiv_ids = {r.get("arxiv_id") for r in records} - {None}
    others: list[dict] = []
    with gzip.open(FULL_KB, "rt", encoding="utf-8") as file:
        for line in file:
            work = json.loads(line)
            if len((work.get("title") or "").split()) >= 3 and work.get("arxiv_id") not in arxiv_ids:
                others.append(work)
    ratios = process.cdist(
        [normalize_text(w["title"]) for w in others], listed, scorer=fuzz.ratio, workers=-1, dtype=np.uint8
    )
    pairs: dict[str, str] = {}
    for i in np.flatnonzero((ratios.max(axis=1) >= 80) & (ratios.max(axis=1) < 100)):
        record = records[int(ratios[i].argmax())]
        authors = [surname(a) for a in others[i].get("authors") or []] or [""]
        if authors[0] != surname((record.get("authors") or [""])[0]):  # the same first author: a variant record
            pairs.setdefault(others[i]["title"], record["id"])
    return sorted(pairs.items())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--baseline", default="main", help="git revision measured beside today's code (main)")
    args = parser.parse_args()
    commit = subprocess.run(
        ["git", "rev-parse", "--short", args.baseline], cwd=REPO, check=True, capture_output=True, text=True
    ).stdout.strip()
    records = [json.loads(line) for line in READING_LIST.open(encoding="utf-8")]
    with tempfile.TemporaryDirectory(prefix="name-variants-") as directory:
        engine = Engine.open(Settings(data_dir=Path(directory)))
        corpus = engine.corpus
        old = baseline_resolve(commit, "baseline")
        resolvers = {
            f"{args.baseline} ({commit})": old.ReferenceResolver(corpus),
            "alignbot": ReferenceResolver(corpus),
        }
        print(f"{len(corpus)} works; confident wrong = a confident answer naming another work than the one meant")
        print("| set | references | code | top-1 | confident right | confident wrong |\n|---|---|---|---|---|---|")
        for name, pairs in reference_sets(records).items():
            for split, kept in (("all", pairs), ("held-out", [p for p in pairs if heldout(p[1])])):
                for code, resolver in resolvers.items():
                    right = sure_right = sure_wrong = 0
                    for reference, meant in kept:
                        candidates = resolver.resolve(reference)
                        sure = resolver.is_confident(candidates)
                        listed = corpus.keys.get(f"id:{meant}") if name != OTHER_WORKS else None  # no right answer
                        hit = bool(candidates) and corpus.ids[candidates[0].doc] == listed
                        right += hit
                        sure_right += sure and hit
                        sure_wrong += sure and not hit
                    print(f"| {name}, {split} | {len(kept)} | {code} | {right} | {sure_right} | {sure_wrong} |")
        engine.close()


if __name__ == "__main__":
    main()

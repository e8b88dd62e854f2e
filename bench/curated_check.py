"""Check (and with --fix, correct) the curated reading list against the public bibliographic records in
../shared/data: complete author lists, years that agree with venues, and arXiv titles that match.

Only bibliographic facts are compared or taken over (authors, titles, years); abstracts and other prose in
../shared are never read into the reading list.

    python bench/curated_check.py            # report; exit status 1 when a check fails
    python bench/curated_check.py --fix      # also rewrite knowledge/reading_list.jsonl with the corrections
    python bench/curated_check.py --json     # the figures as JSON
    python bench/curated_check.py --baseline 6816376   # also the figures of the list at a git revision

Checks, per curated work:
- truncated authors: the list ends with "et al."/"others", or it is shorter than a public record of the same
  work (same arXiv id or title) whose first author is the same person. --fix takes the longest such public list.
- year/venue clash: the venue names a year ("ICLR 2024") other than the work's year.
- arXiv title: the public title of the work's arXiv id matches its title or one of its aliases (case,
  punctuation and spacing aside; a public title cut short matches the title it begins); a renamed paper keeps
  its other title as an alias.
- entry type: `kind` is one of the entry types the citation formats know (bot.domain.WORK_KINDS), not the
  generic "paper" that ingested records get.
"""

from __future__ import annotations

import argparse
import gzip
import json
import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from unidecode import unidecode

from bot.domain import WORK_KINDS
from bot.identifiers import surname

REPO = Path(__file__).resolve().parent.parent
READING_LIST = REPO / "knowledge" / "reading_list.jsonl"
SHARED = REPO.parent / "shared" / "data"

# Files of bibliographic records in the common paper schema. The ICLR 2025 list is left out of author checks:
# its author lists are sorted alphabetically, not in the paper's order.
PUBLIC_FILES = [
    "kb/alignment_kb.jsonl.gz",
    "kb/alignment_core.jsonl",
    "stampy_alignment_research_dataset/arxiv_alignment_papers.jsonl",
    "stampy_alignment_research_dataset/tai_safety_bibliography.jsonl",
    "stampy_alignment_research_dataset/alignment_newsletter.jsonl",
    "shallow_review_2025_ai_safety/outputs.jsonl",
    "shallow_review_2025_ai_safety/lenz_ai_safety_papers.jsonl",
    "shallow_review_2025_ai_safety/arxiv_candidates_annotated.jsonl",
    "bib_citation_entries/entries.jsonl",
    "conference_title_lists/acl2020_accepted.jsonl",
]
ALPHABETICAL_SOURCES = ("ICLR2025-OpenReview",)
TRUNCATION_MARK = re.compile(r"(^|\s)(et al\.?|others|and others|\.\.\.|…)$", re.IGNORECASE)
VENUE_YEAR = re.compile(r"\b(19[5-9]\d|20[0-4]\d)\b")


def normalized_title(title: str) -> str:
    return re.sub(r"[^a-z0-9]+", " ", unidecode(title).lower()).strip()


def _name_words(name: str) -> set[str]:
    return set(normalized_title(name).split())


def _same_person(a: str, b: str) -> bool:
    return normalized_title(surname(a)) == normalized_title(surname(b))


def public_records(shared: Path = SHARED) -> Iterator[dict[str, Any]]:
    for name in PUBLIC_FILES:
        path = shared / name
        opener = gzip.open if name.endswith(".gz") else open
        with opener(path, "rt", encoding="utf-8") as lines:
            for line in lines:
                record = json.loads(line)
                # Only the facts: prose never leaves this function.
                yield {
                    key: record.get(key)
                    for key in ("id", "arxiv_id", "title", "authors", "year", "venue", "source", "doi")
                }


@dataclass
class PublicIndex:
    by_arxiv: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    by_title: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    @classmethod
    def load(cls, shared: Path = SHARED) -> PublicIndex:
        index = cls()
        for record in public_records(shared):
            if record["arxiv_id"]:
                index.by_arxiv.setdefault(str(record["arxiv_id"]), []).append(record)
            if record["title"]:
                index.by_title.setdefault(normalized_title(record["title"]), []).append(record)
        return index

    def records_of(self, work: dict[str, Any]) -> list[dict[str, Any]]:
        """Public records of the work: same arXiv id, or same title (works without an arXiv id, and records
        that lack one)."""
        records = list(self.by_arxiv.get(work.get("arxiv_id") or "", []))
        records += self.by_title.get(normalized_title(work["title"]), [])
        return records

    def fuller_authors(self, work: dict[str, Any]) -> list[str] | None:
        """The longest public author list of this work that is longer than ours and names people ours lacks,
        when it starts with the same person (so a different paper filed under a wrong id never replaces our
        authors). Names are compared word by word: a public list that splits "Michael (Rai) Pokorny" in two
        adds nobody."""
        ours = [a for a in work["authors"] if not TRUNCATION_MARK.search(a)]
        our_words = {w for a in ours for w in _name_words(a)}
        best: list[str] | None = None
        for record in self.records_of(work):
            authors = record["authors"] or []
            if any(s in (record["source"] or "") for s in ALPHABETICAL_SOURCES) or not authors:
                continue
            if any(TRUNCATION_MARK.search(a) for a in authors):
                continue  # the public list is itself cut short
            if ours and not _same_person(authors[0], ours[0]):
                continue
            if len(authors) <= len(ours) or (best and len(authors) <= len(best)):
                continue
            if all(_name_words(a) <= our_words for a in authors):
                continue  # longer only by splitting names
            best = authors
        return best

    def titles(self, arxiv_id: str) -> set[str]:
        return {normalized_title(r["title"]) for r in self.by_arxiv.get(arxiv_id, []) if r["title"]}


def titles_match(ours: set[str], public: set[str]) -> bool:
    """Some public lists cut long titles (at ~75 characters, mid-word): a long public title that begins ours
    is the same title."""
    return any(p == o or (len(p) >= 40 and o.startswith(p.rsplit(" ", 1)[0])) for p in public for o in ours)


def year_venue_clash(work: dict[str, Any]) -> str | None:
    """The venue names a year other than the work's year ("ICLR 2024" on a 2023 work)."""
    venue_years = {int(y) for y in VENUE_YEAR.findall(work.get("venue") or "")}
    if venue_years and work.get("year") not in venue_years:
        return f"year {work.get('year')} but venue {work['venue']!r}"
    return None


@dataclass
class Report:
    works: int = 0
    arxiv_ids: int = 0
    arxiv_in_public: int = 0
    truncated: list[str] = field(default_factory=list)
    clashes: list[str] = field(default_factory=list)
    title_mismatches: list[str] = field(default_factory=list)
    bad_kinds: list[str] = field(default_factory=list)
    fixed_authors: list[str] = field(default_factory=list)

    @property
    def failed(self) -> bool:
        return bool(self.truncated or self.clashes or self.title_mismatches or self.bad_kinds)

    def figures(self) -> dict[str, Any]:
        return {
            "works": self.works,
            "arxiv_ids": self.arxiv_ids,
            "arxiv_ids_in_public_records": self.arxiv_in_public,
            "truncated_author_lists": len(self.truncated),
            "year_venue_clashes": len(self.clashes),
            "arxiv_title_mismatches": len(self.title_mismatches),
            "works_without_entry_type": len(self.bad_kinds),
            "author_lists_completed": len(self.fixed_authors),
        }


def check(works: list[dict[str, Any]], index: PublicIndex, fix: bool = False) -> Report:
    report = Report(works=len(works))
    for work in works:
        wid = work["id"]
        if any(TRUNCATION_MARK.search(a) for a in work["authors"]):
            report.truncated.append(f"{wid}: author list ends with {work['authors'][-1]!r}")
        fuller = index.fuller_authors(work)
        if fuller:
            if fix:
                report.fixed_authors.append(f"{wid}: {len(work['authors'])} -> {len(fuller)} authors")
                work["authors"] = fuller
            else:
                report.truncated.append(f"{wid}: {len(work['authors'])} authors, public record has {len(fuller)}")
        if clash := year_venue_clash(work):
            report.clashes.append(f"{wid}: {clash}")
        if work.get("kind") not in WORK_KINDS - {"paper"}:  # a curated work says what it is
            report.bad_kinds.append(f"{wid}: kind {work.get('kind')!r}")
        if arxiv_id := work.get("arxiv_id"):
            report.arxiv_ids += 1
            public = index.titles(arxiv_id)
            if public:
                report.arxiv_in_public += 1
                ours = {normalized_title(t) for t in [work["title"], *work.get("aliases", [])]}
                if not titles_match(ours, public):
                    report.title_mismatches.append(f"{wid}: {work['title']!r} vs public {sorted(public)}")
    return report


def parse_works(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def load_works(path: Path = READING_LIST) -> list[dict[str, Any]]:
    return parse_works(path.read_text(encoding="utf-8"))


def works_at(revision: str) -> list[dict[str, Any]]:
    """The reading list as committed at a git revision (the baseline)."""
    shown = subprocess.run(
        ["git", "show", f"{revision}:knowledge/reading_list.jsonl"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    )
    return parse_works(shown.stdout)


def save_works(works: list[dict[str, Any]], path: Path = READING_LIST) -> None:
    path.write_text("".join(json.dumps(w, ensure_ascii=False) + "\n" for w in works), encoding="utf-8")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--fix", action="store_true", help="rewrite the reading list with completed author lists")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument("--shared", type=Path, default=SHARED, help="the shared data folder")
    parser.add_argument("--baseline", metavar="REVISION", help="also check the list as committed at this revision")
    args = parser.parse_args()
    works = load_works()
    index = PublicIndex.load(args.shared)
    report = check(works, index, fix=args.fix)
    if args.fix and report.fixed_authors:
        save_works(works)
    if args.json:
        print(json.dumps(report.figures(), indent=2))
    else:
        for title, problems in [
            ("author lists completed", report.fixed_authors),
            ("truncated author lists", report.truncated),
            ("year/venue clashes", report.clashes),
            ("arXiv titles not matching the public record", report.title_mismatches),
            ("works without an entry type", report.bad_kinds),
        ]:
            for problem in problems:
                print(f"{title}: {problem}")
        print(" · ".join(f"{k}: {v}" for k, v in report.figures().items()))
    if args.baseline:
        baseline = check(works_at(args.baseline), index).figures()
        print(f"{'figure':<30} {'baseline ' + args.baseline:>18} {'now':>8}")
        for name, value in report.figures().items():
            print(f"{name:<30} {baseline[name]:>18} {value:>8}")
    return 1 if report.failed else 0


if __name__ == "__main__":
    sys.exit(main())

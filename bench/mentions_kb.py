"""The knowledge bases the mention benchmark reads: records only (no vectors), built once under /tmp and reused.

`core`: ../shared/data/kb/alignment_core.jsonl plus the reading list (about 9k works);
`full`: alignment_kb.jsonl.gz plus the reading list (about 50k works).
"""

from __future__ import annotations

import sys
from pathlib import Path

from bot.domain import IngestReport
from bot.ingest.pipeline import RecordMerger, ingest_file
from bot.retrieval.corpus import CorpusIndex
from bot.storage import Database, schema

REPO = Path(__file__).resolve().parents[1]
# ../shared/data beside the checkout; a git worktree (/work/wt/<name>) finds it one level further up.
SHARED = next(
    (p / "shared" / "data" for p in REPO.parents if (p / "shared" / "data").is_dir()), REPO.parent / "shared" / "data"
)
READING_LIST = REPO / "knowledge" / "reading_list.jsonl"
SOURCES = {"core": SHARED / "kb" / "alignment_core.jsonl", "full": SHARED / "kb" / "alignment_kb.jsonl.gz"}


def open_kb(name: str, root: Path = Path("/tmp/alignbot-mentions-kb")) -> Database:
    """The database of one benchmark KB, ingested on first use (checkpoints make later calls no-ops)."""
    root.mkdir(parents=True, exist_ok=True)
    db = Database(f"sqlite:///{root / name}.sqlite3")
    schema.upgrade(db.engine)
    report = IngestReport()
    merger = RecordMerger(db)
    ingest_file(db, merger, SOURCES[name], report)
    ingest_file(db, merger, READING_LIST, report, curated=True)
    if report.added:
        print(f"{name}: ingested {report.added} works", file=sys.stderr)
    return db


def corpus_for(name: str, root: Path = Path("/tmp/alignbot-mentions-kb")) -> CorpusIndex:
    """The KB's index, saved beside it: later runs load it in seconds instead of rebuilding it."""
    return CorpusIndex.load_or_build(open_kb(name, root), root / f"{name}.index.pickle")


if __name__ == "__main__":
    for kb in sys.argv[1:] or ["core"]:
        print(kb, len(corpus_for(kb)), "works")

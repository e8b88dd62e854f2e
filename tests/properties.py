"""Hypothesis settings for the property-based tests of the parsers the outside world feeds.

The profiles are registered here and used as decorators (`@PURE`, `@STATEFUL`) rather than loaded
globally, so other suites' hypothesis settings (the schemathesis fuzz of the HTTP API) are untouched.
With `CI` set, examples are derandomized: a CI run is reproducible and never flakes on a new example;
locally each run explores new inputs and the example database replays past failures.
`ALIGNBOT_PROPERTY_EXAMPLES=2000 pytest tests/...` searches deeper than the default run can afford.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import TypeVar

from hypothesis import HealthCheck, settings

from bot.domain import IngestReport
from bot.ingest.pipeline import RecordMerger, ingest_file
from bot.retrieval.corpus import CorpusIndex
from bot.settings import REPO_ROOT
from bot.storage import Database

T = TypeVar("T")

_CI = bool(os.environ.get("CI"))
# In CI nothing is read from or written to an example database: every run tries the same examples.
_CI_ONLY: dict[str, object] = {"database": None} if _CI else {}

# Pure text parsers: cheap examples, a deadline generous enough for a shared 2-core machine yet far below
# what a quadratic regex needs on the inputs generated here.
settings.register_profile(
    "alignbot-pure",
    max_examples=int(os.environ.get("ALIGNBOT_PROPERTY_EXAMPLES", "60")),
    deadline=timedelta(milliseconds=1500),
    derandomize=_CI,
    **_CI_ONLY,  # type: ignore[arg-type]
    suppress_health_check=[HealthCheck.too_slow],
)
# Examples over a real engine (SQLite, Chroma, the MiniLM embedder): few, and no deadline, since the
# first encode of a run or a busy machine can take seconds.
settings.register_profile(
    "alignbot-stateful",
    max_examples=8,
    deadline=None,
    derandomize=_CI,
    **_CI_ONLY,  # type: ignore[arg-type]
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

PURE = settings.get_profile("alignbot-pure")
STATEFUL = settings.get_profile("alignbot-stateful")


def elapsed(call: Callable[[], T]) -> tuple[T, float]:
    """The result of `call()` and the CPU seconds this process spent on it: what an algorithm costs, unlike the
    wall clock, which other processes on a loaded machine stretch (CI runs two test passes on two cores)."""
    start = time.process_time()
    result = call()
    return result, time.process_time() - start


def reading_list_corpus(directory: Path) -> CorpusIndex:
    """The bundled reading list as reference resolution sees it: stored in SQLite, indexed, never embedded
    (resolution and mention finding use no vectors), so building it takes a second, not a model load."""
    db = Database(f"sqlite:///{directory / 'corpus.db'}")
    report = IngestReport()
    for path in sorted((REPO_ROOT / "knowledge").glob("*.jsonl")):
        ingest_file(db, RecordMerger(db), path, report, curated=True)
    assert not report.errors, report.errors
    corpus = CorpusIndex.build(db)
    db.close()
    return corpus


def short_id(value: object) -> str:
    """A readable pytest id for a long adversarial parameter: its start and its length."""
    text = str(value)
    return text if len(text) <= 20 else f"{text[:12]!r}x{len(text)}"

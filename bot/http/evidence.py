"""Side-by-side passages for the moderator page: each copied passage of a submission next to the same
passage in the source, with a little context on both sides.

The rules report passages as the submission's words. Finding them in the source again uses the same
word shingles the duplicate check used, so punctuation, case and markup differences do not matter.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from bot.moderation.schemas import Finding, Submission
from bot.moderation.service import Moderator
from bot.moderation.shingles import Shingled, shingle
from bot.moderation.text import parse_body

CONTEXT_WORDS = 18
MAX_MATCH_WORDS = 90


@dataclass
class Excerpt:
    before: str
    match: str
    after: str


@dataclass
class PassagePair:
    submission: Excerpt
    source: Excerpt | None  # None when the source text is gone (deleted since the check)


def _excerpt(text: Shingled, first: int, last: int) -> Excerpt:
    start = int(text.origin[first])
    end = int(text.origin[min(last + text.k - 1, len(text.origin) - 1)])
    words = text.tokens[start : end + 1]
    if len(words) > MAX_MATCH_WORDS:
        half = MAX_MATCH_WORDS // 2
        words = [*words[:half], "…", *words[-half:]]
    before = text.tokens[max(0, start - CONTEXT_WORDS) : start]
    after = text.tokens[end + 1 : end + 1 + CONTEXT_WORDS]
    return Excerpt(
        before=("… " if start > CONTEXT_WORDS else "") + " ".join(before),
        match=" ".join(words),
        after=" ".join(after) + (" …" if end + 1 + CONTEXT_WORDS < len(text.tokens) else ""),
    )


def locate(passage: str, text: Shingled) -> Excerpt | None:
    """Where a passage's shingles occur in `text`: the span from the first to the last shared shingle,
    or the longest run when that span is much longer than the passage (shared stock phrases)."""
    wanted = shingle(passage, text.k).unique
    if wanted.size == 0 or text.hashes.size == 0:
        return None
    inside = np.isin(text.hashes, wanted)
    positions = np.flatnonzero(inside)
    if positions.size == 0:
        return None
    first, last = int(positions[0]), int(positions[-1])
    if last - first > 2 * max(len(passage.split()), wanted.size):
        padded = np.concatenate([[False], inside, [False]]).astype(np.int8)
        edges = np.diff(padded)
        starts, ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1) - 1
        best = int(np.argmax(ends - starts))
        first, last = int(starts[best]), int(ends[best])
    return _excerpt(text, first, last)


def passage_pairs(moderator: Moderator, finding: Finding, submission: dict[str, Any]) -> list[PassagePair]:
    """Pairs for a finding with copied passages (duplicate, not-own-content, crosspost); [] otherwise."""
    evidence = finding.evidence
    passages = evidence.get("passages") or []
    source = evidence.get("source")
    if not passages or not isinstance(source, dict):
        return []
    k = moderator.params.shingle_size
    try:
        sub = Submission.model_validate(submission)
        sub_text = shingle(parse_body(sub.body, sub.body_format).text, k)
    except ValueError:
        sub_text = None
    raw = moderator.source_text(str(source.get("kind")), str(source.get("id")))
    src_text = shingle(raw, k) if raw else None
    pairs = []
    for passage in passages:
        mine = locate(passage, sub_text) if sub_text else None
        pairs.append(
            PassagePair(
                submission=mine or Excerpt("", passage, ""),
                source=locate(passage, src_text) if src_text else None,
            )
        )
    return pairs

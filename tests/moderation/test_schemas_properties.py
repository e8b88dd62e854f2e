"""Properties of the moderation layer's inputs: member and post JSON Lines, submission files and records.

For any file: every non-blank line is either stored or reported as `file:line: reason` (never both, never
neither, and no exception stops the import); importing again adds nothing. For valid records: what is
written is what validates, and a misspelt key is an error, not a silently missing field.
"""

from __future__ import annotations

import json
import random
import re
import tempfile
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import example, given
from hypothesis import strategies as st
from pydantic import ValidationError

from bot.embedding import Embedder
from bot.engine import Engine
from bot.moderation.schemas import MemberRecord, PostRecord, Submission, guess_format
from bot.moderation.service import ModerationError, Moderator, load_submission
from tests.conftest import make_settings
from tests.properties import PURE, STATEFUL

RULES = Path(__file__).resolve().parents[2] / "knowledge" / "moderation.yaml"


@pytest.fixture(scope="module")
def workdir() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="moderation-properties-") as directory:
        yield Path(directory)


@pytest.fixture(scope="module")
def moderator(workdir: Path, embedder: Embedder) -> Iterator[Moderator]:
    """One moderator for the module: examples use handles of their own, so they never meet."""
    engine = Engine.open(make_settings(workdir / "kb", load_bundled_knowledge=False), embedder=embedder)
    yield Moderator(engine, config_path=RULES)
    engine.close()


def non_blank_lines(data: bytes) -> list[int]:
    # Line ends as a file read in text mode has them ("\n", "\r\n", "\r"; not str.splitlines' "\x0c" or "\x85").
    text = data.decode("utf-8", errors="surrogateescape")
    return [n for n, line in enumerate(re.split(r"\r\n|\r|\n", text), start=1) if line.strip()]


# --- member files ------------------------------------------------------------------------------------------------

member_keys = st.sampled_from(["handle", "name", "groups", "karma", "Handle", "karmaa"])
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(member_keys, inner, max_size=3),
    max_leaves=8,
)
member_lines = st.dictionaries(member_keys, json_values, max_size=4).map(json.dumps)
lines = st.lists(member_lines | st.text(max_size=20) | st.just(""), max_size=8).map(lambda ls: "\n".join(ls).encode())


@given(lines | st.binary(max_size=300))
@example(b'{"handle": "ok-1"}\n{"handle": "b\xffd"}\n{"handle": "ok-2"}\n')  # UnicodeDecodeError stopped the import
@example(b"[" * 50_000 + b"\n")  # RecursionError
@PURE
def test_every_member_line_is_stored_or_reported(moderator: Moderator, workdir: Path, data: bytes) -> None:
    # Handles of this example only, so "added" counts exactly this file's new members.
    tag = uuid.uuid4().hex[:8]
    data = data.replace(b'"handle": "', f'"handle": "{tag}-'.encode())
    path = workdir / "members.jsonl"
    path.write_bytes(data)
    report = moderator.import_members(path)
    lines_ = non_blank_lines(data)
    assert report.read == len(lines_)
    assert len(report.errors) + report.added + report.updated == report.read
    for error in report.errors:
        assert error.startswith(f"{path}:") and int(error.split(":")[1]) in lines_ and "\n" not in error


handles = st.text(st.sampled_from("abcdefghijklmnopqrstuvwxyzABCD0123456789_.-"), min_size=1, max_size=12)


@given(st.lists(handles, min_size=1, max_size=6, unique_by=str.casefold), st.randoms(use_true_random=False))
@STATEFUL
def test_members_imported_again_or_shuffled_are_stored_once(
    moderator: Moderator, workdir: Path, names: list[str], rng: random.Random
) -> None:
    tag = uuid.uuid4().hex[:8]
    members = [
        {"handle": f"{tag}{n}", "name": n, "groups": ["alignmentForum"], "karma": i} for i, n in enumerate(names)
    ]
    first = workdir / f"{tag}-a.jsonl"
    first.write_text("\n".join(json.dumps(m) for m in members), encoding="utf-8")
    again = [dict(m, handle=m["handle"].upper()) for m in members] * 2  # handles are compared case-insensitively
    rng.shuffle(again)
    second = workdir / f"{tag}-b.jsonl"
    second.write_text("\n".join(json.dumps(m) for m in again), encoding="utf-8")
    reports = [moderator.import_members(first), moderator.import_members(second), moderator.import_members(first)]
    assert reports[0].added == len(members) and reports[1].added == reports[2].added == 0
    stored = moderator.members(m["handle"] for m in members)
    assert len(stored) == len(members)
    assert {row.handle for row in stored.values()} == {m["handle"] for m in members}  # the last import's spelling


# --- submissions -------------------------------------------------------------------------------------------------

text = st.text(max_size=30)
non_blank = st.text(max_size=20).filter(lambda t: t.replace("\x00", "").strip())  # the models strip NUL too
submissions = st.fixed_dictionaries(
    {
        "id": non_blank,
        "forum": non_blank,
        "title": non_blank,
        "body": text,
        "submitter": non_blank,
        "authors": st.lists(st.fixed_dictionaries({"handle": non_blank, "confirmed": st.booleans()}), min_size=1),
    },
    optional={
        "body_format": st.sampled_from(["markdown", "html"]),
        "url": st.none() | st.just("") | st.just("https://example.org/p"),
        "canonical_url": st.none() | st.just("https://blog.example/x"),
        "members_forum": st.booleans(),
        "posted_at": st.datetimes(timezones=st.just(UTC)).map(datetime.isoformat),
    },
)


@given(submissions)
@PURE
def test_a_valid_submission_reads_back_from_its_json(data: dict[str, Any]) -> None:
    submission = Submission.model_validate(data)
    assert Submission.model_validate(submission.model_dump(mode="json")) == submission
    assert submission.author == submission.authors[0].handle
    assert submission.url is None or submission.url  # a blank link is no link


@given(submissions, st.text(min_size=1, max_size=12).filter(lambda k: k not in Submission.model_fields))
@example(
    {"id": "1", "forum": "f", "title": "t", "body": "", "submitter": "a", "authors": [{"handle": "a"}]}, "canonicalUrl"
)
@PURE
def test_a_misspelt_key_is_an_error(data: dict[str, Any], key: str) -> None:
    with pytest.raises(ValidationError, match="Extra inputs are not permitted"):
        Submission.model_validate({**data, key: "https://blog.example/x"})


@given(st.binary(max_size=200) | submissions.map(lambda d: json.dumps(d).encode()))
@example(b'{"id": "\xff"}')  # UnicodeDecodeError escaped
@example(b"[" * 50_000)  # RecursionError escaped
@PURE
def test_a_submission_file_loads_or_says_what_is_wrong(workdir: Path, data: bytes) -> None:
    path = workdir / "submission.json"
    path.write_bytes(data)
    try:
        submission = load_submission(path)
    except ModerationError as exc:
        assert str(exc).startswith(str(path)) and "\n" not in str(exc)
    else:
        assert isinstance(submission, Submission)


@given(
    non_blank,
    st.lists(non_blank, max_size=3),
    st.text(max_size=60) | st.sampled_from(["<p>Hi</p>", "  <div class='x'>a</div>", "# Title\n\ntext"]),
    st.none() | st.sampled_from(["markdown", "html"]),
)
@PURE
def test_a_post_record_names_its_author_and_format(author: str, authors: list[str], body: str, fmt: str | None) -> None:
    record = PostRecord(id="p1", author=author, authors=authors, title="t", body=body, body_format=fmt)
    assert record.author in record.authors
    assert record.body_format == (fmt or guess_format(body.strip()))


@given(st.dictionaries(st.sampled_from(["handle", "name", "groups", "karma"]), json_values))
@PURE
def test_member_records_validate_or_fail_cleanly(data: dict[str, Any]) -> None:
    try:
        member = MemberRecord.model_validate(data)
    except ValidationError:
        return
    assert member.handle and member.handle == member.handle.strip()

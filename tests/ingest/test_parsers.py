import gzip
import json
import shutil
from pathlib import Path

import pytest

from bot.domain import WorkRecord
from bot.ingest.parsers import ParseError, parse_path
from tests.conftest import FIXTURES


def parsed(path: Path) -> tuple[list[WorkRecord], list[ParseError]]:
    items = [item for _, item in parse_path(path)]
    return ([i for i in items if isinstance(i, WorkRecord)], [i for i in items if isinstance(i, ParseError)])


def test_jsonl_records_and_bad_lines_reported_with_file_and_line() -> None:
    records, errors = parsed(FIXTURES / "papers.jsonl")
    assert len(records) == 7
    turpin = records[0]
    assert turpin.arxiv_id == "2305.04388"  # version stripped
    assert turpin.authors[-1] == "Samuel R. Bowman"
    reasons = {e.line: e.reason for e in errors}
    assert set(reasons) == {7, 8, 9}
    assert "year" in reasons[7]
    assert reasons[8].startswith("invalid JSON")
    assert reasons[9] == "missing title"
    assert str(errors[0]).startswith(f"{FIXTURES / 'papers.jsonl'}:7: ")


def test_gzip_jsonl_reads_the_same(tmp_path: Path) -> None:
    target = tmp_path / "papers.jsonl.gz"
    with open(FIXTURES / "papers.jsonl", "rb") as src, gzip.open(target, "wb") as dst:
        shutil.copyfileobj(src, dst)
    assert parsed(target)[0] == parsed(FIXTURES / "papers.jsonl")[0]


def test_arxiv_snapshot_lines() -> None:
    records, errors = parsed(FIXTURES / "arxiv_snapshot.jsonl")
    burns, zou = records
    assert burns.id == "arxiv:2212.03827"
    assert burns.title == "Discovering Latent Knowledge in Language Models Without Supervision"
    assert burns.authors == ["Collin Burns", "Haotian Ye", "Dan Klein", "Jacob Steinhardt"]
    assert burns.year == 2022  # first version, not the latest
    assert burns.url == "https://arxiv.org/abs/2212.03827"
    assert burns.abstract and burns.abstract.startswith("Test abstract.")
    assert zou.authors == ["Andy Zou", "Long Phan", "Sarah Chen"]  # from the plain `authors` string
    assert [e.line for e in errors] == [3]


def test_bibtex_entries_latex_and_failed_block() -> None:
    records, errors = parsed(FIXTURES / "papers.bib")
    by_title = {r.title: r for r in records}
    sleeper = by_title["Sleeper Agents: Training Deceptive LLMs that Persist Through Safety Training"]
    assert sleeper.arxiv_id == "2401.05566"
    assert sleeper.authors == ["Evan Hubinger", "Carson Denison", "Jesse Mu"]
    assert sleeper.year == 2024
    faking = by_title["Alignment faking in large language models"]
    assert faking.arxiv_id == "2412.14093"  # taken from the versioned URL
    assert len(errors) == 1 and errors[0].line == 10


def test_unknown_format_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("hello")
    with pytest.raises(ValueError, match=r"notes.txt: unknown format"):
        list(parse_path(path))


def test_links_exports_spell_without_a_scheme_are_repaired_and_others_refused(tmp_path: Path) -> None:
    lines = [
        {"title": "Bare host", "url": "deepmind.com/blog/article/specification-gaming"},
        {"title": "LaTeX residue", "url": "\\urlhttps://pytorch.org/blog/a-better-transformer"},
        {"title": "Relative path", "url": "/blog/article/cooling"},
        {"title": "Script", "url": "javascript:alert(1)"},
    ]
    path = tmp_path / "links.jsonl"
    path.write_text("\n".join(json.dumps(line) for line in lines), encoding="utf-8")
    records, errors = parsed(path)
    assert [(r.title, r.url) for r in records] == [
        ("Bare host", "https://deepmind.com/blog/article/specification-gaming"),
        ("LaTeX residue", "https://pytorch.org/blog/a-better-transformer"),
    ]
    assert {e.line: e.reason for e in errors} == {
        3: "url: '/blog/article/cooling' is not an http(s) link",
        4: "url: 'javascript:alert(1)' is not an http(s) link",
    }

"""Properties of the ingest parsers (JSON Lines, .gz, arXiv snapshot lines, BibTeX) on whatever users feed them.

What must hold for any input: nothing but `(position, WorkRecord | ParseError)` comes out (no exception
escapes, so one bad line never stops an ingest), every line is accounted for exactly once, and resuming
from a checkpoint yields exactly what follows it. For valid records: what is written comes back, normalised
the way the parsers document it (whitespace folded, arXiv ids without version, DOIs in lower case, LaTeX
decoded, BibTeX braces dropped).
"""

from __future__ import annotations

import gzip
import json
import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime
from email.utils import format_datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import assume, example, given
from hypothesis import strategies as st

from bot.citations import bibtex
from bot.domain import RankedWork, WorkRecord
from bot.identifiers import normalize_arxiv_id
from bot.ingest.parsers import ParseError, parse_path
from tests.properties import PURE

# --- helpers -----------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def workdir() -> Iterator[Path]:
    # Module-scoped (hypothesis re-runs the test body, not function-scoped fixtures, per example).
    with tempfile.TemporaryDirectory(prefix="parser-properties-") as directory:
        yield Path(directory)


def write(directory: Path, name: str, data: bytes) -> Path:
    path = directory / name
    path.write_bytes(gzip.compress(data, mtime=0) if name.endswith(".gz") else data)
    return path


def parse(path: Path, skip: int = 0) -> list[tuple[int, WorkRecord | ParseError]]:
    return list(parse_path(path, skip))


def folded(text: str) -> str:
    """Whitespace folded as every parser documents it (NUL counts as a space)."""
    return " ".join(text.replace("\x00", " ").split())


def assert_well_formed(path: Path, items: list[tuple[int, WorkRecord | ParseError]], lines: int) -> None:
    positions = [position for position, _ in items]
    assert positions == sorted(positions)  # checkpoints count on positions only growing
    for position, item in items:
        assert 1 <= position <= lines + 1
        if isinstance(item, ParseError):
            assert item.path == str(path) and item.line == position
            assert str(item).startswith(f"{path}:{position}: ") and "\n" not in item.reason.strip()
        else:
            assert isinstance(item, WorkRecord)
            assert item.title and item.title == folded(item.title)
            assert all(a and a == folded(a) for a in item.authors)
            texts = [item.title, item.abstract or "", item.venue or "", *item.authors, *item.aliases]
            assert not any("\x00" in t for t in texts)  # PostgreSQL cannot store NUL in text


def line_count(data: bytes) -> int:
    return data.count(b"\n") + 1


# --- any input ---------------------------------------------------------------------------------------------------

# JSON values of every type, nested a little; objects mostly use the keys the parsers read.
_KEYS = [
    "id",
    "arxiv_id",
    "doi",
    "title",
    "authors",
    "authors_parsed",
    "year",
    "abstract",
    "url",
    "venue",
    "kind",
    "summary",
    "aliases",
    "topics",
    "source",
    "versions",
    "created",
    "update_date",
    "journal-ref",
    "name",
]
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.sampled_from(_KEYS) | st.text(max_size=5), inner),
    max_leaves=12,
)
json_objects = st.dictionaries(st.sampled_from(_KEYS), json_values, max_size=8)


@given(st.binary(max_size=600), st.sampled_from(["x.jsonl", "x.jsonl.gz", "x.bib"]))
@example(b"[" * 50_000 + b"]" * 50_000, "x.jsonl")  # RecursionError escaped from json.loads
@example(b'{"title": ' + b"[" * 5_000 + b"]" * 5_000 + b"}\n", "x.jsonl.gz")
@example(b'{"id": "2301.00001", "title": "x", "versions": [{"created": 5}]}', "x.jsonl")  # AttributeError
@example(b'{"id": "2301.00001", "title": "x", "versions": [], "doi": 5}', "x.jsonl")  # AttributeError
@example(b"@article{a, title={One}, journal={arXiv:}}", "x.bib")  # IndexError
@example(b"@article{a, title={Foo {bar}, year=2020}\n@article{b, title={Ok}}\n", "x.bib")
@example(b'{"title": "a\\u0000b"}\n\x00\xff\xfe\n', "x.jsonl")
@PURE
def test_any_bytes_give_records_or_errors_with_file_and_line(workdir: Path, data: bytes, name: str) -> None:
    path = write(workdir, name, data)
    assert_well_formed(path, parse(path), line_count(data))


@given(st.lists(st.one_of(json_objects, json_values).map(json.dumps) | st.just(""), max_size=8))
@example(['{"title": "x", "aliases": "RepE"}'])
@example(['{"id": "2301.00001", "title": "x", "versions": {"a": 1}}'])
@PURE
def test_every_json_line_gives_exactly_one_item(workdir: Path, lines: list[str]) -> None:
    data = "\n".join(lines).encode()
    path = write(workdir, "lines.jsonl", data)
    items = parse(path)
    assert_well_formed(path, items, len(lines))
    # No line is lost or reported twice: one item for each non-blank line, at its own number.
    assert [position for position, _ in items] == [n for n, line in enumerate(lines, start=1) if line.strip()]


def test_an_alias_given_as_text_is_one_alias(workdir: Path) -> None:
    path = write(workdir, "alias.jsonl", b'{"title": "Representation engineering", "aliases": "RepE"}\n')
    [(_, record)] = parse(path)
    assert isinstance(record, WorkRecord) and record.aliases == ["RepE"]  # not ["R", "e", "p", "E"]


def test_huge_lines_are_refused_and_the_next_line_follows(workdir: Path) -> None:
    abstract = "word " * 4_000  # 20,000 characters: the cap
    jsonl = "\n".join(
        [
            json.dumps({"title": "At the cap", "abstract": abstract}),
            json.dumps({"title": "Over the cap", "abstract": abstract + "more"}),
            "x" * 2_000_000,  # 2 MB: within the line bound, not JSON
            json.dumps({"title": "Huge", "abstract": "word " * 600_000}),  # 3 MB: over the line bound
            '{"title": "Next"}\n',
        ]
    )
    items = parse(write(workdir, "huge.jsonl.gz", jsonl.encode()))
    assert [type(item).__name__ for _, item in items] == [
        "WorkRecord",
        "ParseError",
        "ParseError",
        "ParseError",
        "WorkRecord",
    ]
    assert items[0][1].abstract == abstract.strip()  # type: ignore[union-attr]
    assert str(items[1][1]).endswith(":2: abstract: String should have at most 20000 characters")
    assert "invalid JSON" in str(items[2][1])
    assert str(items[3][1]).endswith(":4: record of 3,000,034 characters; a record may have at most 2,000,000")
    # BibTeX fields go through a LaTeX decoder that is slow on long values: 50 KB here, not megabytes.
    bib = (
        "@misc{k, title={Huge}, abstract={"
        + abstract[:19_000]
        + "}}\n@misc{j, title={Next}, abstract={"
        + abstract * 2
        + "}}\n"
    )
    items = parse(write(workdir, "huge.bib", bib.encode()))
    assert items[0][1].title == "Huge"  # type: ignore[union-attr]
    assert str(items[1][1]).endswith(":2: abstract: String should have at most 20000 characters")


@given(st.binary(max_size=400), st.integers(0, 12), st.sampled_from(["x.jsonl", "x.bib"]))
@PURE
def test_resuming_after_a_checkpoint_yields_exactly_the_rest(workdir: Path, data: bytes, skip: int, name: str) -> None:
    path = write(workdir, name, data)
    assert parse(path, skip) == [item for item in parse(path) if item[0] > skip]


# --- JSON Lines round trip ---------------------------------------------------------------------------------------

# Any text, including quotes, braces, backslashes, newlines, NUL and other controls; it must have substance.
texts = st.text(max_size=40)
titles = texts.filter(lambda t: folded(t) != "")
names = st.text(max_size=25).filter(lambda t: folded(t) != "")
years = st.integers(1800, 2100)
new_ids = st.builds(
    lambda yy, mm, n: f"{yy:02d}{mm:02d}.{n:05d}", st.integers(7, 29), st.integers(1, 12), st.integers(0, 99_999)
)
old_ids = st.builds(
    lambda a, n: f"{a}/{n:07d}", st.sampled_from(["hep-th", "cs", "math", "cond-mat"]), st.integers(0, 10**7 - 1)
)
arxiv_ids = new_ids | old_ids
dois = st.builds(
    lambda reg, suffix: f"10.{reg}/{suffix}",
    st.integers(1000, 99_999),
    st.text(st.sampled_from("abcXYZ0123456789-._/"), min_size=1, max_size=15).filter(lambda s: s[-1] not in "./"),
)


@st.composite
def kb_records(draw: st.DrawFn) -> dict[str, Any]:
    """A record in the JSON Lines ingest format, ids written in any of the forms people use."""
    record: dict[str, Any] = {"title": draw(titles), "authors": draw(st.lists(names, max_size=4))}
    arxiv_id = draw(st.none() | arxiv_ids)
    if arxiv_id:
        written = draw(st.sampled_from(["{}", "{}v2", "arXiv:{}", "https://arxiv.org/abs/{}v1", "arxiv.org/pdf/{}"]))
        if draw(st.booleans()):
            record["arxiv_id"] = written.format(arxiv_id)
        else:
            record["id"] = f"arxiv:{arxiv_id}"
    elif draw(st.booleans()):
        record["id"] = f"bib:{draw(st.text(st.sampled_from('abc123_-'), min_size=1, max_size=8))}"
    if doi := draw(st.none() | dois):
        record["doi"] = draw(st.sampled_from(["{}", "doi:{}", "https://doi.org/{}"])).format(doi.upper())
    if year := draw(st.none() | years):
        record["year"] = draw(st.sampled_from([year, str(year), f"{year}-03-01"]))
    for key in ("abstract", "venue", "summary"):
        if draw(st.booleans()):
            record[key] = draw(texts)
    if draw(st.booleans()):
        record["aliases"] = draw(st.lists(names, max_size=3))
    return record


def expected_from_kb(record: dict[str, Any]) -> dict[str, Any]:
    raw_arxiv = record.get("arxiv_id") or (record["id"][6:] if record.get("id", "").startswith("arxiv:") else None)
    arxiv_id = normalize_arxiv_id(raw_arxiv) if raw_arxiv else None
    doi = record.get("doi")
    return {
        "id": record.get("id"),
        "arxiv_id": arxiv_id,
        "doi": doi.lower().removeprefix("doi:").removeprefix("https://doi.org/") if doi else None,
        "title": folded(record["title"]),
        "authors": [folded(a) for a in record["authors"]],
        "year": int(str(record["year"])[:4]) if record.get("year") else None,
        "abstract": folded(record.get("abstract") or "") or None,
        "venue": folded(record.get("venue") or "") or None,
        "url": f"https://arxiv.org/abs/{arxiv_id}" if arxiv_id else None,
        "aliases": [folded(a) for a in record.get("aliases") or []],
    }


@given(st.lists(kb_records(), min_size=1, max_size=5), st.booleans())
@example([{"title": "Ti\x00tle", "authors": ["A\x00B"], "abstract": 'line\nbreak {brace} \\ "quote"'}], False)
@PURE
def test_jsonl_records_round_trip(workdir: Path, records: list[dict[str, Any]], compressed: bool) -> None:
    # ensure_ascii=False as well as True: files come both ways, and "\u0000" escapes only in the latter.
    data = "\n".join(json.dumps(r, ensure_ascii=i % 2 == 0) for i, r in enumerate(records)).encode()
    items = parse(write(workdir, "papers.jsonl.gz" if compressed else "papers.jsonl", data))
    assert [position for position, _ in items] == list(range(1, len(records) + 1))
    for (_, parsed), record in zip(items, records, strict=True):
        assert isinstance(parsed, WorkRecord), parsed
        assert parsed.model_dump(include=set(expected_from_kb(record))) == expected_from_kb(record)


@given(st.lists(kb_records(), min_size=1, max_size=6), st.data())
@PURE
def test_a_cut_off_gzip_keeps_every_whole_line_before_the_cut(
    workdir: Path, records: list[dict[str, Any]], data: st.DataObject
) -> None:
    """A download cut short: the lines before the damage come out as they would from the whole file, once,
    and the damage is reported; nothing raises."""
    plain = "\n".join(json.dumps(r) for r in records).encode() + b"\n"
    whole = gzip.compress(plain, mtime=0)
    cut = data.draw(st.integers(0, len(whole) - 1))
    path = workdir / "cut.jsonl.gz"
    path.write_bytes(whole[:cut])
    items = parse(path)
    intact = dict(parse(write(workdir, "whole.jsonl", plain)))
    assert_well_formed(path, items, len(records) + 1)
    for position, item in items[:-1]:
        assert item == intact[position]
    if items:
        last_position, last = items[-1]
        assert isinstance(last, ParseError) or last == intact[last_position]
    assert len({position for position, _ in items}) == len(items)


def test_a_file_that_is_no_gzip_is_reported_not_raised(workdir: Path) -> None:
    path = workdir / "fake.jsonl.gz"
    path.write_bytes(b'{"title": "not compressed"}\n')
    [(line, error)] = parse(path)
    assert isinstance(error, ParseError) and line == 1 and "compressed" in error.reason


# --- arXiv snapshot round trip -----------------------------------------------------------------------------------

# Snapshot authors are one string, "A, B and C", so names hold no comma and no " and ".
snapshot_names = st.text(st.characters(categories=["L", "Zs"], exclude_characters=","), max_size=20).filter(
    lambda t: folded(t) != "" and " and " not in f" {folded(t)} "
)


@given(
    arxiv_ids,
    titles,
    st.lists(snapshot_names, min_size=1, max_size=4),
    st.booleans(),
    st.datetimes(datetime(1991, 1, 1), datetime(2030, 12, 31)),
    st.none() | dois,
    st.none() | texts,
)
@PURE
def test_snapshot_lines_round_trip(
    workdir: Path,
    arxiv_id: str,
    title: str,
    authors: list[str],
    parsed_authors: bool,
    created: datetime,
    doi: str | None,
    abstract: str | None,
) -> None:
    line: dict[str, Any] = {
        "id": arxiv_id,
        "title": title,
        "abstract": abstract,
        "doi": doi,
        "versions": [{"version": "v1", "created": format_datetime(created.replace(tzinfo=UTC), usegmt=True)}],
    }
    if parsed_authors:
        line["authors_parsed"] = [[folded(a), "", ""] for a in authors]
    else:
        line["authors"] = ", ".join(authors[:-1]) + (" and " if len(authors) > 1 else "") + authors[-1]
    [(_, record)] = parse(write(workdir, "snapshot.json", json.dumps(line).encode()))
    assert isinstance(record, WorkRecord), record
    assert record.id == f"arxiv:{arxiv_id}" and record.arxiv_id == arxiv_id
    assert record.url == f"https://arxiv.org/abs/{arxiv_id}"
    assert record.title == folded(title)
    assert record.authors == [folded(a) for a in authors]
    assert record.year == created.year  # the first version's date, not the latest
    assert record.doi == (doi.lower() if doi else None)
    assert record.abstract == (folded(abstract or "") or None)


# --- BibTeX round trips ------------------------------------------------------------------------------------------

# Letters of any script for names; BibTeX separates authors with " and ", so no name word is "and".
name_words = st.text(st.characters(categories=["L"]), min_size=1, max_size=8).map(lambda w: w[0].upper() + w[1:])
bib_names = st.lists(name_words.filter(lambda w: w.lower() != "and"), min_size=1, max_size=3).map(" ".join)
# Titles with LaTeX's special characters, braces, quotes, backslashes and newlines. Not "$" (TeX math is
# passed through verbatim), "`" and "--" (LaTeX ligatures: ``x'' is “x”, -- an en dash).
bib_titles = st.text(
    st.characters(codec="utf-8", exclude_categories=["Cs", "Cc"], exclude_characters="$`") | st.sampled_from("\n\t"),
    max_size=40,
).filter(lambda t: "--" not in t and folded(t.replace("{", "").replace("}", "")) != "")


@given(
    bib_titles,
    st.lists(bib_names, max_size=4),
    st.none() | years,
    st.none() | arxiv_ids,
    st.none() | dois,
    st.none() | st.sampled_from(["https://example.org/~me/paper%20v2.pdf", "https://x.org/a?b=1&c=2#s"]),
)
@example("100% safe models", ["Jörg Müller"], 2020, None, None, None)  # "%" cut the title to "100"
@example("x ~ y", ["Ann Brown"], None, None, None, None)  # "~" came back as a space
@example("A & B {braces} \\backslash", [], None, None, "10.1016/0004-3702(91)90053-M", None)
@example("Title", [], None, None, None, "https://example.org/~me/paper%20v2.pdf")  # URL cut at "%"
@PURE
def test_our_bibtex_export_reads_back(
    workdir: Path,
    title: str,
    authors: list[str],
    year: int | None,
    arxiv_id: str | None,
    doi: str | None,
    url: str | None,
) -> None:
    """What `cite --style bibtex` and the bots' BibTeX buttons write, ingested again, is the same work."""
    work = RankedWork(id="w", title=title, authors=authors, year=year, arxiv_id=arxiv_id, doi=doi, url=url, score=1)
    [(_, record)] = parse(write(workdir, "export.bib", bibtex(work).encode()))
    assert isinstance(record, WorkRecord), record
    assert record.title == folded(title.replace("{", "").replace("}", ""))  # braces are BibTeX's case guards
    assert record.authors == authors
    assert record.year == year
    assert record.arxiv_id == arxiv_id
    assert record.doi == (doi.lower() if doi else None)
    assert record.url == (url or (f"https://arxiv.org/abs/{arxiv_id}" if arxiv_id else None))


_LATEX = {
    r"{\"a}": "ä",
    r"{\'e}": "é",
    r"\`{a}": "à",
    r"{\^o}": "ô",
    r"{\~n}": "ñ",
    r"{\c{c}}": "ç",
    r"{\o}": "ø",
    r"{\ss}": "ß",
    r"{\aa}": "å",
    r"\v{s}": "š",
    r"\H{o}": "ő",
    r"{\l}": "ł",
    r"\'{E}": "É",
    r"{\AE}": "Æ",
    r"\&": "&",
    r"\%": "%",
    r"\_": "_",
    r"\#": "#",
}


def latex_pieces(plain: str, macros: list[str]) -> st.SearchStrategy[list[tuple[str, str]]]:
    """Text as (LaTeX, Unicode) pieces: plain runs and accent or escape macros."""
    return st.lists(
        st.sampled_from(macros).map(lambda latex: (latex, _LATEX[latex]))
        | st.text(st.sampled_from(plain), min_size=1, max_size=6).map(lambda t: (t, t)),
        min_size=1,
        max_size=8,
    )


title_pieces = latex_pieces("abcXYZ019 .,:;!?()", sorted(_LATEX))
# Commas and " and " are BibTeX name syntax: a name is letters and accents.
name_pieces = latex_pieces("abcXYZ", sorted(k for k, v in _LATEX.items() if v.isalpha()))


@given(title_pieces, name_pieces, st.sampled_from(["{{{}}}", '"{}"', "{{{{{}}}}}"]))
@example([("100", "100"), (r"\%", "%"), (" ", " "), ("safe", "safe")], [("Jo", "Jo")], "{{{}}}")
@PURE
def test_latex_in_bibtex_fields_is_decoded(
    workdir: Path, title: list[tuple[str, str]], author: list[tuple[str, str]], quoting: str
) -> None:
    latex_title, unicode_title = "".join(p[0] for p in title), "".join(p[1] for p in title)
    latex_name, unicode_name = "".join(p[0] for p in author), "".join(p[1] for p in author)
    assume(folded(unicode_title) and folded(unicode_name) and '"' not in latex_title)
    entry = f"@article{{key1,\n  title = {quoting.format(latex_title)},\n  author = {{Smith, {latex_name}}},\n}}\n"
    [(_, record)] = parse(write(workdir, "latex.bib", entry.encode()))
    assert isinstance(record, WorkRecord), record
    assert record.title == folded(unicode_title)
    assert record.authors == [folded(f"{unicode_name} Smith")]


def test_a_raw_percent_in_bibtex_is_a_percent_sign_not_a_comment(workdir: Path) -> None:
    entry = (
        "@misc{k, title={95% of the time}, abstract={We get 95% accuracy.\nThe rest stays.},\n"
        "  url={https://example.org/~me/a%20b}, doi={10.1000/A%2FB}}\n"
    )
    [(_, record)] = parse(write(workdir, "percent.bib", entry.encode()))
    assert isinstance(record, WorkRecord)
    assert record.title == "95% of the time"
    assert record.abstract == "We get 95% accuracy. The rest stays."
    assert record.url == "https://example.org/~me/a%20b" and record.doi == "10.1000/a%2fb"

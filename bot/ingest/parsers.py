"""Parsers for the formats users ingest: JSON Lines (plain or .gz), arXiv metadata snapshots, BibTeX.

Each parser yields `(position, record_or_error)`: position is the line number (JSON Lines) or entry
number (BibTeX) that checkpoints count, so an interrupted ingest can skip what it already stored.
A bad line becomes a `ParseError` and parsing goes on.
"""

from __future__ import annotations

import gzip
import io
import json
import re
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any

import bibtexparser
import bibtexparser.middlewares as bib_middlewares
from pydantic import ValidationError

from bot.domain import WorkRecord
from bot.identifiers import normalize_arxiv_id, normalize_doi


@dataclass(frozen=True)
class ParseError:
    path: str
    line: int
    reason: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.reason}"


ParsedItem = tuple[int, WorkRecord | ParseError]

# NUL counts as a space: PostgreSQL cannot store it in text, and no title or name means one.
_SPACES = re.compile(r"[\s\x00]+")


def _clean(text: Any) -> str | None:
    if text is None:
        return None
    if not isinstance(text, str):
        raise ValueError(f"expected text, got {type(text).__name__}")
    text = _SPACES.sub(" ", text).strip()
    return text or None


def _year(value: Any) -> int | None:
    if value in (None, ""):
        return None
    match = re.search(r"\b(1[89]\d\d|20\d\d|2100)\b", str(value))
    if not match:
        raise ValueError(f"year {value!r} is not a year")
    return int(match.group(1))


def _authors(value: Any) -> list[str]:
    if value in (None, ""):
        return []
    if isinstance(value, str):
        # "A. Author, B. Author and C. Author" as written in snapshot and bibliography exports.
        return [a for a in (_clean(p) for p in re.split(r",\s*|\s+and\s+", value)) if a]
    if isinstance(value, list):
        authors = []
        for item in value:
            if isinstance(item, str):
                name = _clean(item)
            elif isinstance(item, dict) and "name" in item:
                name = _clean(item["name"])
            else:
                raise ValueError(f"author {item!r} is not a name")
            if name:
                authors.append(name)
        return authors
    raise ValueError(f"authors must be a list of names, got {type(value).__name__}")


def _strings(value: Any, field: str) -> list[str]:
    """A list of short texts (aliases, topics); one text alone is a list of one, not of its characters."""
    if value in (None, ""):
        return []
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list):
        raise ValueError(f"{field} must be a list of texts, got {type(value).__name__}")
    return [t for t in (_clean(x) for x in value) if t]


def _doi(value: Any) -> str | None:
    """A DOI as text; a number or a string that is not a DOI is an error, never silently dropped."""
    if value in (None, ""):
        return None
    if not isinstance(value, str):
        raise ValueError(f'doi {value!r} is a {type(value).__name__}: write it as text, like "10.1234/5678"')
    doi = normalize_doi(value)
    if doi is None:
        raise ValueError(f"doi {value[:60]!r} is not a DOI (10.<registrant>/<suffix>, like 10.1234/5678)")
    return doi


_EMBEDDED_LINK = re.compile(r"https?://\S+", re.IGNORECASE)
_SCHEME = re.compile(r"^[a-z][a-z0-9+.-]*:", re.IGNORECASE)
_BARE_HOST_PATH = re.compile(r"^(?:www\.)?[a-z0-9-]+(?:\.[a-z0-9-]+)*\.[a-z]{2,}(?:/\S*)?$", re.IGNORECASE)


def web_link(value: str | None) -> str | None:
    """A link as exported data often spells it, made an http(s) link where that is unambiguous: a bare
    `deepmind.com/blog/…` gains `https://`, and LaTeX residue such as `\\urlhttps://…` keeps only its link.
    Anything else is returned as is, for WorkRecord to refuse with a clear error."""
    if not value or _SCHEME.match(value):  # http(s) as it should be, or a scheme WorkRecord refuses
        return value
    if _BARE_HOST_PATH.match(value):
        return f"https://{value}"
    embedded = _EMBEDDED_LINK.search(value)
    return embedded.group(0) if embedded else value


def build_record(**fields: Any) -> WorkRecord:
    """A WorkRecord, or a ValueError naming each field that breaks the rules (size caps, http(s) links)."""
    try:
        return WorkRecord(**fields)
    except ValidationError as exc:
        raise ValueError(validation_message(exc)) from exc


def validation_message(exc: ValidationError) -> str:
    """Pydantic's errors on one line: `abstract: String should have at most 20000 characters`."""
    return "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg'].removeprefix('Value error, ')}" for e in exc.errors())


def record_from_kb(obj: dict[str, Any]) -> WorkRecord:
    """A record in the knowledge-base schema: `id, arxiv_id?, doi?, title, authors[], year?, …`."""
    title = _clean(obj.get("title"))
    if not title:
        raise ValueError("missing title")
    work_id = _clean(obj.get("id"))
    arxiv_raw = obj.get("arxiv_id") or (work_id[6:] if work_id and work_id.startswith("arxiv:") else None)
    arxiv_id = normalize_arxiv_id(str(arxiv_raw)) if arxiv_raw else None
    if arxiv_raw and not arxiv_id:
        raise ValueError(f"arxiv_id {arxiv_raw!r} is not an arXiv id")
    return build_record(
        id=work_id,
        arxiv_id=arxiv_id,
        doi=_doi(obj.get("doi")),
        title=title,
        authors=_authors(obj.get("authors")),
        year=_year(obj.get("year")),
        abstract=_clean(obj.get("abstract")),
        url=web_link(_clean(obj.get("url"))) or (f"https://arxiv.org/abs/{arxiv_id}" if arxiv_id else None),
        venue=_clean(obj.get("venue")),
        kind=_clean(obj.get("kind")) or "paper",
        summary=_clean(obj.get("summary")),
        aliases=_strings(obj.get("aliases"), "aliases"),
        topics=_strings(obj.get("topics"), "topics"),
        source=_clean(obj.get("source")),
    )


def is_arxiv_snapshot(obj: dict[str, Any]) -> bool:
    return "versions" in obj or "authors_parsed" in obj


def record_from_arxiv_snapshot(obj: dict[str, Any]) -> WorkRecord:
    """A line of the arXiv metadata snapshot (`id, title, authors|authors_parsed, abstract, versions, doi`)."""
    raw_id = str(obj.get("id") or "")
    arxiv_id = normalize_arxiv_id(raw_id)
    if not arxiv_id:
        raise ValueError(f"id {raw_id!r} is not an arXiv id")
    title = _clean(obj.get("title"))
    if not title:
        raise ValueError("missing title")
    if obj.get("authors_parsed"):
        authors = [
            " ".join(part for part in (first, last, (rest[0] if rest else "")) if part).strip()
            for last, first, *rest in obj["authors_parsed"]
        ]
    else:
        authors = _authors(obj.get("authors"))
    year = None
    versions = obj.get("versions") or []
    if versions and isinstance(versions, list) and isinstance(versions[0], dict) and versions[0].get("created"):
        created = versions[0]["created"]
        if not isinstance(created, str):
            raise ValueError(f"version date {created!r} is not a date")
        year = parsedate_to_datetime(created).year
    elif obj.get("update_date"):
        year = _year(obj["update_date"])
    elif re.match(r"^\d{4}\.", arxiv_id):
        year = 2000 + int(arxiv_id[:2])
    return build_record(
        id=f"arxiv:{arxiv_id}",
        arxiv_id=arxiv_id,
        doi=_doi(obj.get("doi")),
        title=title,
        authors=[a for a in authors if a],
        year=year,
        abstract=_clean(obj.get("abstract")),
        url=f"https://arxiv.org/abs/{arxiv_id}",
        venue=_clean(obj.get("journal-ref")),
        source="arxiv-snapshot",
    )


def _open_text(path: Path) -> io.TextIOBase:
    if path.suffix == ".gz":
        return io.TextIOWrapper(gzip.open(path, "rb"), encoding="utf-8", errors="replace")
    return open(path, encoding="utf-8", errors="replace")


class _Unreadable(ParseError):
    """The file cannot be read further (damaged compressed data): parsing ends here."""


# The longest line read as one record. Every field at its cap is ~1 MB less than this bound; a longer line is
# skipped without being held in memory (a 50 MB "record" would otherwise cost gigabytes once parsed).
MAX_RECORD_CHARS = 2_000_000


def _lines(path: Path, handle: io.TextIOBase) -> Iterator[tuple[int, str | ParseError]]:
    """Numbered lines; a line over MAX_RECORD_CHARS becomes an error (read past in chunks, never held whole),
    and a damaged .gz (a cut-off download) ends them with an error at the line it broke."""
    line_no = 0
    try:
        while line := handle.readline(MAX_RECORD_CHARS + 1):
            line_no += 1
            if len(line) <= MAX_RECORD_CHARS or line.endswith("\n"):
                yield line_no, line
                continue
            size = len(line)
            while (rest := handle.readline(1 << 20)) and not rest.endswith("\n"):
                size += len(rest)
            size += len(rest)
            yield (
                line_no,
                ParseError(
                    str(path), line_no, f"record of {size:,} characters; a record may have at most {MAX_RECORD_CHARS:,}"
                ),
            )
    except (OSError, EOFError, zlib.error) as exc:
        yield line_no + 1, _Unreadable(str(path), line_no + 1, f"unreadable compressed data: {exc}")


def parse_jsonl(path: Path, skip: int = 0) -> Iterator[ParsedItem]:
    name = str(path)
    with _open_text(path) as handle:
        for line_no, line in _lines(path, handle):
            if isinstance(line, ParseError):
                if isinstance(line, _Unreadable) or line_no > skip:
                    yield line_no, line
                if isinstance(line, _Unreadable):
                    return
                continue
            if line_no <= skip or not line.strip():
                continue
            try:
                obj = json.loads(line)
                if not isinstance(obj, dict):
                    raise ValueError(f"expected a JSON object, got {type(obj).__name__}")
                record = record_from_arxiv_snapshot(obj) if is_arxiv_snapshot(obj) else record_from_kb(obj)
            except json.JSONDecodeError as exc:
                yield line_no, ParseError(name, line_no, f"invalid JSON: {exc.msg} (column {exc.colno})")
            except RecursionError:
                yield line_no, ParseError(name, line_no, "invalid JSON: nested too deeply")
            except (ValueError, TypeError, KeyError, IndexError) as exc:
                yield line_no, ParseError(name, line_no, str(exc))
            else:
                yield line_no, record


# Fields BibTeX takes verbatim: LaTeX decoding would turn "~user" into a space and cut "%20" off as a comment.
_VERBATIM_FIELDS = frozenset({"url", "doi", "eprint", "arxivid", "arxiv", "file"})
_UNESCAPED_PERCENT = re.compile(r"(?<!\\)%")


class _BibLatexDecoding(bib_middlewares.LatexDecodingMiddleware):
    """LaTeX decoding as BibTeX means it: in a field `%` is a percent sign (BibTeX has no comments inside
    entries), and verbatim fields are left as written."""

    def _transform_python_value_string(self, python_string: str) -> tuple[str, str]:
        return super()._transform_python_value_string(_UNESCAPED_PERCENT.sub(r"\\%", python_string))

    def transform_entry(self, entry: Any, library: Any) -> Any:
        verbatim = {f.key: f.value for f in entry.fields if f.key.lower() in _VERBATIM_FIELDS}
        block = super().transform_entry(entry, library)
        for field in entry.fields:
            if field.key in verbatim:
                field.value = verbatim[field.key]
        return block


_BIB_MIDDLEWARE = [
    _BibLatexDecoding(),
    bib_middlewares.SeparateCoAuthors(),
    bib_middlewares.SplitNameParts(),
    bib_middlewares.MergeNameParts(style="first"),
]


def record_from_bibtex(fields: dict[str, Any], key: str, entry_type: str) -> WorkRecord:
    title = _clean(str(fields.get("title", "")).replace("{", "").replace("}", ""))
    if not title:
        raise ValueError(f"entry {key!r} has no title")
    eprint = str(fields.get("eprint") or fields.get("arxivid") or fields.get("arxiv") or "")
    arxiv_id = normalize_arxiv_id(eprint) if eprint else None
    url = web_link(_clean(fields.get("url")))
    if not arxiv_id and url:
        arxiv_id = normalize_arxiv_id(url)
    journal = str(fields.get("journal", ""))
    if not arxiv_id and "arxiv" in journal.lower():
        # "arXiv preprint arXiv:2301.00001": the last word after the last colon (a bare "arXiv:" has none).
        arxiv_id = normalize_arxiv_id(" ".join(journal.split(":")[-1].split()[-1:]))
    authors = fields.get("author") or []
    if isinstance(authors, str):
        authors = _authors(authors)
    return build_record(
        id=f"arxiv:{arxiv_id}" if arxiv_id else f"bib:{key}",
        arxiv_id=arxiv_id,
        doi=_doi(fields.get("doi")),
        title=title,
        authors=[_clean(a.replace("{", "").replace("}", "")) or "" for a in authors if a],
        year=_year(fields.get("year")),
        abstract=_clean(fields.get("abstract")),
        url=url or (f"https://arxiv.org/abs/{arxiv_id}" if arxiv_id else None),
        venue=_clean(fields.get("booktitle") or fields.get("journal")),
        kind="paper",
        source=f"bibtex:{entry_type}",
    )


def parse_bibtex(path: Path, skip: int = 0) -> Iterator[ParsedItem]:
    name = str(path)
    library = bibtexparser.parse_string(
        path.read_text(encoding="utf-8", errors="replace"), append_middleware=_BIB_MIDDLEWARE
    )
    items: list[tuple[int, WorkRecord | ParseError]] = []
    for block in library.failed_blocks:
        error = str(getattr(block, "error", "") or "").strip()
        head = block.raw.strip().splitlines()[0][:60] if block.raw.strip() else ""
        reason = error.splitlines()[0] if error else f"unparseable BibTeX entry {head!r} (unclosed brace or quote?)"
        items.append((block.start_line + 1, ParseError(name, block.start_line + 1, reason)))
    for entry in library.entries:
        line = entry.start_line + 1
        try:
            fields = {key.lower(): value.value for key, value in entry.fields_dict.items()}
            items.append((line, record_from_bibtex(fields, entry.key, entry.entry_type)))
        except (ValueError, TypeError) as exc:
            items.append((line, ParseError(name, line, str(exc))))
    items.sort(key=lambda item: item[0])
    # Checkpoints count BibTeX entries by their line, like JSON Lines.
    for line, item in items:
        if line > skip:
            yield line, item


def parser_for(path: Path) -> Callable[[Path, int], Iterator[ParsedItem]]:
    """Pick the parser by file name: `.bib` is BibTeX; `.jsonl`, `.json`, `.ndjson` (optionally `.gz`) JSON Lines."""
    suffixes = [s.lower() for s in path.suffixes]
    if suffixes and suffixes[-1] == ".bib":
        return parse_bibtex
    if any(s in {".jsonl", ".json", ".ndjson", ".gz"} for s in suffixes):
        return parse_jsonl
    raise ValueError(f"{path}: unknown format (expected .jsonl, .jsonl.gz, .json or .bib)")


def parse_path(path: Path, skip: int = 0) -> Iterator[ParsedItem]:
    return parser_for(path)(path, skip)

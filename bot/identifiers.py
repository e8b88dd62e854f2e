"""Identifiers and normal forms: arXiv ids, DOIs, forum post ids, URLs and titles.

Everything that decides whether two records are the same work, or whether a string names a work
exactly, goes through here, so ingestion, retrieval and moderation agree on it.
"""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import urlsplit, urlunsplit

from unidecode import unidecode

# New-style (0704.0001 … 2501.12345) and old-style (hep-th/9901001, cs.AI/0101001) arXiv ids.
_ARXIV_NEW = r"\d{4}\.\d{4,5}"
_ARXIV_OLD = r"[a-z\-]+(?:\.[A-Z]{2})?/\d{7}"
_ARXIV_ID = rf"(?:{_ARXIV_NEW}|{_ARXIV_OLD})"
ARXIV_ID_RE = re.compile(rf"^(?:arxiv:\s?)?({_ARXIV_ID})(?:v\d+)?$", re.IGNORECASE)
ARXIV_URL_RE = re.compile(rf"arxiv\.org/(?:abs|pdf|html|format)/({_ARXIV_ID})(?:v\d+)?(?:\.pdf)?", re.IGNORECASE)
# In prose a new-style id counts on its own; an old-style one only after "arXiv:" or in an arXiv link, since
# a bare "cs/0101001" reads as well as a path.
ARXIV_IN_TEXT_RE = re.compile(
    rf"(?:(?:arxiv\.org/(?:abs|pdf|html)/|\barxiv:\s?)({_ARXIV_OLD})(?:v\d+)?(?!\d)"
    rf"|(?:arxiv\.org/(?:abs|pdf|html)/|\barxiv:\s?|(?<![\w./]))({_ARXIV_NEW})(?:v\d+)?(?![\w.]*\d))",
    re.IGNORECASE,
)
# A DOI suffix may hold balanced parentheses (Elsevier's 10.1016/0004-3702(91)90053-M); a closing one
# without its opening one ends the DOI, as in "(doi:10.1000/xyz)".
DOI_RE = re.compile(r"\b(10\.\d{4,9}/(?:[^\s\"'<>()\[\]{}]|\([^\s\"'<>()\[\]{}]*\))+)", re.IGNORECASE)
FORUM_POST_RE = re.compile(
    r"(?:lesswrong\.com|alignmentforum\.org|forum\.effectivealtruism\.org)/(?:posts|s/\w+/p)/([A-Za-z0-9]{17})"
)
# Balanced parentheses belong to a URL (wikipedia.org/wiki/Goodhart_(disambiguation), doi.org/10.1016/…(91)…);
# a closing one without its opening one is the prose around it: "(see https://example.org)".
URL_RE = re.compile(r"https?://(?:[^\s<>\"'`\])}(]|\([^\s<>\"'`()]*\)|\()+", re.IGNORECASE)

_TITLE_STRIP = re.compile(r"[^a-z0-9 ]+")
_WWW = re.compile(r"^(?:www\.)+")


def normalize_arxiv_id(value: str) -> str | None:
    """Return the arXiv id without version, or None when `value` is not an arXiv id or arXiv URL.

    Old-style ids come as arXiv lists them: archive in lower case, without the subject class
    ("math.GT/0309136" is "math/0309136"), so every spelling of one paper gives one key.
    """
    value = value.strip()
    match = ARXIV_URL_RE.search(value) or ARXIV_ID_RE.match(value)
    return canonical_arxiv_id(match.group(1)) if match else None


def canonical_arxiv_id(arxiv_id: str) -> str:
    """The normal form of a version-less id matched by the patterns above."""
    if "/" not in arxiv_id:
        return arxiv_id
    archive, number = arxiv_id.split("/", 1)
    return f"{archive.split('.', 1)[0].lower()}/{number}"


def arxiv_year(arxiv_id: str | None) -> int | None:
    """The year an arXiv id was first posted, read from the id itself: "2212.03827" and "cs/0112017" name their
    year and month. A paper cited by its preprint's year ("Burns et al. 2022") and kept with its venue's (2023)."""
    if not arxiv_id:
        return None
    digits = arxiv_id.rsplit("/", 1)[-1]
    if not digits[:2].isdigit():
        return None
    year = int(digits[:2])
    return 1900 + year if year >= 91 else 2000 + year  # arXiv began in August 1991


def normalize_doi(value: str) -> str | None:
    """Return a lower-cased DOI from a bare DOI, `doi:` prefix or doi.org URL."""
    match = DOI_RE.search(value.strip())
    if not match:
        return None
    return match.group(1).rstrip(".,;").lower()


def forum_post_id(url: str) -> str | None:
    match = FORUM_POST_RE.search(url)
    return match.group(1) if match else None


def canonical_url(url: str) -> str:
    """A URL form for equality: no scheme difference, no `www.`, no fragment or trailing slash.

    Idempotent, so a canonical URL pasted back (a moderator copying one from a report) finds the same key.
    """
    url = _trim(url.strip(), ".,;)")  # prose after a pasted link: "(see https://example.org/x)."
    try:
        parts = urlsplit(url if "://" in url else f"https://{url}")
    except ValueError:  # an unclosed "[" (IPv6 host) in pasted text: nothing to take apart
        return url
    host = _WWW.sub("", _trim(parts.netloc.strip(), ".,;)").lower())
    path = _trim(parts.path, "/.,;)")
    return urlunsplit(("https", host, path, _trim(parts.query, ".,;)"), ""))


def _trim(text: str, chars: str) -> str:
    """`text` without trailing whitespace or `chars` in any mix (a loop: a `[…]+$` regex is quadratic)."""
    end = len(text)
    while end and (text[end - 1].isspace() or text[end - 1] in chars):
        end -= 1
    return text[:end]


def normalize_text(text: str) -> str:
    """Lower-case ASCII with punctuation turned into spaces and runs of spaces folded."""
    text = unidecode(unicodedata.normalize("NFKC", text)).lower()
    text = text.replace("'", "").replace("’", "")
    return " ".join(_TITLE_STRIP.sub(" ", text).split())


def normalize_title(title: str) -> str:
    return normalize_text(title)


def surname(author: str) -> str:
    """The family name of an author written 'First Last', 'Last, First' or 'F. Last'."""
    author = author.strip()
    if "," in author:
        return normalize_text(author.split(",", 1)[0])
    parts = normalize_text(author).split()
    if not parts:
        return ""
    # Particles belong to the surname ("van der Weij", "de Witt").
    particles = {"van", "von", "der", "de", "den", "del", "da", "di", "le", "la", "du"}
    i = len(parts) - 1
    while i > 0 and parts[i - 1] in particles:
        i -= 1
    if parts[-1] in {"jr", "sr", "ii", "iii"} and len(parts) > 1:
        return parts[-2]
    return " ".join(parts[i:])


def given_name(author: str) -> str:
    """The first given name of an author written 'First Last' or 'Last, First': "" for an initial ("P. Christiano")
    or a single name. What people call colleagues in threads ("Paul's ELK report")."""
    last, comma, first = author.partition(",")
    parts = normalize_text(first).split() if comma else normalize_text(last).split()[:-1]
    return parts[0] if parts and len(parts[0]) > 1 else ""


def work_keys(
    *, work_id: str | None, arxiv_id: str | None, doi: str | None, url: str | None, title: str | None
) -> list[str]:
    """Every key under which a record can be found again, strongest first.

    Title keys are only made for titles long enough to be distinctive: short generic titles
    ("Introduction", "Alignment") would merge unrelated works.
    """
    keys: list[str] = []
    if work_id:
        keys.append(f"id:{work_id}")
    if arxiv_id:
        keys.append(f"arxiv:{arxiv_id}")
    if doi:
        keys.append(f"doi:{doi}")
    if url:
        post = forum_post_id(url)
        keys.append(f"post:{post}" if post else f"url:{canonical_url(url)}")
    if title:
        norm = normalize_title(title)
        if len(norm.split()) >= 3 and len(norm) >= 15:
            keys.append(f"title:{norm}")
    return list(dict.fromkeys(keys))


def exact_keys_in(text: str) -> list[str]:
    """Keys of works named exactly in free text: arXiv ids and URLs, DOIs, forum post links, other URLs."""
    keys: list[str] = []
    for url in URL_RE.findall(text):
        arxiv = normalize_arxiv_id(url)
        doi = normalize_doi(url) if "doi.org" in url.lower() else None
        post = forum_post_id(url)
        if arxiv:
            keys.append(f"arxiv:{arxiv}")
        elif doi:
            keys.append(f"doi:{doi}")
        elif post:
            keys.append(f"post:{post}")
        else:
            keys.append(f"url:{canonical_url(url)}")
    text_without_urls = URL_RE.sub(" ", text)
    for match in ARXIV_IN_TEXT_RE.finditer(text_without_urls):
        keys.append(f"arxiv:{canonical_arxiv_id(match.group(1) or match.group(2))}")
    for match in DOI_RE.finditer(text_without_urls):
        keys.append(f"doi:{match.group(1).rstrip('.,;').lower()}")
    return list(dict.fromkeys(keys))

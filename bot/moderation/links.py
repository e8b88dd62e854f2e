"""What a link or identifier in a post names, as one exact key: the reverse index behind `citedby`."""

from __future__ import annotations

import re

from bot.identifiers import exact_keys_in, normalize_arxiv_id, normalize_doi


def link_key(url: str) -> str | None:
    """The exact key a link or id names; arXiv DOIs (10.48550/arXiv.X) count as the arXiv id itself."""
    keys = exact_keys_in(url if "://" in url else url.strip())
    if not keys:
        arxiv = normalize_arxiv_id(url)
        if arxiv:
            return f"arxiv:{arxiv}"
        doi = normalize_doi(url)
        if doi:
            keys = [f"doi:{doi}"]
        elif re.fullmatch(r"[A-Za-z0-9]{17}", url.strip()):
            return f"post:{url.strip()}"
        elif re.match(r"^(?:www\.)?[a-z0-9\-]+(?:\.[a-z0-9\-]+)+(?:/\S*)?$", url.strip(), re.IGNORECASE):
            return link_key(f"https://{url.strip()}")
        else:
            return None
    key = keys[0]
    arxiv_doi = re.fullmatch(r"doi:10\.48550/arxiv\.(.+)", key)
    if arxiv_doi and normalize_arxiv_id(arxiv_doi.group(1)):
        return f"arxiv:{normalize_arxiv_id(arxiv_doi.group(1))}"
    return key

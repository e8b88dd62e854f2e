"""The related-work audit: what a post cites (links, ids and mentions, in body, footnotes and reference
lists, resolved and counted per section), and the closest works in the knowledge base it does not cite."""

from __future__ import annotations

import re
from typing import Any

from bot.mentions import Mention, find_mentions
from bot.moderation.common import Store, work_ref
from bot.moderation.rules.related import related_work_finding
from bot.moderation.schemas import (
    Citation,
    Finding,
    RelatedWorkAudit,
    SectionStats,
    UncitedWork,
    WorkRef,
)
from bot.moderation.text import ParsedBody, parse_body

_CITATION_SHAPE = re.compile(r"\bet\s*al\b|\b(?:19|20)\d\d\b")


class Auditor:
    def __init__(self, store: Store) -> None:
        self.store = store

    def audit(self, body: str, body_format: str = "markdown", title: str | None = None) -> RelatedWorkAudit:
        return self.parsed(parse_body(body, body_format), title)

    def finding(self, body: str, body_format: str = "markdown", title: str | None = None, author: str = "") -> Finding:
        """The audit as the related-work rule reports it."""
        values = {"author": author, "forum": "", "title": title or ""}
        conf = self.store.config.rules.related_work
        return related_work_finding(self.audit(body, body_format, title), conf, values)

    def parsed(self, parsed: ParsedBody, title: str | None) -> RelatedWorkAudit:
        """The audit of a parsed body."""
        engine = self.store.engine
        conf = self.store.config.rules.related_work
        citations: list[Citation] = []
        unresolved: list[str] = []
        units: list[tuple[str, str, str, list[Any]]] = []  # (location, section, text, links)
        for section in parsed.sections:
            location = "references" if section.kind == "references" else "body"
            if section.links:  # "## [Paper](https://…)": the heading itself cites
                units.append((location, section.heading, "", section.links))
            for paragraph in section.paragraphs:
                units.append((location, section.heading, paragraph.text, paragraph.links))
        for footnote in parsed.footnotes.values():
            section = next((link.section for link in footnote.links), None)
            if section is None:
                section = next((s.heading for s in parsed.sections if footnote.id in s.footnote_refs), "")
            units.append(("footnote", section, footnote.text, footnote.links))
        corpus = engine.corpus
        for location, section_heading, text, links in units:
            for link in links:
                work = self.store.work_for_key(link.key)
                citations.append(
                    Citation(
                        reference=link.url,
                        text=link.text,
                        kind="link" if "://" in link.url else "id",
                        location=location,
                        section=section_heading,
                        key=link.key,
                        work=work_ref(work) if work else None,
                    )
                )
            if len(corpus) == 0:
                continue
            for mention in find_mentions(text, corpus):
                if mention.kind == "link":
                    continue  # links and ids were read from the markup above
                result = engine.cite(mention.text, alternatives=1)
                if result.confident and result.match is not None:
                    m = result.match
                    citations.append(
                        Citation(
                            reference=mention.text,
                            kind="mention",
                            location=location,
                            section=section_heading,
                            work=WorkRef(id=m.id, title=m.title, authors=m.authors, year=m.year, url=m.url),
                        )
                    )
                elif _looks_cited(mention) and mention.text not in unresolved:
                    unresolved.append(mention.text)
                    citations.append(
                        Citation(reference=mention.text, kind="mention", location=location, section=section_heading)
                    )

        def group(c: Citation) -> str:
            return f"work:{c.work.id}" if c.work else c.key or f"mention:{c.reference.casefold()}"

        cited_groups = {group(c) for c in citations}
        cited_ids = {c.work.id for c in citations if c.work}
        sections = []
        for section in parsed.sections:
            if section.kind == "other":
                continue
            in_text = {group(c) for c in citations if c.section == section.heading and c.location != "footnote"}
            in_notes = {group(c) for c in citations if c.section == section.heading and c.location == "footnote"}
            sections.append(
                SectionStats(
                    heading=section.heading,
                    kind=section.kind,
                    paragraphs=len(section.paragraphs),
                    words=sum(len(p.text.split()) for p in section.paragraphs),
                    footnotes=len(section.footnote_refs),
                    cited_in_section=len(in_text),
                    cited_in_footnotes=len(in_notes),
                    cited_total=len(in_text | in_notes),
                )
            )
        uncited: list[UncitedWork] = []
        query = " ".join([title or "", *parsed.own_text.split()[:300]]).strip()
        if conf.closest and query and len(corpus):
            result = engine.ask(query, k=min(50, conf.closest + len(cited_ids) + 5))
            for work in result.results:
                if work.id in cited_ids or work.score < conf.min_similarity:
                    continue
                why = f"similarity {work.score:.2f} to the post"
                if work.reason:
                    why += f"; it says: {work.reason}"
                uncited.append(
                    UncitedWork(
                        id=work.id,
                        title=work.title,
                        authors=work.authors,
                        year=work.year,
                        url=work.url,
                        score=work.score,
                        why=why,
                    )
                )
                if len(uncited) >= conf.closest:
                    break
        return RelatedWorkAudit(
            title=title,
            cited_count=len(cited_groups),
            cited_in_knowledge_base=len(cited_ids),
            citations=citations,
            unresolved_mentions=unresolved,
            sections=sections,
            uncited=uncited,
        )


def _looks_cited(mention: Mention) -> bool:
    """Unresolved mentions count only as "X et al." or "X (2023)": "Hong Kong and Nairobi" is no reference."""
    return mention.kind == "author" and bool(_CITATION_SHAPE.search(mention.text))

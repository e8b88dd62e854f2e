"""The related-work audit: what a post cites, where, and the closest works it does not."""

from __future__ import annotations

from bot.moderation.schemas import RelatedWorkAudit
from bot.moderation.service import Moderator

from .conftest import FIXTURES


def test_related_work_audit_settles_the_two_paragraph_dispute(shared: Moderator) -> None:
    for name, fmt in (("related_work.md", "markdown"), ("related_work.html", "html")):
        audit = shared.audit((FIXTURES / name).read_text(encoding="utf-8"), fmt, title="CoT monitoring")
        assert isinstance(audit, RelatedWorkAudit)
        [section] = [s for s in audit.sections if s.kind == "related-work"]
        assert section.paragraphs == 2  # "it only spans two paragraphs" …
        assert section.footnotes == 3
        assert section.cited_total >= 10  # … "but it cites about ten works in the section and its footnotes"
        assert section.cited_in_footnotes >= 4
        resolved = {c.work.id for c in audit.citations if c.work}
        assert {
            "arxiv:2305.04388",  # "Turpin et al. (2023)", no link
            "arxiv:2201.11903",
            "arxiv:2212.03827",  # a link; the alias "CCS"
            "arxiv:2310.01405",
            "arxiv:2401.05566",  # "RepE"; a bare arXiv id
            "arxiv:2304.03279",
            "arxiv:1805.00899",
            "arxiv:2402.06782",  # footnotes: DOI, PDF link, arXiv DOI
            "arxiv:2309.08600",  # "Cunningham et al. 2023" in a footnote
        } <= resolved
        assert any(c.key == "url:https://annblog.example/cot-monitoring" for c in audit.citations)
        [lanham] = audit.uncited[:1]
        assert lanham.id == "arxiv:2307.13702"  # the faithfulness paper the post should have cited
        assert "similarity" in lanham.why
        assert all(u.id not in resolved for u in audit.uncited)


def test_audit_of_a_post_citing_nothing(shared: Moderator) -> None:
    audit = shared.audit("A thought with no references at all, about nothing in particular.", "markdown")
    assert audit.cited_count == 0 and audit.citations == [] and audit.sections == []

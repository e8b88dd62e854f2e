"""The related-work audit as an advisory finding: what the post cites, and the closest works it does not."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from bot.moderation.rules.base import CheckContext, Rule, RuleConfig
from bot.moderation.schemas import Finding, RelatedWorkAudit
from bot.moderation.severity import Severity


class RelatedWork(Rule):
    id = "related-work"
    severity = Severity.INFO
    advisory = True
    needs_audit = True
    placeholders = frozenset({"cited_count", "uncited_list"})
    summary = "Cites {cited_count} works"
    action = "Advisory only: share the suggestions with the author if useful; never a reason to reject."
    message = 'Hi {author}, some related work you might want to engage with in "{title}":\n{uncited_list}'

    class Config(RuleConfig):
        closest: int = Field(5, ge=0, le=50)
        min_similarity: float = Field(0.35, ge=0, le=1)

    def check(self, ctx: CheckContext, conf: Config) -> list[Finding]:
        if ctx.audit is None:
            return []
        return [self.audit_finding(ctx.audit, conf, ctx.values())]

    def audit_finding(self, audit: RelatedWorkAudit, conf: RuleConfig, values: dict[str, Any]) -> Finding:
        uncited = "\n".join(f"- {w.title} ({w.year or 'n.d.'}) {w.url or ''}".rstrip() for w in audit.uncited)
        values = {**values, "cited_count": audit.cited_count, "uncited_list": uncited or "(no suggestions)"}
        finding = self.finding(conf, values, audit.model_dump(mode="json"))
        details = []
        for section in audit.sections:
            if section.kind == "related-work":
                details.append(
                    f'"{section.heading}" spans {section.paragraphs} paragraph(s) and cites {section.cited_total} '
                    f"work(s) ({section.cited_in_section} in the text, {section.cited_in_footnotes} in its footnotes)"
                )
        if audit.uncited:
            details.append("closest uncited: " + "; ".join(w.title for w in audit.uncited[:3]))
        if details:
            finding.summary = f"{finding.summary}; " + "; ".join(details)
        return finding


def related_work_finding(audit: RelatedWorkAudit, conf: RuleConfig, values: dict[str, Any]) -> Finding:
    return RelatedWork().audit_finding(audit, conf, values)

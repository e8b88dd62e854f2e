"""The moderation rules, registered in one place: `RULES`.

A rule is one class (see `Rule`): its id, its section in the rule file, its default severity and wording,
and the check. Adding one to `RULES` is all it takes for the rule file, `check --rule`, the HTTP API's
`rule=` and the queue to know it (README: "Adding a moderation rule").
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from bot.moderation.rules.authorship import CoauthorConvenience, CoauthorUnconfirmed, is_author, person_name
from bot.moderation.rules.base import CheckContext, Rule, RuleConfig, SourceMatch, render
from bot.moderation.rules.copying import CrosspostMissingCanonical, DuplicatePost, NotOwnContent
from bot.moderation.rules.related import RelatedWork, related_work_finding
from bot.moderation.schemas import Finding

__all__ = [
    "RULES",
    "CheckContext",
    "Rule",
    "RuleBook",
    "RuleConfig",
    "SourceMatch",
    "is_author",
    "person_name",
    "related_work_finding",
    "render",
    "run_rules",
]


class RuleBook:
    """Rules by id, in the order they run and are listed."""

    def __init__(self, rules: Iterable[Rule]) -> None:
        self._rules: dict[str, Rule] = {}
        for rule in rules:
            if rule.id in self._rules:
                raise ValueError(f"two rules have the id {rule.id!r}")
            self._rules[rule.id] = rule

    def __iter__(self) -> Iterator[Rule]:
        return iter(self._rules.values())

    def __contains__(self, rule_id: object) -> bool:
        return rule_id in self._rules

    def __getitem__(self, rule_id: str) -> Rule:
        return self._rules[rule_id]

    def get(self, rule_id: str) -> Rule | None:
        return self._rules.get(rule_id)

    @property
    def ids(self) -> tuple[str, ...]:
        return tuple(self._rules)

    def adding(self, *rules: Rule) -> RuleBook:
        """These rules and `rules` after them (a forum's own rules, a test's)."""
        return RuleBook([*self, *rules])

    def is_advisory(self, rule_id: str) -> bool:
        rule = self.get(rule_id)
        return rule is not None and rule.advisory


RULES = RuleBook(
    [
        CoauthorConvenience(),
        CoauthorUnconfirmed(),
        NotOwnContent(),
        DuplicatePost(),
        CrosspostMissingCanonical(),
        RelatedWork(),
    ]
)


def run_rules(ctx: CheckContext, only: set[str] | None = None) -> list[Finding]:
    """The findings of every enabled rule of the context's rule book (or of those in `only`)."""
    findings: list[Finding] = []
    rules = ctx.config.rules
    for rule in rules.book:
        if not rules.rule(rule.id).enabled or (only is not None and rule.id not in only):
            continue
        findings.extend(rule.check(ctx, rules.rule(rule.id)))
    return findings

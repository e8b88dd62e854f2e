"""A rule is declared once: one class gives the rule file its section (defaults, validation, templates),
the checks their function and the queue its id. Nothing else needs an edit."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import Field

from bot.moderation.config import RULE_IDS, ConfigError, ModerationConfig, load_config
from bot.moderation.rules import RULES, CheckContext, Rule, RuleBook, RuleConfig
from bot.moderation.schemas import Finding
from bot.moderation.service import ModerationError, Moderator
from bot.moderation.severity import Severity

from ..conftest import submission


class ShortPost(Rule):
    """The whole declaration of a new rule."""

    id = "short-post"
    severity = Severity.LOW
    placeholders = frozenset({"words", "min_words"})
    summary = "Only {words} words (fewer than {min_words})"
    action = "Ask {author} whether this is a draft."
    message = 'Hi {author}, "{title}" is quite short; is it finished?'

    class Config(RuleConfig):
        min_words: int = Field(50, ge=1)

    def check(self, ctx: CheckContext, conf: Config) -> list[Finding]:
        count = len(ctx.parsed.text.split())
        if count >= conf.min_words:
            return []
        values = {**ctx.values(), "words": count, "min_words": conf.min_words}
        return [self.finding(conf, values, {"words": count})]


BOOK = RULES.adding(ShortPost())


def test_the_registry_is_the_one_list_of_rules() -> None:
    assert (
        RULE_IDS
        == RULES.ids
        == (
            "coauthor-convenience",
            "coauthor-unconfirmed",
            "not-own-content",
            "duplicate-post",
            "crosspost-missing-canonical",
            "related-work",
        )
    )
    assert [rule.id for rule in RULES if rule.advisory] == ["related-work"]
    for rule in RULES:  # each rule's defaults come from its declaration
        conf = ModerationConfig().rules.rule(rule.id)
        assert (conf.severity, conf.summary, conf.action) == (rule.severity, rule.summary, rule.action)
    with pytest.raises(ValueError, match="two rules have the id"):
        RuleBook([ShortPost(), ShortPost()])


def test_a_new_rule_runs_from_its_declaration(fresh: Moderator, tmp_path: Path) -> None:
    rule_file = tmp_path / "moderation.yaml"
    rule_file.write_text("rules:\n  short-post:\n    min_words: 400\n    severity: medium\n", encoding="utf-8")
    config = load_config(rule_file, BOOK)
    assert config.rules.short_post.min_words == 400 and config.rules.short_post.summary == ShortPost.summary
    moderator = Moderator(fresh.engine, config=config)
    sub = submission(id="short", body="A few words about interpretability, not many.", members_forum=False)

    report = moderator.check(sub)
    [finding] = [f for f in report.findings if f.rule == "short-post"]
    assert finding.severity is Severity.MEDIUM and not finding.advisory
    assert finding.summary == "Only 7 words (fewer than 400)" and finding.action == "Ask erin whether this is a draft."
    item = moderator.review(report.report_id)
    assert item.rules == ["short-post"] and item.severity is Severity.MEDIUM  # the queue knows it too
    assert [f.rule for f in moderator.check(sub, dry_run=True, rules={"short-post"}).findings] == ["short-post"]
    with pytest.raises(ModerationError, match="unknown rule"):
        fresh.check(sub, dry_run=True, rules={"short-post"})  # the built-in rule book does not have it


def test_a_new_rules_section_is_validated_like_the_others(tmp_path: Path) -> None:
    rule_file = tmp_path / "moderation.yaml"
    rule_file.write_text("rules:\n  short-post:\n    min_words: 0\n    message: 'Hi {nickname}'\n", encoding="utf-8")
    with pytest.raises(ConfigError) as error:
        load_config(rule_file, BOOK)
    assert "rules.short-post.min_words" in str(error.value)
    rule_file.write_text("rules:\n  short-post:\n    message: 'Hi {nickname}'\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"rules\.short-post\.message: unknown placeholder \{nickname\}"):
        load_config(rule_file, BOOK)
    with pytest.raises(ConfigError, match=r"rules\.short-post: unknown setting"):
        load_config(rule_file)  # without the declaration the section is a typo

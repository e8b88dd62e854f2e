"""The moderator-editable rule file (`knowledge/moderation.yaml`), in the spirit of Reddit's AutoModerator.

Moderators change thresholds, turn rules off and reword messages without touching code. The file is
validated as a whole on load; every problem is reported with its path in the file
(`rules.not-own-content.min_containment: …`) so a typo never silently disables a rule. Each rule's section
comes from its declaration (`bot.moderation.rules`): nothing about a rule is repeated here.
"""

from __future__ import annotations

import string
from functools import cache
from pathlib import Path
from typing import Any, ClassVar, Literal

import yaml
from pydantic import Field, ValidationError, create_model, field_validator, model_validator

from bot.moderation.rules import RULES, Rule, RuleBook, RuleConfig, render
from bot.moderation.rules.base import Strict
from bot.moderation.severity import Severity
from bot.moderation.shingles import SketchParams

__all__ = [
    "PLACEHOLDERS",
    "RULE_IDS",
    "ConfigError",
    "ModerationConfig",
    "RuleConfig",
    "RulesConfig",
    "Severity",
    "config_model",
    "load_config",
    "render",
]

RULE_IDS = RULES.ids
# Placeholders each rule's templates may use; anything else is a typo caught on load.
PLACEHOLDERS: dict[str, set[str]] = {rule.id: set(rule.allowed_placeholders) for rule in RULES}


class ConfigError(ValueError):
    """The rule file is missing something or has a wrong value; the message says where."""


class RulesSection(Strict):
    """The `rules:` section: one field per registered rule (see `rules_model`)."""

    book: ClassVar[RuleBook] = RULES

    @model_validator(mode="before")
    @classmethod
    def _fill_defaults(cls, data: Any) -> Any:
        # A moderator may override one field of a rule; the rest keeps its built-in value.
        if isinstance(data, dict):
            data = {
                k: ({**rule.defaults(), **v} if (rule := cls.book.get(k)) is not None and isinstance(v, dict) else v)
                for k, v in data.items()
            }
        return data

    def rule(self, rule_id: str) -> RuleConfig:
        return getattr(self, self.book[rule_id].field_name)


def _section_model(rule: Rule) -> type[RuleConfig]:
    if not rule.advisory:
        return rule.Config

    class Advisory(rule.Config):  # type: ignore[name-defined,misc]
        @field_validator("severity")
        @classmethod
        def _info_only(cls, value: Severity) -> Severity:
            if value != Severity.INFO:
                raise ValueError(f"{rule.id} is advisory only; its severity must be 'info'")
            return value

    return Advisory


@cache
def rules_model(book: RuleBook) -> type[RulesSection]:
    fields: dict[str, Any] = {}
    for rule in book:
        section = _section_model(rule)
        default = Field(default_factory=lambda m=section, r=rule: m(**r.defaults()), alias=rule.id)
        fields[rule.field_name] = (section, default)
    model = create_model("RulesConfig", __base__=RulesSection, **fields)
    model.book = book
    return model


RulesConfig = rules_model(RULES)


class SketchConfig(Strict):
    shingle_size: int = Field(3, ge=2, le=12)
    num_perm: int = Field(128, ge=16, le=1024)
    bands: int = Field(64, ge=2)
    window: int = Field(100, ge=20, le=5000)

    @model_validator(mode="after")
    def _bands_divide(self) -> SketchConfig:
        if self.num_perm % self.bands:
            raise ValueError(f"num_perm ({self.num_perm}) must be a multiple of bands ({self.bands})")
        return self

    def params(self) -> SketchParams:
        return SketchParams(self.shingle_size, self.num_perm, self.bands, self.window)


class ModerationConfig(Strict):
    version: Literal[1] = 1
    sketch: SketchConfig = Field(default_factory=SketchConfig)
    max_candidates: int = Field(30, ge=1, le=1000, description="LSH candidates confirmed exactly per check.")
    rules: RulesConfig = Field(default_factory=RulesConfig)  # type: ignore[valid-type]

    @model_validator(mode="after")
    def _templates(self) -> ModerationConfig:
        problems = []
        for rule in self.rules.book:
            conf = self.rules.rule(rule.id)
            allowed = rule.allowed_placeholders
            for name in ("summary", "action", "message"):
                for field_name in _template_fields(getattr(conf, name), f"rules.{rule.id}.{name}"):
                    if field_name not in allowed:
                        shown = ", ".join("{" + p + "}" for p in sorted(allowed))
                        problems.append(
                            f"rules.{rule.id}.{name}: unknown placeholder {{{field_name}}} (allowed: {shown})"
                        )
        if problems:
            raise ValueError("; ".join(problems))
        return self


@cache
def config_model(book: RuleBook = RULES) -> type[ModerationConfig]:
    """The rule file's model for a rule book: `ModerationConfig` itself for the built-in rules."""
    if book is RULES:
        return ModerationConfig
    rules = rules_model(book)
    return create_model("ModerationConfig", __base__=ModerationConfig, rules=(rules, Field(default_factory=rules)))


def _template_fields(template: str, where: str) -> list[str]:
    try:
        return [name for _, name, _, _ in string.Formatter().parse(template) if name is not None]
    except ValueError as exc:
        raise ValueError(f"{where}: {exc} (write {{{{ and }}}} for literal braces)") from exc


def load_config(path: Path | None, book: RuleBook = RULES) -> ModerationConfig:
    """Read and validate the rule file; a missing file means the defaults."""
    model = config_model(book)
    if path is None or not path.exists():
        return model()
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}:{mark.column + 1}" if mark else str(path)
        raise ConfigError(f"{where}: not valid YAML: {getattr(exc, 'problem', None) or exc}") from exc
    if data is None:
        return model()
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: the top level must be a mapping, not {type(data).__name__}")
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        lines = []
        for error in exc.errors():
            loc = ".".join(str(p) for p in error["loc"])
            msg = error["msg"].removeprefix("Value error, ")
            if error["type"] == "extra_forbidden":
                msg = "unknown setting (check the spelling)"
            lines.append(f"{path}: {loc}: {msg}" if loc else f"{path}: {msg}")
        raise ConfigError("\n".join(lines)) from exc

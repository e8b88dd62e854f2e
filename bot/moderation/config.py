"""The moderator-editable rule file (`knowledge/moderation.yaml`), in the spirit of Reddit's AutoModerator.

Moderators change thresholds, turn rules off and reword messages without touching code. The file is
validated as a whole on load; every problem is reported with its path in the file
(`rules.not-own-content.min_containment: …`) so a typo never silently disables a rule.
"""

from __future__ import annotations

import string
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from bot.moderation.shingles import SketchParams

Severity = Literal["high", "medium", "low", "info"]
RULE_IDS = (
    "coauthor-convenience",
    "coauthor-unconfirmed",
    "not-own-content",
    "duplicate-post",
    "crosspost-missing-canonical",
    "related-work",
)

# Placeholders each rule's templates may use; anything else is a typo caught on load.
PLACEHOLDERS: dict[str, set[str]] = {
    "coauthor-convenience": {
        "author",
        "coauthor",
        "coauthors",
        "forum",
        "title",
        "group",
        "source_title",
        "source_url",
    },
    "coauthor-unconfirmed": {"author", "coauthor", "coauthors", "forum", "title"},
    "not-own-content": {"author", "forum", "title", "source_title", "source_url", "source_authors", "percent"},
    "duplicate-post": {
        "author",
        "forum",
        "title",
        "source_title",
        "source_url",
        "source_authors",
        "percent",
        "rejected_reason",
    },
    "crosspost-missing-canonical": {"author", "forum", "title", "source_title", "source_url", "percent"},
    "related-work": {"author", "forum", "title", "cited_count", "uncited_list"},
}


class ConfigError(ValueError):
    """The rule file is missing something or has a wrong value; the message says where."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class RuleConfig(_Strict):
    enabled: bool = True
    severity: Severity
    summary: str
    action: str
    message: str


class CoauthorConvenienceConfig(RuleConfig):
    severity: Severity = "high"
    members_group: str = Field("alignmentForum", min_length=1)
    min_source_containment: float = Field(0.5, gt=0, le=1)


class CoauthorUnconfirmedConfig(RuleConfig):
    severity: Severity = "medium"


class NotOwnContentConfig(RuleConfig):
    severity: Severity = "high"
    min_containment: float = Field(
        0.5, gt=0, le=1, description="Share of the post's own words aligned with the source."
    )
    min_shingles: int = Field(30, ge=1, description="Posts with less own text than this are not judged.")


class DuplicatePostConfig(RuleConfig):
    severity: Severity = "high"
    min_jaccard: float = Field(0.6, gt=0, le=1)
    min_containment: float = Field(0.8, gt=0, le=1, description="Share of the post found in the earlier one.")
    same_forum_only: bool = False


class CrosspostConfig(RuleConfig):
    severity: Severity = "medium"
    min_containment: float = Field(0.6, gt=0, le=1)


class RelatedWorkConfig(RuleConfig):
    severity: Severity = "info"
    closest: int = Field(5, ge=0, le=50)
    min_similarity: float = Field(0.35, ge=0, le=1)

    @field_validator("severity")
    @classmethod
    def _advisory(cls, value: str) -> str:
        if value != "info":
            raise ValueError("related-work is advisory only; its severity must be 'info'")
        return value


_DEFAULT_TEXT: dict[str, dict[str, str]] = {
    "coauthor-convenience": {
        "summary": "{coauthor} looks like a convenience co-author for {author}, who is not a {group} member",
        "action": "Remove {coauthor} as co-author and ask {author} to submit through the normal route.",
        "message": 'Hi {author}, thanks for your post "{title}". Posting to {forum} is for members\' own work, '
        "so we removed the co-author added for access. Please submit through the normal route (post it on "
        "LessWrong and suggest it for the Alignment Forum).",
    },
    "coauthor-unconfirmed": {
        "summary": "Co-author {coauthor} has not confirmed",
        "action": "Ask {coauthor} to confirm co-authorship before approving.",
        "message": 'Hi {author}, before we publish "{title}", {coauthor} needs to confirm they are a co-author.',
    },
    "not-own-content": {
        "summary": '{percent}% of the text comes from "{source_title}" by {source_authors}',
        "action": "Reject unless the author shows the text is theirs; suggest a linkpost with their own commentary.",
        "message": 'Hi {author}, most of "{title}" appears to come from "{source_title}" ({source_url}) by '
        "{source_authors}. Membership is for posting your own work. You are welcome to share it as a linkpost "
        "with the excerpt in a quotation and your own commentary.",
    },
    "duplicate-post": {
        "summary": 'Near-duplicate ({percent}%) of "{source_title}" by {source_authors}',
        "action": "Reject as a duplicate, or edit the earlier post instead.",
        "message": 'Hi {author}, "{title}" is nearly identical to "{source_title}" ({source_url}). Please edit '
        "the existing post instead of posting it again.",
    },
    "crosspost-missing-canonical": {
        "summary": 'Crosspost of the author\'s own "{source_title}" without a canonical link',
        "action": "Ask the author to add the original as the linkpost URL or canonical link.",
        "message": 'Hi {author}, "{title}" looks like a crosspost of {source_url}. Please add that link as the '
        "canonical source so readers and search engines find the original.",
    },
    "related-work": {
        "summary": "Cites {cited_count} works",
        "action": "Advisory only: share the suggestions with the author if useful; never a reason to reject.",
        "message": 'Hi {author}, some related work you might want to engage with in "{title}":\n{uncited_list}',
    },
}


def _defaults(rule: str) -> dict[str, Any]:
    return dict(_DEFAULT_TEXT[rule])


class RulesConfig(_Strict):
    coauthor_convenience: CoauthorConvenienceConfig = Field(
        default_factory=lambda: CoauthorConvenienceConfig(**_defaults("coauthor-convenience")),
        alias="coauthor-convenience",
    )
    coauthor_unconfirmed: CoauthorUnconfirmedConfig = Field(
        default_factory=lambda: CoauthorUnconfirmedConfig(**_defaults("coauthor-unconfirmed")),
        alias="coauthor-unconfirmed",
    )
    not_own_content: NotOwnContentConfig = Field(
        default_factory=lambda: NotOwnContentConfig(**_defaults("not-own-content")), alias="not-own-content"
    )
    duplicate_post: DuplicatePostConfig = Field(
        default_factory=lambda: DuplicatePostConfig(**_defaults("duplicate-post")), alias="duplicate-post"
    )
    crosspost_missing_canonical: CrosspostConfig = Field(
        default_factory=lambda: CrosspostConfig(**_defaults("crosspost-missing-canonical")),
        alias="crosspost-missing-canonical",
    )
    related_work: RelatedWorkConfig = Field(
        default_factory=lambda: RelatedWorkConfig(**_defaults("related-work")), alias="related-work"
    )

    @model_validator(mode="before")
    @classmethod
    def _fill_text(cls, data: Any) -> Any:
        # A moderator may override one field of a rule; the rest keeps its default wording.
        if isinstance(data, dict):
            data = {
                k: ({**_defaults(k), **v} if k in _DEFAULT_TEXT and isinstance(v, dict) else v) for k, v in data.items()
            }
        return data

    def rule(self, rule_id: str) -> RuleConfig:
        return getattr(self, rule_id.replace("-", "_"))


class SketchConfig(_Strict):
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


class ModerationConfig(_Strict):
    version: Literal[1] = 1
    sketch: SketchConfig = Field(default_factory=SketchConfig)
    max_candidates: int = Field(30, ge=1, le=1000, description="LSH candidates confirmed exactly per check.")
    rules: RulesConfig = Field(default_factory=RulesConfig)

    @model_validator(mode="after")
    def _templates(self) -> ModerationConfig:
        problems = []
        for rule in RULE_IDS:
            conf = self.rules.rule(rule)
            for name in ("summary", "action", "message"):
                for field_name in _template_fields(getattr(conf, name), f"rules.{rule}.{name}"):
                    if field_name not in PLACEHOLDERS[rule]:
                        allowed = ", ".join("{" + p + "}" for p in sorted(PLACEHOLDERS[rule]))
                        problems.append(
                            f"rules.{rule}.{name}: unknown placeholder {{{field_name}}} (allowed: {allowed})"
                        )
        if problems:
            raise ValueError("; ".join(problems))
        return self


def _template_fields(template: str, where: str) -> list[str]:
    try:
        return [name for _, name, _, _ in string.Formatter().parse(template) if name is not None]
    except ValueError as exc:
        raise ValueError(f"{where}: {exc} (write {{{{ and }}}} for literal braces)") from exc


def render(template: str, values: dict[str, Any]) -> str:
    return template.format_map({k: "" if v is None else v for k, v in values.items()})


def load_config(path: Path | None) -> ModerationConfig:
    """Read and validate the rule file; a missing file means the defaults."""
    if path is None or not path.exists():
        return ModerationConfig()
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}:{mark.column + 1}" if mark else str(path)
        raise ConfigError(f"{where}: not valid YAML: {getattr(exc, 'problem', None) or exc}") from exc
    if data is None:
        return ModerationConfig()
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: the top level must be a mapping, not {type(data).__name__}")
    try:
        return ModerationConfig.model_validate(data)
    except ValidationError as exc:
        lines = []
        for error in exc.errors():
            loc = ".".join(str(p) for p in error["loc"])
            msg = error["msg"].removeprefix("Value error, ")
            if error["type"] == "extra_forbidden":
                msg = "unknown setting (check the spelling)"
            lines.append(f"{path}: {loc}: {msg}" if loc else f"{path}: {msg}")
        raise ConfigError("\n".join(lines)) from exc

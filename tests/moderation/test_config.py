"""The moderator-editable rule file: the shipped one loads, and mistakes are reported with where they are."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.moderation.config import RULE_IDS, ConfigError, ModerationConfig, load_config
from bot.settings import REPO_ROOT

SHIPPED = REPO_ROOT / "knowledge" / "moderation.yaml"


def write(tmp_path: Path, content: str) -> Path:
    path = tmp_path / "moderation.yaml"
    path.write_text(content, encoding="utf-8")
    return path


def test_shipped_file_loads_and_enables_every_rule() -> None:
    config = load_config(SHIPPED)
    for rule in RULE_IDS:
        assert config.rules.rule(rule).enabled
    assert config.rules.not_own_content.min_containment == 0.5
    assert config.rules.coauthor_convenience.members_group == "alignmentForum"
    assert config.rules.related_work.severity == "info"
    assert config == ModerationConfig()  # the documented file and the built-in defaults never drift apart


def test_missing_or_empty_file_means_defaults(tmp_path: Path) -> None:
    assert load_config(tmp_path / "nope.yaml") == ModerationConfig()
    assert load_config(write(tmp_path, "")) == ModerationConfig()


def test_partial_override_keeps_the_rest(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, "rules:\n  not-own-content:\n    min_containment: 0.7\n"))
    assert config.rules.not_own_content.min_containment == 0.7
    assert config.rules.not_own_content.message == ModerationConfig().rules.not_own_content.message
    assert config.rules.duplicate_post == ModerationConfig().rules.duplicate_post


@pytest.mark.parametrize(
    "content,expected",
    [
        (
            "rules:\n  not-own-content:\n    min_containment: 1.5\n",
            "rules.not-own-content.min_containment: Input should be less than or equal to 1",
        ),
        ("rules:\n  not-own-contnet:\n    enabled: false\n", "rules.not-own-contnet: unknown setting"),
        ("rules:\n  duplicate-post:\n    treshold: 0.5\n", "rules.duplicate-post.treshold: unknown setting"),
        ("rules:\n  duplicate-post:\n    severity: critical\n", "rules.duplicate-post.severity: Input should be"),
        ("rules:\n  related-work:\n    severity: high\n", "related-work is advisory only"),
        (
            "rules:\n  crosspost-missing-canonical:\n    message: 'Hi {autor}'\n",
            "rules.crosspost-missing-canonical.message: unknown placeholder {autor}",
        ),
        (
            "rules:\n  crosspost-missing-canonical:\n    message: 'Hi {author'\n",
            "rules.crosspost-missing-canonical.message",
        ),
        ("sketch:\n  num_perm: 100\n  bands: 32\n", "must be a multiple of bands"),
        ("version: 2\n", "version: Input should be 1"),
        ("- just\n- a list\n", "the top level must be a mapping"),
    ],
)
def test_mistakes_are_reported_with_their_place(tmp_path: Path, content: str, expected: str) -> None:
    path = write(tmp_path, content)
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert str(path) in str(info.value)
    assert expected in str(info.value)


def test_yaml_syntax_error_has_line_and_column(tmp_path: Path) -> None:
    path = write(tmp_path, "rules:\n  duplicate-post:\n    min_jaccard: [0.5\n")
    with pytest.raises(ConfigError, match=rf"{path}:\d+:\d+: not valid YAML"):
        load_config(path)

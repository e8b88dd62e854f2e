"""Severity is one ordered scale: high > medium > low > info, whatever the alphabet says."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from bot.moderation.config import ModerationConfig
from bot.moderation.schemas import Finding
from bot.moderation.severity import Severity


def test_order_is_seriousness_not_the_alphabet() -> None:
    assert Severity.HIGH > Severity.MEDIUM > Severity.LOW > Severity.INFO
    assert sorted(["info", "high", "low", "medium"], key=Severity) == ["info", "low", "medium", "high"]
    # As plain strings "high" < "info" < "low" < "medium": the enum must not fall back to that.
    assert Severity.HIGH > Severity.INFO and not Severity.LOW > Severity.HIGH
    assert max(Severity) is Severity.HIGH and min(Severity) is Severity.INFO


def test_compares_with_the_strings_settings_and_json_use() -> None:
    assert Severity.MEDIUM >= "low" and Severity.LOW >= "low" and not Severity.INFO >= "low"
    assert Severity("high") == "high" and f"{Severity.HIGH}" == "high" and Severity.MEDIUM.upper() == "MEDIUM"
    assert {"high": 1}[Severity.HIGH] == 1
    with pytest.raises(ValueError):
        _ = Severity.HIGH > "critical"


def test_highest() -> None:
    assert Severity.highest(["low", "high", "medium"]) is Severity.HIGH
    assert Severity.highest(["info"]) is Severity.INFO
    assert Severity.highest([]) is None


def test_findings_read_and_write_plain_strings() -> None:
    fields = {"rule": "duplicate-post", "summary": "s", "evidence": {}, "action": "a", "message": "m"}
    finding = Finding.model_validate({**fields, "severity": "medium"})
    assert finding.severity is Severity.MEDIUM
    assert finding.model_dump(mode="json")["severity"] == "medium"
    assert set(finding.model_dump(mode="json")) == {"rule", "severity", "summary", "evidence", "action", "message"}
    with pytest.raises(ValidationError):
        Finding.model_validate({**fields, "severity": "critical"})


def test_rule_file_severity_is_the_enum() -> None:
    config = ModerationConfig.model_validate({"rules": {"duplicate-post": {"severity": "low"}}})
    assert config.rules.duplicate_post.severity is Severity.LOW
    assert config.rules.not_own_content.severity is Severity.HIGH  # untouched rules keep their default

"""`Services`: the application opened from one Settings (real stores, the real model, fake APIs on loopback)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from bot import cli_common
from bot.cli import app
from bot.embedding import Embedder
from bot.moderation.config import ConfigError
from bot.services import Services
from bot.settings import REPO_ROOT
from tests.conftest import make_settings
from tests.metadata.fakes import FakeApis

RULES = REPO_ROOT / "knowledge" / "moderation.yaml"


@pytest.fixture
def open_services(tmp_path: Path, embedder: Embedder, apis: FakeApis) -> Iterator[Any]:
    opened: list[Services] = []

    def build(**overrides: Any) -> Services:
        settings = make_settings(tmp_path / "kb", load_bundled_knowledge=False, **apis.settings(**overrides))
        opened.append(Services.open(settings, embedder=embedder))
        return opened[-1]

    yield build
    for services in opened:
        services.close()


def test_moderation_uses_the_settings_rule_file(open_services: Any, tmp_path: Path) -> None:
    rules = yaml.safe_load(RULES.read_text(encoding="utf-8"))
    own = tmp_path / "rules.yaml"
    own.write_text(yaml.safe_dump(rules), encoding="utf-8")
    services = open_services(moderation_config=own)
    assert services.moderation.config_path == own
    assert services.moderation is services.moderation  # built once
    default = open_services()
    assert default.moderation.config_path == default.settings.knowledge_dir / "moderation.yaml"


def test_a_bad_rule_file_fails_when_moderation_is_first_used(open_services: Any, tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("rules: [this is not a mapping\n", encoding="utf-8")
    services = open_services(moderation_config=bad)
    assert services.engine.db.count_works() == 0  # the engine opened: commands that need no rules still work
    with pytest.raises(ConfigError):
        services.moderation  # noqa: B018


def test_papers_fetch_store_and_show_provenance(open_services: Any, apis: FakeApis) -> None:
    services = open_services()
    result = services.papers.fetch("arxiv", "2305.04388")
    assert [(item.status, item.work.id) for item in result.works] == [("added", "arxiv:2305.04388")]
    assert services.engine.db.count_works() == 1
    detail = services.papers.detail("https://arxiv.org/abs/2305.04388v1")
    assert detail is not None and detail.id == "arxiv:2305.04388"
    assert (detail.provenance["title"].kind, detail.provenance["title"].name) == ("fetch", "arxiv")
    assert services.papers.detail("arxiv:2501.99999") is None
    present = services.papers.fetch("arxiv", "arXiv:2305.04388v2")  # answered from the knowledge base
    assert present.from_knowledge_base and len(apis.to("arxiv")) == 1


def test_services_close_on_leaving_the_block(tmp_path: Path, embedder: Embedder) -> None:
    settings = make_settings(tmp_path / "kb", load_bundled_knowledge=False)
    closed: list[bool] = []
    with Services.open(settings, embedder=embedder) as services:
        services.engine.db.close = lambda: closed.append(True)  # type: ignore[method-assign]
        assert services.settings is settings
    assert closed == [True]


def test_each_command_closes_what_it_opened(
    apis: FakeApis, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, embedder: Embedder
) -> None:
    """Commands open the application through `open_services`; it is closed when the command ends, also when
    it ends with an error exit code."""
    settings = make_settings(tmp_path / "kb", load_bundled_knowledge=False, **apis.settings())
    monkeypatch.setattr(cli_common.Settings, "load", classmethod(lambda _cls, _data_dir=None: settings))
    opened: list[Services] = []
    closed: list[Services] = []
    real_open, real_close = Services.open, Services.close

    def spy_open(cls: type[Services], *args: Any, **kwargs: Any) -> Services:
        opened.append(real_open(*args, embedder=embedder, **{k: v for k, v in kwargs.items() if k != "embedder"}))
        return opened[-1]

    def spy_close(self: Services) -> None:
        closed.append(self)
        real_close(self)

    monkeypatch.setattr(Services, "open", classmethod(spy_open))
    monkeypatch.setattr(Services, "close", spy_close)
    runner = CliRunner()
    found = runner.invoke(app, ["fetch", "arxiv", "2305.04388", "--json"])
    assert found.exit_code == 0, found.output
    assert json.loads(found.stdout)["works"][0]["work"]["id"] == "arxiv:2305.04388"
    missing = runner.invoke(app, ["fetch", "arxiv", "2501.99999"])
    assert missing.exit_code == 1  # nothing found
    shown = runner.invoke(app, ["show", "arxiv:2305.04388", "--json"])
    assert shown.exit_code == 0 and json.loads(shown.stdout)["id"] == "arxiv:2305.04388"
    assert len(opened) == 3 and closed == opened
    assert not cli_common._opened

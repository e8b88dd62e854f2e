from pathlib import Path

import pytest

from bot.settings import DEFAULT_DATA_DIR, Settings


def test_defaults_are_embedded_sqlite_and_chroma(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("ALIGNBOT_DATA_DIR", "DATABASE_URL", "CHROMA_HOST", "ALIGNBOT_LLM_PROVIDER"):
        monkeypatch.delenv(name, raising=False)
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    assert settings.data_dir == DEFAULT_DATA_DIR
    assert settings.sqlalchemy_url == f"sqlite:///{DEFAULT_DATA_DIR / 'alignbot.sqlite3'}"
    assert settings.chroma_host is None and settings.llm.provider is None


def test_environment_selects_services(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("ALIGNBOT_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("DATABASE_URL", "postgresql+psycopg://u@db/alignbot")
    monkeypatch.setenv("CHROMA_HOST", "chroma")
    monkeypatch.setenv("CHROMA_PORT", "8001")
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    assert settings.data_dir == tmp_path
    assert settings.sqlalchemy_url == "postgresql+psycopg://u@db/alignbot"
    assert (settings.chroma_host, settings.chroma_port) == ("chroma", 8001)


def test_fields_can_also_be_set_by_name(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, database_url="sqlite:///x.db", chroma_host="h")  # type: ignore[call-arg]
    assert settings.sqlalchemy_url == "sqlite:///x.db" and settings.chroma_host == "h"


def test_bad_values_are_rejected_with_the_field_name(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CHROMA_PORT", "not-a-port")
    with pytest.raises(ValueError, match=r"chroma_port|CHROMA_PORT"):
        Settings(_env_file=None)  # type: ignore[call-arg]

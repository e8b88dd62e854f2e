import os
import re
from pathlib import Path
from typing import Any

import pytest
from pydantic import AliasChoices, SecretStr, ValidationError

from bot.citations import Style
from bot.settings import DEFAULT_DATA_DIR, REPO_ROOT, SECTIONS, Settings

README = REPO_ROOT / "README.md"


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Nothing the developer or another test set, and no `.env` in the working directory."""
    for name in list(os.environ):
        ours = name.startswith(("ALIGNBOT_", "REDDIT_", "DISCORD_", "CHROMA_", "DATABASE_"))
        if ours and not name.startswith("ALIGNBOT_TEST_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)


def test_defaults_are_embedded_sqlite_and_chroma() -> None:
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


# --- every environment name, and where it lands ------------------------------------------------------------

# (section or "" for the top level, field): the names it is read from, a value to set, what the value reads as.
ENVIRONMENT: dict[tuple[str, str], tuple[tuple[str, ...], str, Any]] = {
    ("", "data_dir"): (("ALIGNBOT_DATA_DIR",), "/srv/kb", Path("/srv/kb")),
    ("", "database_url"): (("DATABASE_URL", "ALIGNBOT_DATABASE_URL"), "sqlite:///a.db", "sqlite:///a.db"),
    ("", "chroma_host"): (("CHROMA_HOST", "ALIGNBOT_CHROMA_HOST"), "chroma", "chroma"),
    ("", "chroma_port"): (("CHROMA_PORT", "ALIGNBOT_CHROMA_PORT"), "8123", 8123),
    ("", "chroma_collection"): (("ALIGNBOT_CHROMA_COLLECTION",), "mine", "mine"),
    ("", "knowledge_dir"): (("ALIGNBOT_KNOWLEDGE_DIR",), "/srv/k", Path("/srv/k")),
    ("", "prompts_dir"): (("ALIGNBOT_PROMPTS_DIR",), "/srv/p", Path("/srv/p")),
    ("", "load_bundled_knowledge"): (("ALIGNBOT_LOAD_BUNDLED_KNOWLEDGE",), "false", False),
    ("", "embedding_model"): (("ALIGNBOT_EMBEDDING_MODEL",), "minilm-torch", "minilm-torch"),
    ("", "embedding_max_tokens"): (("ALIGNBOT_EMBEDDING_MAX_TOKENS",), "256", 256),
    ("", "embedding_batch_size"): (("ALIGNBOT_EMBEDDING_BATCH_SIZE",), "8", 8),
    ("", "candidate_pool"): (("ALIGNBOT_CANDIDATE_POOL",), "50", 50),
    ("", "dense_weight"): (("ALIGNBOT_DENSE_WEIGHT",), "0.5", 0.5),
    ("", "ask_confidence_threshold"): (("ALIGNBOT_ASK_CONFIDENCE_THRESHOLD",), "0.3", 0.3),
    ("", "cite_confidence_threshold"): (("ALIGNBOT_CITE_CONFIDENCE_THRESHOLD",), "0.6", 0.6),
    ("llm", "provider"): (("ALIGNBOT_LLM_PROVIDER",), "ollama", "ollama"),
    ("llm", "model"): (("ALIGNBOT_LLM_MODEL",), "llama3.1", "llama3.1"),
    ("llm", "base_url"): (("ALIGNBOT_LLM_BASE_URL",), "http://127.0.0.1:9/v1", "http://127.0.0.1:9/v1"),
    ("llm", "timeout_seconds"): (("ALIGNBOT_LLM_TIMEOUT_SECONDS",), "3.5", 3.5),
    ("llm", "rerank"): (("ALIGNBOT_LLM_RERANK",), "true", True),
    ("metadata", "live_lookup"): (("ALIGNBOT_LIVE_LOOKUP",), "true", True),
    ("metadata", "live_lookup_deadline_seconds"): (("ALIGNBOT_LIVE_LOOKUP_DEADLINE_SECONDS",), "2", 2.0),
    ("metadata", "contact_email"): (("ALIGNBOT_METADATA_CONTACT_EMAIL",), "ops@x.test", "ops@x.test"),
    ("metadata", "connect_timeout_seconds"): (("ALIGNBOT_METADATA_CONNECT_TIMEOUT_SECONDS",), "1.5", 1.5),
    ("metadata", "read_timeout_seconds"): (("ALIGNBOT_METADATA_READ_TIMEOUT_SECONDS",), "7", 7.0),
    ("metadata", "deadline_seconds"): (("ALIGNBOT_METADATA_DEADLINE_SECONDS",), "9", 9.0),
    ("metadata", "retries"): (("ALIGNBOT_METADATA_RETRIES",), "0", 0),
    ("metadata", "backoff_seconds"): (("ALIGNBOT_METADATA_BACKOFF_SECONDS",), "0.25", 0.25),
    ("metadata", "max_backoff_seconds"): (("ALIGNBOT_METADATA_MAX_BACKOFF_SECONDS",), "4", 4.0),
    ("metadata", "arxiv_api_url"): (("ALIGNBOT_ARXIV_API_URL",), "http://127.0.0.1:9/a", "http://127.0.0.1:9/a"),
    ("metadata", "arxiv_min_interval_seconds"): (("ALIGNBOT_ARXIV_MIN_INTERVAL_SECONDS",), "0", 0.0),
    ("metadata", "s2_api_url"): (("ALIGNBOT_S2_API_URL",), "http://127.0.0.1:9/s", "http://127.0.0.1:9/s"),
    ("metadata", "s2_api_key"): (("ALIGNBOT_S2_API_KEY",), "k1", SecretStr("k1")),
    ("metadata", "s2_min_interval_seconds"): (("ALIGNBOT_S2_MIN_INTERVAL_SECONDS",), "2", 2.0),
    ("metadata", "openalex_api_url"): (("ALIGNBOT_OPENALEX_API_URL",), "http://127.0.0.1:9/o", "http://127.0.0.1:9/o"),
    ("metadata", "openalex_api_key"): (("ALIGNBOT_OPENALEX_API_KEY",), "k2", SecretStr("k2")),
    ("metadata", "openalex_min_interval_seconds"): (("ALIGNBOT_OPENALEX_MIN_INTERVAL_SECONDS",), "1", 1.0),
    ("metadata", "arxiv_oai_url"): (("ALIGNBOT_ARXIV_OAI_URL",), "http://127.0.0.1:9/oai", "http://127.0.0.1:9/oai"),
    ("metadata", "arxiv_oai_metadata_prefix"): (("ALIGNBOT_ARXIV_OAI_METADATA_PREFIX",), "arXivRaw", "arXivRaw"),
    ("metadata", "lesswrong_graphql_url"): (
        ("ALIGNBOT_LESSWRONG_GRAPHQL_URL",),
        "http://l/graphql",
        "http://l/graphql",
    ),
    ("metadata", "alignmentforum_graphql_url"): (
        ("ALIGNBOT_ALIGNMENTFORUM_GRAPHQL_URL",),
        "http://a/graphql",
        "http://a/graphql",
    ),
    ("metadata", "eaforum_graphql_url"): (("ALIGNBOT_EAFORUM_GRAPHQL_URL",), "http://e/graphql", "http://e/graphql"),
    ("metadata", "sync_deadline_seconds"): (("ALIGNBOT_SYNC_DEADLINE_SECONDS",), "30", 30.0),
    ("metadata", "sync_read_timeout_seconds"): (("ALIGNBOT_SYNC_READ_TIMEOUT_SECONDS",), "6", 6.0),
    ("metadata", "sync_relevance_threshold"): (("ALIGNBOT_SYNC_RELEVANCE_THRESHOLD",), "0.6", 0.6),
    ("moderation", "config"): (
        ("ALIGNBOT_MODERATION_CONFIG", "ALIGNBOT_REDDIT_MODERATION_CONFIG"),
        "/srv/rules.yaml",
        Path("/srv/rules.yaml"),
    ),
    ("http", "host"): (("ALIGNBOT_HTTP_HOST",), "0.0.0.0", "0.0.0.0"),
    ("http", "port"): (("ALIGNBOT_HTTP_PORT",), "9090", 9090),
    ("http", "open_reads"): (("ALIGNBOT_HTTP_OPEN_READS",), "true", True),
    ("http", "max_body_bytes"): (("ALIGNBOT_HTTP_MAX_BODY_BYTES",), "2048", 2048),
    ("http", "max_ingest_body_bytes"): (("ALIGNBOT_HTTP_MAX_INGEST_BODY_BYTES",), "4096", 4096),
    ("http", "max_ingest_records"): (("ALIGNBOT_HTTP_MAX_INGEST_RECORDS",), "10", 10),
    ("http", "rate_per_minute"): (("ALIGNBOT_HTTP_RATE_PER_MINUTE",), "60", 60.0),
    ("http", "rate_burst"): (("ALIGNBOT_HTTP_RATE_BURST",), "3", 3),
    ("http", "anonymous_rate_per_minute"): (("ALIGNBOT_HTTP_ANONYMOUS_RATE_PER_MINUTE",), "5", 5.0),
    ("http", "session_hours"): (("ALIGNBOT_HTTP_SESSION_HOURS",), "1", 1.0),
    ("http", "secure_cookies"): (("ALIGNBOT_HTTP_SECURE_COOKIES",), "true", True),
    ("http", "trusted_proxies"): (
        ("ALIGNBOT_HTTP_TRUSTED_PROXIES",),
        "10.0.0.1, 172.16.0.0/12",
        ["10.0.0.1", "172.16.0.0/12"],
    ),
    ("http", "trust_proxy_headers"): (("ALIGNBOT_HTTP_TRUST_PROXY_HEADERS",), "true", True),
    ("http", "metrics_open"): (("ALIGNBOT_HTTP_METRICS_OPEN",), "true", True),
    ("http", "docs"): (("ALIGNBOT_HTTP_DOCS",), "true", True),
    ("discord", "token"): (("DISCORD_TOKEN", "ALIGNBOT_DISCORD_TOKEN"), "t0ken", SecretStr("t0ken")),
    ("discord", "dev_guilds"): (("ALIGNBOT_DISCORD_DEV_GUILDS",), "1,2", [1, 2]),
    ("discord", "sync_commands"): (("ALIGNBOT_DISCORD_SYNC_COMMANDS",), "false", False),
    ("discord", "sharded"): (("ALIGNBOT_DISCORD_SHARDED",), "true", True),
    ("discord", "shard_count"): (("ALIGNBOT_DISCORD_SHARD_COUNT",), "4", 4),
    ("discord", "moderator_roles"): (("ALIGNBOT_DISCORD_MODERATOR_ROLES",), "Mods, 77", ["Mods", "77"]),
    ("discord", "moderator_channel"): (("ALIGNBOT_DISCORD_MODERATOR_CHANNEL",), "55", 55),
    ("discord", "submission_forums"): (("ALIGNBOT_DISCORD_SUBMISSION_FORUMS",), "9", [9]),
    ("discord", "submission_forum_name"): (("ALIGNBOT_DISCORD_SUBMISSION_FORUM_NAME",), "papers", "papers"),
    ("discord", "members_forum"): (("ALIGNBOT_DISCORD_MEMBERS_FORUM",), "true", True),
    ("discord", "reply_mode"): (("ALIGNBOT_DISCORD_REPLY_MODE",), "mentions", "mentions"),
    ("discord", "reply_channels"): (("ALIGNBOT_DISCORD_REPLY_CHANNELS",), "3,4", [3, 4]),
    ("discord", "reply_cooldown_seconds"): (("ALIGNBOT_DISCORD_REPLY_COOLDOWN_SECONDS",), "5", 5.0),
    ("discord", "reply_when_unsure"): (("ALIGNBOT_DISCORD_REPLY_WHEN_UNSURE",), "true", True),
    ("discord", "context_messages"): (("ALIGNBOT_DISCORD_CONTEXT_MESSAGES",), "3", 3),
    ("discord", "bibliography_messages"): (("ALIGNBOT_DISCORD_BIBLIOGRAPHY_MESSAGES",), "50", 50),
    ("discord", "results_per_page"): (("ALIGNBOT_DISCORD_RESULTS_PER_PAGE",), "3", 3),
    ("discord", "max_results"): (("ALIGNBOT_DISCORD_MAX_RESULTS",), "9", 9),
    ("discord", "default_style"): (("ALIGNBOT_DISCORD_DEFAULT_STYLE",), "bibtex", Style.bibtex),
    ("discord", "view_timeout_seconds"): (("ALIGNBOT_DISCORD_VIEW_TIMEOUT_SECONDS",), "60", 60.0),
    ("discord", "rate_limit_count"): (("ALIGNBOT_DISCORD_RATE_LIMIT_COUNT",), "2", 2),
    ("discord", "rate_limit_seconds"): (("ALIGNBOT_DISCORD_RATE_LIMIT_SECONDS",), "30", 30.0),
    ("discord", "engine_timeout_seconds"): (("ALIGNBOT_DISCORD_ENGINE_TIMEOUT_SECONDS",), "10", 10.0),
    ("discord", "workers"): (("ALIGNBOT_DISCORD_WORKERS",), "4", 4),
    ("reddit", "client_id"): (("REDDIT_CLIENT_ID", "ALIGNBOT_REDDIT_CLIENT_ID"), "cid", "cid"),
    ("reddit", "client_secret"): (("REDDIT_CLIENT_SECRET", "ALIGNBOT_REDDIT_CLIENT_SECRET"), "cs", SecretStr("cs")),
    ("reddit", "username"): (("REDDIT_USERNAME", "ALIGNBOT_REDDIT_USERNAME"), "alignbot", "alignbot"),
    ("reddit", "password"): (("REDDIT_PASSWORD", "ALIGNBOT_REDDIT_PASSWORD"), "pw", SecretStr("pw")),
    ("reddit", "user_agent"): (("REDDIT_USER_AGENT", "ALIGNBOT_REDDIT_USER_AGENT"), "ua/1", "ua/1"),
    ("reddit", "oauth_url"): (("ALIGNBOT_REDDIT_OAUTH_URL",), "http://127.0.0.1:9", "http://127.0.0.1:9"),
    ("reddit", "reddit_url"): (("ALIGNBOT_REDDIT_REDDIT_URL",), "http://127.0.0.1:8", "http://127.0.0.1:8"),
    ("reddit", "request_timeout"): (("ALIGNBOT_REDDIT_REQUEST_TIMEOUT",), "3", 3.0),
    ("reddit", "subreddits"): (
        ("ALIGNBOT_REDDIT_SUBREDDITS",),
        "r/ControlProblem, AIAlignment",
        ["ControlProblem", "AIAlignment"],
    ),
    ("reddit", "moderated_subreddits"): (("ALIGNBOT_REDDIT_MODERATED_SUBREDDITS",), "AIAlignment", ["AIAlignment"]),
    ("reddit", "answer_comments"): (("ALIGNBOT_REDDIT_ANSWER_COMMENTS",), "false", False),
    ("reddit", "related_commands"): (("ALIGNBOT_REDDIT_RELATED_COMMANDS",), "!rel,!related", ["!rel", "!related"]),
    ("reddit", "cite_commands"): (("ALIGNBOT_REDDIT_CITE_COMMANDS",), "!c", ["!c"]),
    ("reddit", "bibliography_commands"): (("ALIGNBOT_REDDIT_BIBLIOGRAPHY_COMMANDS",), "!bib", ["!bib"]),
    ("reddit", "results"): (("ALIGNBOT_REDDIT_RESULTS",), "3", 3),
    ("reddit", "cite_style"): (("ALIGNBOT_REDDIT_CITE_STYLE",), "acl", Style.acl),
    ("reddit", "context_comments"): (("ALIGNBOT_REDDIT_CONTEXT_COMMENTS",), "2", 2),
    ("reddit", "check_submissions"): (("ALIGNBOT_REDDIT_CHECK_SUBMISSIONS",), "false", False),
    ("reddit", "report_channel"): (("ALIGNBOT_REDDIT_REPORT_CHANNEL",), "modnote", "modnote"),
    ("reddit", "report_min_severity"): (("ALIGNBOT_REDDIT_REPORT_MIN_SEVERITY",), "info", "info"),
    ("reddit", "dry_run"): (("ALIGNBOT_REDDIT_DRY_RUN",), "false", False),
    ("reddit", "record_reports"): (("ALIGNBOT_REDDIT_RECORD_REPORTS",), "false", False),
    ("reddit", "max_age_hours"): (("ALIGNBOT_REDDIT_MAX_AGE_HOURS",), "2", 2.0),
    ("reddit", "poll_seconds"): (("ALIGNBOT_REDDIT_POLL_SECONDS",), "1", 1.0),
    ("reddit", "backoff_base_seconds"): (("ALIGNBOT_REDDIT_BACKOFF_BASE_SECONDS",), "1", 1.0),
    ("reddit", "backoff_max_seconds"): (("ALIGNBOT_REDDIT_BACKOFF_MAX_SECONDS",), "9", 9.0),
    ("reddit", "reply_attempts"): (("ALIGNBOT_REDDIT_REPLY_ATTEMPTS",), "1", 1),
}

NAMES = [(name, place) for place, (names, _value, _expected) in ENVIRONMENT.items() for name in names]


def read(settings: Settings, section: str, field: str) -> Any:
    return getattr(getattr(settings, section) if section else settings, field)


@pytest.mark.parametrize(("name", "place"), NAMES, ids=[name for name, _ in NAMES])
def test_each_environment_name_lands_in_its_field(
    name: str, place: tuple[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    _names, value, expected = ENVIRONMENT[place]
    default = read(Settings(_env_file=None), *place)  # type: ignore[call-arg]
    assert default != expected, f"{name}: pick a value other than the default"
    monkeypatch.setenv(name, value)
    assert read(Settings(_env_file=None), *place) == expected  # type: ignore[call-arg]


def test_every_section_field_has_its_environment_names_listed() -> None:
    """A new section field (or env name) must join the table above, so its env names are tested too."""
    for section, section_class in SECTIONS.items():
        prefix = section_class.model_config.get("env_prefix", "")
        for field, info in section_class.model_fields.items():
            alias = info.validation_alias
            names = alias.choices if isinstance(alias, AliasChoices) else [alias or f"{prefix}{field}".upper()]
            assert (section, field) in ENVIRONMENT, f"{section}.{field} is missing from ENVIRONMENT"
            assert tuple(names) == ENVIRONMENT[(section, field)][0], f"{section}.{field} reads {names}"


def test_every_variable_the_readme_documents_is_read() -> None:
    text = README.read_text(encoding="utf-8")
    documented = set(re.findall(r"`((?:ALIGNBOT|REDDIT|DISCORD|CHROMA|DATABASE)_[A-Z0-9_]*[A-Z0-9])`", text))
    documented -= {name for name in documented if name.startswith("ALIGNBOT_TEST_") or "__" in name}  # nested form
    documented -= {"ALIGNBOT_UPDATE_SCREENSHOTS"}  # a switch of the screenshot tests, not a setting
    top_level = {name for name, (section, _field) in NAMES if not section}
    for name in sorted(documented - {name for name, _ in NAMES}):
        # Top-level settings this table does not list yet (another part may have added one): read by name.
        assert name.startswith("ALIGNBOT_") and name[len("ALIGNBOT_") :].lower() in Settings.model_fields, (
            f"README documents {name}, which no setting reads"
        )
    assert top_level <= documented | {"ALIGNBOT_CHROMA_HOST", "ALIGNBOT_CHROMA_PORT"}


# --- the nested form, precedence, `.env` and keywords -------------------------------------------------------


def test_the_nested_form_is_read_and_wins_over_the_flat_name(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ALIGNBOT_DISCORD_WORKERS", "3")
    monkeypatch.setenv("ALIGNBOT_DISCORD_RESULTS_PER_PAGE", "4")
    monkeypatch.setenv("ALIGNBOT_DISCORD__WORKERS", "6")
    monkeypatch.setenv("ALIGNBOT_METADATA__ARXIV_API_URL", "http://127.0.0.1:9/nested")
    monkeypatch.setenv("ALIGNBOT_LLM__PROVIDER", "ollama")
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    assert settings.discord.workers == 6  # nested wins
    assert settings.discord.results_per_page == 4  # the flat names still fill the rest of the section
    assert settings.metadata.arxiv_api_url == "http://127.0.0.1:9/nested"
    assert settings.llm.provider == "ollama"


def test_sections_read_dot_env_unless_the_settings_are_told_not_to(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text(
        "ALIGNBOT_DISCORD_WORKERS=7\nREDDIT_CLIENT_ID=from-file\nALIGNBOT_CANDIDATE_POOL=11\n", encoding="utf-8"
    )
    from_file = Settings()
    assert (from_file.discord.workers, from_file.reddit.client_id, from_file.candidate_pool) == (7, "from-file", 11)
    ignored = Settings(_env_file=None)  # type: ignore[call-arg]
    assert (ignored.discord.workers, ignored.reddit.client_id, ignored.candidate_pool) == (2, None, 100)


def test_keywords_take_the_flat_name_or_the_section(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ALIGNBOT_METADATA_RETRIES", "5")
    flat = Settings(_env_file=None, llm_provider="ollama", metadata_backoff_seconds=0.5)  # type: ignore[call-arg]
    nested = Settings(_env_file=None, llm={"provider": "ollama"}, metadata={"backoff_seconds": 0.5})  # type: ignore[call-arg]
    for settings in (flat, nested):
        assert settings.llm.provider == "ollama"
        assert settings.metadata.backoff_seconds == 0.5
        assert settings.metadata.retries == 5  # a keyword for one field leaves the section's env in place
    assert flat.model_dump() == nested.model_dump()


def test_the_rule_file_is_one_setting(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    assert Settings(_env_file=None).moderation.config == REPO_ROOT / "knowledge" / "moderation.yaml"  # type: ignore[call-arg]
    here = Settings(_env_file=None, knowledge_dir=tmp_path)  # type: ignore[call-arg]
    assert here.moderation.config == tmp_path / "moderation.yaml"
    monkeypatch.setenv("ALIGNBOT_REDDIT_MODERATION_CONFIG", "/old/name.yaml")  # the Reddit bot's former setting
    assert Settings(_env_file=None).moderation.config == Path("/old/name.yaml")  # type: ignore[call-arg]
    monkeypatch.setenv("ALIGNBOT_MODERATION_CONFIG", "/new/name.yaml")  # the documented name wins
    assert Settings(_env_file=None).moderation.config == Path("/new/name.yaml")  # type: ignore[call-arg]


def test_a_bad_section_value_names_the_section_field(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ALIGNBOT_HTTP_PORT", "99999")
    with pytest.raises(ValidationError, match=r"port"):
        Settings(_env_file=None)  # type: ignore[call-arg]
    monkeypatch.delenv("ALIGNBOT_HTTP_PORT")
    monkeypatch.setenv("ALIGNBOT_REDDIT_SUBREDDITS", "not a subreddit!")
    with pytest.raises(ValidationError, match=r"subreddits[\s\S]*'not a subreddit!' is not a subreddit name"):
        Settings(_env_file=None)  # type: ignore[call-arg]


def test_load_puts_data_dir_over_the_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("ALIGNBOT_DATA_DIR", "/elsewhere")
    monkeypatch.setenv("ALIGNBOT_HTTP_PORT", "9191")
    settings = Settings.load(tmp_path)
    assert settings.data_dir == tmp_path and settings.http.port == 9191
    assert Settings.load(None).data_dir == Path("/elsewhere")

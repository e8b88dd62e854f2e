"""Sections of `bot.settings.Settings` that the engine's services use: `llm`, `metadata` and `moderation`.

Each section is a settings class of its own, so it reads its documented flat environment names
(`ALIGNBOT_LLM_PROVIDER`, `ALIGNBOT_ARXIV_API_URL`, …) when `Settings` builds it; the front ends' sections
are in `bot.frontend_sections`.
"""

from __future__ import annotations

from contextvars import ContextVar
from pathlib import Path
from typing import Annotated, Any

from pydantic import AliasChoices, Field, SecretStr
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict
from pydantic_settings.sources import ENV_FILE_SENTINEL

# Lists read from the environment as "a,b,c" (see bot.chat.split_list) rather than as JSON.
IdList = Annotated[list[int], NoDecode]
NameList = Annotated[list[str], NoDecode]

# The `.env` file of the `Settings(...)` being built, so `Settings(_env_file=None)` keeps its sections off it too.
SECTION_ENV_FILE: ContextVar[Any] = ContextVar("alignbot_env_file", default=ENV_FILE_SENTINEL)


class Section(BaseSettings):
    """A part of `Settings` that reads its own environment names (and `.env`) when built."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore", populate_by_name=True)

    def __init__(self, **values: Any) -> None:
        values.setdefault("_env_file", SECTION_ENV_FILE.get())
        super().__init__(**values)


class LlmSettings(Section):
    """Optional LLM answers (`ALIGNBOT_LLM_<FIELD>`)."""

    model_config = SettingsConfigDict(env_prefix="ALIGNBOT_LLM_")

    provider: str | None = Field(default=None, description="openai, anthropic or ollama; unset = no LLM.")
    model: str | None = None
    base_url: str | None = None
    timeout_seconds: float = 20.0
    rerank: bool = Field(default=False, description="Let the LLM reorder ask's top 20 (within the timeout).")


class MetadataSettings(Section):
    """The live metadata APIs (`alignbot fetch`, `enrich`, `/paper add`, POST /v1/papers/fetch, live lookup) and
    the sources `alignbot sync` harvests. The minimum intervals are each API's published limit, enforced across
    every process sharing the database. Env names: `ALIGNBOT_METADATA_<FIELD>` for the HTTP behaviour, the
    flat `ALIGNBOT_<FIELD>` for the rest."""

    model_config = SettingsConfigDict(env_prefix="ALIGNBOT_METADATA_")

    live_lookup: bool = Field(
        default=False,
        validation_alias="ALIGNBOT_LIVE_LOOKUP",
        description="cite and bibliography look unresolved quoted titles and author-year citations up live.",
    )
    live_lookup_deadline_seconds: float = Field(
        default=8.0,
        gt=0,
        validation_alias="ALIGNBOT_LIVE_LOOKUP_DEADLINE_SECONDS",
        description="Most time one live lookup may take.",
    )
    contact_email: str | None = Field(
        default=None,
        description="Sent in the User-Agent (and as OpenAlex's `mailto`) so the APIs can reach us, not block us.",
    )
    connect_timeout_seconds: float = Field(default=5.0, gt=0)
    read_timeout_seconds: float = Field(default=20.0, gt=0, description="Longest silence within a response.")
    deadline_seconds: float = Field(
        default=45.0, gt=0, description="Most time one lookup or search may take, waits and retries included."
    )
    retries: int = Field(default=3, ge=0, le=10, description="Retries after a 429, 5xx or lost connection.")
    backoff_seconds: float = Field(default=1.0, ge=0, description="First retry wait; doubles each retry.")
    max_backoff_seconds: float = Field(
        default=30.0, ge=0, description="Longest wait between retries; a longer Retry-After makes us give up."
    )
    arxiv_api_url: str = Field(default="https://export.arxiv.org/api/query", validation_alias="ALIGNBOT_ARXIV_API_URL")
    # arXiv API terms: one request every 3 s
    arxiv_min_interval_seconds: float = Field(default=3.0, ge=0, validation_alias="ALIGNBOT_ARXIV_MIN_INTERVAL_SECONDS")
    s2_api_url: str = Field(default="https://api.semanticscholar.org/graph/v1", validation_alias="ALIGNBOT_S2_API_URL")
    s2_api_key: SecretStr | None = Field(
        default=None, validation_alias="ALIGNBOT_S2_API_KEY", description="Semantic Scholar API key (x-api-key header)."
    )
    # S2: 1 request/s with a key; shared pool without
    s2_min_interval_seconds: float = Field(default=1.0, ge=0, validation_alias="ALIGNBOT_S2_MIN_INTERVAL_SECONDS")
    openalex_api_url: str = Field(default="https://api.openalex.org", validation_alias="ALIGNBOT_OPENALEX_API_URL")
    openalex_api_key: SecretStr | None = Field(
        default=None,
        validation_alias="ALIGNBOT_OPENALEX_API_KEY",
        description="OpenAlex API key (`api_key` parameter).",
    )
    # OpenAlex: 10/s (older terms; now 100/s)
    openalex_min_interval_seconds: float = Field(
        default=0.1, ge=0, validation_alias="ALIGNBOT_OPENALEX_MIN_INTERVAL_SECONDS"
    )

    # `alignbot sync`: arXiv's OAI-PMH interface and the ForumMagnum forums' GraphQL endpoints. OAI-PMH shares
    # the arXiv API's pacing slot (arXiv's terms: one request every 3 s across all its APIs).
    arxiv_oai_url: str = Field(default="https://oaipmh.arxiv.org/oai", validation_alias="ALIGNBOT_ARXIV_OAI_URL")
    arxiv_oai_metadata_prefix: str = Field(
        default="arXiv", pattern="^(arXiv|arXivRaw)$", validation_alias="ALIGNBOT_ARXIV_OAI_METADATA_PREFIX"
    )
    lesswrong_graphql_url: str = Field(
        default="https://www.lesswrong.com/graphql", validation_alias="ALIGNBOT_LESSWRONG_GRAPHQL_URL"
    )
    alignmentforum_graphql_url: str = Field(
        default="https://www.alignmentforum.org/graphql", validation_alias="ALIGNBOT_ALIGNMENTFORUM_GRAPHQL_URL"
    )
    eaforum_graphql_url: str = Field(
        default="https://forum.effectivealtruism.org/graphql", validation_alias="ALIGNBOT_EAFORUM_GRAPHQL_URL"
    )
    sync_deadline_seconds: float = Field(
        default=600.0,
        gt=0,
        validation_alias="ALIGNBOT_SYNC_DEADLINE_SECONDS",
        description="Most time one harvest page may take, a 503 Retry-After wait included.",
    )
    sync_read_timeout_seconds: float = Field(
        default=60.0,
        gt=0,
        validation_alias="ALIGNBOT_SYNC_READ_TIMEOUT_SECONDS",
        description="OAI-PMH pages take a while to build.",
    )
    sync_relevance_threshold: float = Field(
        default=0.54,
        ge=-1,
        le=1,
        validation_alias="ALIGNBOT_SYNC_RELEVANCE_THRESHOLD",
        description="Relevance score (see `alignbot sync`) a harvested paper needs to be kept.",
    )


class ModerationSettings(Section):
    """Moderation (`ALIGNBOT_MODERATION_<FIELD>`)."""

    model_config = SettingsConfigDict(env_prefix="ALIGNBOT_MODERATION_")

    # The one rule-file setting of every front end and command (`--config` overrides it).
    config: Path | None = Field(
        default=None,
        validation_alias=AliasChoices("ALIGNBOT_MODERATION_CONFIG", "ALIGNBOT_REDDIT_MODERATION_CONFIG"),
        description="Rule file; unset = moderation.yaml in the knowledge directory.",
    )

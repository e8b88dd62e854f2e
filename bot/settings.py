"""One settings object for the whole bot, read from the environment and `.env`.

The knowledge base and retrieval settings are top-level fields (`ALIGNBOT_<FIELD>`); the rest is in sections:
`llm`, `metadata`, `moderation` (bot.sections) and `http`, `discord`, `reddit` (bot.frontend_sections). Every
section reads its documented flat environment names (`ALIGNBOT_LLM_PROVIDER`, `ALIGNBOT_ARXIV_API_URL`,
`DISCORD_TOKEN`, `REDDIT_CLIENT_ID` …); the nested form `ALIGNBOT_<SECTION>__<FIELD>` is read too and wins.
Keywords take either form: `Settings(llm={"provider": "ollama"})` or the flat env name without its
`ALIGNBOT_` prefix, `Settings(llm_provider="ollama")`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import AliasChoices, Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from pydantic_settings.sources import ENV_FILE_SENTINEL

from bot.frontend_sections import DiscordSettings, RedditSettings, ServerSettings
from bot.sections import SECTION_ENV_FILE, LlmSettings, MetadataSettings, ModerationSettings

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATA_DIR = Path.home() / ".local" / "share" / "alignbot"


SECTIONS: dict[str, type[BaseSettings]] = {
    "llm": LlmSettings,
    "metadata": MetadataSettings,
    "moderation": ModerationSettings,
    "http": ServerSettings,
    "discord": DiscordSettings,
    "reddit": RedditSettings,
}


def _flat_names() -> dict[str, tuple[str, str]]:
    """`arxiv_api_url` -> ("metadata", "arxiv_api_url"): each section field's ALIGNBOT_ env names, lowercased
    and without the prefix, as keyword arguments of `Settings`."""
    names: dict[str, tuple[str, str]] = {}
    for section, section_class in SECTIONS.items():
        prefix = section_class.model_config.get("env_prefix", "")
        for field, info in section_class.model_fields.items():
            alias = info.validation_alias
            env = alias.choices if isinstance(alias, AliasChoices) else [alias or f"{prefix}{field}"]
            for name in env:
                if isinstance(name, str) and name.upper().startswith("ALIGNBOT_"):
                    names[name[len("ALIGNBOT_") :].lower()] = (section, field)
    return names


FLAT_NAMES = _flat_names()


# What runs the bundled MiniLM (bot.embedding.OnnxEmbedder).
EmbeddingRuntime = Literal["auto", "onnxruntime", "openvino"]


class Settings(BaseSettings):
    """Every knob in one place. Env names are `ALIGNBOT_<FIELD>` unless a field says otherwise."""

    model_config = SettingsConfigDict(
        env_prefix="ALIGNBOT_", env_file=".env", env_nested_delimiter="__", extra="ignore", populate_by_name=True
    )

    data_dir: Path = Field(default=DEFAULT_DATA_DIR, description="Where the SQLite file and Chroma live.")
    database_url: str | None = Field(
        default=None,
        validation_alias=AliasChoices("DATABASE_URL", "ALIGNBOT_DATABASE_URL"),
        description="SQLAlchemy URL; default is SQLite in data_dir.",
    )
    chroma_host: str | None = Field(default=None, validation_alias=AliasChoices("CHROMA_HOST", "ALIGNBOT_CHROMA_HOST"))
    chroma_port: int = Field(default=8000, validation_alias=AliasChoices("CHROMA_PORT", "ALIGNBOT_CHROMA_PORT"))
    chroma_collection: str = "works"

    knowledge_dir: Path = Field(default=REPO_ROOT / "knowledge", description="Curated data ingested on first run.")
    prompts_dir: Path = REPO_ROOT / "prompts"
    load_bundled_knowledge: bool = True

    embedding_model: str = Field(
        default="minilm",
        description="'minilm' (bundled all-MiniLM-L6-v2) or a path to a local sentence-transformers model.",
    )
    embedding_max_tokens: int = 128  # MiniLM was trained on 128-token inputs; longer ones cost 2x for little gain
    embedding_batch_size: int = 32
    embedding_runtime: EmbeddingRuntime = Field(
        default="auto",
        description="What runs the bundled MiniLM: 'auto' (OpenVINO for bulk encodes when installed, else ONNX "
        "Runtime), 'onnxruntime' or 'openvino' for every encode (bot/embedding.py).",
    )

    # Retrieval
    candidate_pool: int = 100
    dense_weight: float = Field(default=0.88, ge=0, le=1, description="Share of dense cosine in fusion.")
    ask_confidence_threshold: float = 0.50  # calibrated: bench/confidence.py (README)
    cite_confidence_threshold: float = 0.72  # calibrated: bench/mentions.py (README)

    # Sections, each built from its own environment names (see the module docstring).
    llm: LlmSettings = Field(default_factory=LlmSettings)
    metadata: MetadataSettings = Field(default_factory=MetadataSettings)
    moderation: ModerationSettings = Field(default_factory=ModerationSettings)
    http: ServerSettings = Field(default_factory=ServerSettings)
    discord: DiscordSettings = Field(default_factory=DiscordSettings)
    reddit: RedditSettings = Field(default_factory=RedditSettings)

    def __init__(self, **values: Any) -> None:
        # The sections read `.env` as this object does: `Settings(_env_file=None)` reads none anywhere.
        token = SECTION_ENV_FILE.set(values.get("_env_file", ENV_FILE_SENTINEL))
        try:
            super().__init__(**values)
        finally:
            SECTION_ENV_FILE.reset(token)

    @model_validator(mode="before")
    @classmethod
    def _into_sections(cls, data: Any) -> Any:
        """Flat keywords (`llm_provider=`) go to their section; a section given as a dict (keywords or the
        nested env form) is built with its own environment names filling the fields the dict leaves out."""
        if not isinstance(data, dict):
            return data
        data = dict(data)
        for key in [k for k in data if k in FLAT_NAMES]:
            section, field = FLAT_NAMES[key]
            current = data.get(section)
            values = current.model_dump() if isinstance(current, BaseSettings) else current or {}
            data[section] = {**values, field: data.pop(key)}
        for name, section_class in SECTIONS.items():
            if isinstance(data.get(name), dict):
                data[name] = section_class(**data[name])
        return data

    @model_validator(mode="after")
    def _default_rule_file(self) -> Settings:
        if self.moderation.config is None:
            self.moderation.config = self.knowledge_dir / "moderation.yaml"
        return self

    @classmethod
    def load(cls, data_dir: Path | None = None) -> Settings:
        """From the environment, with `--data-dir` (when given) overriding ALIGNBOT_DATA_DIR."""
        return cls(data_dir=data_dir) if data_dir else cls()

    @property
    def sqlalchemy_url(self) -> str:
        return self.database_url or f"sqlite:///{self.data_dir / 'alignbot.sqlite3'}"

    @property
    def chroma_path(self) -> Path:
        return self.data_dir / "chroma"

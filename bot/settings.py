"""One settings object for the whole bot, read from the environment and `.env`."""

from __future__ import annotations

from pathlib import Path

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATA_DIR = Path.home() / ".local" / "share" / "alignbot"


class Settings(BaseSettings):
    """Every knob in one place. Env names are `ALIGNBOT_<FIELD>` unless a field says otherwise."""

    model_config = SettingsConfigDict(env_prefix="ALIGNBOT_", env_file=".env", extra="ignore", populate_by_name=True)

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

    # Retrieval
    candidate_pool: int = 100
    dense_weight: float = Field(default=0.88, ge=0, le=1, description="Share of dense cosine in fusion.")
    ask_confidence_threshold: float = 0.42
    cite_confidence_threshold: float = 0.6

    # Optional LLM answers
    llm_provider: str | None = Field(default=None, description="openai, anthropic or ollama; unset = no LLM.")
    llm_model: str | None = None
    llm_base_url: str | None = None
    llm_timeout_seconds: float = 20.0

    @property
    def sqlalchemy_url(self) -> str:
        return self.database_url or f"sqlite:///{self.data_dir / 'alignbot.sqlite3'}"

    @property
    def chroma_path(self) -> Path:
        return self.data_dir / "chroma"

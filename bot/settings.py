"""One settings object for the whole bot, read from the environment and `.env`."""

from __future__ import annotations

from pathlib import Path

from pydantic import AliasChoices, Field, SecretStr
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
    ask_confidence_threshold: float = 0.50  # calibrated: bench/confidence.py (README)
    cite_confidence_threshold: float = 0.72  # calibrated: bench/mentions.py (README)

    # Optional LLM answers
    llm_provider: str | None = Field(default=None, description="openai, anthropic or ollama; unset = no LLM.")
    llm_model: str | None = None
    llm_base_url: str | None = None
    llm_timeout_seconds: float = 20.0
    llm_rerank: bool = Field(default=False, description="Let the LLM reorder ask's top 20 (within the timeout).")

    # Live metadata (`alignbot fetch`, `/paper add`, POST /v1/papers/fetch): arXiv, Semantic Scholar, OpenAlex.
    # The minimum intervals are each API's published limit, enforced across every process sharing the database.
    live_lookup: bool = Field(
        default=False,
        description="cite and bibliography look unresolved quoted titles and author-year citations up live.",
    )
    live_lookup_deadline_seconds: float = Field(default=8.0, gt=0, description="Most time one live lookup may take.")
    metadata_contact_email: str | None = Field(
        default=None,
        description="Sent in the User-Agent (and as OpenAlex's `mailto`) so the APIs can reach us, not block us.",
    )
    metadata_connect_timeout_seconds: float = Field(default=5.0, gt=0)
    metadata_read_timeout_seconds: float = Field(default=20.0, gt=0, description="Longest silence within a response.")
    metadata_deadline_seconds: float = Field(
        default=45.0, gt=0, description="Most time one lookup or search may take, waits and retries included."
    )
    metadata_retries: int = Field(default=3, ge=0, le=10, description="Retries after a 429, 5xx or lost connection.")
    metadata_backoff_seconds: float = Field(default=1.0, ge=0, description="First retry wait; doubles each retry.")
    metadata_max_backoff_seconds: float = Field(
        default=30.0, ge=0, description="Longest wait between retries; a longer Retry-After makes us give up."
    )
    arxiv_api_url: str = "https://export.arxiv.org/api/query"
    arxiv_min_interval_seconds: float = Field(default=3.0, ge=0)  # arXiv API terms: one request every 3 s
    s2_api_url: str = "https://api.semanticscholar.org/graph/v1"
    s2_api_key: SecretStr | None = Field(default=None, description="Semantic Scholar API key (x-api-key header).")
    s2_min_interval_seconds: float = Field(default=1.0, ge=0)  # S2: 1 request/s with a key; shared pool without
    openalex_api_url: str = "https://api.openalex.org"
    openalex_api_key: SecretStr | None = Field(default=None, description="OpenAlex API key (`api_key` parameter).")
    openalex_min_interval_seconds: float = Field(default=0.1, ge=0)  # OpenAlex: 10/s (older terms; now 100/s)

    # `alignbot sync`: arXiv's OAI-PMH interface and the ForumMagnum forums' GraphQL endpoints. OAI-PMH shares
    # the arXiv API's pacing slot (arXiv's terms: one request every 3 s across all its APIs).
    arxiv_oai_url: str = "https://oaipmh.arxiv.org/oai"
    arxiv_oai_metadata_prefix: str = Field(default="arXiv", pattern="^(arXiv|arXivRaw)$")
    lesswrong_graphql_url: str = "https://www.lesswrong.com/graphql"
    alignmentforum_graphql_url: str = "https://www.alignmentforum.org/graphql"
    eaforum_graphql_url: str = "https://forum.effectivealtruism.org/graphql"
    sync_deadline_seconds: float = Field(
        default=600.0, gt=0, description="Most time one harvest page may take, a 503 Retry-After wait included."
    )
    sync_read_timeout_seconds: float = Field(default=60.0, gt=0, description="OAI-PMH pages take a while to build.")
    sync_relevance_threshold: float = Field(
        default=0.54,
        ge=-1,
        le=1,
        description="Relevance score (see `alignbot sync`) a harvested paper needs to be kept.",
    )

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

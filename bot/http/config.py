"""Settings of the HTTP server, read from the environment (`ALIGNBOT_HTTP_<FIELD>`) and `.env`."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class ServerSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ALIGNBOT_HTTP_", env_file=".env", extra="ignore")

    host: str = "127.0.0.1"
    port: int = Field(default=8080, ge=1, le=65535)
    open_reads: bool = Field(
        default=False,
        description="Serve related/cite/bibliography/citedby without a token (then limited per client address).",
    )
    max_body_bytes: int = Field(default=1_000_000, ge=1024, description="Largest request body (413 above).")
    max_ingest_body_bytes: int = Field(default=16_000_000, ge=1024, description="Largest body for POST /v1/papers.")
    max_ingest_records: int = Field(default=2000, ge=1, description="Most records in one POST /v1/papers.")
    rate_per_minute: float = Field(default=120, gt=0, description="Sustained requests a minute per token.")
    rate_burst: int = Field(default=30, ge=1, description="Requests a token may make at once before throttling.")
    anonymous_rate_per_minute: float = Field(
        default=30, gt=0, description="Per client address: open reads and login attempts."
    )
    session_hours: float = Field(default=12, gt=0, description="A moderator page session expires after this idle.")
    secure_cookies: bool = Field(default=False, description="Mark cookies Secure (set behind HTTPS).")
    trust_proxy_headers: bool = Field(
        default=False, description="Take the client address from X-Forwarded-For (only behind your own proxy)."
    )

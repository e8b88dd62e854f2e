"""Settings of the HTTP server, read from the environment (`ALIGNBOT_HTTP_<FIELD>`) and `.env`."""

from __future__ import annotations

import ipaddress
from typing import Annotated, Any

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from bot.chat import split_list

# What the deprecated TRUST_PROXY_HEADERS=true trusts: a proxy on this host or on a private network
# (Docker's bridge included), which is where the documented deployments put it.
LOCAL_NETWORKS = ("127.0.0.0/8", "::1/128", "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7")


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
    trusted_proxies: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Addresses or networks (CIDR) of your reverse proxies, comma-separated. Only from them are "
        "X-Forwarded-For/-Proto read, and the client is the rightmost entry that is not one of them.",
    )
    trust_proxy_headers: bool = Field(
        default=False,
        description="Deprecated: the same as TRUSTED_PROXIES set to loopback and the private networks.",
    )
    metrics_open: bool = Field(default=False, description="Serve /metrics without a token ('metrics' scope).")
    docs: bool = Field(
        default=False, description="Serve the interactive API docs (/docs, /redoc), which load scripts from a CDN."
    )

    @field_validator("trusted_proxies", mode="before")
    @classmethod
    def _split(cls, value: Any) -> Any:
        return split_list(value)

    @field_validator("trusted_proxies")
    @classmethod
    def _networks(cls, value: list[str]) -> list[str]:
        for entry in value:
            try:
                ipaddress.ip_network(entry, strict=False)
            except ValueError:
                raise ValueError(f"{entry!r} is not an IP address or network (like 10.0.0.0/8)") from None
        return value

    def proxy_networks(self) -> list[str]:
        """The proxies whose forwarding headers are believed (none: the connecting address is the client)."""
        if self.trusted_proxies:
            return self.trusted_proxies
        return list(LOCAL_NETWORKS) if self.trust_proxy_headers else []

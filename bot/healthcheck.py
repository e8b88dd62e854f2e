"""Container health checks: `python -m bot.healthcheck http|stores` exits 0 when healthy, 1 when not.

- `http`: GET /healthz of the HTTP app in this container (`ALIGNBOT_HTTP_PORT`), which answers 200 only when
  the database and the vector store answer it.
- `stores`: the database answers `SELECT 1` and, when the vector store is a server, its health URL answers 200.
  For the Discord and Reddit bots, which listen on no port: their own connections retry on their own, but
  without the stores they can answer nothing.

A module rather than curl: python:3.11-slim has no curl, and this reads the settings the same way the bot does.
It prints one line (Docker keeps it in `docker inspect`) and never loads the embedding model or opens the
vector store itself, so it costs well under a second.
"""

from __future__ import annotations

import json
import sys
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

TIMEOUT_SECONDS = 5.0
_WILDCARD_HOSTS = {"", "0.0.0.0", "::", "[::]"}

# Proxy variables in a container's environment must not send a loopback check to a proxy.
_opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def _get_json(url: str, timeout: float) -> tuple[int, Any]:
    try:
        with _opener.open(url, timeout=timeout) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as exc:  # /healthz answers 503 with a body naming the failing store
        try:
            body = json.loads(exc.read() or b"null")
        except ValueError:
            body = None
        return exc.code, body


def check_http(timeout: float = TIMEOUT_SECONDS) -> str | None:
    """None when this container's HTTP app says it is healthy, else what is wrong."""
    from bot.http.config import ServerSettings

    server = ServerSettings()
    # `serve --host 0.0.0.0` listens on every address; ask it on loopback.
    host = "127.0.0.1" if server.host in _WILDCARD_HOSTS else server.host
    url = f"http://{host}:{server.port}/healthz"
    try:
        status, body = _get_json(url, timeout)
    except (OSError, ValueError) as exc:
        return f"{url}: {exc}"
    if status != 200 or not isinstance(body, dict) or body.get("status") != "ok":
        return f"{url}: {status} {body}"
    return None


def check_stores(timeout: float = TIMEOUT_SECONDS) -> str | None:
    """None when the database and the vector store's server (if one is configured) answer, else what is wrong."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    from bot.settings import Settings
    from bot.storage.vectors import server_health_url

    settings = Settings()
    url = make_url(settings.sqlalchemy_url)
    shown = url.render_as_string(hide_password=True)
    if url.get_backend_name() == "sqlite":
        # Connecting would create an empty file; a missing database is a failure, not something to make here.
        if url.database and not Path(url.database).exists():
            return f"{shown}: no database file"
        connect_args: dict[str, Any] = {"timeout": timeout}
    else:
        connect_args = {"connect_timeout": max(1, round(timeout))}
    engine = create_engine(url, connect_args=connect_args)
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception as exc:  # any driver error means the bot cannot use its database
        return f"{shown}: {type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
    finally:
        engine.dispose()
    vectors = server_health_url(settings)
    if vectors:
        try:
            status, _body = _get_json(vectors, timeout)
        except (OSError, ValueError) as exc:
            return f"{vectors}: {exc}"
        if status != 200:
            return f"{vectors}: {status}"
    return None


CHECKS = {"http": check_http, "stores": check_stores}


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1 or args[0] not in CHECKS:
        print(f"usage: python -m bot.healthcheck {'|'.join(CHECKS)}", file=sys.stderr)
        return 2
    problem = CHECKS[args[0]]()
    print(f"unhealthy: {problem}" if problem else f"ok: {args[0]}")
    return 1 if problem else 0


if __name__ == "__main__":
    sys.exit(main())

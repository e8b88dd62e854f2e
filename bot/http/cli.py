"""`alignbot serve` and `alignbot token create|list|revoke`; `register(app)` adds them to the main CLI.

alignbot serve [--host H] [--port P] [--open-reads] [--config moderation.yaml]
alignbot token create NAME --scope read|write|moderate [--scope …] [--rate N]
alignbot token list [--json]
alignbot token revoke ID|NAME
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from bot.cli_common import ConfigPath, DataDir, close_services, err, fail, load_settings, open_services, with_options
from bot.extras import require_for_command
from bot.settings import Settings

out = Console(soft_wrap=True)


def _store(data_dir: Path | None):  # type: ignore[no-untyped-def]
    # Tokens need only the database: no embedding model, no Chroma, so these commands start instantly.
    from bot.http.tokens import TokenStore
    from bot.storage import Database

    settings = Settings.load(data_dir)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    return TokenStore(Database(settings.sqlalchemy_url))


def register(app: typer.Typer) -> None:
    token_app = typer.Typer(help="API tokens for the HTTP API and the moderator page.", no_args_is_help=True)
    app.add_typer(token_app, name="token")

    @app.command()
    def serve(
        host: Annotated[str | None, typer.Option("--host", help="Listen address \\[env: ALIGNBOT_HTTP_HOST].")] = None,
        port: Annotated[int | None, typer.Option("--port", help="Port \\[env: ALIGNBOT_HTTP_PORT; 8080].")] = None,
        open_reads: Annotated[
            bool | None,
            typer.Option("--open-reads/--token-reads", help="Serve related/cite/bibliography/citedby without a token."),
        ] = None,
        config: ConfigPath = None,
        data_dir: DataDir = None,
    ) -> None:
        """Run the HTTP API (/v1, OpenAPI at /openapi.json) and the moderator page (/queue)."""
        require_for_command("http")
        import uvicorn

        from bot.http.app import create_app
        from bot.processes import Background, exit_now

        settings = load_settings(data_dir, config)
        server = settings.http = with_options(settings.http, host=host, port=port, open_reads=open_reads)
        err.print("opening the knowledge base…", highlight=False)
        services = open_services(settings=settings, progress=False, moderation=True)
        services.engine.warm_up()  # build the indexes now, not on the first request
        services.moderation.index()
        app_ = create_app(services.engine, services.moderation, server)
        if not _store(data_dir).list(include_revoked=False):
            err.print(
                "[yellow]no API tokens yet: create one with `alignbot token create NAME --scope moderate`[/yellow]"
            )
        docs = ", API docs /docs" if server.docs else ""
        err.print(f"serving on http://{server.host}:{server.port} (moderator page /queue{docs})")
        # Rate limits, page sessions and webhook de-duplication live in the database, shared by replicas. Forwarding
        # headers are read by the app from ALIGNBOT_HTTP_TRUSTED_PROXIES only, not by uvicorn (FORWARDED_ALLOW_IPS).
        # The heartbeat and the knowledge base's embedding worker (one process runs it; others stand by).
        background = Background(services.engine, "serve").start()
        try:  # SIGTERM: requests in flight get 1 s, so the server is gone within 2 s
            uvicorn.run(
                app_,
                host=server.host,
                port=server.port,
                proxy_headers=False,
                log_level="info",
                timeout_graceful_shutdown=1,
            )
        finally:
            stopped = background.stop()
        if not stopped:  # the worker is inside a batch: leave within 2 s rather than when it ends
            close_services()
            exit_now(0)

    @token_app.command("create")
    def token_create(
        name: Annotated[str, typer.Argument(help="Who or what uses it (a moderator, 'forum-plugin').")],
        scope: Annotated[
            list[str] | None, typer.Option("--scope", help="read, write or moderate (repeatable; default read).")
        ] = None,
        rate: Annotated[
            float | None,
            typer.Option("--rate", min=0.1, help="Requests a minute \\[default: ALIGNBOT_HTTP_RATE_PER_MINUTE]."),
        ] = None,
        data_dir: DataDir = None,
    ) -> None:
        """Create a token and print its secret once (only a hash is kept)."""
        from bot.http.tokens import TokenError

        try:
            info, secret = _store(data_dir).create(name, scope or ["read"], rate)
        except TokenError as exc:
            fail(str(exc))
            raise
        err.print(f"token {info.id} '{info.name}' with scopes {', '.join(info.scopes)}; it is shown only now:")
        sys.stdout.write(secret + "\n")

    @token_app.command("list")
    def token_list(
        as_json: Annotated[bool, typer.Option("--json", help="JSON instead of a table.")] = False,
        data_dir: DataDir = None,
    ) -> None:
        """Every token: id, name, scopes, rate, created, revoked (never the secrets)."""
        tokens = _store(data_dir).list()
        if as_json:
            sys.stdout.write(json.dumps([t.model_dump(mode="json") for t in tokens]) + "\n")
            return
        if not tokens:
            out.print("No tokens.")
            return
        table = Table("id", "name", "scopes", "rate/min", "created", "state", header_style="bold")
        for t in tokens:
            table.add_row(
                str(t.id),
                t.name,
                ", ".join(t.scopes),
                f"{t.rate_per_minute:g}" if t.rate_per_minute else "default",
                t.created_at.strftime("%Y-%m-%d %H:%M"),
                "[red]revoked[/red]" if t.revoked else "[green]live[/green]",
            )
        out.print(table)

    @token_app.command("revoke")
    def token_revoke(
        token: Annotated[str, typer.Argument(help="Token id, or a name (revokes every live token with it).")],
        data_dir: DataDir = None,
    ) -> None:
        """Revoke a token: requests and page sessions using it stop at once."""
        revoked = _store(data_dir).revoke(token)
        if not revoked:
            fail(f"no live token {token!r}", code=1)
        for t in revoked:
            err.print(f"revoked token {t.id} '{t.name}'", highlight=False)

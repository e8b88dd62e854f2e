"""docker-compose.yml and .env.example against the code: settings, CLI commands, versions, health checks.

No Docker engine where the tests run, so nothing here starts a container. What can be checked is checked
against the real thing: settings are read by the pydantic Settings classes, commands are parsed by the typer
app, the health checks run against a real Chroma server, the real HTTP app and a real database.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from importlib import metadata
from pathlib import Path
from typing import Any

import click
import pytest
import typer
import yaml
from pydantic import AliasChoices
from pydantic_settings import BaseSettings
from sqlalchemy.engine import make_url
from typer.testing import CliRunner

from bot.cli import app as cli_app
from bot.engine import Engine
from bot.frontend_sections import DiscordSettings, RedditSettings, ServerSettings
from bot.healthcheck import CHECKS
from bot.http.app import create_app
from bot.moderation.service import Moderator
from bot.settings import REPO_ROOT, SECTIONS, Settings
from tests.backends import ChromaServer, free_port
from tests.live_server import serve
from tests.test_dockerfile import env_values
from tests.test_dockerfile import parse as parse_dockerfile

COMPOSE = REPO_ROOT / "docker-compose.yml"
ENV_EXAMPLE = REPO_ROOT / ".env.example"
README = REPO_ROOT / "README.md"
RULES = REPO_ROOT / "knowledge" / "moderation.yaml"
# The settings object and each of its sections, which read their own environment names.
SETTINGS_CLASSES: tuple[type[BaseSettings], ...] = (Settings, *SECTIONS.values())
CHROMA_IMAGE_PORT = 8000  # the chromadb/chroma image's server port (its EXPOSE and default config)
PASSWORD = "s3cretPassw0rd"  # stands in for POSTGRES_PASSWORD from .env

# Settings that are deliberately not in .env.example, and why. Each must still be a real setting.
NOT_IN_ENV_EXAMPLE = {
    "ALIGNBOT_LLM_PROVIDER": "the image has no LLM providers installed",
    "ALIGNBOT_LLM_MODEL": "the image has no LLM providers installed",
    "ALIGNBOT_LLM_BASE_URL": "the image has no LLM providers installed",
    "ALIGNBOT_LLM_TIMEOUT_SECONDS": "the image has no LLM providers installed",
    "ALIGNBOT_LLM_RERANK": "the image has no LLM providers installed",
    "ALIGNBOT_REDDIT_OAUTH_URL": "for tests against a fake Reddit",
    "ALIGNBOT_REDDIT_REDDIT_URL": "for tests against a fake Reddit",
}


# Compose's own variables, read from `.env` by `docker compose` itself.
COMPOSE_CLI_VARIABLES = {"COMPOSE_PROFILES": "bots to start with `docker compose up`"}

# --- reading the files ---------------------------------------------------------------------------------------

_INTERPOLATION = re.compile(
    r"\$(?:(?P<escaped>\$)|\{(?P<name>[A-Za-z_]\w*)(?:(?P<op>:?[-?])(?P<arg>[^}]*))?\}|(?P<bare>[A-Za-z_]\w*))"
)


def interpolate(value: Any, env: dict[str, str]) -> Any:
    """Compose's variable substitution (`$$`, `${X}`, `${X:-default}`, `${X-default}`, `${X:?error}`)."""
    if isinstance(value, dict):
        return {k: interpolate(v, env) for k, v in value.items()}
    if isinstance(value, list):
        return [interpolate(v, env) for v in value]
    if not isinstance(value, str):
        return value

    def substitute(match: re.Match[str]) -> str:
        if match.group("escaped"):
            return "$"
        name = match.group("name") or match.group("bare")
        op, arg, current = match.group("op"), match.group("arg") or "", env.get(name)
        missing = current is None or (current == "" and op is not None and op.startswith(":"))
        if op in (":?", "?") and missing:
            raise ValueError(f"{name}: {arg}")
        if op in (":-", "-") and missing:
            return arg
        return current or ""

    return _INTERPOLATION.sub(substitute, value)


def load_compose(env: dict[str, str] | None = None) -> dict[str, Any]:
    """The file as compose sees it: YAML with anchors and merge keys resolved, then variables substituted."""
    raw = yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))
    return interpolate(raw, {"POSTGRES_PASSWORD": PASSWORD} if env is None else env)


def compose_variables() -> dict[str, str | None]:
    """Variables compose substitutes from `.env`, with their operator (`:?` means required)."""
    text = COMPOSE.read_text(encoding="utf-8")
    found: dict[str, str | None] = {}
    for match in _INTERPOLATION.finditer(text):
        name = match.group("name") or match.group("bare")
        if name:
            found[name] = found.get(name) or match.group("op")
    return found


def environment(service: dict[str, Any]) -> dict[str, str]:
    env = service.get("environment") or {}
    if isinstance(env, list):
        env = dict(item.split("=", 1) for item in env)
    return {k: "" if v is None else str(v) for k, v in env.items()}


def is_alignbot(service: dict[str, Any]) -> bool:
    return "build" in service


def dependencies(service: dict[str, Any]) -> dict[str, str]:
    depends = service.get("depends_on") or {}
    if isinstance(depends, list):
        return dict.fromkeys(depends, "service_started")
    return {name: spec.get("condition", "service_started") for name, spec in depends.items()}


def is_one_shot(service: dict[str, Any]) -> bool:
    return str(service.get("restart", "no")) == "no"


def env_names(cls: type[BaseSettings]) -> dict[str, list[str]]:
    """Each field's environment names, the documented one first (as pydantic-settings reads them)."""
    prefix = cls.model_config.get("env_prefix", "")
    names: dict[str, list[str]] = {}
    for field, info in cls.model_fields.items():
        if field in SECTIONS and cls is Settings:
            continue  # a section: its fields are listed with its class
        alias = info.validation_alias
        if isinstance(alias, AliasChoices):
            names[field] = [str(choice) for choice in alias.choices]
        elif isinstance(alias, str):
            names[field] = [alias]
        else:
            names[field] = [f"{prefix}{field}".upper()]
    return names


def all_settings() -> dict[str, tuple[type[BaseSettings], str, list[str]]]:
    """Documented env name -> (class, field, every accepted name), over every settings class."""
    found: dict[str, tuple[type[BaseSettings], str, list[str]]] = {}
    for cls in SETTINGS_CLASSES:
        for field, names in env_names(cls).items():
            assert names[0] not in found, f"{names[0]} is read by two settings classes"
            found[names[0]] = (cls, field, names)
    return found


def accepted_names() -> set[str]:
    return {name for _cls, _field, names in all_settings().values() for name in names}


# `NAME=value` (set) or `# NAME=value` (the default, shown commented out).
_ENV_LINE = re.compile(r"^(?P<comment>#\s*)?(?P<name>[A-Z][A-Z0-9_]*)=(?P<value>.*)$")


def env_example() -> list[tuple[str, str, bool, int]]:
    """(name, value, set, line number) for each variable line of .env.example."""
    entries = []
    for number, line in enumerate(ENV_EXAMPLE.read_text(encoding="utf-8").splitlines(), start=1):
        match = _ENV_LINE.match(line.strip())
        if match:
            entries.append((match["name"], match["value"].strip(), not match["comment"], number))
    return entries


def read_settings(cls: type[BaseSettings], env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Any:
    """`cls` as a container with exactly `env` would read it (no `.env` file, nothing else from this process)."""
    for name in accepted_names() | set(os.environ):
        if name.startswith(("ALIGNBOT_", "REDDIT_", "DISCORD_", "CHROMA_", "DATABASE_")):
            monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return cls(_env_file=None)  # type: ignore[call-arg]


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return load_compose()


@pytest.fixture(scope="module")
def services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return compose["services"]


def bots(services: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {name: s for name, s in services.items() if is_alignbot(s)}


# --- services, dependencies, health ---------------------------------------------------------------------------


def test_services_and_profiles(services: dict[str, dict[str, Any]]) -> None:
    assert set(services) == {"postgres", "chroma", "migrate", "seed", "http", "discord", "reddit"}
    default = {name for name, s in services.items() if not s.get("profiles")}
    assert default == {"postgres", "chroma", "migrate", "seed", "http"}
    assert services["discord"]["profiles"] == ["discord"]
    assert services["reddit"]["profiles"] == ["reddit"]
    for name in default:  # compose refuses to start a default service that needs a disabled one
        assert not set(dependencies(services[name])) - default, name


def test_every_service_has_a_healthcheck_or_is_one_shot(services: dict[str, dict[str, Any]]) -> None:
    awaited = {(target, condition) for s in services.values() for target, condition in dependencies(s).items()}
    for name, service in services.items():
        check = service.get("healthcheck") or {}
        if is_one_shot(service):
            # Waited for to finish, and no health check (the image's would watch a port nothing listens on).
            assert (name, "service_completed_successfully") in awaited, f"nothing waits for one-shot {name}"
            assert not is_alignbot(service) or check.get("disable") is True, name
        else:
            assert service.get("restart") in ("unless-stopped", "always"), name
            assert not check.get("disable"), name
            test = check.get("test")
            assert isinstance(test, list) and test[0] in ("CMD", "CMD-SHELL") and len(test) > 1, name
            assert {"interval", "timeout", "retries", "start_period"} <= set(check), name
    for name, service in services.items():
        for target, condition in dependencies(service).items():
            assert target in services, f"{name} depends on unknown {target}"
            if condition == "service_healthy":
                check = services[target].get("healthcheck") or {}
                assert not is_one_shot(services[target]) and check and not check.get("disable"), (name, target)
            else:
                assert condition == "service_completed_successfully", (name, target, condition)
                assert is_one_shot(services[target]), (name, target)


def test_dependencies_have_no_cycle(services: dict[str, dict[str, Any]]) -> None:
    done: set[str] = set()
    while len(done) < len(services):
        ready = {n for n, s in services.items() if n not in done and set(dependencies(s)) <= done}
        assert ready, f"dependency cycle among {sorted(set(services) - done)}"
        done |= ready


def test_database_users_point_at_postgres_and_wait_for_it(
    services: dict[str, dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    postgres = services["postgres"]
    pg_env = environment(postgres)
    assert pg_env["POSTGRES_PASSWORD"] == PASSWORD
    check = postgres["healthcheck"]["test"]
    assert check[1] == "pg_isready"
    assert check[check.index("--username") + 1] == pg_env["POSTGRES_USER"]
    assert check[check.index("--dbname") + 1] == pg_env["POSTGRES_DB"]
    assert bots(services)
    for name, service in bots(services).items():
        settings = read_settings(Settings, environment(service), monkeypatch)
        url = make_url(settings.sqlalchemy_url)
        assert url.drivername == "postgresql+psycopg", name  # psycopg 3, a dependency of the package
        assert (url.host, url.port) == ("postgres", 5432), name
        assert (url.username, url.password, url.database) == (
            pg_env["POSTGRES_USER"],
            pg_env["POSTGRES_PASSWORD"],
            pg_env["POSTGRES_DB"],
        ), name
        assert dependencies(service).get("postgres") == "service_healthy", name


def test_vector_store_users_point_at_chroma_and_wait_for_it(
    services: dict[str, dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    engine_users = {n: s for n, s in bots(services).items() if s["command"][0] != "db"}  # `db` needs no vectors
    assert set(engine_users) == {"seed", "http", "discord", "reddit"}
    for name, service in engine_users.items():
        settings = read_settings(Settings, environment(service), monkeypatch)
        assert (settings.chroma_host, settings.chroma_port) == ("chroma", CHROMA_IMAGE_PORT), name
        assert dependencies(service).get("chroma") == "service_healthy", name
        # The bundled reading list is stored once, by `seed`, before the long-running services start.
        if name != "seed":
            assert dependencies(service).get("seed") == "service_completed_successfully", name
            assert dependencies(service).get("migrate") == "service_completed_successfully", name
    assert dependencies(services["seed"]).get("migrate") == "service_completed_successfully"


def test_images_are_pinned(services: dict[str, dict[str, Any]]) -> None:
    # The server must speak the installed client's protocol: the same release, not "latest".
    assert services["chroma"]["image"] == f"chromadb/chroma:{metadata.version('chromadb')}"
    assert re.fullmatch(r"postgres:\d+(\.\d+)?(-[a-z0-9]+)?", services["postgres"]["image"])
    for name, service in bots(services).items():
        assert service["build"] == "." and service.get("pull_policy") == "build", name
        assert "entrypoint" not in service, name  # the image's `alignbot`


def test_volumes_are_declared_used_and_where_the_images_keep_data(compose: dict[str, Any]) -> None:
    services = compose["services"]
    used: dict[str, set[tuple[str, str]]] = {}
    for name, service in services.items():
        for mount in service.get("volumes", []):
            source, target = mount.split(":")[:2]
            if not source.startswith((".", "/", "~")):  # a named volume, not a bind mount
                used.setdefault(source, set()).add((name, target))
    assert set(used) == set(compose["volumes"])
    assert used["chroma-data"] == {("chroma", "/data")}  # persist_path in the chroma image's config.yaml
    major = int(re.search(r":(\d+)", services["postgres"]["image"])[1])  # type: ignore[index]
    # PGDATA of the official image; from 18 on it is a version directory under /var/lib/postgresql.
    assert used["postgres-data"] == {("postgres", "/var/lib/postgresql/data" if major < 18 else "/var/lib/postgresql")}
    dockerfile = parse_dockerfile((REPO_ROOT / "Dockerfile").read_text(encoding="utf-8"))
    data_dir = env_values(dockerfile)["ALIGNBOT_DATA_DIR"]
    volumes = [v for ins in dockerfile if ins.name == "VOLUME" for v in json.loads(ins.args)]
    assert data_dir in volumes
    assert used["alignbot-data"] == {(name, data_dir) for name in bots(services)}


def test_http_is_published_on_the_address_and_port_it_serves(
    services: dict[str, dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    http = services["http"]
    server = read_settings(ServerSettings, environment(http), monkeypatch)
    assert server.host == "0.0.0.0"  # inside the container every interface; the host side decides who can connect
    assert [int(mapping.rsplit(":", 1)[1]) for mapping in http["ports"]] == [server.port]
    assert http["command"] == ["serve"]  # no --host/--port flags to contradict the settings


def test_required_variables_stop_compose(services: dict[str, dict[str, Any]]) -> None:
    with pytest.raises(ValueError, match="POSTGRES_PASSWORD"):
        load_compose({})
    with pytest.raises(ValueError, match="POSTGRES_PASSWORD"):
        load_compose({"POSTGRES_PASSWORD": ""})
    published = services["http"]["ports"]
    assert published == ["127.0.0.1:8080:8080"]  # the default keeps the app on loopback
    assert load_compose({"POSTGRES_PASSWORD": "x", "HTTP_PUBLISH": "8081"})["services"]["http"]["ports"] == [
        "8081:8080"
    ]


# --- commands ---------------------------------------------------------------------------------------------------


def resolve(words: list[str]) -> tuple[click.Command, click.Context, list[str]]:
    """The click command `alignbot WORDS…` runs, with its context and the arguments left for it."""
    command: click.Command = typer.main.get_command(cli_app)
    context = click.Context(command, info_name="alignbot")
    rest = list(words)
    while isinstance(command, click.Group):
        assert rest, f"`{context.command_path}` is a group, not a command"
        word = rest.pop(0)
        sub = command.get_command(context, word)
        if sub is None:
            raise LookupError(f"`{context.command_path} {word}` is not a command")
        command, context = sub, click.Context(sub, info_name=word, parent=context)
    return command, context, rest


@pytest.mark.parametrize("name", ["migrate", "seed", "http", "discord", "reddit"])
def test_commands_are_alignbot_commands(services: dict[str, dict[str, Any]], name: str) -> None:
    words = services[name]["command"]
    assert isinstance(words, list) and all(isinstance(w, str) for w in words)
    try:
        command, context, rest = resolve(words)
    except LookupError:
        if words[:2] == ["db", "upgrade"] and "db" not in typer.main.get_command(cli_app).commands:  # type: ignore[attr-defined]
            pytest.skip("`alignbot db upgrade` is not registered yet")
        raise
    # Parses the arguments exactly as a run would (unknown options and bad values raise), without running.
    command.make_context(context.info_name, rest, parent=context.parent)
    result = CliRunner().invoke(cli_app, [*words, "--help"])
    assert result.exit_code == 0 and "Usage:" in result.output, result.output


def test_health_check_commands_name_real_checks(services: dict[str, dict[str, Any]]) -> None:
    for name, service in bots(services).items():
        test = (service.get("healthcheck") or {}).get("test")
        if test:
            assert test[:4] == ["CMD", "python", "-m", "bot.healthcheck"] and test[4] in CHECKS, name
    assert services["http"]["healthcheck"]["test"][4] == "http"
    assert {services[n]["healthcheck"]["test"][4] for n in ("discord", "reddit")} == {"stores"}


# --- the health checks, run for real ----------------------------------------------------------------------------


def run_check(argv: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, env=env, cwd=cwd, capture_output=True, text=True, timeout=60)


def python_check(test: list[str]) -> list[str]:
    assert test[0] == "CMD" and test[1] == "python"
    return [sys.executable, *test[2:]]  # `python` in the image is the interpreter the package is installed in


def base_env(service: dict[str, Any], **overrides: str) -> dict[str, str]:
    """The process environment for a check: this interpreter's, minus any alignbot settings, plus the service's."""
    keep = {k: v for k, v in os.environ.items() if k not in accepted_names()}
    return {**keep, **environment(service), **overrides}


def test_chroma_healthcheck_asks_a_real_server(services: dict[str, dict[str, Any]], tmp_path: Path) -> None:
    test = services["chroma"]["healthcheck"]["test"]
    assert test[:3] == ["CMD", "bash", "-c"]
    script = test[3]
    assert f"/dev/tcp/127.0.0.1/{CHROMA_IMAGE_PORT}" in script
    server = ChromaServer(tmp_path / "chroma").start()  # the chromadb package's server, the image's release
    local = script.replace(f"/dev/tcp/127.0.0.1/{CHROMA_IMAGE_PORT}", f"/dev/tcp/127.0.0.1/{server.port}")
    try:
        assert run_check(["bash", "-c", local], dict(os.environ), tmp_path).returncode == 0
        wrong_path = local.replace("/api/v2/heartbeat", "/api/v1/heartbeat")  # 410 Gone in Chroma 1.x
        assert run_check(["bash", "-c", wrong_path], dict(os.environ), tmp_path).returncode != 0
    finally:
        server.stop()
    assert run_check(["bash", "-c", local], dict(os.environ), tmp_path).returncode != 0


class _Unavailable(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = json.dumps({"status": "unavailable", "database": "ok", "chroma": "error: X", "works": 1}).encode()
        self.send_response(503)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_args: Any) -> None:
        pass


@pytest.fixture
def unavailable_server() -> Iterator[int]:
    """An HTTP server whose /healthz says a store is down (503)."""
    server = HTTPServer(("127.0.0.1", 0), _Unavailable)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


def test_http_healthcheck_against_the_real_app(
    services: dict[str, dict[str, Any]], empty_engine: Engine, unavailable_server: int, tmp_path: Path
) -> None:
    http = services["http"]
    argv = python_check(http["healthcheck"]["test"])
    assert environment(http)["ALIGNBOT_HTTP_HOST"] == "0.0.0.0"  # listens everywhere; the check asks loopback
    app = create_app(empty_engine, Moderator(empty_engine, config_path=RULES), ServerSettings(_env_file=None))  # type: ignore[call-arg]
    with serve(app) as url:
        port = url.rsplit(":", 1)[1]
        healthy = run_check(argv, base_env(http, ALIGNBOT_HTTP_PORT=port), tmp_path)
    assert healthy.returncode == 0 and healthy.stdout.strip() == "ok: http", healthy.stdout + healthy.stderr
    down = run_check(argv, base_env(http, ALIGNBOT_HTTP_PORT=str(free_port())), tmp_path)
    assert down.returncode == 1 and "unhealthy" in down.stdout
    store_down = run_check(argv, base_env(http, ALIGNBOT_HTTP_PORT=str(unavailable_server)), tmp_path)
    assert store_down.returncode == 1 and "503" in store_down.stdout


def test_stores_healthcheck_against_a_real_database_and_chroma_server(
    services: dict[str, dict[str, Any]], empty_engine: Engine, tmp_path: Path
) -> None:
    discord = services["discord"]
    argv = python_check(discord["healthcheck"]["test"])
    chroma = ChromaServer(tmp_path / "chroma").start()
    stores = {
        "DATABASE_URL": empty_engine.settings.sqlalchemy_url,  # SQLite or PostgreSQL, as the run's stores
        "CHROMA_HOST": chroma.host,
        "CHROMA_PORT": str(chroma.port),
    }
    try:
        healthy = run_check(argv, base_env(discord, **stores), tmp_path)
        assert healthy.returncode == 0 and healthy.stdout.strip() == "ok: stores", healthy.stdout + healthy.stderr
        closed = f"postgresql+psycopg://u:p@127.0.0.1:{free_port()}/x"  # nothing listens there
        no_database = run_check(argv, base_env(discord, **{**stores, "DATABASE_URL": closed}), tmp_path)
        assert no_database.returncode == 1 and "OperationalError" in no_database.stdout
    finally:
        chroma.stop()
    no_chroma = run_check(argv, base_env(discord, **stores), tmp_path)
    assert no_chroma.returncode == 1 and "heartbeat" in no_chroma.stdout


# --- .env.example -----------------------------------------------------------------------------------------------


def test_env_example_documents_each_variable_once() -> None:
    lines = [line.strip() for line in ENV_EXAMPLE.read_text(encoding="utf-8").splitlines()]
    names = [name for name, _value, _set, _line in env_example()]
    assert len(names) == len(set(names)), [n for n in names if names.count(n) > 1]
    for name, _value, _set, number in env_example():
        # Directly above the variable, or above the run of variables it ends, is its description.
        above = next((line for line in reversed(lines[: number - 1]) if not _ENV_LINE.match(line)), "")
        assert above.startswith("#") and above.strip("# -"), f".env.example:{number}: {name} has no description"


def test_env_example_names_are_settings_or_compose_variables() -> None:
    settings = all_settings()
    for name, _value, _set, number in env_example():
        known = name in settings or name in compose_variables() or name in COMPOSE_CLI_VARIABLES
        assert known, f".env.example:{number}: {name} is read by nothing"
    for name, op in compose_variables().items():
        entries = {n: is_set for n, _v, is_set, _l in env_example()}
        assert name in entries, f"docker-compose.yml uses {name}, .env.example does not document it"
        if op in (":?", "?"):
            assert entries[name], f"{name} is required by docker-compose.yml: set it (uncommented) in .env.example"


def test_every_setting_is_in_env_example_or_set_by_compose_or_the_image(services: dict[str, dict[str, Any]]) -> None:
    in_example = {name for name, _v, _s, _l in env_example()}
    by_compose = {name for s in bots(services).values() for name in environment(s)}
    dockerfile = parse_dockerfile((REPO_ROOT / "Dockerfile").read_text(encoding="utf-8"))
    by_image = set(env_values(dockerfile))
    settings = all_settings()
    for name in NOT_IN_ENV_EXAMPLE:
        assert name in settings and name not in in_example, name
    for name in settings:
        assert name in in_example | by_compose | by_image | set(NOT_IN_ENV_EXAMPLE), (
            f"{name} is a setting: document it in .env.example (or say in NOT_IN_ENV_EXAMPLE why not)"
        )


def test_env_example_is_not_silently_overridden(services: dict[str, dict[str, Any]]) -> None:
    """Compose's `environment:` wins over `env_file:`: a variable set in both would be ignored from .env."""
    settings = all_settings()
    for name, _value, _set, number in env_example():
        aliases = set(settings[name][2]) if name in settings else {name}
        for service_name, service in bots(services).items():
            assert not aliases & set(environment(service)), f".env.example:{number}: {service_name} overrides {name}"


def test_env_example_values_are_valid_and_commented_ones_are_the_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = all_settings()
    entries = [e for e in env_example() if e[0] in settings]
    for name, value, is_set, number in entries:
        cls, field, _names = settings[name]
        default = cls.model_fields[field].get_default(call_default_factory=True)
        if is_set:
            continue
        if value == "":
            assert default in (None, []), f".env.example:{number}: {name} defaults to {default!r}, not unset"
        else:
            parsed = getattr(read_settings(cls, {name: value}, monkeypatch), field)
            assert parsed == default, f".env.example:{number}: {name}={value} but the default is {default!r}"
    # Everything set in the example reads together without a validation error.
    values = {name: value for name, value, is_set, _n in entries if is_set}
    for cls in SETTINGS_CLASSES:
        read_settings(cls, values, monkeypatch)


def test_profiles_get_their_required_settings_from_env_example(monkeypatch: pytest.MonkeyPatch) -> None:
    """What `alignbot discord` and `alignbot reddit` refuse to start without is set in .env.example."""
    set_names = {name for name, _value, is_set, _n in env_example() if is_set}
    # Required, as the commands decide it: with nothing set, the Discord token is missing, and these for Reddit.
    assert read_settings(DiscordSettings, {}, monkeypatch).token_value() is None
    required = {"discord": {env_names(DiscordSettings)["token"][0]}}
    required["reddit"] = set(read_settings(RedditSettings, {}, monkeypatch).missing())
    assert required["reddit"], "RedditSettings.missing() names nothing with nothing set"
    for profile, names in required.items():
        assert names <= set_names, f"profile {profile} needs {sorted(names - set_names)} in .env.example"
    # Filled in (any value), those lines are enough for both commands' checks.
    filled = {name: value or "placeholder" for name, value, is_set, _n in env_example() if is_set}
    assert read_settings(DiscordSettings, filled, monkeypatch).token_value()
    assert read_settings(RedditSettings, filled, monkeypatch).missing() == []


# --- README -----------------------------------------------------------------------------------------------------


def test_readme_production_section_lists_every_variable() -> None:
    text = README.read_text(encoding="utf-8")
    match = re.search(r"^## Production\n(?P<body>.*?)(?=^## |\Z)", text, flags=re.M | re.S)
    assert match, "README.md has no '## Production' section"
    body = match["body"]
    table_names = set(re.findall(r"`([A-Z][A-Z0-9_]+)`", body))
    wanted = set(all_settings()) | set(compose_variables()) | set(COMPOSE_CLI_VARIABLES)
    assert not wanted - table_names, f"README Production lacks {sorted(wanted - table_names)}"

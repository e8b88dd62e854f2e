"""The Dockerfile's essentials, checked by reading it (no Docker engine where the tests run)."""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import pytest
import yaml

from bot.settings import Settings

REPO = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Instruction:
    name: str
    args: str


def parse(text: str) -> list[Instruction]:
    """Instructions with line continuations joined and comments dropped (enough for this Dockerfile)."""
    instructions: list[Instruction] = []
    pending = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if line.startswith("#"):
            continue  # a comment inside a continued instruction
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        name, _, args = (pending + line).partition(" ")
        instructions.append(Instruction(name.upper(), args.strip()))
        pending = ""
    assert not pending, "the Dockerfile ends inside a continued line"
    return instructions


def env_values(instructions: list[Instruction]) -> dict[str, str]:
    values: dict[str, str] = {}
    for ins in instructions:
        if ins.name != "ENV":
            continue
        parts = shlex.split(ins.args)
        if all("=" in p for p in parts):
            values.update(p.split("=", 1) for p in parts)
        else:  # legacy `ENV NAME value`
            values[parts[0]] = " ".join(parts[1:])
    return values


def copies(instructions: list[Instruction]) -> dict[str, PurePosixPath]:
    """Each COPY source (normalised, no trailing slash) and the absolute path it lands at."""
    workdir = PurePosixPath("/")
    landed: dict[str, PurePosixPath] = {}
    for ins in instructions:
        if ins.name == "WORKDIR":
            workdir = workdir / ins.args
        elif ins.name == "COPY" and "--from=" not in ins.args:  # `--from` copies from a stage, not the repo
            *sources, dest = [a for a in shlex.split(ins.args) if not a.startswith("--")]
            target = workdir / dest
            for source in sources:
                name = source.rstrip("/")
                # `COPY dir/ dir/` lands at dest; several sources into a directory land inside it.
                landed[name] = target if len(sources) == 1 and source.endswith("/") else target / name
    return landed


def run_index(instructions: list[Instruction], needle: str) -> int:
    matches = [i for i, ins in enumerate(instructions) if ins.name == "RUN" and needle in ins.args]
    assert matches, f"no RUN with {needle!r}"
    return matches[0]


@pytest.fixture(scope="module")
def dockerfile() -> list[Instruction]:
    return parse((REPO / "Dockerfile").read_text(encoding="utf-8"))


def test_base_image_is_a_build_argument_defaulting_to_python_slim(dockerfile: list[Instruction]) -> None:
    froms = [ins.args for ins in dockerfile if ins.name == "FROM"]
    assert froms == ["${BASE} AS build", "${BASE}"]  # both stages on the same Python, so the venv runs in both
    assert dockerfile[0].name == "ARG" and dockerfile[0].args == "BASE=python:3.11-slim"


def test_the_final_stage_takes_the_built_venv_without_the_compiler(dockerfile: list[Instruction]) -> None:
    final_at = max(i for i, ins in enumerate(dockerfile) if ins.name == "FROM")
    build, final = dockerfile[:final_at], dockerfile[final_at:]
    assert run_index(build, "g++") < run_index(build, 'pip install ".')
    assert not [ins for ins in final if ins.name == "RUN" and ("g++" in ins.args or "pip install" in ins.args)]
    from_stages = [ins.args for ins in final if ins.name == "COPY" and "--from=" in ins.args]
    assert from_stages == ["--from=build /opt/venv /opt/venv"]
    assert env_values(final)["PATH"].startswith("/opt/venv/bin:")
    # The runtime ICU library is the one libicu-dev depends on, whatever the base's release calls it.
    apt = [ins.args for ins in final if ins.name == "RUN" and "apt-get install" in ins.args]
    assert len(apt) == 1 and "apt-cache depends libicu-dev" in apt[0]


def test_no_torch_in_the_image(dockerfile: list[Instruction]) -> None:
    """The bundled model runs on ONNX Runtime: neither the image nor the default install pulls torch."""
    installs = " ".join(ins.args for ins in dockerfile if ins.name == "RUN" and "pip install" in ins.args)
    assert "torch" not in installs
    pyproject = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    assert not [d for d in pyproject["project"]["dependencies"] if d.startswith(("torch", "sentence-transformers"))]


def test_package_is_installed_with_its_front_ends_and_without_dev_extras(dockerfile: list[Instruction]) -> None:
    installs = [shlex.split(ins.args) for ins in dockerfile if ins.name == "RUN" and "pip install" in ins.args]
    targets = [a for args in installs for a in args if a == "." or a.startswith(".[")]
    assert targets == [".[http,discord,reddit]"]  # what docker-compose.yml runs: serve, discord, reddit


def test_copied_sources_exist_and_the_package_is_copied_before_install(dockerfile: list[Instruction]) -> None:
    landed = copies(dockerfile)
    for source in landed:
        assert (REPO / source).exists(), source
    assert {"pyproject.toml", "bot"} <= set(landed)
    package_at = run_index(dockerfile, 'pip install ".')
    copied_before = {
        a.rstrip("/") for ins in dockerfile[:package_at] if ins.name == "COPY" for a in shlex.split(ins.args)[:-1]
    }
    assert {"pyproject.toml", "bot"} <= copied_before
    readme = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"].get("readme")
    if readme:
        assert readme in copied_before  # setuptools reads it while building


def test_dependencies_install_in_a_layer_that_changes_to_the_sources_leave_cached(
    dockerfile: list[Instruction],
) -> None:
    deps_at = run_index(dockerfile, "tomllib")
    sources_at = next(i for i, ins in enumerate(dockerfile) if ins.name == "COPY" and ins.args.startswith("bot/"))
    assert deps_at < sources_at < run_index(dockerfile, 'pip install ".')
    copied = {a for ins in dockerfile[:deps_at] if ins.name == "COPY" for a in shlex.split(ins.args)[:-1]}
    assert copied == {"pyproject.toml", "README.md"}
    # The same extras as the package's own install, so that the second install only adds the package.
    extras = re.search(r"for extra in \(([^)]*)\)", dockerfile[deps_at].args)
    assert extras is not None
    install = shlex.split(dockerfile[run_index(dockerfile, 'pip install ".')].args)
    package = next(a for a in install if a.startswith(".["))
    assert [e.strip(' "') for e in extras[1].split(",")] == package[2:-1].split(",")


def test_settings_find_the_bundled_knowledge_and_prompts(
    dockerfile: list[Instruction], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    landed = copies(dockerfile)
    env = env_values(dockerfile)
    monkeypatch.chdir(tmp_path)  # no developer `.env`
    for name in ("ALIGNBOT_KNOWLEDGE_DIR", "ALIGNBOT_PROMPTS_DIR"):
        monkeypatch.setenv(name, env[name])
    # The env names really are the settings' names, and they point where the files were copied.
    settings = Settings()
    assert PurePosixPath(settings.knowledge_dir) == landed["knowledge"]
    assert PurePosixPath(settings.prompts_dir) == landed["prompts"]


def test_data_dir_is_a_volume(dockerfile: list[Instruction], monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    data_dir = env_values(dockerfile)["ALIGNBOT_DATA_DIR"]
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("ALIGNBOT_DATA_DIR", data_dir)
    assert str(Settings().data_dir) == data_dir
    volumes = [v for ins in dockerfile if ins.name == "VOLUME" for v in json.loads(ins.args)]
    assert data_dir in volumes


def test_entrypoint_is_the_console_script(dockerfile: list[Instruction]) -> None:
    entrypoints = [json.loads(ins.args) for ins in dockerfile if ins.name == "ENTRYPOINT"]
    scripts = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]["scripts"]
    assert entrypoints == [["alignbot"]] and "alignbot" in scripts
    assert [json.loads(ins.args) for ins in dockerfile if ins.name == "CMD"] == [["--help"]]


def test_parser_reads_continuations_and_both_env_forms() -> None:
    parsed = parse('FROM x\n# note\nENV A=1 \\\n    # inside\n    B="two words"\nENV C three\nCOPY a b/ /app/\n')
    assert [i.name for i in parsed] == ["FROM", "ENV", "ENV", "COPY"]
    assert env_values(parsed) == {"A": "1", "B": "two words", "C": "three"}
    assert copies(parsed) == {"a": PurePosixPath("/app/a"), "b": PurePosixPath("/app/b")}


def _user(dockerfile: list[Instruction]) -> tuple[int, str]:
    """Where the last USER instruction is and the user it names."""
    users = [(i, ins.args.split(":")[0]) for i, ins in enumerate(dockerfile) if ins.name == "USER"]
    assert users, "the image runs as root"
    return users[-1]


def _shell_commands(ins: Instruction) -> list[list[str]]:
    return [shlex.split(part) for part in ins.args.split("&&")]


def test_runs_as_an_unprivileged_user_who_owns_the_data_dir(dockerfile: list[Instruction]) -> None:
    user_at, user = _user(dockerfile)
    assert user not in ("root", "0")
    created = [
        i
        for i, ins in enumerate(dockerfile[:user_at])
        if ins.name == "RUN"
        for argv in _shell_commands(ins)
        if argv and argv[0] == "useradd" and argv[-1] == user
    ]
    assert created, f"no `useradd … {user}` before USER"
    data_dir = env_values(dockerfile)["ALIGNBOT_DATA_DIR"]
    volume_at = next(i for i, ins in enumerate(dockerfile) if ins.name == "VOLUME" and data_dir in json.loads(ins.args))
    owned = [
        argv
        for ins in dockerfile[created[0] : volume_at]  # before VOLUME: later changes to a volume path are discarded
        if ins.name == "RUN"
        for argv in _shell_commands(ins)
        if argv and argv[0] == "chown" and argv[-1] == data_dir
    ]
    assert owned and owned[0][1].split(":")[0] == user
    # Installed as root: the bot's user cannot change its own code or dependencies.
    installs = [i for i, ins in enumerate(dockerfile) if ins.name == "RUN" and "pip install" in ins.args]
    assert installs and max(installs) < user_at


def test_the_bundled_model_loads_offline_when_the_image_is_built(dockerfile: list[Instruction], tmp_path: Path) -> None:
    at = run_index(dockerfile, "load_embedder")
    assert at > run_index(dockerfile, 'pip install ".') and at > _user(dockerfile)[0]  # as the bot's user
    argv = shlex.split(dockerfile[at].args)
    env = dict(a.split("=", 1) for a in argv[: next(i for i, a in enumerate(argv) if "=" not in a)])
    assert env.get("HF_HUB_OFFLINE") == "1"
    command = argv[len(env) :]
    assert command[:2] == ["python", "-c"] and len(command) == 3
    # Run the same code here, offline, outside the repo and with no alignbot settings from this environment.
    clean = {k: v for k, v in os.environ.items() if not k.startswith("ALIGNBOT_")}
    result = subprocess.run(
        [sys.executable, "-c", command[2]],
        env={**clean, **env, "TRANSFORMERS_OFFLINE": "1"},
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-2000:]


def test_healthcheck_is_the_compose_http_check(dockerfile: list[Instruction]) -> None:
    checks = [ins.args for ins in dockerfile if ins.name == "HEALTHCHECK"]
    assert len(checks) == 1
    options, _, command = checks[0].partition(" CMD ")
    assert {"--interval", "--timeout", "--start-period", "--retries"} <= {o.split("=")[0] for o in options.split()}
    compose = yaml.safe_load((REPO / "docker-compose.yml").read_text(encoding="utf-8"))
    assert ["CMD", *json.loads(command)] == compose["services"]["http"]["healthcheck"]["test"]


def _ignored(path: str, patterns: list[str]) -> bool:
    """Whether .dockerignore keeps `path` (or a directory above it) out of the build context; last match wins."""

    def regex(pattern: str) -> re.Pattern[str]:
        out = re.escape(pattern).replace(r"\*\*/", "(?:.*/)?").replace(r"\*\*", ".*")
        return re.compile(out.replace(r"\*", "[^/]*").replace(r"\?", "[^/]") + "$")

    parts = path.split("/")
    prefixes = ["/".join(parts[:i]) for i in range(1, len(parts) + 1)]
    ignored = False
    for pattern in patterns:
        negated = pattern.startswith("!")
        if any(regex(pattern.lstrip("!").strip("/")).match(p) for p in prefixes):
            ignored = not negated
    return ignored


def test_dockerignore_keeps_secrets_out_and_the_copied_sources_in(dockerfile: list[Instruction]) -> None:
    lines = (REPO / ".dockerignore").read_text(encoding="utf-8").splitlines()
    patterns = [line.strip() for line in lines if line.strip() and not line.startswith("#")]
    for secret in (".env", ".env.production", ".git/config"):
        assert _ignored(secret, patterns), secret
    for source in copies(dockerfile):
        root = REPO / source
        files = [root] if root.is_file() else [p for p in root.rglob("*") if p.is_file()]
        for path in files:
            relative = path.relative_to(REPO).as_posix()
            if "__pycache__" not in relative:
                assert not _ignored(relative, patterns), f"{relative} is copied into the image but ignored"
    assert _ignored("bot/__pycache__/cli.cpython-311.pyc", patterns)  # the matcher is not trivially permissive

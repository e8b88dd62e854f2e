"""The stores the tests run on: SQLite and embedded Chroma by default, PostgreSQL and a Chroma server on request.

    ALIGNBOT_TEST_DATABASE=postgresql://postgres@127.0.0.1:5432/test   every knowledge base (data directory)
        gets its own fresh PostgreSQL database, made in this run and dropped at its end;
    ALIGNBOT_TEST_CHROMA=server   one `chroma run` (the installed package's server) on a free loopback port for
        the whole run; every data directory gets its own collection, reached through CHROMA_HOST/CHROMA_PORT.

`.ci/run` runs the suite once with the defaults and once with both, the production set-up. Tests build
settings with `tests.conftest.make_settings(data_dir)` and subprocess environments with `Backends.env(data_dir)`,
so the same test runs on either.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import chromadb
import httpx
import psycopg
from chromadb.config import Settings as ChromaSettings
from psycopg import sql

DEFAULT_POSTGRES = "postgresql://postgres@127.0.0.1:5432/test"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _key(data_dir: Path) -> str:
    return hashlib.sha256(str(data_dir.resolve()).encode()).hexdigest()[:12]


def chroma_executable() -> str:
    """The `chroma` command the chromadb package installs next to this interpreter."""
    beside = Path(sys.executable).parent / "chroma"
    found = str(beside) if beside.is_file() else shutil.which("chroma")
    if found is None:
        raise RuntimeError("the `chroma` command of the chromadb package is not installed")
    return found


class ChromaServer:
    """`chroma run` in a subprocess: started, stopped and restarted on the same port and directory."""

    def __init__(self, path: Path, port: int | None = None) -> None:
        self.path = path
        self.host = "127.0.0.1"
        self.port = port or free_port()
        self.log = path.parent / f"{path.name}.log"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 60) -> ChromaServer:
        self.path.mkdir(parents=True, exist_ok=True)
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [chroma_executable(), "run", "--path", str(self.path), "--host", self.host, "--port", str(self.port)],
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"chroma run exited with {self.process.returncode}: {self.log.read_text()[-2000:]}")
            try:
                if httpx.get(f"http://{self.host}:{self.port}/api/v2/heartbeat", timeout=1).status_code == 200:
                    return self
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        self.stop(kill=True)
        raise RuntimeError(f"chroma run did not answer within {timeout}s: {self.log.read_text()[-2000:]}")

    def stop(self, kill: bool = False) -> None:
        if self.process is None:
            return
        if kill:
            self.process.kill()
        else:
            self.process.terminate()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.process = None

    def client(self) -> chromadb.ClientAPI:
        return chromadb.HttpClient(host=self.host, port=self.port, settings=ChromaSettings(anonymized_telemetry=False))


class PostgresDatabases:
    """A fresh database per data directory, all dropped when the run ends."""

    def __init__(self, admin_url: str) -> None:
        self.admin_url = admin_url
        self.run = uuid.uuid4().hex[:8]
        self.names: dict[str, str] = {}
        self._admin: psycopg.Connection | None = None

    @property
    def admin(self) -> psycopg.Connection:
        if self._admin is None or self._admin.closed:
            self._admin = psycopg.connect(self.admin_url, autocommit=True, connect_timeout=5)
        return self._admin

    def url(self, name: str) -> str:
        base = self.admin_url.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://", 1)
        return f"{base}/{name}"

    def url_for(self, data_dir: Path, template: str | None = None) -> str:
        key = _key(data_dir)
        if key not in self.names:
            name = f"alignbot_test_{self.run}_{key}"
            if template is None:
                self.admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
            else:
                # A template must have no other connections while it is copied: end any a test left open.
                self.admin.execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", (template,)
                )
                self.admin.execute(
                    sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(sql.Identifier(name), sql.Identifier(template))
                )
            self.names[key] = name
        return self.url(self.names[key])

    def copy(self, source_dir: Path, target_dir: Path) -> None:
        source = self.names.get(_key(source_dir))
        if source is not None:
            self.url_for(target_dir, template=source)

    def drop_all(self) -> None:
        for name in self.names.values():
            self.admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        self.names.clear()
        if self._admin is not None:
            self._admin.close()


class Backends:
    def __init__(self, postgres: PostgresDatabases | None, chroma: ChromaServer | None) -> None:
        self.postgres = postgres
        self.chroma = chroma

    @classmethod
    def from_env(cls) -> Backends:
        admin_url = os.environ.get("ALIGNBOT_TEST_DATABASE")
        postgres = PostgresDatabases(admin_url) if admin_url else None
        chroma_mode = os.environ.get("ALIGNBOT_TEST_CHROMA", "embedded")
        if chroma_mode not in ("embedded", "server"):
            raise ValueError(f"ALIGNBOT_TEST_CHROMA must be 'embedded' or 'server', not {chroma_mode!r}")
        chroma = ChromaServer(Path(tempfile.gettempdir()) / f"alignbot-chroma-{uuid.uuid4().hex[:8]}")
        return cls(postgres, chroma if chroma_mode == "server" else None)

    @property
    def production(self) -> bool:
        """Whether this run uses a production store (PostgreSQL or a Chroma server) rather than the defaults."""
        return self.postgres is not None or self.chroma is not None

    def describe(self) -> str:
        database = "PostgreSQL" if self.postgres else "SQLite"
        vectors = f"Chroma server on {self.chroma.host}:{self.chroma.port}" if self.chroma else "embedded Chroma"
        return f"stores: {database}, {vectors}"

    def start(self) -> None:
        if self.chroma is not None:
            self.chroma.start()

    def stop(self) -> None:
        if self.chroma is not None:
            self.chroma.stop()
            shutil.rmtree(self.chroma.path, ignore_errors=True)
        if self.postgres is not None:
            self.postgres.drop_all()

    def database_url(self, data_dir: Path) -> str | None:
        """The data directory's database: None means the default SQLite file inside it."""
        return self.postgres.url_for(data_dir) if self.postgres else None

    def settings_values(self, data_dir: Path) -> dict[str, object]:
        values: dict[str, object] = {"data_dir": data_dir, "database_url": self.database_url(data_dir)}
        if self.chroma is None:
            values["chroma_host"] = None
        else:
            # The server itself comes from CHROMA_HOST/CHROMA_PORT (set for the session), as in production.
            values["chroma_collection"] = f"kb{_key(data_dir)}"
        return values

    def env(self, data_dir: Path) -> dict[str, str]:
        """Environment variables that point a subprocess at the data directory's stores."""
        env = {"ALIGNBOT_DATA_DIR": str(data_dir)}
        url = self.database_url(data_dir)
        if url:
            env["DATABASE_URL"] = url
        if self.chroma is not None:
            env.update(
                CHROMA_HOST=self.chroma.host,
                CHROMA_PORT=str(self.chroma.port),
                ALIGNBOT_CHROMA_COLLECTION=f"kb{_key(data_dir)}",
            )
        return env

    def copy_data_dir(self, source: Path, target: Path) -> Path:
        """A copy of a knowledge base: its directory, its database and its vectors."""
        shutil.copytree(source, target)
        if self.postgres is not None:
            self.postgres.copy(source, target)
        if self.chroma is not None:
            client = self.chroma.client()
            prefix = f"kb{_key(source)}-"
            for collection in client.list_collections():
                if collection.name.startswith(prefix):
                    stored = collection.get(include=["embeddings"])
                    copy = client.get_or_create_collection(
                        f"kb{_key(target)}-{collection.name.removeprefix(prefix)}",
                        embedding_function=None,
                        configuration={"hnsw": {"space": "cosine"}},
                    )
                    if stored["ids"]:
                        copy.add(ids=stored["ids"], embeddings=stored["embeddings"])
        return target


BACKENDS = Backends.from_env()

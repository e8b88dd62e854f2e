"""The `alignbot` command line end to end, mostly as users run it: the installed script in a subprocess.

Each subprocess loads the embedding model (seconds), so the knowledge base that a first run builds is made
once per module and copied for tests that write. Fast argument-level cases use typer's CliRunner in-process.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import bibtexparser
import pytest
import rispy
from sqlalchemy import create_engine, make_url, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import NullPool
from typer.testing import CliRunner, Result

from bot.cli import app
from bot.embedding import Embedder
from bot.engine import Engine
from bot.storage.chroma import ChromaVectorStore
from tests.backends import BACKENDS
from tests.conftest import make_settings

REPO = Path(__file__).resolve().parent.parent
READING_LIST = REPO / "knowledge" / "reading_list.jsonl"
ON_TOPIC = "Is a model's chain of thought a faithful account of its reasoning?"
# The documented `--json` schemas (README "JSON schemas (stable)").
ASK_KEYS = {"query", "confident", "results", "answer"}
CITE_KEYS = {"query", "confident", "match", "alternatives", "formatted", "export", "fetched", "signals"}
WORK_KEYS = {"id", "arxiv_id", "doi", "title", "authors", "year", "url", "venue", "kind", "score", "reason"}
SUMMARY = re.compile(
    r"(?P<read>\d+) records read: (?P<new>\d+) new, (?P<merged>\d+) merged into existing works, "
    r"(?P<unchanged>\d+) unchanged; (?P<embedded>\d+) embedded; (?P<bad>\d+) bad lines"
)
# Settings read from the environment that could point a test at someone's real data or a provider.
_FOREIGN_ENV = re.compile(r"^(ALIGNBOT_|DATABASE_URL$|CHROMA_|OPENAI_|ANTHROPIC_|OLLAMA_|COLUMNS$|LINES$)")


# --- running the CLI --------------------------------------------------------------------------------


def alignbot_command() -> list[str]:
    """The installed console script when it sits next to this interpreter, else the module."""
    script = Path(sys.executable).parent / "alignbot"
    return [str(script)] if script.is_file() else [sys.executable, "-m", "bot.cli"]


def cli_env(data_dir: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not _FOREIGN_ENV.match(k)}
    env.update(BACKENDS.env(data_dir), PYTHONUNBUFFERED="1", **extra)
    return env


def run_cli(args: list[str], data_dir: Path, *, stdin: str | None = None, timeout: float = 300) -> Run:
    # cwd is not the repo so that no developer `.env` is read.
    proc = subprocess.run(
        [*alignbot_command(), *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=cli_env(data_dir),
        cwd=data_dir.parent,
        timeout=timeout,
    )
    return Run(proc.returncode, proc.stdout, proc.stderr)


@dataclass
class Run:
    code: int
    stdout: str
    stderr: str

    def summary(self) -> dict[str, int]:
        match = SUMMARY.search(" ".join(self.stderr.split()))  # rich wraps long lines at spaces
        assert match, f"no ingest summary in stderr:\n{self.stderr}"
        return {k: int(v) for k, v in match.groupdict().items()}

    def json_lines(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.stdout.splitlines()]


def squash(text: str) -> str:
    """Text without whitespace: rich wraps stderr at 80 columns when it is not a terminal, even inside paths."""
    return re.sub(r"\s+", "", text)


def assert_clean_failure(run: Run | Result, message: str) -> None:
    """A user error: non-zero exit, the reason on stderr, no traceback, nothing on stdout."""
    code = run.code if isinstance(run, Run) else run.exit_code
    assert code != 0
    assert squash(f"error: {message}") in squash(run.stderr)
    assert "Traceback" not in run.stderr
    assert run.stdout == ""
    if isinstance(run, Result):
        assert isinstance(run.exception, SystemExit)  # typer.Exit, not a crash


def sql(data_dir: Path, query: str, **params: Any) -> Any:
    """One value from the knowledge base's database (SQLite file or PostgreSQL), read from outside the bot."""
    engine = create_engine(make_settings(data_dir).sqlalchemy_url, poolclass=NullPool)
    with engine.connect() as connection:
        return connection.execute(text(query), params).one()[0]


def count_works(data_dir: Path) -> int:
    return int(sql(data_dir, "SELECT count(*) FROM work"))


def count_embedded(data_dir: Path) -> int:
    return int(sql(data_dir, "SELECT count(*) FROM work WHERE vector_hash = text_hash"))


def check_work(work: dict[str, Any]) -> None:
    assert set(work) == WORK_KEYS
    assert isinstance(work["id"], str) and work["id"]
    assert isinstance(work["title"], str) and work["title"]
    assert isinstance(work["authors"], list) and all(isinstance(a, str) for a in work["authors"])
    assert isinstance(work["score"], float)
    for key in ("arxiv_id", "doi", "url", "venue", "reason"):
        assert work[key] is None or isinstance(work[key], str), key
    assert work["year"] is None or (isinstance(work["year"], int) and not isinstance(work["year"], bool))


def check_ask(result: dict[str, Any], query: str, k: int) -> None:
    assert set(result) == ASK_KEYS
    assert result["query"] == query
    assert isinstance(result["confident"], bool)
    assert isinstance(result["answer"], str) and result["answer"]
    assert 1 <= len(result["results"]) <= k
    for work in result["results"]:
        check_work(work)
    scores = [w["score"] for w in result["results"]]
    assert scores == sorted(scores, reverse=True)


def write_jsonl(path: Path, rows: list[Any]) -> Path:
    path.write_text("".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in rows), encoding="utf-8")
    return path


# --- knowledge bases --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def first_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Run]:
    """A data dir after a user's first command: the bundled reading list ingested and embedded."""
    data_dir = tmp_path_factory.mktemp("cli") / "kb"
    first = run_cli(["ingest"], data_dir, timeout=600)
    assert first.code == 0, first.stderr
    run = run_cli(["status", "--json"], data_dir)
    assert run.code == 0, run.stderr
    return data_dir, run


@pytest.fixture(scope="module")
def kb(first_run: tuple[Path, Run]) -> Path:
    """Read-only for subprocess tests; tests that write use `kb_copy`."""
    return first_run[0]


@pytest.fixture
def kb_copy(kb: Path, tmp_path: Path) -> Path:
    return BACKENDS.copy_data_dir(kb, tmp_path / "kb")


@pytest.fixture(scope="module")
def inproc_kb(kb: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    # A separate copy: an in-process Chroma client caches its files and must not share them with subprocesses.
    return BACKENDS.copy_data_dir(kb, tmp_path_factory.mktemp("inproc") / "kb")


@pytest.fixture
def invoke(inproc_kb: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[..., Result]:
    """Run the CLI in this process (model loaded once) against `inproc_kb`."""
    for name in list(os.environ):
        if _FOREIGN_ENV.match(name):
            monkeypatch.delenv(name)
    for name, value in BACKENDS.env(inproc_kb).items():
        monkeypatch.setenv(name, value)
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()

    def run(*args: str, stdin: str | None = None) -> Result:
        return runner.invoke(app, list(args), input=stdin)

    return run


# --- first run, ask, cite -----------------------------------------------------------------------------


def test_first_run_loads_the_bundled_reading_list(first_run: tuple[Path, Run]) -> None:
    data_dir, run = first_run
    status = json.loads(run.stdout)
    distinct = {json.loads(line)["id"] for line in READING_LIST.read_text(encoding="utf-8").splitlines() if line}
    assert status["works"] == len(distinct) == count_works(data_dir)
    assert status["vectors"] == status["works"] and status["pending_vectors"] == 0
    assert status["database"] == make_url(make_settings(data_dir).sqlalchemy_url).render_as_string(hide_password=True)


def test_status_reports_and_never_loads_the_reading_list(tmp_path: Path) -> None:
    data_dir = tmp_path / "kb"
    run = run_cli(["status", "--json"], data_dir)
    assert run.code == 0, run.stderr
    assert json.loads(run.stdout)["works"] == 0 == count_works(data_dir)
    text = run_cli(["status"], data_dir)
    assert "0 (empty: `alignbot ingest` loads the bundled reading list" in text.stdout and count_works(data_dir) == 0


@pytest.fixture(scope="module")
def ask_json(kb: Path) -> Run:
    return run_cli(["ask", ON_TOPIC, "-k", "4", "--json"], kb)


def test_ask_json_prints_the_documented_schema(ask_json: Run) -> None:
    assert ask_json.code == 0, ask_json.stderr
    lines = ask_json.stdout.splitlines()
    assert len(lines) == 1  # one JSON object, nothing else on stdout
    result = json.loads(lines[0])
    check_ask(result, ON_TOPIC, k=4)
    assert len(result["results"]) == 4
    assert result["confident"] is True
    assert "faithful" in result["results"][0]["title"].lower()
    # No provider configured: the answer is composed from the results, citing the best one.
    assert result["results"][0]["title"] in result["answer"] and "[1]" in result["answer"]


def test_ask_json_keeps_stderr_quiet(ask_json: Run) -> None:
    assert ask_json.stderr == ""


def test_cite_json_resolves_an_author_citation(kb: Path) -> None:
    run = run_cli(["cite", "Jacovi & Goldberg", "--json"], kb)
    assert run.code == 0, run.stderr
    [result] = run.json_lines()
    assert set(result) == CITE_KEYS
    assert result["query"] == "Jacovi & Goldberg"
    assert result["confident"] is True
    check_work(result["match"])
    assert result["match"]["arxiv_id"] == "2004.03685"
    assert result["signals"]["alias"] == 1.0  # which signals decided: the stored alias "Jacovi & Goldberg"
    assert isinstance(result["alternatives"], list)
    for alternative in result["alternatives"]:
        check_work(alternative)
        assert alternative["id"] != result["match"]["id"]
    assert result["formatted"].startswith("Jacovi, A., & Goldberg, Y. (2020).")
    assert "https://arxiv.org/abs/2004.03685" in result["formatted"]


def test_cite_with_context_reads_the_reference_in_its_thread(invoke: Callable[..., Result], tmp_path: Path) -> None:
    thread = tmp_path / "thread.txt"
    thread.write_text("We could watch the model's externalized reasoning, as a kind of oversight.\n", encoding="utf-8")
    run = invoke("cite", "Lanham et al.", "--context", str(thread), "--json")
    assert run.exit_code == 0, run.output
    result = json.loads(run.stdout)
    assert result["match"]["title"].startswith("Externalized reasoning oversight")
    assert result["confident"] is False
    assert_clean_failure(invoke("cite", "Lanham et al.", "--context", "missing.txt"), "missing.txt: no such file")


def test_cite_bibtex_style(invoke: Callable[..., Result]) -> None:
    text = invoke("cite", "Jacovi & Goldberg", "--style", "bibtex")
    assert text.exit_code == 0, text.output
    as_json = invoke("cite", "Jacovi & Goldberg", "--style", "bibtex", "--json")
    formatted = json.loads(as_json.stdout)["formatted"]
    assert formatted in text.stdout  # the text view prints the entry unwrapped
    library = bibtexparser.parse_string(formatted)
    assert not library.failed_blocks
    [entry] = library.entries
    assert "Faithfully Interpretable NLP Systems" in entry["title"]
    assert entry["author"] == "Jacovi, Alon and Goldberg, Yoav"
    assert entry["year"] == "2020"
    assert entry["eprint"] == "2004.03685"


def test_cite_format_exports_one_document(invoke: Callable[..., Result]) -> None:
    ris = invoke("cite", "Jacovi & Goldberg", "--format", "ris")
    assert ris.exit_code == 0, ris.output
    [record] = rispy.loads(ris.stdout)
    assert record["id"] == "jacoviTowards2020"
    assert record["authors"] == ["Jacovi, Alon", "Goldberg, Yoav"]
    as_json = json.loads(invoke("cite", "Jacovi & Goldberg", "--format", "csl-json", "--json").stdout)
    [item] = json.loads(as_json["export"])
    assert item["id"] == "jacoviTowards2020" and item["type"] == "paper-conference"
    assert as_json["formatted"].startswith("Jacovi, A., & Goldberg, Y. (2020).")  # --style still applies
    missing = invoke("cite", "zzzz qqqq xxxx", "--format", "bibtex")
    assert missing.exit_code == 1 and "no work in the knowledge base matches" in missing.output
    bad = invoke("cite", "Jacovi & Goldberg", "--format", "endnote")
    assert bad.exit_code == 2 and "endnote" in bad.output


# --- batches ----------------------------------------------------------------------------------------


def test_ask_batch_answers_every_good_line_in_order(kb: Path, tmp_path: Path) -> None:
    sleeper = "Do sleeper agents persist through safety training?"
    batch = write_jsonl(
        tmp_path / "questions.jsonl",
        [{"query": ON_TOPIC}, "not json at all", "", {"query": "  "}, {"query": sleeper}, ["a", "list"]],
    )
    run = run_cli(["ask", "--batch", str(batch), "-k", "2"], kb)
    assert run.code == 0, run.stderr
    out = run.json_lines()
    assert [o["query"] for o in out] == [ON_TOPIC, None, None, sleeper, None]  # the blank line is skipped
    check_ask(out[0], ON_TOPIC, k=2)
    check_ask(out[3], sleeper, k=2)
    assert out[3]["results"][0]["arxiv_id"] == "2401.05566"
    for row, line_no in ((out[1], 2), (out[2], 4), (out[4], 6)):
        assert set(row) == {"query", "error"}
        assert row["error"].startswith(f"{batch}:{line_no}: ")
        assert squash(row["error"]) in squash(run.stderr)
    assert "Traceback" not in run.stderr


@pytest.mark.parametrize("source", ["file", "stdin"])
def test_cite_batch(invoke: Callable[..., Result], tmp_path: Path, source: str) -> None:
    lines = ['{"query": "Jacovi & Goldberg"}', '{"query": "Turpin et al. 2023"', '{"query": "Turpin et al. 2023"}']
    text = "\n".join(lines) + "\n"
    if source == "file":
        batch = tmp_path / "refs.jsonl"
        batch.write_text(text, encoding="utf-8")
        result, name = invoke("cite", "--batch", str(batch), "--style", "acl"), str(batch)
    else:
        result, name = invoke("cite", "--batch", "-", "--style", "acl", stdin=text), "-"
    assert result.exit_code == 0, result.output
    out = [json.loads(line) for line in result.stdout.splitlines()]
    assert [o["query"] for o in out] == ["Jacovi & Goldberg", None, "Turpin et al. 2023"]
    assert out[0]["match"]["arxiv_id"] == "2004.03685" and out[2]["match"]["arxiv_id"] == "2305.04388"
    assert all(set(o) == CITE_KEYS and o["confident"] is True for o in (out[0], out[2]))
    assert out[0]["formatted"].startswith("Alon Jacovi and Yoav Goldberg. 2020.")  # --style applies to batches
    assert out[1] == {"query": None, "error": out[1]["error"]}
    assert out[1]["error"].startswith(f"{name}:2: ")
    assert squash(out[1]["error"]) in squash(result.stderr)


# --- threads ----------------------------------------------------------------------------------------

COT_THREAD = [
    {"author": "ana", "text": "Reasoning models now write long chains of thought before they answer."},
    {"author": "ben", "text": "But is the written chain of thought faithful to what the model actually computes?"},
    {"author": "cy", "text": "source?"},
]


def test_ask_with_context_answers_the_thread(invoke: Callable[..., Result], tmp_path: Path) -> None:
    thread = tmp_path / "thread.json"
    thread.write_text(json.dumps(COT_THREAD), encoding="utf-8")
    with_context = invoke("ask", "source?", "--context", str(thread), "--json")
    assert with_context.exit_code == 0, with_context.output
    result = json.loads(with_context.stdout)
    check_ask(result, "source?", k=5)
    assert result["confident"] is True
    titles = [w["title"].lower() for w in result["results"][:3]]
    assert all("faithful" in t or "chain-of-thought" in t for t in titles), titles
    # The same bare request without the thread has nothing to go on.
    alone = json.loads(invoke("ask", "source?", "--json").stdout)
    assert alone["confident"] is False
    assert alone["answer"].startswith("No paper in the knowledge base matches; closest: ")


THREAD_TEXT = (
    "Faithfulness vs plausibility is the distinction Jacovi & Goldberg made.\n\n"
    "Turpin's result is the classic one: https://arxiv.org/abs/2305.04388 shows biased CoT explanations.\n\n"
    "Models may also know things about themselves (eg 'Looking Inward')."
)
THREAD_IDS = ["2004.03685", "2305.04388", "2410.13787"]


def test_bibliography_of_a_plain_text_thread(kb: Path, tmp_path: Path) -> None:
    thread = tmp_path / "thread.txt"
    thread.write_text(THREAD_TEXT, encoding="utf-8")
    run = run_cli(["bibliography", str(thread)], kb)
    assert run.code == 0, run.stderr
    lines = [line for line in run.stdout.splitlines() if line.startswith("[")]
    assert [line.split("]")[0] for line in lines] == ["[1", "[2", "[3"]
    assert lines[0].startswith("[1] Jacovi, A., & Goldberg, Y. (2020).")
    assert "Turpin, M." in lines[1] and "Binder, F. J." in lines[2]
    for line, arxiv_id in zip(lines, THREAD_IDS, strict=True):
        assert arxiv_id in line


def test_bibliography_json_of_a_json_thread(invoke: Callable[..., Result], tmp_path: Path) -> None:
    messages = [{"author": f"user{n}", "text": text} for n, text in enumerate(THREAD_TEXT.split("\n\n"))]
    thread = tmp_path / "thread.json"
    thread.write_text(json.dumps(messages), encoding="utf-8")
    result = invoke("bibliography", str(thread), "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert set(data) == {"entries", "unresolved", "export"}
    assert [e["work"]["arxiv_id"] for e in data["entries"]] == THREAD_IDS
    assert [e["author"] for e in data["entries"]] == ["user0", "user1", "user2"]
    assert data["entries"][0]["mention"] == "Jacovi & Goldberg"
    assert data["unresolved"] == []
    for entry in data["entries"]:
        assert set(entry) == {"mention", "author", "work", "formatted", "fetched"}
        check_work(entry["work"])
    bibtex = invoke("bibliography", str(thread), "--bibtex")
    library = bibtexparser.parse_string(bibtex.stdout)
    assert [e["eprint"] for e in library.entries] == THREAD_IDS
    for export_format in ("bibtex", "csl-json", "ris"):
        exported = invoke("bibliography", str(thread), "--format", export_format)
        assert exported.exit_code == 0, exported.output
        if export_format == "bibtex":
            keys = [e.key for e in bibtexparser.parse_string(exported.stdout).entries]
        elif export_format == "csl-json":
            keys = [item["id"] for item in json.loads(exported.stdout)]
        else:
            keys = [record["id"] for record in rispy.loads(exported.stdout)]
        assert keys == ["jacoviTowards2020", "turpinLanguage2023", "binderLooking2025"], export_format


def test_bibliography_of_ordinary_prose_lists_nothing(invoke: Callable[..., Result], tmp_path: Path) -> None:
    thread = tmp_path / "prose.txt"
    thread.write_text(
        "Thanks everyone for coming to the reading group on Tuesday! Sarah and Tom will bring snacks.\n\n"
        "I think the 'quick fix' we discussed is not worth it, and the paper we read was a bit long.\n\n"
        "Next week: deception, interpretability and the control agenda. See you in room 2.14 at 5pm.",
        encoding="utf-8",
    )
    text = invoke("bibliography", str(thread))
    assert text.exit_code == 0, text.output
    assert text.stdout.strip() == "No references found in the thread."
    data = json.loads(invoke("bibliography", str(thread), "--json").stdout)
    assert data["entries"] == []


# --- ingest -------------------------------------------------------------------------------------------


def paper(n: int, **extra: Any) -> dict[str, Any]:
    return {
        "id": f"test:cli-{n}",
        "title": f"Quokka Oversight Experiment Number {n} in Gridworlds",
        "authors": [f"Ada Tester{n}"],
        "year": 2024,
        "abstract": f"We measure scalable oversight of quokka agents, experiment {n}.",
        **extra,
    }


def test_ingest_reports_bad_lines_and_stores_the_rest(kb_copy: Path, tmp_path: Path) -> None:
    before = count_works(kb_copy)
    papers = write_jsonl(
        tmp_path / "papers.jsonl",
        [paper(1), '{"id": "test:broken", "title": ', paper(2), {"id": "test:untitled", "authors": []}, paper(1)],
    )
    run = run_cli(["ingest", str(papers)], kb_copy)
    assert run.code == 0, run.stderr
    stderr = squash(run.stderr)
    assert squash(f"{papers}:2: invalid JSON") in stderr
    assert squash(f"{papers}:4: missing title") in stderr
    assert not re.search(rf"{re.escape(str(papers))}:[135]:", stderr)
    assert run.summary() == {"read": 3, "new": 2, "merged": 0, "unchanged": 1, "embedded": 2, "bad": 2}
    assert count_works(kb_copy) == before + 2
    assert sql(kb_copy, "SELECT count(*) FROM work WHERE id IN ('test:cli-1', 'test:cli-2')") == 2
    assert count_embedded(kb_copy) == before + 2

    again = run_cli(["ingest", str(papers)], kb_copy)
    assert again.code == 0, again.stderr
    assert again.summary()["new"] == 0 and again.summary()["embedded"] == 0
    assert count_works(kb_copy) == before + 2


def test_error_lines_are_not_wrapped(invoke: Callable[..., Result], tmp_path: Path) -> None:
    # `FILE:LINE: reason` must stay on one line, whatever the path length, so that tools can parse it.
    long_dir = tmp_path / ("a-directory-name-long-enough-to-need-wrapping-" * 2)
    long_dir.mkdir()
    batch = write_jsonl(long_dir / "queries.jsonl", ["not json"])
    result = invoke("cite", "--batch", str(batch))
    assert result.stderr.splitlines()[0].startswith(f"{batch}:1: ")


def test_ingest_of_a_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    missing = tmp_path / "nope.jsonl"
    run = run_cli(["ingest", str(missing)], tmp_path / "kb")
    assert run.code == 2
    assert_clean_failure(run, f"{missing}: no such file")
    assert not (tmp_path / "kb").exists()  # nothing was created for a command that could not run


def test_ingest_of_an_unknown_format_is_a_clear_error(invoke: Callable[..., Result], tmp_path: Path) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_text("some notes, not papers\n", encoding="utf-8")
    sigterm = signal.getsignal(signal.SIGTERM)
    try:
        result = invoke("ingest", str(notes))
    finally:
        signal.signal(signal.SIGTERM, sigterm)  # `ingest` installs its own handler; keep pytest's
    assert_clean_failure(result, f"{notes}: unknown format")


# --- interrupt and resume -------------------------------------------------------------------------------

DISTINCT = 600  # works in the big file
# Each work appears on this many consecutive lines (mirrors of one paper): 9000 lines, so reading takes a few
# seconds, long enough to be interrupted on a fast machine, while embedding stays at 600 works.
COPIES = 15
TOPIC_WORDS = ("reward", "model", "oversight", "debate", "probe", "circuit", "steering", "honesty", "agent", "policy")


def big_file(path: Path) -> list[str]:
    """Synthetic records: every work repeated by several 'mirrors', so new works arrive in every batch."""
    ids = []
    with path.open("w", encoding="utf-8") as handle:
        for n in range(DISTINCT):
            topic = " ".join(TOPIC_WORDS[(n * k) % len(TOPIC_WORDS)] for k in (1, 3, 7))
            record = {
                "id": f"synthetic:{n}",
                "title": f"Synthetic study {n} of {topic}",
                "authors": [f"Author {n}"],
                "year": 2000 + n % 25,
            }
            for copy in range(COPIES):
                handle.write(json.dumps({**record, "source": f"mirror-{copy}"}) + "\n")
                ids.append(record["id"])
    return ids


def wait_for(condition: Callable[[], bool], proc: subprocess.Popen[bytes], timeout: float) -> None:
    """Poll until `condition` holds; fail if the process exits first or time runs out."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, "ingest finished before it could be interrupted"
        try:
            if condition():
                return
        except DBAPIError:
            pass  # the database is being created or is briefly locked: look again
        time.sleep(0.02)
    raise AssertionError(f"condition not reached in {timeout}s")


def checkpoint(data_dir: Path, path: Path) -> tuple[int, bool]:
    engine = create_engine(make_settings(data_dir).sqlalchemy_url, poolclass=NullPool)
    with engine.connect() as connection:
        row = connection.execute(
            text("SELECT lines_done, complete FROM ingestcheckpoint WHERE source = :source"),
            {"source": str(path.resolve())},
        ).first()
    assert row is not None, "no checkpoint stored"
    return int(row[0]), bool(row[1])


@pytest.mark.parametrize(
    ("sig", "phase"),
    [
        (signal.SIGINT, "records"),
        (signal.SIGTERM, "vectors"),
        (signal.SIGKILL, "records"),
        (signal.SIGKILL, "vectors"),
    ],
    ids=["ctrl-c-while-reading", "kill-while-embedding", "kill-9-while-reading", "kill-9-while-embedding"],
)
def test_interrupted_ingest_resumes_without_losing_or_duplicating(
    kb_copy: Path, tmp_path: Path, sig: signal.Signals, phase: str
) -> None:
    if sig != signal.SIGKILL and BACKENDS.postgres is not None:
        # Signal handling does not depend on the stores; what a crash leaves behind does: on the production
        # stores only kill -9 is run, which keeps the second pass of `.ci/run` within its time.
        pytest.skip("graceful interrupts are covered by the SQLite pass")
    big = tmp_path / "big.jsonl"
    ids = big_file(big)
    base = count_works(kb_copy)
    # Short inputs keep embedding 600 works affordable on a busy machine; the phases are unchanged.
    env = cli_env(kb_copy, ALIGNBOT_EMBEDDING_MAX_TOKENS="16")
    with (tmp_path / "run1.err").open("w+") as err:
        proc = subprocess.Popen(
            [*alignbot_command(), "ingest", str(big)],
            stdout=subprocess.DEVNULL,
            stderr=err,
            env=env,
            cwd=tmp_path,
            # A shell without job control starts background commands with SIGINT ignored; undo that for the child.
            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
        )
        try:
            if phase == "records":
                wait_for(lambda: count_works(kb_copy) > base, proc, timeout=300)
            else:
                wait_for(lambda: count_embedded(kb_copy) > base, proc, timeout=300)
            proc.send_signal(sig)
            code = proc.wait(timeout=180)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        err.seek(0)
        first = Run(code, "", err.read())
    if sig == signal.SIGKILL:  # no handler runs: whatever was mid-transaction is rolled back by the database
        assert first.code == -signal.SIGKILL
    else:
        assert first.code == 130, first.stderr
        assert "interrupted" in first.stderr and "Traceback" not in first.stderr

    lines_done, complete = checkpoint(kb_copy, big)
    stored = count_works(kb_copy)
    embedded = count_embedded(kb_copy)
    if phase == "records":
        assert not complete and 0 < lines_done < len(ids)
        # A batch and its checkpoint are one transaction: exactly the works of the lines done are stored.
        assert stored == base + len(set(ids[:lines_done]))
    else:
        assert complete and lines_done == len(ids)
        assert stored == base + DISTINCT
        assert base < embedded < base + DISTINCT

    second = subprocess.run(
        [*alignbot_command(), "ingest", str(big)], capture_output=True, text=True, env=env, cwd=tmp_path, timeout=900
    )
    resumed = Run(second.returncode, second.stdout, second.stderr)
    assert resumed.code == 0, resumed.stderr
    summary = resumed.summary()
    # Resumed, not restarted: only the lines after the checkpoint are read, no stored vector is computed again.
    # (`embedded` can be lower than what was missing: opening the engine already embeds pending works, see
    # test_read_only_commands_leave_pending_embedding_to_ingest.)
    assert summary["read"] == len(ids) - lines_done
    assert summary["embedded"] <= base + DISTINCT - embedded
    assert summary["bad"] == 0
    assert count_works(kb_copy) == base + DISTINCT
    assert sql(kb_copy, "SELECT count(DISTINCT id) FROM work WHERE id LIKE 'synthetic:%'") == DISTINCT
    assert sql(kb_copy, "SELECT count(*) FROM work WHERE id LIKE '%#%'") == 0  # no work split in two
    assert count_embedded(kb_copy) == base + DISTINCT
    assert sql(kb_copy, "SELECT count(*) FROM workkey WHERE key LIKE 'id:synthetic:%'") == DISTINCT
    sources = sql(kb_copy, "SELECT sources FROM work WHERE id = 'synthetic:0'")
    sources = json.loads(sources) if isinstance(sources, str) else sources  # SQLite keeps JSON as text
    assert sources == [f"mirror-{c}" for c in range(COPIES)]  # every mirror merged into the one work
    settings = make_settings(kb_copy)
    vectors = ChromaVectorStore.open(
        path=settings.chroma_path,
        host=settings.chroma_host,
        port=settings.chroma_port,
        collection=settings.chroma_collection,
        embedding_name="minilm",
    ).count()
    assert vectors == base + DISTINCT


def test_read_only_commands_leave_pending_embedding_to_ingest(
    kb_copy: Path, tmp_path: Path, embedder: Embedder
) -> None:
    # The state an ingest interrupted while embedding leaves: records stored, vectors missing.
    engine = Engine.open(make_settings(kb_copy), embedder=embedder)
    try:
        report = engine.ingest([write_jsonl(tmp_path / "papers.jsonl", [paper(n) for n in range(10)])], embed=False)
    finally:
        engine.close()
    assert report.added == 10
    pending = count_works(kb_copy) - count_embedded(kb_copy)
    assert pending == 10
    run = run_cli(["ask", ON_TOPIC, "--json"], kb_copy)
    assert run.code == 0, run.stderr
    # `ask` answers from what is there (lexical search covers the new works); embedding is `alignbot ingest`'s job.
    assert count_works(kb_copy) - count_embedded(kb_copy) == pending


# --- user errors --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["ask", ""], "the question is empty"),
        (["ask"], "give a QUESTION or --batch FILE (one of them)"),
        (["ask", "source?", "--context", "{thread}"], "{thread}: thread JSON is invalid at line 2 column"),
    ],
    ids=["empty-question", "no-question", "bad-context-json"],
)
def test_user_errors_are_clear_messages(kb: Path, tmp_path: Path, args: list[str], message: str) -> None:
    thread = tmp_path / "thread.json"
    thread.write_text('[{"author": "ana",\n  "text": "unterminated}]', encoding="utf-8")
    run = run_cli([a.format(thread=thread) for a in args], kb)
    assert_clean_failure(run, message.format(thread=thread))


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["cite", ""], "the reference is empty"),
        (["cite", "x", "--batch", "q.jsonl"], "give a REFERENCE or --batch FILE (one of them)"),
        (["bibliography", "missing.txt"], "missing.txt: no such file"),
        (["ask", "q", "--context", "missing.json"], "missing.json: no such file"),
    ],
)
def test_more_user_errors_in_process(invoke: Callable[..., Result], args: list[str], message: str) -> None:
    assert_clean_failure(invoke(*args), message)

"""The architecture, measured: the import contracts in pyproject.toml (import-linter), no import cycles (grimp,
the import graph import-linter is built on) and no module too large to read in one sitting."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import grimp
import pytest

import bot

REPO = Path(__file__).resolve().parents[1]
LARGEST_MODULE_LINES = 400


@pytest.fixture(scope="module")
def graph() -> grimp.ImportGraph:
    assert Path(bot.__file__).resolve().is_relative_to(REPO), "the graph must be of this checkout's `bot`"
    return grimp.build_graph("bot", cache_dir=None, exclude_type_checking_imports=True)


# Imports under `if TYPE_CHECKING:` are for annotations only: they never run, so they close no cycle.
def import_cycles(graph: grimp.ImportGraph) -> list[tuple[str, ...]]:
    """One shortest cycle per set of modules that import each other (imports inside functions count too)."""
    cycles: dict[frozenset[str], tuple[str, ...]] = {}
    for module in sorted(graph.modules):
        for imported in sorted(graph.find_modules_directly_imported_by(module)):
            back = graph.find_shortest_chain(importer=imported, imported=module)
            if back is not None:
                cycles.setdefault(frozenset(back), (module, *back))
    return sorted(cycles.values())


def module_lines() -> dict[str, int]:
    return {
        str(path.relative_to(REPO)): len(path.read_text(encoding="utf-8").splitlines())
        for path in (REPO / "bot").rglob("*.py")
    }


def test_the_import_contracts_are_kept() -> None:
    beside = Path(sys.executable).parent / "lint-imports"  # the command import-linter installs
    command = str(beside) if beside.is_file() else shutil.which("lint-imports")
    assert command is not None, "import-linter is not installed (pip install -e '.[test]')"
    run = subprocess.run(
        [command, str(REPO / "pyproject.toml"), "--no-cache", "--no-logo"],
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},  # this checkout's `bot`, not an installed one
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, (run.stdout + run.stderr)[-4000:]
    assert "0 broken" in run.stdout


def test_import_cycles_finds_a_cycle_it_is_given() -> None:
    # A graph of its own: this one gets an import added.
    graph = grimp.build_graph("bot", cache_dir=None, exclude_type_checking_imports=True)
    before = import_cycles(graph)
    graph.add_import(importer="bot.storage.database", imported="bot.engine")  # engine -> storage already
    found = [cycle for cycle in import_cycles(graph) if cycle not in before]
    assert found and all("bot.storage.database" in cycle and "bot.engine" in cycle for cycle in found)


def test_no_import_cycles(graph: grimp.ImportGraph) -> None:
    cycles = import_cycles(graph)
    assert cycles == [], "\n".join(" -> ".join(cycle) for cycle in cycles)


def test_the_largest_module_is_under_400_lines() -> None:
    lines = module_lines()
    too_long = {path: count for path, count in sorted(lines.items()) if count >= LARGEST_MODULE_LINES}
    assert too_long == {}, f"largest: {max(lines.items(), key=lambda item: item[1])}"

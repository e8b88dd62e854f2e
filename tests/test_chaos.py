"""The chaos run of bench/chaos.py, shortened: four processes on one knowledge base (two overlapping ingests, the
HTTP app taking POST /v1/papers, a reader), two writers killed with SIGKILL, on the run's backends."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

from tests.backends import Backends

BENCH = Path(__file__).resolve().parent.parent / "bench" / "chaos.py"


def load_chaos():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("chaos", BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["chaos"] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def test_killed_writers_leave_every_work_stored_once_with_one_vector(backends: Backends, tmp_path: Path) -> None:
    chaos = load_chaos()
    env = backends.env(tmp_path / "kb")
    result = chaos.run(env=env, duration=30.0, kills=2, records=40, work_dir=tmp_path, seed=2)
    assert result["failures"] == [], result
    assert len(result["killed"]) == 2
    assert result["posted"] > 0 and result["reader_asked"] > 0  # the app took writes, the reader read
    assert result["works"] == result["vectors"] >= 60  # both files (40 + 40, 20 shared) and the posts

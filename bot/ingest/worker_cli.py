"""`alignbot worker`: the knowledge base's background embedding worker as its own process (`serve` runs one too)."""

from __future__ import annotations

import signal
import threading
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from bot.engine import Engine
from bot.processes import Background, exit_now
from bot.settings import Settings

err = Console(stderr=True, soft_wrap=True)


def register(app: typer.Typer) -> None:
    @app.command()
    def worker(
        data_dir: Annotated[
            Path | None, typer.Option("--data-dir", help="Knowledge-base directory [env: ALIGNBOT_DATA_DIR]")
        ] = None,
    ) -> None:
        """Embed pending vectors in the background until SIGTERM or Ctrl-C. One process per knowledge base
        works at a time (the others stand by); each beats a heartbeat shown by `alignbot status`."""
        stop = threading.Event()

        def handler(_signum: int, _frame: Any) -> None:
            stop.set()
            deadline = threading.Timer(1.0, exit_now, args=(0,))  # a clean stop takes less; never more than 2 s
            deadline.daemon = True
            deadline.start()

        previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGTERM, signal.SIGINT)}
        engine = Engine.open(Settings.load(data_dir))
        background = Background(engine, "worker").start()
        err.print("embedding worker running; SIGTERM or Ctrl-C stops it", highlight=False)
        try:
            while not stop.wait(0.5):
                pass
        finally:
            stopped = background.stop()
            engine.close()
            for sig, old in previous.items():
                signal.signal(sig, old)
        assert background.worker is not None
        err.print(f"stopped; {background.worker.embedded} works embedded", highlight=False)
        if not stopped:
            exit_now(0)  # within 2 s, not when the batch being encoded would have ended

"""`alignbot worker`: the knowledge base's background embedding worker as its own process (`serve` runs one too)."""

from __future__ import annotations

import signal
import threading
from typing import Any

import typer

from bot.cli_common import DataDir, close_services, err, open_services
from bot.processes import Background, exit_now


def register(app: typer.Typer) -> None:
    @app.command()
    def worker(data_dir: DataDir = None) -> None:
        """Embed pending vectors in the background until SIGTERM or Ctrl-C. One process per knowledge base
        works at a time (the others stand by); each beats a heartbeat shown by `alignbot status`."""
        stop = threading.Event()

        def handler(_signum: int, _frame: Any) -> None:
            stop.set()
            deadline = threading.Timer(1.0, exit_now, args=(0,))  # a clean stop takes less; never more than 2 s
            deadline.daemon = True
            deadline.start()

        previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGTERM, signal.SIGINT)}
        background = Background(open_services(data_dir, progress=False).engine, "worker").start()
        err.print("embedding worker running; SIGTERM or Ctrl-C stops it", highlight=False)
        try:
            while not stop.wait(0.5):
                pass
        finally:
            stopped = background.stop()
            close_services()
            for sig, old in previous.items():
                signal.signal(sig, old)
        assert background.worker is not None
        err.print(f"stopped; {background.worker.embedded} works embedded", highlight=False)
        if not stopped:
            exit_now(0)  # within 2 s, not when the batch being encoded would have ended

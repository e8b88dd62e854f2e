"""Optional stacks (`pip install 'alignbot[discord]'` …): a front end whose extra is missing says which to install."""

from __future__ import annotations

import importlib.util
import sys

# extra -> the modules it provides that its front end imports
EXTRAS: dict[str, tuple[str, ...]] = {
    "discord": ("discord",),
    "reddit": ("praw",),
    "http": ("fastapi", "uvicorn", "jinja2", "multipart"),
    "llm": ("langchain_core",),
    "torch": ("torch", "sentence_transformers"),
}


class MissingExtra(RuntimeError):
    pass


def require(extra: str) -> None:
    """Raise MissingExtra naming the pip command when a module of `extra` is not installed."""
    missing = [name for name in EXTRAS[extra] if importlib.util.find_spec(name) is None]
    if missing:
        raise MissingExtra(
            f"this needs the {extra!r} extra ({', '.join(missing)} not installed): pip install 'alignbot[{extra}]'"
        )


def require_for_command(extra: str) -> None:
    """`require` for a command line: the message on stderr and exit status 2 instead of a traceback."""
    try:
        require(extra)
    except MissingExtra as exc:
        print(f"error: {exc}", file=sys.stderr)
        raise SystemExit(2) from None

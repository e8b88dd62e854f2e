"""Answers to requests in comment threads: the engine's result for a request, as a Reddit comment."""

from __future__ import annotations

from bot.domain import Message
from bot.engine import Engine
from bot.reddit import render
from bot.reddit.commands import Request
from bot.reddit.config import RedditSettings


def compose_answer(
    engine: Engine, settings: RedditSettings, request: Request, context: list[Message], footer: str
) -> tuple[str, str]:
    """(reply body, a short summary for the log)."""
    if request.kind == "cite" and request.text:
        cited = engine.cite(request.text, style=settings.cite_style, context=context)
        summary = "confident match" if cited.confident else "no confident match"
        return render.render_cite(cited, settings.cite_style, footer), summary
    if request.kind in ("cite", "bibliography"):
        # A bare "!cite" cites what the comment replies to; "!bibliography" the whole thread above it.
        thread = context if request.kind == "bibliography" else context[-1:]
        bibliography = engine.bibliography(thread, style=settings.cite_style)
        summary = count(len(bibliography.entries), "work")
        return render.render_bibliography(bibliography, settings.cite_style, footer), summary
    asked = engine.ask(request.text, k=settings.results, context=context)
    summary = f"{count(len(asked.results), 'work')}, {'confident' if asked.confident else 'no confident match'}"
    return render.render_ask(asked, footer), summary


def count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"

"""Answers: composed from retrieved abstracts, or synthesized by an optional LLM whose citations are checked.

The LLM sees the retrieved works as numbered, quoted data, and other people's thread messages as quoted,
attributed data. Whatever it writes passes the strict filter of `bot.answer_filter`: only citations of
those numbers and links to those works survive, and mentions are stripped. If the provider is missing,
slow or failing, the composed answer is used instead.
"""

from __future__ import annotations

import html
import logging
import re
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from pathlib import Path
from typing import Any

from bot.answer_filter import cited_numbers, filter_answer
from bot.citations import short_citation
from bot.domain import Message, RankedWork
from bot.settings import Settings

log = logging.getLogger(__name__)

_TAG = re.compile(r"</?\s*(?:source|message|thread)[^>]*>", re.IGNORECASE)
THREAD_MESSAGES = 10  # the most recent messages quoted in the prompt
MESSAGE_CHARS = 600
RERANK_CANDIDATES = 20  # how many retrieved works the model may reorder
RERANK_CHARS = 300  # of each work's abstract shown for reranking
_NUMBER = re.compile(r"\d+")


def composed_answer(question: str, results: list[RankedWork], confident: bool) -> str:
    """An answer built from the results alone: no model, no invention."""
    if not results:
        return "No paper in the knowledge base matches."
    if not confident:
        closest = "; ".join(f"{w.title} ({short_citation(w)})" for w in results[:3])
        return f"No paper in the knowledge base matches; closest: {closest}."
    top = results[0]
    answer = f'Closest related work: "{top.title}" ({short_citation(top)}) [1]'
    answer += f": {top.reason}" if top.reason else "."
    others = [f"[{n}] {short_citation(w)}" for n, w in enumerate(results[1:4], start=2)]
    if others:
        answer += " See also " + ", ".join(others) + "."
    return answer


def format_sources(results: list[RankedWork], descriptions: list[str]) -> str:
    blocks = []
    for n, (work, text) in enumerate(zip(results, descriptions, strict=True), start=1):
        # Quoted data must not be able to close its block or forge another one.
        body = _TAG.sub(" ", text)[:1200]
        title = html.escape(_TAG.sub(" ", work.title), quote=True)
        cite = html.escape(short_citation(work), quote=True)
        blocks.append(f'<source n="{n}" title="{title}" cite="{cite}">\n{body}\n</source>')
    return "\n".join(blocks)


def format_thread(context: Sequence[Message | str]) -> str:
    """Other people's recent messages as quoted data, each attributed, none able to close its block."""
    blocks = []
    for message in list(context)[-THREAD_MESSAGES:]:
        author, text = (message.author, message.text) if isinstance(message, Message) else (None, message)
        body = _TAG.sub(" ", text)[:MESSAGE_CHARS]
        who = html.escape(_TAG.sub(" ", author or "unknown"), quote=True)
        blocks.append(f'<message author="{who}">\n{body}\n</message>')
    return "\n".join(blocks) or "(none)"


def parse_ranking(reply: str, count: int) -> list[int] | None:
    """Positions 0..count-1 in the order the model's reply lists them ("3, 1, 2"), the unlisted after in
    their retrieval order; None if the reply names none of them. Numbers outside 1..count are ignored,
    so the model can reorder the works retrieval returned but never add one."""
    listed = [n - 1 for n in dict.fromkeys(int(x) for x in _NUMBER.findall(reply)) if 1 <= n <= count]
    if not listed:
        return None
    return listed + [i for i in range(count) if i not in listed]


class LLMAnswerer:
    """A langchain chat model chosen by settings (openai, anthropic, ollama)."""

    def __init__(self, settings: Settings, chat_model: Any | None = None) -> None:
        self.settings = settings
        self.template = Path(settings.prompts_dir, "answer.md").read_text(encoding="utf-8")
        self.rerank_template = Path(settings.prompts_dir, "rerank.md").read_text(encoding="utf-8")
        self.model = chat_model or self._make_model(settings)
        self._pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="llm")

    @staticmethod
    def _make_model(settings: Settings) -> Any:
        from langchain.chat_models import init_chat_model

        kwargs: dict[str, Any] = {"timeout": settings.llm.timeout_seconds, "max_retries": 0, "temperature": 0}
        if settings.llm.base_url:
            kwargs["base_url"] = settings.llm.base_url
        default_models = {"openai": "gpt-4o-mini", "anthropic": "claude-3-5-haiku-latest", "ollama": "llama3.1"}
        model = settings.llm.model or default_models.get(settings.llm.provider or "", "")
        return init_chat_model(model, model_provider=settings.llm.provider, **kwargs)

    def _invoke(self, prompt: str, deadline: float | None, purpose: str) -> str | None:
        """The model's reply, or None (logged) when it fails or is not back by the deadline."""
        timeout = self.settings.llm.timeout_seconds
        if deadline is not None:
            timeout = min(timeout, deadline - time.monotonic())
        if timeout <= 0:
            log.warning("no time left for the LLM %s; skipped", purpose)
            return None
        future = self._pool.submit(self.model.invoke, prompt)
        try:
            message = future.result(timeout=timeout)
        except FutureTimeout:
            future.cancel()
            log.warning("LLM %s timed out after %.1fs; falling back", purpose, timeout)
            return None
        except Exception as exc:  # any provider error falls back; the user still gets an answer
            log.warning("LLM %s failed (%s); falling back", purpose, exc)
            return None
        return message.content if isinstance(message.content, str) else str(message.content)

    def rerank(
        self,
        question: str,
        results: list[RankedWork],
        descriptions: list[str],
        deadline: float | None = None,
        pinned: int = 0,
    ) -> list[RankedWork]:
        """The results with the first RERANK_CANDIDATES after the `pinned` ones (exact id matches) in the
        model's order of relevance; unchanged when the provider fails, is too slow, or lists none of them."""
        end = min(len(results), pinned + RERANK_CANDIDATES)
        if end - pinned < 2:
            return results
        prompt = self.rerank_template.format(
            question=" ".join(_TAG.sub(" ", question).split()),
            sources=format_sources(results[pinned:end], [d[:RERANK_CHARS] for d in descriptions[pinned:end]]),
            count=end - pinned,
        )
        reply = self._invoke(prompt, deadline, "rerank")
        order = parse_ranking(reply, end - pinned) if reply is not None else None
        if order is None:
            return results
        return [*results[:pinned], *(results[pinned + i] for i in order), *results[end:]]

    def answer(
        self,
        question: str,
        results: list[RankedWork],
        descriptions: list[str],
        context: Sequence[Message | str] = (),
        deadline: float | None = None,
    ) -> str | None:
        """The filtered LLM answer, or None when the provider fails, is too slow, or cites nothing valid.

        Only the asker's own words go on the question line; the thread they refer to is quoted data.
        `deadline` (time.monotonic()) shares one timeout between a rerank and the answer."""
        prompt = self.template.format(
            question=" ".join(_TAG.sub(" ", question).split()),
            thread=format_thread(context),
            sources=format_sources(results, descriptions),
        )
        content = self._invoke(prompt, deadline, "answer")
        if content is None:
            return None
        checked = filter_answer(content, results)
        return checked if cited_numbers(checked) else None

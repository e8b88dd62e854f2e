"""`/paper add` through the real command tree, over a real engine whose metadata APIs are faked on the
loopback interface; only Discord is a mock."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import discord
import pytest

from bot.discord import create_bot
from bot.embedding import Embedder
from bot.engine import Engine
from tests.conftest import make_settings
from tests.discord.conftest import MOD_CHANNEL, discord_settings
from tests.discord.helpers import (
    ephemeral_text,
    invoke,
    invoke_subcommand,
    make_channel,
    make_interaction,
    make_member,
    moderator_permissions,
    run,
    sent_kwargs,
)
from tests.metadata.conftest import snapshot
from tests.metadata.fakes import HTML_PAGE, FakeApis


@pytest.fixture
def paper_engine(tmp_path: Path, embedder: Embedder, apis: FakeApis) -> Iterator[Engine]:
    settings = make_settings(tmp_path / "kb", load_bundled_knowledge=False, **apis.settings(metadata_retries=0))
    engine = Engine.open(settings, embedder=embedder)
    yield engine
    engine.close()


@pytest.fixture
def bot(paper_engine: Engine) -> Iterator[Any]:
    bot = create_bot(discord_settings(), engine=paper_engine)
    yield bot
    bot.executor.shutdown(wait=True)


def as_moderator(bot: Any, **kwargs: Any) -> Any:
    return make_interaction(bot, user=make_member("mod"), permissions=moderator_permissions(), **kwargs)


def test_the_command_is_a_group_on_the_tree(bot: Any) -> None:
    group = bot.tree.get_command("paper")
    assert isinstance(group, discord.app_commands.Group) and group.guild_only
    add = group.get_command("add")
    payload = group.to_dict(bot.tree)  # what `tree.sync()` sends
    [add_payload] = payload["options"]
    [reference, source] = add_payload["options"]
    assert (add_payload["name"], reference["name"], reference["required"], reference["max_length"]) == (
        "add",
        "reference",
        True,
        300,
    )
    assert [c["value"] for c in source["choices"]] == ["arxiv", "s2", "openalex"] and not source["required"]
    assert all(len(o["description"]) <= 100 for o in (add_payload, reference, source))
    assert add.binding is not None  # the cog: its moderator check applies


def test_a_moderator_adds_a_paper_by_arxiv_id(bot: Any, paper_engine: Engine, apis: FakeApis) -> None:
    interaction = as_moderator(bot)
    run(invoke_subcommand(bot, interaction, "paper", "add", reference="https://arxiv.org/abs/2305.04388v2"))
    interaction.response.defer.assert_awaited_once_with(ephemeral=True, thinking=True)  # not the moderator channel
    embed = sent_kwargs(interaction)["embed"]
    assert embed.title == "Added 1 paper"
    assert "Language Models Don't Always Say What They Think" in embed.description
    assert "Added to the knowledge base" in embed.description and embed.footer.text == "From arXiv"
    assert [r.api for r in apis.requests] == ["arxiv"] and paper_engine.db.count_works() == 1
    again = as_moderator(bot, channel=make_channel("mod-queue", channel_id=MOD_CHANNEL))
    run(invoke_subcommand(bot, again, "paper", "add", reference="2305.04388", source="s2"))
    again.response.defer.assert_awaited_once_with(ephemeral=False, thinking=True)  # the team sees it there
    embed = sent_kwargs(again)["embed"]
    assert embed.title == "Nothing new to add" and "Already in the knowledge base" in embed.description
    assert embed.footer.text == "Found in the knowledge base; no request made"
    assert len(apis.requests) == 1 and paper_engine.db.count_works() == 1


def test_a_search_with_another_source(bot: Any, paper_engine: Engine, apis: FakeApis) -> None:
    interaction = as_moderator(bot)
    run(invoke_subcommand(bot, interaction, "paper", "add", reference="stochastic parrots", source="openalex"))
    embed = sent_kwargs(interaction)["embed"]
    assert "On the Dangers of Stochastic Parrots" in embed.description and embed.footer.text == "From OpenAlex"
    assert apis.to("openalex")[0].query["per_page"] == "1" and paper_engine.db.count_works() == 1


def test_members_are_refused_before_any_request(bot: Any, paper_engine: Engine, apis: FakeApis) -> None:
    interaction = make_interaction(bot, user=make_member("eve"))
    run(invoke_subcommand(bot, interaction, "paper", "add", reference="2305.04388"))
    assert ephemeral_text(interaction).startswith("Sorry, this is a moderator command")
    assert not apis.requests and paper_engine.db.count_works() == 0


def test_a_reference_the_source_cannot_look_up(bot: Any, apis: FakeApis) -> None:
    interaction = as_moderator(bot)
    run(invoke_subcommand(bot, interaction, "paper", "add", reference="10.1145/3442188.3445922", source="arxiv"))
    interaction.response.defer.assert_not_awaited()
    assert ephemeral_text(interaction) == (
        "arXiv looks papers up by arXiv id, not by DOI: use the s2 or openalex source for a DOI."
    )
    assert not apis.requests


def test_nothing_found(bot: Any) -> None:
    interaction = as_moderator(bot)
    run(invoke_subcommand(bot, interaction, "paper", "add", reference="2501.99999"))
    embed = sent_kwargs(interaction)["embed"]
    assert (embed.title, embed.description) == ("Nothing added", "arXiv has no paper 2501.99999.")


def test_a_failing_api_is_a_private_message_and_stores_nothing(bot: Any, paper_engine: Engine, apis: FakeApis) -> None:
    stored = snapshot(paper_engine)
    apis.script = [HTML_PAGE]
    interaction = as_moderator(bot)
    run(invoke_subcommand(bot, interaction, "paper", "add", reference="stochastic parrots"))
    assert ephemeral_text(interaction) == (
        "I couldn't add that paper. Semantic Scholar: sent an HTML page instead of JSON (an outage or a proxy "
        "page?). Nothing was stored; please try again later."
    )
    assert snapshot(paper_engine) == stored


def test_questions_are_answered_while_an_api_hangs(bot: Any, paper_engine: Engine, apis: FakeApis) -> None:
    paper_engine.settings.metadata.read_timeout_seconds = 2.0
    paper_engine.ingest_records(
        [{"id": "arxiv:2401.05566", "title": "Sleeper Agents: Training Deceptive LLMs", "authors": ["Evan Hubinger"]}]
    )
    apis.script = ["hang"]
    adding, asking = as_moderator(bot), make_interaction(bot)

    async def both() -> None:
        paper = asyncio.create_task(invoke_subcommand(bot, adding, "paper", "add", reference="2305.04388"))
        while not apis.requests:  # the fetch is waiting on the hanging API
            await asyncio.sleep(0.01)
        await invoke(bot, asking, "cite", reference="Sleeper Agents")
        assert not paper.done()
        await paper

    run(both())
    assert sent_kwargs(asking)["embed"].title.startswith("Sleeper Agents")
    [(_, cited_at)] = [e for e in asking.events if e[0] == "followup"]
    deferred_at = max(t for name, t in adding.events if name == "defer")
    assert cited_at - deferred_at < 1.5  # answered while the API hung (it hangs for 2 s)
    assert ephemeral_text(adding).startswith("I couldn't add that paper. arXiv: did not answer within 2 s")

"""Members' commands through the real command tree, over the real engine; only Discord is faked."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from typing import Any
from unittest.mock import create_autospec

import discord
import pytest
import rispy

from bot.citations import Style
from bot.discord.cogs.research import SuggestionList, build_suggestions, match_suggestions
from bot.discord.views import PagesView
from bot.engine import Engine
from bot.storage import Database
from tests.conftest import OpenEngine
from tests.discord.conftest import REPLY_CHANNEL
from tests.discord.helpers import (
    autocomplete,
    ephemeral_text,
    exported_text,
    invoke,
    invoke_menu,
    make_channel,
    make_client_user,
    make_forum,
    make_interaction,
    make_member,
    make_message,
    make_role,
    make_thread,
    run,
    sent_kwargs,
    slow,
)

COT_QUESTION = "Is chain-of-thought reasoning faithful to how the model actually reaches its answer?"
COT_CONTEXT = (
    "I keep wondering whether chain-of-thought explanations from language models actually reflect the "
    "computation behind their answers, or are just plausible stories written after the fact."
)


def titles(embed: discord.Embed) -> str:
    return embed.description or ""


# --- the tree ---------------------------------------------------------------------------------------


def test_every_command_is_on_the_tree_and_serialises(make_bot: Any) -> None:
    bot = make_bot()
    slash = {c.name for c in bot.tree.get_commands(type=discord.AppCommandType.chat_input)}
    assert slash == {"related", "cite", "bibliography", "check", "audit", "citedby", "paper"}
    menus = {c.name for c in bot.tree.get_commands(type=discord.AppCommandType.message)}
    assert menus == {"Find related work", "Cite papers mentioned", "Check submission"}
    for command in bot.tree.get_commands():
        payload = command.to_dict(bot.tree)  # what `tree.sync()` sends: must build without errors
        assert 1 <= len(payload["name"]) <= 32
        if isinstance(command, discord.app_commands.Command):
            assert 1 <= len(command.description) <= 100
            assert all(len(p.description) <= 100 for p in command.parameters)
    cite = bot.tree.get_command("cite")
    [reference, style] = cite.parameters
    assert reference.autocomplete is not None
    assert [c.name for c in style.choices] == ["APA", "ACL", "BibTeX"]


def test_sharded_bot_when_configured(make_bot: Any) -> None:
    bot = make_bot(sharded=True, shard_count=2)
    assert isinstance(bot, discord.AutoShardedClient)
    assert bot.shard_count == 2
    assert bot.tree.get_command("related") is not None


def test_commands_sync_to_dev_guilds_or_globally(make_bot: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[Any] = []

    async def fake_sync(*, guild: Any = None) -> list[Any]:
        calls.append(guild.id if guild else None)
        return []

    dev = make_bot(dev_guilds=[11, 12])
    monkeypatch.setattr(dev.tree, "sync", fake_sync)
    run(dev.sync_commands())
    assert calls == [11, 12]
    assert {c.name for c in dev.tree.get_commands(guild=discord.Object(11))} >= {"related", "cite"}
    calls.clear()
    prod = make_bot()
    monkeypatch.setattr(prod.tree, "sync", fake_sync)
    run(prod.sync_commands())
    assert calls == [None]


# --- /related ---------------------------------------------------------------------------------------


def test_related_answers_in_the_channel_with_pages_and_bibtex(make_bot: Any) -> None:
    bot = make_bot()
    interaction = make_interaction(bot)
    run(invoke(bot, interaction, "related", question=COT_QUESTION))

    interaction.response.defer.assert_awaited_once_with(ephemeral=False, thinking=True)
    kwargs = sent_kwargs(interaction)
    assert kwargs["allowed_mentions"].to_dict() == {"parse": []}  # never pings anyone
    embed = kwargs["embed"]
    assert embed.title.startswith("Related work: Is chain-of-thought")
    assert "Faithful" in titles(embed)
    assert "**1.** [" in titles(embed) and "↳ " in titles(embed)
    assert embed.footer.text.startswith("Page 1/")
    view = kwargs["view"]
    assert isinstance(view, PagesView)
    assert [item.label for item in view.children] == ["Previous", "Next", "BibTeX", "RIS", "CSL-JSON"]
    assert view.previous.disabled and not view.next.disabled


def test_related_defers_before_slow_retrieval_and_keeps_the_loop_free(
    make_bot: Any, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    bot = make_bot()
    interaction = make_interaction(bot)
    monkeypatch.setattr(engine, "ask", slow(engine.ask, 0.5, interaction.events))

    async def scenario() -> int:
        ticks = 0
        done = asyncio.Event()

        async def ticker() -> None:
            nonlocal ticks
            while not done.is_set():
                ticks += 1
                await asyncio.sleep(0.01)

        task = asyncio.create_task(ticker())
        started = time.monotonic()
        interaction.events.append(("invoked", started))
        await invoke(bot, interaction, "related", question=COT_QUESTION)
        done.set()
        await task
        return ticks

    ticks = run(scenario())
    order = [name for name, _ in interaction.events]
    assert order == ["invoked", "defer", "engine start", "engine end", "followup"]
    at = dict(interaction.events)
    assert at["defer"] - at["invoked"] < 0.2  # acknowledged well inside Discord's 3 seconds
    assert at["engine end"] - at["engine start"] >= 0.5
    assert ticks >= 20  # the event loop kept running while the engine worked in a thread


def test_related_when_nothing_matches_says_so_without_buttons(make_bot: Any) -> None:
    bot = make_bot()
    interaction = make_interaction(bot)
    run(invoke(bot, interaction, "related", question="xyzzy quux frobnicate plugh"))
    kwargs = sent_kwargs(interaction)
    assert kwargs["embed"].title in {"No close match", "No related work found"}
    assert "Nothing in the knowledge base matches" in kwargs["embed"].description
    assert "view" not in kwargs


def test_pages_turn_for_the_asker_and_privately_for_others(make_bot: Any) -> None:
    bot = make_bot()
    asker = make_member("asker")
    interaction = make_interaction(bot, user=asker)
    run(invoke(bot, interaction, "related", question=COT_QUESTION))
    view: PagesView = sent_kwargs(interaction)["view"]
    assert len(view.pages) == 4  # 20 results, 5 a page

    press = make_interaction(bot, user=asker)
    run(view.next.callback(press))
    press.response.edit_message.assert_awaited_once()
    assert press.response.edit_message.await_args.kwargs["embed"] is view.pages[1].embed
    assert view.index == 1 and not view.previous.disabled
    assert "**6.**" in titles(view.pages[1].embed)

    other = make_interaction(bot, user=make_member("bystander"))
    run(view.next.callback(other))
    other.response.send_message.assert_awaited_once()
    assert other.response.send_message.await_args.kwargs["ephemeral"] is True
    assert other.response.send_message.await_args.kwargs["embed"] is view.pages[2].embed
    assert view.index == 1  # the shared message did not move

    for _ in range(5):  # past the last page, the index stays on it
        run(view.next.callback(make_interaction(bot, user=asker)))
    assert view.index == 3 and view.next.disabled

    bibtex = make_interaction(bot, user=make_member("bystander"))
    run(view.bibtex.callback(bibtex))
    text = exported_text(bibtex)
    assert text.startswith("@")
    assert all(w.arxiv_id is None or w.arxiv_id in text for w in view.pages[3].works)


def test_buttons_are_disabled_when_the_view_times_out(make_bot: Any) -> None:
    bot = make_bot()
    interaction = make_interaction(bot)
    run(invoke(bot, interaction, "related", question=COT_QUESTION))
    view: PagesView = sent_kwargs(interaction)["view"]
    run(view.on_timeout())
    assert all(item.disabled for item in view.children)
    view.message.edit.assert_awaited_once_with(view=view)


# --- /cite ------------------------------------------------------------------------------------------


def test_cite_formats_in_the_chosen_style(make_bot: Any) -> None:
    bot = make_bot()
    interaction = make_interaction(bot)
    run(invoke(bot, interaction, "cite", reference="Turpin et al. 2023", style="bibtex"))
    interaction.response.defer.assert_awaited_once()
    embed = sent_kwargs(interaction)["embed"]
    assert embed.title.startswith("Language Models Don't Always Say What They Think")
    assert embed.description.startswith("```bibtex\n@inproceedings{turpinLanguage2023,")
    assert embed.url == "https://arxiv.org/abs/2305.04388"
    assert embed.footer.text.startswith("BibTeX")

    apa = make_interaction(bot)
    run(invoke(bot, apa, "cite", reference="Jacovi & Goldberg"))
    embed = sent_kwargs(apa)["embed"]
    assert embed.description.startswith("Jacovi, A., \\& Goldberg, Y. (2020).") or embed.description.startswith(
        "Jacovi, A., & Goldberg, Y. (2020)."
    )
    assert embed.footer.text.startswith("APA")


def test_cite_reads_the_reference_in_its_channel(make_bot: Any) -> None:
    bot = make_bot()
    channel = make_channel()
    make_message("We could watch the model's externalized reasoning, as a kind of oversight.", channel=channel)
    interaction = make_interaction(bot, channel=channel)
    run(invoke(bot, interaction, "cite", reference="Lanham et al."))
    channel.history.assert_called_once()
    embed = sent_kwargs(interaction)["embed"]
    assert "Externalized reasoning oversight" in embed.title
    assert embed.title.startswith("Best guess")


def test_a_channel_is_read_once_then_kept_from_its_events(make_bot: Any) -> None:
    bot = make_bot()
    cog = bot.get_cog("Research")
    channel = make_channel()
    make_message("Has anyone tried the new pasta place?", channel=channel)

    def cite_title() -> str:
        interaction = make_interaction(bot, channel=channel)
        run(invoke(bot, interaction, "cite", reference="Lanham et al."))
        return sent_kwargs(interaction)["embed"].title

    assert "Externalized reasoning oversight" not in cite_title()
    channel.history.assert_called_once()
    oversight = make_message("We could watch the model's externalized reasoning, as oversight.", channel=channel)
    run(cog.recent.on_message(oversight))  # the gateway's event: the next command knows it without reading the channel
    assert "Externalized reasoning oversight" in cite_title()
    channel.history.assert_called_once()

    edited = make_message("The pasta was good.", channel=channel, message_id=oversight.id, add_to_channel=False)
    payload = create_autospec(discord.RawMessageUpdateEvent, instance=True)
    payload.channel_id, payload.message = channel.id, edited
    run(cog.recent.on_raw_message_edit(payload))
    assert "Externalized reasoning oversight" not in cite_title()
    channel.history.assert_called_once()

    deleted = create_autospec(discord.RawMessageDeleteEvent, instance=True)
    deleted.channel_id, deleted.message_id = channel.id, oversight.id
    channel.messages.remove(oversight)
    run(cog.recent.on_raw_message_delete(deleted))
    cite_title()
    assert channel.history.call_count == 2  # a deleted message leaves a gap only the channel can fill
    run(cog.recent.on_disconnect())
    cite_title()
    assert channel.history.call_count == 3  # events may have been missed


def test_cite_without_a_match_says_so(make_bot: Any) -> None:
    bot = make_bot()
    interaction = make_interaction(bot)
    run(invoke(bot, interaction, "cite", reference="qqqq zzzz vvvv"))
    embed = sent_kwargs(interaction)["embed"]
    assert embed.title == "No match" or embed.title.startswith("Best guess")


def test_cite_autocomplete_suggests_titles_and_aliases(make_bot: Any, engine: Engine) -> None:
    bot = make_bot()
    cog = bot.get_cog("Research")

    async def scenario() -> list[Any]:
        first = await autocomplete(bot, make_interaction(bot), "cite", "reference", reference="sleeper")
        assert first == []  # nothing loaded yet: answers at once and loads in the background
        await cog._suggestions_task
        return await autocomplete(bot, make_interaction(bot), "cite", "reference", reference="sleeper")

    choices = run(scenario())
    assert 1 <= len(choices) <= 25
    assert any(c.name.startswith("Sleeper Agents") or "sleeper agents paper" in c.name for c in choices)
    assert all(len(c.name) <= 100 and len(c.value) <= 100 for c in choices)
    sleeper = next(c for c in choices if "Sleeper Agents" in c.name)
    result = engine.cite(sleeper.value)
    assert result.confident and result.match is not None and result.match.title.startswith("Sleeper Agents")


def test_every_autocomplete_value_cites_its_own_work(engine: Engine) -> None:
    suggestions = build_suggestions(engine)
    titles_by_value = {s.value: s.label for s in suggestions if not s.label.count(" — ")}
    assert len(titles_by_value) == len(engine.corpus)
    for value, label in titles_by_value.items():
        result = engine.cite(value)
        assert result.match is not None and label.startswith(result.match.title[:40]), (value, label)
    assert match_suggestions(suggestions, "")[0].label <= match_suggestions(suggestions, "")[1].label
    jacovi = match_suggestions(suggestions, "Jacovi")
    assert jacovi and jacovi[0].value == "arXiv:2004.03685"


# --- /bibliography ----------------------------------------------------------------------------------


def test_bibliography_of_a_thread_in_order_with_bibtex_for_all(make_bot: Any) -> None:
    bot = make_bot()
    thread = make_thread("CoT faithfulness", parent=make_forum())
    alice, bob = make_member("alice"), make_member("bob")
    make_message("Jacovi & Goldberg define faithfulness as a graded property.", author=alice, channel=thread)
    make_message("Right, and Turpin et al. 2023 showed biased CoT explanations.", author=bob, channel=thread)
    make_message("Also see the sleeper agents paper", author=alice, channel=thread)
    make_message("Turpin et al. 2023 again", author=bob, channel=thread)
    make_message(
        "**1.** [Some title](https://x.org) — a bot's own answer", author=make_member("bot", bot=True), channel=thread
    )
    interaction = make_interaction(bot, channel=thread)
    run(invoke(bot, interaction, "bibliography"))

    thread.history.assert_called_once()
    assert thread.history.call_args.kwargs["oldest_first"] is True
    kwargs = sent_kwargs(interaction)
    embed = kwargs["embed"]
    assert embed.title == "Bibliography of this thread (3 works)"
    text = titles(embed)
    assert text.index("Jacovi") < text.index("Turpin") < text.index("Sleeper")
    view: PagesView = kwargs["view"]
    assert [item.label for item in view.children] == ["BibTeX", "RIS", "CSL-JSON"]
    press = make_interaction(bot)
    run(view.bibtex.callback(press))
    assert "2305.04388" in exported_text(press) and "2004.03685" in exported_text(press)
    # The same works for Zotero and friends: a RIS record and a CSL-JSON item each, keyed alike.
    press = make_interaction(bot)
    run(view.ris.callback(press))
    records = rispy.loads(exported_text(press))
    assert [r["id"] for r in records] == ["jacoviTowards2020", "turpinLanguage2023", "hubingerSleeper2024"]
    press = make_interaction(bot)
    run(view.csl_json.callback(press))
    items = json.loads(exported_text(press))
    assert [i["id"] for i in items] == [r["id"] for r in records]


def test_bibliography_style_and_empty_thread(make_bot: Any) -> None:
    bot = make_bot()
    thread = make_thread("Empty", parent=make_channel())
    make_message("nothing to see here", channel=thread)
    interaction = make_interaction(bot, channel=thread)
    run(invoke(bot, interaction, "bibliography", style=Style.acl.value))
    embed = sent_kwargs(interaction)["embed"]
    assert embed.title == "No references found"


# --- context menus ----------------------------------------------------------------------------------


def test_find_related_work_menu(make_bot: Any) -> None:
    bot = make_bot()
    message = make_message(COT_CONTEXT)
    interaction = make_interaction(bot)
    run(invoke_menu(bot, interaction, "Find related work", message))
    interaction.response.defer.assert_awaited_once_with(ephemeral=False, thinking=True)
    kwargs = sent_kwargs(interaction)
    assert "Faithful" in titles(kwargs["embed"])
    assert kwargs["allowed_mentions"].to_dict() == {"parse": []}


def test_menus_refuse_a_message_without_text(make_bot: Any) -> None:
    bot = make_bot()
    for name in ("Find related work", "Cite papers mentioned"):
        interaction = make_interaction(bot)
        run(invoke_menu(bot, interaction, name, make_message("   ")))
        interaction.response.defer.assert_not_awaited()
        assert "no text" in ephemeral_text(interaction)


def test_cite_papers_mentioned_menu(make_bot: Any) -> None:
    bot = make_bot()
    message = make_message("This builds on Turpin et al. 2023 and Jacovi & Goldberg (see arXiv:2404.09932).")
    interaction = make_interaction(bot)
    run(invoke_menu(bot, interaction, "Cite papers mentioned", message))
    embed = sent_kwargs(interaction)["embed"]
    assert embed.title == "Works this message refers to (3)"
    assert titles(embed).index("Turpin") < titles(embed).index("Jacovi") < titles(embed).index("Anwar")


# --- limits and errors ------------------------------------------------------------------------------


def test_rate_limit_refuses_politely_before_any_work(
    make_bot: Any, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    bot = make_bot(rate_limit_count=2, rate_limit_seconds=60)
    user = make_member("eager")
    for _ in range(2):
        run(invoke(bot, make_interaction(bot, user=user), "cite", reference="Turpin et al. 2023"))
    calls: list[str] = []
    monkeypatch.setattr(engine, "cite", lambda *a, **k: calls.append("cite"))
    refused = make_interaction(bot, user=user)
    run(invoke(bot, refused, "cite", reference="Turpin et al. 2023"))
    refused.response.defer.assert_not_awaited()
    refused.response.send_message.assert_awaited_once()
    assert refused.response.send_message.await_args.kwargs["ephemeral"] is True
    assert ephemeral_text(refused).startswith("You're going a bit fast. Please try again in ")
    assert calls == []
    menu = make_interaction(bot, user=user)  # context menus share the limit
    run(invoke_menu(bot, menu, "Find related work", make_message(COT_CONTEXT)))
    assert ephemeral_text(menu).startswith("You're going a bit fast")
    other = make_interaction(bot, user=make_member("patient"))
    run(invoke(bot, other, "cite", reference="Turpin et al. 2023"))
    other.response.defer.assert_awaited_once()


def test_an_engine_failure_is_logged_and_told_privately(
    make_bot: Any, engine: Engine, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    bot = make_bot()

    def broken(*_args: Any, **_kwargs: Any) -> Any:
        raise RuntimeError("index exploded")

    monkeypatch.setattr(engine, "ask", broken)
    interaction = make_interaction(bot)
    with caplog.at_level(logging.ERROR, logger="bot.discord.app"):
        run(invoke(bot, interaction, "related", question=COT_QUESTION))
    interaction.response.defer.assert_awaited_once()
    interaction.delete_original_response.assert_awaited_once()  # the public "thinking…" goes away
    call = interaction.followup.send.await_args
    assert call.kwargs["ephemeral"] is True
    assert call.args[0] == "Something went wrong on my side. It has been logged; please try again later."
    assert "Traceback" not in call.args[0] and "exploded" not in call.args[0]
    [record] = [r for r in caplog.records if r.name == "bot.discord.app"]
    assert "command 'related' failed" in record.getMessage()
    assert record.exc_info is not None and "index exploded" in str(record.exc_info[1])


def test_a_slow_engine_times_out_with_a_friendly_message(
    make_bot: Any, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    bot = make_bot(engine_timeout_seconds=0.1)
    interaction = make_interaction(bot)
    monkeypatch.setattr(engine, "cite", slow(engine.cite, 0.4, interaction.events))
    run(invoke(bot, interaction, "cite", reference="Turpin et al. 2023"))
    assert ephemeral_text(interaction).startswith("That took too long")


# --- requests in threads ----------------------------------------------------------------------------


def thread_bot(make_bot: Any, **overrides: Any) -> tuple[Any, Any]:
    bot = make_bot(**overrides)
    bot._connection.user = make_client_user()
    return bot, bot.get_cog("Research")


def configured_thread() -> Any:
    forum = make_forum("research", channel_id=REPLY_CHANNEL)
    thread = make_thread("CoT", parent=forum)
    make_message(COT_CONTEXT, author=make_member("alice"), channel=thread)
    return thread


def test_a_request_in_a_configured_thread_is_answered_from_the_thread(make_bot: Any) -> None:
    bot, cog = thread_bot(make_bot)
    thread = configured_thread()
    message = make_message("source?", author=make_member("bob"), channel=thread)
    run(cog.on_message(message))
    message.reply.assert_awaited_once()
    kwargs = message.reply.await_args.kwargs
    assert kwargs["allowed_mentions"].to_dict() == {"parse": []} and kwargs["mention_author"] is False
    assert "Faithful" in titles(kwargs["embed"])  # the thread's topic, not the word "source"
    thread.history.assert_called_once()
    assert isinstance(kwargs["view"], PagesView) and kwargs["view"].owner_id == message.author.id

    again = make_message("citation?", author=make_member("carol"), channel=thread)
    run(cog.on_message(again))
    again.reply.assert_not_awaited()  # one unprompted answer per thread per cooldown

    mention = make_message(f"{bot.user.mention} what about reward hacking?", channel=thread, mentions=[bot.user])
    run(cog.on_message(mention))
    mention.reply.assert_awaited_once()  # being asked directly is not "chatty"
    thread.history.assert_called_once()  # the thread was read once; later messages came as events


@pytest.mark.parametrize("text", ["The source code is on GitHub", "Did you read the paper?", "thanks!", "lol"])
def test_ordinary_messages_in_a_configured_thread_get_no_answer(make_bot: Any, text: str) -> None:
    _bot, cog = thread_bot(make_bot)
    message = make_message(text, channel=configured_thread())
    run(cog.on_message(message))
    message.reply.assert_not_awaited()


def test_requests_elsewhere_bots_and_itself_are_ignored(make_bot: Any) -> None:
    bot, cog = thread_bot(make_bot)
    elsewhere = make_thread("Other", parent=make_channel("random"))
    make_message(COT_CONTEXT, channel=elsewhere)
    unconfigured = make_message("source?", channel=elsewhere)
    run(cog.on_message(unconfigured))
    unconfigured.reply.assert_not_awaited()

    thread = configured_thread()
    other_bot = make_message("source?", author=make_member("otherbot", bot=True), channel=thread)
    run(cog.on_message(other_bot))
    other_bot.reply.assert_not_awaited()

    itself = make_message(f"{bot.user.mention} source?", author=bot.user, channel=thread, mentions=[bot.user])
    run(cog.on_message(itself))
    itself.reply.assert_not_awaited()

    webhook = make_message("source?", channel=thread)
    webhook.webhook_id = 5
    run(cog.on_message(webhook))
    webhook.reply.assert_not_awaited()


def test_a_mention_is_answered_anywhere_but_not_thanks(make_bot: Any) -> None:
    bot, cog = thread_bot(make_bot)
    channel = make_channel("random")
    asked = make_message(f"{bot.user.mention} {COT_QUESTION}", channel=channel, mentions=[bot.user])
    run(cog.on_message(asked))
    asked.reply.assert_awaited_once()
    assert "Faithful" in titles(asked.reply.await_args.kwargs["embed"])

    role = make_role("alignbot", bot_id=bot.user.id)  # the bot's managed role, picked by mistake
    by_role = make_message(f"<@&{role.id}> {COT_QUESTION}", channel=make_channel(), role_mentions=[role])
    run(cog.on_message(by_role))
    by_role.reply.assert_awaited_once()

    thanks = make_message(f"thanks {bot.user.mention}!", channel=channel, mentions=[bot.user])
    run(cog.on_message(thanks))
    thanks.reply.assert_not_awaited()


def test_unsure_requests_stay_quiet_but_mentions_get_a_plain_answer(make_bot: Any) -> None:
    bot, cog = thread_bot(make_bot)
    forum = make_forum("research", channel_id=REPLY_CHANNEL)
    thread = make_thread("Cooking", parent=forum)
    make_message("What is the best way to caramelise onions for a french onion soup recipe?", channel=thread)
    request = make_message("source?", channel=thread)
    run(cog.on_message(request))
    request.reply.assert_not_awaited()

    mention = make_message(f"{bot.user.mention} source?", channel=thread, mentions=[bot.user])
    run(cog.on_message(mention))
    mention.reply.assert_awaited_once()
    assert mention.reply.await_args.kwargs["embed"].title in {"No close match", "No related work found"}


def test_reply_mode_off_and_mentions_only(make_bot: Any) -> None:
    bot, cog = thread_bot(make_bot, reply_mode="off")
    message = make_message(f"{bot.user.mention} {COT_QUESTION}", channel=configured_thread(), mentions=[bot.user])
    run(cog.on_message(message))
    message.reply.assert_not_awaited()

    bot, cog = thread_bot(make_bot, reply_mode="mentions")
    request = make_message("source?", channel=configured_thread())
    run(cog.on_message(request))
    request.reply.assert_not_awaited()


def test_a_failure_while_answering_is_logged_not_posted(
    make_bot: Any, engine: Engine, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    _bot, cog = thread_bot(make_bot)

    def broken(*_args: Any, **_kwargs: Any) -> Any:
        raise RuntimeError("boom")

    monkeypatch.setattr(engine, "ask", broken)
    message = make_message("source?", channel=configured_thread())
    with caplog.at_level(logging.ERROR):
        run(cog.on_message(message))
    message.reply.assert_not_awaited()
    assert any("answering message" in r.getMessage() and r.exc_info for r in caplog.records)


def test_autocomplete_follows_works_any_process_adds_reading_only_those(
    open_engine: OpenEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    bot_engine = open_engine()
    cli = Engine.open(bot_engine.settings, embedder=bot_engine.embedder)  # another process on the same stores
    suggestions = SuggestionList()
    assert suggestions.follow(bot_engine.db) == []
    quokka = {
        "id": "bib:quokka",
        "title": "Quokka Alignment",
        "authors": ["Q. Wallaby"],
        "aliases": ["the quokka paper"],
    }
    cli.ingest_records([quokka], embed=False)
    monkeypatch.setattr(Database, "iter_works", lambda *_: pytest.fail("re-read every work"))
    labels = [s.label for s in match_suggestions(suggestions.follow(bot_engine.db), "quokka")]
    assert labels[0] == "Quokka Alignment" and len(labels) == 1  # title and alias, one per work
    cli.ingest_records([{**quokka, "year": 2025}], embed=False)  # a changed work: its suggestions replaced
    assert [s.label for s in match_suggestions(suggestions.follow(bot_engine.db), "quokka")] == [
        "Quokka Alignment (2025)"
    ]
    cli.close()

"""Moderator commands, the forum watcher and review buttons, over the real moderator (SQLite in a tmp dir)."""

from __future__ import annotations

from typing import Any

import discord
import pytest
from discord import app_commands

from bot.discord.submissions import submission_id
from bot.discord.views import REVIEW_TEMPLATE, ReasonModal, ReviewButton
from bot.moderation.schemas import PostRecord
from bot.moderation.service import Moderator
from tests.discord.conftest import FORUM, MOD_CHANNEL
from tests.discord.helpers import (
    GUILD_ID,
    ephemeral_text,
    invoke,
    invoke_menu,
    make_attachment,
    make_channel,
    make_forum,
    make_interaction,
    make_member,
    make_message,
    make_role,
    make_thread,
    moderator_permissions,
    run,
)

_SENTENCES = [
    "Reward models trained on human preferences can be exploited by the policy they are meant to guide.",
    "We study how often a policy finds inputs that score highly but that raters would dislike on reflection.",
    "Our experiments vary the size of the reward model and the strength of the optimisation against it.",
    "Overoptimisation appears earlier for small reward models and grows with the distance from the initial policy.",
    "A simple ensemble of reward models delays the onset of overoptimisation without removing it entirely.",
    "We also find that a penalty on divergence from the initial policy trades reward for robustness.",
    "These results suggest that evaluations should report the optimisation budget used against a reward model.",
    "Finally we discuss how the measurements might change for agents that act over many steps in the world.",
]


def body(variant: int = 0) -> str:
    text = " ".join(_SENTENCES[variant:] + _SENTENCES[:variant])
    related = (
        "## Related work\n\nTurpin et al. 2023 show that explanations can be unfaithful, and Jacovi & Goldberg "
        "define faithfulness ([Jacovi](https://arxiv.org/abs/2004.03685))."
    )
    return f"{text}\n\n{text}\n\n{related}"


def setup_channels(bot: Any, monkeypatch: pytest.MonkeyPatch, *channels: Any) -> Any:
    """The moderator channel plus any others, as the bot's cache and the API would return them."""
    mod_channel = make_channel("mod-queue", channel_id=MOD_CHANNEL)
    known = {c.id: c for c in (mod_channel, *channels)}
    monkeypatch.setattr(bot, "get_channel", known.get)

    async def fetch_channel(channel_id: int) -> Any:
        if channel_id in known:
            return known[channel_id]
        raise discord.NotFound(type("R", (), {"status": 404, "reason": "Not Found"})(), "Unknown Channel")

    monkeypatch.setattr(bot, "fetch_channel", fetch_channel)
    return mod_channel


def forum_post(text: str, *, title: str = "Reward overoptimisation", author: str = "erin", forum_id: int = FORUM):
    thread = make_thread(title, parent=make_forum("submissions", channel_id=forum_id))
    message = make_message(text, author=make_member(author), channel=thread, message_id=thread.id)
    return thread, message


def as_moderator(bot: Any, **kwargs: Any) -> Any:
    return make_interaction(bot, user=make_member("mod"), permissions=moderator_permissions(), **kwargs)


def link(thread: Any) -> str:
    return f"https://discord.com/channels/{GUILD_ID}/{thread.id}"


def posted_report(mod_channel: Any) -> tuple[discord.Embed, discord.ui.View]:
    mod_channel.send.assert_called_once()
    kwargs = mod_channel.send.call_args.kwargs
    assert kwargs["allowed_mentions"].to_dict() == {"parse": []}
    return kwargs["embed"], kwargs["view"]


def report_id_of(embed: discord.Embed) -> int:
    assert embed.title is not None
    return int(embed.title.split(":")[0].removeprefix("Report "))


# --- who may use the moderator tools ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "values"),
    [
        ("check", {"submission": "123456789012345678"}),
        ("citedby", {"reference": "2305.04388"}),
        ("audit", {"post": "123456789012345678"}),
    ],
)
def test_members_get_a_polite_refusal(mod_bot: Any, name: str, values: dict[str, str]) -> None:
    interaction = make_interaction(mod_bot, user=make_member("member"))
    run(invoke(mod_bot, interaction, name, **values))
    interaction.response.defer.assert_not_awaited()
    assert ephemeral_text(interaction).startswith("Sorry, this is a moderator command")


def test_the_check_menu_is_refused_to_members_too(mod_bot: Any) -> None:
    interaction = make_interaction(mod_bot, user=make_member("member"))
    _thread, message = forum_post(body())
    run(invoke_menu(mod_bot, interaction, "Check submission", message))
    assert ephemeral_text(interaction).startswith("Sorry, this is a moderator command")


def test_moderator_roles_by_name_or_id_and_manage_messages(mod_bot: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from bot.discord.checks import is_moderator

    settings = mod_bot.settings
    assert is_moderator(make_member(roles=[make_role("Moderators")]), discord.Permissions.none(), settings)
    role = make_role("Team", role_id=77)
    monkeypatch.setattr(settings, "moderator_roles", ["77"])
    assert is_moderator(make_member(roles=[role]), discord.Permissions.none(), settings)
    assert is_moderator(make_member(), discord.Permissions(manage_messages=True), settings)
    assert not is_moderator(
        make_member(roles=[make_role("Members")]), discord.Permissions(send_messages=True), settings
    )


# --- /check -----------------------------------------------------------------------------------------


def test_check_posts_the_report_to_the_moderator_channel(
    mod_bot: Any, moderator: Moderator, monkeypatch: pytest.MonkeyPatch
) -> None:
    thread, _message = forum_post(body(1) + "\n\nCo-authors: <@5>, bob", title="Overoptimisation, measured")
    thread.messages[0].mentions = [make_member("dana", user_id=5)]
    mod_channel = setup_channels(mod_bot, monkeypatch, thread)
    interaction = as_moderator(mod_bot)
    run(invoke(mod_bot, interaction, "check", submission=link(thread)))

    interaction.response.defer.assert_awaited_once_with(ephemeral=True, thinking=True)  # not in the mod channel
    embed, view = posted_report(mod_channel)
    report_id = report_id_of(embed)
    assert embed.title == f"Report {report_id}: Overoptimisation, measured"
    assert embed.url == link(thread)
    assert "**Submitted by** erin to discord · authors: erin, dana, bob" in (embed.description or "")
    assert any("coauthor-unconfirmed" in f.name for f in embed.fields)
    assert [item.custom_id for item in view.children] == [
        f"alignbot:review:{report_id}:approve",
        f"alignbot:review:{report_id}:changes",
        f"alignbot:review:{report_id}:reject",
    ]
    note = interaction.followup.send.await_args.kwargs["content"]
    assert note.startswith(f"Report {report_id} is in <#{MOD_CHANNEL}>: https://discord.com/channels/")
    detail = moderator.review(report_id)
    assert detail.submission_id == submission_id(thread.id) and detail.status == "open"
    assert detail.submission["authors"] == [
        {"handle": "erin", "confirmed": True},
        {"handle": "dana", "confirmed": False},
        {"handle": "bob", "confirmed": False},
    ]


def test_check_in_the_moderator_channel_answers_there(mod_bot: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    thread, _message = forum_post(body(2))
    mod_channel = setup_channels(mod_bot, monkeypatch, thread)
    interaction = as_moderator(mod_bot, channel=mod_channel)
    run(invoke(mod_bot, interaction, "check", submission=str(thread.id)))  # a bare thread id works too
    interaction.response.defer.assert_awaited_once_with(ephemeral=False, thinking=True)
    mod_channel.send.assert_not_called()
    kwargs = interaction.followup.send.await_args.kwargs
    assert kwargs["embed"].title.startswith("Report ")
    assert len(kwargs["view"].children) == 3


def test_check_refuses_what_is_not_a_post(mod_bot: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    setup_channels(mod_bot, monkeypatch)
    bad = as_moderator(mod_bot)
    run(invoke(mod_bot, bad, "check", submission="my post about reward models"))
    bad.response.defer.assert_not_awaited()
    assert ephemeral_text(bad) == "Give a link to a forum post or message, or a thread id."

    missing = as_moderator(mod_bot)
    run(invoke(mod_bot, missing, "check", submission="https://discord.com/channels/1/999999999999999999"))
    missing.response.defer.assert_awaited_once()
    missing.delete_original_response.assert_not_awaited()  # the deferral was private already
    assert ephemeral_text(missing) == "I can't find that channel or post."


def test_check_submission_menu(mod_bot: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    thread, message = forum_post(body(3))
    mod_channel = setup_channels(mod_bot, monkeypatch, thread)
    interaction = as_moderator(mod_bot)
    run(invoke_menu(mod_bot, interaction, "Check submission", message))
    embed, _view = posted_report(mod_channel)
    assert embed.title.endswith(": Reward overoptimisation")


# --- review buttons ---------------------------------------------------------------------------------


def checked_report(bot: Any, monkeypatch: pytest.MonkeyPatch, text: str) -> tuple[int, Any]:
    thread, _message = forum_post(text)
    mod_channel = setup_channels(bot, monkeypatch, thread)
    run(invoke(bot, as_moderator(bot), "check", submission=link(thread)))
    embed, view = posted_report(mod_channel)
    return report_id_of(embed), view


def button(view: Any, action: str) -> ReviewButton:
    item = next(i for i in view.children if i.custom_id.endswith(f":{action}"))
    return item


def test_approve_records_who_and_when_and_updates_the_report(
    mod_bot: Any, moderator: Moderator, monkeypatch: pytest.MonkeyPatch
) -> None:
    report_id, view = checked_report(mod_bot, monkeypatch, body(4))
    approve = button(view, "approve")
    press = as_moderator(mod_bot)
    assert run(approve.interaction_check(press)) is True
    run(approve.callback(press))

    press.response.defer.assert_awaited_once_with()
    [decision] = moderator.review(report_id).decisions
    assert decision.status == "approved" and decision.previous_status == "open"
    assert decision.moderator == f"@mod ({press.user.id})" and decision.decided_at is not None
    edited = press.edit_original_response.await_args.kwargs
    assert "**Status:** Approved" in edited["embed"].description
    assert "Approved — Approved in Discord." in edited["embed"].fields[-1].value
    assert len(edited["view"].children) == 3
    assert ephemeral_text(press) == f"Recorded **Approved** on report {report_id}."


def test_a_recheck_supersedes_the_report_and_its_buttons_say_so(
    mod_bot: Any, moderator: Moderator, monkeypatch: pytest.MonkeyPatch
) -> None:
    thread, _message = forum_post(body(8))
    mod_channel = setup_channels(mod_bot, monkeypatch, thread)
    run(invoke(mod_bot, as_moderator(mod_bot), "check", submission=link(thread)))
    first_embed, first_view = posted_report(mod_channel)
    run(invoke(mod_bot, as_moderator(mod_bot), "check", submission=link(thread)))  # the post was edited since
    second = report_id_of(mod_channel.send.call_args_list[-1].kwargs["embed"])
    first = report_id_of(first_embed)
    assert second != first
    assert (moderator.review(first).status, moderator.review(first).superseded_by) == ("superseded", second)

    press = as_moderator(mod_bot)
    run(button(first_view, "approve").callback(press))
    assert ephemeral_text(press) == (
        f"report {first} was superseded by report {second}, a later check of the same submission: decide on that one."
    )
    assert moderator.review(first).decisions == [] and moderator.review(second).status == "open"


def test_reject_asks_for_a_reason_and_a_resubmission_is_caught(
    mod_bot: Any, moderator: Moderator, monkeypatch: pytest.MonkeyPatch
) -> None:
    text = body(5)
    report_id, view = checked_report(mod_bot, monkeypatch, text)
    press = as_moderator(mod_bot)
    run(button(view, "reject").callback(press))
    modal = press.response.send_modal.await_args.args[0]
    assert isinstance(modal, ReasonModal) and modal.status == "rejected"

    modal.reason._refresh_state(press, {"type": 4, "custom_id": modal.reason.custom_id, "value": "Not original work."})
    submit = as_moderator(mod_bot)
    run(modal.on_submit(submit))
    decision = moderator.review(report_id).decisions[-1]
    assert (decision.status, decision.reason) == ("rejected", "Not original work.")
    assert "**Status:** Rejected" in submit.edit_original_response.await_args.kwargs["embed"].description

    again, _message = forum_post(text, title="Reward overoptimisation (again)")
    mod_channel = setup_channels(mod_bot, monkeypatch, again)
    run(invoke(mod_bot, as_moderator(mod_bot), "check", submission=link(again)))
    embed, _view = posted_report(mod_channel)
    duplicate = next(f for f in embed.fields if "duplicate-post" in f.name)
    assert duplicate.name.startswith("🔴 HIGH")


def test_members_cannot_press_review_buttons(
    mod_bot: Any, moderator: Moderator, monkeypatch: pytest.MonkeyPatch
) -> None:
    report_id, view = checked_report(mod_bot, monkeypatch, body(6))
    press = make_interaction(mod_bot, user=make_member("member"))
    assert run(button(view, "approve").interaction_check(press)) is False
    assert ephemeral_text(press) == "Sorry, only moderators can decide on reports."
    assert moderator.review(report_id).decisions == []


def test_review_buttons_survive_a_restart(mod_bot: Any) -> None:
    import re

    custom_id = "alignbot:review:12:changes"
    match = re.fullmatch(REVIEW_TEMPLATE, custom_id)
    assert match is not None
    item = run(ReviewButton.from_custom_id(as_moderator(mod_bot), discord.ui.Button(custom_id=custom_id), match))
    assert (item.report_id, item.status) == (12, "needs-changes")
    assert ReviewButton in mod_bot._connection._view_store._dynamic_items.values()  # registered on the bot


# --- the forum watcher ------------------------------------------------------------------------------


def test_new_forum_posts_are_checked_automatically(mod_bot: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    # Each bot loads the cog module afresh (discord.py's extensions): patch the one this bot runs.
    monkeypatch.setattr(mod_bot.extensions["bot.discord.cogs.moderation"], "STARTER_RETRIES", (0.01, 0.01))
    thread = make_thread("Fresh post", parent=make_forum("submissions", channel_id=FORUM))
    mod_channel = setup_channels(mod_bot, monkeypatch, thread)
    calls = {"n": 0}
    original = thread.fetch_message.side_effect

    async def late_first_message(message_id: int) -> Any:
        calls["n"] += 1
        if calls["n"] == 1:  # the post's first message arrives after the thread
            raise discord.NotFound(type("R", (), {"status": 404, "reason": "Not Found"})(), "Unknown Message")
        return await original(message_id)

    thread.fetch_message.side_effect = late_first_message
    make_message(body(7), author=make_member("erin"), channel=thread, message_id=thread.id)
    cog = mod_bot.get_cog("Moderation")
    run(cog.on_thread_create(thread))
    embed, _view = posted_report(mod_channel)
    assert embed.title.endswith(": Fresh post") and calls["n"] == 2


def test_threads_elsewhere_and_bot_posts_are_not_checked(mod_bot: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    elsewhere = make_thread("Chat", parent=make_forum("general", channel_id=FORUM + 100))
    make_message(body(), channel=elsewhere, message_id=elsewhere.id)
    by_bot, _ = forum_post(body())
    by_bot.messages[0].author = make_member("somebot", bot=True)
    mod_channel = setup_channels(mod_bot, monkeypatch, elsewhere, by_bot)
    cog = mod_bot.get_cog("Moderation")
    run(cog.on_thread_create(elsewhere))
    run(cog.on_thread_create(by_bot))
    mod_channel.send.assert_not_called()


# --- /audit and /citedby ----------------------------------------------------------------------------


def test_audit_a_post(mod_bot: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    thread, _message = forum_post(body())
    setup_channels(mod_bot, monkeypatch, thread)
    interaction = as_moderator(mod_bot)
    run(invoke(mod_bot, interaction, "audit", post=link(thread)))
    embed = interaction.followup.send.await_args.kwargs["embed"]
    assert embed.title == "Related-work audit: Reward overoptimisation"
    assert "Cites **2** distinct works, **2** of them in the knowledge base." in embed.description
    assert embed.fields[0].name == "Sections" and "Related work" in embed.fields[0].value


def test_audit_an_attached_file(mod_bot: Any) -> None:
    interaction = as_moderator(mod_bot)
    attachment = make_attachment("draft.md", body())
    command = mod_bot.tree.get_command("audit")
    namespace = app_commands.Namespace(interaction, {}, [])
    namespace.__dict__["file"] = attachment  # what the tree resolves an attachment option to
    interaction.command = command
    run(command._invoke_with_namespace(interaction, namespace))
    embed = interaction.followup.send.await_args.kwargs["embed"]
    assert embed.title == "Related-work audit: draft"


def test_citedby(mod_bot: Any, moderator: Moderator) -> None:
    moderator.store_posts(
        [
            PostRecord(
                id="lw-cot-1",
                forum="lesswrong",
                author="erin",
                title="Notes on CoT faithfulness",
                body="As [Turpin et al.](https://arxiv.org/abs/2305.04388) found, explanations can mislead.",
                url="https://lesswrong.example/posts/1",
            )
        ]
    )
    interaction = as_moderator(mod_bot)
    run(invoke(mod_bot, interaction, "citedby", reference="2305.04388"))
    embed = interaction.followup.send.await_args.kwargs["embed"]
    assert embed.title.startswith("Posts citing Language Models Don't Always Say What They Think")
    assert "[Notes on CoT faithfulness](https://lesswrong.example/posts/1)" in embed.description

    bad = as_moderator(mod_bot)
    run(invoke(mod_bot, bad, "citedby", reference="not a reference"))
    assert "Give an arXiv id, a DOI or a link." in ephemeral_text(bad)

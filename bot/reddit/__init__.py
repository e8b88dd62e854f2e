"""The Reddit front end: citation answers in comment threads and moderator reports on new submissions.

`RedditBot(engine, moderator, settings, reddit).run(stop_event)` runs it; `alignbot reddit` starts it from
the command line with settings from the environment (the `reddit` section of `bot.settings.Settings`; README.md,
"Reddit bot").
"""

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bot.reddit.bot import RedditBot, create_reddit, stop_on_signals
    from bot.reddit.config import RedditSettings

__all__ = ["RedditBot", "RedditSettings", "create_reddit", "stop_on_signals"]


def __getattr__(name: str) -> Any:
    """Names are imported on first use, so other commands do not pay for importing praw."""
    if name in ("RedditBot", "create_reddit", "stop_on_signals"):
        from bot.reddit import bot

        return getattr(bot, name)
    if name == "RedditSettings":
        from bot.reddit.config import RedditSettings

        return RedditSettings
    raise AttributeError(f"module 'bot.reddit' has no attribute {name!r}")

"""The Reddit front end: citation answers in comment threads and moderator reports on new submissions.

`RedditBot(engine, moderator, settings, reddit).run(stop_event)` runs it; `alignbot reddit` starts it from
the command line with settings from the environment (see README.md beside this file).
"""

from bot.reddit.bot import RedditBot, create_reddit, stop_on_signals
from bot.reddit.config import RedditSettings

__all__ = ["RedditBot", "RedditSettings", "create_reddit", "stop_on_signals"]

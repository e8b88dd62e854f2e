"""Settings of the Reddit front end: the `reddit` section of `bot.settings.Settings`.

Credentials use the names praw users know (`REDDIT_CLIENT_ID`, `REDDIT_CLIENT_SECRET`, `REDDIT_USERNAME`,
`REDDIT_PASSWORD`, `REDDIT_USER_AGENT`); everything else is `ALIGNBOT_REDDIT_<FIELD>`. Lists are
comma-separated (`ALIGNBOT_REDDIT_SUBREDDITS=ControlProblem,AIAlignment`). The rule file is the
`moderation` section's (`ALIGNBOT_MODERATION_CONFIG`, formerly `ALIGNBOT_REDDIT_MODERATION_CONFIG`).
"""

from bot.frontend_sections import RedditSettings, ReportChannel

__all__ = ["RedditSettings", "ReportChannel"]

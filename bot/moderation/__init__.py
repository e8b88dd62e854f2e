"""Moderator help: checks of submissions, the related-work audit, the review queue and decisions.

The rules are imported with the package: their declarations register which findings are advisory.
"""

from bot.moderation import rules as rules  # registers the built-in rules' declarations

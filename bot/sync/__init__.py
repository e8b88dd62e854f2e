"""`alignbot sync`: keep a knowledge base current from arXiv (OAI-PMH) and ForumMagnum forums."""

"""The `alignbot` command groups of the core services (knowledge, fetch, sync, moderation): a front end like
Discord, Reddit and HTTP, which only translates arguments into service calls and renders the results.
`bot.cli` registers them beside each front end's own commands."""

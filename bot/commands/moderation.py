"""Moderation commands for the `alignbot` CLI; `register(app)` adds them to the main app.

alignbot check SUBMISSION.json [--json] [--dry-run] [--rule ID]...
alignbot audit POST.md|POST.html [--json] [--title T]
alignbot queue [--status S | --all] [--json]
alignbot review REPORT_ID [--json]
alignbot decide REPORT_ID approved|rejected|needs-changes|open --by NAME --reason TEXT
alignbot citedby REF [--json]
alignbot members import FILE.jsonl
alignbot posts ingest FILE.jsonl
alignbot posts fetch ENDPOINT --site lesswrong [--limit N] [--af-only]
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.table import Table

from bot.cli_common import ConfigPath, DataDir, JsonFlag, err, fail, load_settings, open_services, print_json

if TYPE_CHECKING:  # the moderation package (rules, YAML, text parsing) is loaded by these commands only
    from bot.moderation.schemas import CheckReport, ImportReport, RelatedWorkAudit, ReportDetail
    from bot.moderation.service import Moderator

out = Console(soft_wrap=True)  # long paths and messages stay greppable on one line

_COLOURS = {"high": "red", "medium": "yellow", "low": "cyan", "info": "blue"}


def _moderator(data_dir: Path | None, config: Path | None = None, rules: bool = True) -> Moderator:
    """The moderator of this command's application (closed when the command ends). `rules`: the command needs
    the rule file, so it is read now and an invalid one stops the command before any work."""
    services = open_services(settings=load_settings(data_dir, config), progress=False, moderation=rules)
    return services.moderation if rules else services.review_moderation


def _render_import(report: ImportReport, what: str) -> None:
    for error in report.errors:
        err.print(f"[yellow]{error}[/yellow]", highlight=False)
    links = f", {report.links} links indexed" if what == "posts" else ""
    err.print(
        f"{report.read} {what} read: {report.added} new, {report.updated} updated{links}; "
        f"{len(report.errors)} bad lines",
        highlight=False,
    )


def _render_report(report: CheckReport | ReportDetail) -> None:
    from bot.moderation.rules.related import RelatedWork
    from bot.moderation.schemas import CheckReport, RelatedWorkAudit, flags

    if isinstance(report, CheckReport):
        recorded = f"report {report.report_id}" if report.report_id is not None else "dry run: not recorded"
        out.print(f"[bold]{report.submission_id}[/bold] ({recorded})", highlight=False)
    if not flags(report.findings):
        out.print("[green]No rule fired.[/green]")
    for finding in report.findings:
        colour = _COLOURS.get(finding.severity, "white")
        out.print(
            f"\n[{colour}]{finding.severity.upper():6}[/{colour}] [bold]{finding.rule}[/bold]: {finding.summary}",
            highlight=False,
        )
        evidence = finding.evidence
        source = evidence.get("source")
        if isinstance(source, dict):
            out.print(
                f"  source: {source.get('title')} [{source.get('kind')} {source.get('id')}] {source.get('url') or ''}",
                highlight=False,
            )
        for key in ("containment", "coverage", "jaccard"):
            if key in evidence:
                out.print(f"  {key}: {evidence[key]:.2f}", highlight=False)
        for passage in evidence.get("passages", [])[:2]:
            out.print(f"  [dim]“{passage}”[/dim]", highlight=False)
        if finding.rule == RelatedWork.id:  # its evidence is the audit
            _render_audit_tables(RelatedWorkAudit.model_validate(evidence), brief=True)
        out.print(f"  [bold]action:[/bold] {finding.action}", highlight=False)
        out.print(f"  [bold]message:[/bold] {finding.message}", highlight=False, soft_wrap=True)


def _render_audit_tables(audit: RelatedWorkAudit, brief: bool = False) -> None:
    out.print(f"  cites {audit.cited_count} distinct works ({audit.cited_in_knowledge_base} in the knowledge base)")
    for s in audit.sections:
        out.print(
            f"  section “{s.heading}” ({s.kind}): {s.paragraphs} paragraphs, {s.words} words, "
            f"{s.cited_total} works cited ({s.cited_in_section} in the text, {s.cited_in_footnotes} in "
            f"{s.footnotes} footnotes)",
            highlight=False,
        )
    if not brief and audit.citations:
        table = Table("where", "reference", "resolved to", show_header=True, header_style="bold", expand=True)
        for c in audit.citations:
            where = c.location + (f" · {c.section}" if c.section else "")
            ref = c.reference + (f" [dim]({c.text})[/dim]" if c.text and c.text != c.reference else "")
            table.add_row(where, ref, f"{c.work.title} ({c.work.year or 'n.d.'})" if c.work else "[dim]—[/dim]")
        out.print(table)
    if audit.uncited:
        out.print("  closest works it does not cite:")
        for w in audit.uncited:
            out.print(f"    {w.score:.2f} {w.title} ({w.year or 'n.d.'}) {w.url or ''}", highlight=False)
            if not brief:
                out.print(f"         [dim]{w.why}[/dim]", highlight=False)


def register(app: typer.Typer) -> None:
    """Add the moderation commands to the main `alignbot` app."""
    members_app = typer.Typer(help="Community members (who belongs to which group).", no_args_is_help=True)
    posts_app = typer.Typer(
        help="Existing forum posts and pages: duplicate search and the link index.", no_args_is_help=True
    )
    app.add_typer(members_app, name="members")
    app.add_typer(posts_app, name="posts")

    @app.command()
    def check(
        submission: Annotated[Path, typer.Argument(help="Submission JSON (see README).")],
        as_json: JsonFlag = False,
        dry_run: Annotated[bool, typer.Option("--dry-run", help="Show what would be flagged; record nothing.")] = False,
        rule: Annotated[list[str] | None, typer.Option("--rule", help="Run only this rule (repeatable).")] = None,
        config: ConfigPath = None,
        data_dir: DataDir = None,
    ) -> None:
        """Run the moderation rules on a submission and record the report in the review queue."""
        if not submission.is_file():
            fail(f"{submission}: no such file")
        for name in rule or []:
            from bot.moderation.config import RULE_IDS

            if name not in RULE_IDS:
                fail(f"unknown rule {name!r}; rules are: {', '.join(RULE_IDS)}")
        from bot.moderation.service import ModerationError, load_submission

        try:
            parsed = load_submission(submission)
        except ModerationError as exc:
            fail(str(exc))
        moderator = _moderator(data_dir, config)
        report = moderator.receive(parsed, origin="cli", record=not dry_run, rules=set(rule) if rule else None).report
        print_json(report) if as_json else _render_report(report)

    @app.command()
    def audit(
        post: Annotated[Path, typer.Argument(help="The post as Markdown (.md) or HTML (.html).")],
        title: Annotated[
            str | None, typer.Option("--title", help="The post's title (helps find related work).")
        ] = None,
        as_json: JsonFlag = False,
        data_dir: DataDir = None,
    ) -> None:
        """The related-work audit alone: what the post cites, where, and the closest works it does not cite."""
        if not post.is_file():
            fail(f"{post}: no such file")
        suffix = post.suffix.lower()
        if suffix in {".md", ".markdown", ".txt"}:
            fmt = "markdown"
        elif suffix in {".html", ".htm"}:
            fmt = "html"
        else:
            fail(f"{post}: give a .md or .html file")
        moderator = _moderator(data_dir)
        result = moderator.audit(post.read_text(encoding="utf-8"), fmt, title=title or post.stem)
        if as_json:
            print_json(result)
        else:
            _render_audit_tables(result)

    @app.command()
    def queue(
        status: Annotated[
            str, typer.Option("--status", help="open, approved, rejected, needs-changes or superseded.")
        ] = "open",
        show_all: Annotated[bool, typer.Option("--all", help="Every report, whatever its status.")] = False,
        as_json: JsonFlag = False,
        data_dir: DataDir = None,
    ) -> None:
        """Reports awaiting a moderator (open ones by default), oldest first."""
        moderator = _moderator(data_dir, rules=False)
        from bot.moderation.service import ModerationError

        try:
            items = moderator.queue(None if show_all else status)
        except ModerationError as exc:
            fail(str(exc))
        if as_json:
            print_json(items)
            return
        if not items:
            out.print("The queue is empty.")
            return
        table = Table("id", "submission", "title", "submitter", "status", "flags", "created", header_style="bold")
        for item in items:
            colour = _COLOURS.get(item.severity or "", "green")
            flags = f"[{colour}]{', '.join(item.rules) or 'none'}[/{colour}]"
            table.add_row(
                str(item.report_id),
                item.submission_id,
                item.title,
                item.submitter,
                item.status,
                flags,
                item.created_at.strftime("%Y-%m-%d %H:%M"),
            )
        out.print(table)

    @app.command()
    def review(
        report_id: Annotated[int, typer.Argument(help="Report id (from `alignbot queue`).")],
        as_json: JsonFlag = False,
        data_dir: DataDir = None,
    ) -> None:
        """One report with its findings and every decision taken on it."""
        moderator = _moderator(data_dir, rules=False)
        from bot.moderation.service import ModerationError

        try:
            detail = moderator.review(report_id)
        except ModerationError as exc:
            fail(str(exc))
        if as_json:
            print_json(detail)
            return
        out.print(
            f"[bold]report {detail.report_id}[/bold]: {detail.title} ({detail.submission_id}) by "
            f"{detail.submitter}; status [bold]{detail.status}[/bold]",
            highlight=False,
        )
        _render_report(detail)
        for d in detail.decisions:
            out.print(
                f"  {d.decided_at:%Y-%m-%d %H:%M} {d.moderator}: {d.previous_status} → {d.status}: {d.reason}",
                highlight=False,
            )

    @app.command()
    def decide(
        report_id: Annotated[int, typer.Argument(help="Report id.")],
        status: Annotated[str, typer.Argument(help="approved, rejected, needs-changes or open.")],
        by: Annotated[str, typer.Option("--by", help="Who decides (moderator name).")],
        reason: Annotated[str, typer.Option("--reason", help="Why; shown with a later resubmission.")],
        as_json: JsonFlag = False,
        data_dir: DataDir = None,
    ) -> None:
        """Record a moderator's decision on a report (the audit log keeps every decision)."""
        # An approved or rejected submission is stored as a post, sketched with the rule file's parameters.
        moderator = _moderator(data_dir, rules=status in ("approved", "rejected"))
        from bot.moderation.service import ModerationError

        try:
            decision = moderator.decide(report_id, status, by, reason)
        except ModerationError as exc:
            fail(str(exc))
        if as_json:
            print_json(decision)
        else:
            out.print(
                f"report {report_id}: {decision.previous_status} → {decision.status} (by {decision.moderator})",
                highlight=False,
            )

    @app.command()
    def citedby(
        reference: Annotated[str, typer.Argument(help="arXiv id, DOI, or a URL in any form.")],
        as_json: JsonFlag = False,
        data_dir: DataDir = None,
    ) -> None:
        """Posts that cite a paper or page: every outbound link, id and footnote of ingested posts counts."""
        moderator = _moderator(data_dir, rules=False)
        from bot.moderation.service import ModerationError

        try:
            result = moderator.cited_by(reference)
        except ModerationError as exc:
            fail(str(exc))
        if as_json:
            print_json(result)
            return
        label = f"{result.work.title} ({result.work.year or 'n.d.'})" if result.work else ", ".join(result.keys)
        out.print(f"{len(result.posts)} post(s) cite {label}", highlight=False)
        for post in result.posts:
            when = post.posted_at.strftime("%Y-%m-%d") if post.posted_at else "n.d."
            out.print(
                f"  {when} [bold]{post.title}[/bold] by {post.author} ({post.forum or 'page'}) "
                f"{post.url or post.post_id}",
                highlight=False,
            )
            for link in post.links:
                where = link["location"] + (f" · {link['section']}" if link["section"] else "")
                text = f" “{link['text']}”" if link["text"] else ""
                out.print(f"    [dim]{where}:{text} {link['url']}[/dim]", highlight=False)

    @members_app.command("import")
    def members_import(
        path: Annotated[Path, typer.Argument(help='JSON Lines: {"handle", "name", "groups": [...], "karma"}.')],
        data_dir: DataDir = None,
    ) -> None:
        """Import or update community members; bad lines are reported as FILE:LINE and skipped."""
        if not path.is_file():
            fail(f"{path}: no such file")
        report = _moderator(data_dir).import_members(path)
        _render_import(report, "members")
        if report.errors and not (report.added or report.updated):
            raise typer.Exit(1)

    @posts_app.command("ingest")
    def posts_ingest(
        path: Annotated[Path, typer.Argument(help='JSON Lines: {"id", "forum"?, "author", "title", "body", ...}.')],
        data_dir: DataDir = None,
    ) -> None:
        """Import existing posts and pages; indexes their links and sketches their text."""
        if not path.is_file():
            fail(f"{path}: no such file")
        report = _moderator(data_dir).ingest_posts(path)
        _render_import(report, "posts")
        if report.errors and not (report.added or report.updated):
            raise typer.Exit(1)

    @posts_app.command("fetch")
    def posts_fetch(
        endpoint: Annotated[str, typer.Argument(help="GraphQL endpoint, e.g. https://www.lesswrong.com/graphql")],
        site: Annotated[str, typer.Option("--site", help="Forum name for non-AF posts (lesswrong, eaforum).")],
        limit: Annotated[int, typer.Option("--limit", min=1, max=100_000, help="How many posts.")] = 100,
        af_only: Annotated[bool, typer.Option("--af-only", help="Only Alignment Forum posts.")] = False,
        data_dir: DataDir = None,
    ) -> None:
        """Import recent posts and their authors (with groups) from a ForumMagnum forum."""
        from bot.moderation.forummagnum import ForumMagnumClient, ForumMagnumError, fetch

        moderator = _moderator(data_dir)
        client = ForumMagnumClient(endpoint)
        try:
            posts, members, user_ids = fetch(client, site, limit=limit, af=True if af_only else None)
        except ForumMagnumError as exc:
            fail(str(exc))
        finally:
            client.close()
        _render_import(moderator.store_members(members, user_ids=user_ids), "members")
        _render_import(moderator.store_posts(posts, source=endpoint), "posts")

"""Rendering engine and moderation results: content, and Discord's limits whatever the input."""

from __future__ import annotations

from datetime import UTC, datetime

import discord
import pytest

from bot.answer import composed_answer
from bot.citations import Style, format_citation
from bot.discord import embeds, render
from bot.domain import AskResult, BibliographyEntry, BibliographyResult, CiteResult, RankedWork, UnresolvedMention
from bot.exports import ExportFormat
from bot.moderation.schemas import (
    CitedByResult,
    CitingPost,
    DecisionRecord,
    Finding,
    RelatedWorkAudit,
    ReportDetail,
    SectionStats,
    UncitedWork,
    WorkRef,
)


def work(n: int, *, long: bool = False) -> RankedWork:
    title = f"Work {n}: *Not* what it_seems [a] (b)" + (" with a very long title" * 30 if long else "")
    return RankedWork(
        id=f"arxiv:2401.{n:05d}",
        arxiv_id=f"2401.{n:05d}",
        title=title,
        authors=[f"Author{i} Surname{i}" for i in range(60 if long else 2)],
        year=2024,
        url=f"https://example.org/paper_(v{n})" if n % 2 else None,
        venue="NeurIPS 2024",
        score=1.0 - n / 100,
        reason=("Because it studies exactly this. " * (80 if long else 1)).strip(),
    )


def ask_result(count: int, *, long: bool = False, confident: bool = True, answer: str = "") -> AskResult:
    results = [work(n, long=long) for n in range(1, count + 1)]
    return AskResult(query="is chain of thought faithful?", confident=confident, results=results, answer=answer)


def assert_fits(embed: discord.Embed) -> None:
    assert embeds.problems(embed) == [], embeds.problems(embed)


def test_related_pages_are_numbered_linked_and_within_limits() -> None:
    pages = render.related_pages(ask_result(12), per_page=5)
    assert len(pages) == 3
    assert [len(p.works) for p in pages] == [5, 5, 2]
    first = pages[0].embed
    assert first.title == "Related work: is chain of thought faithful?"
    assert first.description is not None
    assert first.description.startswith(
        "**1.** [Work 1: \\*Not\\* what it\\_seems \\[a\\] (b)](https://example.org/paper_%28v1%29)"
    )
    assert "Author0 Surname0, Author1 Surname1 · 2024" in first.description
    assert "↳ Because it studies exactly this." in first.description
    assert "**6.**" in (pages[1].embed.description or "")
    assert pages[2].embed.footer.text == "Page 3/3 · works 11–12 of 12"
    assert [w.id for w in pages[1].works] == [f"arxiv:2401.{n:05d}" for n in range(6, 11)]
    for page in pages:
        assert_fits(page.embed)


def test_work_without_url_links_to_its_arxiv_page() -> None:
    entry = embeds.work_entry(2, work(2))
    assert "(https://example.org" not in entry
    assert "[Work 2: \\*Not\\* what it\\_seems \\[a\\] (b)](https://arxiv.org/abs/2401.00002)" in entry


def test_huge_results_still_fit() -> None:
    pages = render.related_pages(ask_result(50, long=True), per_page=10)
    assert sum(len(p.works) for p in pages) == 50
    for page in pages:
        assert_fits(page.embed)
        assert len(page.embed.description or "") <= embeds.PAGE_BUDGET + 1100


def test_nothing_matches_is_said_plainly() -> None:
    [page] = render.related_pages(AskResult(query="xyzzy", confident=False, results=[], answer=""))
    assert page.embed.title == "No related work found"
    assert "Nothing in the knowledge base matches “xyzzy”" in (page.embed.description or "")
    assert page.works == []


def test_unsure_results_are_labelled_and_not_exported() -> None:
    [page] = render.related_pages(ask_result(8, confident=False))
    assert page.embed.title == "No close match"
    assert "probably not what you want" in (page.embed.description or "")
    assert "**4.**" not in (page.embed.description or "")  # the nearest three only
    assert page.works == []  # no BibTeX button for works that do not match


def test_an_llm_answer_is_shown_but_the_composed_one_is_not_repeated() -> None:
    plain = ask_result(3)
    plain.answer = composed_answer(plain.query, plain.results, True)
    assert "Closest related work" not in (render.related_pages(plain)[0].embed.description or "")
    llm = ask_result(3, answer="Work 1 [1] shows that CoT is often unfaithful.")
    pages = render.related_pages(llm)
    assert (pages[0].embed.description or "").startswith("Work 1 [1] shows that CoT is often unfaithful.")


@pytest.mark.parametrize("style", list(Style))
def test_cite_embed(style: Style) -> None:
    match = work(1)
    result = CiteResult(
        query="Work 1", confident=True, match=match, alternatives=[], formatted=format_citation(match, style)
    )
    embed = render.cite_embed(result, style)
    assert embed.title == match.title
    assert embed.url == "https://example.org/paper_%28v1%29"
    if style is Style.bibtex:
        assert (embed.description or "").startswith("```bibtex\n@inproceedings{")
    else:
        assert "Surname0" in (embed.description or "")
    assert embed.fields[0].name == "Link"
    assert_fits(embed)


def test_cite_embed_unsure_offers_alternatives_and_no_match_says_so() -> None:
    unsure = CiteResult(
        query="work",
        confident=False,
        match=work(1),
        alternatives=[work(2), work(3)],
        formatted=format_citation(work(1)),
    )
    embed = render.cite_embed(unsure)
    assert (embed.title or "").startswith("Best guess: ")
    assert [f.name for f in embed.fields] == ["Link", "Or did you mean"]
    none = render.cite_embed(CiteResult(query="nothing", confident=False, match=None, alternatives=[], formatted=None))
    assert none.title == "No match"
    assert "“nothing”" in (none.description or "")


def bibliography(count: int, long: bool = False) -> BibliographyResult:
    entries = [
        BibliographyEntry(
            mention=f"Work {n}", author="alice", work=work(n, long=long), formatted=format_citation(work(n, long=long))
        )
        for n in range(1, count + 1)
    ]
    return BibliographyResult(entries=entries, unresolved=[UnresolvedMention(text="Nobody et al. 2031", kind="author")])


def test_bibliography_pages() -> None:
    pages = render.bibliography_pages(bibliography(23), Style.apa)
    assert len(pages) == 3
    assert (pages[0].embed.description or "").startswith("**[1]** Surname0, A., & Surname1, A. (2024).")
    assert "**[11]**" in (pages[1].embed.description or "")
    assert sum(len(p.works) for p in pages) == 23
    assert pages[-1].embed.fields[0].name == "Not in the knowledge base"
    assert "Nobody et al. 2031" in pages[-1].embed.fields[0].value
    for page in pages:
        assert_fits(page.embed)


def test_bibtex_bibliography_of_long_works_fits() -> None:
    pages = render.bibliography_pages(bibliography(30, long=True), Style.bibtex)
    for page in pages:
        assert_fits(page.embed)
        assert (page.embed.description or "").count("```") % 2 == 0  # every code block is closed


def test_empty_bibliography() -> None:
    [page] = render.bibliography_pages(BibliographyResult(entries=[], unresolved=[]))
    assert page.embed.title == "No references found"
    [page] = render.mentioned_pages(BibliographyResult(entries=[], unresolved=[]))
    assert "Nothing in this message" in (page.embed.description or "")


@pytest.mark.parametrize(
    ("export_format", "fence"), [("bibtex", "```bibtex\n"), ("ris", "```\n"), ("csl-json", "```json\n")]
)
def test_export_messages_are_fenced_and_short(export_format: str, fence: str) -> None:
    messages = render.export_messages([work(n, long=True) for n in range(1, 8)], ExportFormat(export_format))
    assert len(messages) > 1
    for message in messages:
        assert len(message) <= embeds.MESSAGE_LIMIT
        assert message.startswith(fence) and message.endswith("\n```")
    [message] = render.export_messages([work(1)])
    assert message.startswith("```bibtex\n@inproceedings{surname0Work2024,")


def finding(n: int, rule: str = "duplicate-post", long: bool = False) -> Finding:
    text = "x" * (3000 if long else 40)
    return Finding(
        rule=rule,
        severity=["high", "medium", "low", "info"][n % 4],
        summary=f"Finding {n}: {text}",
        evidence={
            "source": {"title": "An earlier post", "url": "https://forum.example/p/1", "kind": "post", "id": "p1"},
            "containment": 0.91,
            "jaccard": 0.7,
        },
        action=f"Reject as a duplicate {text}",
        message=f"Hi erin, please edit the earlier post. {text}",
    )


def detail(findings: list[Finding], status: str = "open", decisions: int = 0) -> ReportDetail:
    now = datetime(2025, 7, 1, 12, tzinfo=UTC)
    return ReportDetail(
        report_id=7,
        submission_id="discord-123",
        forum="discord",
        title="My post",
        submitter="erin",
        status=status,
        created_at=now,
        rules=[f.rule for f in findings],
        severity="high" if findings else None,
        findings=findings,
        submission={"authors": [{"handle": "erin", "confirmed": True}, {"handle": "bob", "confirmed": False}]},
        decisions=[
            DecisionRecord(
                id=n,
                report_id=7,
                previous_status="open",
                status="rejected",
                moderator="@mod (1)",
                reason="dup",
                decided_at=now,
            )
            for n in range(decisions)
        ],
    )


def test_report_embed() -> None:
    embed = render.report_embed(detail([finding(0)], decisions=1), link_url="https://discord.com/channels/1/123")
    assert embed.title == "Report 7: My post"
    assert embed.url == "https://discord.com/channels/1/123"
    assert "**Status:** Open" in (embed.description or "")
    assert "authors: erin, bob" in (embed.description or "")
    assert embed.fields[0].name == "🔴 HIGH · duplicate-post"
    assert "Source: [An earlier post](https://forum.example/p/1)" in embed.fields[0].value
    assert "containment 0.91 · jaccard 0.70" in embed.fields[0].value
    assert embed.fields[1].name == "Draft message to the author (duplicate-post)"
    assert embed.fields[2].name == "Decisions"
    assert "Rejected — dup" in embed.fields[2].value
    assert_fits(embed)


def test_report_embed_with_nothing_fired_and_with_too_much() -> None:
    quiet = render.report_embed(detail([]))
    assert "✅ No rule fired." in (quiet.description or "")
    loud = render.report_embed(detail([finding(n, long=True) for n in range(40)], decisions=12))
    assert_fits(loud)


def audit() -> RelatedWorkAudit:
    return RelatedWorkAudit(
        title="My post",
        cited_count=3,
        cited_in_knowledge_base=1,
        citations=[],
        unresolved_mentions=["Nobody et al. 2031"],
        sections=[
            SectionStats(
                heading="Related work",
                kind="related-work",
                paragraphs=2,
                words=120,
                footnotes=1,
                cited_in_section=2,
                cited_in_footnotes=1,
                cited_total=3,
            )
        ],
        uncited=[
            UncitedWork(
                id="a", title="Close paper", authors=["A B"], year=2023, url="https://x.org/a", score=0.71, why="w"
            )
        ],
    )


def test_audit_embed() -> None:
    embed = render.audit_embed(audit(), "https://discord.com/channels/1/2/3")
    assert "Cites **3** distinct works, **1** of them" in (embed.description or "")
    names = [f.name for f in embed.fields]
    assert names == ["Sections", "References not in the knowledge base", "Closest works it does not cite"]
    assert "[Close paper](https://x.org/a) (2023, similarity 0.71)" in embed.fields[2].value
    assert_fits(embed)


def test_citedby_pages() -> None:
    posts = [
        CitingPost(
            post_id=f"p{n}",
            forum="lesswrong",
            title=f"Post {n}",
            author="erin",
            url=f"https://lw.example/p{n}",
            posted_at=datetime(2024, 1, 1, tzinfo=UTC),
            links=[{"url": "u", "text": "", "location": "body", "section": ""}],
        )
        for n in range(25)
    ]
    result = CitedByResult(
        reference="2305.04388",
        keys=["arxiv:2305.04388"],
        work=WorkRef(id="w", title="Turpin", authors=[], year=2023),
        posts=posts,
    )
    pages = render.citedby_pages(result)
    assert len(pages) == 3
    assert pages[0].embed.title == "Posts citing Turpin (2023)"
    assert "[Post 0](https://lw.example/p0)\nerin · lesswrong · 2024-01-01 · cited in body" in (
        pages[0].embed.description or ""
    )
    empty = render.citedby_pages(CitedByResult(reference="x", keys=["url:x"], work=None, posts=[]))
    assert empty[0].embed.description == "No stored post cites it."


def test_mentions_in_user_text_are_escaped() -> None:
    ping = "@everyone @here <@123456789012345678> <@&123456789012345678>"
    assert "@everyone" not in embeds.md(ping) and "<@1" not in embeds.md(ping) and "<@&1" not in embeds.md(ping)
    assert embeds.md(ping).replace("\u200b", "") == ping  # shown the same, minus the zero-width space
    assert render.notice(f"Unknown paper: {ping}").count("@\u200b") == 4
    pages = render.related_pages(AskResult(query=ping, confident=False, results=[work(1)], answer=""))
    assert "@everyone" not in (pages[0].embed.description or "")

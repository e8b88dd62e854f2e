"""Engine and moderation results as Reddit Markdown, within Reddit's limits."""

from __future__ import annotations

import re

from bot.citations import Style
from bot.domain import AskResult, BibliographyEntry, BibliographyResult, CiteResult, RankedWork, UnresolvedMention
from bot.moderation.schemas import Finding
from bot.reddit import render


def work(n: int = 1, **overrides: object) -> RankedWork:
    values: dict[str, object] = {
        "id": f"arxiv:2305.0438{n}",
        "arxiv_id": f"2305.0438{n}",
        "title": f"Paper number {n}",
        "authors": ["Miles Turpin", "Julian Michael", "Ethan Perez"],
        "year": 2023,
        "url": f"https://arxiv.org/abs/2305.0438{n}",
        "score": 0.8,
        "reason": "CoT explanations can be systematically unfaithful.",
    }
    values.update(overrides)
    return RankedWork(**values)  # type: ignore[arg-type]


def finding(rule: str = "duplicate-post", severity: str = "high", summary: str = "Near-duplicate") -> Finding:
    return Finding(
        rule=rule,
        severity=severity,  # type: ignore[arg-type]
        summary=summary,
        evidence={},
        action="Reject as a duplicate.",
        message="Hi bob,\nplease edit the earlier post https://www.reddit.com/r/x/comments/a1/my_post/ instead.",
    )


def test_escape_keeps_titles_literal() -> None:
    assert render.escape("*Not* what [you] think_ ^2 > x") == r"\*Not\* what \[you\] think\_ \^2 \> x"
    assert render.escape("2023. A year") == r"2023\. A year"  # not an ordered list
    assert render.escape("line\nbreaks   folded") == "line breaks folded"


def test_links_survive_parentheses_and_markdown_in_titles() -> None:
    line = render.link("A [draft] (v2)", "https://en.wikipedia.org/wiki/Debate_(AI)")
    assert line == r"[A \[draft\] (v2)](https://en.wikipedia.org/wiki/Debate_%28AI%29)"
    kept = render.escape_keeping_urls("See https://en.wikipedia.org/wiki/Debate_(AI) and *this*.")
    assert kept == r"See https://en.wikipedia.org/wiki/Debate_(AI) and \*this\*."


def test_confident_answer_has_numbered_linked_citations() -> None:
    results = [work(1, title="*Unfaithful* CoT"), work(2), work(3, url=None, arxiv_id=None, doi="10.1/x")]
    answer = 'Closest related work: "*Unfaithful* CoT" (Turpin et al., 2023) [1]: reason. See also [2], [3] and [7].'
    body = render.render_ask(AskResult(query="q", confident=True, results=results, answer=answer), "footer")
    assert "[\\[1\\]](https://arxiv.org/abs/2305.04381)" in body
    assert "[\\[3\\]](https://doi.org/10.1/x)" in body
    assert "\\[7\\]" in body and "[\\[7\\]](" not in body  # no work 7: left as text, not a link
    assert "1. [\\*Unfaithful\\* CoT](https://arxiv.org/abs/2305.04381) (Turpin et al., 2023): CoT" in body
    assert re.search(r"^3\. \[Paper number 3\]\(https://doi\.org/10\.1/x\)", body, re.M)
    assert body.endswith("footer")


def test_says_plainly_when_nothing_matches() -> None:
    unsure = AskResult(query="q", confident=False, results=[work(1), work(2), work(3), work(4)], answer="x")
    body = render.render_ask(unsure)
    assert body.startswith("No paper in the knowledge base matches; closest:\n\n1. [Paper number 1]")
    assert "4. " not in body
    empty = AskResult(query="q", confident=False, results=[], answer="x")
    assert render.render_ask(empty) == "No paper in the knowledge base matches."


def test_cite_reply() -> None:
    match = work(1, title="Towards Faithfully Interpretable NLP Systems", authors=["Alon Jacovi", "Yoav Goldberg"])
    result = CiteResult(query="Jacovi & Goldberg", confident=True, match=match, alternatives=[work(2)], formatted="x")
    body = render.render_cite(result, Style.apa)
    assert body.startswith("**[Towards Faithfully Interpretable NLP Systems](https://arxiv.org/abs/2305.04381)**")
    assert "> Jacovi, A., & Goldberg, Y. (2023). Towards Faithfully Interpretable NLP Systems." in body
    assert "Other works it might be:\n\n2. [Paper number 2]" in body
    bibtex = render.render_cite(result, Style.bibtex)
    assert "\n    @misc{jacoviTowards2023," in bibtex  # a code block, verbatim
    unsure = CiteResult(query="Smith *2020*", confident=False, match=work(1), alternatives=[], formatted=None)
    assert render.render_cite(unsure).startswith(r'No paper in the knowledge base matches "Smith \*2020\*"; closest:')
    none = CiteResult(query="Smith", confident=False, match=None, alternatives=[], formatted=None)
    assert render.render_cite(none) == 'No paper in the knowledge base matches "Smith".'


def test_bibliography_reply() -> None:
    entry = BibliographyEntry(mention="Turpin et al.", work=work(1), formatted="x")
    body = render.render_bibliography(
        BibliographyResult(entries=[entry], unresolved=[UnresolvedMention(text="Smith et al. 2031", kind="author")])
    )
    assert body.startswith("Works this thread refers to:\n\n1. Turpin, M., Michael, J., & Perez, E. (2023).")
    assert "Not found in the knowledge base: Smith et al. 2031" in body
    empty = render.render_bibliography(BibliographyResult(entries=[], unresolved=[]))
    assert empty == "No references to works in the knowledge base found in this thread."


def test_long_answers_fit_in_a_comment() -> None:
    many = [work(n % 10, title="T" * 2000, reason="R" * 5000, authors=["A B"] * 50) for n in range(10)]
    body = render.render_ask(AskResult(query="q", confident=True, results=many, answer="A" * 20000), "footer")
    assert len(body) <= render.COMMENT_LIMIT
    assert body.endswith("footer") and "\n1. [TTT" in body  # the list is cut, not dropped
    assert render.fit("H" * 50, ["x"], "", limit=20) == "H" * 19 + "…"


def test_moderation_texts_fit_their_channels() -> None:
    findings = [finding(summary="S" * 400), finding("not-own-content", "high"), finding("related-work", "info")]
    note = render.modnote_text(findings, report_id=12)
    assert (
        len(note) <= 250
        and note.startswith("alignbot: duplicate-post (high): SSS")
        and note.endswith(" (+2 more) [report #12]")
    )
    reason = render.report_reason([finding(rule="x" * 200)])
    assert len(reason) <= 100 and reason.startswith("alignbot: xxx")
    assert render.report_reason(findings) == "alignbot: duplicate-post, not-own-content, related-work"
    subject = render.modmail_subject("T" * 300, findings)
    assert len(subject) <= 100 and subject.startswith('alignbot: 3 findings on "TTT')
    body = render.modmail_body(
        title="My *post*",
        permalink="https://www.reddit.com/r/AIAlignment/comments/abc/my_post/",
        author="bob",
        subreddit="AIAlignment",
        findings=findings,
        report_id=12,
    )
    assert body.startswith(r"[My \*post\*](https://www.reddit.com/r/AIAlignment/comments/abc/my_post/) by u/bob")
    assert "**1. duplicate-post** (high)" in body and "**3. related-work** (info)" in body
    assert "* Suggested action: Reject as a duplicate." in body
    assert "> Hi bob,\n> please edit the earlier post https://www.reddit.com/r/x/comments/a1/my_post/ instead." in body
    assert "Report #12 in the review queue (`alignbot review 12`)" in body
    huge = render.modmail_body(
        title="t", permalink="https://x.y/", author=None, subreddit="s", findings=[finding(summary="S" * 9000)] * 20
    )
    assert len(huge) <= render.MODMAIL_BODY_LIMIT and "by a deleted account" in huge


def test_user_and_subreddit_mentions_from_user_text_are_escaped() -> None:
    assert render.escape("thanks u/spez, /u/Bob and U/X; see r/ControlProblem or /r/all") == (
        r"thanks u\/spez, /u\/Bob and U\/X; see r\/ControlProblem or /r\/all"
    )
    assert render.escape("and/or, I/O, w/o, slash/u/ok") == "and/or, I/O, w/o, slash/u/ok"  # not mentions
    kept = render.escape_keeping_urls("u/spez posted https://www.reddit.com/r/x/comments/a1/ and u/bob")
    assert kept == r"u\/spez posted https://www.reddit.com/r/x/comments/a1/ and u\/bob"  # URLs intact
    # A title, a reason and an echoed query: nowhere does a mention survive unescaped.
    results = [work(1, title="Reply to u/spez", reason="As r/ControlProblem says.")]
    body = render.render_ask(AskResult(query="u/mod", confident=True, results=results, answer="Hey u/mod [1]."))
    missing = CiteResult(query="u/alice's paper", confident=False, match=None, alternatives=[], formatted=None)
    cite = render.render_cite(missing, Style.apa)
    for text in (body, cite):
        assert not re.search(r"(?<![\w/\\])/?[ur]/\w", text, re.IGNORECASE), text
    assert "u\\/spez" in body and "r\\/ControlProblem" in body and "u\\/mod" in body and "u\\/alice" in cite

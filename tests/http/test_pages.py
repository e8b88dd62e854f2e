"""The moderator page without a browser: plain form posts, as a browser without JavaScript sends them."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from bot.moderation.schemas import Submission
from bot.moderation.service import Moderator

from .conftest import pasted_submission, resubmission

HTML = {"accept": "text/html"}


def csrf(html: str) -> str:
    match = re.search(r'name="csrf" value="([^"]+)"', html)
    assert match, "no CSRF field in the form"
    return match.group(1)


def login(client: TestClient, secret: str, next_path: str = "/queue") -> TestClient:
    page = client.get(f"/login?next={next_path}")
    response = client.post(
        "/login", data={"token": secret, "csrf": csrf(page.text), "next": next_path}, follow_redirects=False
    )
    assert response.status_code == 303, response.text
    assert response.headers["location"] == next_path
    return client


@pytest.fixture(scope="module")
def reports(moderator: Moderator) -> dict[str, int]:
    """Two open reports: pasted content and a resubmission of a rejected post."""
    made = {}
    for name, data in (("pasted", pasted_submission()), ("resubmission", resubmission())):
        report = moderator.check(Submission.model_validate(data))
        assert report.report_id is not None
        made[name] = report.report_id
    return made


@pytest.fixture
def browser(mod_app: FastAPI, secrets: dict[str, str]) -> Iterator[TestClient]:
    with TestClient(mod_app, headers=HTML) as client:
        yield login(client, secrets["moderate"])


def test_pages_need_a_login(client: TestClient) -> None:
    response = client.get("/reports/1?x=1", headers=HTML, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=%2Freports%2F1%3Fx%3D1"
    expired = client.post("/reports/1/decision", data={"status": "approved"}, headers=HTML, follow_redirects=False)
    assert expired.headers["location"] == "/login?next=%2Freports%2F1"
    page = client.get("/login", headers=HTML)
    assert page.status_code == 200
    assert '<a class="skip-link" href="#main">Skip to main content</a>' in page.text
    assert '<label for="token">API token</label>' in page.text
    assert "default-src 'none'" in page.headers["content-security-policy"]


def test_login_rejects_bad_tokens_missing_scope_and_forged_forms(mod_app: FastAPI, secrets: dict[str, str]) -> None:
    with TestClient(mod_app, headers=HTML) as client:
        token = csrf(client.get("/login").text)
        response = client.post("/login", data={"token": "abt_wrong", "csrf": token, "next": "/queue"})
        assert response.status_code == 401 and "not valid" in response.text
        assert 'aria-invalid="true"' in response.text
        token = csrf(response.text)
        response = client.post("/login", data={"token": secrets["write"], "csrf": token, "next": "/queue"})
        assert response.status_code == 403 and "lacks the moderate scope" in response.text
    with TestClient(mod_app, headers=HTML) as other_site:  # no login cookie: a cross-site form post
        response = other_site.post("/login", data={"token": secrets["moderate"], "csrf": "guess", "next": "/"})
        assert response.status_code == 400 and "expired" in response.text


def test_login_never_redirects_off_site(mod_app: FastAPI, secrets: dict[str, str]) -> None:
    with TestClient(mod_app, headers=HTML) as client:
        token = csrf(client.get("/login").text)
        response = client.post(
            "/login",
            data={"token": secrets["moderate"], "csrf": token, "next": "//evil.example/x"},
            follow_redirects=False,
        )
        assert response.headers["location"] == "/queue"


def test_queue_lists_open_reports_with_their_flags(browser: TestClient, reports: dict[str, int]) -> None:
    page = browser.get("/queue")
    assert page.status_code == 200
    assert f'<a href="/reports/{reports["pasted"]}">Evaluation awareness, a worry</a>' in page.text
    assert "not-own-content" in page.text and "duplicate-post" in page.text
    assert 'aria-current="page"' in page.text
    assert "Signed in as <strong>moderate-bot</strong>" in page.text


def test_report_shows_findings_and_passages_side_by_side(browser: TestClient, reports: dict[str, int]) -> None:
    page = browser.get(f"/reports/{reports['pasted']}")
    assert page.status_code == 200
    html = page.text
    assert "<caption>Matching passages, side by side</caption>" in html
    assert "Source: Notes on evaluation awareness in frontier models" in html
    cells = re.findall(r"<td><p>(.*?)</p>", html, flags=re.S)
    assert len(cells) >= 2
    marked = [re.search(r"<mark>(.*?)</mark>", c, flags=re.S) for c in cells[:2]]
    assert all(marked)
    # The same words on both sides, whatever the punctuation around them.
    mine, theirs = (re.sub(r"\W+", " ", m.group(1)).lower().split() for m in marked if m)
    assert mine[:10] == theirs[:10]
    assert "Suggested action:" in html and "Draft message to the author" in html

    resub = browser.get(f"/reports/{reports['resubmission']}").text
    assert "Rejected because:" in resub


def test_decision_form_needs_a_reason_and_a_csrf_token(browser: TestClient, reports: dict[str, int]) -> None:
    report_id = reports["resubmission"]
    page = browser.get(f"/reports/{report_id}")
    token = csrf(page.text.split('id="decision"')[1])
    response = browser.post(f"/reports/{report_id}/decision", data={"csrf": token, "status": "rejected", "reason": " "})
    assert response.status_code == 400
    assert 'role="alert" id="decision-error">Give a reason' in response.text
    assert 'value="rejected" required checked' in response.text  # the choice is kept
    forged = browser.post(f"/reports/{report_id}/decision", data={"csrf": "x", "status": "rejected", "reason": "r"})
    assert forged.status_code == 403
    assert "the form expired or came from another site" in forged.text


def test_decide_then_see_it_in_the_audit_log(
    browser: TestClient, reports: dict[str, int], moderator: Moderator
) -> None:
    report_id = reports["pasted"]
    token = csrf(browser.get(f"/reports/{report_id}").text.split('id="decision"')[1])
    response = browser.post(
        f"/reports/{report_id}/decision",
        data={"csrf": token, "status": "needs-changes", "reason": "Credit Zoe and link her post"},
        follow_redirects=False,
    )
    assert response.status_code == 303
    assert response.headers["location"].startswith(f"/reports/{report_id}?recorded=")
    page = browser.get(response.headers["location"])
    assert "Decision recorded: open → <strong>needs-changes</strong>" in page.text
    assert moderator.review(report_id).status == "needs-changes"
    audit = browser.get("/audit").text
    row = audit.split("<tbody>")[1].split("</tr>")[0]
    assert f"#{report_id} Evaluation awareness, a worry" in row
    assert "moderate-bot" in row and "Credit Zoe and link her post" in row


def test_search_box(browser: TestClient) -> None:
    related = browser.get("/search", params={"q": "unfaithful chain of thought explanations"})
    assert related.status_code == 200
    assert "Language Models Don" in related.text
    cited = browser.get("/search", params={"q": "Turpin et al. 2023", "kind": "cite", "style": "acl"})
    assert "Turpin" in cited.text and '<pre class="citation">' in cited.text
    cited_by = browser.get("/search", params={"q": "2304.03279", "kind": "citedby"})
    assert "post(s) cite" in cited_by.text


def test_logout_and_revocation_end_the_session(mod_app: FastAPI) -> None:
    store = mod_app.state.ctx.tokens
    info, secret = store.create("short-lived", ["moderate"])
    with TestClient(mod_app, headers=HTML) as client:
        login(client, secret)
        assert client.get("/queue").status_code == 200
        store.revoke(str(info.id))
        assert client.get("/queue", follow_redirects=False).status_code == 303
    info, secret = store.create("leaving", ["moderate"])
    with TestClient(mod_app, headers=HTML) as client:
        page = login(client, secret).get("/queue")
        response = client.post("/logout", data={"csrf": csrf(page.text)}, follow_redirects=False)
        assert response.headers["location"] == "/login"
        assert client.get("/queue", follow_redirects=False).status_code == 303


def test_unknown_pages_and_reports_are_html_404s(browser: TestClient) -> None:
    response = browser.get("/reports/424242")
    assert response.status_code == 404 and "no report 424242" in response.text
    assert response.headers["content-type"].startswith("text/html")
    assert browser.get("/nope").status_code == 404
    assert browser.get(f"/reports/{2**70}").status_code == 404


def test_a_superseded_report_points_to_its_successor_and_takes_no_decision(
    browser: TestClient, moderator: Moderator
) -> None:
    stale = moderator.check(Submission.model_validate(pasted_submission() | {"id": "page-edited"})).report_id
    fresh = moderator.check(Submission.model_validate(pasted_submission() | {"id": "page-edited"})).report_id
    page = browser.get(f"/reports/{stale}")
    assert f'decide on <a href="/reports/{fresh}">report {fresh}</a>' in page.text
    token = csrf(page.text.split('id="decision"')[1])
    response = browser.post(f"/reports/{stale}/decision", data={"csrf": token, "status": "approved", "reason": "Fine"})
    assert response.status_code == 400 and f"superseded by report {fresh}" in response.text
    assert moderator.review(stale).decisions == []
    tab = browser.get("/queue?status=superseded").text
    assert f'href="/reports/{stale}"' in tab and f'href="/reports/{fresh}"' not in tab

"""End to end in real headless Chromium (Debian's `chromium`, driven by Playwright) against the app served
by uvicorn: log in with a token, open a report, reject it with a reason, find it in the audit log.

JavaScript is off in the browser: the essentials must work with plain HTML forms. Set
ALIGNBOT_UPDATE_SCREENSHOTS=1 to refresh docs/queue.png and docs/report.png.
"""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn
from playwright.sync_api import Browser, Page, expect, sync_playwright

from bot.embedding import Embedder
from bot.engine import Engine
from bot.http.app import create_app
from bot.moderation.schemas import Submission
from bot.moderation.service import Moderator
from bot.settings import REPO_ROOT
from tests.conftest import make_settings

from .conftest import RULES, pasted_submission, populate, resubmission, settings, submission, text

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="needs Debian's chromium (.ci/run installs it)")

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
DOCS = REPO_ROOT / "docs"


def queue_submissions() -> list[dict]:
    """A realistic morning queue: pasted text, a rejected post again, a crosspost, a convenience co-author."""
    return [
        pasted_submission(),
        resubmission(),
        submission(
            id="bob-crosspost",
            title="SAE drift",
            body=text("bob_blog"),
            submitter="bob",
            forum="lesswrong",
            members_forum=False,
            authors=[{"handle": "bob", "confirmed": True}],
        ),
        submission(
            id="erin-coauthor",
            title="Probing for deceptive intent before deployment",
            authors=[{"handle": "erin", "confirmed": True}, {"handle": "alice", "confirmed": False}],
        ),
        submission(id="erin-original", title="What I learned replicating a monitor"),
    ]


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory, embedder: Embedder) -> Iterator[tuple[str, str, dict[str, int]]]:
    """The app on a free local port, with its own knowledge base and queue; yields (url, token, report ids)."""
    engine = Engine.open(make_settings(tmp_path_factory.mktemp("e2e"), load_bundled_knowledge=False), embedder=embedder)
    moderator = Moderator(engine, config_path=RULES)
    populate(moderator)
    reports = {}
    for data in queue_submissions():
        report = moderator.check(Submission.model_validate(data))
        reports[data["id"]] = report.report_id or 0
    app = create_app(engine, moderator, settings())
    secret = app.state.ctx.tokens.create("ana", ["moderate"])[1]
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}", secret, reports
    server.should_exit = True
    thread.join(timeout=10)
    engine.close()


@pytest.fixture(scope="module")
def chromium() -> Iterator[Browser]:
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM or None, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(chromium: Browser) -> Iterator[Page]:
    context = chromium.new_context(java_script_enabled=False, viewport={"width": 1280, "height": 800})
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()


def _save(path: Path, name: str) -> None:
    assert path.stat().st_size > 10_000  # a rendered page, not a blank one
    if os.environ.get("ALIGNBOT_UPDATE_SCREENSHOTS"):
        DOCS.mkdir(exist_ok=True)
        shutil.copy(path, DOCS / name)


def test_log_in_open_a_report_reject_it_and_find_it_in_the_audit_log(
    site: tuple[str, str, dict[str, int]], page: Page, tmp_path: Path
) -> None:
    base, secret, reports = site
    p = page

    # Keyboard only: the skip link comes first, the token field has focus, Enter submits.
    p.goto(f"{base}/queue")
    expect(p).to_have_url(f"{base}/login?next=%2Fqueue")
    p.get_by_label("API token").click()
    p.keyboard.type(secret)
    p.keyboard.press("Enter")
    expect(p).to_have_url(f"{base}/queue")
    expect(p.get_by_role("heading", name="Review queue")).to_be_visible()
    rows = p.locator("table.queue tbody tr")
    expect(rows).to_have_count(len(queue_submissions()))
    shot = tmp_path / "queue.png"
    p.screenshot(path=str(shot))
    _save(shot, "queue.png")
    p.keyboard.press("Tab")
    expect(p.get_by_role("link", name="Skip to main content")).to_be_focused()

    # Open the resubmission of a rejected post: the evidence is side by side.
    p.get_by_role("link", name="Rewarding confessions, revisited").click()
    report_id = reports["mallory-2"]
    expect(p).to_have_url(f"{base}/reports/{report_id}")
    passages = p.get_by_role("table", name="Matching passages, side by side").first
    expect(passages).to_be_visible()
    expect(passages.locator("tbody tr").first.locator("mark")).to_have_count(2)
    expect(p.get_by_text("Rejected because:").first).to_be_visible()

    # Reject with a reason, by keyboard: the radio and the reason are labelled fields.
    p.get_by_label("Reject").check()
    p.get_by_label("Reason").fill("Same proposal as the rejected post; it still ignores prior work.")
    p.get_by_label("Reason").press("Tab")
    expect(p.get_by_role("button", name="Record decision")).to_be_focused()
    p.keyboard.press("Enter")
    expect(p.get_by_role("status")).to_contain_text("open → rejected")

    # The audit log has it, newest first.
    p.get_by_role("link", name="Audit log").click()
    first = p.locator("table.audit tbody tr").first
    expect(first).to_contain_text(f"#{report_id} Rewarding confessions, revisited")
    expect(first).to_contain_text("ana")
    expect(first).to_contain_text("Same proposal as the rejected post")

    # And it left the open queue.
    p.get_by_role("link", name="Queue", exact=True).click()
    expect(rows).to_have_count(len(queue_submissions()) - 1)


def test_report_page_screenshot_and_missing_reason(
    site: tuple[str, str, dict[str, int]], page: Page, tmp_path: Path
) -> None:
    base, secret, reports = site
    p = page
    p.goto(f"{base}/login")
    p.get_by_label("API token").fill(secret)
    p.get_by_role("button", name="Sign in").click()
    p.goto(f"{base}/reports/{reports['pasted-1']}")
    expect(p.get_by_role("heading", name="not-own-content")).to_be_visible()
    shot = tmp_path / "report.png"
    p.screenshot(path=str(shot), full_page=False)
    _save(shot, "report.png")
    # The browser's own check needs no JavaScript: an empty reason never reaches the server.
    p.get_by_label("Needs changes").check()
    p.get_by_role("button", name="Record decision").click()
    expect(p).to_have_url(f"{base}/reports/{reports['pasted-1']}")
    assert p.eval_on_selector("#reason", "el => el.validity.valueMissing") is True

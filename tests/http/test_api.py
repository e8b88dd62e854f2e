"""The forum plugin API against the real app: the CLI's JSON schemas, auth and scopes, errors, limits."""

from __future__ import annotations

import json

import rispy
from fastapi import FastAPI
from fastapi.testclient import TestClient

from bot.engine import Engine
from bot.http.app import create_app
from bot.moderation.service import Moderator

from .conftest import RULES, bearer, lightly_edit, pasted_submission, resubmission, settings, submission, text

# --- reads: the same JSON as `alignbot … --json` ------------------------------------------------------


def test_related_is_the_cli_ask_json(reader: TestClient, engine: Engine) -> None:
    response = reader.post("/v1/related", json={"question": "sleeper agents that survive safety training", "k": 3})
    assert response.status_code == 200
    assert response.json() == engine.ask("sleeper agents that survive safety training", k=3).model_dump(mode="json")
    assert response.json()["results"][0]["title"].startswith("Sleeper Agents")


def test_related_reads_a_bare_request_with_its_thread(reader: TestClient) -> None:
    context = [{"author": "ana", "text": "Models can fake alignment during training to avoid being modified."}]
    response = reader.post("/v1/related", json={"question": "source?", "context": context})
    assert response.status_code == 200
    assert any("Alignment Faking" in r["title"] for r in response.json()["results"])


def test_cite_reads_the_reference_in_its_thread(reader: TestClient) -> None:
    thread = [{"author": "ana", "text": "We could watch the model's externalized reasoning, as a kind of oversight."}]
    body = reader.post("/v1/cite", json={"reference": "Lanham et al.", "context": thread}).json()
    assert body["match"]["title"].startswith("Externalized reasoning oversight")
    assert body["confident"] is False and body["signals"]["context"] > 0
    assert reader.post("/v1/cite", json={"reference": "Lanham et al.", "context": "not a list"}).status_code == 422


def test_cite_and_bibliography_are_the_cli_json(reader: TestClient, engine: Engine) -> None:
    response = reader.post("/v1/cite", json={"reference": "Jacovi & Goldberg", "style": "bibtex"})
    assert response.status_code == 200
    assert response.json() == engine.cite("Jacovi & Goldberg", style="bibtex").model_dump(mode="json")
    assert response.json()["formatted"].startswith("@")
    exported = reader.post("/v1/cite", json={"reference": "Jacovi & Goldberg", "format": "ris"}).json()
    assert rispy.loads(exported["export"])[0]["id"] == "jacoviTowards2020"
    assert reader.post("/v1/cite", json={"reference": "x", "format": "endnote"}).status_code == 422

    thread = [
        {"author": "ana", "text": "As Turpin et al. (2023) showed, CoT can be unfaithful."},
        "see arXiv:2401.05566",
    ]
    response = reader.post("/v1/bibliography", json={"thread": thread})
    assert response.status_code == 200
    body = response.json()
    assert [e["work"]["arxiv_id"] for e in body["entries"]] == ["2305.04388", "2401.05566"]
    assert body["entries"][0]["author"] == "ana"
    assert body["export"] is None
    as_csl = reader.post("/v1/bibliography", json={"thread": thread, "format": "csl-json"}).json()
    assert [item["id"] for item in json.loads(as_csl["export"])] == ["turpinLanguage2023", "hubingerSleeper2024"]
    plain = reader.post("/v1/bibliography", json={"thread": "As Turpin et al. (2023) showed.\n\nsee arXiv:2401.05566"})
    assert [e["work"]["id"] for e in plain.json()["entries"]] == [e["work"]["id"] for e in body["entries"]]


def test_engine_refusals_are_400(reader: TestClient) -> None:
    response = reader.post("/v1/bibliography", json={"thread": '[{"text": "unterminated'})
    assert response.status_code == 400
    assert response.json()["error"].startswith("thread JSON is invalid at line 1 column 11")
    response = reader.get("/v1/citedby/not a reference")
    assert response.status_code == 400 and "not a link, arXiv id" in response.json()["error"]


def test_cited_by_takes_dois_and_urls_with_slashes(client: TestClient, secrets: dict[str, str]) -> None:
    for ref in ("2304.03279", "https://arxiv.org/abs/2304.03279v2"):
        response = client.get(f"/v1/citedby/{ref}", headers=bearer(secrets["read"]))
        assert response.status_code == 200, response.text
        body = response.json()
        assert {"reference", "keys", "work", "posts"} == set(body)
        assert "Cc1PublishedPost1" in {p["post_id"] for p in body["posts"]}


# --- auth and scopes ---------------------------------------------------------------------------------------


def test_reads_need_a_token_unless_open(read_app: FastAPI, engine: Engine) -> None:
    with TestClient(read_app) as anonymous:
        response = anonymous.post("/v1/cite", json={"reference": "Jacovi & Goldberg"})
        assert response.status_code == 401
        assert response.headers["www-authenticate"] == "Bearer"
        assert response.json()["error"] == "missing API token"
        bad = anonymous.post("/v1/cite", json={"reference": "x"}, headers=bearer("abt_not-a-real-token"))
        assert bad.status_code == 401 and bad.json()["error"] == "invalid or revoked API token"
    open_app = create_app(engine, Moderator(engine, config_path=RULES), settings(open_reads=True))
    with TestClient(open_app) as anonymous:
        assert anonymous.post("/v1/cite", json={"reference": "Jacovi & Goldberg"}).status_code == 200
        # Open reads do not open anything else.
        assert anonymous.get("/v1/queue").status_code == 401


def test_scopes(client: TestClient, secrets: dict[str, str]) -> None:
    read, write, moderate = (bearer(secrets[s]) for s in ("read", "write", "moderate"))
    assert client.post("/v1/cite", json={"reference": "Turpin et al."}, headers=write).status_code == 200
    response = client.get("/v1/queue", headers=read)
    assert response.status_code == 403
    assert response.json() == {
        "error": "this token lacks the 'moderate' scope",
        "detail": {"token": "read-bot", "scopes": ["read"]},
    }
    assert client.post("/v1/papers", json={"records": [{"title": "x"}]}, headers=moderate).status_code == 403
    assert client.post("/v1/webhooks/forum", json={}, headers=read).status_code == 403
    assert client.get("/v1/queue", headers=moderate).status_code == 200


def test_a_revoked_token_stops_working(client: TestClient, mod_app: FastAPI) -> None:
    store = mod_app.state.ctx.tokens
    info, secret = store.create("temp", ["moderate"])
    assert client.get("/v1/queue", headers=bearer(secret)).status_code == 200
    assert [t.id for t in store.revoke(str(info.id))] == [info.id]
    assert client.get("/v1/queue", headers=bearer(secret)).status_code == 401


def test_per_token_rate_limit(mod_engine: Engine, moderator: Moderator) -> None:
    app = create_app(mod_engine, moderator, settings(rate_per_minute=60, rate_burst=3))
    fast = app.state.ctx.tokens.create("fast", ["read"], rate_per_minute=600_000)[1]
    slow = app.state.ctx.tokens.create("slow", ["read"])[1]
    with TestClient(app) as c:
        codes = [c.post("/v1/cite", json={"reference": "Turpin"}, headers=bearer(slow)).status_code for _ in range(4)]
        assert codes == [200, 200, 200, 429]
        limited = c.post("/v1/cite", json={"reference": "Turpin"}, headers=bearer(slow))
        assert limited.status_code == 429
        assert limited.headers["retry-after"] == "1"
        assert limited.json()["error"] == "rate limit exceeded"
        # Another token has its own bucket (and its own rate).
        assert all(
            c.post("/v1/cite", json={"reference": "Turpin"}, headers=bearer(fast)).status_code == 200 for _ in range(5)
        )
        scraper = app.state.ctx.tokens.create("scraper", ["metrics"])[1]
        metrics = c.get("/metrics", headers=bearer(scraper)).text
        assert 'alignbot_http_rate_limited_total{client="token"} 2' in metrics


# --- bad requests --------------------------------------------------------------------------------------------


def test_bad_json_is_400_with_the_position(reader: TestClient) -> None:
    response = reader.post("/v1/cite", content=b'{"reference": "x",}', headers={"content-type": "application/json"})
    assert response.status_code == 400
    body = response.json()
    assert body["error"] == "invalid JSON"
    # Python 3.13's json names the trailing comma (character 17), earlier ones the brace after it (18).
    assert body["detail"].endswith(("at character 17", "at character 18")), body["detail"]


def test_schema_errors_name_the_field(reader: TestClient) -> None:
    blank = reader.post("/v1/related", json={"question": "   "})
    assert blank.status_code == 422
    assert blank.json()["detail"] == [
        {"field": "question", "in": "body", "message": "String should match pattern '\\S'"}
    ]
    response = reader.post("/v1/related", json={"question": "x", "k": 500, "questoin": "y"})
    assert response.status_code == 422
    body = response.json()
    assert body["error"].startswith("invalid request: ")
    fields = {d["field"]: d["message"] for d in body["detail"]}
    assert fields["k"] == "Input should be less than or equal to 50"
    assert fields["questoin"] == "unknown field"


def test_a_body_that_is_not_json_is_415(reader: TestClient) -> None:
    response = reader.post("/v1/cite", content=b"reference=x", headers={"content-type": "text/plain"})
    assert response.status_code == 415
    assert "application/json" in response.json()["detail"]


def test_oversize_bodies_are_413_declared_or_streamed(mod_engine: Engine, moderator: Moderator) -> None:
    app = create_app(mod_engine, moderator, settings(max_body_bytes=2048))
    secret = app.state.ctx.tokens.create("big", ["read"])[1]
    big = json.dumps({"reference": "x" * 5000}).encode()
    with TestClient(app, headers=bearer(secret)) as c:
        response = c.post("/v1/cite", content=big, headers={"content-type": "application/json"})
        assert response.status_code == 413
        assert response.json() == {
            "error": "request body too large",
            "detail": "the limit for this endpoint is 2048 bytes",
        }

        def chunks():  # no Content-Length: the limit applies while reading
            for start in range(0, len(big), 1000):
                yield big[start : start + 1000]

        response = c.post("/v1/cite", content=chunks(), headers={"content-type": "application/json"})
        assert response.status_code == 413
        assert c.post("/v1/cite", json={"reference": "Turpin et al."}).status_code == 200


# --- moderation ---------------------------------------------------------------------------------------------


def test_check_dry_run_records_nothing(client: TestClient, secrets: dict[str, str], moderator: Moderator) -> None:
    before = len(moderator.queue(None))
    response = client.post("/v1/check?dry_run=true", json=pasted_submission(), headers=bearer(secrets["moderate"]))
    assert response.status_code == 200
    body = response.json()
    assert body["report_id"] is None and body["submission_id"] == "pasted-1"
    finding = next(f for f in body["findings"] if f["rule"] == "not-own-content")
    assert set(finding) == {"rule", "severity", "summary", "evidence", "action", "message"}
    assert finding["evidence"]["source"]["id"] == "zoe-evaluation-awareness"
    assert len(moderator.queue(None)) == before
    only = client.post(
        "/v1/check?dry_run=true&rule=coauthor-unconfirmed",
        json=pasted_submission(),
        headers=bearer(secrets["moderate"]),
    )
    assert only.json()["findings"] == []
    unknown = client.post("/v1/check?rule=nope", json=submission(), headers=bearer(secrets["moderate"]))
    assert unknown.status_code == 422


def test_submission_typos_are_rejected(client: TestClient, secrets: dict[str, str]) -> None:
    data = submission(canonicalUrl="https://example.org")
    response = client.post("/v1/check", json=data, headers=bearer(secrets["moderate"]))
    assert response.status_code == 422
    assert {"field": "canonicalUrl", "in": "body", "message": "unknown field"} in response.json()["detail"]


def test_webhook_queues_then_moderators_review_and_decide(
    client: TestClient, secrets: dict[str, str], moderator: Moderator
) -> None:
    write, moderate = bearer(secrets["write"]), bearer(secrets["moderate"])
    event = {"event": "post.created", "delivery_id": "d-100", "submission": resubmission()}
    response = client.post("/v1/webhooks/forum", json=event, headers=write)
    assert response.status_code == 200, response.text
    queued = response.json()
    assert queued["queued"] is True and queued["severity"] == "high" and "duplicate-post" in queued["rules"]
    report_id = queued["report_id"]

    retry = client.post("/v1/webhooks/forum", json=event, headers=write).json()
    assert retry == {**queued, "queued": False}  # the forum retried: nothing new in the queue
    assert [i["report_id"] for i in client.get("/v1/queue", headers=moderate).json()].count(report_id) == 1

    review = client.get(f"/v1/reports/{report_id}", headers=moderate)
    assert review.status_code == 200
    assert review.json() == moderator.review(report_id).model_dump(mode="json")  # the CLI's `review --json`

    decision = client.post(
        f"/v1/reports/{report_id}/decision",
        json={"status": "rejected", "reason": "Same proposal as before", "moderator": "Ana"},
        headers=moderate,
    )
    assert decision.status_code == 200
    assert decision.json()["moderator"] == "Ana via moderate-bot"
    assert decision.json()["previous_status"] == "open"
    log = client.get("/v1/decisions?limit=5", headers=moderate).json()
    assert log[0] == decision.json()
    assert report_id not in [i["report_id"] for i in client.get("/v1/queue", headers=moderate).json()]
    rejected = client.get("/v1/queue?status=rejected", headers=moderate).json()
    assert report_id in [i["report_id"] for i in rejected]


def test_decisions_need_a_reason_and_a_real_report(client: TestClient, secrets: dict[str, str]) -> None:
    moderate = bearer(secrets["moderate"])
    assert client.get("/v1/reports/999999", headers=moderate).json() == {"error": "no report 999999", "detail": None}
    response = client.post("/v1/reports/999999/decision", json={"status": "approved", "reason": "ok"}, headers=moderate)
    assert response.status_code == 404
    response = client.post("/v1/reports/1/decision", json={"status": "approved", "reason": ""}, headers=moderate)
    assert response.status_code == 422
    response = client.post("/v1/reports/1/decision", json={"status": "maybe", "reason": "x"}, headers=moderate)
    assert response.status_code == 422


def test_audit(client: TestClient, secrets: dict[str, str]) -> None:
    body = "# Faithfulness\n\nTurpin et al. (2023) showed that explanations can be unfaithful [1].\n\n[1]: https://arxiv.org/abs/2305.04388"
    response = client.post("/v1/audit", json={"body": body, "title": "CoT"}, headers=bearer(secrets["moderate"]))
    assert response.status_code == 200
    audit = response.json()
    assert audit["cited_count"] >= 1
    assert {c["work"]["id"] for c in audit["citations"] if c["work"]} == {"arxiv:2305.04388"}


def test_papers_are_ingested_and_searchable(empty_engine: Engine) -> None:
    app = create_app(empty_engine, Moderator(empty_engine, config_path=RULES), settings(max_ingest_records=2))
    secret = app.state.ctx.tokens.create("importer", ["write"])[1]
    record = {
        "id": "arxiv:2099.00001",
        "title": "Gradient hacking in toy transformers",
        "authors": ["Ada Lovelace"],
        "year": 2099,
        "abstract": "We study whether a model can steer its own training through gradient hacking.",
        "curated": True,
    }
    with TestClient(app, headers=bearer(secret)) as c:
        response = c.post("/v1/papers", json={"records": [record]})
        assert response.status_code == 200
        assert response.json() == {
            "read": 1,
            "added": 1,
            "merged": 0,
            "unchanged": 0,
            "errors": [],
            "embedded": 1,
            "conflicts": [],
            "interrupted": False,
            "embedding_error": None,
        }
        assert c.post("/v1/related", json={"question": "gradient hacking"}).json()["results"][0]["year"] == 2099
        too_many = c.post("/v1/papers", json={"records": [record] * 3})
        assert too_many.status_code == 413 and too_many.json()["error"] == "too many records"
    work = empty_engine.work("arxiv:2099.00001")
    assert work is not None and not work.curated  # an API client cannot claim the curated reading list


# --- ops -------------------------------------------------------------------------------------------------------


def test_health_metrics_and_openapi(client: TestClient, secrets: dict[str, str]) -> None:
    health = client.get("/healthz")
    assert health.status_code == 200
    assert health.json()["status"] == "ok" and health.json()["works"] > 10
    client.get("/v1/queue", headers=bearer(secrets["moderate"]))
    scraper = client.app.state.ctx.tokens.create("ops-scraper", ["metrics"])[1]  # type: ignore[attr-defined]
    metrics = client.get("/metrics", headers=bearer(scraper))
    assert metrics.headers["content-type"].startswith("text/plain; version=0.0.4")
    text = metrics.text
    assert 'alignbot_http_requests_total{method="GET",route="/v1/queue",status="200"}' in text
    assert 'alignbot_http_request_duration_seconds_bucket{method="GET",route="/v1/queue",le="+Inf"}' in text
    assert "alignbot_works " in text and 'alignbot_reports{status="' in text
    spec = client.get("/openapi.json").json()
    assert {
        "/v1/related",
        "/v1/cite",
        "/v1/bibliography",
        "/v1/check",
        "/v1/audit",
        "/v1/citedby/{reference}",
        "/v1/papers",
        "/v1/webhooks/forum",
        "/v1/queue",
        "/v1/reports/{report_id}",
        "/v1/reports/{report_id}/decision",
        "/v1/decisions",
        "/healthz",
        "/metrics",
    } <= set(spec["paths"])
    assert spec["components"]["securitySchemes"]["token"] == {
        "type": "http",
        "scheme": "bearer",
        "description": spec["components"]["securitySchemes"]["token"]["description"],
    }
    assert not any(p.startswith(("/queue", "/login", "/reports/")) for p in spec["paths"])  # pages stay out


def test_an_edit_supersedes_the_report_and_the_stale_one_cannot_be_approved(
    client: TestClient, secrets: dict[str, str]
) -> None:
    write, moderate = bearer(secrets["write"]), bearer(secrets["moderate"])
    clean = submission(id="edited-in-place", title="Honest work")
    created = client.post(
        "/v1/webhooks/forum", json={"event": "post.created", "submission": clean}, headers=write
    ).json()
    assert created["rules"] == [] and created["severity"] is None
    # The author replaces the text with Zoe's blog post; the forum sends the edit.
    copied = {**clean, "body": lightly_edit(text("zoe_blog"))}
    edited = client.post("/v1/webhooks/forum", json={"event": "post.edited", "submission": copied}, headers=write)
    assert edited.json()["rules"] == ["not-own-content"] and edited.json()["severity"] == "high"

    stale = client.get(f"/v1/reports/{created['report_id']}", headers=moderate).json()
    assert (stale["status"], stale["superseded_by"]) == ("superseded", edited.json()["report_id"])
    approve = client.post(
        f"/v1/reports/{created['report_id']}/decision", json={"status": "approved", "reason": "ok"}, headers=moderate
    )
    assert approve.status_code == 400 and "superseded by report" in approve.json()["error"]
    superseded = client.get("/v1/queue?status=superseded", headers=moderate).json()
    assert created["report_id"] in [i["report_id"] for i in superseded]

    # A moderator's /v1/check of the same post goes through the same intake: it supersedes the webhook's.
    checked = client.post("/v1/check", json=copied, headers=moderate).json()
    assert [f["rule"] for f in checked["findings"] if f["rule"] != "related-work"] == ["not-own-content"]
    again = client.get(f"/v1/reports/{edited.json()['report_id']}", headers=moderate).json()
    assert (again["status"], again["superseded_by"]) == ("superseded", checked["report_id"])
